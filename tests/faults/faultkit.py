"""The fault suite's kit: its two forms, a scenario's run and the figures it prints.

A pytest plugin (registered by ``tests/conftest.py``) and a module the scenarios import.
``--faults=short`` (the default, what ``make test`` runs) keeps each scenario small and
deselects those marked ``full``; ``--faults=full`` (``make faults``) runs them all, with the
larger loads. Every scenario ends with :meth:`FaultRun.settle`, which measures against the
sequence oracle (:mod:`sequences`) and records one line of :class:`Figures`; the lines of
the session are printed together at the end of the run.
"""

from __future__ import annotations

import json
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field

import pytest
from faultalerts import AlertFigures
from sequences import MINUTE, Sequences, check_minutes, check_raw, produce
from servers import Pipeline, Tsdb, topic_size

FORMS = ("short", "full")
FIGURES: list[Figures] = []
"""Every scenario's figures of this session, printed at its end."""


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--faults",
        choices=FORMS,
        default="short",
        help="fault suite form: short (small loads, the scenarios not marked full) or full",
    )


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "full: a fault scenario only --faults=full runs")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if config.getoption("--faults") == "full":
        return
    dropped = [item for item in items if item.get_closest_marker("full")]
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = [item for item in items if not item.get_closest_marker("full")]


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if FIGURES:
        terminalreporter.section("fault suite figures")
        for figures in FIGURES:
            terminalreporter.write_line(figures.line())


@pytest.fixture(scope="session")
def full(request: pytest.FixtureRequest) -> bool:
    """Whether this is the full form (larger loads, longer outages)."""
    return bool(request.config.getoption("--faults") == "full")


@dataclass(frozen=True)
class Figures:
    """What one scenario's run left in the tiers, by the sequence oracle."""

    scenario: str
    acknowledged: int
    missing: int
    duplicated: int
    wrong: int
    dlq: int
    windows_exact: int
    windows: int
    resume_s: float | None
    drain_s: float | None
    examples: tuple[str, ...] = ()
    alerts: AlertFigures | None = None
    """What the receiver was told of the scenario's breaches (those that make some)."""

    def line(self) -> str:
        def seconds(value: float | None) -> str:
            return "never" if value is None else f"{value:.1f} s"

        return (
            f"{self.scenario}: acknowledged {self.acknowledged}, missing {self.missing}, "
            f"duplicated {self.duplicated}, wrong {self.wrong}, DLQ {self.dlq}, "
            f"1m windows exact {self.windows_exact}/{self.windows}, "
            f"resume {seconds(self.resume_s)}, drain {seconds(self.drain_s)}"
            + ("" if self.alerts is None else f", {self.alerts.line()}")
        )

    def assert_clean(self, dlq: int = 0) -> None:
        """Nothing missing, wrong or twice, every window exact, ``dlq`` dead letters; every
        breach notified firing and resolved, none announced twice."""
        got = (self.missing, self.wrong, self.duplicated, self.windows_exact, self.dlq)
        assert got == (0, 0, 0, self.windows, dlq), f"{self.line()}; e.g. {list(self.examples)}"
        if self.alerts is not None:
            assert self.alerts.clean, f"{self.line()}; e.g. {list(self.alerts.examples)}"


def tiers(minute_store: Tsdb) -> str:
    """``PULSELINE_TIERS``: raw in the pipeline's TSDB, 1-minute rows in ``minute_store``."""
    return json.dumps(
        [
            {"name": "raw", "retention_s": "7d", "bucket": "metrics"},
            {
                "name": "1m",
                "window_s": 60,
                "retention_s": "30d",
                "bucket": "metrics_1m",
                "url": minute_store.url,
            },
        ]
    )


