"""The provisioned Grafana dashboards against the names pulseline really stores.

Every panel query of ``deploy/grafana/dashboards`` is read as text, as Grafana would send it:
the buckets it may read, the measurement it filters on, the fields (raw, and with the tier
suffix), the tags it filters or groups on, and the data source uid, are each checked against
:mod:`stored_names` (what the demo, the collector and the worker produce) and the provisioned
data source. A renamed field or tag breaks this test, not the dashboard.
"""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
import yaml
from stored_names import GRAFANA, Measurement, stored

from streams.settings import DEFAULT_TIERS

DASHBOARDS = GRAFANA / "dashboards"
DATASOURCES = GRAFANA / "provisioning" / "datasources" / "influxdb.yml"
PROVIDERS = GRAFANA / "provisioning" / "dashboards" / "pulseline.yml"

STORED = stored()
FILES = sorted(DASHBOARDS.glob("*.json"))


def panels() -> list[tuple[str, dict[str, Any]]]:
    return [
        (f"{path.name}: {panel['title']}", panel)
        for path in FILES
        for panel in json.loads(path.read_text())["panels"]
    ]


PANELS = panels()


def provisioned_uid() -> str:
    (source,) = yaml.safe_load(DATASOURCES.read_text())["datasources"]
    return str(source["uid"])


def test_the_committed_json_is_what_the_generator_makes() -> None:
    import generate

    made = {name: generate.render(model) for name, model in generate.dashboards().items()}
    assert {path.name: path.read_text() for path in FILES} == made, (
        "deploy/grafana/dashboards is stale: run python deploy/grafana/generate.py"
    )


def test_the_data_source_is_influxdb_flux_with_a_token_from_a_file() -> None:
    (source,) = yaml.safe_load(DATASOURCES.read_text())["datasources"]
    assert source["type"] == "influxdb"
    assert source["jsonData"]["version"] == "Flux"
    assert source["jsonData"]["defaultBucket"] == DEFAULT_TIERS[0].bucket
    assert source["secureJsonData"]["token"].startswith("$__file{")


def test_the_provider_reads_the_folder_grafana_mounts() -> None:
    (provider,) = yaml.safe_load(PROVIDERS.read_text())["providers"]
    compose = yaml.safe_load((GRAFANA.parents[1] / "docker-compose.yml").read_text())
    mounts = dict(v.split(":")[:2] for v in compose["services"]["grafana"]["volumes"])
    assert mounts["./deploy/grafana/dashboards"] == provider["options"]["path"]


def test_every_dashboard_has_panels_and_a_unique_uid() -> None:
    models = [json.loads(path.read_text()) for path in FILES]
    assert {m["title"] for m in models} == {"Host overview", "Pipeline health", "Alerts"}
    assert len({m["uid"] for m in models}) == len(models)
    assert all(m["panels"] for m in models)


@pytest.mark.parametrize(("where", "panel"), PANELS, ids=[w for w, _ in PANELS])
def test_panel_reads_the_provisioned_data_source(where: str, panel: dict[str, Any]) -> None:
    uid = provisioned_uid()
    assert panel["datasource"]["uid"] == uid
    assert [t["datasource"]["uid"] for t in panel["targets"]] == [uid]


def fields_of(query: str) -> tuple[list[str], list[str]]:
    """The raw field names of a query, and the suffixes its tiers add (``""`` raw)."""
    names = re.findall(r'"(\w+)" \+ suffix', query)
    match = re.search(r'suffix = if tier == "(\w+)" then "(\w*)" else "(\w+)"', query)
    assert match, "no tier suffix"
    assert match[1] == DEFAULT_TIERS[0].name
    return names, [match[2], match[3]]


@pytest.mark.parametrize(("where", "panel"), PANELS, ids=[w for w, _ in PANELS])
def test_panel_query_names_what_is_stored(where: str, panel: dict[str, Any]) -> None:
    (target,) = panel["targets"]
    query = target["query"]
    choice = query.split("\nbucket = ", 1)[1].split("\n", 1)[0]
    buckets = set(re.findall(r'(?:then|else) "(\w+)"', choice))
    assert buckets == {tier.bucket for tier in DEFAULT_TIERS}, "the tiers' buckets"
    if "from(bucket:" not in query:
        return  # the tier panel reads no bucket
    (measurement,) = re.findall(r'r\._measurement == "([^"]+)"', query)
    assert measurement in STORED, f"measurement {measurement!r} is never written"
    stored_as: Measurement = STORED[measurement]
    names, (raw_suffix, tier_suffix) = fields_of(query)
    assert names
    for name in names:
        assert name + raw_suffix in stored_as.fields, f"raw field {name!r} of {measurement}"
        assert name + tier_suffix in stored_as.tier_fields(), f"tier field {name}{tier_suffix}"
    columns = {"field", "_time", "_value"}
    tags = set(re.findall(r"\br\.([a-z]\w*)", query)) - {"_measurement", "_field", "_value"}
    grouped = {c for g in re.findall(r"group\(columns: (\[[^\]]*\])\)", query)
               for c in json.loads(g)}  # fmt: skip
    assert tags <= stored_as.tags, f"tags {tags - stored_as.tags} of {measurement}"
    assert grouped - columns <= stored_as.tags, f"group by {grouped - columns - stored_as.tags}"


def test_the_host_variable_lists_the_host_tag_of_the_raw_bucket() -> None:
    model = json.loads((DASHBOARDS / "host-overview.json").read_text())
    (variable,) = model["templating"]["list"]
    assert variable["datasource"]["uid"] == provisioned_uid()
    query = variable["query"]
    assert f'bucket: "{DEFAULT_TIERS[0].bucket}"' in query
    (measurement,) = re.findall(r'r\._measurement == "(\w+)"', query)
    assert "host" in STORED[measurement].tags
    assert all("${host:regex}" in p["targets"][0]["query"] for p in model["panels"][:-1])


def test_grafana_substitutes_only_v_names() -> None:
    """Grafana replaces any ``word.timeRangeStart``/``bucket``/... in a query textually: the
    queries use those names after ``v.`` only."""
    macros = ("timeRangeStart", "timeRangeStop", "windowPeriod", "bucket", "defaultBucket",
              "organization")  # fmt: skip
    for where, panel in PANELS:
        for word, name in re.findall(r"([a-zA-Z]+)\.([a-zA-Z]+)", panel["targets"][0]["query"]):
            assert name not in macros or word == "v", f"{where}: {word}.{name}"
