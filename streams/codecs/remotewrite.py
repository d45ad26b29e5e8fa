"""Prometheus remote write 1.0: decode request bodies into points.

A body is a ``prometheus.WriteRequest`` (``prompb/remote.proto``, ``prompb/types.proto``)
serialised as protobuf and compressed with snappy's *block* format (not the framed one)::

    WriteRequest   { repeated TimeSeries timeseries = 1; repeated MetricMetadata metadata = 3; }
    TimeSeries     { repeated Label labels = 1; repeated Sample samples = 2;
                     repeated Exemplar exemplars = 3; repeated Histogram histograms = 4; }
    Label          { string name = 1; string value = 2; }
    Sample         { double value = 1; int64 timestamp = 2; }
    MetricMetadata { MetricType type = 1; string metric_family_name = 2; string help = 4; ... }

Mapping: the sample ``name{l1="a",...} v @t`` becomes
``Point(measurement=name, tags={labels sorted by name}, fields={"value": float(v)}, ts_ms=t)``.
A label with an empty value is absent (Prometheus semantics; InfluxDB has no empty tags).
Points of one series each get their own tags dict.

What is not stored, and counted in :attr:`RemoteWrite.dropped` for the caller to expose:
``stale`` (Prometheus staleness markers, the NaN with bits ``0x7ff0000000000002``), ``nan``
(any other NaN) and ``inf`` (either infinity), which InfluxDB cannot store, and
``histograms`` (native histogram samples). Exemplars are skipped.

Metric types come from the request's metadata, as ``family name -> type`` with the type one
of ``unknown counter gauge histogram gaugehistogram summary info stateset``. Each derived
series name maps to its family's type too: ``_total``/``_created`` of a counter, ``_bucket``
``_sum`` ``_count`` ``_created`` of a histogram or summary, ``_bucket`` ``_gsum`` ``_gcount``
of a gauge histogram, ``_info`` of an info. Prometheus sends metadata in requests of their own,
so callers keep the types they learn. ``max_labels`` counts ``__name__``; 0 means no limit.

The protobuf is read by a small hand-written decoder rather than the protobuf runtime: reading
the messages is cheap in upb, but building Python objects for every label is not. It decodes
each distinct label once per request, and a :class:`SeriesCache` passed in by the caller
remembers whole label sets, so a series seen before costs one dictionary lookup. Measured
here on 10,000 series of 8 labels and one sample each (what Prometheus sends): about 1.0 µs
per sample with a warm cache, 3.8 µs without one, against 5.1 µs for upb plus the same
mapping; series of 10 samples cost 1.2 µs per sample either way. Snappy is ``cramjam``'s.

Example:
    >>> body = encode_write_request([({"__name__": "up", "job": "node"}, [(1.0, 1000)])],
    ...                             {"up": "gauge"})
    >>> decode_write_request(body, max_labels=30, max_series=10_000).points
    [Point(measurement='up', tags={'job': 'node'}, fields={'value': 1.0}, ts_ms=1000)]
"""

from __future__ import annotations

import struct
from collections.abc import Iterable, Mapping, Sequence
from typing import NamedTuple

import cramjam

from streams.errors import PulselineError
from streams.records import Point

STALE_NAN_BITS = 0x7FF0000000000002
"""The bit pattern of Prometheus' staleness marker."""
STALE_NAN: float = struct.unpack("<d", STALE_NAN_BITS.to_bytes(8, "little"))[0]
METRIC_TYPES = ("unknown", "counter", "gauge", "histogram", "gaugehistogram", "summary", "info",
                "stateset")  # fmt: skip
"""``MetricMetadata.MetricType`` names, indexed by enum value."""
_SUFFIXES = {
    "counter": ("_total", "_created"),
    "histogram": ("_bucket", "_sum", "_count", "_created"),
    "summary": ("_sum", "_count", "_created"),
    "gaugehistogram": ("_bucket", "_gsum", "_gcount"),
    "info": ("_info",),
}
_TYPE_ID = {name: i for i, name in enumerate(METRIC_TYPES)}
_U64 = (1 << 64) - 1
_double = struct.Struct("<d")
_u64 = struct.Struct("<Q")
_SNAPPY_FRAMED = b"\xff\x06\x00\x00sNaPpY"


