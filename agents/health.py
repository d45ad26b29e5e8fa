"""``GET /health`` on a worker: ready once its partitions are assigned and its tables recovered.

A worker that has just started, or is in a rebalance, or is still reading its tables back from
their changelogs, consumes nothing yet: it answers 503. Once the consumer group gave it its
partitions (possibly none, when there are more workers than partitions) and recovery is over,
it answers 200. The body has the collector's shape (InfluxDB's ``/health``), with the partitions
this worker holds by topic. Faust's own ``/`` stays as it is.

Example:
    >>> from types import SimpleNamespace
    >>> app = SimpleNamespace(
    ...     rebalancing=False, in_recovery=False,
    ...     tables=SimpleNamespace(recovery=SimpleNamespace(
    ...         completed=SimpleNamespace(is_set=lambda: True))),
    ...     consumer=SimpleNamespace(assignment=lambda: {("metrics.raw", 1), ("metrics.raw", 0)}))
    >>> worker_health(app)
    (200, {'name': 'pulseline-worker', 'status': 'pass', 'checks': [{'name': 'partitions', \
'status': 'pass'}, {'name': 'recovery', 'status': 'pass'}], 'partitions': {'metrics.raw': [0, 1]}})
"""

from __future__ import annotations

from typing import Any


def worker_health(app: Any) -> tuple[int, dict[str, Any]]:
    """The status and body of ``GET /health`` for a Faust ``app``.

    Args:
        app: the worker's Faust app (its ``rebalancing`` and ``in_recovery`` flags, the table
            recovery's ``completed`` event and the consumer's assignment are read).
    """
    # The recovery's "completed" event is set once the first assignment was handled (and is
    # never cleared): before it, the worker holds no partitions yet.
    started = bool(app.tables.recovery.completed.is_set())
    assigned = started and not app.rebalancing
    recovered = started and not app.in_recovery
    partitions: dict[str, list[int]] = {}
    if assigned:
        for topic, partition in app.consumer.assignment():
            partitions.setdefault(topic, []).append(partition)
    ready = assigned and recovered
    body: dict[str, Any] = {
        "name": "pulseline-worker",
        "status": "pass" if ready else "fail",
        "checks": [
            {"name": "partitions", "status": "pass" if assigned else "fail"},
            {"name": "recovery", "status": "pass" if recovered else "fail"},
        ],
        "partitions": {topic: sorted(numbers) for topic, numbers in sorted(partitions.items())},
    }
    return (200 if ready else 503), body
