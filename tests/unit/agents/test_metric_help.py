"""Every pulseline metric of a worker's and a collector's ``GET /metrics``, as a scrape sees it
at start: each HELP explains (it is not the name restated), and each documented labelled
series is there from the start, at 0.

The worker is built whole (:func:`agents.app.create_app`: raw sink, downsampler, rules, alert
manager) with fake writers, and its ``/metrics`` page is asked directly; the exposition is
read back with prometheus_client's parser, as Prometheus and the collector's scrapes read it.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import pytest
from prometheus_client import generate_latest
from prometheus_client.parser import text_string_to_metric_families

from agents.app import create_app
from streams.collector.metrics import CollectorMetrics
from streams.settings import Settings
from streams.testing import CollectingWriter

ALERTMANAGER_YML = """\
route:
  receiver: ops
  routes:
    - matchers: ['severity="page"']
      receiver: pager
receivers:
  - name: ops
    webhook_configs:
      - url: http://127.0.0.1:9/ops
  - name: pager
    webhook_configs:
      - url: http://127.0.0.1:9/pager
    slack_configs:
      - api_url: http://127.0.0.1:9/slack
        channel: "#alerts"
  - name: blackhole
"""
RULES = Path(__file__).parents[3] / "rules" / "pulseline.yml"
INTEGRATIONS = {("ops", "webhook"), ("pager", "webhook"), ("pager", "slack")}
"""The integrations of :data:`ALERTMANAGER_YML`, read off it by hand (blackhole has none)."""

TIERS = ("raw", "1m", "1h")
STATUSES = ("none", "400", "401", "403", "404", "413", "422", "429", "500", "502", "503", "504")
"""The statuses the README's Observability section says ``pulseline_sink_write_failures_total``
shows from the start."""

GROWN_WHEN_SEEN = {
    "pulseline_alertmanager_alerts": "one series per alert name held: none before an alert",
    "pulseline_consumer_lag": "one series per partition with a committed offset",
}
"""Labelled families whose label values are data, not configuration: empty at start."""

STOPWORDS = frozenset({
    "a", "an", "and", "are", "as", "at", "be", "by", "each", "for", "from", "in", "is", "it",
    "its", "of", "on", "or", "per", "so", "that", "the", "their", "them", "then", "this", "to",
    "was", "were", "when", "which", "while", "with",
})  # fmt: skip
NEW_WORDS = 3
"""Words a HELP must have that the name does not: what is counted, and where or when."""


def words(text: str) -> list[str]:
    """Lower-case words of ``text`` without a plural ``s`` and without stop words."""
    found = (
        w[:-1] if len(w) > 3 and w.endswith("s") else w for w in re.findall(r"[a-z]+", text.lower())
    )
    return [w for w in found if w not in STOPWORDS]


def added_words(name: str, help_text: str) -> set[str]:
    """The words of ``help_text`` the metric's name does not already say.

    A word counts as said when the name contains it, also inside a compound
    (``alertmanager`` says ``alert`` and ``manager``).
    """
    letters = name.replace("_", "")
    return {w for w in words(help_text) if w not in letters}


def restates(name: str, help_text: str) -> bool:
    return len(added_words(name, help_text)) < NEW_WORDS


@pytest.mark.parametrize(
    ("name", "help_text", "restated"),
    [
        ("pulseline_rules_forwarded", "Rule agents: forwarded.", True),
        ("pulseline_rules_history_samples", "Rule agents: history samples.", True),
        (
            "pulseline_alertmanager_groups_removed",
            "Alert manager: notifications or alerts groups removed.",
            True,
        ),
        ("pulseline_rules_groups", "Rule groups loaded.", True),
        (
            "pulseline_rules_events",
            "Alert state changes (pending, firing, resolved) produced to alerts.events.",
            False,
        ),
        ("pulseline_sink_points", "Points decoded from the consumed records.", False),
    ],
)
def test_a_help_that_only_restates_the_name_is_told_apart(
    name: str, help_text: str, restated: bool
) -> None:
    assert restates(name, help_text) is restated


@pytest.fixture
def worker_page(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """A just-built worker's ``/metrics``, with rules and the alert manager configured."""
    config = tmp_path / "alertmanager.yml"
    config.write_text(ALERTMANAGER_YML)
    monkeypatch.setenv("PULSELINE_WORKER__DATA_DIR", str(tmp_path))
    monkeypatch.setenv("PULSELINE_RULES__FILES", f'["{RULES}"]')
    monkeypatch.setenv("PULSELINE_ALERTMANAGER__CONFIG", str(config))
    tiers = {"1m": CollectingWriter(bucket="m1"), "1h": CollectingWriter(bucket="h1")}
    app = create_app(Settings.load(None), raw_writer=CollectingWriter(), tier_writers=tiers)
    return page_text(app)