class RemoteWriteError(PulselineError):
    """A remote write body was refused; nothing of it was accepted."""


class BadSnappyError(RemoteWriteError):
    """The body is not snappy block-compressed."""


class BadProtobufError(RemoteWriteError):
    """The decompressed body is not a well-formed ``WriteRequest``."""


class TooManySeriesError(RemoteWriteError):
    """The request holds more series than ``max_series``."""


class TooManyLabelsError(RemoteWriteError):
    """A series has more labels than ``max_labels``."""


class MissingNameError(RemoteWriteError):
    """A series has no (or an empty) ``__name__`` label."""


class DuplicateLabelError(RemoteWriteError):
    """A series names the same label twice."""


class RemoteWrite(NamedTuple):
    """A decoded request.

    Attributes:
        points: one point per stored sample, in request order.
        types: measurement -> metric type, from the request's metadata.
        dropped: samples not stored, by reason: ``stale``, ``nan``, ``inf``, ``histograms``.
    """

    points: list[Point]
    types: dict[str, str]
    dropped: dict[str, int]


class SeriesCache:
    """The label sets of series seen before, so that a repeated series decodes fast.

    Senders repeat the same series every interval; keep one cache per process and pass it to
    every call. Each table is emptied when a request leaves it above ``max_entries``. A series
    of 8 labels takes about 600 bytes, so the default bound is some 60 MB.

    Example:
        >>> cache = SeriesCache()
        >>> body = encode_write_request([({"__name__": "up"}, [(1.0, 5)])])
        >>> for _ in range(2):
        ...     result = decode_write_request(body, max_labels=0, max_series=0, cache=cache)
        >>> len(cache)
        1
    """

    def __init__(self, max_entries: int = 100_000) -> None:
        self.max_entries = max_entries
        self.series: dict[bytes, tuple[str, dict[str, str], int]] = {}
        self.labels: dict[bytes, tuple[str, str] | tuple[()]] = {}

    def __len__(self) -> int:
        return len(self.series)


def decode_write_request(
    body: bytes, *, max_labels: int, max_series: int, cache: SeriesCache | None = None
) -> RemoteWrite:
    """Decompress and decode one remote write request body.

    Args:
        body: the HTTP request body.
        max_labels: most labels a series may have, ``__name__`` included; 0 for no limit.
        max_series: most series a request may hold; 0 for no limit.
        cache: the process's :class:`SeriesCache`; without one, nothing is reused.

    Raises:
        RemoteWriteError: one of its subclasses, saying which series is at fault.
    """
    try:
        buf = bytes(cramjam.snappy.decompress_raw(body))
    except cramjam.DecompressionError as exc:
        hint = " (this is the framed format)" if body.startswith(_SNAPPY_FRAMED) else ""
        raise BadSnappyError(f"body is not snappy block-compressed{hint}: {exc}") from None
    reuse = cache is not None
    cache = cache if cache is not None else SeriesCache()
    try:
        return _decode(buf, max_labels, max_series, cache, reuse)
    except (IndexError, struct.error):
        raise BadProtobufError("malformed protobuf: message truncated") from None
    except UnicodeDecodeError as exc:
        raise BadProtobufError(f"malformed protobuf: string is not UTF-8: {exc}") from None
    finally:
        for table in (cache.series, cache.labels):
            if len(table) > cache.max_entries:
                table.clear()


