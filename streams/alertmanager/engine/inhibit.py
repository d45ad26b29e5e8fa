"""Inhibition: a firing *source* alert mutes *target* alerts that share its ``equal`` labels.

An inhibit rule has source matchers, target matchers and a list of ``equal`` label names. An
alert matching the target matchers is muted while some other alert that matches the source
matchers is firing and has the same value for every ``equal`` label (a label both lack counts
as equal, its value being empty). As in Alertmanager, an alert that matches *both* sides of
a rule is not muted by source alerts that also match both sides: two such alerts do not
inhibit each other, and no alert inhibits itself.

The inhibitor keeps, per rule, the alerts seen that match its source side, as Alertmanager's
source cache does; :meth:`Inhibitor.put` feeds it every alert (firing or resolved) and
:meth:`Inhibitor.gc` forgets resolved ones.

Example:
    >>> class M:
    ...     def __init__(self, name, value): self.name, self.value = name, value
    ...     def matches(self, labels): return labels.get(self.name, "") == self.value
    >>> class Rule:
    ...     source_matchers = [M("severity", "critical")]
    ...     target_matchers = [M("severity", "warning")]
    ...     equal = ["cluster"]
    >>> inhibitor = Inhibitor([Rule()])
    >>> critical = Alert.create({"alertname": "Down", "severity": "critical", "cluster": "a"})
    >>> inhibitor.put(critical)
    >>> inhibitor.mutes({"alertname": "Slow", "severity": "warning", "cluster": "a"}, at=0.0)
    ['b399282d701b49c9']
    >>> inhibitor.mutes({"alertname": "Slow", "severity": "warning", "cluster": "b"}, at=0.0)
    []
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Protocol

from streams.alertmanager.model import Alert


class LabelMatcher(Protocol):
    """Anything that tells whether a label set satisfies it (a missing label is ``""``)."""

    def matches(self, labels: Mapping[str, str]) -> bool:
        """Whether ``labels`` satisfy the matcher."""
        ...


class InhibitRule(Protocol):
    """One ``inhibit_rules`` entry."""

    @property
    def source_matchers(self) -> Sequence[LabelMatcher]:
        """What a muting alert matches."""
        ...

    @property
    def target_matchers(self) -> Sequence[LabelMatcher]:
        """What a muted alert matches."""
        ...

    @property
    def equal(self) -> Sequence[str]:
        """Labels whose values source and target must share."""
        ...


def _all(matchers: Iterable[LabelMatcher], labels: Mapping[str, str]) -> bool:
    return all(m.matches(labels) for m in matchers)


class Inhibitor:
    """Decides which alerts are inhibited, from the source alerts it was given.

    Args:
        rules: the configuration's inhibit rules, in order.
    """

    def __init__(self, rules: Sequence[InhibitRule]) -> None:
        self.rules = list(rules)
        self._sources: list[dict[str, Alert]] = [{} for _ in self.rules]

    def put(self, alert: Alert) -> None:
        """Take in an alert's latest version (keeps it for each rule whose source it matches)."""
        labels = alert.label_map()
        for rule, cache in zip(self.rules, self._sources, strict=True):
            if _all(rule.source_matchers, labels):
                cache[alert.fingerprint] = alert

    def put_all(self, alerts: Iterable[Alert]) -> None:
        """Take in several alerts."""
        for alert in alerts:
            self.put(alert)

    def remove(self, fingerprint: str) -> None:
        """Forget an alert."""
        for cache in self._sources:
            cache.pop(fingerprint, None)

    def gc(self, now: float) -> int:
        """Forget source alerts resolved at ``now``; return how many were forgotten."""
        forgotten = 0
        for cache in self._sources:
            for fp in [fp for fp, a in cache.items() if a.resolved(now)]:
                del cache[fp]
                forgotten += 1
        return forgotten

    def mutes(self, labels: Mapping[str, str], at: float) -> list[str]:
        """Fingerprints of the firing alerts that inhibit ``labels`` at ``at`` (sorted).

        Rules are tried in order; the first rule that mutes gives the answer, as in
        Alertmanager (which reports one of its source alerts; all of them are given here).
        """
        for rule, cache in zip(self.rules, self._sources, strict=True):
            if not _all(rule.target_matchers, labels):
                continue
            two_sided = _all(rule.source_matchers, labels)
            found = sorted(
                fp
                for fp, source in cache.items()
                if not source.resolved(at)
                and _shares(source, labels, rule.equal)
                and not (two_sided and _all(rule.target_matchers, source.label_map()))
            )
            if found:
                return found
        return []


def _shares(source: Alert, labels: Mapping[str, str], equal: Sequence[str]) -> bool:
    names = source.label_map()
    return all(names.get(n, "") == labels.get(n, "") for n in equal)
