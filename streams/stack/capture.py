"""A webhook receiver that keeps every notification it gets, with the moment it arrived.

Tests and benchmarks point the webhook URLs of an Alertmanager (or of pulseline) at it: every
``POST`` with a JSON body is answered 200 and kept as a :class:`Delivery`, under the URL path
it was sent to, so one capture serves as many receivers as the configuration names, one path
each. An ``answer`` hook may choose another status per request (a receiver that fails for a
while); each delivery keeps the status it was answered with. Arrival times come from an
injected clock (``time.monotonic`` by default), so latencies are measured on the same clock
as the moment the test acted. Waiting is on a condition, woken by each arrival, never on a
sleep.

Example:
    >>> import aiohttp, asyncio
    >>> async def demo() -> list[str]:
    ...     async with WebhookCapture() as hook, aiohttp.ClientSession() as http:
    ...         async with http.post(f"{hook.url}/ops", json={"status": "firing"}) as answer:
    ...             assert answer.status == 200
    ...         await hook.wait_for(lambda got: len(got) == 1, timeout=5, what="one post")
    ...         return [d.path for d in hook.deliveries]
    >>> asyncio.run(demo())
    ['/ops']
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from types import TracebackType
from typing import Any

from aiohttp import web

from streams.errors import PulselineError


class CaptureError(PulselineError):
    """A capture was used before it started, or what a test waited for did not arrive."""


@dataclass(frozen=True, slots=True)
class Delivery:
    """One notification as it arrived.

    Attributes:
        path: the URL path it was posted to (one per receiver).
        at: the capture's clock when the request arrived.
        body: the decoded JSON body.
        headers: the request headers.
        status: the HTTP status it was answered with.
    """

    path: str
    at: float
    body: Any
    headers: Mapping[str, str]
    status: int = 200


class WebhookCapture:
    """An HTTP server on 127.0.0.1 keeping what is posted to it.

    Args:
        clock: what stamps arrivals; the caller's clock, for latencies.
        listener: called with each delivery as it arrives, before waiters wake.
        answer: the HTTP status to answer a delivery with (default: 200 for every one).
        host: address to listen on.
        port: port to listen on; 0 picks a free one (see :attr:`url`).
    """

    def __init__(
        self,
        *,
        clock: Callable[[], float] = time.monotonic,
        listener: Callable[[Delivery], None] | None = None,
        answer: Callable[[Delivery], int] | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
    ) -> None:
        self._clock = clock
        self._listener = listener
        self._answer = answer
        self._host, self._port = host, port
        self._runner: web.AppRunner | None = None
        self._arrived = asyncio.Event()
        self.deliveries: list[Delivery] = []

    @property
    def url(self) -> str:
        """The base URL, without a trailing slash; receivers append their path."""
        if self._runner is None:
            raise CaptureError("the webhook capture is not started")
        host, port = self._runner.addresses[0][:2]
        return f"http://{host}:{port}"

    def on(self, path: str) -> list[Delivery]:
        """The deliveries posted to ``path``, in arrival order."""
        return [d for d in self.deliveries if d.path == path]

    async def _receive(self, request: web.Request) -> web.Response:
        at = self._clock()
        try:
            body = json.loads(await request.read())
        except ValueError:
            return web.Response(status=400, text="the body is not JSON\n")
        delivery = Delivery(request.path, at, body, dict(request.headers))
        if self._answer is not None:
            delivery = replace(delivery, status=self._answer(delivery))
        self.deliveries.append(delivery)
        if self._listener is not None:
            self._listener(delivery)
        self._arrived.set()
        return web.Response(status=delivery.status)

    async def start(self) -> WebhookCapture:
        """Listen; :attr:`url` is known from now on."""
        app = web.Application()
        app.router.add_post("/{path:.*}", self._receive)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        await web.TCPSite(runner, self._host, self._port).start()
        self._runner = runner
        return self

    async def stop(self) -> None:
        """Stop listening; what was captured stays readable."""
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def wait_for(
        self, check: Callable[[Sequence[Delivery]], bool], *, timeout: float, what: str
    ) -> None:
        """Return once ``check(deliveries)`` holds, checking again at each arrival.

        Raises:
            CaptureError: it did not hold within ``timeout`` seconds; the message names
                ``what`` was awaited and what had arrived.
        """
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while not check(self.deliveries):
            remaining = deadline - loop.time()
            if remaining <= 0:
                paths = sorted({d.path for d in self.deliveries})
                raise CaptureError(
                    f"timed out after {timeout:g}s waiting for {what}; "
                    f"{len(self.deliveries)} deliveries so far, to {paths}"
                )
            self._arrived.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._arrived.wait(), remaining)

    async def __aenter__(self) -> WebhookCapture:
        return await self.start()

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()
