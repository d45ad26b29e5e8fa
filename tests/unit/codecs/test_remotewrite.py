from __future__ import annotations

import contextlib
import doctest
import math
import struct
from typing import Any

import cramjam
import pytest
from google.protobuf import descriptor_pb2, descriptor_pool, message_factory
from hypothesis import given, settings
from hypothesis import strategies as st

from streams.codecs import remotewrite
from streams.codecs.remotewrite import (
    STALE_NAN,
    BadProtobufError,
    BadSnappyError,
    DuplicateLabelError,
    MissingNameError,
    RemoteWriteError,
    SeriesCache,
    TooManyLabelsError,
    TooManySeriesError,
    decode_write_request,
    encode_write_request,
)
from streams.errors import PulselineError
from streams.records import Point

T0 = 1_700_000_000_000


def _prompb() -> dict[str, Any]:
    """The prompb v1 messages (types.proto, remote.proto), built without protoc."""
    F = descriptor_pb2.FieldDescriptorProto
    fd = descriptor_pb2.FileDescriptorProto(name="prompb_test.proto", package="prometheus")
    fd.syntax = "proto3"
    rep, opt = F.LABEL_REPEATED, F.LABEL_OPTIONAL

    def message(name: str, *fields: tuple[str, int, int, int, str]) -> Any:
        msg = fd.message_type.add(name=name)
        for fname, number, ftype, label, type_name in fields:
            field = msg.field.add(name=fname, number=number, type=ftype, label=label)
            if type_name:
                field.type_name = ".prometheus." + type_name
        return msg

    message("Label", ("name", 1, F.TYPE_STRING, opt, ""), ("value", 2, F.TYPE_STRING, opt, ""))
    message("Sample", ("value", 1, F.TYPE_DOUBLE, opt, ""), ("timestamp", 2, F.TYPE_INT64, opt, ""))
    message(
        "Exemplar",
        ("labels", 1, F.TYPE_MESSAGE, rep, "Label"),
        ("value", 2, F.TYPE_DOUBLE, opt, ""),
        ("timestamp", 3, F.TYPE_INT64, opt, ""),
    )
    message(
        "Histogram",
        ("count_int", 1, F.TYPE_UINT64, opt, ""),
        ("sum", 3, F.TYPE_DOUBLE, opt, ""),
        ("schema", 4, F.TYPE_SINT32, opt, ""),
        ("positive_deltas", 12, F.TYPE_SINT64, rep, ""),
        ("timestamp", 15, F.TYPE_INT64, opt, ""),
    )
    message(
        "TimeSeries",
        ("labels", 1, F.TYPE_MESSAGE, rep, "Label"),
        ("samples", 2, F.TYPE_MESSAGE, rep, "Sample"),
        ("exemplars", 3, F.TYPE_MESSAGE, rep, "Exemplar"),
        ("histograms", 4, F.TYPE_MESSAGE, rep, "Histogram"),
    )
    meta = message(
        "MetricMetadata",
        ("type", 1, F.TYPE_ENUM, opt, "MetricMetadata.MetricType"),
        ("metric_family_name", 2, F.TYPE_STRING, opt, ""),
        ("help", 4, F.TYPE_STRING, opt, ""),
        ("unit", 5, F.TYPE_STRING, opt, ""),
    )
    enum = meta.enum_type.add(name="MetricType")
    for number, name in enumerate(remotewrite.METRIC_TYPES):
        enum.value.add(name=name.upper(), number=number)
    message(
        "WriteRequest",
        ("timeseries", 1, F.TYPE_MESSAGE, rep, "TimeSeries"),
        ("metadata", 3, F.TYPE_MESSAGE, rep, "MetricMetadata"),
    )
    pool = descriptor_pool.DescriptorPool()
    pool.Add(fd)
    return {
        name: message_factory.GetMessageClass(pool.FindMessageTypeByName("prometheus." + name))
        for name in ("WriteRequest", "TimeSeries", "MetricMetadata")
    }


