"""The window plan derived from the tiers (the settings are ``Settings.downsample``).

The tiers come from :class:`~streams.settings.TierSettings`; the raw tier (no window) is
skipped. The first windowed tier is built from raw samples, every further one from the rows
of the tier before it, so each window must be a whole multiple of the one before.

Example:
    >>> from streams.settings import DEFAULT_TIERS
    >>> WindowPlan.from_tiers(DEFAULT_TIERS).windows_ms
    (60000, 3600000)
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from streams.errors import ConfigError
from streams.settings import TierSettings


@dataclass(frozen=True, slots=True)
class WindowPlan:
    """The windowed tiers in milliseconds, finest first.

    Attributes:
        names: tier names, finest first.
        windows_ms: window lengths; each a whole multiple of the one before.

    Example:
        >>> from streams.settings import DEFAULT_TIERS
        >>> WindowPlan.from_tiers(DEFAULT_TIERS).names
        ('1m', '1h')
    """

    names: tuple[str, ...]
    windows_ms: tuple[int, ...]

    @classmethod
    def from_tiers(cls, tiers: Sequence[TierSettings]) -> WindowPlan:
        """Check the windowed tiers and build the plan.

        Raises:
            ConfigError: no windowed tier, a window not a whole number of milliseconds, or a
                window that is not a multiple of the one before (it could not be built from it).
        """
        names: list[str] = []
        windows: list[int] = []
        for tier in tiers:
            if tier.window_s is None:
                continue
            ms = tier.window_s * 1000
            if ms < 1 or ms != int(ms):
                raise ConfigError(f"tier {tier.name!r}: window {tier.window_s}s is not whole ms")
            if windows and (int(ms) <= windows[-1] or int(ms) % windows[-1]):
                raise ConfigError(
                    f"tier {tier.name!r}: window {tier.window_s}s must be a multiple of the "
                    f"{names[-1]!r} window ({windows[-1] / 1000}s) and longer; tiers are built "
                    "from the tier before them"
                )
            names.append(tier.name)
            windows.append(int(ms))
        if not windows:
            raise ConfigError("no windowed tier configured; the downsampler needs at least one")
        return cls(tuple(names), tuple(windows))


def points_per_series_year(tiers: Sequence[TierSettings], interval_s: float) -> int:
    """Rows one series keeps at any time in the tiers, at a sample every ``interval_s``.

    Each tier holds its retention divided by its window (the raw tier: by the interval).
    Compare with ``365 * 86400 / interval_s`` for a year of raw samples.

    Example:
        >>> from streams.settings import DEFAULT_TIERS
        >>> points_per_series_year(DEFAULT_TIERS, 10)
        112440
    """
    return sum(round(t.retention_s / (t.window_s or interval_s)) for t in tiers)
