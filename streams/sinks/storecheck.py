"""Ask the store what it is before writing to it: ``influx.store`` must name the real one.

``influx.store`` decides the names fields are written under (:mod:`streams.names`), and both
stores accept either way of writing with a 204: a worker that writes to InfluxDB 2 while
the setting says ``victoriametrics`` (its default) would store ``up`` as the measurement
``up`` with the field ``up`` instead of ``value``, and nothing would say so. So the worker asks
every tier's server at start (:func:`check_store`) and refuses to start when the answer is
not the configured store.

Each store is recognised by its ``GET /health`` answer, in a table (:data:`RECOGNISERS`):
InfluxDB 2 answers a JSON object with ``"name": "influxdb"``, VictoriaMetrics the text
``OK``. A store whose names need flags of its own (:data:`~streams.names.STORE_FLAGS`:
VictoriaMetrics' ``-influxSkipMeasurement``) must list them in its ``GET /flags``. A server
that cannot be reached, or answers neither way, is logged and not held against the worker:
the sinks retry until the store is up, as they do after a start.

Example:
    >>> identify(200, b'{"name":"influxdb", "status":"pass", "version": "v2.7.12"}')
    'influxdb'
    >>> identify(200, b"OK"), identify(404, b"not found")
    ('victoriametrics', None)
"""

from __future__ import annotations

import logging
import urllib.error
import urllib.request
from collections.abc import Callable, Mapping
from typing import get_args

import orjson

from streams.errors import ConfigError
from streams.names import STORE_FLAGS, Store
from streams.settings import Settings

log = logging.getLogger(__name__)

Fetch = Callable[[str, float], tuple[int, bytes]]
"""``GET url`` with a timeout in seconds: the status and body of the answer, whatever its
status. Raises :class:`OSError` when no answer came (refused, timed out)."""

STORE_NAMES: Mapping[Store, str] = {"influxdb": "InfluxDB 2", "victoriametrics": "VictoriaMetrics"}
"""What each store is called in messages."""


def _influxdb(status: int, body: bytes) -> bool:
    try:
        document = orjson.loads(body)
    except orjson.JSONDecodeError:
        return False
    return isinstance(document, dict) and document.get("name") == "influxdb"


def _victoriametrics(status: int, body: bytes) -> bool:
    return status == 200 and body.strip() == b"OK"


RECOGNISERS: Mapping[Store, Callable[[int, bytes], bool]] = {
    "influxdb": _influxdb,
    "victoriametrics": _victoriametrics,
}
"""Store -> whether a ``GET /health`` answer (status, body) is that store's."""

assert set(RECOGNISERS) == set(get_args(Store)), "every store needs its recogniser"


def identify(status: int, body: bytes) -> Store | None:
    """The store whose ``GET /health`` answered ``status`` and ``body``; None if neither."""
    return next((store for store, known in RECOGNISERS.items() if known(status, body)), None)


def http_get(url: str, timeout: float) -> tuple[int, bytes]:
    """A :data:`Fetch` over urllib: error statuses are answers, not exceptions."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as answer:
            return int(answer.status), bytes(answer.read())
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


def missing_flags(store: Store, flags_page: bytes) -> list[str]:
    """The flags ``store`` needs (:data:`STORE_FLAGS`) that its ``GET /flags`` page lacks.

    VictoriaMetrics lists each flag set on its command line as ``-name="value"``, a boolean
    given bare as ``"true"``.

    Example:
        >>> missing_flags("victoriametrics", b'-httpListenAddr=":8428"\\n')
        ['-influxSkipMeasurement']
        >>> missing_flags("victoriametrics", b'-influxSkipMeasurement="true"\\n')
        []
    """
    listed = set(flags_page.decode(errors="replace").splitlines())
    return [flag for flag in STORE_FLAGS[store] if f'{flag}="true"' not in listed]


def check_store(settings: Settings, fetch: Fetch = http_get) -> None:
    """Check that every tier's server is the store ``influx.store`` names.

    Servers are asked once each (tiers may share one). One that does not answer, or answers
    in a way neither store does, is logged as a warning and the worker goes on.

    Raises:
        ConfigError: a server is another store than ``influx.store`` says, or lacks a flag
            the store needs; the message names the server, its tiers and the setting.
    """
    configured = settings.influx.store
    timeout = settings.influx.timeout_s
    servers: dict[str, list[str]] = {}
    for tier in settings.tiers:
        servers.setdefault(settings.tier_url(tier).rstrip("/"), []).append(tier.name)
    for url, tiers in servers.items():
        where = f"{url} (tier {', '.join(tiers)})"
        try:
            status, body = fetch(f"{url}/health", timeout)
        except OSError as exc:
            log.warning(
                "%s did not answer GET /health (%s): cannot check that it is %s "
                "(influx.store: %s); writes are retried until it answers",
                where,
                exc,
                STORE_NAMES[configured],
                configured,
            )
            continue
        found = identify(status, body)
        if found is None:
            log.warning(
                "%s answered GET /health with %d %r, neither InfluxDB 2's answer nor "
                "VictoriaMetrics': taken to be %s as influx.store says, unchecked",
                where,
                status,
                body[:80],
                STORE_NAMES[configured],
            )
        elif found != configured:
            raise ConfigError(
                f"influx.store is {configured!r}, but {where} is {STORE_NAMES[found]} (its "
                f"GET /health says so): set influx.store: {found} (PULSELINE_INFLUX__STORE="
                f"{found}); with {configured!r}, fields would be stored under other names "
                "than rules and dashboards read"
            )
        else:
            _check_flags(found, url, where, timeout, fetch)


def _check_flags(store: Store, url: str, where: str, timeout: float, fetch: Fetch) -> None:
    if not STORE_FLAGS[store]:
        return
    try:
        status, page = fetch(f"{url}/flags", timeout)
    except OSError as exc:
        log.warning("%s did not answer GET /flags (%s): its flags are unchecked", where, exc)
        return
    if status != 200:
        log.warning("%s answered GET /flags with %d: its flags are unchecked", where, status)
        return
    if missing := missing_flags(store, page):
        raise ConfigError(
            f"{where} is {STORE_NAMES[store]} without {' '.join(missing)} (its GET /flags does "
            f"not list it), which influx.store: {store} needs: a field would be stored as "
            "<measurement>_<field> instead of its series name; restart it with "
            f"{' '.join(STORE_FLAGS[store])}"
        )
