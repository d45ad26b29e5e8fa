"""The InfluxDB 2 installer reuses its cached build and names what is missing to make one."""

import re
import subprocess
from pathlib import Path

import pytest

from streams.stack.influxdb2 import INFLUXD_VERSION, influxd_binary
from streams.stack.processes import ProcessError

SCRIPT = Path(__file__).parents[2] / "deploy" / "local" / "install-influxdb2.sh"


def run(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["/bin/sh", str(SCRIPT)], env=env, capture_output=True, text=True, check=False
    )


def test_a_cached_binary_is_reused_without_building(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cached = tmp_path / f"influxd-{INFLUXD_VERSION}" / "influxd"
    cached.parent.mkdir()
    cached.write_text(f"#!/bin/sh\necho 'InfluxDB v{INFLUXD_VERSION} (git: none)'\n")
    cached.chmod(0o755)
    # No go, cargo or compiler on PATH: a build would fail at once.
    result = run({"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "PULSELINE_CACHE": str(tmp_path)})
    assert result.returncode == 0, result.stderr
    assert result.stdout == f"{cached}\n"
    monkeypatch.setenv("PULSELINE_CACHE", str(tmp_path))
    assert influxd_binary() == str(cached)


def test_without_go_it_names_the_missing_tool(tmp_path: Path) -> None:
    result = run(
        {"PATH": "/bin", "HOME": str(tmp_path), "PULSELINE_CACHE": str(tmp_path), "GO": "no-go"}
    )
    assert result.returncode == 1
    assert "install-influxdb2: go not found" in result.stderr
    assert not (tmp_path / f"influxd-{INFLUXD_VERSION}").exists()


def test_the_script_builds_the_version_the_starter_looks_for() -> None:
    default = re.search(r'version="\$\{INFLUXDB_VERSION:-([0-9.]+)\}"', SCRIPT.read_text())
    assert default is not None and default.group(1) == INFLUXD_VERSION


def test_a_missing_binary_says_how_to_build_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PULSELINE_CACHE", str(tmp_path))
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(ProcessError, match=re.escape("run deploy/local/install-influxdb2.sh")):
        influxd_binary()
