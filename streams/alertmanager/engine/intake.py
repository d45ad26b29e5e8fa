"""The way in: alerts from rules and from the API, routed and keyed by aggregation group.

Both sources become :class:`~streams.alertmanager.model.Alert` values and go one path: the
route tree names the groups an alert belongs to, and one ``alerts.groups`` record per group
carries the alerts of a request (or of a batch of rule events) that belong to it, keyed by
the group key, so that one partition (and one worker) owns each group.

Rule events (``alerts.events``) are Prometheus' alerts as its rule manager sends them:
``firing`` without an end (the rule resolves it explicitly, so no ``resolve_timeout``
applies), and ``resolved`` with the time it ended. ``pending`` and ``inactive`` changes are
not alerts yet, as in Prometheus, and are not sent. The rule agent of a worker routes the
alerts of its events itself, as it produces them (one Kafka hop less to a notification), and
marks those records :data:`TAKEN_IN`; ``am-intake`` routes the others.

Example:
    >>> import orjson
    >>> alert = from_rule_event(orjson.dumps({"state": "firing", "labels": {"alertname": "Hot"},
    ...     "annotations": {}, "startsAt": "1970-01-01T00:01:40.000Z", "endsAt": None,
    ...     "evaluatedAt": "1970-01-01T00:01:41.000Z"}))
    >>> (alert.name, alert.starts_at, alert.ends_at, alert.updated_at)
    ('Hot', 100.0, None, 101.0)
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import orjson

from streams.alertmanager.engine.store import alert_from_dict, alert_to_dict
from streams.alertmanager.model import Alert, Labels, labels_of
from streams.alertmanager.wire import ApiError, parse_time
from streams.errors import RecordDecodeError

TAKEN_IN = "pulseline-taken-in"
"""The header of an ``alerts.events`` record whose alert the rule agent that produced it
routed to its groups itself (:func:`rule_alert`): ``am-intake`` skips it."""


def from_rule_event(value: bytes) -> Alert | None:
    """The alert an ``alerts.events`` record announces; None for pending and inactive.

    Raises:
        RecordDecodeError: the record is not a rule event.
    """
    try:
        event = orjson.loads(value)
    except orjson.JSONDecodeError as exc:
        raise RecordDecodeError(f"not a rule event: {exc!r}") from None
    return rule_alert(event)


def rule_alert(event: Any) -> Alert | None:
    """The alert of a rule event (an ``alerts.events`` value, decoded); None for pending and
    inactive.

    Raises:
        RecordDecodeError: it is not a rule event.
    """
    try:
        state = event["state"]
        if state not in ("firing", "resolved"):
            return None
        starts = parse_time(event["startsAt"], "startsAt") or 0.0
        updated = parse_time(event.get("evaluatedAt"), "evaluatedAt") or starts
        ends = None
        if state == "resolved":
            ends = parse_time(event.get("endsAt"), "endsAt") or updated
        return Alert(
            labels=labels_of(event["labels"]),
            annotations=labels_of(event.get("annotations") or {}),
            starts_at=starts,
            ends_at=ends,
            generator_url=event.get("generatorURL") or "",
            updated_at=updated,
        )
    except (KeyError, TypeError, AttributeError, ApiError) as exc:
        raise RecordDecodeError(f"not a rule event: {exc!r}") from None


def taken_in(headers: Iterable[tuple[str, bytes]] | None) -> bool:
    """Whether a record with these headers carries :data:`TAKEN_IN`.

    >>> taken_in([(TAKEN_IN, b"1")]), taken_in(None)
    (True, False)
    """
    return any(name == TAKEN_IN for name, _ in headers or ())


@dataclass(frozen=True, slots=True)
class Grouped:
    """Alerts on their way to the owner of one of their aggregation groups.

    The alerts of one request (or of one batch of rule events) that belong to one group
    travel in one record, in the order they came: the owner reads one record per group, not
    one per alert.

    Attributes:
        group_key: the group's key (Alertmanager's ``groupKey``): the record key.
        route_id: the route that formed the group.
        group_labels: the labels the group is formed by.
        alerts: the alerts, in the order they came.
    """

    group_key: str
    route_id: str
    group_labels: Labels
    alerts: tuple[Alert, ...]

    def encode(self) -> bytes:
        """The ``alerts.groups`` record value."""
        return orjson.dumps(
            {
                "groupKey": self.group_key,
                "route": self.route_id,
                "groupLabels": dict(self.group_labels),
                "alerts": [alert_to_dict(a) for a in self.alerts],
            }
        )

    @classmethod
    def decode(cls, value: bytes) -> Grouped:
        """The record :meth:`encode` wrote (or, from before alerts were sent together, a
        record with one ``alert``).

        Raises:
            RecordDecodeError: it is not one.
        """
        try:
            data = orjson.loads(value)
            alerts = data["alerts"] if "alerts" in data else [data["alert"]]
            return cls(
                data["groupKey"],
                data["route"],
                labels_of(data["groupLabels"]),
                tuple(alert_from_dict(a) for a in alerts),
            )
        except (orjson.JSONDecodeError, KeyError, TypeError, ValueError) as exc:
            raise RecordDecodeError(f"not an alerts.groups record: {exc!r}") from None
