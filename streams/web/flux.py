"""Raw samples of a query's selectors, read from an InfluxDB 2 bucket with Flux.

With ``influx.store: influxdb`` (the docker-compose stack) each tier is a bucket and a point is
stored as it came: the series ``up`` is the measurement ``up``, field ``value``; ``cpu_usage_idle``
is the measurement ``cpu``, field ``usage_idle`` (or any other field whose series has that name,
:func:`streams.names.field_sources`); a windowed tier holds the aggregate ``a`` of a field ``f``
in the field ``f_a`` (``value_mean``). A selector of ``m`` reads exactly the fields
:func:`streams.names.stored_fields` names, through ``POST /api/v2/query`` (the endpoint Grafana's
data source uses), with the token ``influx.read_token`` (else ``influx.token``).

Each row is named as the rules name it (:func:`streams.names.metric_name` of its measurement and
raw field) and kept when the selector's matchers select it, by pulseline's PromQL, so regular
expressions and empty values mean what they mean in rules; only equality matchers are also
given to Flux, to read less. The CSV answer keeps its ``#datatype`` annotation, so booleans are
read as 0 and 1 and strings are no sample, as in rules. A selector without a metric name
(``{__name__=~"..."}``) reads every field of the bucket in the range.

Example:
    >>> from streams.promql.parse import parse_expr
    >>> from streams.promql.expr import selectors
    >>> (selector,) = selectors(parse_expr('up{job="node"}'))
    >>> print(flux_query("metrics_1m", selector, "max", 0, 60_000))
    from(bucket: "metrics_1m")
      |> range(start: time(v: 0), stop: time(v: 60001000000))
      |> filter(fn: (r) => r._measurement == "up" and r._field == "value_max")
      |> filter(fn: (r) => r["job"] == "node")
      |> drop(columns: ["_start", "_stop"])
"""

from __future__ import annotations

import csv
import io
from collections.abc import Awaitable, Callable, Iterator, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from urllib.parse import quote

import orjson

from streams.errors import PulselineError
from streams.names import metric_name, stored_fields
from streams.promql.expr import Selector
from streams.promql.series import METRIC_NAME, Labels, series_labels
from streams.web.store import RawSeries, in_time_order

Post = Callable[[str, Mapping[str, str], bytes], Awaitable[bytes]]
"""An HTTP POST of a body to a URL with headers; returns the body of a 2xx answer and raises
:class:`~streams.errors.PulselineError` otherwise (injected: aiohttp in the worker)."""

_NOT_TAGS = frozenset(
    {"result", "table", "_start", "_stop", "_time", "_value", "_measurement", "_field"}
)
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MS = timedelta(milliseconds=1)
_NUMBER = {"double", "long", "unsignedLong"}


def flux_string(text: str) -> str:
    r"""``text`` as a Flux string literal (``${`` would start an interpolation).

    Example:
        >>> print(flux_string('a"b${c}'))
        "a\"b\${c}"
    """
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("${", "\\${") + '"'


def flux_query(
    bucket: str, selector: Selector, aggregate: str | None, start_ms: int, end_ms: int
) -> str:
    """The Flux that reads ``selector``'s fields in ``[start_ms, end_ms]`` from ``bucket``.

    Args:
        bucket: the tier's bucket.
        selector: the selector.
        aggregate: the window aggregate read from a windowed tier; None for the raw tier.
        start_ms: the first millisecond.
        end_ms: the last millisecond (included).
    """
    lines = [
        f"from(bucket: {flux_string(bucket)})",
        f"  |> range(start: time(v: {start_ms * 1_000_000}), "
        f"stop: time(v: {(end_ms + 1) * 1_000_000}))",
    ]
    if selector.metric is not None:
        fields = " or ".join(
            f"r._measurement == {flux_string(m)} and r._field == {flux_string(f)}"
            for m, f in stored_fields(selector.metric, aggregate)
        )
        lines.append(f"  |> filter(fn: (r) => {fields})")
    equal = [m for m in selector.matchers if m.op == "=" and m.value and m.name != METRIC_NAME]
    if equal:
        tags = " and ".join(f"r[{flux_string(m.name)}] == {flux_string(m.value)}" for m in equal)
        lines.append(f"  |> filter(fn: (r) => {tags})")
    lines.append('  |> drop(columns: ["_start", "_stop"])')
    return "\n".join(lines)


