"""The notification counters follow the configuration in force: every integration at 0 from
the start, new ones after a reload, and what was counted stays."""

from __future__ import annotations

from pathlib import Path

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.parser import text_string_to_metric_families

from streams.alertmanager.engine.runtime import AlertManager, load
from streams.alertmanager.notify import NotifyCollector, NotifyStats

BEFORE = """\
route: {receiver: ops}
receivers:
  - name: ops
    webhook_configs: [{url: "http://127.0.0.1:9/ops"}]
"""
AFTER = """\
route: {receiver: ops}
receivers:
  - name: ops
    webhook_configs: [{url: "http://127.0.0.1:9/ops"}]
  - name: forward
    alertmanager_configs: [{url: "http://127.0.0.1:9/"}]
"""


def sent(registry: CollectorRegistry) -> dict[tuple[str, str], float]:
    return {
        (s.labels["receiver"], s.labels["integration"]): s.value
        for f in text_string_to_metric_families(generate_latest(registry).decode())
        for s in f.samples
        if s.name == "pulseline_notifications_sent_total"
    }


def test_integrations_of_a_reloaded_configuration_appear_at_0(tmp_path: Path) -> None:
    config = tmp_path / "alertmanager.yml"
    config.write_text(BEFORE)
    am = AlertManager(load(config))
    stats = NotifyStats()
    registry = CollectorRegistry()
    registry.register(NotifyCollector(stats, lambda: am.loaded.integrations))
    assert sent(registry) == {("ops", "webhook"): 0}

    stats.sent["ops", "webhook"] += 2
    config.write_text(AFTER)
    am.configure(load(config))
    assert sent(registry) == {("ops", "webhook"): 2, ("forward", "alertmanager"): 0}

    config.write_text(BEFORE)
    am.configure(load(config))
    assert sent(registry) == {("ops", "webhook"): 2}  # a removed integration, never counted


def test_counts_of_an_integration_a_reload_removed_stay() -> None:
    stats = NotifyStats()
    stats.failed["gone", "slack", True] += 1
    registry = CollectorRegistry()
    registry.register(NotifyCollector(stats))
    text = generate_latest(registry).decode()
    assert (
        'pulseline_notifications_failed_total{integration="slack",receiver="gone",'
        'retryable="true"} 1.0' in text
    )
