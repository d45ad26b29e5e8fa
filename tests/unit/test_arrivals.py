"""Records taken on their way in go into their groups in Kafka's order, never ahead of it."""

from streams.arrivals import Arrivals


def test_a_record_behind_unread_records_waits_for_them() -> None:
    a: Arrivals[str] = Arrivals()
    a.read(2, 9)  # read up to 9: the owner holds everything below 10
    # Another worker wrote 10 (an older, firing copy); this worker wrote 11 (resolved).
    assert not a.may_take(2, 11)
    assert a.read(2, 10) is None  # not taken: it goes in as read
    assert a.may_take(2, 11)


def test_records_taken_in_a_row_count_as_held_and_are_skipped_when_read() -> None:
    a: Arrivals[str] = Arrivals()
    a.read(0, 0)
    for offset in (1, 2, 3):
        assert a.may_take(0, offset)
        a.took(0, offset, f"t{offset}")
    assert a.caught_up(0) == 4
    assert [a.read(0, o) for o in (1, 2, 3)] == ["t1", "t2", "t3"]
    assert a.caught_up(0) == 4


def test_an_untaken_record_goes_in_when_read_and_only_its_own_token_is_dropped() -> None:
    a: Arrivals[str] = Arrivals()
    a.read(0, 4)
    a.took(0, 5, "first")
    a.untake(0, 5, "other")  # another batch's failure does not drop it
    assert a.caught_up(0) == 6
    a.untake(0, 5, "first")
    assert a.caught_up(0) == 5
    assert a.read(0, 5) is None


def test_partitions_are_independent_and_forgotten_on_revocation() -> None:
    a: Arrivals[str] = Arrivals()
    a.read(0, 3)
    a.read(1, 7)
    a.took(1, 8, "x")
    assert (a.caught_up(0), a.caught_up(1)) == (4, 9)
    a.forget([1])
    assert (a.caught_up(0), a.caught_up(1)) == (4, None)
    assert not a.may_take(1, 8)