def _decode(
    buf: bytes, max_labels: int, max_series: int, cache: SeriesCache, reuse: bool
) -> RemoteWrite:
    points: list[Point] = []
    metadata: list[tuple[str, str]] = []
    dropped = {"stale": 0, "nan": 0, "inf": 0, "histograms": 0}
    runs, ts_cache = cache.series, _Timestamps()
    unpack, new_point = _double.unpack_from, tuple.__new__
    end, pos, index, k = len(buf), 0, 0, 6  # k: bytes of the last sample's timestamp varint
    series_limit = max_series or -1
    while pos < end:
        key = buf[pos]
        pos += 1
        if key > 0x7F:
            key, pos = _varint(buf, pos - 1, end)
        if key & 7 != 2:
            pos = _skip(buf, pos, key & 7, end)
            continue
        size = buf[pos]
        pos += 1
        if size > 0x7F:
            if buf[pos] < 0x80:
                size = size & 0x7F | buf[pos] << 7
                pos += 1
            else:
                size, pos = _varint(buf, pos - 1, end)
        stop = pos + size
        if stop > end:
            _fail(pos, f"field {key >> 3} of {size} bytes runs past the end of the request")
        if key == 0x0A:
            if index == series_limit:
                total = index + 1 + sum(f == 1 for f, w, _, _ in _fields(buf, stop, end) if w == 2)
                raise TooManySeriesError(f"request has {total} series, more than {max_series}")
            # Fast path: the series is a known label run then one sample, read from its end.
            at, value = stop - k, 0.0
            hit: tuple[str, dict[str, str], int] | None = None
            if reuse and buf[at - 1] == 0x10:
                if at - 12 > pos and buf[at - 12] == 0x12 and buf[at - 11] == k + 10:
                    if buf[at - 10] == 0x09:
                        hit, value = runs.get(buf[pos : at - 12]), unpack(buf, at - 9)[0]
                elif at - 3 > pos and buf[at - 3] == 0x12 and buf[at - 2] == k + 1:
                    hit = runs.get(buf[pos : at - 3])
            if hit is not None and (ts := ts_cache[buf[at:stop]]) is not None:
                name, tags, count = hit
                if max_labels and count > max_labels:
                    _too_many_labels(index, name, count, max_labels)
                if value - value == 0.0:  # not NaN nor an infinity
                    points.append(new_point(Point, (name, tags.copy(), {"value": value}, ts)))
                else:
                    dropped[drop_reason(value)] += 1
            else:
                labels, values, histograms, run_end, seen_k = _series(
                    buf, pos, stop, index, cache, ts_cache
                )
                k = seen_k or k
                dropped["histograms"] += histograms
                name, tags = _name_and_tags(labels, index, max_labels)
                if run_end and reuse:
                    runs[buf[pos:run_end]] = (name, tags, len(labels))
                for value, ts in values:
                    if value - value == 0.0:
                        points.append(new_point(Point, (name, tags.copy(), {"value": value}, ts)))
                    else:
                        dropped[drop_reason(value)] += 1
            index += 1
        elif key == 0x1A:
            metadata.append(_metadata(buf, pos, stop))
        pos = stop
    return RemoteWrite(points, _types(metadata), dropped)


class _Timestamps(dict[bytes, int | None]):
    """Timestamp varint bytes -> value, or None when the bytes are not exactly one varint."""

    def __missing__(self, raw: bytes) -> int | None:
        if raw[-1] > 0x7F or min(raw[:-1], default=0x80) < 0x80:
            ts = None
        else:
            ts = _varint(raw, 0, len(raw))[0]
            ts = ts - (1 << 64) if ts >= 1 << 63 else ts
        self[raw] = ts
        return ts


