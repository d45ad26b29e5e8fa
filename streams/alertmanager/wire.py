"""Alerts in Alertmanager's API v2 JSON: what ``POST /api/v2/alerts`` takes, what GET returns.

Posted alerts are completed as Alertmanager completes them: ``updatedAt`` is the time of
arrival; a missing ``startsAt`` becomes the arrival time (or ``endsAt``, when only that is
given); a missing ``endsAt`` becomes arrival plus ``resolve_timeout``, marked as a timeout, so
an alert nobody re-posts resolves by itself. Invalid alerts are refused with Alertmanager's
messages; the valid ones of the same request are kept.

Example:
    >>> alerts, errors = parse_postable(b'[{"labels": {"alertname": "Down"}}]', 100.0, 300.0)
    >>> a = alerts[0]
    >>> (a.starts_at, a.ends_at, a.timeout, errors)
    (100.0, 400.0, True, [])
    >>> format_time(a.ends_at)
    '1970-01-01T00:06:40.000Z'
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import Any

import orjson

from streams.alertmanager.model import Alert, labels_of
from streams.errors import PulselineError

_LABEL_NAME = re.compile(r"[a-zA-Z_][a-zA-Z0-9_]*")
_ZERO_YEAR = 1


class ApiError(PulselineError):
    """A request to the API is invalid; ``status`` is the HTTP status to answer."""

    def __init__(self, message: str, status: int = 400) -> None:
        self.status = status
        super().__init__(message)


def format_time(at: float | None) -> str:
    """A time as the API writes it, in milliseconds (Go's zero time for None)."""
    if at is None:
        return "0001-01-01T00:00:00.000Z"
    text = datetime.fromtimestamp(at, UTC).isoformat(timespec="milliseconds")
    return text.replace("+00:00", "Z")


def parse_time(value: Any, field: str) -> float | None:
    """An RFC 3339 time as Unix seconds; None when absent or Go's zero time.

    Raises:
        ApiError: the value is not an RFC 3339 time.
    """
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise ApiError(f"{field} must be an RFC 3339 time, got {value!r}")
    try:
        parsed = datetime.fromisoformat(value.replace("z", "Z"))
    except ValueError:
        raise ApiError(f"{field} must be an RFC 3339 time, got {value!r}") from None
    if parsed.tzinfo is None:
        raise ApiError(f"{field} must have a time zone, got {value!r}")
    if parsed.year == _ZERO_YEAR:
        return None
    return parsed.timestamp()


def _string_map(value: Any, field: str) -> dict[str, str]:
    if value is None:
        return {}
    if not isinstance(value, dict) or not all(isinstance(v, str) for v in value.values()):
        raise ApiError(f"{field} must be an object of strings")
    return value


def _validate(alert: Alert) -> str | None:
    """Alertmanager's ``Alert.Validate`` message for an invalid alert, else None."""
    if alert.ends_at is not None and alert.ends_at < alert.starts_at:
        return "start time must be before end time"
    if not alert.labels:
        return "at least one label pair required"
    for name, _ in alert.labels:
        if not _LABEL_NAME.fullmatch(name):
            return f"invalid label set: invalid name {name!r}"
    for name, _ in alert.annotations:
        if not _LABEL_NAME.fullmatch(name):
            return f"invalid annotations: invalid name {name!r}"
    return None


def parse_postable(
    body: bytes, now: float, resolve_timeout: float
) -> tuple[list[Alert], list[str]]:
    """The valid alerts of a ``POST /api/v2/alerts`` body and the errors of the others.

    Raises:
        ApiError: the body is not a JSON list of alert objects.
    """
    try:
        data = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise ApiError(f"body is not JSON: {exc}") from None
    if not isinstance(data, list):
        raise ApiError("body must be a JSON list of alerts")
    alerts: list[Alert] = []
    errors: list[str] = []
    for index, item in enumerate(data):
        try:
            if not isinstance(item, dict):
                raise ApiError("an alert must be an object")
            alert = _completed(item, now, resolve_timeout)
        except ApiError as exc:
            errors.append(f"alerts[{index}]: {exc}")
            continue
        problem = _validate(alert)
        if problem is None:
            alerts.append(alert)
        else:
            errors.append(f"alerts[{index}]: {problem}")
    return alerts, errors


def _completed(item: Mapping[str, Any], now: float, resolve_timeout: float) -> Alert:
    starts = parse_time(item.get("startsAt"), "startsAt")
    ends = parse_time(item.get("endsAt"), "endsAt")
    if starts is None:
        starts = now if ends is None else ends
    timeout = ends is None
    generator = item.get("generatorURL") or ""
    if not isinstance(generator, str):
        raise ApiError("generatorURL must be a string")
    return Alert(
        labels=labels_of(_string_map(item.get("labels"), "labels")),
        annotations=labels_of(_string_map(item.get("annotations"), "annotations")),
        starts_at=starts,
        ends_at=now + resolve_timeout if timeout else ends,
        generator_url=generator,
        updated_at=now,
        timeout=timeout,
    )


def postable(alerts: Iterable[Alert]) -> list[dict[str, Any]]:
    """Alerts as a ``POST /api/v2/alerts`` body (to forward them to an Alertmanager)."""
    return [
        {
            "labels": dict(a.labels),
            "annotations": dict(a.annotations),
            "startsAt": format_time(a.starts_at),
            "endsAt": format_time(a.ends_at),
            "generatorURL": a.generator_url,
        }
        for a in alerts
    ]


def gettable(
    alert: Alert,
    receivers: Iterable[str],
    silenced_by: Iterable[str] = (),
    inhibited_by: Iterable[str] = (),
) -> dict[str, Any]:
    """An alert as ``GET /api/v2/alerts`` returns it, with its receivers and mute state."""
    silenced, inhibited = sorted(silenced_by), sorted(inhibited_by)
    shown = {
        "annotations": dict(alert.annotations),
        "endsAt": format_time(alert.ends_at),
        "fingerprint": alert.fingerprint,
        "receivers": [{"name": r} for r in receivers],
        "startsAt": format_time(alert.starts_at),
        "status": {
            "inhibitedBy": inhibited,
            "silencedBy": silenced,
            "state": "suppressed" if silenced or inhibited else "active",
        },
        "updatedAt": format_time(alert.updated_at),
        "generatorURL": alert.generator_url,
        "labels": dict(alert.labels),
    }
    if not alert.generator_url:  # Alertmanager leaves an empty one out
        del shown["generatorURL"]
    return shown
