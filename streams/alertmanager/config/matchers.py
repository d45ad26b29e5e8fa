"""Label matchers as Alertmanager 0.25 writes, parses, prints and applies them.

A matcher is a label name, an operator (``=``, ``!=``, ``=~``, ``!~``) and a value. A label
an alert does not have counts as the empty string, so ``team!="ops"`` matches an alert
without a ``team`` label and ``team=""`` matches only those. Regular expressions are fully
anchored and have RE2's syntax and semantics, as Go's ``regexp`` package gives Alertmanager
(no look-around, no back-references, ``$`` only at the very end).

The text syntax is the one of ``matchers:`` lists in ``alertmanager.yml`` and of amtool:
braces are optional, matchers are separated by commas outside double quotes, values may be
quoted or bare, and quoted values take the escapes ``\\"``, ``\\\\`` and ``\\n``.

Example:
    >>> ms = parse_matchers('{severity="critical", team=~"db|web"}')
    >>> [str(m) for m in ms]
    ['severity="critical"', 'team=~"db|web"']
    >>> all(m.matches({"severity": "critical", "team": "web"}) for m in ms)
    True
    >>> matchers_string(sort_matchers(parse_matchers("b!=2, a=1")))
    '{a="1",b!="2"}'
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

import re2

from streams.errors import ConfigError

MatchOp = Literal["=", "!=", "=~", "!~"]
"""A matcher's operator."""

OPS: tuple[MatchOp, ...] = ("=", "!=", "=~", "!~")
"""The operators in Alertmanager's order (matchers with equal names and values sort so)."""

LABEL_NAME = re.compile(r"[a-zA-Z_][a-zA-Z0-9_]*\Z")
"""A valid label name (the keys of ``match``, ``group_by`` and ``equal`` entries)."""

# Go's \s is ASCII [\t\n\f\r ]; '=~' is tried before '=' so that it is read as one operator.
_SP = r"[\t\n\f\r ]*"
_MATCHER = re.compile(
    rf"{_SP}([a-zA-Z_:][a-zA-Z0-9_:]*){_SP}(=~|=|!=|!~){_SP}(.*?){_SP}\Z", re.DOTALL
)
# What Go's strings.TrimSpace removes (Unicode White_Space), unlike str.strip's larger set.
_GO_SPACE = "\t\n\v\f\r \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008"
_GO_SPACE += "\u2009\u200a\u2028\u2029\u202f\u205f\u3000"
_RE2_OPTIONS = re2.Options()
_RE2_OPTIONS.log_errors = False


class MatcherError(ConfigError):
    """A matcher does not parse, or its regular expression does not compile.

    Attributes:
        reason: what is wrong, quoting the offending text.
    """

    def __init__(self, reason: str) -> None:
        self.reason = reason
        super().__init__(reason)


def compile_regex(value: str) -> Any:
    """Compile ``value`` as Alertmanager does: RE2 syntax, anchored at both ends.

    Raises:
        MatcherError: the expression is not valid RE2 syntax (look-arounds, back-references).
    """
    anchored = f"^(?:{value})$"
    try:
        return re2.compile(anchored, _RE2_OPTIONS)
    except re2.error as exc:
        detail = exc.args[0] if exc.args else exc
        if isinstance(detail, bytes):
            detail = detail.decode("utf-8", "replace")
        raise MatcherError(f"invalid regular expression {value!r}: {detail}") from None


