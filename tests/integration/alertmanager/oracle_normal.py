"""Captured webhook notifications in a comparable form, and the comparison of two runs.

The normal form of a run is, per receiver (the URL path it posts to), per aggregation group
(the payload's ``groupKey``), the sequence of notifications in arrival order, each reduced to
what must agree between two Alertmanager-compatible servers: the group labels, the
notification's status and receiver name, the set of its alerts as (fingerprint, labels,
status), and when it arrived, in seconds after the scenario started. Everything else in the
payload (``externalURL``, alert ``startsAt``, annotations) is left out: it names the server
or repeats what the scenario posted.

Groups are compared by key, not by arrival order across groups: groups flushed at the same
tick arrive in an order neither server promises.

Timing tolerance: an arrival agrees when it lies within ``0.4 s + 4 %`` of the reference's
offset. The scenarios' coarsest distinction is one tick of ``group_wait`` (1 s) or
``group_interval`` (1 to 2 s), at offsets up to 6 s, where the tolerance is 0.64 s: a
notification one tick early or late is always caught, while the delay of a pipeline that
goes through Kafka (tens of milliseconds) is not counted against it.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from streams.stack.capture import Delivery

Labels = tuple[tuple[str, str], ...]
AlertKey = tuple[str, Labels, str]
"""One alert of a notification: (fingerprint, labels, status)."""


@dataclass(frozen=True)
class Tolerance:
    """How far an arrival may be from the reference's: ``absolute + relative * offset``."""

    absolute: float = 0.4
    relative: float = 0.04

    def margin(self, expected: float) -> float:
        return self.absolute + self.relative * expected

    def allows(self, expected: float, observed: float) -> bool:
        return abs(observed - expected) <= self.margin(expected)


@dataclass(frozen=True)
class Notice:
    """One notification, reduced to what two servers must agree on."""

    at: float
    status: str
    receiver: str
    alerts: frozenset[AlertKey]

    def describe(self, group: Labels = ()) -> str:
        alerts = " ".join(
            sorted(_alert_text(labels, status, group) for _, labels, status in self.alerts)
        )
        return f"{self.at:.2f}s {self.status} [{alerts}]"


@dataclass(frozen=True)
class Group:
    """The notifications of one aggregation group to one receiver, in arrival order."""

    key: str
    labels: Labels
    notices: tuple[Notice, ...]


Normal = Mapping[str, Mapping[str, Group]]
"""Receiver path -> group key -> group."""


def _labels(mapping: Any) -> Labels:
    return tuple(sorted((str(k), str(v)) for k, v in (mapping or {}).items()))


def _text(labels: Iterable[tuple[str, str]]) -> str:
    return ",".join(f"{k}={v}" for k, v in labels)


def _alert_text(labels: Labels, status: str, group: Labels = ()) -> str:
    """An alert's labels outside its group, and ``+`` firing or ``-`` resolved."""
    rest = [pair for pair in labels if pair not in group]
    return _text(rest) + ("+" if status == "firing" else "-")


def normalise(
    deliveries: Iterable[Delivery], start: float, end: float
) -> dict[str, dict[str, Group]]:
    """The normal form of the webhook deliveries that arrived by ``start + end``."""
    notices: dict[str, dict[str, list[Notice]]] = defaultdict(lambda: defaultdict(list))
    group_labels: dict[tuple[str, str], Labels] = {}
    for d in sorted(deliveries, key=lambda d: d.at):
        offset = d.at - start
        if offset > end:
            continue
        body = d.body if isinstance(d.body, dict) else {}
        key = str(body.get("groupKey", ""))
        group_labels[(d.path, key)] = _labels(body.get("groupLabels"))
        alerts = frozenset(
            (str(a.get("fingerprint", "")), _labels(a.get("labels")), str(a.get("status", "")))
            for a in body.get("alerts") or []
        )
        notice = Notice(
            round(offset, 3), str(body.get("status", "")), str(body.get("receiver", "")), alerts
        )
        notices[d.path][key].append(notice)
    return {
        path: {
            key: Group(key, group_labels[(path, key)], tuple(seq)) for key, seq in groups.items()
        }
        for path, groups in notices.items()
    }


