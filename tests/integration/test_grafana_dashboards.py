"""The Grafana dashboards proven on a real InfluxDB 2, without a Grafana server.

The database is set up as docker-compose.yml sets it up: the raw bucket as the image's setup
makes it (from the compose file's DOCKER_INFLUXDB_INIT_* values), then the real init script
(deploy/influxdb/init/pulseline.sh) adds the tiers' buckets and the writer and reader tokens.
A real collector and worker write with the writer token: three hours of the demo hosts'
reports and of the pipeline's own metrics pushed first (so the 1-minute and 1-hour tiers have
closed windows), then ``pulseline demo`` for a short while, while the collector scrapes itself
and the worker and a rule fires alerts that the alert manager sends to a webhook receiver.

Then every panel query of every provisioned dashboard is run through ``/api/v2/query`` with
the reader token (Grafana's), after the substitutions Grafana makes (``v.timeRangeStart``,
``v.timeRangeStop``, ``v.windowPeriod`` textually, ``${host:regex}`` from the variable), and
must return rows; for long ranges the tier the queries pick has rows too.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import yaml
from conftest import IDEMPOTENCE, wait_for
from influxdb2 import influxdb2_server  # noqa: F401  (the fixture `influxdb2`)

from streams.demo import DemoHost
from streams.durations import parse_duration
from streams.kafka import ensure_topics
from streams.settings import DEFAULT_TIERS, KafkaSettings
from streams.stack import components
from streams.stack.influxdb2 import InfluxDB2, parse_flux_csv
from streams.stack.processes import ManagedProcess, free_port, tcp_ready

pytestmark = [pytest.mark.integration, pytest.mark.long(120)]

ROOT = Path(__file__).resolve().parents[2]
DASHBOARDS = ROOT / "deploy" / "grafana" / "dashboards"
INIT = ROOT / "deploy" / "influxdb" / "init" / "pulseline.sh"
HOSTS = ("host-000", "host-001", "host-002")
BACKFILL_H = 3  # hours of reports pushed before the live demo: two hourly windows close
MINUTE, HOUR, DAY = 60, 3600, 86400


@dataclass
class Tokens:
    writer: str
    reader: str


def query(server: InfluxDB2, token: str, flux: str) -> list[dict[str, str]]:
    """Run ``flux`` with ``token`` (not the operator's) as Grafana's data source does."""
    body = {"query": flux, "type": "flux", "dialect": {"header": True, "annotations": []}}
    request = urllib.request.Request(
        f"{server.url}/api/v2/query?org={urllib.parse.quote(server.org)}",
        json.dumps(body).encode(),
        {"Authorization": f"Token {token}", "Content-Type": "application/json",
         "Accept": "text/csv"},
        method="POST",
    )  # fmt: skip
    try:
        with urllib.request.urlopen(request, timeout=120) as response:
            return parse_flux_csv(response.read().decode())
    except urllib.error.HTTPError as exc:
        raise AssertionError(f"{exc.code}: {exc.read().decode()[:500]}\n{flux}") from None


def setup_database(server: InfluxDB2, token_dir: Path) -> Tokens:
    """The raw bucket as the image's setup makes it, then the init script, as in compose."""
    env = yaml.safe_load((ROOT / "docker-compose.yml").read_text())["services"]["influxdb"][
        "environment"
    ]
    (org,) = server.api("GET", f"/api/v2/orgs?org={server.org}")["orgs"]
    rules = [
        {
            "type": "expire",
            "everySeconds": int(parse_duration(env["DOCKER_INFLUXDB_INIT_RETENTION"])),
        }
    ]
    raw = server.api("POST", "/api/v2/buckets",
                     {"orgID": org["id"], "name": env["DOCKER_INFLUXDB_INIT_BUCKET"],
                      "retentionRules": rules})  # fmt: skip
    files = {"writer": token_dir / "writer" / "token", "reader": token_dir / "reader" / "token"}
    result = subprocess.run(
        ["sh", str(INIT)],
        env={**os.environ, "INFLUX_HOST": server.url,
             "DOCKER_INFLUXDB_INIT_ADMIN_TOKEN": server.token,
             "DOCKER_INFLUXDB_INIT_ORG_ID": org["id"], "DOCKER_INFLUXDB_INIT_BUCKET_ID": raw["id"],
             "PULSELINE_WRITER_TOKEN_FILE": str(files["writer"]),
             "GRAFANA_READER_TOKEN_FILE": str(files["reader"])},
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    return Tokens(files["writer"].read_text(), files["reader"].read_text())


def post(url: str, body: bytes) -> None:
    request = urllib.request.Request(url, data=body, method="POST")
    with urllib.request.urlopen(request, timeout=60) as response:
        assert response.status == 204


def pipeline_series() -> dict[str, list[str]]:
    """Every measurement the pipeline health and alerts panels read, with the tags they group
    by: pulseline's own metrics, as the collector's scrapes write them (field ``value``)."""
    found: dict[str, set[str]] = {}
    for name in ("pipeline-health.json", "alerts.json"):
        for panel in dashboard_panels(name):
            flux = panel["targets"][0]["query"]
            (measurement,) = re.findall(r'r\._measurement == "([^"]+)"', flux)
            by = json.loads(re.findall(r"group\(columns: (\[[^]]*\])\)", flux)[-1])
            found.setdefault(measurement, set()).update(by)
    return {measurement: sorted(tags) for measurement, tags in found.items()}


def pipeline_lines(series: dict[str, list[str]], minute: int, ts_ms: int) -> list[str]:
    """One scrape of ``series``: counters (``_total``) count the minutes, gauges are 1."""
    lines = []
    for measurement, tags in series.items():
        value = minute if measurement.endswith("_total") else 1
        labels = "".join(f",{tag}=history" for tag in tags)
        lines.append(f"{measurement}{labels} value={value} {ts_ms}")
    return lines


def backfill(collector: str, now_s: int) -> None:
    """The demo hosts' reports and a scrape of the pipeline's metrics, one a minute over the
    last hours, oldest first."""
    hosts = [DemoHost(name, seed=i) for i, name in enumerate(HOSTS)]
    series = pipeline_series()
    start = (now_s // HOUR - BACKFILL_H) * HOUR
    stamps = list(range(start, now_s - 2 * MINUTE, MINUTE))
    for i in range(0, len(stamps), 30):
        lines = [line for ts in stamps[i : i + 30] for h in hosts for line in h.lines(ts * 1000)]
        for minute, ts in enumerate(stamps[i : i + 30], start=i):
            if ts < now_s - 20 * MINUTE:  # the last 15 minutes' panels show live scrapes only
                lines += pipeline_lines(series, minute, ts * 1000)
        post(f"{collector}/api/v2/write?precision=ms", "\n".join(lines).encode())


def has_rows(server: InfluxDB2, bucket: str, predicate: str, start: str = "-30d") -> bool:
    return bool(server.query(
        f'from(bucket: "{bucket}") |> range(start: {start}) |> filter(fn: (r) => {predicate})'
        " |> limit(n: 1)"
    ))  # fmt: skip


@dataclass
class Stack:
    server: InfluxDB2
    tokens: Tokens
    notified: Path


def write_configs(
    directory: Path, collector_port: int, web_port: int, hook_port: int
) -> dict[str, str]:
    scrape = {
        "global": {"scrape_interval": "2s", "scrape_timeout": "2s"},
        "scrape_configs": [{"job_name": "pulseline", "static_configs": [
            {"targets": [f"127.0.0.1:{collector_port}"], "labels": {"component": "collector"}},
            {"targets": [f"127.0.0.1:{web_port}"], "labels": {"component": "worker"}},
        ]}],
    }  # fmt: skip
    rules = {"groups": [{"name": "demo", "interval": "2s", "rules": [
        {"alert": "DemoHostReporting", "expr": "system_load1 >= 0",
         "labels": {"severity": "warning"}, "annotations": {"summary": "{{ $labels.host }}"}},
    ]}]}  # fmt: skip
    alertmanager = {
        "route": {"receiver": "ops", "group_by": ["alertname"], "group_wait": "1s",
                  "group_interval": "5s", "repeat_interval": "1h"},
        "receivers": [{"name": "ops",
                       "webhook_configs": [{"url": f"http://127.0.0.1:{hook_port}/"}]}],
    }  # fmt: skip
    paths = {}
    for name, content in (("scrape.yml", scrape), ("rules.yml", rules), ("am.yml", alertmanager)):
        paths[name] = directory / name
        paths[name].write_text(yaml.safe_dump(content))
    return {
        "PULSELINE_COLLECTOR__SCRAPE_CONFIG": str(paths["scrape.yml"]),
        "PULSELINE_RULES__FILES": json.dumps([str(paths["rules.yml"])]),
        "PULSELINE_ALERTMANAGER__CONFIG": str(paths["am.yml"]),
    }


@pytest.fixture(scope="module")
def stack(broker: str, influxdb2: InfluxDB2, workdir: Path) -> Iterator[Stack]:
    """Demo data, scrapes and alerts in the buckets docker-compose.yml's InfluxDB has."""
    tokens = setup_database(influxdb2, workdir / "tokens")
    run = f"grafana-{uuid.uuid4().hex[:6]}"
    ports = {name: free_port() for name in ("collect", "scrape", "web", "hook")}
    topics = {
        "RAW": f"raw.{run}", "MEMBERS": f"members.{run}", "LATE": f"late.{run}",
        "RULE_SAMPLES": f"rules.{run}", "ALERTS": f"alerts.{run}",
        "ALERT_GROUPS": f"alert-groups.{run}", "SILENCES": f"silences.{run}",
        "NOTIFICATIONS": f"notifications.{run}",
    }  # fmt: skip
    env = {k: v for k, v in os.environ.items() if not k.startswith("PULSELINE_")}
    env |= {f"PULSELINE_TOPICS__{key}": name for key, name in topics.items()}
    env |= {
        "PULSELINE_KAFKA__BROKER": f"kafka://{broker}",
        "PULSELINE_KAFKA__PARTITIONS": "4",
        "PULSELINE_KAFKA__ENABLE_IDEMPOTENCE": IDEMPOTENCE,
        "PULSELINE_INFLUX__URL": influxdb2.url,
        "PULSELINE_INFLUX__STORE": "influxdb",
        "PULSELINE_INFLUX__ORG": influxdb2.org,
        "PULSELINE_INFLUX__TOKEN": tokens.writer,
        "PULSELINE_INFLUX__RETRY_MAX_S": "2",
        "PULSELINE_WORKER__APP_ID": f"pulseline-{run}",
        "PULSELINE_WORKER__WEB_PORT": str(ports["web"]),
        "PULSELINE_DOWNSAMPLE__LATENESS_S": "5",
    }
    directory = workdir / run
    directory.mkdir()
    env |= write_configs(directory, ports["scrape"], ports["web"], ports["hook"])
    layout = {name: 1 if key in ("MEMBERS", "SILENCES") else 4 for key, name in topics.items()}
    layout[f"raw.{run}.dlq"] = 4
    asyncio.run(ensure_topics(KafkaSettings(broker=f"kafka://{broker}", partitions=4), layout))
    notified = directory / "notifications.jsonl"
    processes: list[ManagedProcess] = []

    def start(process: ManagedProcess, timeout: float = 90) -> ManagedProcess:
        processes.append(process)
        return process.start().wait_ready(timeout)

    try:
        start(ManagedProcess(
            "webhook",
            [sys.executable, "-m", "streams", "webhook-receiver",
             "--listen", f"127.0.0.1:{ports['hook']}", "--log", str(notified)],
            log_path=directory / "webhook.log", ready=tcp_ready(ports["hook"]), env=env,
            cwd=directory,
        ))  # fmt: skip
        start(components.pulseline("worker", directory, env,
                                   ready_url=f"http://127.0.0.1:{ports['web']}/health"))  # fmt: skip
        # First the history, through a collector that scrapes nothing: its hours are the
        # oldest samples of every partition, so their windows close in order.
        plain = {**env, "PULSELINE_COLLECTOR__LISTEN": f"127.0.0.1:{ports['collect']}"}
        plain.pop("PULSELINE_COLLECTOR__SCRAPE_CONFIG")
        first = start(components.pulseline("collect", directory, plain, name="collect-history",
                                           ready_url=f"http://127.0.0.1:{ports['collect']}/health"))  # fmt: skip
        now_s = int(time.time())
        backfill(f"http://127.0.0.1:{ports['collect']}", now_s)
        raw, _, h1 = (tier.bucket for tier in DEFAULT_TIERS)
        wait_for(lambda: has_rows(influxdb2, h1, 'r._measurement == "cpu"'), 240,
                 "hourly rows of the history")  # fmt: skip
        first.stop()
        # Then the live part: a collector scraping the worker and itself, and the demo.
        scraping = {**env, "PULSELINE_COLLECTOR__LISTEN": f"127.0.0.1:{ports['scrape']}"}
        collector = f"http://127.0.0.1:{ports['scrape']}"
        start(components.pulseline("collect", directory, scraping, name="collect",
                                   ready_url=f"{collector}/health"))  # fmt: skip
        demo = subprocess.run(
            [sys.executable, "-m", "streams", "demo", "--url", collector, "--hosts",
             str(len(HOSTS)), "--interval", "2", "--duration", "30"],
            env=env, cwd=directory, capture_output=True, text=True, timeout=120, check=False,
        )  # fmt: skip
        assert demo.returncode == 0, demo.stderr[-2000:]
        checks = {
            "live cpu rows of every host": lambda: all(
                has_rows(influxdb2, raw, f'r._measurement == "cpu" and r.host == "{h}"', "-2m")
                for h in HOSTS),
            "a notification": lambda: notified.exists() and notified.stat().st_size > 0,
            "scrapes of the worker after the notification": lambda: has_rows(
                influxdb2, raw, 'r._measurement == "pulseline_notifications_sent_total"', "-1m"),
            "consumer lag": lambda: has_rows(
                influxdb2, raw, 'r._measurement == "pulseline_consumer_lag"', "-1m"),
        }  # fmt: skip
        for what, check in checks.items():
            wait_for(check, 180, what)
        yield Stack(influxdb2, tokens, notified)
    finally:
        for process in reversed(processes):
            process.stop(deadline=15)


def go_duration(seconds: int) -> str:
    """Go's ``time.Duration.String()``, as Grafana writes ``v.windowPeriod``: 1m0s, 1h0m0s."""
    hours, rest = divmod(seconds, HOUR)
    minutes, secs = divmod(rest, MINUTE)
    if hours:
        return f"{hours}h{minutes}m{secs}s"
    return f"{minutes}m{secs}s" if minutes else f"{secs}s"


def rfc3339(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def grafana_flux(flux: str, start: float, stop: float, window: int, host: str | None) -> str:
    """The query as Grafana sends it: the dashboard variable, then the Flux macros, replaced
    as Grafana replaces them (any ``word.name`` of a macro's name, textually)."""
    flux = flux.replace("${host:regex}", ".*" if host is None else re.escape(host))
    values = {"timeRangeStart": rfc3339(start), "timeRangeStop": rfc3339(stop),
              "windowPeriod": go_duration(window)}  # fmt: skip
    for match in {m[0]: m[2] for m in re.findall(r"(([a-zA-Z]+)\.([a-zA-Z]+))", flux)}.items():
        text, name = match
        if name in values:
            flux = flux.replace(text, values[name])
    interval_ms = str(window * 1000)
    return flux.replace("$__interval_ms", interval_ms).replace("$__interval", go_duration(window))


def dashboard_panels(name: str) -> list[dict[str, Any]]:
    return list(json.loads((DASHBOARDS / name).read_text())["panels"])


def run_panel(stack: Stack, panel: dict[str, Any], span: int, window: int,
              host: str | None = None) -> list[dict[str, str]]:  # fmt: skip
    now = time.time()
    (target,) = panel["targets"]
    flux = grafana_flux(target["query"], now - span, now, window, host)
    return query(stack.server, stack.tokens.reader, flux)


def tier_of(stack: Stack, span: int) -> dict[str, str]:
    (tier,) = [p for p in dashboard_panels("host-overview.json") if p["title"] == "Tier read"]
    (row,) = run_panel(stack, tier, span, 60)
    return {"tier": row["tier"], "bucket": row["bucket"]}


def test_the_init_script_makes_the_settings_tiers_and_scoped_tokens(stack: Stack) -> None:
    buckets = stack.server.buckets()
    for tier in DEFAULT_TIERS:
        assert buckets[tier.bucket] == [int(tier.retention_s)], tier.name
    flux = f'from(bucket: "{DEFAULT_TIERS[0].bucket}") |> range(start: -1m) |> limit(n: 1)'
    assert query(stack.server, stack.tokens.reader, flux)
    with pytest.raises(AssertionError, match="404"):  # the writer reads nothing
        query(stack.server, stack.tokens.writer, flux)
    with pytest.raises(urllib.error.HTTPError) as refused:  # the reader writes nothing
        request = urllib.request.Request(
            f"{stack.server.url}/api/v2/write?org={stack.server.org}&bucket=metrics",
            b"x v=1",
            {"Authorization": f"Token {stack.tokens.reader}"},
            method="POST",
        )
        urllib.request.urlopen(request, timeout=30)
    assert refused.value.code == 403


@pytest.mark.parametrize("name", ["host-overview.json", "pipeline-health.json", "alerts.json"])
def test_every_panel_returns_rows_for_the_last_15_minutes(stack: Stack, name: str) -> None:
    empty = [p["title"] for p in dashboard_panels(name) if not run_panel(stack, p, 15 * MINUTE, 10)]
    assert empty == [], f"{name}: panels without rows"


def test_host_panels_show_the_chosen_host_only(stack: Stack) -> None:
    for panel in dashboard_panels("host-overview.json"):
        if "${host:regex}" not in panel["targets"][0]["query"]:
            continue
        rows = run_panel(stack, panel, 15 * MINUTE, 10, host="host-001")
        assert rows, panel["title"]
        if "host" in rows[0]:
            assert {row["host"] for row in rows} == {"host-001"}, panel["title"]
        else:  # a mean over the chosen hosts: one host's is not all hosts'
            every = run_panel(stack, panel, 15 * MINUTE, 10)
            assert [r["_value"] for r in rows] != [r["_value"] for r in every], panel["title"]
    rows = run_panel(stack, dashboard_panels("host-overview.json")[0], 15 * MINUTE, 10)
    assert {row["host"] for row in rows} == set(HOSTS)


def test_the_host_variable_lists_the_demo_hosts(stack: Stack) -> None:
    (variable,) = json.loads((DASHBOARDS / "host-overview.json").read_text())["templating"]["list"]
    rows = query(stack.server, stack.tokens.reader, variable["query"])
    assert {row["_value"] for row in rows} == set(HOSTS)


@pytest.mark.parametrize(
    ("span", "tier"), [(HOUR, "raw"), (2 * DAY, "1m"), (30 * DAY, "1h"), (365 * DAY, "1h")]
)
def test_the_range_picks_the_tier_and_it_has_rows(stack: Stack, span: int, tier: str) -> None:
    bucket = {t.name: t.bucket for t in DEFAULT_TIERS}[tier]
    assert tier_of(stack, span) == {"tier": tier, "bucket": bucket}
    window = max(10, span // 1000)  # about what Grafana asks for a 1000-pixel-wide panel
    for panel in dashboard_panels("host-overview.json"):
        if panel["type"] == "timeseries":
            assert run_panel(stack, panel, span, window), f"{panel['title']} over {span}s"


@pytest.mark.parametrize(("span", "tier"), [(2 * DAY, "1m"), (30 * DAY, "1h")])
@pytest.mark.parametrize("name", ["pipeline-health.json", "alerts.json"])
def test_pipeline_and_alert_panels_read_the_tier_the_range_picks(
    stack: Stack, name: str, span: int, tier: str
) -> None:
    """Over long ranges these panels read the 1m and 1h rows of the history pushed first."""
    assert tier_of(stack, span)["tier"] == tier
    panels = dashboard_panels(name)
    assert all(panel["type"] == "timeseries" for panel in panels)  # each has its tier form
    window = max(10, span // 1000)

    def empty() -> list[str]:
        return [p["title"] for p in panels if not run_panel(stack, p, span, window)]

    deadline = time.monotonic() + 60  # every partition's hours close as its event time moves
    while (found := empty()) and time.monotonic() < deadline:
        time.sleep(1)
    assert found == [], f"{name}: panels without rows over {span}s ({tier})"


def test_hourly_rows_agree_with_the_raw_samples_they_summarise(stack: Stack) -> None:
    """The 1h tier's CPU mean of a closed hour equals the mean of that hour's raw samples."""
    raw, _, h1 = (tier.bucket for tier in DEFAULT_TIERS)
    hour = (int(time.time()) // HOUR - 2) * HOUR
    window = f"start: {rfc3339(hour)}, stop: {rfc3339(hour + HOUR)}"
    pick = 'r._measurement == "cpu" and r.cpu == "cpu-total" and r.host == "host-000"'
    (row,) = stack.server.query(
        f'from(bucket: "{h1}") |> range({window}) |> filter(fn: (r) => {pick} '
        'and r._field == "usage_idle_mean")')  # fmt: skip
    samples = stack.server.query(
        f'from(bucket: "{raw}") |> range({window}) |> filter(fn: (r) => {pick} '
        'and r._field == "usage_idle")')  # fmt: skip
    values = [float(s["_value"]) for s in samples]
    assert len(values) == 60
    assert float(row["_value"]) == pytest.approx(sum(values) / len(values), rel=1e-9)
