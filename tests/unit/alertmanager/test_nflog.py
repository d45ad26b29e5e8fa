"""The notification log decides as Alertmanager 0.25's DedupStage.needsUpdate."""

import pytest

from streams.alertmanager.engine.nflog import NotificationLog, decide


def _entry(firing: set[str], resolved: set[str], at: float = 0.0):
    log = NotificationLog(retention=100.0)
    return log.log("g", "r", "webhook[0]", firing, resolved, at=at)


def _decide(entry, firing, resolved, *, send_resolved=True, repeat=60.0, now=10.0):
    return decide(
        entry, set(firing), set(resolved), send_resolved=send_resolved,
        repeat_interval=repeat, now=now,
    )  # fmt: skip


def test_first_notification_only_when_something_fires() -> None:
    assert _decide(None, {"a"}, set()) == "first"
    assert _decide(None, set(), {"a"}) is None


def test_a_new_firing_alert_notifies() -> None:
    assert _decide(_entry({"a"}, set()), {"a", "b"}, set()) == "new-firing"


def test_fewer_firing_alerts_alone_do_not_notify() -> None:
    # b went away (muted, or gone): a subset of what was notified is no news
    assert _decide(_entry({"a", "b"}, set()), {"a"}, set()) is None


@pytest.mark.parametrize("send_resolved", [True, False])
def test_all_resolved_notifies_whatever_send_resolved(send_resolved: bool) -> None:
    entry = _entry({"a"}, set())
    assert _decide(entry, set(), {"a"}, send_resolved=send_resolved) == "all-resolved"


def test_fired_and_resolved_between_two_flushes_is_not_news() -> None:
    entry = _entry(set(), {"a"})
    assert _decide(entry, set(), {"a", "b"}) is None


def test_a_new_resolved_alert_notifies_only_with_send_resolved() -> None:
    entry = _entry({"a", "b"}, set())
    assert _decide(entry, {"a"}, {"b"}, send_resolved=True) == "resolved"
    assert _decide(entry, {"a"}, {"b"}, send_resolved=False) is None
    assert _decide(_entry({"a"}, {"b"}), {"a"}, {"b"}, send_resolved=True) is None


def test_repeat_only_strictly_after_repeat_interval() -> None:
    entry = _entry({"a"}, set(), at=100.0)
    assert _decide(entry, {"a"}, set(), repeat=60.0, now=160.0) is None
    assert _decide(entry, {"a"}, set(), repeat=60.0, now=160.5) == "repeat"


def test_a_later_entry_is_not_overwritten_by_an_earlier_one() -> None:
    log = NotificationLog()
    log.log("g", "r", "webhook[0]", {"a"}, (), at=50.0)
    kept = log.log("g", "r", "webhook[0]", {"b"}, (), at=40.0)
    assert kept.firing == {"a"} and log.query("g", "r", "webhook[0]") == kept


def test_entries_are_per_integration_and_expire_after_retention() -> None:
    log = NotificationLog(retention=100.0)
    log.log("g", "r", "webhook[0]", {"a"}, (), at=0.0)
    log.log("g", "r", "webhook[1]", {"a"}, (), at=50.0)
    log.log("h", "r", "webhook[0]", {"a"}, (), at=0.0)
    assert log.query("g", "r", "webhook[1]").timestamp == 50.0
    assert log.gc(now=99.0) == []
    assert sorted(log.gc(now=100.0)) == ["g", "h"]
    assert log.query("g", "r", "webhook[0]") is None
    assert log.query("g", "r", "webhook[1]") is not None
    assert log.group_keys() == ["g"]


def test_dump_and_load() -> None:
    log = NotificationLog(retention=100.0)
    log.log("g", "r", "webhook[0]", {"a", "b"}, {"c"}, at=5.0)
    other = NotificationLog(retention=100.0)
    other.load("g", log.dump("g"))
    assert other.entries("g") == log.entries("g")
    other.load("g", [])
    assert other.group_keys() == []
