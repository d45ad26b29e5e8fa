"""Which tier a graph reads for a range: the Grafana dashboards' rule.

A range up to 6 hours that starts within the raw tier's retention reads raw samples; a range
up to 7 days within the 1-minute tier's retention reads 1-minute rows; anything longer reads
the last tier (``deploy/grafana/generate.py`` writes the same rule in Flux). A windowed tier
other than the defaults serves up to 10,080 windows, as 7 days of 1-minute rows are.

A tier stores each raw field ``f`` as ``f_mean``, ``f_min``, ``f_max``, ``f_last``... (README
"Downsampling"), so a query written for raw samples reads a tier through
:func:`tier_metric`: the same query then draws the same curve on every tier.

Example:
    >>> from streams.settings import DEFAULT_TIERS
    >>> [choose_tier(DEFAULT_TIERS, span_s, age_s).name
    ...  for span_s, age_s in ((3600, 3600), (86400, 86400), (30 * 86400, 30 * 86400))]
    ['raw', '1m', '1h']
    >>> choose_tier(DEFAULT_TIERS, 3600, 8 * 86400).name  # beyond the raw retention
    '1m'
    >>> tier_metric("cpu_usage_idle", DEFAULT_TIERS[1], "mean")
    'cpu_usage_idle_mean'
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

from streams.settings import TierSettings

RAW_SPAN_S = 6 * 3600
"""The longest range the raw tier serves."""
WINDOWS_PER_RANGE = 10_080
"""The most windows a windowed tier serves in one range (7 days of 1-minute rows)."""
TierField = Literal["mean", "min", "max", "last", "sum", "count"]
"""Which aggregate of a window a query reads from a windowed tier."""
TIER_FIELDS: tuple[TierField, ...] = ("mean", "min", "max", "last", "sum", "count")


def max_span_s(tier: TierSettings) -> float:
    """The longest range ``tier`` serves (when it is not the last tier)."""
    return RAW_SPAN_S if tier.window_s is None else tier.window_s * WINDOWS_PER_RANGE


def choose_tier(tiers: Sequence[TierSettings], span_s: float, age_s: float) -> TierSettings:
    """The tier to read for a range ``span_s`` long that started ``age_s`` ago.

    Args:
        tiers: the configured tiers, raw first.
        span_s: the range's length.
        age_s: how long ago the range starts (now minus its start).
    """
    for tier in tiers[:-1]:
        if span_s <= max_span_s(tier) and age_s <= tier.retention_s:
            return tier
    return tiers[-1]


def tier_metric(metric: str, tier: TierSettings, field: TierField) -> str:
    """The name under which ``tier`` stores the ``field`` aggregate of the raw ``metric``.

    Example:
        >>> from streams.settings import DEFAULT_TIERS
        >>> tier_metric("cpu_usage_idle", DEFAULT_TIERS[0], "max")
        'cpu_usage_idle'
    """
    return metric if tier.window_s is None else f"{metric}_{field}"