@dataclass(frozen=True, slots=True)
class Matcher:
    """One label matcher.

    Attributes:
        name: the label's name.
        op: ``=``, ``!=``, ``=~`` or ``!~``.
        value: the value, or the regular expression (unanchored, as written).

    Raises:
        MatcherError: on construction, for an unknown operator or a bad regular expression.

    Example:
        >>> m = Matcher("instance", "!~", "db-[0-9]+")
        >>> m.matches({"instance": "db-12"}), m.matches({"instance": "db-12x"}), m.matches({})
        (False, True, True)
        >>> print(Matcher("msg", "=", 'say "hi"\\n'))
        msg="say \\"hi\\"\\n"
    """

    name: str
    op: MatchOp
    value: str
    _regex: Any = field(default=None, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self.op not in OPS:
            raise MatcherError(f"unknown match operator {self.op!r} (one of =, !=, =~, !~)")
        if self.op in ("=~", "!~"):
            object.__setattr__(self, "_regex", compile_regex(self.value))

    def matches_value(self, value: str) -> bool:
        """Whether a label's value (``""`` when the label is missing) satisfies the matcher."""
        if self.op == "=":
            return value == self.value
        if self.op == "!=":
            return value != self.value
        found = self._regex.match(value) is not None
        return found if self.op == "=~" else not found

    def matches(self, labels: Mapping[str, str]) -> bool:
        """Whether a label set satisfies the matcher; a missing label counts as ``""``."""
        return self.matches_value(labels.get(self.name, ""))

    def sort_key(self) -> tuple[str, str, int]:
        """Alertmanager's order of matchers: by name, then value, then operator."""
        return self.name, self.value, OPS.index(self.op)

    def __str__(self) -> str:
        return f'{self.name}{self.op}"{escape_value(self.value)}"'


def escape_value(value: str) -> str:
    """A value escaped as Alertmanager prints it between double quotes (OpenMetrics style).

    >>> escape_value('a\\\\b"c')
    'a\\\\\\\\b\\\\"c'
    """
    return value.replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


def matchers_string(matchers: Iterable[Matcher]) -> str:
    """Matchers as Alertmanager prints a list of them: ``{a="1",b=~"x"}``.

    >>> matchers_string([])
    '{}'
    """
    return "{" + ",".join(str(m) for m in matchers) + "}"


def sort_matchers(matchers: Iterable[Matcher]) -> tuple[Matcher, ...]:
    """Matchers in Alertmanager's order (see :meth:`Matcher.sort_key`)."""
    return tuple(sorted(matchers, key=Matcher.sort_key))


def all_match(matchers: Iterable[Matcher], labels: Mapping[str, str]) -> bool:
    """Whether a label set satisfies every matcher (true for no matchers)."""
    return all(m.matches(labels) for m in matchers)


def parse_matchers(text: str) -> tuple[Matcher, ...]:
    """Parse a comma-separated list of matchers, as amtool and ``matchers:`` entries accept.

    One leading ``{`` and one trailing ``}`` are dropped; commas inside double quotes do not
    separate; a trailing comma is allowed; an empty text gives no matchers.

    Raises:
        MatcherError: a part is not ``name op value``, a value has an unescaped double quote,
            or a regular expression does not compile.

    Example:
        >>> [str(m) for m in parse_matchers('quote="She said: \\\\"Hi, all\\\\"", ')]
        ['quote="She said: \\\\"Hi, all\\\\""']
        >>> parse_matchers("{}")
        ()
    """
    text = text.removeprefix("{").removesuffix("}")
    tokens: list[str] = []
    token: list[str] = []
    inside_quotes = escaped = False
    for char in text:
        if char == "," and not inside_quotes:
            tokens.append("".join(token))
            token = []
            continue
        if char == '"':
            if escaped:
                escaped = False
            else:
                inside_quotes = not inside_quotes
        elif char == "\\":
            escaped = not escaped
        elif char != ",":
            escaped = False
        token.append(char)
    last = "".join(token).strip(_GO_SPACE)
    if last:
        tokens.append(last)
    return tuple(parse_matcher(t) for t in tokens)


def parse_matcher(text: str) -> Matcher:
    """Parse one matcher: a label name, an operator and a value, quoted or bare.

    Inside the value, ``\\"``, ``\\\\`` and ``\\n`` are escapes; any other backslash is kept
    as written.

    Raises:
        MatcherError: as for :func:`parse_matchers`.

    Example:
        >>> parse_matcher('  job =~ "node|db" ')
        Matcher(name='job', op='=~', value='node|db')
        >>> parse_matcher("path=C:\\\\tmp").value
        'C:\\\\tmp'
    """
    found = _MATCHER.match(text)
    if found is None:
        raise MatcherError(f"bad matcher format: {text!r} (expected name, =, !=, =~ or !~, value)")
    name, op_text, raw = found.groups()
    quoted = raw.startswith('"')
    body = raw[1:] if quoted else raw
    value: list[str] = []
    escaped = False
    for i, char in enumerate(body):
        if escaped:
            escaped = False
            value.append({"n": "\n", '"': '"', "\\": "\\"}.get(char, "\\" + char))
        elif char == "\\":
            if i < len(body) - 1:
                escaped = True
            else:
                value.append("\\")
        elif char == '"':
            if not quoted or i < len(body) - 1:
                raise MatcherError(f"matcher value contains unescaped double quote: {raw}")
            quoted = False
        else:
            value.append(char)
    if quoted:
        raise MatcherError(f"matcher value contains unescaped double quote: {raw}")
    return Matcher(name, OPS[OPS.index(op_text)], "".join(value))


def from_match_maps(
    match: Mapping[str, str] | None = None, match_re: Mapping[str, str] | None = None
) -> tuple[Matcher, ...]:
    """The matchers of the older ``match`` and ``match_re`` maps.

    A ``match_re`` value becomes a regex matcher whose value is the anchored expression
    Alertmanager compiled (``^(?:...)$``): that is how it prints it, in route keys and in
    the group keys of notifications.

    Raises:
        MatcherError: a key is not a valid label name, or a regex does not compile.

    Example:
        >>> [str(m) for m in from_match_maps({"team": "db"}, {"env": "prod|staging"})]
        ['team="db"', 'env=~"^(?:prod|staging)$"']
    """
    out: list[Matcher] = []
    for op, mapping in (("=", match or {}), ("=~", match_re or {})):
        for name, value in mapping.items():
            if not LABEL_NAME.match(name):
                raise MatcherError(f"invalid label name {name!r}")
            if op == "=~":
                compile_regex(value)
                value = f"^(?:{value})$"
            out.append(Matcher(name, "=" if op == "=" else "=~", value))
    return tuple(out)
