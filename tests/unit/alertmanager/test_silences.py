"""Silences follow Alertmanager 0.25's rules; the API cases were posted to a real one.

Update, expiry and validation outcomes (and their messages and statuses) below were
observed on Alertmanager 0.25's ``/api/v2/silences``.
"""

import json
from collections.abc import Iterator

import pytest

from streams.alertmanager.api.silencejson import (
    filter_matches,
    gettable,
    parse_postable,
    sort_silences,
)
from streams.alertmanager.config.matchers import Matcher, parse_matchers
from streams.alertmanager.engine.silences import (
    Silence,
    SilenceError,
    SilenceNotFoundError,
    Silences,
)
from streams.alertmanager.model import Alert
from streams.alertmanager.wire import format_time


def _store() -> Silences:
    ids = (f"id{i}" for i in range(1, 100))
    return Silences(retention=100.0, new_id=lambda: next(ids))


def _draft(text: str, start: float, end: float, sid: str = "", **kw: object) -> Silence:
    fields: dict = {"created_by": "ops", "comment": "why", **kw}
    return Silence(sid, parse_matchers(text), start, end, **fields)


def _body(matchers: list[dict], start: float = 0.0, end: float = 3600.0, **kw: object) -> dict:
    return {
        "matchers": matchers,
        "startsAt": format_time(start),
        "endsAt": format_time(end),
        "createdBy": "ops",
        "comment": "why",
        **kw,
    }


def _m(name: str, value: str, regex: bool = False, equal: bool | None = None) -> dict:
    out = {"name": name, "value": value, "isRegex": regex}
    if equal is not None:
        out["isEqual"] = equal
    return out


def test_new_silence_starting_in_the_past_starts_now() -> None:
    store = _store()
    (made,) = store.set(_draft("job=db", 0.0, 500.0), now=100.0)
    assert (made.id, made.starts_at, made.ends_at, made.updated_at) == ("id1", 100.0, 500.0, 100.0)
    assert [made.state(t) for t in (99.0, 100.0, 500.0, 500.5)] == [
        "pending", "active", "active", "expired",
    ]  # fmt: skip


def test_active_silence_extended_keeps_its_id() -> None:
    store = _store()
    store.set(_draft("job=db", 100.0, 500.0), now=100.0)
    # the start given again to the second: Alertmanager 0.25 compares whole seconds (checked)
    (updated,) = store.set(_draft("job=db", 100.4, 900.0, "id1", comment="longer"), now=200.0)
    assert (updated.id, updated.ends_at, updated.comment, updated.updated_at) == (
        "id1", 900.0, "longer", 200.0,
    )  # fmt: skip


def test_active_silence_with_new_matchers_is_expired_and_replaced() -> None:
    store = _store()
    store.set(_draft("job=db", 100.0, 500.0), now=100.0)
    old, new = store.set(_draft("job=web", 100.0, 500.0, "id1"), now=200.0)
    assert (old.id, old.ends_at, old.state(200.5)) == ("id1", 200.0, "expired")
    assert (new.id, new.starts_at, new.ends_at) == ("id2", 200.0, 500.0)


def test_active_silence_with_another_start_is_replaced() -> None:
    store = _store()
    store.set(_draft("job=db", 100.0, 500.0), now=100.0)
    old, new = store.set(_draft("job=db", 150.0, 500.0, "id1"), now=200.0)
    assert old.ends_at == 200.0 and new.id == "id2" and new.starts_at == 200.0


def test_pending_silence_moved_later_keeps_its_id_and_moved_earlier_is_replaced() -> None:
    store = _store()
    store.set(_draft("job=db", 300.0, 500.0), now=100.0)
    (same,) = store.set(_draft("job=db", 250.0, 500.0, "id1"), now=100.0)
    assert same.id == "id1" and same.starts_at == 250.0
    old, new = store.set(_draft("job=db", 50.0, 500.0, "id1"), now=100.0)
    assert (old.starts_at, old.ends_at) == (100.0, 100.0)  # a pending one starts and ends now
    assert (new.id, new.starts_at) == ("id2", 100.0)


def test_expired_silence_updated_gives_a_new_one_and_stays_as_it_was() -> None:
    store = _store()
    store.set(_draft("job=db", 0.0, 50.0), now=0.0)
    (new,) = store.set(_draft("job=db", 0.0, 500.0, "id1"), now=100.0)
    assert new.id == "id2" and store.get("id1").ends_at == 50.0


