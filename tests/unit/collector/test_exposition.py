from __future__ import annotations

import contextlib
import doctest
import math
import shutil
import socket
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from streams.codecs.remotewrite import drop_reason
from streams.collector import exposition
from streams.collector.exposition import (
    ACCEPT,
    REPORT_TYPES,
    ScrapeError,
    ScrapeResult,
    parse_scrape,
    report_points,
)
from streams.errors import PulselineError
from streams.records import Point

TEXT = "text/plain; version=0.0.4; charset=utf-8"
OM = "application/openmetrics-text; version=1.0.0; charset=utf-8"
NOW = 1_700_000_000_000
NO_DROPS = {"stale": 0, "nan": 0, "inf": 0, "histograms": 0}


def scrape(body: str | bytes, content_type: str | None = TEXT, **kw: Any) -> ScrapeResult:
    args: dict[str, Any] = {
        "job": "j", "instance": "i:1", "target_labels": {}, "honor_labels": False,
        "sample_limit": 0, "label_limit": 0, "scrape_ts_ms": NOW,
    }  # fmt: skip
    args.update(kw)
    raw = body.encode() if isinstance(body, str) else body
    return parse_scrape(raw, content_type, **args)


def only_tags(body: str, **kw: Any) -> dict[str, str]:
    (point,) = scrape(body, **kw).points
    return point.tags


def test_doctests() -> None:
    assert doctest.testmod(exposition).failed == 0


def test_text_format_families_and_types() -> None:
    page = """\
# HELP http_requests_total Requests.
# TYPE http_requests_total counter
http_requests_total{code="200",method="get"} 1027 1395066363000
http_requests_total{code="400",method="post"} 3
# TYPE events counter
events 5
# TYPE temp gauge
temp{room="a b\\"c\\\\d\\ne"} -1.5e3
# TYPE lat histogram
lat_bucket{le="0.5"} 1
lat_bucket{le="+Inf"} 2
lat_sum 0.75
lat_count 2
# TYPE rpc summary
rpc{quantile="0.5"} 4.5
rpc_sum 9
rpc_count 2
plain 7
# TYPE odd untyped
odd 1
"""
    result = scrape(page)
    got = [(p.measurement, p.tags, p.fields, p.ts_ms) for p in result.points]
    base = {"instance": "i:1", "job": "j"}
    assert got == [
        (
            "http_requests_total",
            {"code": "200", **base, "method": "get"},
            {"value": 1027.0},
            1395066363000,
        ),
        ("http_requests_total", {"code": "400", **base, "method": "post"}, {"value": 3.0}, NOW),
        ("events", base, {"value": 5.0}, NOW),  # prometheus_client would say events_total
        ("temp", {**base, "room": 'a b"c\\d\ne'}, {"value": -1500.0}, NOW),
        ("lat_bucket", {**base, "le": "0.5"}, {"value": 1.0}, NOW),
        ("lat_bucket", {**base, "le": "+Inf"}, {"value": 2.0}, NOW),
        ("lat_sum", base, {"value": 0.75}, NOW),
        ("lat_count", base, {"value": 2.0}, NOW),
        ("rpc", {**base, "quantile": "0.5"}, {"value": 4.5}, NOW),
        ("rpc_sum", base, {"value": 9.0}, NOW),
        ("rpc_count", base, {"value": 2.0}, NOW),
        ("plain", base, {"value": 7.0}, NOW),
        ("odd", base, {"value": 1.0}, NOW),
    ]
    assert result.types == {
        "http_requests_total": "counter", "events": "counter", "temp": "gauge",
        "lat_bucket": "histogram", "lat_sum": "histogram", "lat_count": "histogram",
        "rpc": "summary", "rpc_sum": "summary", "rpc_count": "summary",
        "plain": "unknown", "odd": "unknown",
    }  # fmt: skip
    assert result.dropped == NO_DROPS
    assert result.samples_scraped == 13
    assert all(list(p.tags) == sorted(p.tags) for p in result.points)