def _describe_group(group: Group) -> str:
    return "; ".join(n.describe(group.labels) for n in group.notices) or "none"


def _compare_notice(
    where: str, ref: Notice, obs: Notice, group: Labels, tolerance: Tolerance
) -> list[str]:
    out = []
    for field in ("status", "receiver"):
        if getattr(ref, field) != getattr(obs, field):
            out.append(
                f"{where}: {field} {getattr(obs, field)!r}, expected {getattr(ref, field)!r}"
            )
    if ref.alerts != obs.alerts:
        missing = " ".join(
            sorted(
                _alert_text(lab, st, group) + f"({fp})" for fp, lab, st in ref.alerts - obs.alerts
            )
        )
        extra = " ".join(
            sorted(
                _alert_text(lab, st, group) + f"({fp})" for fp, lab, st in obs.alerts - ref.alerts
            )
        )
        out.append(f"{where}: alerts differ; missing [{missing}], unexpected [{extra}]")
    if not tolerance.allows(ref.at, obs.at):
        out.append(
            f"{where}: arrived at {obs.at:.2f}s, expected {ref.at:.2f}s ± {tolerance.margin(ref.at):.2f}s"
        )
    return out


def compare(reference: Normal, observed: Normal, tolerance: Tolerance = Tolerance()) -> list[str]:
    """The differences of ``observed`` from ``reference``, one line each; empty when they agree."""
    out: list[str] = []
    for path in sorted(set(reference) | set(observed)):
        ref_groups, obs_groups = reference.get(path, {}), observed.get(path, {})
        for key in sorted(set(ref_groups) | set(obs_groups)):
            where = f"{path} group {key}"
            if key not in obs_groups:
                out.append(f"{where}: missing; expected {_describe_group(ref_groups[key])}")
                continue
            if key not in ref_groups:
                out.append(f"{where}: unexpected; got {_describe_group(obs_groups[key])}")
                continue
            ref, obs = ref_groups[key], obs_groups[key]
            if ref.labels != obs.labels:
                out.append(
                    f"{where}: group labels {_text(obs.labels)}, expected {_text(ref.labels)}"
                )
            if len(ref.notices) != len(obs.notices):
                out.append(
                    f"{where}: {len(obs.notices)} notification(s), expected {len(ref.notices)}; "
                    f"got {_describe_group(obs)}; expected {_describe_group(ref)}"
                )
                continue
            for i, (r, o) in enumerate(zip(ref.notices, obs.notices, strict=True), 1):
                out.extend(
                    _compare_notice(f"{where} notification {i}", r, o, ref.labels, tolerance)
                )
    return out


Outline = Mapping[str, Sequence[tuple[float, str]]]
"""Receiver path -> (arrival offset, outline) of each notification, as worked out by hand."""


def outline(normal: Normal) -> dict[str, list[tuple[float, str]]]:
    """Each notification as ``"group labels: alert alert ..."``, per receiver.

    An alert is written as its labels outside the group labels, then ``+`` when firing or
    ``-`` when resolved: ``"alertname=Slow: cluster=b,severity=warning+"``.
    """
    return {
        path: sorted(
            (
                n.at,
                f"{_text(g.labels)}: "
                + " ".join(
                    sorted(_alert_text(labels, status, g.labels) for _, labels, status in n.alerts)
                ),
            )
            for g in groups.values()
            for n in g.notices
        )
        for path, groups in normal.items()
    }


def compare_outline(
    expected: Outline, normal: Normal, tolerance: Tolerance = Tolerance()
) -> list[str]:
    """The differences of a run from a hand-worked outline; empty when it does what it says."""
    actual = outline(normal)
    out: list[str] = []
    for path in sorted(set(expected) | set(actual)):
        want: dict[str, list[float]] = defaultdict(list)
        got: dict[str, list[float]] = defaultdict(list)
        for at, text in expected.get(path, []):
            want[text].append(at)
        for at, text in actual.get(path, []):
            got[text].append(at)
        for text in sorted(set(want) | set(got)):
            w, g = sorted(want[text]), sorted(got[text])
            if len(w) != len(g) or not all(
                tolerance.allows(a, b) for a, b in zip(w, g, strict=True)
            ):
                out.append(f"{path}: {text!r} arrived at {g}, expected at {w}")
    return out
