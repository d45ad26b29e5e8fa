"""The worker's web pages in a real browser: a firing alert, a silence made with the page's
form, the rules and a graph of the stored samples, rendered by headless Chromium.

A real collector, broker, worker and VictoriaMetrics; the rule ``TooHot`` fires on the first
sample above 50. The silence is created by posting the ``/silences`` form as a browser does;
each page is then loaded by ``chromium --headless --dump-dom`` and the DOM it built is
checked; a screenshot of each is kept under ``.pytest-artifacts/web-pages/`` (printed).
"""

from __future__ import annotations

import shutil
import subprocess
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from html.parser import HTMLParser
from pathlib import Path

import pytest
from amstack import Receiver, api, ops_config, push, receivers, start
from conftest import Pipeline, Tsdb, wait_for

pytestmark = pytest.mark.integration

__all__ = ["receivers"]  # the fixture

ARTIFACTS = Path(__file__).resolve().parents[3] / ".pytest-artifacts" / "web-pages"


def chromium() -> str:
    found = shutil.which("chromium")
    if found is None:
        pytest.fail(
            "chromium is not installed: the pages are checked in it. Install Debian's "
            "'chromium' package (deploy/local/install-system-deps.sh test does, as root)."
        )
    return found


def browser(*args: str) -> str:
    done = subprocess.run(
        [
            chromium(),
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--hide-scrollbars",
            "--window-size=1280,1100",
            *args,
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout


class Dom(HTMLParser):
    """The elements of a page: tag, attributes and the text inside each."""

    def __init__(self, html: str) -> None:
        super().__init__()
        self.elements: list[tuple[str, dict[str, str], list[str]]] = []
        self._open: list[list[str]] = []
        self.feed(html)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        text: list[str] = []
        self.elements.append((tag, {k: v or "" for k, v in attrs}, text))
        if tag not in ("br", "input", "meta", "img", "link", "circle", "line", "rect", "polyline"):
            self._open.append(text)

    def handle_endtag(self, tag: str) -> None:
        if self._open:
            self._open.pop()

    def handle_data(self, data: str) -> None:
        for text in self._open:
            text.append(data)

    def find(self, tag: str, **attrs: str) -> list[tuple[dict[str, str], str]]:
        """Elements with these attribute values (``class_`` for class), with their text."""
        wanted = {k.rstrip("_").replace("_", "-"): v for k, v in attrs.items()}
        return [
            (a, " ".join("".join(t).split()))
            for name, a, t in self.elements
            if name == tag and all(a.get(k) == v for k, v in wanted.items())
        ]


def post_form(url: str, fields: dict[str, str]) -> tuple[int, str]:
    """POST a form as a browser does; the status of the answer (redirects not followed)."""

    class NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args: object, **kwargs: object) -> None:
            return None

    request = urllib.request.Request(url, data=urllib.parse.urlencode(fields).encode())
    try:
        with urllib.request.build_opener(NoRedirect).open(request, timeout=10) as response:
            return response.status, response.headers.get("Location", "")
    except urllib.error.HTTPError as exc:
        return exc.code, exc.headers.get("Location", "") or exc.read().decode()


def test_the_pages_show_the_firing_alert_its_silence_the_rules_and_a_graph(
    pipeline: Pipeline, tsdb: Tsdb, receivers: Callable[..., Receiver]
) -> None:
    hook = receivers()
    start(pipeline, ops_config(hook.url))
    web = pipeline.worker_web
    push(pipeline, 80.0)
    hook.wait_for(lambda got: len(got) >= 1, "the firing notification")

    status, location = post_form(
        f"{web}/silences",
        {
            "matchers": 'alertname="TooHot", host="h1"',
            "duration": "1h",
            "created_by": "itest",
            "comment": "known heat",
        },
    )
    assert status == 303, location
    silence_id = location.rsplit("#silence-", 1)[1]

    def suppressed() -> bool:
        alerts = api(pipeline, "alerts")
        return bool(alerts) and alerts[0]["status"]["silencedBy"] == [silence_id]

    wait_for(suppressed, 30, "the alert manager to show the alert silenced")
    push(pipeline, 85.0)  # a second sample, so the graph has a line

    def evaluated_and_stored() -> bool:
        with urllib.request.urlopen(f"{web}/alerts", timeout=10) as response:
            shown = "value 85" in response.read().decode()
        return shown and tsdb.count("amhot_celsius") >= 2

    wait_for(evaluated_and_stored, 30, "the second sample evaluated and stored")

    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    print(f"\nscreenshots of the pages in {ARTIFACTS}")
    pages = {
        "alerts": f"{web}/alerts",
        "silences": f"{web}/silences",
        "rules": f"{web}/rules",
        "graph": f"{web}/graph?"
        + urllib.parse.urlencode({"query": "amhot_celsius", "range": "15m"}),
    }
    started = time.monotonic()
    with ThreadPoolExecutor(2) as pool:  # two cores: two browsers at a time
        dumped = pool.map(lambda url: Dom(browser("--dump-dom", url)), pages.values())
        doms = dict(zip(pages, dumped, strict=True))
        shots = [
            pool.submit(browser, f"--screenshot={ARTIFACTS / f'{name}.png'}", url)
            for name, url in pages.items()
        ]
        for shot in shots:
            shot.result()
    print(f"pages rendered in {time.monotonic() - started:.1f} s")

    alerts = doms["alerts"]
    [(row, text)] = alerts.find("tr", class_="alert manager-alert")
    assert row["data-alertname"] == "TooHot" and row["data-state"] == "silenced"
    assert 'host="h1"' in text and "h1 at 80 degrees" in text and "silenced by" in text
    [(rule_row, rule_text)] = alerts.find("tr", class_="alert rule-alert")
    assert rule_row["data-state"] == "firing" and "value 85" in rule_text
    links = [a["href"] for a, _ in alerts.find("a", class_="silenced-by")]
    assert links == [f"/silences#silence-{silence_id}"] * 2  # the manager's row, the rule's

    silences = doms["silences"]
    [(silence, silence_text)] = silences.find("tr", id=f"silence-{silence_id}")
    assert silence["data-state"] == "active"
    assert 'alertname="TooHot"' in silence_text and "known heat" in silence_text
    assert "itest" in silence_text

    [(rule, rule_text)] = doms["rules"].find("tr", class_="rule", data_rule="TooHot")
    assert rule["data-health"] == "ok" and "1 firing" in rule_text

    graph = doms["graph"]
    assert graph.find("b", id="graph-tier")[0][1] == "raw"
    assert graph.find("polyline") or graph.find("circle")
    [(_, legend)] = graph.find("ul", id="legend")
    assert 'host="h1"' in legend and "amhot_celsius" in legend
    for name in pages:
        assert (ARTIFACTS / f"{name}.png").stat().st_size > 10_000

    # the page's Expire button: the silence moves to the expired ones
    assert post_form(f"{web}/silences/{silence_id}/expire", {})[0] == 303
    with urllib.request.urlopen(f"{web}/silences", timeout=10) as response:
        after = Dom(response.read().decode())
    assert after.find("tr", id=f"silence-{silence_id}")[0][0]["data-state"] == "expired"
