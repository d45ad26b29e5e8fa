"""docker-compose.yml, the image's entry point and the InfluxDB init script, without Docker.

Debian's ``docker-compose`` (1.29) validates and resolves the file (``config``) without an
engine; the resolved configuration is then checked for what the production stack promises:
pinned images, no automatic topic creation, healthchecks and ``depends_on`` conditions, alert
and store workers that scale, each token only where it is used, secrets only from the environment, buckets and retentions equal to the
settings' tiers. The entry point runs here with a stand-in ``pulseline`` on ``PATH``.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml
from stored_names import ROOT

from streams.collector.scrapeconfig import load_scrape_config
from streams.durations import parse_duration
from streams.settings import DEFAULT_TIERS

COMPOSE = ROOT / "docker-compose.yml"
ENV_EXAMPLE = ROOT / ".env.example"
INIT = ROOT / "deploy" / "influxdb" / "init" / "pulseline.sh"
ENTRYPOINT = ROOT / "deploy" / "docker" / "entrypoint.sh"


def compose(*args: str, env_file: Path | None = ENV_EXAMPLE) -> subprocess.CompletedProcess[str]:
    options = ["--env-file", str(env_file)] if env_file else []
    environment = {
        k: v for k, v in os.environ.items() if not k.startswith(("INFLUXDB_", "GRAFANA_"))
    }
    return subprocess.run(
        ["docker-compose", "--project-directory", str(ROOT), *options, "-f", str(COMPOSE), *args],
        capture_output=True, text=True, timeout=120, check=False, env=environment, cwd=ROOT,
    )  # fmt: skip


@pytest.fixture(scope="module")
def resolved() -> dict[str, Any]:
    """The configuration as ``docker-compose config`` resolves it with .env.example."""
    # make test installs it (deploy/local/install-system-deps.sh test); a missing one fails
    assert shutil.which("docker-compose"), "docker-compose is not installed (apt docker-compose)"
    result = compose("config")
    assert result.returncode == 0, result.stderr
    config: dict[str, Any] = yaml.safe_load(result.stdout)
    return config


def test_config_is_valid_with_the_example_env(resolved: dict[str, Any]) -> None:
    assert set(resolved["services"]) >= {
        "kafka", "topics", "influxdb", "worker", "store-worker", "collector", "node-exporter",
        "webhook", "grafana", "demo",
    }  # fmt: skip


def test_without_secrets_config_refuses_naming_the_variable(tmp_path: Path) -> None:
    (tmp_path / "empty.env").write_text("")
    result = compose("config", env_file=tmp_path / "empty.env")
    assert result.returncode != 0
    assert re.search(r"set (INFLUXDB_ADMIN_PASSWORD|INFLUXDB_ADMIN_TOKEN|GRAFANA_ADMIN_PASSWORD)",
                     result.stderr), result.stderr  # fmt: skip


def test_no_secret_is_written_in_the_compose_file() -> None:
    raw = yaml.safe_load(COMPOSE.read_text())
    for name, service in raw["services"].items():
        for key, value in (service.get("environment") or {}).items():
            if re.search(r"PASSWORD|TOKEN$|SECRET", key):
                assert re.fullmatch(r"\$\{\w+:\?[^}]*\}", str(value)), f"{name}: {key}"


def test_the_example_env_has_every_variable_the_file_requires() -> None:
    required = set(re.findall(r"\$\{(\w+):\?", COMPOSE.read_text()))
    example = dict(
        line.split("=", 1) for line in ENV_EXAMPLE.read_text().splitlines()
        if line and not line.startswith("#")
    )  # fmt: skip
    assert required and required <= set(example)
    assert all("change-me" in example[name] for name in required)


def test_images_are_pinned(resolved: dict[str, Any]) -> None:
    for name, service in resolved["services"].items():
        if "build" in service:
            continue
        image = service["image"]
        assert re.fullmatch(r"[\w./-]+:v?\d+\.\d+\.\d+", image), f"{name}: {image} is not pinned"
    assert resolved["services"]["kafka"]["image"].startswith("apache/kafka:3.")
    assert resolved["services"]["influxdb"]["image"].startswith("influxdb:2.7.")


def test_kafka_is_kraft_without_automatic_topics(resolved: dict[str, Any]) -> None:
    env = resolved["services"]["kafka"]["environment"]
    assert env["KAFKA_PROCESS_ROLES"] == "broker,controller"
    assert env["KAFKA_AUTO_CREATE_TOPICS_ENABLE"] == "false"
    assert env["KAFKA_LOG_DIRS"] in [v.split(":")[1] for v in resolved["services"]["kafka"]["volumes"]
                                     if isinstance(v, str)] or any(
        isinstance(v, dict) and v.get("target") == env["KAFKA_LOG_DIRS"]
        for v in resolved["services"]["kafka"]["volumes"]
    )  # fmt: skip
    assert resolved["services"]["topics"]["command"] == ["topics", "create"]


def test_long_running_services_have_healthchecks_and_start_in_order(
    resolved: dict[str, Any],
) -> None:
    services = resolved["services"]
    one_shots = {"topics", "demo"}
    for name, service in services.items():
        if name not in one_shots:
            assert "healthcheck" in service, f"{name} has no healthcheck"
        for dependency, condition in (service.get("depends_on") or {}).items():
            wanted = ("service_completed_successfully" if dependency in one_shots
                      else "service_healthy")  # fmt: skip
            assert condition == {"condition": wanted}, f"{name} -> {dependency}"
    assert set(services["store-worker"]["depends_on"]) >= {"topics", "influxdb"}
    assert "influxdb" not in services["worker"]["depends_on"]  # alerts run without a database
    assert set(services["grafana"]["depends_on"]) == {"influxdb"}


@pytest.mark.parametrize(("name", "roles"), [("worker", ["alert"]), ("store-worker", ["store"])])
def test_the_workers_of_each_role_scale(
    resolved: dict[str, Any], name: str, roles: list[str]
) -> None:
    worker = resolved["services"][name]
    assert "container_name" not in worker
    assert "ports" not in worker
    assert worker["environment"]["PULSELINE_WORKER__WEB_HOST"] == "0.0.0.0"
    assert json.loads(worker["environment"]["PULSELINE_WORKER__ROLES"]) == roles
    assert "PULSELINE_SCRAPE_TARGETS_DIR" in worker["environment"]  # collectors scrape it


def test_tokens_reach_only_their_user(resolved: dict[str, Any]) -> None:
    services = resolved["services"]

    def volumes(name: str) -> dict[str, str]:
        out = {}
        for v in services[name].get("volumes", []):
            source, target = (v.split(":")[:2] if isinstance(v, str)
                              else (v.get("source"), v["target"]))  # fmt: skip
            out[str(source)] = target
        return out

    influx_env = services["influxdb"]["environment"]
    writer_dir = str(Path(influx_env["PULSELINE_WRITER_TOKEN_FILE"]).parent)
    reader_dir = str(Path(influx_env["GRAFANA_READER_TOKEN_FILE"]).parent)
    influx = {target: source for source, target in volumes("influxdb").items()}
    writer, reader = influx[writer_dir], influx[reader_dir]
    assert writer != reader
    token_file = Path(services["store-worker"]["environment"]["PULSELINE_INFLUX__TOKEN_FILE"])
    assert volumes("store-worker")[writer] == str(token_file.parent)
    worker_env = services["worker"]["environment"]
    read_file = Path(worker_env["PULSELINE_INFLUX__READ_TOKEN_FILE"])  # its /graph page
    assert volumes("worker")[reader] == str(read_file.parent)
    assert writer not in volumes("worker") and reader not in volumes("store-worker")
    source = yaml.safe_load((ROOT / "deploy/grafana/provisioning/datasources/influxdb.yml")
                            .read_text())["datasources"][0]  # fmt: skip
    grafana_token = re.fullmatch(r"\$__file\{(.+)\}", source["secureJsonData"]["token"])
    assert grafana_token
    assert volumes("grafana")[reader] == str(Path(grafana_token[1]).parent)
    assert writer not in volumes("grafana")
    for name in services:
        if name not in ("influxdb", "worker", "store-worker", "grafana"):
            assert not {writer, reader} & set(volumes(name)), f"{name} mounts a token"


def test_the_init_script_creates_the_settings_tiers() -> None:
    """The raw bucket comes from the image's setup (compose), the others from the script."""
    env = yaml.safe_load(COMPOSE.read_text())["services"]["influxdb"]["environment"]
    raw, *windowed = DEFAULT_TIERS
    assert env["DOCKER_INFLUXDB_INIT_BUCKET"] == raw.bucket
    assert parse_duration(env["DOCKER_INFLUXDB_INIT_RETENTION"]) == raw.retention_s
    table = INIT.read_text().split('TIERS="', 1)[1].split('"', 1)[0]
    created = [line.split() for line in table.strip().splitlines()]
    assert [(bucket, float(seconds)) for bucket, seconds in created] == [
        (tier.bucket, tier.retention_s) for tier in windowed
    ]


