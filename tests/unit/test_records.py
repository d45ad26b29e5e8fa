import orjson
import pytest

from streams.errors import RecordDecodeError
from streams.records import Batch, Point, UInt, decode_batch, decode_record, encode_batch


def test_round_trip_keeps_every_field_type() -> None:
    points = [
        Point("cpu", {"cpu": "cpu0", "host": "a"}, {"f": 0.1, "i": -3, "b": True, "s": "x y"}, 1),
        Point("net", {}, {"u": UInt(2**64 - 1)}, 2),
    ]
    decoded = decode_batch(encode_batch(points))
    assert decoded == points
    assert type(decoded[1].fields["u"]) is UInt
    assert type(decoded[0].fields["i"]) is int
    assert type(decoded[0].fields["f"]) is float


def test_batch_without_uint_carries_no_flag() -> None:
    value = encode_batch([Point("m", {}, {"v": 1.0}, 0)])
    assert b'"u"' not in value


@pytest.mark.parametrize(
    "value",
    [
        b"not json",
        b"[]",
        b'{"v": 2, "points": []}',
        b'{"v": 1}',
        b'{"v": 1, "points": [["m", {}, {"v": 1.0}]]}',
        b'{"v": 1, "points": [["m", {}, {}, 1]]}',
        b'{"v": 1, "points": [["m", [], {"v": 1.0}, 1]]}',
        b'{"v": 1, "points": [["m", {}, {"v": 1.0}, 1.5]]}',
    ],
)
def test_bad_values_raise_decode_error(value: bytes) -> None:
    with pytest.raises(RecordDecodeError):
        decode_batch(value)


def test_wire_format_is_documented_json() -> None:
    value = encode_batch([Point("m", {"t": "1"}, {"v": 2.5}, 7)])
    assert orjson.loads(value) == {"v": 1, "points": [["m", {"t": "1"}, {"v": 2.5}, 7]]}


def test_metric_types_travel_with_the_batch() -> None:
    points = [Point("http_requests_total", {"job": "api"}, {"value": 7.0}, 1)]
    batch = decode_record(encode_batch(points, {"http_requests_total": "counter"}))
    assert batch == Batch(points, {"http_requests_total": "counter"})
    assert decode_record(encode_batch(points)).types == {}
