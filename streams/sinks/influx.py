"""The InfluxDB 2 write API as an awaitable call that raises :class:`SinkError`.

Writes go through influxdb-client's async API, one awaited request per batch, so every
failure reaches the caller (the client's background batching reports failures only through
callbacks). Any server that speaks ``/api/v2/write`` works, VictoriaMetrics among them.

Example:
    >>> writer = InfluxWriter(url="http://127.0.0.1:8428", org="o", token="", bucket="metrics")
    ... # await writer.write("cpu,host=a usage=0.5 1700000000000"); await writer.close()
"""

from __future__ import annotations

from typing import Protocol

import aiohttp
from influxdb_client.client.influxdb_client_async import InfluxDBClientAsync
from influxdb_client.domain.write_precision import WritePrecision
from influxdb_client.rest import ApiException

from streams.errors import SinkError
from streams.settings import Settings, TierSettings


def refused(exc: ApiException, url: str, bucket: str) -> SinkError:
    """The :class:`SinkError` of an HTTP error answer from the InfluxDB API."""
    detail = (exc.body or exc.reason or "").strip()[:300]
    return SinkError(f"{url} answered {exc.status}: {detail}", status=exc.status, bucket=bucket)


class LineWriter(Protocol):
    """Writes line-protocol text (millisecond timestamps) to one bucket."""

    bucket: str

    async def write(self, lines: str) -> None:
        """Write ``lines``; return only once the database acknowledged them.

        Raises:
            SinkError: the write failed; ``status`` is the HTTP status or None.
        """

    async def close(self) -> None:
        """Release connections."""


class InfluxWriter:
    """A :class:`LineWriter` for one bucket of an InfluxDB 2 write API."""

    def __init__(
        self,
        *,
        url: str,
        org: str,
        token: str,
        bucket: str,
        timeout_s: float = 10.0,
        gzip: bool = True,
    ) -> None:
        self.bucket = bucket
        self.url = url
        self._org = org
        self._token = token
        self._timeout_ms = int(timeout_s * 1000)
        self._gzip = gzip
        self._client: InfluxDBClientAsync | None = None

    async def write(self, lines: str) -> None:
        """Write ``lines`` (millisecond precision) and wait for the acknowledgement."""
        if self._client is None:
            self._client = InfluxDBClientAsync(
                url=self.url,
                token=self._token,
                org=self._org,
                timeout=self._timeout_ms,
                enable_gzip=self._gzip,
            )
        try:
            await self._client.write_api().write(
                bucket=self.bucket,
                org=self._org,
                record=lines.encode(),
                write_precision=WritePrecision.MS,  # type: ignore[arg-type]
            )
        except ApiException as exc:
            raise refused(exc, self.url, self.bucket) from None
        except (TimeoutError, aiohttp.ClientError, OSError) as exc:
            reason = str(exc) or type(exc).__name__
            raise SinkError(f"{self.url}: {reason}", status=None, bucket=self.bucket) from None

    async def close(self) -> None:
        """Close the HTTP session."""
        if self._client is not None:
            await self._client.close()  # type: ignore[no-untyped-call]
            self._client = None


def tier_writer(settings: Settings, tier: TierSettings) -> InfluxWriter:
    """The writer of a tier's bucket, from the ``influx`` settings and the tier's URL."""
    influx = settings.influx
    return InfluxWriter(
        url=settings.tier_url(tier),
        org=influx.org,
        token=influx.token.get_secret_value(),
        bucket=tier.bucket,
        timeout_s=influx.timeout_s,
        gzip=influx.gzip,
    )
