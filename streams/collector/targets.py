"""``GET /targets``: the targets this collector owns, like Prometheus' targets page.

JSON by default; ``?format=html`` (or a browser's ``Accept: text/html``) gives a small table.
"""

from __future__ import annotations

import html
from typing import Any

from aiohttp import web

from streams.collector.scraping import ScrapeManager

MANAGER_KEY = web.AppKey("scrape_manager", ScrapeManager)


def targets_document(manager: ScrapeManager) -> dict[str, Any]:
    """The JSON document of ``GET /targets``."""
    active = []
    for key, target in sorted(manager.owned.items()):
        health = manager.health.get(key)
        active.append(
            {
                "job": target.job.job_name,
                "instance": target.address,
                "scrapeUrl": target.url,
                "labels": {"job": target.job.job_name, "instance": target.address}
                | dict(target.labels),
                "health": health.health if health else "unknown",
                "lastScrape": health.last_scrape if health else None,
                "lastScrapeDuration": health.last_duration_s if health else None,
                "lastError": health.last_error if health else "",
                "samples": health.samples if health else 0,
                "scrapes": health.scrapes if health else 0,
                "failures": health.failures if health else 0,
                "refusedSamples": health.refused if health else 0,
                "lastRefusal": health.last_refusal if health else "",
                "owners": list(manager.ring.owners(key)),
            }
        )
    return {
        "member": manager.member_id,
        "members": list(manager.ring.members),
        "targetsTotal": len(manager.targets),
        "activeTargets": active,
        "targetFileErrors": manager.files_errors(),
    }


async def targets_view(request: web.Request) -> web.Response:
    """``GET /targets``."""
    document = targets_document(request.app[MANAGER_KEY])
    wants_html = request.query.get("format") == "html" or (
        "format" not in request.query and "text/html" in request.headers.get("Accept", "")
    )
    if not wants_html:
        return web.json_response(document)
    rows = "".join(
        "<tr>"
        + "".join(
            f"<td>{html.escape(str(cell))}</td>"
            for cell in (
                t["scrapeUrl"],
                t["health"],
                ", ".join(f"{k}={v}" for k, v in t["labels"].items()),
                "" if t["lastScrapeDuration"] is None else f"{t['lastScrapeDuration']:.3f}s",
                t["lastError"],
            )
        )
        + "</tr>"
        for t in document["activeTargets"]
    )
    page = (
        f"<!doctype html><title>targets of {html.escape(document['member'])}</title>"
        f"<h1>Targets of {html.escape(document['member'])}</h1>"
        f"<p>{len(document['activeTargets'])} of {document['targetsTotal']} targets; "
        f"collectors: {html.escape(', '.join(document['members']))}</p>"
        "<table border=1 cellpadding=4><tr><th>endpoint</th><th>state</th><th>labels</th>"
        f"<th>last scrape took</th><th>error</th></tr>{rows}</table>"
    )
    return web.Response(text=page, content_type="text/html")
