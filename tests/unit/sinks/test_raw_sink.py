from __future__ import annotations

from streams.records import Point, UInt, encode_batch
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
