"""Sinks: acknowledged, retrying writes to time-series databases."""
