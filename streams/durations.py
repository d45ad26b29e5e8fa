"""Durations in Prometheus' notation: ``30s``, ``5m``, ``1h30m``, ``7d``, ``1y``.

Example:
    >>> parse_duration("1h30m")
    5400.0
    >>> format_duration(5400.0)
    '1h30m'
"""

from __future__ import annotations

import re

_UNITS = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400, "y": 365 * 86400}
_PART = re.compile(r"(\d+)(ms|s|m|h|d|w|y)")
_WHOLE = re.compile(r"(?:\d+(?:ms|s|m|h|d|w|y))+")


def parse_duration(text: str) -> float:
    """Parse a Prometheus duration into seconds.

    Raises:
        ValueError: ``text`` is not a duration; the message shows an example.
    """
    if not isinstance(text, str) or not _WHOLE.fullmatch(text):
        raise ValueError(f"{text!r} is not a duration (examples: 30s, 5m, 1h30m, 7d, 1y)")
    return float(sum(int(n) * _UNITS[unit] for n, unit in _PART.findall(text)))


def format_duration(seconds: float) -> str:
    """Format seconds in the shortest Prometheus notation (``0s`` for zero)."""
    ms = round(seconds * 1000)
    if ms == 0:
        return "0s"
    parts = []
    for unit in ("y", "w", "d", "h", "m", "s", "ms"):
        size = round(_UNITS[unit] * 1000)
        count, ms = divmod(ms, size)
        if count:
            parts.append(f"{count}{unit}")
    return "".join(parts)
