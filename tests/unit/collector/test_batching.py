from aiokafka.partitioner import DefaultPartitioner

from streams.collector.batching import source_key, split_by_source
from streams.kafka import key_hash
from streams.records import Point


def _p(measurement: str, **tags: str) -> Point:
    return Point(measurement, dict(sorted(tags.items())), {"v": 1.0}, 0)


def test_key_is_first_present_source_tag_else_measurement() -> None:
    tags = ("host", "instance")
    assert source_key(_p("cpu", host="a", instance="i"), tags) == "a"
    assert source_key(_p("cpu", instance="i"), tags) == "i"
    assert source_key(_p("cpu", region="eu"), tags) == "cpu"


def test_split_groups_by_key_in_order_and_caps_record_size() -> None:
    points = [_p("cpu", host="a"), _p("cpu", host="b"), _p("mem", host="a"), _p("disk")] * 3
    records = split_by_source(points, ("host",), per_record=4)
    assert [(k, len(p)) for k, p in records] == [(b"a", 4), (b"a", 2), (b"b", 3), (b"disk", 3)]
    assert sum(len(p) for _, p in records) == len(points)


def test_a_series_always_gets_the_same_key() -> None:
    one = split_by_source([_p("cpu", host="x", cpu="0")], ("host",), per_record=10)
    two = split_by_source([_p("mem"), _p("cpu", host="x", cpu="0")], ("host",), per_record=10)
    assert one[0][0] == two[1][0] == b"x"


def test_key_hash_places_keys_as_the_kafka_partitioner_does() -> None:
    partitions = list(range(12))
    for key in ["a", "web-1", "10.0.0.7:9100", "node", "ünïcode", "x" * 300]:
        expected = DefaultPartitioner()(key.encode(), partitions, partitions)
        assert partitions[key_hash(key) % len(partitions)] == expected


def test_keys_of_one_partition_share_records_keyed_by_the_first() -> None:
    points = [_p("cpu", host=h) for h in "abcab"]
    records = split_by_source(
        points, ("host",), per_record=2, partition_of={"a": 1, "b": 1, "c": 0}.__getitem__
    )
    assert [(k, [p.tags["host"] for p in pts]) for k, pts in records] == [
        (b"a", ["a", "b"]),
        (b"a", ["a", "b"]),
        (b"c", ["c"]),
    ]
