from pathlib import Path

import pytest
from amtool_oracle import check_config, route_matchers, routes_config
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from streams.alertmanager.config.matchers import (
    Matcher,
    MatcherError,
    from_match_maps,
    matchers_string,
    parse_matcher,
    parse_matchers,
    sort_matchers,
)
from streams.errors import ConfigError


def printed(text: str) -> str:
    """A matchers line as amtool prints the route it defines."""
    ms = sort_matchers(parse_matchers(text))
    return matchers_string(ms) if ms else "default-route"


# Forms amtool and alertmanager.yml accept; the expected value is worked by hand from the
# syntax (quotes, escapes, spurious backslashes, whitespace) and checked against amtool below.
ACCEPTED = [
    ('a="b"', [("a", "=", "b")]),
    ("a=b", [("a", "=", "b")]),
    ('{foo = "bar", dings != "bums", }', [("foo", "=", "bar"), ("dings", "!=", "bums")]),
    ("foo=bar,dings!=bums", [("foo", "=", "bar"), ("dings", "!=", "bums")]),
    (
        '{quote="She said: \\"Hi, ladies! That\'s gender-neutral…\\""}',
        [("quote", "=", 'She said: "Hi, ladies! That\'s gender-neutral…"')],
    ),
    ('statuscode=~"5.."', [("statuscode", "=~", "5..")]),
    ("x!~ y z ", [("x", "!~", "y z")]),
    ('path="C:\\tmp\\\\x"', [("path", "=", "C:\\tmp\\x")]),
    ('nl="a\\nb"', [("nl", "=", "a\nb")]),
    ("trail=\\", [("trail", "=", "\\")]),
    ("empty=", [("empty", "=", "")]),
    ('empty2=""', [("empty2", "=", "")]),
    ("a:b=1", [("a:b", "=", "1")]),
    ("a==b", [("a", "=", "=b")]),
    ('a="1,2",b=3', [("a", "=", "1,2"), ("b", "=", "3")]),
    # amtool prints blanks, tabs and carriage returns inside values as they are.
    ('a="x  y\t"', [("a", "=", "x  y\t")]),
    ("a=x\ry ", [("a", "=", "x\ry")]),
    ("", []),
    ("{}", []),
    ("  ", []),
]

REFUSED = [
    ("a", "bad matcher format"),
    ("=b", "bad matcher format"),
    ("1a=b", "bad matcher format"),
    ("a=b,,c=d", "bad matcher format"),
    ('a="b"c"', "unescaped double quote"),
    ('a="b', "unescaped double quote"),
    ('a=b"', "unescaped double quote"),
    ("a=~(", "invalid regular expression"),
    ("a=~x(?=y)", "invalid regular expression"),
    ("a!~\\1", "invalid regular expression"),
]


@pytest.mark.parametrize(("text", "expected"), ACCEPTED)
def test_accepted_forms_parse_as_worked_by_hand(
    text: str, expected: list[tuple[str, str, str]]
) -> None:
    assert [(m.name, m.op, m.value) for m in parse_matchers(text)] == expected


def test_accepted_forms_print_as_amtool_prints_them(tmp_path: Path) -> None:
    lines = [text for text, _ in ACCEPTED]
    path = tmp_path / "am.yml"
    path.write_text(routes_config(lines))
    assert route_matchers(path)[1:] == [printed(line) for line in lines]


@pytest.mark.parametrize(("text", "reason"), REFUSED)
def test_refused_forms_say_why(text: str, reason: str) -> None:
    with pytest.raises(MatcherError, match=reason) as info:
        parse_matchers(text)
    assert isinstance(info.value, ConfigError)


def test_amtool_refuses_the_refused_forms(tmp_path: Path) -> None:
    for i, (text, _) in enumerate(REFUSED):
        path = tmp_path / f"am{i}.yml"
        path.write_text(routes_config([text]))
        ok, output = check_config(path)
        assert not ok, (text, output)


def test_missing_label_counts_as_empty() -> None:
    assert Matcher("team", "!=", "ops").matches({})
    assert Matcher("team", "=", "").matches({})
    assert not Matcher("team", "=", "").matches({"team": "ops"})
    assert Matcher("team", "!~", ".+").matches({})
    assert not Matcher("team", "=~", ".+").matches({})