PB = _prompb()


def runtime_body(series: list[dict[str, Any]], metadata: list[dict[str, Any]] = ()) -> bytes:  # type: ignore[assignment]
    """A body encoded by the protobuf runtime (the oracle)."""
    req = PB["WriteRequest"](timeseries=series, metadata=metadata)
    return bytes(cramjam.snappy.compress_raw(req.SerializeToString()))


def decode(body: bytes, **kw: Any) -> remotewrite.RemoteWrite:
    kw.setdefault("max_labels", 0)
    kw.setdefault("max_series", 0)
    return decode_write_request(body, **kw)


def series(name: str, samples: list[tuple[float, int]], **labels: str) -> Any:
    return ({"__name__": name, **labels}, samples)


def test_doctests() -> None:
    assert doctest.testmod(remotewrite).failed == 0


def test_round_trip_maps_samples_to_points_with_sorted_tags() -> None:
    body = encode_write_request(
        [
            ([("zone", "b"), ("__name__", "cpu"), ("host", "a")], [(0.5, T0), (1.5, T0 + 15_000)]),
            series("mem", [(2.0, T0)], host="a", empty=""),
        ]
    )
    result = decode(body)
    assert result.points == [
        Point("cpu", {"host": "a", "zone": "b"}, {"value": 0.5}, T0),
        Point("cpu", {"host": "a", "zone": "b"}, {"value": 1.5}, T0 + 15_000),
        Point("mem", {"host": "a"}, {"value": 2.0}, T0),  # an empty label is no label
    ]
    assert list(result.points[0].tags) == ["host", "zone"]
    assert result.points[0].tags is not result.points[1].tags
    assert result.types == {}
    assert result.dropped == {"stale": 0, "nan": 0, "inf": 0, "histograms": 0}


def test_empty_request() -> None:
    assert decode(encode_write_request([])) == (
        [],
        {},
        {"stale": 0, "nan": 0, "inf": 0, "histograms": 0},
    )


def test_reads_what_the_protobuf_runtime_writes() -> None:
    body = runtime_body(
        [
            {
                "labels": [{"name": "job", "value": "n"}, {"name": "__name__", "value": "a"}],
                "samples": [{"value": 0.0, "timestamp": 0}, {"value": -2.5, "timestamp": -1}],
                "exemplars": [{"labels": [{"name": "trace", "value": "x"}], "value": 1.0}],
            },
            {
                "labels": [{"name": "__name__", "value": "ünïcode"}, {"name": "l", "value": "€"}],
                "samples": [{"value": 1e300, "timestamp": 2**62}],
            },
            {
                "labels": [{"name": "__name__", "value": "h"}],
                "histograms": [
                    {"count_int": 3, "sum": 1.5, "schema": -1, "positive_deltas": [1, -1]}
                ],
            },
        ],
        [{"type": 1, "metric_family_name": "a"}],
    )
    result = decode(body)
    assert result.points == [
        Point("a", {"job": "n"}, {"value": 0.0}, 0),
        Point("a", {"job": "n"}, {"value": -2.5}, -1),
        Point("ünïcode", {"l": "€"}, {"value": 1e300}, 2**62),
    ]
    assert result.dropped["histograms"] == 1
    assert result.types["a"] == "counter"


def test_what_encode_writes_the_protobuf_runtime_reads() -> None:
    body = encode_write_request(
        [series("x", [(0.0, 0), (-0.0, -5), (1.25, T0)], a="1")], {"x": "histogram", "y": "unknown"}
    )
    req = PB["WriteRequest"].FromString(bytes(cramjam.snappy.decompress_raw(body)))
    (ts,) = req.timeseries
    assert [(lb.name, lb.value) for lb in ts.labels] == [("__name__", "x"), ("a", "1")]
    assert [(s.value, s.timestamp) for s in ts.samples] == [(0.0, 0), (-0.0, -5), (1.25, T0)]
    assert math.copysign(1, ts.samples[1].value) == -1
    assert [(m.type, m.metric_family_name) for m in req.metadata] == [(3, "x"), (0, "y")]


