"""Thin Faust agents that move records between topics and the engines in ``streams``."""