def load_for(request: pytest.FixtureRequest, hosts: int, minutes: int) -> Sequences:
    """The test's own sequences: a metric named after it, minutes ending 3 minutes ago."""
    name = "".join(c if c.isalnum() else "_" for c in request.node.name)[:60]
    start = (int(time.time() * 1000) // MINUTE - minutes - 3) * MINUTE
    return Sequences(hosts=hosts, minutes=minutes, start_ms=start, metric=f"f_{name}")


def poll(check: Callable[[], bool], timeout: float, every: float = 0.2) -> bool:
    """Poll ``check`` until it is true (True) or ``timeout`` seconds pass (False)."""
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            return False
        time.sleep(every)
    return True


def holdings(web: str, topic: str) -> list[int] | None:
    """The ``topic`` partitions a ready worker holds (its ``/health``); None when not ready."""
    try:
        with urllib.request.urlopen(f"{web}/health", timeout=5) as resp:
            return list(json.loads(resp.read())["partitions"].get(topic, []))
    except (OSError, urllib.error.URLError, ValueError):  # 503 while it rebalances, or gone
        return None


def spread(webs: list[str], topic: str, partitions: int) -> dict[str, list[int]] | None:
    """Who holds which ``topic`` partitions, when every worker is ready, each partition is
    held once and no worker holds more than one partition more than another; else None."""
    held = {web: holdings(web, topic) for web in webs}
    counts = [len(h) for h in held.values() if h is not None]
    every = sorted(p for h in held.values() if h is not None for p in h)
    if len(counts) < len(webs) or every != list(range(partitions)):
        return None
    return held if max(counts) - min(counts) <= 1 else None  # type: ignore[return-value]


@dataclass
class FaultRun:
    """One scenario: its pipeline, its two tiers, its sequences and what Kafka acknowledged.

    Example (in a scenario)::

        run = FaultRun("worker kill", pipeline, tsdb, minute_store, broker, load, full)
        run.produce()
        ...  # the fault
        run.settle(since=fault_over, before=run.written()).assert_clean()
    """

    scenario: str
    pipeline: Pipeline
    raw: Tsdb
    minutes: Tsdb
    broker: str
    load: Sequences
    full: bool
    acknowledged: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def __post_init__(self) -> None:
        self.pipeline.env["PULSELINE_TIERS"] = tiers(self.minutes)
        if not self.full:
            # The short form closes a window 5 s after its end instead of 30: its runs drain
            # in seconds once the stream stops.
            self.pipeline.env["PULSELINE_DOWNSAMPLE__LATENESS_S"] = "5"

    def produce(self, minutes: range | None = None) -> int:
        """Produce the load's records (or those of ``minutes``); samples Kafka acknowledged."""
        records = produce(self.broker, self.pipeline.raw_topic, self.load.records(minutes))
        with self._lock:
            self.acknowledged += records * 60
        return records * 60

    def stream(self, minutes: range, every_s: float) -> threading.Thread:
        """Produce ``minutes`` one minute every ``every_s`` seconds, in a thread (started)."""

        def run() -> None:
            for m in minutes:
                began = time.monotonic()
                self.produce(range(m, m + 1))
                time.sleep(max(0.0, every_s - (time.monotonic() - began)))

        thread = threading.Thread(target=run, name=f"stream {self.scenario}", daemon=True)
        thread.start()
        return thread

    def written(self) -> int:
        """Distinct samples in the raw tier now (-1 while the TSDB does not answer)."""
        query = urllib.parse.urlencode(
            {
                "query": f"sum(count_over_time({self.load.metric}[1d]))",
                "time": time.time(),
                "nocache": 1,  # the samples are older than VictoriaMetrics' cache horizon
            }
        )
        try:
            with urllib.request.urlopen(f"{self.raw.url}/api/v1/query?{query}", timeout=30) as r:
                result = json.loads(r.read())["data"]["result"]
        except (OSError, urllib.error.URLError):
            return -1
        return int(float(result[0]["value"][1])) if result else 0

    def still(self, every_s: float = 1.0, timeout: float = 30) -> int:
        """The raw tier's count once it stopped moving (what a stopped writer left there)."""
        last = self.written()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            time.sleep(every_s)  # VictoriaMetrics shows a write within about a second
            now = self.written()
            if now == last:
                break
            last = now
        return last

    def wait_written(self, at_least: int, timeout: float) -> None:
        """Wait until the raw tier holds ``at_least`` samples (fail after ``timeout``)."""
        if not poll(lambda: self.written() >= at_least, timeout):
            pytest.fail(f"{self.scenario}: {at_least} samples not written in {timeout:.0f}s")

    def settle(
        self,
        since: float,
        before: int,
        timeout: float = 300,
        alerts: Callable[[], AlertFigures] | None = None,
    ) -> Figures:
        """Wait for the tiers to be complete (or ``timeout``), then measure and record.

        Args:
            since: when the fault ended (``time.monotonic()``): resume and drain count from it.
            before: the samples written then; the run has resumed once there are more.
            timeout: how long to wait for the tiers to be complete before measuring anyway.
            alerts: measures the notifications, once the tiers are measured
                (:meth:`faultalerts.Breaches.figures`).
        """
        total = self.load.total
        deadline = since + timeout
        resumed: float | None = 0.0 if before >= total else None
        while time.monotonic() < deadline:
            now = self.written()
            if resumed is None and now > max(before, 0):
                resumed = time.monotonic() - since
            if now >= total:
                break
            time.sleep(0.2)
        while (problems := check_minutes(self.load, self.minutes.url)) and (
            time.monotonic() < deadline
        ):
            time.sleep(0.5)
        drained = time.monotonic() - since if time.monotonic() < deadline else None
        raw = check_raw(self.load, self.raw.url)
        counted = self.written()
        figures = Figures(
            scenario=self.scenario,
            acknowledged=self.acknowledged,
            missing=len(raw.missing),
            duplicated=max(raw.duplicated, counted - (total - len(raw.missing))),
            wrong=len(raw.wrong),
            dlq=topic_size(self.broker, self.pipeline.raw_topic + ".dlq"),
            windows_exact=len(self.load.minute_rows()) - len(problems),
            windows=len(self.load.minute_rows()),
            resume_s=resumed,
            drain_s=drained,
            examples=tuple(
                [f"missing {m}" for m in raw.missing[:3]]
                + [f"wrong {w}" for w in raw.wrong[:3]]
                + [f"window {p}" for p in problems[:3]]
            ),
            alerts=None if alerts is None else alerts(),
        )
        FIGURES.append(figures)
        print(figures.line())
        return figures
