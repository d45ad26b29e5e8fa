"""The ``/silences`` page's model: the silences, and the new-silence form as an API body.

Silences come as ``GET /api/v2/silences`` answers them and are listed active first, then
pending, then expired, as Alertmanager's page groups them. The form takes matchers in the
syntax of amtool and ``alertmanager.yml`` (``alertname="Down", severity=~"crit.*"``), a
duration (``2h``) or an end time, the author and a comment; :func:`silence_body` turns it
into the ``POST /api/v2/silences`` body the alert manager takes, so the page creates a
silence exactly as the API and ``pulseline silence add`` do.

Example:
    >>> form = SilenceForm(matchers='alertname="Down"', duration="1h", created_by="ops",
    ...                    comment="deploy")
    >>> body = silence_body(form, now_s=0.0)
    >>> body["matchers"], body["endsAt"]
    ([{'isEqual': True, 'isRegex': False, 'name': 'alertname', 'value': 'Down'}], \
'1970-01-01T01:00:00.000Z')
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from streams.alertmanager.api.silencejson import matcher_json
from streams.alertmanager.config.matchers import MatcherError, escape_value, parse_matchers
from streams.alertmanager.wire import format_time
from streams.durations import parse_duration
from streams.web.errors import PageError
from streams.web.when import ago, parse_utc, utc

PAGE = "/silences"
STATES = ("active", "pending", "expired")


@dataclass(frozen=True)
class SilenceForm:
    """The new-silence form's fields, as typed (shown again with the error if refused)."""

    matchers: str = ""
    duration: str = "2h"
    created_by: str = ""
    comment: str = ""

    @classmethod
    def from_fields(cls, fields: Mapping[str, str]) -> SilenceForm:
        """The form from posted (or query) fields; missing ones keep their defaults."""
        return cls(
            matchers=fields.get("matchers", ""),
            duration=fields.get("duration", "") or cls.duration,
            created_by=fields.get("created_by", ""),
            comment=fields.get("comment", ""),
        )


@dataclass(frozen=True)
class SilenceRow:
    """One silence.

    Attributes:
        id: its id.
        state: ``active``, ``pending`` or ``expired``.
        matchers: its matchers as text (``name="value"``...).
        starts: its start (UTC).
        ends: its end (UTC).
        ends_when: ``in 1h 5m`` or ``3m ago``.
        created_by: its author.
        comment: its comment.
    """

    id: str
    state: str
    matchers: list[str]
    starts: str
    ends: str
    ends_when: str
    created_by: str
    comment: str


@dataclass(frozen=True)
class SilencesPage:
    """The ``/silences`` page: silences by state, and the form."""

    by_state: dict[str, list[SilenceRow]]
    form: SilenceForm
    error: str = ""


def matcher_text(matcher: Mapping[str, Any]) -> str:
    """An API matcher as text.

    Example:
        >>> matcher_text({"name": "job", "value": "a.*", "isRegex": True, "isEqual": False})
        'job!~"a.*"'
    """
    op = ("=" if matcher.get("isEqual", True) else "!") + ("~" if matcher["isRegex"] else "")
    if op == "!":
        op = "!="
    return f'{matcher["name"]}{op}"{escape_value(matcher["value"])}"'


def silences_page(
    silences: Sequence[Mapping[str, Any]],
    *,
    now_ms: int,
    form: SilenceForm | None = None,
    error: str = "",
) -> SilencesPage:
    """Build the page from the alert manager's silences (API answers)."""
    by_state: dict[str, list[SilenceRow]] = {state: [] for state in STATES}
    for s in silences:
        ends = parse_utc(s["endsAt"])
        by_state.setdefault(s["status"]["state"], []).append(
            SilenceRow(
                id=s["id"],
                state=s["status"]["state"],
                matchers=[matcher_text(m) for m in s["matchers"]],
                starts=utc(parse_utc(s["startsAt"])),
                ends=utc(ends),
                ends_when=ago(ends, now_ms=now_ms),
                created_by=s.get("createdBy", ""),
                comment=s.get("comment", ""),
            )
        )
    return SilencesPage(by_state, form or SilenceForm(), error)


def silence_body(form: SilenceForm, *, now_s: float) -> dict[str, Any]:
    """The ``POST /api/v2/silences`` body of a filled form, starting now.

    Raises:
        PageError: a field is missing or malformed (named in the error).
    """
    try:
        matchers = parse_matchers(form.matchers)
    except MatcherError as exc:
        raise PageError(PAGE, "matchers", str(exc)) from None
    if not matchers:
        raise PageError(PAGE, "matchers", 'at least one matcher, such as alertname="Down"')
    try:
        ends = _ends(form.duration.strip(), now_s)
    except ValueError as exc:
        raise PageError(PAGE, "duration", str(exc)) from None
    if ends <= now_s:
        raise PageError(PAGE, "duration", "the silence must end in the future")
    if not form.created_by.strip():
        raise PageError(PAGE, "created_by", "say who creates the silence")
    if not form.comment.strip():
        raise PageError(PAGE, "comment", "say why (a comment is required)")
    return {
        "matchers": [matcher_json(m) for m in matchers],
        "startsAt": format_time(now_s),
        "endsAt": format_time(ends),
        "createdBy": form.created_by.strip(),
        "comment": form.comment.strip(),
    }


def _ends(text: str, now_s: float) -> float:
    """A duration from now (``2h``) or an RFC 3339 end time."""
    if text[:1].isdigit() and ("T" in text or "-" in text):
        return parse_utc(text) / 1000
    return now_s + parse_duration(text)
