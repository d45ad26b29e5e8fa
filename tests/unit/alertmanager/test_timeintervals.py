from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from amtool_oracle import check_config, yaml_string

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
from streams.errors import ConfigError

BERLIN = ZoneInfo("Europe/Berlin")


def berlin(*args: int) -> float:
    """Unix seconds of a wall-clock time in Berlin (the first one when it occurs twice)."""
    return datetime(*args, tzinfo=BERLIN).timestamp()  # type: ignore[misc]


def utc(*args: int) -> float:
    return datetime(*args, tzinfo=ZoneInfo("UTC")).timestamp()  # type: ignore[misc]


def test_clock_times_across_the_spring_dst_change_in_berlin() -> None:
    # 2026-03-29: at 01:00 UTC Berlin goes from 02:00 CET to 03:00 CEST; 02:xx never happens.
    night = TimePeriod(times=(parse_time_range("02:00", "03:00"),), location="Europe/Berlin")
    assert not night.contains(utc(2026, 3, 29, 0, 59, 59))  # 01:59:59 CET
    assert not night.contains(utc(2026, 3, 29, 1, 0))  # 03:00 CEST
    assert night.contains(utc(2026, 3, 28, 1, 30))  # the day before: 02:30 CET
    assert night.contains(utc(2026, 3, 30, 0, 30))  # the day after: 02:30 CEST


def test_clock_times_across_the_autumn_dst_change_in_berlin() -> None:
    # 2026-10-25: at 01:00 UTC Berlin goes from 03:00 CEST back to 02:00 CET; 02:xx happens twice.
    night = TimePeriod(times=(parse_time_range("02:00", "03:00"),), location="Europe/Berlin")
    inside = [utc(2026, 10, 25, 0, 0), utc(2026, 10, 25, 0, 59), utc(2026, 10, 25, 1, 0)]
    inside.append(utc(2026, 10, 25, 1, 59))
    assert all(night.contains(t) for t in inside)
    assert not night.contains(utc(2026, 10, 24, 23, 59))  # 01:59 CEST
    assert not night.contains(utc(2026, 10, 25, 2, 0))  # 03:00 CET


def test_office_hours_follow_the_zone_offset_change() -> None:
    office = TimePeriod(
        times=(parse_time_range("09:00", "17:00"),),
        weekdays=(parse_weekday_range("monday:friday"),),
        location="Europe/Berlin",
    )
    # Friday 2026-03-27 (CET, UTC+1) and Monday 2026-03-30 (CEST, UTC+2).
    assert office.contains(utc(2026, 3, 27, 8, 0))
    assert not office.contains(utc(2026, 3, 27, 7, 59))
    assert not office.contains(utc(2026, 3, 27, 16, 0))  # 17:00: the end is excluded
    assert office.contains(utc(2026, 3, 30, 7, 0))
    assert not office.contains(utc(2026, 3, 30, 6, 59))
    assert not office.contains(utc(2026, 3, 30, 15, 0))
    assert not office.contains(berlin(2026, 3, 29, 12, 0))  # Sunday


def test_weekday_is_read_in_the_location() -> None:
    monday = TimePeriod(weekdays=(parse_weekday_range("monday"),), location="Europe/Berlin")
    sunday_late_utc = utc(2026, 3, 29, 22, 30)  # Monday 00:30 CEST
    assert monday.contains(sunday_late_utc)
    assert not TimePeriod(weekdays=(parse_weekday_range("monday"),)).contains(sunday_late_utc)


def test_month_length_is_whole_days_between_midnights_as_alertmanager_counts() -> None:
    # March 2026 in Berlin lasts 30 days and 23 hours: Alertmanager counts 30 days, so the
    # last day (-1) is the 30th and day 31 is never in the interval; in UTC March has 31.
    last = TimePeriod(days_of_month=(parse_day_of_month_range("-1"),), location="Europe/Berlin")
    assert last.contains(berlin(2026, 3, 30, 12, 0))
    assert not last.contains(berlin(2026, 3, 31, 12, 0))
    day31 = TimePeriod(days_of_month=(parse_day_of_month_range("31"),), location="Europe/Berlin")
    assert not day31.contains(berlin(2026, 3, 31, 12, 0))
    # October lasts 31 days and 1 hour there: 31 days.
    assert last.contains(berlin(2026, 10, 31, 12, 0))
    assert TimePeriod(days_of_month=(DayRange(-1, -1),)).contains(utc(2026, 3, 31, 12, 0))


def test_days_of_month_ranges_with_negatives_and_clamping() -> None:
    last_three = TimePeriod(days_of_month=(parse_day_of_month_range("-3:-1"),))
    assert [last_three.contains(utc(2026, 2, d, 12)) for d in (25, 26, 27, 28)] == [
        False,
        True,
        True,
        True,
    ]
    # 20th to 3rd-from-last; a start past the month's end is skipped.
    mid = TimePeriod(days_of_month=(parse_day_of_month_range("20:-3"),))
    assert mid.contains(utc(2026, 2, 26, 0)) and not mid.contains(utc(2026, 2, 27, 0))
    late = TimePeriod(days_of_month=(parse_day_of_month_range("30:31"),))
    assert not late.contains(utc(2026, 2, 28, 0)) and late.contains(utc(2026, 1, 31, 0))


