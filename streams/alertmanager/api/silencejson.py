"""Silences in Alertmanager's API v2 JSON: ``postableSilence`` in, ``gettableSilence`` out.

The shapes, the checks and their messages are Alertmanager 0.25's (checked with its
``POST /api/v2/silences``): required fields are refused with status 422, impossible times
and invalid matchers with 400. pulseline adds one optional field, ``expireOnResolve``.

Example:
    >>> body = {"matchers": [{"name": "job", "value": "db", "isRegex": False}],
    ...         "startsAt": "1970-01-01T00:01:40Z", "endsAt": "1970-01-01T01:00:00Z",
    ...         "createdBy": "ops", "comment": "upgrade"}
    >>> draft = parse_postable(body, now=100.0)
    >>> [str(m) for m in draft.matchers], draft.starts_at, draft.ends_at
    (['job="db"'], 100.0, 3600.0)
    >>> from dataclasses import replace
    >>> gettable(replace(draft, id="s1", updated_at=100.0), at=200.0)["status"]
    {'state': 'active'}
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from streams.alertmanager.config.matchers import Matcher, MatcherError, MatchOp
from streams.alertmanager.engine.silences import Silence, SilenceError, SilenceState
from streams.alertmanager.wire import ApiError, format_time, parse_time

_REQUIRED = ("comment", "createdBy", "endsAt", "matchers", "startsAt")
_STATE_ORDER: dict[SilenceState, int] = {"active": 1, "pending": 2, "expired": 3}


def _required(value: Any, field: str) -> Any:
    if value is None:
        raise SilenceError(f"{field} in body is required", status=422)
    return value


def _matcher(index: int, data: Any) -> Matcher:
    if not isinstance(data, Mapping):
        raise SilenceError(f"matchers.{index} in body must be of type object", status=422)
    name = _required(data.get("name"), f"matchers.{index}.name")
    value = _required(data.get("value"), f"matchers.{index}.value")
    regex = _required(data.get("isRegex"), f"matchers.{index}.isRegex")
    equal = data.get("isEqual", True)
    if not all(isinstance(x, str) for x in (name, value)) or not all(
        isinstance(x, bool) for x in (regex, equal)
    ):
        raise SilenceError(f"matchers.{index} has a field of the wrong type", status=422)
    op: MatchOp = ("=~" if equal else "!~") if regex else ("=" if equal else "!=")
    try:
        return Matcher(name, op, value)
    except MatcherError as exc:
        raise SilenceError(
            f"silence invalid: invalid label matcher {index}: {exc.reason}"
        ) from None


def parse_postable(data: Any, now: float) -> Silence:
    """A draft silence from a ``POST /api/v2/silences`` body (id empty for a new one).

    The API's own checks are made here (times in order, end not in the past); the rules of
    :meth:`streams.alertmanager.engine.silences.Silences.set` come after.

    Raises:
        SilenceError: with Alertmanager's message and status.
    """
    if not isinstance(data, Mapping):
        raise SilenceError("body must be a silence object", status=422)
    for field in _REQUIRED:
        _required(data.get(field), field)
    found = data["matchers"]
    if not isinstance(found, list) or not found:
        raise SilenceError("matchers in body should have at least 1 items", status=422)
    for field in ("comment", "createdBy", "id"):
        if not isinstance(data.get(field, ""), str):
            raise SilenceError(f"{field} in body must be of type string", status=422)
    expire_on_resolve = data.get("expireOnResolve", False)
    if not isinstance(expire_on_resolve, bool):
        raise SilenceError("expireOnResolve in body must be of type boolean", status=422)
    try:
        starts_at = parse_time(data["startsAt"], "startsAt")
        ends_at = parse_time(data["endsAt"], "endsAt")
    except ApiError as exc:
        raise SilenceError(str(exc), status=422) from None
    if starts_at is None or ends_at is None or starts_at >= ends_at:
        raise SilenceError("Failed to create silence: start time must be before end time")
    if ends_at < now:
        raise SilenceError("Failed to create silence: end time can't be in the past")
    return Silence(
        id=data.get("id") or "",
        matchers=tuple(_matcher(i, m) for i, m in enumerate(found)),
        starts_at=starts_at,
        ends_at=ends_at,
        created_by=data["createdBy"],
        comment=data["comment"],
        expire_on_resolve=expire_on_resolve,
    )


def matcher_json(m: Matcher) -> dict[str, Any]:
    """A matcher as the API writes it."""
    return {
        "isEqual": m.op in ("=", "=~"),
        "isRegex": m.op in ("=~", "!~"),
        "name": m.name,
        "value": m.value,
    }


def gettable(silence: Silence, at: float) -> dict[str, Any]:
    """A silence as ``GET /api/v2/silence/{id}`` returns it, its state taken at ``at``."""
    out: dict[str, Any] = {
        "id": silence.id,
        "status": {"state": silence.state(at)},
        "updatedAt": format_time(silence.updated_at),
        "comment": silence.comment,
        "createdBy": silence.created_by,
        "endsAt": format_time(silence.ends_at),
        "matchers": [matcher_json(m) for m in silence.matchers],
        "startsAt": format_time(silence.starts_at),
    }
    if silence.expire_on_resolve:
        out["expireOnResolve"] = True
    return out


def sort_silences(silences: Iterable[Silence], at: float) -> list[Silence]:
    """Alertmanager's order: active (next to end first), pending (next to start first),
    expired (most recently ended first)."""

    def key(s: Silence) -> tuple[int, float]:
        state = s.state(at)
        value = {"active": s.ends_at, "pending": s.starts_at, "expired": -s.ends_at}[state]
        return _STATE_ORDER[state], value

    return sorted(silences, key=key)


def filter_matches(silence: Silence, filters: Sequence[Matcher]) -> bool:
    """Whether a silence passes ``GET /api/v2/silences?filter=...``: every filter matcher
    must appear among the silence's matchers (same name, operator and value)."""
    return all(f in silence.matchers for f in filters)
