"""Silences through the API's records: prepared changes, the topic round trip, reads.

The outcomes (an update in place keeps the id; new matchers on an active silence expire it
and make a new one; expiring an expired silence succeeds and writes nothing) are those of
Alertmanager 0.25's ``/api/v2/silences`` and ``/api/v2/silence/{id}``, checked with curl and
amtool on a real one; the rules themselves are tested in test_silences.py.
"""

from __future__ import annotations

from typing import Any

import orjson
import pytest

from streams.alertmanager.api.silenceview import SilenceBook
from streams.alertmanager.model import Alert
from streams.alertmanager.wire import ApiError, format_time
from streams.errors import RecordDecodeError


def book() -> SilenceBook:
    ids = (f"s{i}" for i in range(1, 100))
    return SilenceBook(new_id=lambda: next(ids))


def body(
    *matchers: tuple[str, str], start: float = 0.0, end: float = 3600.0, **extra: Any
) -> bytes:
    return orjson.dumps(
        {
            "matchers": [{"name": n, "value": v, "isRegex": False} for n, v in matchers],
            "startsAt": format_time(start),
            "endsAt": format_time(end),
            "createdBy": "ops",
            "comment": "why",
            **extra,
        }
    )


def post(b: SilenceBook, data: bytes, now: float) -> list[str]:
    records = b.prepare_silence(data, now)
    for key, value in records:
        b.apply(key.encode(), value)
    return [key for key, _ in records]


def test_preparing_changes_nothing_until_the_records_come_back() -> None:
    b = book()
    records = b.prepare_silence(body(("job", "db")), now=100.0)
    assert [k for k, _ in records] == ["s1"]
    assert b.silences([], now=100.0) == [] and b.silence("s1", now=100.0) is None
    assert b.store.mutes({"job": "db"}, at=100.0) == []
    b.apply(b"s1", records[0][1])
    assert b.store.mutes({"job": "db"}, at=100.0) == ["s1"]
    got = b.silence("s1", now=100.0)
    assert got is not None
    assert (got["startsAt"], got["endsAt"], got["status"]) == (
        "1970-01-01T00:01:40.000Z",
        "1970-01-01T01:00:00.000Z",
        {"state": "active"},
    )


def test_update_in_place_keeps_the_id() -> None:
    b = book()
    post(b, body(("job", "db"), start=100.0), now=100.0)
    assert post(b, body(("job", "db"), start=100.0, end=7200.0, id="s1"), now=200.0) == ["s1"]
    [only] = b.silences([], now=200.0)
    assert (only["id"], only["endsAt"]) == ("s1", "1970-01-01T02:00:00.000Z")


def test_new_matchers_on_an_active_silence_expire_it_and_make_another() -> None:
    b = book()
    post(b, body(("job", "db")), now=100.0)
    assert post(b, body(("job", "web"), id="s1"), now=200.0) == ["s1", "s2"]
    listed = [(s["id"], s["status"]["state"]) for s in b.silences([], now=300.0)]
    assert listed == [("s2", "active"), ("s1", "expired")]


def test_unknown_ids_are_not_found() -> None:
    b = book()
    with pytest.raises(ApiError) as caught:
        b.prepare_silence(body(("job", "db"), id="nope"), now=0.0)
    assert caught.value.status == 404
    with pytest.raises(ApiError) as caught:
        b.prepare_expire("nope", now=0.0)
    assert caught.value.status == 404


def test_expire_once_then_nothing_to_write() -> None:
    b = book()
    post(b, body(("job", "db")), now=100.0)
    [(key, value)] = b.prepare_expire("s1", now=150.0)
    assert orjson.loads(value)["ends_at"] == 150.0
    b.apply(key.encode(), value)
    assert b.prepare_expire("s1", now=160.0) == []


