"""Times as the pages show them: UTC timestamps and how long ago.

Example:
    >>> utc(1_700_000_000_000)
    '2023-11-14 22:13:20 UTC'
    >>> ago(1_700_000_000_000, now_ms=1_700_000_000_000 + 3_725_000)
    '1h 2m ago'
    >>> parse_utc("2023-11-14T22:13:20.000Z")
    1700000000000
"""

from __future__ import annotations

from datetime import UTC, datetime

_UNITS = (("d", 86_400_000), ("h", 3_600_000), ("m", 60_000), ("s", 1000))


def utc(ms: int) -> str:
    """``ms`` since the epoch as a UTC date and time, to the second."""
    return datetime.fromtimestamp(ms / 1000, UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def duration_text(ms: int) -> str:
    """A duration in its two largest units (``1h 2m``, ``45s``; ``0s`` when under a second).

    Example:
        >>> duration_text(90_061_000), duration_text(45_500), duration_text(-5)
        ('1d 1h', '45s', '0s')
    """
    parts: list[str] = []
    left = max(0, ms)
    for unit, size in _UNITS:
        count, left = divmod(left, size)
        if count or parts:
            parts.append(f"{count}{unit}")
        if len(parts) == 2:
            break
    parts = [p for p in parts if not p.startswith("0")] or ["0s"]
    return " ".join(parts)


def ago(ms: int, *, now_ms: int) -> str:
    """How long before ``now_ms`` the instant ``ms`` was (``in 5s`` when it is ahead)."""
    if ms > now_ms:
        return f"in {duration_text(ms - now_ms)}"
    return f"{duration_text(now_ms - ms)} ago"


def parse_utc(text: str) -> int:
    """An RFC 3339 time (as the alert manager's API writes them) in ms since the epoch.

    Raises:
        ValueError: ``text`` is not an RFC 3339 time.
    """
    return round(datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp() * 1000)
