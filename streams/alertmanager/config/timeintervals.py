"""Named time intervals, as ``time_intervals`` declares them, with Alertmanager 0.25's rules.

A named interval is a list of periods; an instant is in the interval when it is in any of
them. A period restricts the clock time (``times``), the day of the week (``weekdays``),
of the month (``days_of_month``, negative counting from the month's end), the month and the
year, read in its ``location`` (an IANA zone name; UTC when absent). A field left out (or
null) does not restrict; a field given as an empty list matches nothing, as in Alertmanager.

Two details follow Alertmanager to the letter: ``times`` end exclusively (``17:00`` is not
in ``09:00``-``17:00``), and a month's length is its duration in whole days, so in a zone
that springs forward in March, March counts 30 days there (``days_of_month: ['-1']`` is
March 30th and ``['31']`` never matches).

Example:
    >>> office = TimeInterval("office", (TimePeriod(
    ...     times=(parse_time_range("09:00", "17:00"),),
    ...     weekdays=(parse_weekday_range("monday:friday"),),
    ...     location="Europe/Berlin",
    ... ),))
    >>> office.contains(1774854000.0)  # Monday 2026-03-30 09:00 in Berlin (07:00 UTC)
    True
    >>> office.contains(1774886400.0)  # the same day at 16:00 UTC, 18:00 in Berlin
    False
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, tzinfo
from functools import cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from streams.errors import ConfigError

WEEKDAYS = ("sunday", "monday", "tuesday", "wednesday", "thursday", "friday", "saturday")
MONTHS = (
    *("january", "february", "march", "april", "may", "june", "july", "august"),
    *("september", "october", "november", "december"),
)

_CLOCK = re.compile(r"(?:[01][0-9]|2[0-3]):[0-5][0-9]|24:00")
_ATOI = re.compile(r"[+-]?[0-9]+")


class TimeIntervalError(ConfigError):
    """A field of a time interval is invalid; the message says which value and why."""


@dataclass(frozen=True, slots=True)
class TimeRange:
    """Minutes of the day from ``start`` (included) to ``end`` (excluded), 0 to 1440."""

    start: int
    end: int


@dataclass(frozen=True, slots=True)
class DayRange:
    """An inclusive range of weekdays (0 = Sunday), days of the month, months or years."""

    begin: int
    end: int


@dataclass(frozen=True, slots=True)
class TimePeriod:
    """One entry of a named interval's ``time_intervals`` list.

    Attributes:
        times: clock-time ranges, or None for any time.
        weekdays: weekday ranges (0 = Sunday), or None for any day.
        days_of_month: day ranges, negative days counting from the end (-1 = last day).
        months: month ranges (1 = January).
        years: year ranges.
        location: the zone the fields are read in: an IANA name, ``UTC`` (also for ``""``)
            or ``Local`` (the zone of the machine, as Go's ``time.Local``).
    """

    times: tuple[TimeRange, ...] | None = None
    weekdays: tuple[DayRange, ...] | None = None
    days_of_month: tuple[DayRange, ...] | None = None
    months: tuple[DayRange, ...] | None = None
    years: tuple[DayRange, ...] | None = None
    location: str = ""

    def contains(self, at: float) -> bool:
        """Whether the instant ``at`` (Unix seconds) lies in this period."""
        # None: the machine's zone; a naive datetime keeps its rules for _month_days.
        t = datetime.fromtimestamp(at, zone_of(self.location))
        minute = t.hour * 60 + t.minute
        if self.times is not None and not any(r.start <= minute < r.end for r in self.times):
            return False
        if self.days_of_month is not None and not _in_days_of_month(t, self.days_of_month):
            return False
        if self.months is not None and not _within(t.month, self.months):
            return False
        weekday = (t.weekday() + 1) % 7
        if self.weekdays is not None and not _within(weekday, self.weekdays):
            return False
        return self.years is None or _within(t.year, self.years)


@dataclass(frozen=True, slots=True)
class TimeInterval:
    """A named time interval: the union of its periods.

    Attributes:
        name: the name routes refer to in ``mute_time_intervals``/``active_time_intervals``.
        periods: the periods; an instant in any of them is in the interval.
    """

    name: str
    periods: tuple[TimePeriod, ...]

    def contains(self, at: float) -> bool:
        """Whether the instant ``at`` (Unix seconds) lies in the interval."""
        return any(p.contains(at) for p in self.periods)


def _within(value: int, ranges: tuple[DayRange, ...]) -> bool:
    return any(r.begin <= value <= r.end for r in ranges)


def _month_days(t: datetime) -> int:
    """The month's length as Alertmanager computes it: whole days between two midnights.

    ``t`` is aware in a zone with rules (UTC, a ZoneInfo) or naive in the machine's zone.
    """
    first = t.replace(day=1, hour=0, minute=0, second=0, microsecond=0, fold=0)
    year, month = (t.year + 1, 1) if t.month == 12 else (t.year, t.month + 1)
    following = first.replace(year=year, month=month)
    return int((following.timestamp() - first.timestamp()) / 86400)


def _in_days_of_month(t: datetime, ranges: tuple[DayRange, ...]) -> bool:
    days = _month_days(t)
    for r in ranges:
        begin = days + r.begin + 1 if r.begin < 0 else r.begin
        end = days + r.end + 1 if r.end < 0 else r.end
        if begin > days:
            continue
        begin, end = (min(max(v, -days), days) for v in (begin, end))
        if begin <= t.day <= end:
            return True
    return False


@cache
def zone_of(location: str) -> tzinfo | None:
    """The zone of a ``location`` value; None for ``Local`` (the machine's zone).

    Raises:
        TimeIntervalError: the name is not a known zone.
    """
    if location in ("", "UTC"):
        return UTC
    if location == "Local":
        return None
    try:
        return ZoneInfo(location)
    except (ZoneInfoNotFoundError, ValueError):
        raise TimeIntervalError(f"unknown time zone {location!r}") from None


def parse_time_range(start: str, end: str) -> TimeRange:
    """A ``times`` entry from its ``start_time`` and ``end_time`` (``HH:MM``, up to 24:00).

    Raises:
        TimeIntervalError: a time is missing or malformed, or the start is not before the end.

    >>> parse_time_range("23:00", "24:00")
    TimeRange(start=1380, end=1440)
    """
    if not start or not end:
        raise TimeIntervalError("both start_time and end_time must be given")
    minutes = []
    for text in (start, end):
        if not _CLOCK.fullmatch(text):
            raise TimeIntervalError(f"time {text!r} is not HH:MM (00:00 to 24:00)")
        hours, mins = text.split(":")
        minutes.append(int(hours) * 60 + int(mins))
    if minutes[0] >= minutes[1]:
        raise TimeIntervalError(f"start_time {start} is not before end_time {end}")
    return TimeRange(minutes[0], minutes[1])


def _range(text: str, member: Callable[[str], int]) -> DayRange:
    lowered = text.lower()
    parts = lowered.split(":")
    if len(parts) > 2:
        raise TimeIntervalError(f"range {text!r} is not 'start:end' or a single value")
    values = [member(p) for p in parts]
    return DayRange(values[0], values[-1])


def _integer(text: str) -> int:
    if not _ATOI.fullmatch(text):
        raise TimeIntervalError(f"{text!r} is not an integer")
    return int(text)


def _weekday(text: str) -> int:
    if text not in WEEKDAYS:
        raise TimeIntervalError(f"{text!r} is not a weekday (sunday to saturday)")
    return WEEKDAYS.index(text)


def _month(text: str) -> int:
    if text in MONTHS:
        return MONTHS.index(text) + 1
    if not _ATOI.fullmatch(text):
        raise TimeIntervalError(f"{text!r} is not a month (january to december, or 1 to 12)")
    return int(text)


def parse_weekday_range(text: str) -> DayRange:
    """A ``weekdays`` entry: a day name or ``start:end``, case-insensitive (0 = Sunday).

    Raises:
        TimeIntervalError: an unknown name, or the range runs backwards (no wrap-around).

    >>> parse_weekday_range("Monday:FRIDAY")
    DayRange(begin=1, end=5)
    """
    r = _range(text, _weekday)
    if r.begin > r.end:
        raise TimeIntervalError(f"weekday range {text!r} ends before it starts")
    return r


def parse_day_of_month_range(text: str) -> DayRange:
    """A ``days_of_month`` entry: ``N`` or ``start:end``, from 1 to 31 or -31 to -1.

    Raises:
        TimeIntervalError: zero or out of range, a negative start with a positive end, or a
            range that ends before it starts in every month.

    >>> parse_day_of_month_range("-3:-1")
    DayRange(begin=-3, end=-1)
    """
    r = _range(text, _integer)
    for day in (r.begin, r.end):
        if day == 0 or not -31 <= day <= 31:
            raise TimeIntervalError(f"day of the month {day} is out of range (1 to 31, -31 to -1)")
    if r.begin < 0 < r.end:
        raise TimeIntervalError(
            f"days of the month {text!r}: a negative start needs a negative end"
        )
    begin = 28 + r.begin if r.begin < 0 else r.begin
    end = 28 + r.end if r.end < 0 else r.end
    if begin > end:
        raise TimeIntervalError(f"days of the month {text!r}: the end is always before the start")
    return r


def parse_month_range(text: str) -> DayRange:
    """A ``months`` entry: a month name or number, or ``start:end`` (1 = January).

    Raises:
        TimeIntervalError: an unknown month, or the range runs backwards.

    >>> parse_month_range("january:3")
    DayRange(begin=1, end=3)
    """
    r = _range(text, _month)
    if r.begin > r.end:
        raise TimeIntervalError(f"month range {text!r} ends before it starts")
    return r


def parse_year_range(text: str) -> DayRange:
    """A ``years`` entry: ``YYYY`` or ``start:end``.

    Raises:
        TimeIntervalError: not an integer, or the range runs backwards.

    >>> parse_year_range("2024:2026")
    DayRange(begin=2024, end=2026)
    """
    r = _range(text, _integer)
    if r.begin > r.end:
        raise TimeIntervalError(f"year range {text!r} ends before it starts")
    return r
