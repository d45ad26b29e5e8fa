"""The pages' HTML: jinja2 templates shipped with the package, every value escaped.

Example:
    >>> from streams.web.rules import RulesPage
    >>> html = render("rules.html", here="/rules", title="Rules", page=RulesPage([], 0))
    >>> '<a href="/rules" class="here">Rules</a>' in html
    True
"""

from __future__ import annotations

import functools
from typing import Any

import jinja2


@functools.cache
def environment() -> jinja2.Environment:
    """The templates of :mod:`streams.web` (``templates/`` in the package)."""
    return jinja2.Environment(
        loader=jinja2.PackageLoader("streams.web", "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )


def render(template: str, **context: Any) -> str:
    """Render a page; ``here`` (its path) marks its link in the navigation bar, ``title``
    names it."""
    return environment().get_template(template).render(**context)