def page_text(app: Any) -> str:
    """The body of the app's ``GET /metrics``, asked of its view as a request would."""
    response = asyncio.run(app.web.views["/metrics"].get(None))
    return str(response.body.decode())


@pytest.fixture
def collector_page() -> str:
    counters = CollectorMetrics()
    counters.expect_jobs(["node"])
    return generate_latest(counters.registry).decode()


def pulseline_families(text: str) -> Iterator[Any]:
    """pulseline's families, without prometheus_client's ``*_created`` timestamps."""
    return (
        f
        for f in text_string_to_metric_families(text)
        if f.name.startswith("pulseline_") and not f.name.endswith("_created")
    )


def series(text: str, name: str) -> dict[tuple[tuple[str, str], ...], float]:
    """The samples called ``name``: sorted labels -> value."""
    return {
        tuple(sorted(s.labels.items())): s.value
        for f in text_string_to_metric_families(text)
        for s in f.samples
        if s.name == name
    }


def assert_helps_explain(families: Iterable[Any]) -> None:
    restated = {f.name: f.documentation for f in families if restates(f.name, f.documentation)}
    assert restated == {}, "HELP that only restates the name"


def assert_present_at_start(families: Iterable[Any]) -> None:
    empty, nonzero = [], []
    for f in families:
        samples = f.samples
        if not samples and f.name not in GROWN_WHEN_SEEN:
            empty.append(f.name)
        if f.type == "counter":
            nonzero += [(s.name, s.labels) for s in samples if s.value != 0]
    assert empty == [], "families without a series at start"
    assert nonzero == [], "counters not at 0 at start"


def test_the_worker_helps_explain(worker_page: str) -> None:
    families = list(pulseline_families(worker_page))
    assert len(families) > 50  # sinks, offsets, downsampler, rules, alert manager
    assert_helps_explain(families)


def test_the_collector_helps_explain(collector_page: str) -> None:
    assert_helps_explain(pulseline_families(collector_page))


def test_every_worker_family_has_its_series_at_0_from_the_start(worker_page: str) -> None:
    assert_present_at_start(pulseline_families(worker_page))


def test_every_collector_family_has_its_series_at_0_from_the_start(collector_page: str) -> None:
    assert_present_at_start(pulseline_families(collector_page))


def test_notification_counters_exist_for_every_configured_integration(worker_page: str) -> None:
    pairs = {(("integration", kind), ("receiver", receiver)) for receiver, kind in INTEGRATIONS}
    for outcome in ("sent", "skipped"):
        assert series(worker_page, f"pulseline_notifications_{outcome}_total") == dict.fromkeys(
            pairs, 0
        )
    failed = series(worker_page, "pulseline_notifications_failed_total")
    assert failed == {
        (integration, receiver, ("retryable", retryable)): 0
        for integration, receiver in pairs
        for retryable in ("false", "true")
    }


def test_send_failures_exist_for_every_configured_receiver(worker_page: str) -> None:
    assert series(worker_page, "pulseline_alertmanager_send_failures_total") == {
        (("receiver", name),): 0 for name in ("blackhole", "ops", "pager")
    }


def test_write_failures_exist_for_every_documented_status_of_every_tier(worker_page: str) -> None:
    assert series(worker_page, "pulseline_sink_write_failures_total") == {
        (("status", status), ("tier", tier)): 0 for tier in TIERS for status in STATUSES
    }
