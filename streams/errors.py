"""The one error tree of pulseline.

Every error pulseline raises on purpose derives from :class:`PulselineError`. Messages say
where the problem is: the line and column of a body, the topic/partition/offset of a record,
the bucket of a write, the file of a setting.
"""

from __future__ import annotations


class PulselineError(Exception):
    """Base class of every error pulseline raises on purpose."""


class ConfigError(PulselineError):
    """Settings are invalid or a configuration file cannot be read."""


class ParseError(PulselineError):
    """A body in a wire format could not be parsed.

    Attributes:
        line: 1-based line number of the offending line in the body.
        column: 1-based column where the problem was found, if known.
        reason: what is wrong, without the position.
    """

    def __init__(self, reason: str, *, line: int, column: int | None = None) -> None:
        self.reason = reason
        self.line = line
        self.column = column
        where = f"line {line}" if column is None else f"line {line}, column {column}"
        super().__init__(f"{where}: {reason}")


class BodyParseError(PulselineError):
    """A request body had one or more bad lines; nothing of it was accepted.

    Attributes:
        errors: the first bad lines' errors, in body order (at most ``MAX_REPORTED``).
        bad_lines: how many lines were bad in all.
    """

    MAX_REPORTED = 10

    def __init__(self, errors: list[ParseError], bad_lines: int) -> None:
        self.errors = errors
        self.bad_lines = bad_lines
        listed = "; ".join(str(e) for e in errors)
        more = bad_lines - len(errors)
        suffix = f"; and {more} more bad lines" if more > 0 else ""
        super().__init__(f"{bad_lines} bad line(s): {listed}{suffix}")


class RecordDecodeError(PulselineError):
    """A Kafka record's value is not a valid pulseline batch."""


class TopicError(PulselineError):
    """A topic is missing or has another partition count than configured."""


class SinkError(PulselineError):
    """A write to a time-series database failed.

    Attributes:
        status: the HTTP status the database answered, or None when no answer came.
        bucket: the bucket the write was for.
    """

    def __init__(self, message: str, *, status: int | None, bucket: str) -> None:
        self.status = status
        self.bucket = bucket
        super().__init__(f"bucket {bucket!r}: {message}")


class SnapshotError(PulselineError):
    """Data given to restore is not a snapshot of an engine with the same tiers.

    Example:
        >>> str(SnapshotError("not a downsampler snapshot (bad magic)"))
        'not a downsampler snapshot (bad magic)'
    """
