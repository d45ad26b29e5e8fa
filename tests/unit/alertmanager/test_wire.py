"""Posted alerts are completed and refused as Alertmanager 0.25 does (messages checked on it)."""

import orjson
import pytest

from streams.alertmanager.wire import ApiError, format_time, gettable, parse_postable, parse_time


def _post(*alerts: dict, now: float = 1000.0, timeout: float = 300.0):
    return parse_postable(orjson.dumps(list(alerts)), now, timeout)


def test_missing_times_start_now_and_time_out() -> None:
    (alert,), errors = _post({"labels": {"alertname": "A"}})
    assert errors == []
    assert (alert.starts_at, alert.ends_at, alert.timeout, alert.updated_at) == (
        1000.0,
        1300.0,
        True,
        1000.0,
    )


def test_only_ends_at_given_starts_at_it() -> None:
    (alert,), _ = _post({"labels": {"a": "b"}, "endsAt": "1970-01-01T00:10:00Z"})
    assert (alert.starts_at, alert.ends_at, alert.timeout) == (600.0, 600.0, False)
    assert alert.status(at=1000.0) == "resolved"


def test_invalid_alerts_are_refused_and_valid_ones_kept() -> None:
    alerts, errors = _post(
        {"labels": {}},
        {
            "labels": {"a": "b"},
            "startsAt": "2020-01-01T00:00:00Z",
            "endsAt": "2019-01-01T00:00:00Z",
        },
        {"labels": {"ok": "yes"}},
        {"labels": {"1bad": "x"}},
    )
    assert [a.label_map() for a in alerts] == [{"ok": "yes"}]
    assert errors[0] == "alerts[0]: at least one label pair required"
    assert errors[1] == "alerts[1]: start time must be before end time"
    assert errors[2].startswith("alerts[3]: invalid label set")


def test_empty_label_values_are_dropped_as_alertmanager_does() -> None:
    (alert,), _ = _post({"labels": {"a": "b", "empty": ""}})
    assert alert.label_map() == {"a": "b"}


@pytest.mark.parametrize("body", [b"{}", b"not json", b'[{"labels": {"a": 1}}]'])
def test_malformed_bodies(body: bytes) -> None:
    if body.startswith(b"[{"):
        alerts, errors = parse_postable(body, 0.0, 1.0)
        assert alerts == [] and "labels must be an object of strings" in errors[0]
    else:
        with pytest.raises(ApiError):
            parse_postable(body, 0.0, 1.0)


def test_times_round_trip_in_milliseconds() -> None:
    assert parse_time("0001-01-01T00:00:00Z", "endsAt") is None
    assert parse_time(format_time(1.5), "x") == 1.5
    assert parse_time("2026-11-26T02:00:00.123456789+01:00", "x") == pytest.approx(
        1795654800.123456
    )
    with pytest.raises(ApiError, match="startsAt must be an RFC 3339 time"):
        parse_time("yesterday", "startsAt")


def test_gettable_marks_suppressed_alerts() -> None:
    (alert,), _ = _post({"labels": {"alertname": "A"}})
    shown = gettable(alert, ["ops"], silenced_by=["s1"])
    assert shown["status"] == {"inhibitedBy": [], "silencedBy": ["s1"], "state": "suppressed"}
    assert shown["receivers"] == [{"name": "ops"}]
    assert gettable(alert, [])["status"]["state"] == "active"
