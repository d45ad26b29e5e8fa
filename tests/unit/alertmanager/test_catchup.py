"""A partition's flushes wait until its owner has read what was received before them."""

from streams.alertmanager.engine.catchup import CatchUp


def test_a_partition_read_to_its_end_flushes_at_once() -> None:
    c = CatchUp(max_wait=2.0)
    assert c.ready(0, now=10.0, read=7, end=7)
    assert c.ready(0, now=10.0, read=None, end=7)  # nothing read yet since it was assigned
    assert c.ready(0, now=10.0, read=7, end=None)  # no fetch answered yet


def test_a_flush_waits_for_the_records_before_it_and_not_for_later_ones() -> None:
    c = CatchUp(max_wait=2.0)
    assert not c.ready(1, now=10.0, read=3, end=9)
    assert not c.ready(1, now=10.5, read=8, end=20)  # 9 was the end when the flush fell due
    assert c.ready(1, now=10.6, read=9, end=25)
    # The next flush that falls due waits for the end it sees.
    assert not c.ready(1, now=12.0, read=9, end=25)
    assert c.ready(1, now=12.1, read=25, end=25)


def test_partitions_wait_each_for_their_own_records() -> None:
    c = CatchUp(max_wait=2.0)
    assert not c.ready(0, now=10.0, read=0, end=4)
    assert c.ready(1, now=10.0, read=6, end=6)
    assert not c.ready(0, now=10.1, read=3, end=4)
    assert c.ready(0, now=10.2, read=4, end=4)


def test_a_consumer_that_does_not_catch_up_holds_flushes_back_max_wait_at_most() -> None:
    c = CatchUp(max_wait=2.0)
    assert not c.ready(0, now=10.0, read=0, end=100)
    assert not c.ready(0, now=11.9, read=10, end=100)
    assert c.ready(0, now=12.0, read=10, end=100)
    # Then the wait starts again for the next flush, from where the partition stands.
    assert not c.ready(0, now=14.0, read=20, end=100)


def test_a_revoked_partition_waits_no_more() -> None:
    c = CatchUp(max_wait=2.0)
    assert not c.ready(0, now=10.0, read=0, end=5)
    c.forget([0])
    # Assigned again later: its wait starts from what it sees then.
    assert not c.ready(0, now=30.0, read=5, end=9)
    assert c.ready(0, now=30.1, read=9, end=9)
