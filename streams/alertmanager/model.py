"""Alerts as Alertmanager knows them: labels, annotations, a start and an end.

An alert is *resolved* at an instant when its ``ends_at`` lies at or before it. Alerts are
identified by the fingerprint of their labels, computed as Alertmanager computes it (64-bit
FNV-1a over the sorted label pairs), so fingerprints agree with Alertmanager's API and amtool.

Example:
    >>> a = Alert.create({"alertname": "Down", "job": "node"}, starts_at=100.0)
    >>> a.fingerprint
    '952a6219e8df7701'
    >>> a.resolved(at=200.0), a.status(at=200.0)
    (False, 'firing')
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Literal

Labels = tuple[tuple[str, str], ...]
"""A label set as sorted ``(name, value)`` pairs."""

Status = Literal["firing", "resolved"]

_FNV_OFFSET = 0xCBF29CE484222325
_FNV_PRIME = 0x100000001B3
_MASK = 0xFFFFFFFFFFFFFFFF
_SEPARATOR = 0xFF


def labels_of(mapping: Mapping[str, str]) -> Labels:
    """A mapping as a sorted label tuple, without empty values (Alertmanager drops them)."""
    return tuple(sorted((k, v) for k, v in mapping.items() if v != ""))


@functools.lru_cache(maxsize=1 << 16)
def fingerprint(labels: Labels) -> str:
    """Alertmanager's fingerprint of a label set, as 16 hex digits.

    Remembered for the most recent label sets: an alert is rebuilt each time a group's
    state is read back, and the hash is a Python loop over every byte of its labels.

    >>> fingerprint(())
    'cbf29ce484222325'
    """
    h = _FNV_OFFSET
    for name, value in labels:
        for part in (name, value):
            for byte in part.encode():
                h = ((h ^ byte) * _FNV_PRIME) & _MASK
            h = ((h ^ _SEPARATOR) * _FNV_PRIME) & _MASK
    return f"{h:016x}"


@dataclass(frozen=True, slots=True)
class Alert:
    """One alert, as posted to ``/api/v2/alerts`` or announced by a rule.

    Times are Unix seconds (floats). ``ends_at`` is None while the source has not said when
    the alert ends; ``timeout`` marks an end that pulseline set (``resolve_timeout``), not
    the source, as Alertmanager's ``Timeout`` flag does.

    Attributes:
        labels: identity of the alert, sorted pairs, ``alertname`` among them.
        annotations: sorted pairs of descriptive text.
        starts_at: when the alert started.
        ends_at: when it ends or ended.
        generator_url: a link back to what produced it.
        updated_at: when pulseline last received it.
        timeout: whether ``ends_at`` came from ``resolve_timeout``.
    """

    labels: Labels
    annotations: Labels = ()
    starts_at: float = 0.0
    ends_at: float | None = None
    generator_url: str = ""
    updated_at: float = 0.0
    timeout: bool = False
    fingerprint: str = field(init=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "fingerprint", fingerprint(self.labels))

    @classmethod
    def create(
        cls,
        labels: Mapping[str, str],
        annotations: Mapping[str, str] | None = None,
        **times: float | str | bool | None,
    ) -> Alert:
        """An alert from label and annotation mappings (other fields by keyword)."""
        return cls(labels_of(labels), labels_of(annotations or {}), **times)  # type: ignore[arg-type]

    @property
    def name(self) -> str:
        """The ``alertname`` label, or empty."""
        return dict(self.labels).get("alertname", "")

    def label_map(self) -> dict[str, str]:
        """The labels as a dict."""
        return dict(self.labels)

    def resolved(self, at: float) -> bool:
        """Whether the alert has ended at ``at``."""
        return self.ends_at is not None and self.ends_at <= at

    def status(self, at: float) -> Status:
        """``resolved`` or ``firing`` at ``at``."""
        return "resolved" if self.resolved(at) else "firing"

    def with_times(self, **changes: float | bool | None) -> Alert:
        """A copy with other times."""
        return replace(self, **changes)  # type: ignore[arg-type]
