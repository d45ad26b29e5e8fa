"""The tier a graph reads: the Grafana dashboards' rule."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

from streams.settings import DEFAULT_TIERS, TierSettings
from streams.web.tiers import choose_tier, max_span_s, tier_metric

HOUR, DAY = 3600, 86400
ROOT = Path(__file__).resolve().parents[3]


@pytest.mark.parametrize(
    ("span_s", "age_s", "tier"),
    [
        (6 * HOUR, 6 * HOUR, "raw"),  # the longest raw range
        (6 * HOUR + 1, 6 * HOUR + 1, "1m"),
        (HOUR, 7 * DAY, "raw"),  # starts at the raw retention's edge
        (HOUR, 7 * DAY + 1, "1m"),  # starts before it
        (7 * DAY, 7 * DAY, "1m"),
        (7 * DAY + 1, 7 * DAY + 1, "1h"),
        (HOUR, 30 * DAY + 1, "1h"),  # beyond the 1-minute retention
        (400 * DAY, 400 * DAY, "1h"),  # the last tier serves everything else
    ],
)
def test_the_range_picks_the_tier(span_s: float, age_s: float, tier: str) -> None:
    assert choose_tier(DEFAULT_TIERS, span_s, age_s).name == tier


def test_the_spans_are_those_of_the_grafana_dashboards() -> None:
    spec = importlib.util.spec_from_file_location(
        "grafana_generate", ROOT / "deploy" / "grafana" / "generate.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("grafana_generate", module)
    spec.loader.exec_module(module)
    assert {t.name: max_span_s(t) for t in DEFAULT_TIERS[:-1]} == module.MAX_SPAN_S


def test_a_single_tier_serves_every_range() -> None:
    raw = TierSettings(name="raw", retention_s=DAY, bucket="m")
    assert choose_tier([raw], 365 * DAY, 365 * DAY) is raw


def test_tier_metric_names_the_aggregate_of_windowed_tiers_only() -> None:
    raw, minute = DEFAULT_TIERS[0], DEFAULT_TIERS[1]
    assert tier_metric("up", raw, "last") == "up"
    assert tier_metric("up", minute, "last") == "up_last"
