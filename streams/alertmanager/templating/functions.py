"""The functions Alertmanager 0.25 gives notification templates, with its behaviour.

``toUpper``, ``toLower``, ``title``, ``trimSpace``, ``join``, ``match``, ``reReplaceAll``,
``safeHtml`` and ``stringSlice``, declared with Go's parameter types so that a call with the
wrong type fails as it fails in Alertmanager. Regular expressions are Go's RE2 syntax; the
common subset is the same in Python's ``re``, and ``$1``/``${name}`` in replacements are
expanded as Go expands them.

Example:
    >>> title("disk_full on node-1.example.com")
    'Disk_full On Node-1.Example.com'
    >>> reReplaceAll("(\\\\w+)@(\\\\w+)", "$2/${1}", "me@host")
    'host/me'
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from streams.alertmanager.templating.data import StringList
from streams.gotemplate import GoFunc, SafeHTML

_GROUP_REF = re.compile(r"\$(?:\{(\w+)\}|(\w+)|(\$))")


def _case(text: str, upper: bool) -> str:
    """Go's per-rune case mapping: a rune whose mapping is several runes stays as it is."""
    out = []
    for char in text:
        mapped = char.upper() if upper else char.lower()
        out.append(mapped if len(mapped) == 1 else char)
    return "".join(out)


def toUpper(text: str) -> str:
    """Go's ``strings.ToUpper``."""
    return _case(text, upper=True)


def toLower(text: str) -> str:
    """Go's ``strings.ToLower``."""
    return _case(text, upper=False)


def _joins(text: str, at: int) -> bool:
    """Whether the character at ``at`` joins the letters or digits around it into one word,
    as Unicode word segmentation has it (``it's``, ``example.com``, ``1.5``)."""
    if not 0 < at < len(text) - 1:
        return False
    before, char, after = text[at - 1], text[at], text[at + 1]
    if before.isalpha() and after.isalpha():
        return char in ".:'\u2019"
    return before.isdigit() and after.isdigit() and char in ".,;'\u2019"


def title(text: str) -> str:
    """Title case as Go's ``cases.Title``: each word's first letter upper, the rest lower.

    Words are runs of letters, digits and ``_``, joined across ``.``, ``'`` and ``:``
    between letters and across ``.`` and ``,`` between digits: ``node-1.example.com`` is
    ``Node-1.Example.com``.
    """
    out: list[str] = []
    starts_word = True
    for i, char in enumerate(text):
        if char.isalnum() or char == "_" or _joins(text, i):
            out.append(_case(char, upper=starts_word))
            starts_word = False
        else:
            out.append(char)
            starts_word = True
    return "".join(out)


def trimSpace(text: str) -> str:
    """Go's ``strings.TrimSpace``."""
    return text.strip()


def join(sep: str, items: Sequence[str]) -> str:
    """``strings.Join`` with the separator first, for pipelines: ``.Values | join ", "``."""
    return sep.join(items)


def _compile(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern.replace(r"\z", r"\Z"))


def match(pattern: str, text: str) -> bool:
    """Go's ``regexp.MatchString``: whether the pattern matches anywhere in ``text``."""
    return _compile(pattern).search(text) is not None


def _expand(m: re.Match[str], template: str) -> str:
    def ref(r: re.Match[str]) -> str:
        if r.group(3):
            return "$"
        name = r.group(1) or r.group(2)
        try:
            return m.group(int(name) if name.isdigit() else name) or ""
        except IndexError:  # no such group: Go expands it to nothing
            return ""

    return _GROUP_REF.sub(ref, template)


def reReplaceAll(pattern: str, repl: str, text: str) -> str:
    """Go's ``Regexp.ReplaceAllString``: ``$1``, ``${1}``, ``$name`` and ``$$`` in ``repl``."""
    return _compile(pattern).sub(lambda m: _expand(m, repl), text)


def safeHtml(text: str) -> SafeHTML:
    """Mark text as HTML that HTML templates print without escaping."""
    return SafeHTML(text)


def stringSlice(*items: str) -> StringList:
    """Its arguments as a list of strings."""
    return StringList(items)


FUNCTIONS: dict[str, GoFunc] = {
    f.name: f
    for f in (
        GoFunc("toUpper", toUpper, ("string",)),
        GoFunc("toLower", toLower, ("string",)),
        GoFunc("title", title, ("string",)),
        GoFunc("trimSpace", trimSpace, ("string",)),
        GoFunc("join", join, ("string", "[]string")),
        GoFunc("match", match, ("string", "string")),
        GoFunc("reReplaceAll", reReplaceAll, ("string", "string", "string")),
        GoFunc("safeHtml", safeHtml, ("string",)),
        GoFunc("stringSlice", stringSlice, (), "string"),
    )
}
"""Alertmanager's template functions by name."""