def test_the_alertmanager_config_of_the_stack_is_the_local_one_but_the_receiver_url() -> None:
    local = yaml.safe_load((ROOT / "deploy" / "alertmanager.yml").read_text())
    stack = yaml.safe_load((ROOT / "deploy" / "docker" / "alertmanager.yml").read_text())
    urls = [c["url"] for r in stack["receivers"] for c in r.get("webhook_configs", [])]
    assert urls == ["http://webhook:9095/"]
    for receiver in local["receivers"]:
        for config in receiver.get("webhook_configs", []):
            config["url"] = "http://webhook:9095/"
    assert stack == local


def test_the_stack_scrape_config_loads() -> None:
    config = load_scrape_config(ROOT / "deploy" / "docker" / "scrape.yml")
    assert {job.job_name for job in config.scrape_configs} == {"pulseline", "node"}


def test_the_image_runs_as_an_unprivileged_user() -> None:
    users = re.findall(r"^USER (\S+)", (ROOT / "Dockerfile").read_text(), re.MULTILINE)
    assert users and users[-1].split(":")[0] not in ("root", "0")


def fake_pulseline(tmp_path: Path, body: str) -> dict[str, str]:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    script = bin_dir / "pulseline"
    script.write_text("#!/bin/sh\n" + body)
    script.chmod(0o755)
    for tool in ("python",):  # the entry point asks python for the host's name and address
        found = shutil.which("python3")
        assert found
        (bin_dir / tool).symlink_to(found)
    path = f"{bin_dir}:{os.environ['PATH']}"
    return {"PATH": path, "HOME": str(tmp_path)}