def test_openmetrics_families_and_types() -> None:
    page = """\
# TYPE req counter
# HELP req Requests.
req_total{code="200"} 7 1700000000.5 # {trace_id="abc"} 1.0
req_created{code="200"} 1600000000 1700000000.5
# TYPE lat histogram
# UNIT lat seconds
lat_seconds_bucket{le="1.0"} 1
# TYPE lat_seconds histogram
lat_seconds_bucket{le="1.0"} 1
lat_seconds_bucket{le="+Inf"} 2
lat_seconds_sum 3.5
lat_seconds_count 2
lat_seconds_created 1600000000
# TYPE q gaugehistogram
q_bucket{le="+Inf"} 4
q_gcount 4
q_gsum 2
# TYPE build info
build_info{version="1.2"} 1
# TYPE state stateset
state{state="on"} 1
state{state="off"} 0
# TYPE t gauge
t 1 -1.25
# EOF
"""
    with pytest.raises(ScrapeError):  # a family named lat, then samples of lat_seconds
        scrape(page, OM)
    page = page.replace(
        '# TYPE lat histogram\n# UNIT lat seconds\nlat_seconds_bucket{le="1.0"} 1\n', ""
    )
    result = scrape(page, OM)
    names = [(p.measurement, p.ts_ms) for p in result.points]
    assert names == [
        ("req_total", 1_700_000_000_500), ("req_created", 1_700_000_000_500), ("lat_seconds_bucket", NOW),
        ("lat_seconds_bucket", NOW), ("lat_seconds_sum", NOW), ("lat_seconds_count", NOW),
        ("lat_seconds_created", NOW), ("q_bucket", NOW), ("q_gcount", NOW), ("q_gsum", NOW),
        ("build_info", NOW), ("state", NOW), ("state", NOW), ("t", -1250),
    ]  # fmt: skip
    assert result.points[1].fields == {"value": 1_600_000_000.0}
    assert result.types == {
        "req_total": "counter", "req_created": "counter",
        "lat_seconds_bucket": "histogram", "lat_seconds_sum": "histogram",
        "lat_seconds_count": "histogram", "lat_seconds_created": "histogram",
        "q_bucket": "gaugehistogram", "q_gcount": "gaugehistogram", "q_gsum": "gaugehistogram",
        "build_info": "info", "state": "stateset", "t": "gauge",
    }  # fmt: skip


@pytest.mark.parametrize(
    ("content_type", "openmetrics"),
    [
        (None, False),
        ("", False),
        (TEXT, False),
        ("text/plain", False),
        ("application/json", False),  # anything else is the text format, as in Prometheus
        ("not a media type;;", False),
        (OM, True),
        ("Application/OpenMetrics-Text", True),
        ("application/openmetrics-text;version=0.0.1", True),
    ],
)
def test_format_follows_content_type(content_type: str | None, openmetrics: bool) -> None:
    text_page, om_page = "a 1\n", "a 1\n# EOF\n"
    good, bad = (om_page, text_page) if openmetrics else (text_page, om_page)
    assert [p.measurement for p in scrape(good, content_type).points] == ["a"]
    if openmetrics:
        with pytest.raises(ScrapeError, match=r"^OpenMetrics body, line 1: Missing # EOF at end$"):
            scrape(bad, content_type)


def test_protobuf_content_type_is_refused() -> None:
    ct = "application/vnd.google.protobuf; proto=io.prometheus.client.MetricFamily; encoding=delimited"
    with pytest.raises(ScrapeError, match="protobuf exposition format is not supported"):
        scrape(b"\x08\x01", ct)


def test_accept_header_is_prometheus_s() -> None:
    assert ACCEPT.startswith("application/openmetrics-text;version=1.0.0,")
    assert "text/plain;version=0.0.4;q=0.5" in ACCEPT


def test_non_finite_values_are_dropped_and_counted() -> None:
    result = scrape("a NaN\nb +Inf\nc -Inf\nd 1\n")
    assert [p.measurement for p in result.points] == ["d"]
    assert result.dropped == {"stale": 0, "nan": 1, "inf": 2, "histograms": 0}
    assert result.types == {"a": "unknown", "b": "unknown", "c": "unknown", "d": "unknown"}
    assert result.samples_scraped == 4


