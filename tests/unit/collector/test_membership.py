from streams.collector.membership import MemberTable


def test_members_are_live_until_their_heartbeats_stop() -> None:
    table = MemberTable(timeout_s=6)
    table.saw("a", "up", now=0)
    table.saw("b", "up", now=1)
    assert table.live(now=5) == {"a", "b"}
    table.saw("b", "up", now=5)
    assert table.live(now=6.5) == {"b"}  # a's last heartbeat is 6.5 s old
    assert table.live(now=12) == set()


def test_a_leaving_member_is_dropped_at_once_and_can_come_back() -> None:
    table = MemberTable(timeout_s=6)
    table.saw("a", "up", now=0)
    table.saw("a", "leaving", now=1)
    assert table.live(now=1) == set()
    table.saw("a", "up", now=2)
    assert table.live(now=2) == {"a"}