label_text = st.text(
    st.characters(codec="utf-8", exclude_categories=["Cs"]), min_size=1, max_size=8
)
finite = st.floats(allow_nan=False, allow_infinity=False)
int64 = st.integers(-(2**63), 2**63 - 1)


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.tuples(
            label_text,
            st.dictionaries(label_text.filter(lambda s: s != "__name__"), label_text, max_size=5),
            st.lists(st.tuples(finite, int64), max_size=3),
        ),
        max_size=6,
    ),
    st.booleans(),
)
def test_matches_the_protobuf_runtime(data: list[Any], reuse: bool) -> None:
    body = runtime_body(
        [
            {
                "labels": [{"name": k, "value": v} for k, v in {"__name__": n, **tags}.items()],
                "samples": [{"value": v, "timestamp": t} for v, t in samples],
            }
            for n, tags, samples in data
        ]
    )
    expected = [
        Point(n, dict(sorted(tags.items())), {"value": v}, t)
        for n, tags, samples in data
        for v, t in samples
    ]
    cache = SeriesCache() if reuse else None
    for _ in range(2):  # the second time through the cache's fast path
        assert decode(body, cache=cache).points == expected


def test_metadata_types_cover_derived_series_names() -> None:
    meta = {"req": "counter", "lat": "histogram", "q": "summary", "g": "gaugehistogram",
            "b": "info", "s": "stateset", "u": "unknown", "lat_count": "gauge"}  # fmt: skip
    types = decode(encode_write_request([], meta)).types
    assert types == {
        "req": "counter", "req_total": "counter", "req_created": "counter",
        "lat": "histogram", "lat_bucket": "histogram", "lat_sum": "histogram",
        "lat_count": "gauge",  # a family's own name wins over another family's derived one
        "lat_created": "histogram",
        "q": "summary", "q_sum": "summary", "q_count": "summary", "q_created": "summary",
        "g": "gaugehistogram", "g_bucket": "gaugehistogram", "g_gsum": "gaugehistogram",
        "g_gcount": "gaugehistogram",
        "b": "info", "b_info": "info", "s": "stateset", "u": "unknown",
    }  # fmt: skip


def test_unknown_metadata_type_number_is_unknown() -> None:
    body = runtime_body([], [{"type": 0, "metric_family_name": "a"}])
    raw = bytearray(cramjam.snappy.decompress_raw(body))
    assert raw[:3] == b"\x1a\x03\x12"  # type 0 is left out: add type 42
    raw[1] += 2
    raw[2:2] = b"\x08\x2a"
    assert decode(bytes(cramjam.snappy.compress_raw(bytes(raw)))).types == {"a": "unknown"}


@pytest.mark.parametrize("reuse", [False, True])
def test_non_finite_values_are_dropped_and_counted(reuse: bool) -> None:
    other_nan = struct.unpack("<d", struct.pack("<Q", 0x7FF8000000000001))[0]
    body = encode_write_request(
        [
            series("a", [(STALE_NAN, T0)]),
            series("b", [(math.nan, T0), (other_nan, T0 + 1), (1.0, T0 + 2)]),
            series("c", [(math.inf, T0), (-math.inf, T0 + 1), (STALE_NAN, T0 + 2)]),
        ]
    )
    cache = SeriesCache() if reuse else None
    for _ in range(2):
        result = decode(body, cache=cache)
        assert result.points == [Point("b", {}, {"value": 1.0}, T0 + 2)]
        assert result.dropped == {"stale": 2, "nan": 2, "inf": 2, "histograms": 0}


def test_stale_nan_has_the_prometheus_bit_pattern() -> None:
    assert struct.pack("<d", STALE_NAN) == struct.pack("<Q", 0x7FF0000000000002)