def test_stale_nan_is_counted_as_stale() -> None:
    stale = struct_float(0x7FF0000000000002)
    assert drop_reason(stale) == "stale"
    assert drop_reason(math.nan) == "nan"
    assert drop_reason(-math.inf) == "inf"


def struct_float(bits: int) -> float:
    import struct

    return float(struct.unpack("<d", struct.pack("<Q", bits))[0])


def test_target_labels_are_attached_and_may_set_job_and_instance() -> None:
    tags = only_tags('a{x="1"} 1\n', target_labels={"env": "prod", "job": "custom", "empty": ""})
    assert tags == {"env": "prod", "instance": "i:1", "job": "custom", "x": "1"}


@pytest.mark.parametrize(
    ("scraped", "target", "expected"),
    [
        # a clash renames the scraped label
        ('job="a"', {}, {"job": "j", "instance": "i:1", "exported_job": "a"}),
        (
            'job="a",instance="x"',
            {},
            {"job": "j", "instance": "i:1", "exported_job": "a", "exported_instance": "x"},
        ),
        # the new name must be free on both sides, so exported_ is repeated
        (
            'job="a",exported_job="b"',
            {},
            {"job": "j", "instance": "i:1", "exported_job": "b", "exported_exported_job": "a"},
        ),
        (
            'job="a"',
            {"exported_job": "t"},
            {"job": "j", "instance": "i:1", "exported_job": "t", "exported_exported_job": "a"},
        ),
        # shorter names first, and a rename may not take an earlier rename's name
        (
            'a="1",exported_a="2"',
            {"a": "t", "exported_a": "u"},
            {
                "a": "t",
                "exported_a": "u",
                "exported_exported_a": "1",
                "exported_exported_exported_a": "2",
                "job": "j",
                "instance": "i:1",
            },
        ),
        # an empty scraped value is no label, so no clash
        ('job=""', {}, {"job": "j", "instance": "i:1"}),
        ('x=""', {}, {"job": "j", "instance": "i:1"}),
    ],
)
def test_label_clashes_without_honor_labels(
    scraped: str, target: dict[str, str], expected: dict[str, str]
) -> None:
    tags = only_tags(f"m{{{scraped}}} 1\n", target_labels=target)
    assert tags == dict(sorted(expected.items()))


def test_honor_labels_keeps_the_scraped_label() -> None:
    tags = only_tags(
        'm{job="a",env="dev"} 1\n', target_labels={"env": "prod", "dc": "x"}, honor_labels=True
    )
    assert tags == {"dc": "x", "env": "dev", "instance": "i:1", "job": "a"}
    # an empty scraped label still wins over the target's, and then is no label
    assert only_tags('m{job=""} 1\n', honor_labels=True) == {"instance": "i:1"}


def test_sample_limit_fails_the_scrape() -> None:
    page = "".join(f'm{{i="{i}"}} {i}\n' for i in range(3))
    assert len(scrape(page, sample_limit=3).points) == 3
    assert len(scrape(page, sample_limit=0).points) == 3
    with pytest.raises(ScrapeError, match=r"^sample limit exceeded: 3 > 2$"):
        scrape(page, sample_limit=2)
    with pytest.raises(ScrapeError, match=r"^sample limit exceeded: 3 > 2$"):
        scrape("a NaN\nb NaN\nc 1\n", sample_limit=2)  # dropped samples count too


def test_label_limit_counts_name_and_target_labels() -> None:
    page = 'ok{a="1"} 1\nbig{a="1",b="2"} 2\n'
    assert len(scrape(page, label_limit=5).points) == 2  # __name__, a, b, job, instance
    with pytest.raises(ScrapeError, match=r"^label limit exceeded: series 'big' has 5 labels > 4$"):
        scrape(page, label_limit=4)
    with pytest.raises(ScrapeError, match="series 'nan' has 4 labels > 3"):
        scrape('nan{a="1"} NaN\n', label_limit=3)


