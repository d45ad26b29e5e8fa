"""A demo load: Telegraf-like host metrics pushed to a collector as line protocol.

Each simulated host reports ``cpu`` (per core and total), ``mem``, ``disk``, ``net`` and
``system`` every interval, with values that drift like real machines (counters only grow).
Hosts are called ``<prefix>000``, ``<prefix>001``...; the local stack's own demo uses the
default prefix ``host-``, so a second demo needs another one.

The collector must answer when the demo starts, else :class:`DemoError`; so is an answer that
cannot get better by retrying (a 4xx other than 408 and 429: a wrong URL, a missing token).
A collector that goes away later, or answers 5xx, is retried at the next interval.

Example:
    >>> hosts = [DemoHost(f"web-{i:02d}", seed=i) for i in range(2)]
    >>> len(hosts[0].lines(1_700_000_000_000)) > 5
    True
"""

from __future__ import annotations

import asyncio
import gzip
import logging
import random
import time

import aiohttp

from streams.errors import PulselineError

log = logging.getLogger(__name__)

DEFAULT_PREFIX = "host-"
"""The host name prefix of the local stack's demo."""
_RETRYABLE = (408, 429)


class DemoError(PulselineError):
    """The demo cannot run: bad arguments, a collector out of reach or refusing its points."""


class DemoHost:
    """One simulated machine."""

    def __init__(self, name: str, *, seed: int, cores: int = 4) -> None:
        self.name = name
        self._rng = random.Random(seed)
        self._cores = cores
        self._load = self._rng.uniform(0.05, 0.6)
        self._mem_total = self._rng.choice([8, 16, 32, 64]) * 1024**3
        self._disk_total = self._rng.choice([100, 250, 500]) * 1024**3
        self._disk_used = self._disk_total * self._rng.uniform(0.2, 0.7)
        self._sent = self._rng.randrange(10**9)
        self._recv = self._rng.randrange(10**9)
        self._boot = int(time.time()) - self._rng.randrange(86400, 86400 * 90)

    def lines(self, ts_ms: int) -> list[str]:
        """The line-protocol lines of one report at ``ts_ms``."""
        rng = self._rng
        self._load = min(1.0, max(0.01, self._load + rng.gauss(0, 0.05)))
        host = self.name
        out = []
        for core in [*(f"cpu{i}" for i in range(self._cores)), "cpu-total"]:
            busy = min(99.9, max(0.1, self._load * 100 + rng.gauss(0, 5)))
            user = round(busy * 0.7, 3)
            system = round(busy * 0.25, 3)
            iowait = round(busy * 0.05, 3)
            idle = round(100 - user - system - iowait, 3)
            out.append(
                f"cpu,cpu={core},host={host} usage_user={user},usage_system={system},"
                f"usage_iowait={iowait},usage_idle={idle} {ts_ms}"
            )
        used = int(self._mem_total * min(0.95, 0.3 + self._load * 0.5))
        out.append(
            f"mem,host={host} total={self._mem_total}i,used={used}i,"
            f"available={self._mem_total - used}i,"
            f"used_percent={round(used / self._mem_total * 100, 3)} {ts_ms}"
        )
        self._disk_used = min(self._disk_total * 0.99, self._disk_used + rng.uniform(0, 2**20))
        out.append(
            f"disk,device=sda1,host={host},path=/ total={self._disk_total}i,"
            f"used={int(self._disk_used)}i,"
            f"used_percent={round(self._disk_used / self._disk_total * 100, 3)} {ts_ms}"
        )
        self._sent += rng.randrange(10**4, 10**6)
        self._recv += rng.randrange(10**4, 10**7)
        out.append(
            f"net,host={host},interface=eth0 bytes_sent={self._sent}i,"
            f"bytes_recv={self._recv}i {ts_ms}"
        )
        load1 = round(self._load * self._cores, 2)
        out.append(
            f"system,host={host} load1={load1},load5={round(load1 * 0.9, 2)},"
            f"load15={round(load1 * 0.8, 2)},n_cpus={self._cores}i,"
            f"uptime={ts_ms // 1000 - self._boot}i {ts_ms}"
        )
        return out


async def push(session: aiohttp.ClientSession, url: str, lines: list[str]) -> int:
    """POST ``lines`` gzipped to ``url`` (a collector write URL); return the status.

    Raises:
        DemoError: the collector refused the points in a way a retry cannot change.
    """
    body = gzip.compress("\n".join(lines).encode(), compresslevel=1)
    async with session.post(url, data=body, headers={"Content-Encoding": "gzip"}) as response:
        if response.status >= 300:
            text = (await response.text())[:300]
            if 400 <= response.status < 500 and response.status not in _RETRYABLE:
                raise DemoError(f"{url} answered {response.status}: {text}")
            log.warning("push answered %s: %s", response.status, text)
        return response.status


async def run_demo(
    base_url: str,
    *,
    hosts: int,
    interval_s: float,
    duration_s: float | None = None,
    prefix: str = DEFAULT_PREFIX,
) -> None:
    """Push a report of every host each ``interval_s`` until cancelled or ``duration_s``.

    Raises:
        DemoError: an argument is out of range, the collector cannot be reached at the start,
            or it refuses the points for good.
    """
    if hosts < 1:
        raise DemoError(f"--hosts {hosts}: the demo needs at least one host")
    if interval_s <= 0:
        raise DemoError(f"--interval {interval_s:g}: must be more than 0 seconds")
    if duration_s is not None and duration_s <= 0:
        raise DemoError(f"--duration {duration_s:g}: must be more than 0 seconds")
    fleet = [DemoHost(f"{prefix}{i:03d}", seed=i) for i in range(hosts)]
    base = base_url.rstrip("/")
    url = base + "/api/v2/write?precision=ms"
    sent = 0
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=30)) as session:
        await _reach(session, base)
        started = time.monotonic()
        while duration_s is None or time.monotonic() - started < duration_s:
            ts_ms = int(time.time() * 1000)
            lines = [line for host in fleet for line in host.lines(ts_ms)]
            try:
                status = await push(session, url, lines)
            except (aiohttp.ClientError, TimeoutError) as exc:
                log.warning("demo push to %s failed: %s", url, exc or type(exc).__name__)
            else:
                if status == 204:
                    sent += len(lines)
                    log.info(
                        "demo: pushed %d lines from %d hosts (%d in all)", len(lines), hosts, sent
                    )
            await asyncio.sleep(interval_s)


async def _reach(session: aiohttp.ClientSession, base: str) -> None:
    """Make sure something answers at ``base`` (the collector's ``/ping``) before starting."""
    try:
        async with session.get(base + "/ping", timeout=aiohttp.ClientTimeout(total=5)):
            return
    except (aiohttp.ClientError, TimeoutError) as exc:
        reason = str(exc) or type(exc).__name__
        raise DemoError(f"cannot reach the collector at {base}: {reason}") from None
