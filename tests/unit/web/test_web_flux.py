"""The graph's InfluxDB 2 reader: the Flux it sends and how it reads the CSV answer."""

from __future__ import annotations

from collections.abc import Mapping

import orjson
import pytest

from streams.errors import PulselineError
from streams.promql.expr import selectors
from streams.web.flux import FluxReader
from streams.web.graph import parse_query

# influxd 2.7.12's answer to the first test's query, with a second row of host b added
# before the first in time (the reader sorts)
ANSWER = """\
#datatype,string,long,dateTime:RFC3339,double,string,string,string,string\r
,result,table,_time,_value,_field,_measurement,cpu,host\r
,_result,0,2023-11-14T22:14:20Z,97.5,usage_idle_max,cpu,cpu-total,a\r
\r
#datatype,string,long,dateTime:RFC3339,double,string,string,string\r
,result,table,_time,_value,_field,_measurement,host\r
,_result,1,2023-11-14T22:14:20Z,3,value_max,cpu_usage_idle,b\r
,_result,1,2023-11-14T22:13:20Z,2,value_max,cpu_usage_idle,b\r
\r
"""


class FakeInflux:
    def __init__(self, answer: str) -> None:
        self.answer = answer
        self.asked: list[tuple[str, dict[str, str], dict[str, object]]] = []

    async def __call__(self, url: str, headers: Mapping[str, str], body: bytes) -> bytes:
        self.asked.append((url, dict(headers), orjson.loads(body)))
        return self.answer.encode()


async def test_a_selector_reads_each_stored_field_of_its_series_named_as_rules_do() -> None:
    influx = FakeInflux(ANSWER)
    reader = FluxReader("http://influx:8086/", "metrics_1m", org="my org", token="t0k",
                        post=influx, aggregate="max", windowed=True)  # fmt: skip
    found = await reader.read(selectors(parse_query("cpu_usage_idle")), 0, 59_999)
    ((url, headers, body),) = influx.asked
    assert url == "http://influx:8086/api/v2/query?org=my%20org"
    assert headers["Authorization"] == "Token t0k"
    flux = body["query"]
    assert isinstance(flux, str)
    assert 'from(bucket: "metrics_1m")' in flux
    assert "range(start: time(v: 0), stop: time(v: 60000000000))" in flux
    for measurement, field in [
        ("cpu_usage_idle", "value_max"), ("cpu", "usage_idle_max"), ("cpu_usage", "idle_max")
    ]:  # fmt: skip
        assert f'r._measurement == "{measurement}" and r._field == "{field}"' in flux
    assert [(s.labels, s.ts, s.values) for s in found] == [
        ((("__name__", "cpu_usage_idle"), ("cpu", "cpu-total"), ("host", "a")),
         [1_700_000_060_000], [97.5]),
        ((("__name__", "cpu_usage_idle"), ("host", "b")),
         [1_700_000_000_000, 1_700_000_060_000], [2.0, 3.0]),
    ]  # fmt: skip


async def test_matchers_select_by_pulselines_promql_and_types_are_as_rules_take_them() -> None:
    answer = (
        "#datatype,string,long,dateTime:RFC3339,boolean,string,string,string\r\n"
        ",result,table,_time,_value,_field,_measurement,host\r\n"
        ",_result,0,2023-11-14T22:13:20.123Z,true,ok,cpu,a\r\n\r\n"
        "#datatype,string,long,dateTime:RFC3339,string,string,string,string\r\n"
        ",result,table,_time,_value,_field,_measurement,host\r\n"
        ",_result,1,2023-11-14T22:13:20.123Z,x,s,cpu,a\r\n\r\n"
        "#datatype,string,long,dateTime:RFC3339,long,string,string,string\r\n"
        ",result,table,_time,_value,_field,_measurement,host\r\n"
        ",_result,2,2023-11-14T22:13:20.123Z,3,n,cpu,b\r\n\r\n"
    )
    reader = FluxReader("http://i", "b", org="o", token="t", post=FakeInflux(answer),
                        windowed=False)  # fmt: skip
    found = await reader.read(selectors(parse_query('{__name__=~"cpu_.*", host!="b"}')), 0, 1)
    assert [(s.labels, s.values) for s in found] == [
        ((("__name__", "cpu_ok"), ("host", "a")), [1.0])
    ]


async def test_an_error_names_the_bucket() -> None:
    answer = "#datatype,string,string\r\n,error,reference\r\n,unauthorized access,\r\n\r\n"
    reader = FluxReader("http://i", "metrics", org="o", token="t", post=FakeInflux(answer),
                        windowed=False)  # fmt: skip
    with pytest.raises(PulselineError, match="bucket metrics: Flux query failed: unauthorized"):
        await reader.read(selectors(parse_query("up")), 0, 1)