def csv_rows(text: str) -> Iterator[tuple[dict[str, str], str]]:
    """The rows of an annotated Flux CSV answer, each with its ``_value``'s data type.

    Raises:
        PulselineError: the answer holds an error table (a query that failed while streaming).

    Example:
        >>> answer = "#datatype,string,long,double\\n,result,table,_value\\n,_result,0,1.5\\n"
        >>> list(csv_rows(answer))
        [({'result': '_result', 'table': '0', '_value': '1.5'}, 'double')]
    """
    types: list[str] = []
    header: list[str] | None = None
    for row in csv.reader(io.StringIO(text)):
        if not row:
            types, header = [], None
        elif row[0] == "#datatype":
            types, header = row[1:], None
        elif header is None:
            header = row[1:]
        else:
            record = dict(zip(header, row[1:], strict=True))
            if "error" in record and "_value" not in record:
                raise PulselineError(f"Flux query failed: {record['error']}")
            kind = types[header.index("_value")] if "_value" in header and types else ""
            yield record, kind


def sample(record: Mapping[str, str], kind: str) -> float | None:
    """A row's value as a sample: numbers as floats, booleans 0 and 1, anything else None."""
    value = record["_value"]
    if kind in _NUMBER:
        return float(value)
    if kind == "boolean":
        return 1.0 if value == "true" else 0.0
    return None


def _ms(rfc3339: str) -> int:
    return (datetime.fromisoformat(rfc3339) - _EPOCH) // _MS


class FluxReader:
    """Reads raw samples from one tier's InfluxDB 2 bucket.

    Args:
        url: the InfluxDB base URL (the tier's URL).
        bucket: the tier's bucket.
        org: the organization.
        token: an API token that may read the bucket.
        post: the HTTP POST to use.
        aggregate: which window aggregate a windowed tier is read for.
        windowed: whether the bucket holds a windowed tier.

    Example::

        reader = FluxReader(url, "metrics", org="pulseline", token=token, post=post,
                            windowed=False)
        series = await reader.read(selectors, start_ms, end_ms)
    """

    def __init__(
        self,
        url: str,
        bucket: str,
        *,
        org: str,
        token: str,
        post: Post,
        aggregate: str = "mean",
        windowed: bool,
    ) -> None:
        self.url = f"{url.rstrip('/')}/api/v2/query?org={quote(org)}"
        self.bucket = bucket
        self._headers = {
            "Authorization": f"Token {token}",
            "Content-Type": "application/json",
            "Accept": "application/csv",
        }
        self._post = post
        self._suffix = f"_{aggregate}" if windowed else ""
        self._aggregate = aggregate if windowed else None

    async def read(
        self, selectors: Sequence[Selector], start_ms: int, end_ms: int
    ) -> list[RawSeries]:
        """The samples in ``[start_ms, end_ms]`` of every series a selector selects.

        Raises:
            PulselineError: InfluxDB did not answer, or answered an error (names the bucket).
        """
        found: dict[Labels, RawSeries] = {}
        for selector in selectors:
            flux = flux_query(self.bucket, selector, self._aggregate, start_ms, end_ms)
            body = {
                "query": flux,
                "type": "flux",
                "dialect": {"header": True, "annotations": ["datatype"]},
            }
            try:
                answer = await self._post(self.url, self._headers, orjson.dumps(body))
                rows = list(csv_rows(answer.decode()))
            except PulselineError as exc:
                raise PulselineError(f"bucket {self.bucket}: {exc}") from None
            for record, kind in rows:
                field = record["_field"]
                value = sample(record, kind)
                if value is None or not field.endswith(self._suffix):
                    continue
                name = metric_name(record["_measurement"], field[: len(field) - len(self._suffix)])
                tags = {k: v for k, v in record.items() if k not in _NOT_TAGS and v}
                if not selector.matches(name, tags):
                    continue
                labels = series_labels(name, tags)
                series = found.setdefault(labels, RawSeries(labels))
                series.ts.append(_ms(record["_time"]))
                series.values.append(value)
        return in_time_order(found.values())
