"""Inhibition as Alertmanager 0.25's inhibitor decides it.

The equal-label and both-sides cases were checked on a real Alertmanager 0.25: its
``GET /api/v2/alerts`` showed the same alerts suppressed (it names one inhibiting alert).
"""

from streams.alertmanager.config.matchers import parse_matchers
from streams.alertmanager.engine.inhibit import Inhibitor
from streams.alertmanager.model import Alert


class Rule:
    def __init__(self, source: str, target: str, *equal: str) -> None:
        self.source_matchers = parse_matchers(source)
        self.target_matchers = parse_matchers(target)
        self.equal = equal


def _alert(end: float | None = None, **labels: str) -> Alert:
    return Alert.create(labels, starts_at=0.0, ends_at=end)


CRITICAL_MUTES_WARNING = Rule("severity=critical", "severity=warning", "cluster", "service")


def test_equal_labels_must_match() -> None:
    inhibitor = Inhibitor([CRITICAL_MUTES_WARNING])
    source = _alert(severity="critical", cluster="a", service="db")
    inhibitor.put(source)
    same = {"severity": "warning", "cluster": "a", "service": "db"}
    assert inhibitor.mutes(same, at=1.0) == [source.fingerprint]
    assert inhibitor.mutes({**same, "cluster": "b"}, at=1.0) == []
    assert inhibitor.mutes({**same, "severity": "info"}, at=1.0) == []


def test_a_label_both_lack_counts_as_equal() -> None:
    inhibitor = Inhibitor([CRITICAL_MUTES_WARNING])
    inhibitor.put(_alert(severity="critical", cluster="a"))
    assert inhibitor.mutes({"severity": "warning", "cluster": "a"}, at=1.0) != []
    assert inhibitor.mutes({"severity": "warning", "cluster": "a", "service": "x"}, at=1.0) == []


def test_resolved_sources_do_not_inhibit_and_are_forgotten() -> None:
    inhibitor = Inhibitor([CRITICAL_MUTES_WARNING])
    inhibitor.put(_alert(end=5.0, severity="critical", cluster="a"))
    target = {"severity": "warning", "cluster": "a"}
    assert inhibitor.mutes(target, at=4.0) != []
    assert inhibitor.mutes(target, at=5.0) == []
    assert inhibitor.gc(now=4.0) == 0 and inhibitor.gc(now=5.0) == 1


def test_alerts_matching_both_sides_do_not_inhibit_each_other() -> None:
    # source and target overlap: every alert named Noisy matches both sides
    inhibitor = Inhibitor([Rule("alertname=Noisy", "alertname=~Noisy|Quiet", "zone")])
    noisy1 = _alert(alertname="Noisy", zone="z", n="1")
    noisy2 = _alert(alertname="Noisy", zone="z", n="2")
    inhibitor.put_all([noisy1, noisy2])
    assert inhibitor.mutes(noisy1.label_map(), at=1.0) == []
    assert inhibitor.mutes({"alertname": "Quiet", "zone": "z"}, at=1.0) == sorted(
        [noisy1.fingerprint, noisy2.fingerprint]
    )


def test_a_two_sided_target_is_muted_by_a_one_sided_source() -> None:
    inhibitor = Inhibitor([Rule("severity=~critical|warning", "severity=warning")])
    critical = _alert(severity="critical")
    inhibitor.put(critical)
    assert inhibitor.mutes({"severity": "warning"}, at=1.0) == [critical.fingerprint]


def test_regex_and_negative_matchers_and_rule_order() -> None:
    rules = [
        Rule('alertname="NodeDown"', 'alertname!="NodeDown", instance=~"node-.*"', "instance"),
        Rule("alertname=Maintenance", "team=ops"),
    ]
    inhibitor = Inhibitor(rules)
    down = _alert(alertname="NodeDown", instance="node-1")
    maintenance = _alert(alertname="Maintenance")
    inhibitor.put_all([down, maintenance])
    assert inhibitor.mutes({"alertname": "DiskFull", "instance": "node-1"}, 1.0) == [
        down.fingerprint
    ]
    assert inhibitor.mutes({"alertname": "DiskFull", "instance": "db-1"}, 1.0) == []
    assert inhibitor.mutes({"alertname": "X", "instance": "node-1", "team": "ops"}, 1.0) == [
        down.fingerprint
    ]
    assert inhibitor.mutes({"alertname": "X", "team": "ops"}, 1.0) == [maintenance.fingerprint]
    inhibitor.remove(down.fingerprint)
    assert inhibitor.mutes({"alertname": "DiskFull", "instance": "node-1"}, 1.0) == []
