"""What an aggregation group does with the alerts it is given: merge, present, forget.

A re-received alert is *merged* with the copy already held, as Alertmanager's alert store
does: when the two activity ranges overlap, the result keeps the earliest start, the newer
alert's annotations, and the end that rules (the latest explicit end beats a
``resolve_timeout`` end); when they do not overlap, the new alert replaces the old one (a new
episode). A resolved alert stays in its group until a flush carried it to the receivers, then
leaves, unless it was received again since that flush.

Times are Unix seconds. ``ends_at=None`` is Go's zero time, as in Alertmanager: it lies before
every instant when ranges are compared, and means "not resolved" when the status is asked.

Example:
    >>> old = Alert.create({"alertname": "Down"}, starts_at=0.0, ends_at=300.0,
    ...                    updated_at=0.0, timeout=True)
    >>> new = Alert.create({"alertname": "Down"}, starts_at=60.0, ends_at=360.0,
    ...                    updated_at=60.0, timeout=True)
    >>> merged = put(old, new, at=60.0)
    >>> merged.starts_at, merged.ends_at
    (0.0, 360.0)
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from streams.alertmanager.model import Alert, Labels

_ZERO = float("-inf")


def _end(alert: Alert) -> float:
    """The end as Go compares it: a missing end is the zero time, before everything."""
    return _ZERO if alert.ends_at is None else alert.ends_at


def overlaps(old: Alert, new: Alert) -> bool:
    """Whether ``new`` falls in the activity range of ``old`` (then the two are merged).

    The bounds are strict, as in Alertmanager: an alert re-sent with the same start and end
    does not overlap and simply replaces the held copy.
    """
    old_end = _end(old)
    return (old.starts_at < _end(new) < old_end) or (old.starts_at < new.starts_at < old_end)


def merge(a: Alert, b: Alert, at: float) -> Alert:
    """Alertmanager's ``Alert.Merge``: the younger alert wins, with the earliest start.

    Of the two ends: if the younger alert is resolved at ``at``, the older end is kept only
    when both are resolved and the older one ends later; if the younger is firing, a later
    end of the older alert is kept unless it came from ``resolve_timeout``.
    """
    older, younger = (b, a) if b.updated_at < a.updated_at else (a, b)
    starts_at = min(older.starts_at, younger.starts_at)
    ends_at = younger.ends_at
    if younger.resolved(at):
        if older.resolved(at) and _end(older) > _end(younger):
            ends_at = older.ends_at
    elif _end(older) > _end(younger) and not older.timeout:
        ends_at = older.ends_at
    return younger.with_times(starts_at=starts_at, ends_at=ends_at)


def put(old: Alert | None, new: Alert, at: float) -> Alert:
    """The alert to hold after ``new`` arrives where ``old`` was held (None: nothing held)."""
    if old is not None and overlaps(old, new):
        return merge(old, new, at)
    return new


def presented(alert: Alert, at: float) -> Alert:
    """The alert as a flush at ``at`` sends it: a firing alert shows no end.

    Alertmanager clears the end of alerts still firing so that they do not appear to
    resolve as time moves on while the notification travels.
    """
    return alert if alert.resolved(at) else alert.with_times(ends_at=None)


def labels_before(a: Labels, b: Labels) -> bool:
    """Prometheus' ``LabelSet.Before``: fewer labels first, then the first differing pair.

    Pairs are compared in the order of the label names of both sets: at the first name where
    they differ, the set missing the name comes first, else the smaller value does.

    >>> labels_before((("z", "1"),), (("a", "1"), ("b", "1")))
    True
    >>> labels_before((("a", "2"),), (("b", "1"),)), labels_before((("b", "1"),), (("a", "2"),))
    (False, True)
    >>> labels_before((("a", "1"),), (("a", "1"),))
    False
    """
    if len(a) != len(b):
        return len(a) < len(b)
    left, right = dict(a), dict(b)
    for name in sorted([*left, *right]):
        if name not in left:
            return True
        if name not in right:
            return False
        if left[name] != right[name]:
            return left[name] < right[name]
    return False


class _Ordered:
    """Sort key of Alertmanager's ``AlertSlice``: ``job``, then ``instance``, then labels."""

    __slots__ = ("labels", "overrides")

    def __init__(self, alert: Alert) -> None:
        names = dict(alert.labels)
        self.overrides = (names.get("job"), names.get("instance"))
        self.labels = alert.labels

    def __lt__(self, other: _Ordered) -> bool:
        for mine, theirs in zip(self.overrides, other.overrides, strict=True):
            if mine is None and theirs is None:
                continue
            if mine is None or theirs is None:
                return theirs is None  # an alert with the label sorts first
            if mine != theirs:
                return mine < theirs
        return labels_before(self.labels, other.labels)


def sort_alerts(alerts: Iterable[Alert]) -> list[Alert]:
    """Alerts in the order Alertmanager lists them in a notification.

    >>> a = Alert.create({"alertname": "X", "instance": "b"})
    >>> b = Alert.create({"alertname": "X", "instance": "a", "job": "node"})
    >>> [x.label_map()["instance"] for x in sort_alerts([a, b])]
    ['a', 'b']
    """
    return sorted(alerts, key=_Ordered)


def alert_to_dict(alert: Alert) -> dict[str, Any]:
    """An alert as a JSON-able dict (for changelog tables)."""
    return {
        "labels": dict(alert.labels),
        "annotations": dict(alert.annotations),
        "starts_at": alert.starts_at,
        "ends_at": alert.ends_at,
        "generator_url": alert.generator_url,
        "updated_at": alert.updated_at,
        "timeout": alert.timeout,
    }


def alert_from_dict(data: Mapping[str, Any]) -> Alert:
    """The alert :func:`alert_to_dict` wrote.

    >>> a = Alert.create({"alertname": "X"}, {"summary": "s"}, starts_at=1.0, ends_at=2.0)
    >>> alert_from_dict(alert_to_dict(a)) == a
    True
    """
    ends = data["ends_at"]
    return Alert(
        labels=tuple(sorted(data["labels"].items())),
        annotations=tuple(sorted(data["annotations"].items())),
        starts_at=float(data["starts_at"]),
        ends_at=None if ends is None else float(ends),
        generator_url=data["generator_url"],
        updated_at=float(data["updated_at"]),
        timeout=bool(data["timeout"]),
    )
