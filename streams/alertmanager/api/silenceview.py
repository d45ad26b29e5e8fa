"""The cluster's silences as the API serves and changes them.

Silences live on the compacted ``alerts.silences`` topic (one record per silence id, the
silence's JSON), which every worker reads whole into a :class:`SilenceBook`. The API's reads
are answered from it as Alertmanager 0.25 answers them. A change (``POST
/api/v2/silences``, ``DELETE /api/v2/silence/{id}``) is only *prepared* here: the records it
makes are returned for the caller to produce, and the book learns them when they come back
through :meth:`SilenceBook.apply` (the caller may apply them at once, once produced, to read
its own writes).

Expired silences are kept for a retention time (Alertmanager's ``--data.retention``), then
deleted: :meth:`SilenceBook.prepare_gc` makes the tombstones (the id and no value) that
remove them from the compacted topic, and from every worker's book as they come back.

Example:
    >>> book = SilenceBook(new_id=iter(["s1", "s2"]).__next__)
    >>> body = b'''{"matchers": [{"name": "job", "value": "db", "isRegex": false}],
    ...   "startsAt": "1970-01-01T00:00:00Z", "endsAt": "1970-01-01T01:00:00Z",
    ...   "createdBy": "ops", "comment": "upgrade"}'''
    >>> records = book.prepare_silence(body, now=10.0)
    >>> [key for key, _ in records], book.silence("s1", now=10.0)
    (['s1'], None)
    >>> for key, value in records:
    ...     book.apply(key.encode(), value)
    >>> [(s["id"], s["status"]["state"], s["startsAt"]) for s in book.silences([], now=20.0)]
    [('s1', 'active', '1970-01-01T00:00:10.000Z')]
    >>> [key for key, _ in book.prepare_expire("s1", now=30.0)]
    ['s1']
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable, Sequence
from typing import Any

import orjson

from streams.alertmanager.api import silencejson
from streams.alertmanager.api.query import parse_filter
from streams.alertmanager.engine.silences import Silence, SilenceNotFoundError, Silences
from streams.alertmanager.model import Alert
from streams.alertmanager.wire import ApiError
from streams.errors import RecordDecodeError

Record = tuple[str, bytes]
"""An ``alerts.silences`` record: the silence id (the key) and the silence's JSON."""

Tombstone = tuple[str, None]
"""An ``alerts.silences`` record deleting a silence: its id and no value."""


def record(silence: Silence) -> Record:
    """The ``alerts.silences`` record of a silence."""
    return silence.id, orjson.dumps(silence.to_dict())


def decode(key: bytes | None, value: bytes) -> Silence:
    """The silence of an ``alerts.silences`` record.

    Raises:
        RecordDecodeError: the value is not a silence, or not the one its key names.
    """
    where = "" if key is None else f" {key.decode(errors='replace')}"
    try:
        silence = Silence.from_dict(orjson.loads(value))
    except (orjson.JSONDecodeError, KeyError, TypeError, ValueError) as exc:
        raise RecordDecodeError(f"alerts.silences record{where}: {exc!r}") from None
    if key is not None and key.decode(errors="replace") != silence.id:
        raise RecordDecodeError(f"alerts.silences record{where} holds silence {silence.id!r}")
    return silence


