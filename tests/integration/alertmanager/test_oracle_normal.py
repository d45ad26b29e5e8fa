"""The normal form and the comparer, on hand-made webhook payloads (no server)."""

from __future__ import annotations

from oracle_normal import Normal, Tolerance, compare, compare_outline, normalise, outline

from streams.stack.capture import Delivery


def payload(
    key: str, group: dict[str, str], *alerts: tuple[dict[str, str], str]
) -> dict[str, object]:
    statuses = {status for _, status in alerts}
    return {
        "receiver": "hook",
        "status": "firing" if "firing" in statuses else "resolved",
        "groupKey": key,
        "groupLabels": group,
        "alerts": [
            {"labels": labels, "status": status, "fingerprint": "fp-" + labels["i"]}
            for labels, status in alerts
        ],
        "externalURL": "http://ignored",
    }


A1 = ({"alertname": "A", "i": "1"}, "firing")
A2 = ({"alertname": "A", "i": "2"}, "firing")
A2_RESOLVED = ({"alertname": "A", "i": "2"}, "resolved")
GROUP = ('{}:{alertname="A"}', {"alertname": "A"})


def run(
    *arrivals: tuple[float, dict[str, object]], start: float = 100.0, end: float = 10.0
) -> Normal:
    return normalise([Delivery("/hook", start + at, body, {}) for at, body in arrivals], start, end)


def test_identical_runs_agree_and_arrivals_after_the_end_are_left_out() -> None:
    reference = run((1.0, payload(*GROUP, A1, A2)), (3.0, payload(*GROUP, A1, A2_RESOLVED)))
    observed = run(
        (1.2, payload(*GROUP, A2, A1)),
        (3.1, payload(*GROUP, A2_RESOLVED, A1)),
        (11.0, payload(*GROUP, A1)),
    )
    assert compare(reference, observed) == []
    assert outline(observed) == {
        "/hook": [(1.2, "alertname=A: i=1+ i=2+"), (3.1, "alertname=A: i=1+ i=2-")]
    }


def test_an_alert_of_another_status_is_reported() -> None:
    reference = run((3.0, payload(*GROUP, A1, A2_RESOLVED)))
    observed = run((3.0, payload(*GROUP, A1, A2)))
    (difference,) = compare(reference, observed)
    assert (
        difference
        == '/hook group {}:{alertname="A"} notification 1: alerts differ; missing [i=2-(fp-2)], unexpected [i=2+(fp-2)]'
    )


def test_a_missing_notification_and_a_late_one_are_reported() -> None:
    reference = run((1.0, payload(*GROUP, A1)), (3.0, payload(*GROUP, A1, A2)))
    assert "1 notification(s), expected 2" in compare(reference, run((1.0, payload(*GROUP, A1))))[0]
    late = compare(reference, run((1.0, payload(*GROUP, A1)), (3.6, payload(*GROUP, A1, A2))))
    assert late == [
        '/hook group {}:{alertname="A"} notification 2: arrived at 3.60s, expected 3.00s ± 0.52s'
    ]


def test_the_tolerance_grows_with_the_offset() -> None:
    tolerance = Tolerance(absolute=0.4, relative=0.04)
    assert tolerance.allows(1.0, 1.43) and not tolerance.allows(1.0, 1.45)
    assert tolerance.allows(10.0, 9.21) and not tolerance.allows(10.0, 9.19)


def test_an_outline_matches_whatever_the_order_of_groups_at_one_tick() -> None:
    b = ('{}:{alertname="B"}', {"alertname": "B"})
    normal = run(
        (1.01, payload(*b, ({"alertname": "B", "i": "1"}, "firing"))), (1.0, payload(*GROUP, A1))
    )
    assert (
        compare_outline({"/hook": [(1, "alertname=A: i=1+"), (1, "alertname=B: i=1+")]}, normal)
        == []
    )
    assert compare_outline({"/hook": [(1, "alertname=A: i=1+")]}, normal) == [
        "/hook: 'alertname=B: i=1+' arrived at [1.01], expected at []"
    ]
