from streams.collector.batching import source_key, split_by_source
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
