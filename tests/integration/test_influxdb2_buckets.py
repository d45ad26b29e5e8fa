"""``pulseline buckets ensure`` against a real InfluxDB 2 and its buckets API.

The command runs as a process, as an operator runs it; what it did is read back from the
server's own ``GET /api/v2/buckets``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from influxdb2 import (
    DAY,
    ensure,
    influx_env,
    influxdb2_server,  # noqa: F401  (the fixture `influxdb2`)
    tier_buckets,
    worker_start,
)

from streams.settings import Settings
from streams.sinks.buckets import shard_group_seconds
from streams.sinks.storecheck import check_store
from streams.stack.influxdb2 import InfluxDB2

pytestmark = pytest.mark.integration


def rules(server: InfluxDB2, bucket: str) -> dict[str, Any]:
    """The retention rule of a bucket as InfluxDB holds it (with its shard-group duration)."""
    (found,) = server.api("GET", f"/api/v2/buckets?org={server.org}&name={bucket}")["buckets"]
    (rule,) = found["retentionRules"]
    return {"id": found["id"], **rule}


def set_retention(server: InfluxDB2, bucket: str, seconds: int, shard_groups: int) -> None:
    """Change a bucket's retention behind pulseline's back, through the buckets API."""
    rule = {"type": "expire", "everySeconds": seconds, "shardGroupDurationSeconds": shard_groups}
    server.api(
        "PATCH", f"/api/v2/buckets/{rules(server, bucket)['id']}", {"retentionRules": [rule]}
    )


def test_missing_buckets_are_created_with_each_tier_retention(
    influxdb2: InfluxDB2, tmp_path: Path
) -> None:
    buckets = tier_buckets()
    done = ensure(influx_env(influxdb2, buckets), tmp_path)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert [line.split(":")[0] for line in lines] == [buckets["raw"], buckets["1m"], buckets["1h"]]
    assert all(f"created on {influxdb2.url}" in line for line in lines), lines
    stored = influxdb2.buckets()
    assert {name: stored.get(name) for name in buckets.values()} == {
        buckets["raw"]: [7 * DAY],
        buckets["1m"]: [30 * DAY],
        buckets["1h"]: [365 * DAY],
    }


def test_existing_buckets_are_kept_or_get_the_configured_retention_back(
    influxdb2: InfluxDB2, tmp_path: Path
) -> None:
    buckets = tier_buckets()
    env = influx_env(influxdb2, buckets)
    assert ensure(env, tmp_path).returncode == 0
    set_retention(influxdb2, buckets["1m"], 3600, shard_groups=3600)
    assert influxdb2.buckets()[buckets["1m"]] == [3600]

    done = ensure(env, tmp_path)
    assert done.returncode == 0, done.stderr
    raw, minute, hour = done.stdout.splitlines()
    assert raw == f"{buckets['raw']}: exists on {influxdb2.url}, retention 7d"
    assert minute == f"{buckets['1m']}: retention 30d set on {influxdb2.url} (was 1h)"
    assert hour == f"{buckets['1h']}: exists on {influxdb2.url}, retention 365d"
    assert influxdb2.buckets()[buckets["1m"]] == [30 * DAY]


def test_a_retention_influxdb_refuses_is_an_error_naming_the_bucket(
    influxdb2: InfluxDB2, tmp_path: Path
) -> None:
    buckets = tier_buckets()
    env = influx_env(influxdb2, buckets)
    tiers = json.loads(env["PULSELINE_TIERS"])
    tiers[0]["retention_s"] = 1800  # InfluxDB 2 keeps data at least one hour
    env["PULSELINE_TIERS"] = json.dumps(tiers)
    done = ensure(env, tmp_path)
    assert done.returncode == 1
    assert f"bucket '{buckets['raw']}'" in done.stderr, done.stderr
    assert "answered 500" in done.stderr and "must be at least 1h0m0s" in done.stderr
    assert buckets["raw"] not in influxdb2.buckets()


def test_influxdb_gives_new_buckets_the_shard_groups_pulseline_expects(
    influxdb2: InfluxDB2,
) -> None:
    org_id = influxdb2.api("GET", f"/api/v2/orgs?org={influxdb2.org}")["orgs"][0]["id"]
    retentions = (3600, 12 * 3600, 2 * DAY - 1, 2 * DAY, 30 * DAY, 180 * DAY - 1, 180 * DAY, 0)
    made = {}
    for seconds in retentions:
        name = f"{tier_buckets()['raw']}_{seconds}"
        rule = {"type": "expire", "everySeconds": seconds}
        influxdb2.api(
            "POST", "/api/v2/buckets", {"orgID": org_id, "name": name, "retentionRules": [rule]}
        )
        made[seconds] = rules(influxdb2, name)["shardGroupDurationSeconds"]
    assert made == {seconds: shard_group_seconds(seconds) for seconds in retentions}


def test_a_retention_shorter_than_the_shard_groups_shrinks_them(
    influxdb2: InfluxDB2, tmp_path: Path
) -> None:
    buckets = tier_buckets()
    env = influx_env(influxdb2, buckets)
    assert ensure(env, tmp_path).returncode == 0
    assert rules(influxdb2, buckets["1m"])["shardGroupDurationSeconds"] == DAY
    tiers = json.loads(env["PULSELINE_TIERS"])
    tiers[1]["retention_s"] = 12 * 3600  # InfluxDB refuses it (422) while shard groups span 1d
    env["PULSELINE_TIERS"] = json.dumps(tiers)

    done = ensure(env, tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[1] == (
        f"{buckets['1m']}: retention 12h set on {influxdb2.url} (was 30d), shard groups 1h"
    )
    rule = rules(influxdb2, buckets["1m"])
    assert (rule["everySeconds"], rule["shardGroupDurationSeconds"]) == (12 * 3600, 3600)


def test_a_wrong_token_is_refused_naming_the_bucket(influxdb2: InfluxDB2, tmp_path: Path) -> None:
    buckets = tier_buckets()
    env = influx_env(influxdb2, buckets) | {"PULSELINE_INFLUX__TOKEN": "not-the-token"}
    done = ensure(env, tmp_path)
    assert done.returncode == 1
    assert f"bucket '{buckets['raw']}'" in done.stderr and "answered 401" in done.stderr
    assert not set(buckets.values()) & set(influxdb2.buckets())


def test_an_unknown_organization_is_an_error(influxdb2: InfluxDB2, tmp_path: Path) -> None:
    buckets = tier_buckets()
    env = influx_env(influxdb2, buckets) | {"PULSELINE_INFLUX__ORG": "nowhere"}
    done = ensure(env, tmp_path)
    assert done.returncode == 1
    assert "nowhere" in done.stderr and f"bucket '{buckets['raw']}'" in done.stderr, done.stderr


def test_a_worker_set_for_victoriametrics_refuses_to_start_on_influxdb(
    influxdb2: InfluxDB2, tmp_path: Path
) -> None:
    env = influx_env(influxdb2, tier_buckets())
    del env["PULSELINE_INFLUX__STORE"]  # the default: victoriametrics
    done = worker_start(env, tmp_path)
    assert done.returncode == 1, done.stderr
    assert done.stderr.startswith(
        f"pulseline: error: influx.store is 'victoriametrics', but {influxdb2.url} "
        "(tier raw, 1m, 1h) is InfluxDB 2 (its GET /health says so): set influx.store: influxdb"
    ), done.stderr


def test_the_store_check_passes_when_influx_store_names_influxdb(
    influxdb2: InfluxDB2, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("PULSELINE_CONFIG", raising=False)
    for name, value in influx_env(influxdb2, tier_buckets()).items():
        monkeypatch.setenv(name, value)
    check_store(Settings.load(None))  # raises when it takes InfluxDB for another store
