"""Errors of the web pages: a request a page cannot answer says which page and why."""

from __future__ import annotations

from streams.errors import PulselineError


class PageError(PulselineError):
    """A page's request is invalid (a bad query, range or form field).

    Attributes:
        page: the page's path, such as ``/graph``.
        field: the request field at fault (``query``, ``range``...), or ``""``.
        reason: what is wrong.
    """

    def __init__(self, page: str, field: str, reason: str) -> None:
        self.page = page
        self.field = field
        self.reason = reason
        where = f"{page}, {field}" if field else page
        super().__init__(f"{where}: {reason}")
