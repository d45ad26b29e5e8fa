import pytest

from streams.durations import format_duration, parse_duration


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("30s", 30),
        ("5m", 300),
        ("1h30m", 5400),
        ("1w", 604800),
        ("3d", 259200),
        ("1y", 31536000),
        ("250ms", 0.25),
    ],
)
def test_parse_and_format(text: str, seconds: float) -> None:
    assert parse_duration(text) == seconds
    assert format_duration(seconds) == text


@pytest.mark.parametrize("text", ["", "5", "m", "1.5h", "7 days", "-1s", "1h 30m"])
def test_bad_durations(text: str) -> None:
    with pytest.raises(ValueError, match="not a duration"):
        parse_duration(text)
