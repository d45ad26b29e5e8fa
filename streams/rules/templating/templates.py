"""Label and annotation templates of alerting rules.

Templates are jinja2, rendered in a sandbox with :class:`jinja2.StrictUndefined`, with
Prometheus' forms accepted too (see :mod:`streams.rules.templating.gotemplate`). A template sees:

- ``labels``: the labels of the series the alert is for (Prometheus' ``$labels``),
- ``value``: the alert's value (``$value``),
- ``external_labels`` and ``external_url`` (``$externalLabels``, ``$externalURL``),
- Prometheus' functions, callable and as filters: ``humanize``, ``humanize1024``,
  ``humanizePercentage``, ``humanizeDuration``, ``humanizeTimestamp``, ``printf``,
  ``stripPort``, ``title``, ``toUpper``, ``toLower``.

At load time :func:`compile_template` checks the syntax, every name the template uses, and
renders it once with sample data. A label the expression can never yield (``$labels.instance``
after ``sum by (host)``) fails then; a label that depends on the data does not.

Example:
    >>> t = compile_template("{{ $labels.host }}: {{ $value | humanizePercentage }} used")
    >>> t.render({"host": "web-1"}, 0.9312)
    'web-1: 93.12% used'
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import cache
from typing import Any

import jinja2
import jinja2.meta
from jinja2.sandbox import ImmutableSandboxedEnvironment

from streams.rules.errors import TemplateError
from streams.rules.templating.gotemplate import translate
from streams.rules.templating.humanize import FUNCTIONS, go_float

CONTEXT_NAMES = frozenset({"labels", "value", "external_labels", "external_url"})
"""The variables every template can use."""

_SAMPLE_VALUE = "1"


class _Environment(ImmutableSandboxedEnvironment):
    """Sandboxed; ``labels.name`` prefers the label over a dict method (``labels.keys``)."""

    def getattr(self, obj: Any, attribute: str) -> Any:
        if isinstance(obj, Mapping) and attribute in obj:
            return obj[attribute]
        return super().getattr(obj, attribute)


class Value(float):
    """The alert's value; prints as Go prints a float64, as ``{{ $value }}`` does in Prometheus.

    Example:
        >>> str(Value(100.0)), str(Value(1e6)), str(Value(0.25))
        ('100', '1e+06', '0.25')
    """

    def __str__(self) -> str:
        return go_float(self)


@cache
def environment() -> jinja2.Environment:
    """The shared sandboxed jinja2 environment of rule templates."""
    env = _Environment(
        undefined=jinja2.StrictUndefined, autoescape=False, keep_trailing_newline=True
    )
    env.globals.update(FUNCTIONS)
    env.filters.update(FUNCTIONS)
    return env


class _AnyLabels(dict[str, str]):
    """Sample labels for load-time checks: every label name has a value."""

    def __missing__(self, key: str) -> str:
        return _SAMPLE_VALUE


class RuleTemplate:
    """A compiled label or annotation template.

    Attributes:
        source: the text as written in the rule file.
        jinja: the jinja2 text it was translated to.

    Example:
        >>> RuleTemplate.compile('{{ printf "%.1f" $value }}s').render({}, 2.25)
        '2.2s'
    """

    __slots__ = ("_template", "jinja", "source")

    def __init__(self, source: str, jinja: str, template: jinja2.Template) -> None:
        self.source = source
        self.jinja = jinja
        self._template = template

    @classmethod
    def compile(cls, source: str) -> RuleTemplate:
        """Translate and compile ``source``, without the load-time sample render.

        Raises:
            TemplateError: syntax errors, unknown functions, filters or variables.
        """
        text = translate(source)
        env = environment()
        try:
            ast = env.parse(text)
            template = env.from_string(ast)
        except jinja2.TemplateSyntaxError as exc:
            where = f"line {exc.lineno}: " if "\n" in source else ""
            raise TemplateError(f"{where}{exc.message}", source=source, line=exc.lineno) from None
        unknown = jinja2.meta.find_undeclared_variables(ast) - CONTEXT_NAMES - set(env.globals)
        if unknown:
            names = ", ".join(sorted(unknown))
            known = ", ".join(sorted(CONTEXT_NAMES))
            msg = f"undefined name(s) {names}; templates know {known} and Prometheus' functions"
            raise TemplateError(msg, source=source)
        return cls(source, text, template)

    def render(
        self,
        labels: Mapping[str, str],
        value: float,
        external_labels: Mapping[str, str] | None = None,
        external_url: str = "",
    ) -> str:
        """Render for one alert.

        Raises:
            TemplateError: the template refers to a label the series lacks, or a function
                failed (e.g. ``humanize`` of a non-number).
        """
        context: dict[str, Any] = {
            "labels": labels,
            "value": Value(value),
            "external_labels": {} if external_labels is None else external_labels,
            "external_url": external_url,
        }
        try:
            return self._template.render(context)
        except jinja2.UndefinedError as exc:
            raise TemplateError(_undefined(exc), source=self.source) from None
        except (jinja2.TemplateError, ArithmeticError, LookupError, TypeError, ValueError) as exc:
            raise TemplateError(f"rendering failed: {exc}", source=self.source) from None

    def __eq__(self, other: object) -> bool:
        return isinstance(other, RuleTemplate) and other.source == self.source

    def __hash__(self) -> int:
        return hash(self.source)

    def __repr__(self) -> str:
        return f"RuleTemplate({self.source!r})"


def _undefined(exc: jinja2.UndefinedError) -> str:
    text = str(exc)
    return text.replace("'dict object' has no attribute", "no label").replace("'_AnyLabels", "'")


def compile_template(source: str, known_labels: frozenset[str] | None = None) -> RuleTemplate:
    """Compile a template and check it by rendering it once with sample data.

    Args:
        source: the label or annotation text.
        known_labels: the only label names the rule's expression can yield (from
            :func:`streams.promql.expr.output_labels`), or None when they depend on the data.

    Raises:
        TemplateError: the template cannot work; the message says why.

    Example:
        >>> compile_template("{{ $labels.instance }}", frozenset({"host"}))
        Traceback (most recent call last):
        ...
        streams.rules.errors.TemplateError: label 'instance' is never there: ...
    """
    template = RuleTemplate.compile(source)
    sample: dict[str, str]
    if known_labels is None:
        sample = _AnyLabels()
    else:
        sample = {name: _SAMPLE_VALUE for name in known_labels}
    try:
        template.render(sample, 1.0, _AnyLabels(), "http://localhost")
    except TemplateError as exc:
        if known_labels is not None and exc.args[0].startswith("no label"):
            yields = ", ".join(sorted(known_labels)) or "none"
            missing = exc.args[0].removeprefix("no label ")
            msg = f"label {missing} is never there: the expression yields only labels {yields}"
            raise TemplateError(msg, source=source) from None
        raise
    return template
