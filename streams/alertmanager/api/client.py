"""A client of Alertmanager's API v2, as served by pulseline's workers (or by Alertmanager).

The ``pulseline alerts`` and ``pulseline silence`` commands use it; it speaks only the
documented API, so it works against any worker of a cluster and against Alertmanager itself.

Example:
    >>> api = AlertmanagerClient("http://127.0.0.1:6066")  # doctest: +SKIP
    >>> await api.alerts()  # doctest: +SKIP
"""

from __future__ import annotations

from typing import Any

import aiohttp

from streams.errors import PulselineError


class ClientError(PulselineError):
    """The API could not be reached or answered with an error."""


class AlertmanagerClient:
    """Calls to one API base URL; every call opens and closes its own session."""

    def __init__(self, base_url: str, timeout_s: float = 10.0) -> None:
        self.base_url = base_url.rstrip("/")
        self._timeout = aiohttp.ClientTimeout(total=timeout_s)

    async def _call(self, method: str, path: str, **kwargs: Any) -> Any:
        url = f"{self.base_url}/api/v2/{path}"
        try:
            async with (
                aiohttp.ClientSession(timeout=self._timeout) as session,
                session.request(method, url, **kwargs) as response,
            ):
                body = await response.read()
                if response.status >= 300:
                    text = body.decode(errors="replace").strip()
                    raise ClientError(f"{method} {url}: {response.status} {text}")
                return await response.json(content_type=None) if body else None
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise ClientError(f"{method} {url}: {exc or type(exc).__name__}") from None

    async def alerts(self, filters: list[str] | None = None, **flags: bool) -> list[dict[str, Any]]:
        """``GET /api/v2/alerts`` with matcher ``filters`` and the API's boolean flags."""
        params: list[tuple[str, str]] = [("filter", f) for f in filters or []]
        params += [(name, str(value).lower()) for name, value in flags.items()]
        result: list[dict[str, Any]] = await self._call("GET", "alerts", params=params)
        return result

    async def post_alerts(self, alerts: list[dict[str, Any]]) -> None:
        """``POST /api/v2/alerts``."""
        await self._call("POST", "alerts", json=alerts)

    async def silences(self, filters: list[str] | None = None) -> list[dict[str, Any]]:
        """``GET /api/v2/silences``."""
        params = [("filter", f) for f in filters or []]
        result: list[dict[str, Any]] = await self._call("GET", "silences", params=params)
        return result

    async def add_silence(self, silence: dict[str, Any]) -> str:
        """``POST /api/v2/silences``; returns the silence id."""
        result = await self._call("POST", "silences", json=silence)
        return str(result["silenceID"])

    async def expire_silence(self, silence_id: str) -> None:
        """``DELETE /api/v2/silence/{id}``."""
        await self._call("DELETE", f"silence/{silence_id}")

    async def why(self, fingerprint: str) -> dict[str, Any]:
        """pulseline's explanation of one alert (``GET /api/v2/alerts/{fingerprint}/why``)."""
        result: dict[str, Any] = await self._call("GET", f"alerts/{fingerprint}/why")
        return result
