from __future__ import annotations

from streams.records import Point, UInt, decode_batch, decode_record, encode_batch
from streams.sinks.batch import BatchSink, RecordRef
from streams.sinks.raw import InRecord, RawSink
from streams.testing import CollectingWriter


def _record(offset: int, value: bytes | None) -> InRecord:
    return InRecord(RecordRef("metrics.raw", 1, offset), b"host-1", value)


async def test_points_are_rendered_and_written_in_one_request() -> None:
    writer = CollectingWriter()
    sink = RawSink(BatchSink(writer, batch_lines=100))
    points = [
        Point("cpu", {"host": "a b"}, {"user": 1.5, "n": 3, "u": UInt(4), "ok": True}, 1000),
        Point("log", {}, {"msg": 'say "hi"'}, 2000),
    ]
    dead = await sink.process(
        [_record(0, encode_batch(points[:1])), _record(1, encode_batch(points[1:]))]
    )
    assert dead == []
    assert writer.bodies == [
        'cpu,host=a\\ b user=1.5,n=3i,u=4u,ok=true 1000\nlog msg="say \\"hi\\"" 2000'
    ]
    assert (sink.stats.records, sink.stats.points, sink.stats.samples) == (2, 2, 5)


async def test_undecodable_records_are_dead_letters_and_the_rest_is_written() -> None:
    writer = CollectingWriter()
    sink = RawSink(BatchSink(writer, batch_lines=100))
    good = encode_batch([Point("m", {}, {"v": 1.0}, 5)])
    dead = await sink.process([_record(7, b"{garbage"), _record(8, good), _record(9, None)])
    assert [(d.ref.offset, d.reason.split(":")[0]) for d in dead] == [
        (7, "undecodable record"),
        (9, "undecodable record"),
    ]
    assert writer.bodies == ["m v=1.0 5"]
    assert sink.stats.undecodable == 2


async def test_a_refused_point_is_a_dead_letter_alone_and_its_record_is_written() -> None:
    # One record of 2,000 points of many hosts, one of which the database refuses.
    writer = CollectingWriter(refuse="host=bad")
    sink = RawSink(BatchSink(writer, batch_lines=5000))
    points = [Point("cpu", {"host": f"h{i}"}, {"v": float(i)}, 1000 + i) for i in range(2000)]
    points[1234] = Point("cpu", {"host": "bad"}, {"v": -1.0}, 5000)
    value = encode_batch(points, {"cpu": "gauge"})
    dead = await sink.process([_record(3, value), _record(4, encode_batch(points[:5]))])
    assert [(d.ref.offset, d.reason) for d in dead] == [(3, dead[0].reason)]
    assert "unable to parse" in dead[0].reason  # the database's answer
    assert dead[0].value is not None
    assert decode_record(dead[0].value) == (points[1234:1235], {"cpu": "gauge"})
    written = {line for body in writer.bodies for line in body.splitlines()}
    assert len(written) == 1999  # every point but the refused one (the 5 repeat 5 lines)
    assert "cpu,host=bad v=-1.0 5000" not in written
    assert sink.stats.dead_points == 1


async def test_a_point_line_protocol_cannot_carry_is_a_dead_letter_alone() -> None:
    writer = CollectingWriter()
    sink = RawSink(BatchSink(writer, batch_lines=100))
    points = [
        Point("cpu", {"host": "a"}, {"v": 1.0}, 1000),
        Point("cpu", {"host": "line\nbreak"}, {"v": 2.0}, 2000),
        Point("cpu", {"host": "b"}, {"v": 3.0}, 3000),
    ]
    dead = await sink.process([_record(0, encode_batch(points))])
    assert writer.bodies == ["cpu,host=a v=1.0 1000\ncpu,host=b v=3.0 3000"]
    assert [d.reason.split(":")[0] for d in dead] == ["unwritable point"]
    assert dead[0].value is not None and decode_batch(dead[0].value) == [points[1]]
