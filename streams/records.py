"""Points and the batch record that carries them through Kafka.

A :class:`Point` is one InfluxDB point: a measurement, its tags, one or more typed fields
and a timestamp in milliseconds. Each numeric field of a point is one *sample* of the series
``measurement + tags + field``.

One Kafka record carries a batch of points (one push request split by key, or one scrape).
The value is JSON (orjson), version 1::

    {"v": 1, "points": [[measurement, {tag: value, ...}, {field: value, ...}, ts_ms], ...]}

Tags are written in key order. Field values keep their line-protocol type: JSON floats
are floats, JSON integers are signed 64-bit integers, ``true``/``false`` are booleans,
strings are strings, and an unsigned integer is ``{"u": n}``; a batch that holds any
unsigned integer says so with ``"u": true`` so decoding can skip the scan otherwise.

A batch from a scrape or a remote write also carries the metric type of its measurements,
``"types": {"http_requests_total": "counter", ...}`` (``counter``, ``gauge``, ``histogram``,
``summary``, ``unknown`` and the other OpenMetrics types), so later stages treat counters
right; line-protocol batches have none.

Example:
    >>> p = Point("cpu", {"host": "a"}, {"usage": 0.5}, 1_700_000_000_000)
    >>> decode_batch(encode_batch([p])) == [p]
    True
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, NamedTuple

import orjson

from streams.errors import RecordDecodeError

RECORD_VERSION = 1


class UInt(int):
    """An unsigned integer field value (line protocol suffix ``u``)."""

    __slots__ = ()


FieldValue = float | int | bool | str
"""A field value: float, signed int, :class:`UInt`, bool or str."""


class Point(NamedTuple):
    """One InfluxDB point.

    Attributes:
        measurement: the measurement name.
        tags: tag key to value, in key order.
        fields: field key to typed value; at least one.
        ts_ms: the timestamp in milliseconds since the epoch.
    """

    measurement: str
    tags: dict[str, str]
    fields: dict[str, FieldValue]
    ts_ms: int


def _encode_uint(flag: list[bool]) -> Any:
    def default(obj: object) -> object:
        if type(obj) is Point:
            return tuple(obj)
        if isinstance(obj, UInt):
            flag.append(True)
            return {"u": int(obj)}
        raise TypeError(f"cannot encode {type(obj).__name__} in a batch record")

    return default


class Batch(NamedTuple):
    """A decoded record: its points and the metric type of its measurements (if known)."""

    points: list[Point]
    types: dict[str, str]


def encode_batch(points: Sequence[Point], types: Mapping[str, str] | None = None) -> bytes:
    """Encode points (and the metric types of their measurements) as one record value."""
    seen_uint: list[bool] = []
    body = orjson.dumps(
        points, default=_encode_uint(seen_uint), option=orjson.OPT_PASSTHROUGH_SUBCLASS
    )
    head = b'{"v":1,"u":true,' if seen_uint else b'{"v":1,'
    if types:
        head += b'"types":' + orjson.dumps(dict(types)) + b","
    return head + b'"points":' + body + b"}"


def decode_batch(value: bytes) -> list[Point]:
    """Decode a batch record value into points (see :func:`decode_record`)."""
    return decode_record(value).points


def decode_record(value: bytes) -> Batch:
    """Decode a batch record value.

    Raises:
        RecordDecodeError: the value is not JSON or not a version-1 batch.
    """
    try:
        doc = orjson.loads(value)
    except orjson.JSONDecodeError as exc:
        raise RecordDecodeError(f"value is not JSON: {exc}") from None
    if not isinstance(doc, dict) or doc.get("v") != RECORD_VERSION:
        raise RecordDecodeError("value is not a version-1 batch (missing or unknown 'v')")
    raw = doc.get("points")
    if not isinstance(raw, list):
        raise RecordDecodeError("batch has no 'points' list")
    try:
        points = [Point(m, t, f, ts) for m, t, f, ts in raw]
    except (TypeError, ValueError):
        raise RecordDecodeError("a point is not [measurement, tags, fields, ts_ms]") from None
    for point in points:
        if (
            type(point.measurement) is not str
            or type(point.tags) is not dict
            or type(point.fields) is not dict
            or not point.fields
            or type(point.ts_ms) is not int
        ):
            raise RecordDecodeError(f"malformed point {list(point)!r:.200}")
    if doc.get("u"):
        for point in points:
            raw_fields: dict[str, Any] = point.fields
            for key, val in raw_fields.items():
                if type(val) is dict:
                    raw_fields[key] = UInt(val["u"])
    types = doc.get("types") or {}
    if type(types) is not dict:
        raise RecordDecodeError("batch 'types' is not an object")
    return Batch(points, types)