def _series(
    buf: bytes, pos: int, stop: int, index: int, cache: SeriesCache, ts_cache: _Timestamps
) -> tuple[list[tuple[str, str]], list[tuple[float, int]], int, int, int]:
    """Decode one series the slow way.

    Returns:
        labels, samples, native histograms, where the label run ends if the series is a label
        run then one sample (else 0), and the length of the last sample's timestamp varint.
    """
    labels: list[tuple[str, str]] = []
    values: list[tuple[float, int]] = []
    label_cache = cache.labels
    histograms = others = sample_at = sample_end = k = 0
    while pos < stop:
        key, field_at = buf[pos], pos
        if key & 7 != 2 or key > 0x7F:
            key, pos = _varint(buf, pos, stop)
            pos = _skip(buf, pos, key & 7, stop)
            others += 2
            continue
        size = buf[pos + 1]
        pos += 2
        if size > 0x7F:
            size, pos = _varint(buf, pos - 1, stop)
        field_end = pos + size
        if field_end > stop:
            _fail(pos, f"field {key >> 3} of series {index} runs past its end")
        if key == 0x0A:
            raw = buf[pos:field_end]
            pair = label_cache.get(raw)
            if pair is None:
                pair = label_cache[raw] = _label(buf, pos, field_end, index)
            if pair:
                labels.append(pair)
        elif key == 0x12:
            others += 1
            sample_at, sample_end = field_at, field_end
            ts = None
            if 10 < size <= 20 and buf[pos] == 0x09 and buf[pos + 9] == 0x10:
                ts = ts_cache[buf[pos + 10 : field_end]]
                k = size - 10
            if ts is None:
                values.append(_sample(buf, pos, field_end))
                k = size - 1 if 1 < size <= 11 and buf[pos] == 0x10 else k
            else:
                values.append((_double.unpack_from(buf, pos + 1)[0], ts))
        else:
            others += 1
            histograms += key == 0x22
        pos = field_end
    run_end = sample_at if others == 1 and sample_end == stop else 0
    return labels, values, histograms, run_end, k


def _name_and_tags(
    labels: list[tuple[str, str]], index: int, max_labels: int
) -> tuple[str, dict[str, str]]:
    tags = dict(sorted(labels))
    if len(tags) != len(labels):
        _duplicate_label(labels, index)
    name = tags.pop("__name__", None)
    if name is None:
        raise MissingNameError(f"series {index} has no __name__ label (labels: {tags!r:.200})")
    if max_labels and len(labels) > max_labels:
        _too_many_labels(index, name, len(labels), max_labels)
    return name, tags


def _too_many_labels(index: int, name: str, count: int, limit: int) -> None:
    raise TooManyLabelsError(f"series {index} ({name!r}) has {count} labels, more than {limit}")


def drop_reason(value: float) -> str:
    """Why a non-finite value is not stored: ``stale`` (staleness marker), ``nan`` or ``inf``."""
    if value == value:
        return "inf"
    return "stale" if _u64.unpack(_double.pack(value))[0] == STALE_NAN_BITS else "nan"


def _fail(pos: int, reason: str) -> None:
    raise BadProtobufError(f"malformed protobuf at byte {pos}: {reason}")


def _varint(buf: bytes, pos: int, end: int) -> tuple[int, int]:
    """Read the varint at ``pos``; return it (as unsigned 64-bit) and the position after it."""
    result = shift = 0
    while True:
        if pos >= end or shift > 63:
            _fail(pos, "truncated or overlong varint")
        byte = buf[pos]
        pos += 1
        result |= (byte & 0x7F) << shift
        if byte < 0x80:
            return result & _U64, pos
        shift += 7


def _skip(buf: bytes, pos: int, wire_type: int, end: int) -> int:
    """Skip a field whose key was read; return the position after its value."""
    if wire_type == 0:
        return _varint(buf, pos, end)[1]
    if wire_type in (1, 5):
        pos += 8 if wire_type == 1 else 4
    elif wire_type == 2:
        size, pos = _varint(buf, pos, end)
        pos += size
    else:
        _fail(pos, f"unsupported wire type {wire_type}")
    if pos > end:
        _fail(end, "field runs past the end of its message")
    return pos


def _fields(buf: bytes, pos: int, end: int) -> Iterable[tuple[int, int, int, int]]:
    """Yield ``(field, wire_type, start, stop)``; a varint field's value is ``start``."""
    while pos < end:
        key, pos = _varint(buf, pos, end)
        if key & 7 == 0:
            value, pos = _varint(buf, pos, end)
            yield key >> 3, 0, value, pos
        elif key & 7 == 2:
            size, start = _varint(buf, pos, end)
            pos = start + size
            if pos > end:
                _fail(start, f"field {key >> 3} of {size} bytes runs past the end of its message")
            yield key >> 3, 2, start, pos
        else:
            start, pos = pos, _skip(buf, pos, key & 7, end)
            yield key >> 3, key & 7, start, pos