def test_label_limit_counts_name_and_says_which_series() -> None:
    body = encode_write_request(
        [series("ok", [(1, T0)], a="1"), series("big", [(1, T0)], a="1", b="2")]
    )
    assert len(decode(body, max_labels=3).points) == 2
    with pytest.raises(TooManyLabelsError, match=r"^series 1 \('big'\) has 3 labels, more than 2$"):
        decode(body, max_labels=2)


def test_label_limit_applies_to_cached_series() -> None:
    cache = SeriesCache()
    body = encode_write_request([series("big", [(1, T0)], a="1", b="2")])
    decode(body, cache=cache)
    with pytest.raises(TooManyLabelsError, match=r"series 0 \('big'\) has 3 labels"):
        decode(body, max_labels=2, cache=cache)


def test_series_limit_reports_the_whole_count() -> None:
    body = encode_write_request([series(f"m{i}", [(1, T0)]) for i in range(7)], {"m0": "gauge"})
    assert len(decode(body, max_series=7).points) == 7
    with pytest.raises(TooManySeriesError, match=r"^request has 7 series, more than 5$"):
        decode(body, max_series=5)


def test_missing_or_empty_name() -> None:
    with pytest.raises(
        MissingNameError, match=r"^series 1 has no __name__ label \(labels: \{'job': 'x'\}\)$"
    ):
        decode(encode_write_request([series("a", [(1, 1)]), ({"job": "x"}, [(1, 1)])]))
    with pytest.raises(MissingNameError, match="series 0 has no __name__"):
        decode(encode_write_request([({"__name__": "", "a": "b"}, [(1, 1)])]))


def test_duplicate_label_names() -> None:
    body = encode_write_request([([("__name__", "m"), ("a", "1"), ("a", "2")], [(1, 1)])])
    with pytest.raises(DuplicateLabelError, match=r"^series 0 \('m'\) has label 'a' twice$"):
        decode(body)
    body = encode_write_request([([("__name__", "m"), ("__name__", "m")], [(1, 1)])])
    with pytest.raises(DuplicateLabelError, match="has label '__name__' twice"):
        decode(body)


def test_empty_label_name() -> None:
    body = encode_write_request([([("__name__", "m"), ("", "v")], [(1, 1)])])
    with pytest.raises(
        BadProtobufError, match=r"series 0 has a label with an empty name \(value 'v'\)"
    ):
        decode(body)


def test_bad_snappy() -> None:
    with pytest.raises(BadSnappyError, match=r"^body is not snappy block-compressed: snappy: "):
        decode(b"\xff\xff\xff\xff garbage")
    framed = bytes(cramjam.snappy.compress(b"\x0a\x00"))
    with pytest.raises(BadSnappyError, match=r"\(this is the framed format\)"):
        decode(framed)


def raw(payload: bytes) -> bytes:
    return bytes(cramjam.snappy.compress_raw(payload))


@pytest.mark.parametrize(
    ("payload", "message"),
    [
        (b"\x0a\x05\x0a\x03", "at byte 2: field 1 of 5 bytes runs past the end of the request"),
        (b"\x0a\x04\x0a\x09\x0a\x00", "at byte 4: field 1 of series 0 runs past its end"),
        (b"\x0a\x02\x0f\x00", "unsupported wire type 7"),
        (b"\x0a\x03\x0a\x01\x0a", "at byte 5: truncated or overlong varint"),
        (b"\x0a\x05\x0a\x03\x0a\x01\xff", "string is not UTF-8"),
        (b"\x0a", "message truncated"),
        (b"\x08" + b"\xff" * 11, "truncated or overlong varint"),
    ],
)
def test_bad_protobuf(payload: bytes, message: str) -> None:
    with pytest.raises(BadProtobufError, match=message) as info:
        decode(raw(payload))
    assert str(info.value).startswith("malformed protobuf")


