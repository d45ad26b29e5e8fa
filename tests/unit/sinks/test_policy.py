import random

import pytest

from streams.sinks.policy import Action, backoff, decide


@pytest.mark.parametrize(
    ("status", "action"),
    [
        (None, Action.RETRY),
        (429, Action.RETRY),
        (500, Action.RETRY),
        (502, Action.RETRY),
        (503, Action.RETRY),
        (401, Action.RETRY),
        (403, Action.RETRY),
        (404, Action.RETRY),
        (400, Action.ISOLATE),
        (413, Action.ISOLATE),
        (422, Action.ISOLATE),
        (409, Action.ISOLATE),
    ],
)
def test_decision_table(status: int | None, action: Action) -> None:
    assert decide(status) is action


def test_backoff_grows_and_is_capped() -> None:
    rng = random.Random(1)
    waits = [backoff(a, minimum=0.2, maximum=10, rng=rng) for a in range(40)]
    assert 0.1 <= waits[0] <= 0.2
    assert all(5 <= w <= 10 for w in waits[10:])
    assert max(waits) <= 10
