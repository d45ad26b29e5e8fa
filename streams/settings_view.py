"""How ``pulseline config show`` prints settings: as a person would write them.

Durations are in Prometheus notation with days as the largest unit (``7d``, ``365d``, ``10m``,
``200ms``), paths are normalised (``rules/pulseline.yml``, not ``deploy/../rules/pulseline.yml``)
and secrets are masked. Written as YAML, the result (without secrets) loads back to the same
settings.

Example:
    >>> view = shown(Settings.load(None))
    >>> view["tiers"][0]["retention_s"], view["downsample"]["max_future_s"]
    ('7d', '10m')
    >>> as_written(0.2), as_written(5400.0), as_written(0.0005)
    ('200ms', '1h30m', 0.0005)
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from pydantic import BaseModel, SecretStr

from streams.settings import Settings

_UNITS = (("d", 86_400_000), ("h", 3_600_000), ("m", 60_000), ("s", 1000), ("ms", 1))


def shown(settings: Settings) -> dict[str, Any]:
    """The settings as plain data for display: durations written out, paths normalised,
    secrets masked. A key ending in ``_s`` holds a duration."""
    view = _plain("", settings)
    assert isinstance(view, dict)
    return view


def as_written(seconds: float) -> str | float:
    """``seconds`` in Prometheus notation, days the largest unit; the number itself when it is
    negative or finer than a millisecond."""
    ms = round(seconds * 1000)
    if ms < 0 or abs(ms - seconds * 1000) > 1e-6:
        return seconds
    if ms == 0:
        return "0s"
    parts = []
    for unit, size in _UNITS:
        count, ms = divmod(ms, size)
        if count:
            parts.append(f"{count}{unit}")
    return "".join(parts)


def _plain(name: str, value: Any) -> Any:
    if isinstance(value, BaseModel):
        return {key: _plain(key, getattr(value, key)) for key in type(value).model_fields}
    if isinstance(value, SecretStr):
        return str(value)  # '**********', or '' when unset
    if isinstance(value, Path):
        return os.path.normpath(value)
    if isinstance(value, tuple | list):
        return [_plain(name, item) for item in value]
    if isinstance(value, dict):
        return {key: _plain(name, item) for key, item in value.items()}
    if name.endswith("_s") and isinstance(value, float):
        return as_written(value)
    return value
