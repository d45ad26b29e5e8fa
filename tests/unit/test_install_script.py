"""The system-dependency installer asks for what a target needs, and says so without root."""

import subprocess
from pathlib import Path

import pytest

SCRIPT = Path(__file__).parents[2] / "deploy" / "local" / "install-system-deps.sh"
RUN = ["victoria-metrics", "default-jre-headless", "maven"]
TEST_ONLY = ["prometheus", "prometheus-node-exporter", "prometheus-alertmanager", "chromium"]


def _asked(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """Run the script as a non-root user on a PATH where nothing is installed."""
    fake_id = tmp_path / "id"
    fake_id.write_text("#!/bin/sh\necho 1000\n")
    fake_id.chmod(0o755)
    return subprocess.run(
        ["/bin/sh", str(SCRIPT), *args],
        env={"PATH": str(tmp_path)},  # no package's command, no apt-get, id says non-root
        capture_output=True,
        text=True,
        check=False,
    )


def _packages(stderr: str) -> list[str]:
    first = stderr.splitlines()[0]
    assert "needs these packages:" in first, stderr
    return first.split(":", 1)[1].split()


@pytest.mark.parametrize("args", [(), ("run",)])
def test_run_asks_for_what_the_stack_runs_only(tmp_path: Path, args: tuple[str, ...]) -> None:
    result = _asked(tmp_path, *args)
    assert result.returncode == 1
    assert _packages(result.stderr) == RUN
    assert f"apt-get install -y {' '.join(RUN)}" in result.stderr


def test_test_asks_also_for_the_oracles_and_the_browser(tmp_path: Path) -> None:
    result = _asked(tmp_path, "test")
    assert result.returncode == 1
    asked = _packages(result.stderr)
    assert asked[: len(RUN)] == RUN
    assert set(TEST_ONLY) <= set(asked)


def test_what_is_installed_is_not_asked_for(tmp_path: Path) -> None:
    for command in ("victoria-metrics", "java", "mvn", "chromium"):
        fake = tmp_path / command
        fake.write_text("#!/bin/sh\n")
        fake.chmod(0o755)
    asked = _packages(_asked(tmp_path, "test").stderr)
    assert not {"victoria-metrics", "default-jre-headless", "maven", "chromium"} & set(asked)
    assert set(TEST_ONLY[:3]) <= set(asked)
    assert _asked(tmp_path, "run").returncode == 0


def test_an_unknown_purpose_is_a_usage_error(tmp_path: Path) -> None:
    result = _asked(tmp_path, "kafka")
    assert result.returncode == 2
    assert "usage:" in result.stderr
