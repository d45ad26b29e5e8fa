"""Reading ``inhibit_rules``, ``time_intervals`` and ``templates`` of ``alertmanager.yml``.

Each reader takes the section's node and a :class:`NodeReader`, records problems with their
positions and returns what is valid. Templates are globs relative to the configuration
file's directory, expanded to the files they match (a glob matching nothing is fine, as in
Alertmanager; a malformed glob is refused).
"""

from __future__ import annotations

import glob
import os
from dataclasses import dataclass
from pathlib import Path

from streams.alertmanager.config.matchers import (
    LABEL_NAME,
    Matcher,
    MatcherError,
    from_match_maps,
    parse_matchers,
    sort_matchers,
)
from streams.alertmanager.config.nodes import NodeReader
from streams.alertmanager.config.timeintervals import (
    DayRange,
    TimeInterval,
    TimeIntervalError,
    TimePeriod,
    TimeRange,
    parse_day_of_month_range,
    parse_month_range,
    parse_time_range,
    parse_weekday_range,
    parse_year_range,
    zone_of,
)
from streams.rules.yamlpos import Node, is_null

INHIBIT_KEYS = (
    *("source_match", "source_match_re", "source_matchers"),
    *("target_match", "target_match_re", "target_matchers", "equal"),
)
PERIOD_KEYS = ("times", "weekdays", "days_of_month", "months", "years", "location")
_RANGE_PARSERS = {
    "weekdays": parse_weekday_range,
    "days_of_month": parse_day_of_month_range,
    "months": parse_month_range,
    "years": parse_year_range,
}


@dataclass(frozen=True, slots=True)
class InhibitRule:
    """Mute alerts matching ``target_matchers`` while an alert matching ``source_matchers``
    fires with the same values of the ``equal`` labels (both missing counts as equal).

    Attributes:
        source_matchers: what the inhibiting alert satisfies (``source_match``,
            ``source_match_re`` and ``source_matchers`` together).
        target_matchers: what the inhibited alert satisfies.
        equal: labels whose values must be equal in both alerts.
    """

    source_matchers: tuple[Matcher, ...]
    target_matchers: tuple[Matcher, ...]
    equal: tuple[str, ...]


def read_inhibit_rule(reader: NodeReader, node: Node, what: str) -> InhibitRule | None:
    """One entry of ``inhibit_rules``."""
    fields = reader.fields(node, what, INHIBIT_KEYS)
    if fields is None:
        return None
    sides: dict[str, list[Matcher]] = {"source": [], "target": []}
    for side, found in sides.items():
        for kind in ("match", "match_re"):
            key = f"{side}_{kind}"
            entries = reader.text_map(fields[key], f"{what}: {key}") if key in fields else None
            for name, value, at in entries or ():
                if kind == "match_re" and is_null(at):
                    reader.problem(at, f"{what}: {key}: no regular expression for {name!r}")
                    continue
                try:
                    pair = {name: value}
                    found += (
                        from_match_maps(pair) if kind == "match" else from_match_maps(None, pair)
                    )
                except MatcherError as exc:
                    reader.problem(at, f"{what}: {key}: {exc.reason}")
        key = f"{side}_matchers"
        lines = reader.texts(fields[key], f"{what}: {key}") if key in fields else None
        for line, at in lines or ():
            try:
                found += parse_matchers(line)
            except MatcherError as exc:
                reader.problem(at, f"{what}: {key}: {exc.reason}")
    equal = reader.texts(fields["equal"], f"{what}: equal") if "equal" in fields else None
    for name, at in equal or ():
        if not LABEL_NAME.match(name):
            reader.problem(at, f"{what}: equal: {name!r} is not a valid label name")
    return InhibitRule(
        sort_matchers(sides["source"]),
        sort_matchers(sides["target"]),
        tuple(name for name, _ in equal or ()),
    )


def read_time_interval(reader: NodeReader, node: Node, what: str) -> TimeInterval | None:
    """One named entry of ``time_intervals`` (or of the older ``mute_time_intervals``)."""
    fields = reader.fields(node, what, ("name", "time_intervals"))
    if fields is None:
        return None
    name = reader.text(fields["name"], f"{what}: name") if "name" in fields else ""
    if not name:
        if name is not None:
            reader.problem(fields.get("name", node), f"{what}: a time interval needs a name")
        return None
    what = f"time interval {name!r}"
    items = reader.items(fields["time_intervals"], what) if "time_intervals" in fields else []
    periods = [
        _period(reader, item, f"{what}: time_intervals[{i}]") for i, item in enumerate(items)
    ]
    return TimeInterval(name, tuple(p for p in periods if p is not None))