def _label(buf: bytes, pos: int, end: int, index: int) -> tuple[str, str] | tuple[()]:
    name = value = ""
    for field, wire_type, start, stop in _fields(buf, pos, end):
        if wire_type == 2 and field in (1, 2):
            text = buf[start:stop].decode()
            name, value = (text, value) if field == 1 else (name, text)
    if not name:
        raise BadProtobufError(f"series {index} has a label with an empty name (value {value!r})")
    return (name, value) if value else ()


def _sample(buf: bytes, pos: int, end: int) -> tuple[float, int]:
    value, ts = 0.0, 0
    for field, wire_type, start, _ in _fields(buf, pos, end):
        if field == 1 and wire_type == 1:
            value = _double.unpack_from(buf, start)[0]
        elif field == 2 and wire_type == 0:
            ts = start - (1 << 64) if start >= 1 << 63 else start
    return value, ts


def _metadata(buf: bytes, pos: int, end: int) -> tuple[str, str]:
    kind, family = 0, ""
    for field, wire_type, start, stop in _fields(buf, pos, end):
        if field == 1 and wire_type == 0:
            kind = start
        elif field == 2 and wire_type == 2:
            family = buf[start:stop].decode()
    return family, METRIC_TYPES[kind] if kind < len(METRIC_TYPES) else "unknown"


def _duplicate_label(labels: list[tuple[str, str]], index: int) -> None:
    names = [name for name, _ in labels]
    twice = next(name for name in names if names.count(name) > 1)
    metric = dict(labels).get("__name__", "")
    raise DuplicateLabelError(f"series {index} ({metric!r}) has label {twice!r} twice")


def _types(metadata: list[tuple[str, str]]) -> dict[str, str]:
    types = {
        family + suffix: kind for family, kind in metadata for suffix in _SUFFIXES.get(kind, ())
    }
    types.update(metadata)  # a family's own name wins over another's derived one
    types.pop("", None)
    return types


Series = tuple[Mapping[str, str] | Sequence[tuple[str, str]], Sequence[tuple[float, int]]]
"""Labels (a mapping, or pairs in wire order) and ``(value, ts_ms)`` samples of one series."""


def encode_write_request(
    series: Iterable[Series], metadata: Mapping[str, str] | None = None, *, compress: bool = True
) -> bytes:
    """Build a remote write body as Prometheus sends it, for tests and benchmarks.

    Labels are written in the order given (a mapping's sorted by name). Fields holding their
    default value (+0.0, 0, "") are left out, as the protobuf runtimes do.

    Example:
        >>> body = encode_write_request([({"__name__": "x_count"}, [(3.0, 7)])], {"x": "summary"})
        >>> decode_write_request(body, max_labels=0, max_series=0).types
        {'x_sum': 'summary', 'x_count': 'summary', 'x_created': 'summary', 'x': 'summary'}
    """
    out = bytearray()
    for labels, samples in series:
        pairs = sorted(labels.items()) if isinstance(labels, Mapping) else labels
        msg = b"".join(_len(1, _str(0x0A, name) + _str(0x12, value)) for name, value in pairs)
        for value, ts in samples:
            msg += _len(2, _opt(0x09, _double.pack(value)) + _opt(0x10, _uvarint(ts & _U64)))
        out += _len(1, msg)
    for family, kind in (metadata or {}).items():
        out += _len(3, _opt(0x08, _uvarint(_TYPE_ID[kind])) + _str(0x12, family))
    return bytes(cramjam.snappy.compress_raw(bytes(out))) if compress else bytes(out)


def _uvarint(n: int) -> bytes:
    out = bytearray()
    while n > 0x7F:
        out.append(n & 0x7F | 0x80)
        n >>= 7
    out.append(n)
    return bytes(out)


def _len(field: int, payload: bytes) -> bytes:
    return _uvarint(field << 3 | 2) + _uvarint(len(payload)) + payload


def _opt(key: int, payload: bytes) -> bytes:
    return bytes([key]) + payload if payload.strip(b"\0") else b""


def _str(key: int, text: str) -> bytes:
    raw = text.encode()
    return _opt(key, _uvarint(len(raw)) + raw)