def test_months_years_and_combined_fields() -> None:
    winter = TimePeriod(
        months=(parse_month_range("december"), parse_month_range("January:2")),
        years=(parse_year_range("2026:2027"),),
    )
    assert winter.contains(utc(2026, 1, 15)) and winter.contains(utc(2027, 12, 1))
    assert not winter.contains(utc(2026, 3, 1)) and not winter.contains(utc(2028, 1, 1))


def test_absent_fields_match_everything_and_empty_lists_nothing() -> None:
    at = utc(2026, 5, 5, 5, 5)
    assert TimePeriod().contains(at)
    assert not TimePeriod(weekdays=()).contains(at)
    assert not TimePeriod(times=()).contains(at)
    named = TimeInterval("n", (TimePeriod(weekdays=()), TimePeriod(years=(DayRange(2026, 2026),))))
    assert named.contains(at)
    assert not TimeInterval("none", ()).contains(at)


def test_parsed_values() -> None:
    assert parse_time_range("00:00", "24:00") == TimeRange(0, 1440)
    assert parse_weekday_range("sunday") == DayRange(0, 0)
    assert parse_day_of_month_range("+3") == DayRange(3, 3)
    assert parse_month_range("13") == DayRange(13, 13)  # accepted, matches no month
    assert parse_year_range("-5:2020") == DayRange(-5, 2020)


def test_locations() -> None:
    assert zone_of("") == zone_of("UTC")
    assert zone_of("Local") is None
    with pytest.raises(TimeIntervalError, match="unknown time zone 'Mars/Base'"):
        zone_of("Mars/Base")
    with pytest.raises(TimeIntervalError):
        zone_of("../etc/passwd")


# (field, value, parser) that Alertmanager refuses; each refusal is also checked with amtool.
REFUSED: list[tuple[str, str, Callable[[str], DayRange]]] = [
    ("weekdays", "1", parse_weekday_range),
    ("weekdays", "saturday:sunday", parse_weekday_range),
    ("weekdays", "mon", parse_weekday_range),
    ("days_of_month", "0", parse_day_of_month_range),
    ("days_of_month", "32", parse_day_of_month_range),
    ("days_of_month", "-3:5", parse_day_of_month_range),
    ("days_of_month", "27:-3", parse_day_of_month_range),
    ("days_of_month", "1:2:3", parse_day_of_month_range),
    ("months", "march:january", parse_month_range),
    ("months", "jan", parse_month_range),
    ("years", " 2020", parse_year_range),
    ("years", "2021:2020", parse_year_range),
    ("years", "2_020", parse_year_range),
]
ACCEPTED = [
    ("weekdays", "Monday:FRIDAY"),
    ("days_of_month", "20:-3"),
    ("days_of_month", "+3"),
    ("months", "0:3"),
    ("years", "-5:2020"),
]
TIMES_REFUSED = [("9:00", "10:00"), ("00:00", "24:01"), ("23:00", "01:00"), ("23:00", "")]


def _config(field: str, value: str) -> str:
    return (
        "route: {receiver: r}\nreceivers: [{name: r}]\n"
        f"time_intervals: [{{name: t, time_intervals: [{{{field}: [{yaml_string(value)}]}}]}}]\n"
    )


@pytest.mark.parametrize(("field", "value", "parse"), REFUSED)
def test_refused_values(field: str, value: str, parse: Callable[[str], DayRange]) -> None:
    with pytest.raises(TimeIntervalError) as info:
        parse(value)
    assert isinstance(info.value, ConfigError)


@pytest.mark.parametrize(("start", "end"), TIMES_REFUSED)
def test_refused_times(start: str, end: str) -> None:
    with pytest.raises(TimeIntervalError):
        parse_time_range(start, end)


def test_amtool_agrees_on_what_is_refused_and_accepted(tmp_path: Path) -> None:
    path = tmp_path / "am.yml"
    for field, value, _ in REFUSED:
        path.write_text(_config(field, value))
        assert not check_config(path)[0], (field, value)
    for start, end in TIMES_REFUSED:
        times = f"{{start_time: {yaml_string(start)}, end_time: {yaml_string(end)}}}"
        path.write_text(
            "route: {receiver: r}\nreceivers: [{name: r}]\n"
            f"time_intervals: [{{name: t, time_intervals: [{{times: [{times}]}}]}}]\n"
        )
        assert not check_config(path)[0], (start, end)
    for field, value in ACCEPTED:
        path.write_text(_config(field, value))
        assert check_config(path)[0], (field, value)