def test_unknown_fields_are_skipped() -> None:
    one_series = (
        b"\x0a\x0d\x0a\x08__name__\x12\x01m"
        + b"\x35\x00\x00\x00\x00"  # fixed32 field 6
        + b"\xfa\x01\x03\x0a\x01x"  # field 31, 3 bytes
        + b"\x12\x02\x10\x05"
    )
    body = b"\x10\x01" + b"\x0a" + bytes([len(one_series)]) + one_series + b"\x15\x00\x00\x00\x00"
    assert decode(raw(body)).points == [Point("m", {}, {"value": 0.0}, 5)]


def test_errors_are_pulseline_errors() -> None:
    for cls in (BadSnappyError, BadProtobufError, TooManySeriesError, TooManyLabelsError,
                MissingNameError, DuplicateLabelError):  # fmt: skip
        assert issubclass(cls, RemoteWriteError)
    assert issubclass(RemoteWriteError, PulselineError)


def test_cache_fast_path_equals_slow_path_across_intervals() -> None:
    cache = SeriesCache()
    rows = [series(f"m{i % 3}", [], host=f"h{i}", i=str(i)) for i in range(50)]
    for step, ts in enumerate([T0, T0 + 15_000, 1, -1, 2**40, T0]):
        value = 0.0 if step % 2 else 1.5 * step  # 0.0 has no value field on the wire
        body = encode_write_request(
            [(labels, [(value + i, ts)]) for i, (labels, _) in enumerate(rows)]
        )
        warm, cold = decode(body, cache=cache), decode(body)
        assert warm == cold
        assert len(warm.points) == 50
    assert len(cache) == 50


def test_points_do_not_share_tags_with_the_cache() -> None:
    cache = SeriesCache()
    body = encode_write_request([series("m", [(1, 1)], a="1")])
    decode(body, cache=cache)
    first = decode(body, cache=cache).points[0]
    first.tags["mutated"] = "yes"
    assert decode(body, cache=cache).points[0].tags == {"a": "1"}


def test_cache_is_bounded() -> None:
    cache = SeriesCache(max_entries=10)
    decode(encode_write_request([series("m", [(1, 1)], i=str(i)) for i in range(8)]), cache=cache)
    assert len(cache) == 8
    decode(encode_write_request([series("n", [(1, 1)], i=str(i)) for i in range(8)]), cache=cache)
    assert len(cache) == 0
    assert len(cache.labels) <= 10


def test_cached_series_with_more_samples_or_extra_fields_take_the_slow_path() -> None:
    cache = SeriesCache()
    labels = {"__name__": "m", "a": "1"}
    decode(encode_write_request([(labels, [(1, 1)])]), cache=cache)
    two = decode(encode_write_request([(labels, [(1, 1), (2, 2)])]), cache=cache)
    assert [p.fields["value"] for p in two.points] == [1, 2]
    body = runtime_body(
        [
            {
                "labels": [{"name": k, "value": v} for k, v in labels.items()],
                "samples": [{"value": 3, "timestamp": 3}],
                "histograms": [{"count_int": 1}],
            }
        ]
    )
    result = decode(body, cache=cache)
    assert result.points == [Point("m", {"a": "1"}, {"value": 3.0}, 3)]
    assert result.dropped["histograms"] == 1


VALID = bytes(
    cramjam.snappy.decompress_raw(
        encode_write_request(
            [series("m", [(1.5, T0), (0.0, -1)], a="1"), series("n", [(2, 2)])], {"m": "counter"}
        )
    )
)


@settings(max_examples=300, deadline=None)
@given(
    st.one_of(
        st.binary(max_size=64),
        st.lists(
            st.tuples(st.integers(0, len(VALID) - 1), st.integers(0, 255)), min_size=1, max_size=4
        ),
    )
)
def test_garbage_raises_only_remote_write_errors(garbage: bytes | list[tuple[int, int]]) -> None:
    if isinstance(garbage, bytes):
        payload = garbage
    else:
        mutated = bytearray(VALID)
        for at, byte in garbage:
            mutated[at] = byte
        payload = bytes(mutated)
    cache = SeriesCache()
    for _ in range(2):
        with contextlib.suppress(RemoteWriteError):
            decode(raw(payload), max_labels=5, max_series=5, cache=cache)
