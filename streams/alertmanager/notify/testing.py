"""A test kit for notifiers: a transport that records requests and answers from a script.

Users testing their own receivers' configuration, and pulseline's tests, pass it as the
``transport`` of :class:`~streams.alertmanager.notify.Services`.

Example:
    >>> import asyncio
    >>> t = CollectingTransport(answers=[503, OSError("refused")])
    >>> async def three() -> list[object]:
    ...     out: list[object] = []
    ...     for _ in range(3):
    ...         try:
    ...             out.append((await t.send(HttpRequest("http://x/", b"{}"))).status)
    ...         except OSError as exc:
    ...             out.append(str(exc))
    ...     return out
    >>> asyncio.run(three()), len(t.requests)
    ([503, 'refused', 200], 3)
"""

from __future__ import annotations

from collections.abc import Iterable

from streams.alertmanager.notify.http import HttpAnswer, HttpRequest


class CollectingTransport:
    """Keeps every request; answers with the next scripted status or error, then 200.

    Args:
        answers: in order, an HTTP status to answer or an exception to raise.
    """

    def __init__(self, answers: Iterable[int | Exception] = ()) -> None:
        self.requests: list[HttpRequest] = []
        self._answers = list(answers)

    async def send(self, request: HttpRequest) -> HttpAnswer:
        self.requests.append(request)
        answer = self._answers.pop(0) if self._answers else 200
        if isinstance(answer, Exception):
            raise answer
        return HttpAnswer(answer, b"" if answer < 300 else b"failed")
