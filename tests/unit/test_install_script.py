"""The system-dependency installer tells a user without root what to install."""

import subprocess
from pathlib import Path

SCRIPT = Path(__file__).parents[2] / "deploy" / "local" / "install-system-deps.sh"


def test_without_root_it_names_the_package_and_fails(tmp_path: Path) -> None:
    fake_id = tmp_path / "id"
    fake_id.write_text("#!/bin/sh\necho 1000\n")
    fake_id.chmod(0o755)
    result = subprocess.run(
        ["/bin/sh", str(SCRIPT)],
        env={"PATH": str(tmp_path)},  # no victoria-metrics, no apt-get, id says non-root
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 1
    assert "victoria-metrics" in result.stderr
    assert "apt-get install -y victoria-metrics" in result.stderr


def test_with_kafka_it_also_names_java_and_maven(tmp_path: Path) -> None:
    fake_id = tmp_path / "id"
    fake_id.write_text("#!/bin/sh\necho 1000\n")
    fake_id.chmod(0o755)
    result = subprocess.run(
        ["/bin/sh", str(SCRIPT), "kafka"],
        env={"PATH": str(tmp_path)},  # no java, no mvn either
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 1
    assert "default-jre-headless" in result.stderr
    assert "maven" in result.stderr


def test_without_kafka_java_and_maven_are_not_asked_for(tmp_path: Path) -> None:
    fake_id = tmp_path / "id"
    fake_id.write_text("#!/bin/sh\necho 1000\n")
    fake_id.chmod(0o755)
    result = subprocess.run(
        ["/bin/sh", str(SCRIPT)],
        env={"PATH": str(tmp_path)},
        capture_output=True,
        text=True,
        check=False,
    )
    assert "default-jre-headless" not in result.stderr
    assert " maven" not in result.stderr