def test_regexes_are_anchored_with_re2_semantics() -> None:
    m = Matcher("job", "=~", "node|db")
    assert m.matches({"job": "db"})
    assert not m.matches({"job": "dbx"})
    assert not m.matches({"job": "xnode"})
    # '$' is the end of the text: no match before a trailing newline (Python's re would).
    assert not Matcher("job", "=~", "db").matches({"job": "db\n"})
    # '.' does not match a newline and matches one character, however many UTF-8 bytes.
    assert not Matcher("v", "=~", "a.b").matches({"v": "a\nb"})
    assert Matcher("v", "=~", "a.b").matches({"v": "aéb"})
    assert Matcher("v", "=~", "[[:alpha:]]+").matches({"v": "abc"})
    assert Matcher("v", "!~", "x").matches({"v": "xx"})


def test_matchers_print_with_openmetrics_escapes() -> None:
    assert str(parse_matcher('a="x\\"y\\\\z\\n"')) == 'a="x\\"y\\\\z\\n"'
    assert str(Matcher("a", "=~", "\\d+")) == 'a=~"\\\\d+"'


def test_sorting_is_by_name_value_then_operator() -> None:
    ms = [Matcher("b", "=", "1"), Matcher("a", "!=", "x"), Matcher("a", "=", "x")]
    assert [str(m) for m in sort_matchers(ms)] == ['a="x"', 'a!="x"', 'b="1"']


def test_unknown_operator_is_refused() -> None:
    with pytest.raises(MatcherError, match="unknown match operator"):
        Matcher("a", "==", "b")  # type: ignore[arg-type]


def test_match_maps_convert_as_alertmanager_prints_them(tmp_path: Path) -> None:
    converted = from_match_maps({"team": "db"}, {"env": "prod|staging"})
    assert [str(m) for m in converted] == ['team="db"', 'env=~"^(?:prod|staging)$"']
    assert converted[1].matches({"env": "prod"}) and not converted[1].matches({"env": "prod2"})
    path = tmp_path / "am.yml"
    path.write_text(
        "route:\n  receiver: r\n  routes:\n"
        "    - match: {team: db}\n      match_re: {env: 'prod|staging'}\n"
        "receivers: [{name: r}]\n"
    )
    assert route_matchers(path)[1] == matchers_string(sort_matchers(converted))


def test_match_maps_refuse_bad_names_and_regexes() -> None:
    with pytest.raises(MatcherError, match="invalid label name 'a-b'"):
        from_match_maps({"a-b": "c"})
    with pytest.raises(MatcherError, match="invalid regular expression"):
        from_match_maps(None, {"a": "(?=x)"})


# Generated matcher lines: names, operators, values quoted or bare, with the characters that
# make the syntax interesting (quotes, backslashes, commas, braces, blanks).
_names = st.sampled_from(["a", "job", "a_b", "x:y", "_", "1a", ""])
_ops = st.sampled_from(["=", "!=", "=~", "!~", "==", "~"])
_value_chars = st.sampled_from([*'ab.,"\\ {}\t\rn*|é', "\\n", '\\"', "\\\\"])
_values = st.lists(_value_chars, max_size=6).map("".join)
_quoted = st.builds(lambda v: f'"{v}"', _values)
_matcher = st.builds(
    lambda n, o, v, s: f"{s}{n}{s}{o}{s}{v}",
    _names,
    _ops,
    st.one_of(_values, _quoted),
    st.sampled_from(["", " "]),
)
_line = st.builds(
    lambda ms, open_, close: open_ + ",".join(ms) + close,
    st.lists(_matcher, min_size=0, max_size=3),
    st.sampled_from(["", "{"]),
    st.sampled_from(["", "}", ",", ", }"]),
)


@settings(
    max_examples=4, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(lines=st.lists(_line, min_size=40, max_size=40))
def test_generated_lines_parse_as_amtool_parses_them(tmp_path: Path, lines: list[str]) -> None:
    accepted: list[str] = []
    refused: list[str] = []
    for line in lines:
        try:
            parse_matchers(line)
        except MatcherError:
            refused.append(line)
        else:
            accepted.append(line)
    path = tmp_path / "accepted.yml"
    path.write_text(routes_config(accepted))
    assert route_matchers(path)[1:] == [printed(line) for line in accepted]
    for line in refused[:8]:
        path.write_text(routes_config([line]))
        assert not check_config(path)[0], line