def test_unknown_id_is_not_found() -> None:
    with pytest.raises(SilenceNotFoundError) as raised:
        _store().set(_draft("job=db", 0.0, 50.0, "nope"), now=0.0)
    assert (str(raised.value), raised.value.status) == ("silence not found", 404)


def test_expire() -> None:
    store = _store()
    store.set(_draft("job=db", 0.0, 500.0), now=0.0)
    store.set(_draft("job=web", 300.0, 500.0), now=0.0)
    (active,) = store.expire("id1", now=100.0)
    (pending,) = store.expire("id2", now=100.0)
    assert (active.starts_at, active.ends_at) == (0.0, 100.0)
    assert (pending.starts_at, pending.ends_at) == (100.0, 100.0)
    assert store.expire("id1", now=200.0) == []  # already expired: nothing to do, no error
    with pytest.raises(SilenceNotFoundError):
        store.expire("nope", now=200.0)


def test_an_invalid_update_changes_nothing() -> None:
    store = _store()
    store.set(_draft("job=db", 0.0, 500.0), now=0.0)
    with pytest.raises(SilenceError, match="must not match the empty string"):
        store.set(_draft("job=~.*", 0.0, 500.0, "id1"), now=100.0)
    assert store.get("id1").state(100.0) == "active"


@pytest.mark.parametrize(
    ("matchers", "message"),
    [
        (
            [_m("env", ".*", regex=True)],
            "silence invalid: at least one matcher must not match the empty string",
        ),
        ([_m("env", "")], "silence invalid: at least one matcher must not match the empty string"),
        (
            [_m("env", "(", regex=True)],
            "silence invalid: invalid label matcher 0: invalid regular expression '('",
        ),
        ([_m("0env", "x")], 'silence invalid: invalid label matcher 0: invalid label name "0env"'),
    ],
)
def test_invalid_silences_are_refused_with_400(matchers: list[dict], message: str) -> None:
    with pytest.raises(SilenceError) as raised:
        _store().set(parse_postable(_body(matchers), now=10.0), now=10.0)
    assert str(raised.value).startswith(message) and raised.value.status == 400


@pytest.mark.parametrize(
    ("body", "message", "status"),
    [
        (
            _body([_m("a", "b")], 100.0, 50.0),
            "Failed to create silence: start time must be before end time",
            400,
        ),
        (
            _body([_m("a", "b")], 50.0, 50.0),
            "Failed to create silence: start time must be before end time",
            400,
        ),
        (
            _body([_m("a", "b")], 0.0, 5.0),
            "Failed to create silence: end time can't be in the past",
            400,
        ),
        (_body([]), "matchers in body should have at least 1 items", 422),
        ({**_body([_m("a", "b")]), "createdBy": None}, "createdBy in body is required", 422),
        (_body([{"name": "a", "value": "b"}]), "matchers.0.isRegex in body is required", 422),
        (_body([{"name": "a", "isRegex": False}]), "matchers.0.value in body is required", 422),
    ],
)
def test_api_checks(body: dict, message: str, status: int) -> None:
    with pytest.raises(SilenceError) as raised:
        parse_postable(body, now=10.0)
    assert (str(raised.value), raised.value.status) == (message, status)


def test_negative_matchers_alone_are_accepted_and_mute_the_rest() -> None:
    store = _store()
    draft = parse_postable(_body([_m("instance", "web", regex=True, equal=False)]), now=10.0)
    store.set(draft, now=10.0)
    assert store.mutes({"instance": "db"}, at=20.0) == ["id1"]
    assert store.mutes({}, at=20.0) == ["id1"]  # a missing label is "", which is not "web"
    assert store.mutes({"instance": "web"}, at=20.0) == []


def test_regex_matchers_are_anchored() -> None:
    store = _store()
    store.set(_draft('alertname=~"Disk.*", instance!~"db-[0-9]+"', 0.0, 100.0), now=0.0)
    assert store.mutes({"alertname": "DiskFull", "instance": "web-1"}, at=1.0) == ["id1"]
    assert store.mutes({"alertname": "NoDiskFull", "instance": "web-1"}, at=1.0) == []
    assert store.mutes({"alertname": "DiskFull", "instance": "db-12"}, at=1.0) == []
    assert store.mutes({"alertname": "DiskFull", "instance": "db-12x"}, at=1.0) == ["id1"]
    assert store.mutes({"alertname": "DiskFull"}, at=100.5) == []