@pytest.mark.parametrize(
    ("body", "content_type", "message"),
    [
        (b"\xff\xfe garbage", TEXT, r"^body is not UTF-8 at byte 0$"),
        (
            b"ok 1\nhello world\n",
            TEXT,
            r"^text format body, line 2: could not convert string to float: 'world'$",
        ),
        (b'a{b="c} 1\n', TEXT, r"^text format body, line 1: "),
        (b"# TYPE a\n", TEXT, r"^text format body, line 1: invalid line '# TYPE a'$"),
        (
            b"# TYPE a nonsense\na 1\n",
            TEXT,
            r"^text format body, line 2: Invalid metric type: nonsense$",
        ),
        (b"a 1\n\n# EOF\n", OM, r"^OpenMetrics body, line 2: Received blank line$"),
        (b"a 1\n# EOF\nb 2\n", OM, r"^OpenMetrics body, line 3: Received line after # EOF"),
        (b"<html><body>404</body></html>", TEXT, r"^text format body, line 1: "),
        (b"a 1 NaN\n", TEXT, r"^series 'a' has a timestamp out of range: nan$"),
        (b"a 1 1e30\n", TEXT, r"^series 'a' has a timestamp out of range: 1e\+27$"),
    ],
)
def test_garbage_bodies(body: bytes, content_type: str, message: str) -> None:
    with pytest.raises(ScrapeError, match=message):
        scrape(body, content_type)


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet='{}",=# \n\\abcTYPEHELPUNIT01.+-eInfNa_', max_size=80), st.booleans())
def test_any_text_parses_or_raises_scrape_error(text: str, openmetrics: bool) -> None:
    with contextlib.suppress(ScrapeError):
        scrape(text, OM if openmetrics else TEXT)


def test_errors_are_pulseline_errors() -> None:
    assert issubclass(ScrapeError, PulselineError)


def test_report_points() -> None:
    points = report_points("api", "h:80", {"env": "prod"}, False, 0.25, 12, NOW)
    tags = {"env": "prod", "instance": "h:80", "job": "api"}
    assert points == [
        Point("up", tags, {"value": 0.0}, NOW),
        Point("scrape_duration_seconds", tags, {"value": 0.25}, NOW),
        Point("scrape_samples_scraped", tags, {"value": 12.0}, NOW),
    ]
    assert list(points[0].tags) == sorted(tags)
    assert points[0].tags is not points[1].tags
    assert report_points("a", "b", {}, True, 1, 0, 0)[0].fields == {"value": 1.0}
    assert set(REPORT_TYPES) == {p.measurement for p in points}
    assert set(REPORT_TYPES.values()) == {"gauge"}


# A real target: Debian's prometheus-node-exporter.
NODE_EXPORTER = shutil.which("prometheus-node-exporter")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def node_exporter() -> Iterator[str]:
    assert NODE_EXPORTER, "prometheus-node-exporter is not installed (make test installs it)"
    port = free_port()
    proc = subprocess.Popen(
        [NODE_EXPORTER, f"--web.listen-address=127.0.0.1:{port}"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}/metrics"
    try:
        deadline = time.monotonic() + 15
        while True:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                    break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"node exporter did not listen on port {port}") from None
                time.sleep(0.05)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def test_parses_a_real_node_exporter_page(node_exporter: str) -> None:
    request = urllib.request.Request(node_exporter, headers={"Accept": ACCEPT})
    with urllib.request.urlopen(request, timeout=10) as response:
        body, content_type = response.read(), response.headers.get("Content-Type")
    result = scrape(
        body, content_type, target_labels={"env": "test"}, sample_limit=100_000, label_limit=30
    )
    sample_lines = [
        line for line in body.decode().splitlines() if line and not line.startswith("#")
    ]
    assert result.samples_scraped == len(sample_lines) > 100
    assert len(result.points) > 100
    assert all(
        p.tags["job"] == "j" and p.tags["instance"] == "i:1" and p.tags["env"] == "test"
        for p in result.points
    )
    assert result.types["node_cpu_seconds_total"] == "counter"
    assert result.types["go_goroutines"] == "gauge"
    assert result.types["go_gc_duration_seconds_count"] == "summary"
    assert {p.measurement for p in result.points} <= set(result.types)
    cpu = [p for p in result.points if p.measurement == "node_cpu_seconds_total"]
    assert cpu and all({"cpu", "mode"} <= set(p.tags) and p.ts_ms == NOW for p in cpu)