def test_entrypoint_reads_secrets_from_files(tmp_path: Path) -> None:
    env = fake_pulseline(tmp_path, 'echo "$@"; env | grep ^PULSELINE_ | sort\n')
    (tmp_path / "token").write_text("s3cret value\n")
    result = subprocess.run(
        ["sh", str(ENTRYPOINT), "worker", "--flag"],
        env={**env, "PULSELINE_INFLUX__TOKEN_FILE": str(tmp_path / "token"),
             "PULSELINE_RULES__FILES": '["r.yml"]'},
        capture_output=True, text=True, timeout=30, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [
        "worker --flag",
        "PULSELINE_INFLUX__TOKEN=s3cret value",
        'PULSELINE_RULES__FILES=["r.yml"]',
    ]


def test_entrypoint_refuses_an_unreadable_secret_file(tmp_path: Path) -> None:
    env = fake_pulseline(tmp_path, "exit 0\n")
    result = subprocess.run(
        ["sh", str(ENTRYPOINT), "worker"],
        env={**env, "PULSELINE_INFLUX__TOKEN_FILE": str(tmp_path / "missing")},
        capture_output=True, text=True, timeout=30, check=False,
    )  # fmt: skip
    assert result.returncode == 1
    assert "PULSELINE_INFLUX__TOKEN_FILE" in result.stderr


def test_entrypoint_announces_the_worker_while_it_runs(tmp_path: Path) -> None:
    targets = tmp_path / "targets"
    targets.mkdir()
    seen = tmp_path / "seen"
    env = fake_pulseline(tmp_path, f'cat "{targets}"/*.json > "{seen}"; exit 3\n')
    result = subprocess.run(
        ["sh", str(ENTRYPOINT), "worker"],
        env={**env, "PULSELINE_SCRAPE_TARGETS_DIR": str(targets),
             "PULSELINE_WORKER__WEB_PORT": "6070"},
        capture_output=True, text=True, timeout=30, check=False,
    )  # fmt: skip
    assert result.returncode == 3  # the worker's status
    announced = yaml.safe_load(seen.read_text())
    (group,) = announced
    (target,) = group["targets"]
    assert target.endswith(":6070") and group["labels"] == {"component": "worker"}
    assert list(targets.iterdir()) == []  # gone when the worker ended
