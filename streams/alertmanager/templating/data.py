"""The data notification templates see, shaped as Alertmanager's ``template.Data``.

Field and method names are Alertmanager's, so ``{{ .CommonLabels.SortedPairs }}``,
``{{ range .Alerts.Firing }}`` and ``{{ .GroupLabels.Remove (stringSlice "job") }}`` work
unchanged. Label sets are :class:`KV`: a missing label reads as the empty string, and
``SortedPairs`` puts ``alertname`` first. Times are :class:`~streams.gotemplate.GoTime` in UTC;
a firing alert's ``EndsAt`` is Go's zero time, as Alertmanager hides an end not yet reached.

Example:
    >>> from streams.alertmanager.model import Alert
    >>> a = Alert.create({"alertname": "Down", "job": "node"}, {"summary": "x"}, starts_at=0.0)
    >>> data = template_data("ops", "firing", [a], {"job": "node"}, "http://am", at=10.0)
    >>> data.CommonLabels.SortedPairs().Values(), data.Alerts.Firing()[0].Fingerprint
    (['Down', 'node'], '952a6219e8df7701')
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from streams.alertmanager.model import Alert
from streams.gotemplate import GoTime, go_params

_QUOTE_META = frozenset("\\.+*?()|[]{}^$")


class StringList(list[str]):
    """A Go ``[]string``."""

    go_type = "[]string"


@dataclass(frozen=True, slots=True)
class Pair:
    """A label name and value."""

    go_type = "template.Pair"

    Name: str
    Value: str


class Pairs(list[Pair]):
    """A list of pairs (printed as a Go slice of structs: Alertmanager 0.25 has no
    ``String`` method on it)."""

    go_type = "template.Pairs"

    def Names(self) -> StringList:
        """The names, in order."""
        return StringList(p.Name for p in self)

    def Values(self) -> StringList:
        """The values, in order."""
        return StringList(p.Value for p in self)


class KV(dict[str, str]):
    """A label or annotation set: Alertmanager's ``template.KV``, a Go map[string]string
    (printed ``map[k:v]``: 0.25 has no ``String`` method on it)."""

    go_type = "template.KV"
    go_zero = ""

    def SortedPairs(self) -> Pairs:
        """The pairs sorted by name, ``alertname`` first."""
        names = sorted(self, key=lambda n: (n != "alertname", n))
        return Pairs(Pair(n, self[n]) for n in names)

    @go_params("[]string")
    def Remove(self, names: Sequence[str]) -> KV:
        """A copy without the given names."""
        drop = set(names)
        return KV({k: v for k, v in self.items() if k not in drop})

    def Names(self) -> StringList:
        """The names, as ``SortedPairs`` orders them."""
        return self.SortedPairs().Names()

    def Values(self) -> StringList:
        """The values, as ``SortedPairs`` orders them."""
        return self.SortedPairs().Values()


@dataclass(frozen=True, slots=True)
class TemplateAlert:
    """One alert as templates see it (Alertmanager's ``template.Alert``)."""

    go_type = "template.Alert"

    Status: str
    Labels: KV
    Annotations: KV
    StartsAt: GoTime
    EndsAt: GoTime
    GeneratorURL: str
    Fingerprint: str


class AlertList(list[TemplateAlert]):
    """A Go ``[]template.Alert``, what ``Firing`` and ``Resolved`` return."""

    go_type = "[]template.Alert"


class Alerts(list[TemplateAlert]):
    """The alerts of a notification, with ``Firing`` and ``Resolved`` subsets."""

    go_type = "template.Alerts"

    def Firing(self) -> AlertList:
        """The firing alerts, in order."""
        return AlertList(a for a in self if a.Status == "firing")

    def Resolved(self) -> AlertList:
        """The resolved alerts, in order."""
        return AlertList(a for a in self if a.Status == "resolved")


@dataclass(frozen=True, slots=True)
class TemplateData:
    """What a notification template renders (Alertmanager's ``template.Data``)."""

    go_type = "template.Data"

    Receiver: str
    Status: str
    Alerts: Alerts
    GroupLabels: KV
    CommonLabels: KV
    CommonAnnotations: KV
    ExternalURL: str


def quote_meta(text: str) -> str:
    r"""Go's ``regexp.QuoteMeta``: Alertmanager passes the receiver name through it.

    >>> quote_meta("team.ops (eu)")
    'team\\.ops \\(eu\\)'
    """
    return "".join("\\" + c if c in _QUOTE_META else c for c in text)


def _common(sets: Iterable[Mapping[str, str]]) -> KV:
    """The pairs every set has with the same value."""
    iterator = iter(sets)
    common = dict(next(iterator, {}))
    for labels in iterator:
        common = {k: v for k, v in common.items() if labels.get(k) == v}
    return KV(common)


def _template_alert(alert: Alert, at: float) -> TemplateAlert:
    resolved = alert.resolved(at)
    ends = GoTime.from_unix(alert.ends_at) if resolved and alert.ends_at is not None else None
    return TemplateAlert(
        Status=alert.status(at),
        Labels=KV(alert.labels),
        Annotations=KV(alert.annotations),
        StartsAt=GoTime.from_unix(alert.starts_at),
        EndsAt=ends or GoTime.zero(),
        GeneratorURL=alert.generator_url,
        Fingerprint=alert.fingerprint,
    )


def template_data(
    receiver: str,
    status: str,
    alerts: Sequence[Alert],
    group_labels: Mapping[str, str],
    external_url: str,
    at: float,
) -> TemplateData:
    """The data of one notification, as Alertmanager assembles it.

    Args:
        receiver: the receiver's name (templates see it regexp-quoted, as in Alertmanager).
        status: the group's status: ``firing`` when any alert fires at ``at``, else
            ``resolved``.
        alerts: the notification's alerts, in the order they are to be listed.
        group_labels: the aggregation group's labels.
        external_url: the URL Alertmanager links back to (``--web.external-url``).
        at: the instant of the notification, which decides each alert's status.
    """
    return TemplateData(
        Receiver=quote_meta(receiver),
        Status=status,
        Alerts=Alerts(_template_alert(a, at) for a in alerts),
        GroupLabels=KV(group_labels),
        CommonLabels=_common(dict(a.labels) for a in alerts),
        CommonAnnotations=_common(dict(a.annotations) for a in alerts),
        ExternalURL=external_url,
    )