def test_gettable_shape_as_alertmanager_writes_it() -> None:
    silence = Silence(
        "7677414f-00df-489f-9644-d8c88668ed3b",
        (Matcher("env", "=", "x"), Matcher("instance", "!~", "web")),
        1.5, 3601.0, "t", "", updated_at=1.5,
    )  # fmt: skip
    assert json.dumps(gettable(silence, at=10.0)) == json.dumps(
        {
            "id": "7677414f-00df-489f-9644-d8c88668ed3b",
            "status": {"state": "active"},
            "updatedAt": "1970-01-01T00:00:01.500Z",
            "comment": "",
            "createdBy": "t",
            "endsAt": "1970-01-01T01:00:01.000Z",
            "matchers": [
                {"isEqual": True, "isRegex": False, "name": "env", "value": "x"},
                {"isEqual": False, "isRegex": True, "name": "instance", "value": "web"},
            ],
            "startsAt": "1970-01-01T00:00:01.500Z",
        }
    )


def test_listing_order_and_filter() -> None:
    store = _store()
    for text, start, end in [
        ("a=1", 0, 300), ("a=2", 0, 200), ("a=3", 500, 600), ("a=4", 400, 600),
        ("a=5", 0, 50), ("a=6", 0, 80),
    ]:  # fmt: skip
        store.set(_draft(text, start, end), now=0.0)
    order = [s.matchers[0].value for s in sort_silences(store.all(), at=100.0)]
    assert order == ["2", "1", "4", "3", "6", "5"]
    assert [s.id for s in store.all() if filter_matches(s, parse_matchers("a=3"))] == ["id3"]
    assert not filter_matches(store.get("id3"), parse_matchers("a=~3"))


def _alert(end: float | None, start: float = 0.0, **labels: str) -> Alert:
    return Alert.create({"alertname": "A", **labels}, starts_at=start, ends_at=end)


def test_expire_on_resolve_waits_for_every_muted_alert() -> None:
    store = _store()
    store.set(_draft("alertname=A", 10.0, 1000.0, expire_on_resolve=True), now=10.0)
    assert store.expire_resolved([], now=20.0) == []  # nothing muted yet
    early = _alert(5.0, host="old")  # resolved before the silence: never muted by it
    one, two = _alert(None, 15.0, host="1"), _alert(None, 15.0, host="2")
    assert store.expire_resolved([early, one, two], now=20.0) == []
    one = one.with_times(ends_at=30.0)
    assert store.expire_resolved([early, one, two], now=40.0) == []
    two = two.with_times(ends_at=50.0)
    (expired,) = store.expire_resolved([early, one, two], now=60.0)
    assert (expired.id, expired.ends_at, expired.state(61.0)) == ("id1", 60.0, "expired")


def test_silences_without_the_flag_stay() -> None:
    store = _store()
    store.set(_draft("alertname=A", 0.0, 1000.0), now=0.0)
    assert store.expire_resolved([_alert(5.0, 1.0)], now=10.0) == []


def test_without_a_silence_to_expire_on_resolve_the_alerts_are_not_read() -> None:
    # Asked at every tick of every worker: the cluster's alerts are only looked at when an
    # active silence may expire on resolve.
    def unread() -> Iterator[Alert]:
        raise AssertionError("the alerts were read")
        yield  # pragma: no cover

    store = _store()
    store.set(_draft("alertname=A", 0.0, 1000.0), now=0.0)
    store.set(_draft("alertname=B", 0.0, 5.0, expire_on_resolve=True), now=0.0)  # ended
    assert store.expire_resolved(unread(), now=10.0) == []


def test_ended_between_gc_and_the_topic_round_trip() -> None:
    store = _store()
    store.set(_draft("a=1", 0.0, 50.0, expire_on_resolve=True), now=0.0)
    store.set(_draft("a=2", 0.0, 500.0), now=0.0)
    assert store.ended_between(0.0, 50.0) == ["id1"] and store.ended_between(50.0, 60.0) == []
    replica = Silences()
    for s in store.all():
        replica.apply(s.id, Silence.from_dict(json.loads(json.dumps(s.to_dict()))))
    assert sorted(replica.all(), key=lambda s: s.id) == sorted(store.all(), key=lambda s: s.id)
    assert replica.get("id1").expire_on_resolve
    assert store.gc(now=150.0) == [] and store.gc(now=150.5) == ["id1"]
    replica.apply("id1", None)
    assert [s.id for s in replica.all()] == ["id2"]
