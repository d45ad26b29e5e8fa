"""Codecs: the wire formats pulseline reads and writes."""