def _period(reader: NodeReader, node: Node, what: str) -> TimePeriod | None:
    before = len(reader.problems)
    fields = reader.fields(node, what, PERIOD_KEYS)
    if fields is None:
        return None
    location = reader.text(fields["location"], f"{what}: location") if "location" in fields else ""
    try:
        zone_of(location or "")
    except TimeIntervalError as exc:
        reader.problem(fields["location"], f"{what}: location: {exc}")
    ranges: dict[str, tuple[DayRange, ...] | None] = {}
    for key, parse in _RANGE_PARSERS.items():
        entries = reader.texts(fields[key], f"{what}: {key}") if key in fields else None
        parsed: list[DayRange] = []
        for text, at in entries or ():
            try:
                parsed.append(parse(text))
            except TimeIntervalError as exc:
                reader.problem(at, f"{what}: {key}: {exc}")
        ranges[key] = None if entries is None else tuple(parsed)
    times = _times(reader, fields["times"], f"{what}: times") if "times" in fields else None
    if len(reader.problems) > before:
        return None
    return TimePeriod(times=times, location=location or "", **ranges)


def _times(reader: NodeReader, node: Node, what: str) -> tuple[TimeRange, ...] | None:
    """The ``times`` entries; None when null (no restriction), as an absent field."""
    if is_null(node):
        return None
    out: list[TimeRange] = []
    for i, item in enumerate(reader.items(node, what)):
        fields = reader.fields(item, f"{what}[{i}]", ("start_time", "end_time"))
        if fields is None:
            continue
        start = reader.text(fields["start_time"], what) if "start_time" in fields else ""
        end = reader.text(fields["end_time"], what) if "end_time" in fields else ""
        try:
            out.append(parse_time_range(start or "", end or ""))
        except TimeIntervalError as exc:
            reader.problem(item, f"{what}[{i}]: {exc}")
    return tuple(out)


def read_templates(reader: NodeReader, node: Node, base: Path) -> tuple[Path, ...]:
    """The files matched by the ``templates`` globs, relative to ``base``, in order."""
    found: dict[Path, None] = {}
    for pattern, at in reader.texts(node, "templates") or ():
        if not pattern:
            continue
        try:
            translated = go_glob(pattern)
        except ValueError as exc:
            reader.problem(at, f"templates: {exc}")
            continue
        full = (
            translated
            if os.path.isabs(pattern)
            else os.path.join(glob.escape(str(base)), translated)
        )
        for match in sorted(glob.glob(full, include_hidden=True)):
            found.setdefault(Path(match), None)
    return tuple(found)


def go_glob(pattern: str) -> str:
    """A Go ``filepath.Glob`` pattern as a Python :mod:`glob` pattern.

    Go's ``[^...]`` is Python's ``[!...]`` and Go's ``\\c`` escape is ``[c]``.

    Raises:
        ValueError: the pattern is malformed (an unclosed ``[``, a trailing ``\\``).

    >>> go_glob("*.tmpl"), go_glob("a[^b]\\\\*")
    ('*.tmpl', 'a[!b][*]')
    """
    out: list[str] = []
    i = 0
    while i < len(pattern):
        char = pattern[i]
        if char == "\\":
            if i + 1 == len(pattern):
                raise ValueError(f"malformed glob {pattern!r}: it ends with a backslash")
            out.append(f"[{pattern[i + 1]}]")
            i += 2
            continue
        if char == "[":
            end = pattern.find("]", i + 2 if pattern[i + 1 : i + 2] == "^" else i + 1)
            if end < 0 or end == i + 1:
                raise ValueError(f"malformed glob {pattern!r}: unclosed '['")
            body = pattern[i + 1 : end]
            out.append("[" + ("!" + body[1:] if body.startswith("^") else body) + "]")
            i = end + 1
            continue
        out.append(char)
        i += 1
    return "".join(out)