def test_invalid_bodies_are_refused() -> None:
    b = book()
    with pytest.raises(ApiError) as caught:
        b.prepare_silence(b"{not json", now=0.0)
    assert caught.value.status == 400
    with pytest.raises(ApiError, match="start time must be before end time"):
        b.prepare_silence(body(("job", "db"), start=10.0, end=10.0), now=0.0)
    with pytest.raises(ApiError, match="at least one matcher must not match the empty string"):
        b.prepare_silence(body(("job", "")), now=0.0)


def test_filters_and_their_errors() -> None:
    b = book()
    post(b, body(("job", "db"), ("env", "prod")), now=0.0)
    post(b, body(("job", "web")), now=0.0)
    assert [s["id"] for s in b.silences(['job="db"'], now=1.0)] == ["s1"]
    assert [s["id"] for s in b.silences(["job=db", "env=prod"], now=1.0)] == ["s1"]
    assert b.silences(["job=~db"], now=1.0) == []
    with pytest.raises(ApiError, match=r"^bad matcher format: foo$"):
        b.silences(["foo"], now=1.0)


def test_tombstones_and_bad_records() -> None:
    b = book()
    post(b, body(("job", "db")), now=0.0)
    b.apply(b"s1", None)
    assert b.silence("s1", now=1.0) is None
    with pytest.raises(RecordDecodeError, match="s9"):
        b.apply(b"s9", b"[]")
    [(_, value)] = b.prepare_silence(body(("job", "db")), now=0.0)
    with pytest.raises(RecordDecodeError, match="holds silence 's2'"):
        b.apply(b"other", value)


def test_expire_on_resolve_is_kept_and_judged_on_the_alerts_given() -> None:
    b = book()
    post(b, body(("job", "db"), expireOnResolve=True), now=0.0)
    got = b.silence("s1", now=1.0)
    assert got is not None and got["expireOnResolve"] is True
    firing = Alert.create({"job": "db"}, starts_at=10.0)
    assert b.prepare_expire_resolved([firing], now=20.0) == []
    resolved = firing.with_times(ends_at=30.0)
    [(key, value)] = b.prepare_expire_resolved([resolved], now=40.0)
    assert key == "s1" and orjson.loads(value)["ends_at"] == 40.0
    assert b.silence("s1", now=41.0)["status"] == {"state": "active"}  # type: ignore[index]


def test_silences_past_retention_get_tombstones_once_they_come_back() -> None:
    # Retention 100 s. s1 ends at 1000, s2 at 1050 (s3 is made to be expired at 900 through
    # the API), s4 is active until 5000 and s5 pending from 4000: worked by hand, a silence
    # goes at its end + 100, that instant included (Alertmanager's ExpiresAt, not after now).
    b = book()
    post(b, body(("job", "a"), end=1000.0), now=0.0)
    post(b, body(("job", "b"), end=1050.0), now=0.0)
    post(b, body(("job", "c"), end=5000.0), now=0.0)
    for key, value in b.prepare_expire("s3", now=900.0):
        b.apply(key.encode(), value)
    post(b, body(("job", "d"), end=5000.0), now=0.0)
    post(b, body(("job", "e"), start=4000.0, end=6000.0), now=0.0)
    assert b.prepare_gc(now=999.0, retention=100.0) == []
    assert b.prepare_gc(now=1099.5, retention=100.0) == [("s3", None)]
    assert b.prepare_gc(now=1100.0, retention=100.0) == [("s1", None), ("s3", None)]
    tombstones = b.prepare_gc(now=1150.0, retention=100.0)
    assert tombstones == [("s1", None), ("s2", None), ("s3", None)]
    # Preparing deleted nothing; the records coming back do.
    assert b.silence("s1", now=1150.0) is not None
    for key, value in tombstones:
        b.apply(key.encode(), value)
    assert [s["id"] for s in b.silences([], now=1150.0)] == ["s4", "s5"]
    assert b.prepare_gc(now=1150.0, retention=100.0) == []
    assert b.prepare_gc(now=6100.0, retention=100.0) == [("s4", None), ("s5", None)]
