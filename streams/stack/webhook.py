"""A webhook receiver that prints the notifications it gets: the local stack's "pager".

``pulseline webhook-receiver`` listens for Alertmanager webhook notifications (version 4) and
prints one line per notification, and one per alert in it, so a newcomer sees what the alert
manager sends. Each body is appended, as one JSON line, to ``--log`` when given.

Example:
    >>> print(summary({"receiver": "ops", "status": "firing", "groupLabels": {"alertname": "Down"},
    ...     "alerts": [{"status": "firing", "labels": {"alertname": "Down", "host": "a"},
    ...     "annotations": {"summary": "a is down"}}]}))
    [ops] FIRING {alertname="Down"}: 1 alert(s)
      firing   {alertname="Down", host="a"}  a is down
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from aiohttp import web

LOCAL_HOSTS = frozenset({"127.0.0.1", "localhost"})


def _labels(labels: Mapping[str, str]) -> str:
    return "{" + ", ".join(f'{k}="{v}"' for k, v in sorted(labels.items())) + "}"


def summary(body: Mapping[str, Any]) -> str:
    """What a person wants to read of one notification."""
    alerts = body.get("alerts") or []
    lines = [
        f"[{body.get('receiver', '?')}] {str(body.get('status', '?')).upper()} "
        f"{_labels(body.get('groupLabels') or {})}: {len(alerts)} alert(s)"
    ]
    for alert in alerts:
        text = (alert.get("annotations") or {}).get("summary", "")
        lines.append(f"  {alert.get('status', '?'):8} {_labels(alert.get('labels') or {})}  {text}")
    return "\n".join(lines).rstrip()


def make_app(log_path: Path | None = None) -> web.Application:
    """The receiver: any POST path takes a notification."""

    async def receive(request: web.Request) -> web.Response:
        raw = await request.read()
        try:
            body = json.loads(raw)
        except ValueError:
            return web.Response(status=400, text="not JSON\n")
        print(summary(body), flush=True)
        if log_path is not None:
            with log_path.open("a", encoding="utf-8") as out:
                out.write(json.dumps(body, sort_keys=True) + "\n")
        return web.Response(status=200)

    app = web.Application()
    app.router.add_post("/{tail:.*}", receive)
    return app


async def serve(host: str, port: int, log_path: Path | None = None) -> None:
    """Serve until cancelled."""
    runner = web.AppRunner(make_app(log_path), access_log=None)
    await runner.setup()
    await web.TCPSite(runner, host, port).start()
    print(f"webhook receiver listening on http://{host}:{port}/", flush=True)
    try:
        await asyncio.Event().wait()
    finally:
        await runner.cleanup()


def local_webhooks(config: Path) -> list[tuple[str, int]]:
    """The ``(host, port)`` of every webhook of an alertmanager.yml on this machine's loopback.

    The local stack runs this receiver at each of them, so the notifications the file sends
    there are printed. The file is loaded (and checked) as the workers load it.

    Raises:
        AlertmanagerConfigError: the file has problems; each names its line.
    """
    from streams.alertmanager.config.loader import load_config

    found: list[tuple[str, int]] = []
    for receiver in load_config(config).receivers.values():
        for webhook in receiver.webhook_configs:
            url = urlsplit(webhook.url.get_secret_value())
            if url.scheme == "http" and url.hostname in LOCAL_HOSTS:
                address = (url.hostname, url.port or 80)
                if address not in found:
                    found.append(address)
    return found
