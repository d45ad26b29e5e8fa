"""Go's ``time.Time`` for templates: printed and formatted as Go prints and formats it.

``{{ .StartsAt }}`` prints ``2024-03-01 12:00:00.5 +0000 UTC``; ``{{ .StartsAt.Format
"2006-01-02T15:04:05Z07:00" }}`` uses Go's reference-time layouts; ``.Unix``, ``.UTC``,
``.Local``, ``.IsZero`` and the field methods are there too.

Example:
    >>> t = GoTime.from_unix(1709294400.5)
    >>> t.String(), t.Format("Mon Jan _2 3:04PM .000 Z07:00"), t.Unix()
    ('2024-03-01 12:00:00.5 +0000 UTC', 'Fri Mar  1 12:00PM .500 Z', 1709294400)
    >>> GoTime.zero().String(), GoTime.zero().IsZero()
    ('0001-01-01 00:00:00 +0000 UTC', True)
"""

from __future__ import annotations

import datetime as dt
import re
import time
from dataclasses import dataclass

_ZERO_UNIX = -62135596800  # 0001-01-01T00:00:00Z
_EPOCH = dt.datetime(1970, 1, 1)
_MONTHS = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
]
_DAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]
_CHUNK = re.compile(
    r"January|Jan(?![a-z])|Monday|Mon(?![a-z])|MST|0[1-6]|002|15|1|2006|_2006|__2|_2|2|[345]"
    r"|PM|pm|-070000|-07:00:00|-0700|-07:00|-07|Z070000|Z07:00:00|Z0700|Z07:00|Z07"
    r"|[.,](?:0+|9+)(?![0-9])"
)


@dataclass(frozen=True, slots=True)
class GoTime:
    """An instant with a zone: whole seconds since the Unix epoch, nanoseconds, offset."""

    go_type = "time.Time"

    seconds: int
    nanos: int = 0
    offset: int = 0
    zone: str = "UTC"

    @classmethod
    def from_unix(cls, at: float) -> GoTime:
        """A UTC time from Unix seconds, kept to the microsecond a float holds reliably."""
        micros = round(at * 1_000_000)
        seconds, micro = divmod(micros, 1_000_000)
        return cls(seconds, micro * 1000)

    @classmethod
    def zero(cls) -> GoTime:
        """Go's zero time, January 1 of year 1, UTC."""
        return cls(_ZERO_UNIX)

    def _wall(self) -> dt.datetime:
        return _EPOCH + dt.timedelta(seconds=self.seconds + self.offset)

    def String(self) -> str:
        """Go's ``Time.String``."""
        return self.Format("2006-01-02 15:04:05.999999999 -0700 MST")

    def Format(self, layout: str) -> str:
        """The time in a Go layout written with the reference time Mon Jan 2 15:04:05 2006."""
        return _CHUNK.sub(lambda m: self._chunk(m.group()), layout)

    def Unix(self) -> int:
        """Seconds since the Unix epoch."""
        return self.seconds

    def UnixMilli(self) -> int:
        """Milliseconds since the Unix epoch."""
        return self.seconds * 1000 + self.nanos // 1_000_000

    def UnixNano(self) -> int:
        """Nanoseconds since the Unix epoch."""
        return self.seconds * 1_000_000_000 + self.nanos

    def UTC(self) -> GoTime:
        """The same instant in UTC."""
        return GoTime(self.seconds, self.nanos)

    def Local(self) -> GoTime:
        """The same instant in this process's local zone."""
        try:
            local = time.localtime(self.seconds)
        except (OverflowError, OSError, ValueError):
            return self.UTC()
        return GoTime(self.seconds, self.nanos, local.tm_gmtoff, local.tm_zone)

    def IsZero(self) -> bool:
        """Whether this is the zero time."""
        return self.seconds == _ZERO_UNIX and self.nanos == 0

    def Before(self, other: GoTime) -> bool:
        """Whether this instant is before ``other``."""
        return (self.seconds, self.nanos) < (other.seconds, other.nanos)

    def After(self, other: GoTime) -> bool:
        """Whether this instant is after ``other``."""
        return (self.seconds, self.nanos) > (other.seconds, other.nanos)

    def Equal(self, other: GoTime) -> bool:
        """Whether both are the same instant."""
        return (self.seconds, self.nanos) == (other.seconds, other.nanos)

    def Year(self) -> int:
        """The year."""
        return self._wall().year

    def Day(self) -> int:
        """The day of the month."""
        return self._wall().day

    def YearDay(self) -> int:
        """The day of the year, 1 to 366."""
        return self._wall().timetuple().tm_yday

    def Hour(self) -> int:
        """The hour, 0 to 23."""
        return self._wall().hour

    def Minute(self) -> int:
        """The minute."""
        return self._wall().minute

    def Second(self) -> int:
        """The second."""
        return self._wall().second

    def Nanosecond(self) -> int:
        """The nanoseconds within the second."""
        return self.nanos

    def _zone_digits(self, chunk: str) -> str:
        if chunk.startswith("Z") and self.offset == 0:
            return "Z"
        sign = "-" if self.offset < 0 else "+"
        hours, rest = divmod(abs(self.offset), 3600)
        minutes, seconds = divmod(rest, 60)
        colon = ":" if ":" in chunk else ""
        digits = len(chunk.lstrip("Z-").replace(":", ""))
        parts = [f"{hours:02d}", f"{minutes:02d}", f"{seconds:02d}"][: digits // 2]
        return sign + colon.join(parts)

    def _chunk(self, chunk: str) -> str:
        wall = self._wall()
        hour12 = wall.hour % 12 or 12
        simple = {
            "January": _MONTHS[wall.month - 1],
            "Jan": _MONTHS[wall.month - 1][:3],
            "Monday": _DAYS[wall.weekday()],
            "Mon": _DAYS[wall.weekday()][:3],
            "01": f"{wall.month:02d}",
            "1": str(wall.month),
            "02": f"{wall.day:02d}",
            "2": str(wall.day),
            "_2": f"{wall.day:2d}",
            "__2": f"{wall.timetuple().tm_yday:3d}",
            "002": f"{wall.timetuple().tm_yday:03d}",
            "03": f"{hour12:02d}",
            "3": str(hour12),
            "15": f"{wall.hour:02d}",
            "04": f"{wall.minute:02d}",
            "4": str(wall.minute),
            "05": f"{wall.second:02d}",
            "5": str(wall.second),
            "06": f"{wall.year % 100:02d}",
            "2006": f"{wall.year:04d}",
            "_2006": f"_{wall.year:04d}",
            "PM": "PM" if wall.hour >= 12 else "AM",
            "pm": "pm" if wall.hour >= 12 else "am",
        }
        if chunk in simple:
            return simple[chunk]
        if chunk == "MST":
            return self.zone or self._zone_digits("-0700")
        if chunk[0] in "-Z":
            return self._zone_digits(chunk)
        digits = f"{self.nanos:09d}"[: len(chunk) - 1]
        if chunk[1] == "9":
            digits = digits.rstrip("0")
            return chunk[0] + digits if digits else ""
        return chunk[0] + digits
