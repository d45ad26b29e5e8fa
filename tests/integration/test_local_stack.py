"""The local stack as a person meets it: its banner, its pages, its signals, status and stop.

Each test runs ``pulseline stack run`` as ``make run`` does, on free ports with its own
directory (Tansu as the broker: these tests are about the stack, not the broker's
durability, which ``test_local_stack_restart`` checks on Apache Kafka).
"""

from __future__ import annotations

import json
import re
import shutil
import signal
import struct
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import wait_for
from localstack import BANNER_END, URL, LocalStack, get, left_running, port_open

pytestmark = [pytest.mark.integration, pytest.mark.long(370)]


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalStack]:
    """One stack for the tests that only look at it."""
    s = LocalStack(tmp_path_factory.mktemp("local-stack"))
    s.start()
    yield s
    s.cleanup()


@pytest.fixture
def own_stack(tmp_path: Path) -> Iterator[LocalStack]:
    """A stack for a test that stops or kills it."""
    s = LocalStack(tmp_path)
    yield s
    s.cleanup()


def _banner(stack: LocalStack) -> str:
    """The banner alone (not what the stack prints after it)."""
    text = stack.output()
    start = text.index("pulseline is running.")
    return text[start : text.index("\n", text.index(BANNER_END, start))]


def test_every_address_in_the_banner_answers(stack: LocalStack) -> None:
    banner = _banner(stack)
    urls = [u for u in URL.findall(banner) if "/api/v2/write" not in u]
    assert "vmui" not in banner
    expected = {
        f"{stack.url('raw')}/api/v1/query?query=room_temperature",
        f"{stack.url('1m')}/api/v1/query?query=room_temperature_max",
        f"{stack.url('1h')}/api/v1/query?query=room_temperature_max",
        f"{stack.url('collector')}/targets",
        f"{stack.url('collector')}/metrics",
        f"{stack.url('web')}/api/v2/alerts",
        f"{stack.url('web')}/metrics",
        f"{stack.url('web')}/health",
    }
    assert expected <= set(urls), banner
    for url in urls:
        status, body = get(url)
        assert status == 200, f"{url}: {status} {body[:300]}"
    notifications = re.search(r"notifications +printed below .*\(webhook receiver (\S+)\)", banner)
    assert notifications is not None and notifications[1] == f"127.0.0.1:{stack.ports['webhook']}"
    command = re.search(r"or: (\S+) alerts --url (\S+)", banner)
    assert command is not None
    listed = stack.cli("alerts", "--url", command[2])
    assert listed.returncode == 0, listed.stderr


def test_the_banners_push_example_lands_in_the_raw_store(stack: LocalStack) -> None:
    if shutil.which("curl") is None:
        pytest.skip("curl is not installed")
    banner = _banner(stack)
    start = banner.index("curl -XPOST")
    example = banner[start : banner.index("\n", banner.index("--data-binary", start))]
    done = subprocess.run(["sh", "-c", example], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0 and done.stdout == "", done
    raw = f"{stack.url('raw')}/api/v1/export?match[]=room_temperature"

    def stored() -> bool:
        return '"values":[21.5]' in get(raw)[1]

    wait_for(stored, 30, "the example's point in the raw store")


def _png_size(path: Path) -> tuple[int, int]:
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    width, height = struct.unpack(">II", data[16:24])
    return width, height


def test_the_targets_page_renders_in_a_browser(stack: LocalStack, tmp_path: Path) -> None:
    chromium = shutil.which("chromium")
    if chromium is None:
        pytest.fail("chromium is not installed (make test-deps installs it as root)")
    url = f"{stack.url('collector')}/targets"
    targets = [f"127.0.0.1:{stack.ports['collector']}", f"127.0.0.1:{stack.ports['web']}"]

    def scraped() -> bool:
        return all(t["health"] == "up" for t in json.loads(get(url)[1])["activeTargets"])

    wait_for(scraped, 60, "both targets scraped")
    browser = [chromium, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run"]
    browser += [f"--user-data-dir={tmp_path / 'profile'}", "--window-size=1000,600"]
    shot = tmp_path / "targets.png"
    done = subprocess.run(
        [*browser, f"--screenshot={shot}", url], capture_output=True, text=True, timeout=180
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert _png_size(shot) == (1000, 600)
    dom = subprocess.run(
        [*browser, "--dump-dom", url], capture_output=True, text=True, timeout=180
    ).stdout
    assert "<h1>Targets of " in dom, dom[:2000]
    rows = re.findall(r"<tr><td>(http://[^<]+)</td><td>(\w+)</td>", dom)
    assert sorted(rows) == sorted((f"http://{t}/metrics", "up") for t in targets), dom[:2000]


def test_closing_the_terminal_stops_everything(own_stack: LocalStack) -> None:
    own_stack.start(terminal=True)
    state = own_stack.state()
    assert len(state.processes) == 7  # broker, 3 TSDBs, webhook receiver, worker, collector
    assert sum("pid" in what for what in left_running(state)) == 8  # and the stack itself

    assert own_stack.close_terminal() == 0  # SIGHUP; and its output has nowhere to go
    assert left_running(state) == []
    assert not (own_stack.dir / "stack.json").exists()
    own_stack.start()  # the next run finds its ports free


def test_sigterm_stops_everything_as_ctrl_c_does(own_stack: LocalStack) -> None:
    own_stack.start()
    state = own_stack.state()
    assert sum("pid" in what for what in left_running(state)) == 8

    assert own_stack.signal(signal.SIGTERM) == 0
    assert left_running(state) == []
    assert "SIGTERM received" in own_stack.output()
    assert "stopping everything the stack started" in own_stack.output()
    assert not (own_stack.dir / "stack.json").exists()


def test_status_and_stop_of_a_stack_left_behind(own_stack: LocalStack) -> None:
    own_stack.start()
    state = own_stack.state()
    status = own_stack.cli("stack", "status", "--dir", str(own_stack.dir))
    assert status.returncode == 0, status
    for p in state.processes:
        line = next(line for line in status.stdout.splitlines() if line.startswith(p.name))
        assert f"pid {p.pid} " in line and "running" in line
        assert line.split("ports ")[1].split()[0] == ",".join(map(str, p.ports))
    assert {port for p in state.processes for port in p.ports} >= set(
        own_stack.ports[n] for n in ("kafka", "raw", "1m", "1h", "collector", "web", "webhook")
    )

    assert own_stack.proc is not None
    own_stack.proc.kill()  # as `kill -9`, or a crash: the stack cannot stop its processes
    own_stack.proc.wait()
    left = own_stack.cli("stack", "status", "--dir", str(own_stack.dir))
    assert left.returncode == 1, left
    assert left.stdout.splitlines()[0].split()[3] == "gone"
    assert left.stdout.count("running") == len(state.processes)
    again = own_stack.cli("stack", "run", "--dir", str(own_stack.dir), "--broker", "tansu")
    assert again.returncode == 1
    assert f"stack stop --dir {own_stack.dir}" in again.stderr

    stopped = own_stack.cli("stack", "stop", "--dir", str(own_stack.dir))
    assert stopped.returncode == 0, stopped
    assert stopped.stdout.count(": stopped") == len(state.processes), stopped.stdout
    assert left_running(state) == []
    gone = own_stack.cli("stack", "status", "--dir", str(own_stack.dir))
    assert gone.returncode == 3, gone
    assert not any(port_open(port) for p in state.processes for port in p.ports)