class SilenceBook:
    """Every silence of the cluster, read from the topic; API reads and prepared changes.

    Args:
        new_id: makes the id of a new silence (a random UUID by default).
    """

    def __init__(self, *, new_id: Callable[[], str] = lambda: str(uuid.uuid4())) -> None:
        self._new_id = new_id
        self.store = Silences(new_id=new_id)
        """The silences; it mutes alerts (read it, change it only through :meth:`apply`)."""

    def apply(self, key: bytes | None, value: bytes | None) -> None:
        """Take an ``alerts.silences`` record (value None: the silence was deleted).

        Raises:
            RecordDecodeError: the value is not a silence, or not the one its key names.
        """
        if value is None:
            if key is not None:
                self.store.apply(key.decode(errors="replace"), None)
            return
        silence = decode(key, value)
        self.store.apply(silence.id, silence)

    def silences(self, filters: Sequence[str], now: float) -> list[dict[str, Any]]:
        """``GET /api/v2/silences``: the silences having every filter among their matchers
        (same name, operator and value), active first, then pending, then expired.

        Raises:
            ApiError: a filter is not a matcher.
        """
        matchers = [parse_filter(text) for text in filters]
        kept = [s for s in self.store.all() if silencejson.filter_matches(s, matchers)]
        return [silencejson.gettable(s, now) for s in silencejson.sort_silences(kept, now)]

    def silence(self, silence_id: str, now: float) -> dict[str, Any] | None:
        """``GET /api/v2/silence/{id}``; None when there is no such silence."""
        try:
            return silencejson.gettable(self.store.get(silence_id), now)
        except SilenceNotFoundError:
            return None

    def prepare_silence(self, body: bytes, now: float) -> list[Record]:
        """The records a ``POST /api/v2/silences`` body makes; the last is the silence the
        API answers with.

        Without an id, a new silence. With one, the silence is updated in place when
        Alertmanager allows it (same matchers; for an active silence the same start and an
        end not in the past; for a pending one a start not in the past), else the old one is
        expired, unless it is already, and a new one made with a new id. ``expireOnResolve``
        (pulseline's) is taken too.

        Raises:
            ApiError: the body is not a silence, the silence is invalid (Alertmanager's
                messages and statuses), or the id names no silence (404).
        """
        try:
            data = orjson.loads(body)
        except orjson.JSONDecodeError as exc:
            raise ApiError(f"parsing silence body failed: {exc}") from None
        draft = silencejson.parse_postable(data, now)
        return [record(s) for s in self._scratch(draft.id).set(draft, now)]

    def prepare_expire(self, silence_id: str, now: float) -> list[Record]:
        """The records that expire a silence now: none for one already expired, which
        Alertmanager answers with success, changing nothing.

        Raises:
            ApiError: there is no such silence (404).
        """
        return [record(s) for s in self._scratch(silence_id).expire(silence_id, now)]

    def prepare_expire_resolved(self, alerts: Iterable[Alert], now: float) -> list[Record]:
        """The records that expire the ``expireOnResolve`` silences all of whose muted alerts
        have resolved (see :meth:`~streams.alertmanager.engine.silences.Silences.expire_resolved`).

        Args:
            alerts: every alert of the cluster, resolved ones still held included.
            now: the current instant.
        """
        scratch = Silences(new_id=self._new_id)
        for s in self.store.all():
            if s.expire_on_resolve:
                scratch.apply(s.id, s)
        return [record(s) for s in scratch.expire_resolved(alerts, now)]

    def prepare_gc(self, now: float, retention: float) -> list[Tombstone]:
        """The tombstones of the silences past retention, by id.

        As in Alertmanager, a silence is kept until ``retention`` after its end
        (``ends_at + retention``) and deleted from that instant on; until then it is listed
        as expired. Nothing changes here: the book forgets a silence when its tombstone
        comes back through :meth:`apply`. Producing a tombstone twice (two workers, or a
        pass before the first came back) is harmless.

        Args:
            now: the current instant.
            retention: seconds an expired silence is kept after its end.

        Example:
            >>> from streams.alertmanager.wire import format_time
            >>> book = SilenceBook(new_id=iter(["s1", "s2"]).__next__)
            >>> for end in (1000.0, 2000.0):
            ...     draft = orjson.dumps({"startsAt": format_time(0.0), "endsAt": format_time(end),
            ...         "matchers": [{"name": "a", "value": "b", "isRegex": False}],
            ...         "createdBy": "ops", "comment": "ended"})
            ...     for key, value in book.prepare_silence(draft, now=0.0):
            ...         book.apply(key.encode(), value)
            >>> tombstones = book.prepare_gc(now=1100.0, retention=100.0)
            >>> tombstones
            [('s1', None)]
            >>> book.apply(b"s1", None)
            >>> [s["id"] for s in book.silences([], now=1100.0)]
            ['s2']
        """
        return sorted((s.id, None) for s in self.store.all() if s.ends_at + retention <= now)

    def _scratch(self, silence_id: str) -> Silences:
        """A store holding only the silence a change concerns, so preparing changes nothing.

        Raises:
            SilenceNotFoundError: ``silence_id`` is given and names no silence.
        """
        scratch = Silences(new_id=self._new_id)
        if silence_id:
            scratch.apply(silence_id, self.store.get(silence_id))
        return scratch
