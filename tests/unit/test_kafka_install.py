"""Kafka's jars are resolved once into the cache, completely or not at all."""

from __future__ import annotations

from pathlib import Path

import pytest

from streams.stack.kafka_install import InstallError, install_kafka, installed, kafka_lib

FAKE_MVN = """#!/bin/sh
# Counts its runs; copies two 'jars' into -DoutputDirectory, or fails when told to.
echo run >> "{runs}"
for arg in "$@"; do
    case "$arg" in -DoutputDirectory=*) out="${{arg#-DoutputDirectory=}}";; esac
done
if [ -e "{fail}" ]; then echo "[ERROR] Could not resolve dependencies"; exit 1; fi
mkdir -p "$out" && touch "$out/kafka_2.13-9.9.9.jar" "$out/kafka-clients-9.9.9.jar"
"""


@pytest.fixture
def mvn(tmp_path: Path) -> tuple[str, Path, Path]:
    runs, fail = tmp_path / "runs", tmp_path / "fail"
    script = tmp_path / "mvn"
    script.write_text(FAKE_MVN.format(runs=runs, fail=fail))
    script.chmod(0o755)
    return str(script), runs, fail


def test_resolves_once_then_finds_the_cache(tmp_path: Path, mvn: tuple[str, Path, Path]) -> None:
    command, runs, _ = mvn
    cache = tmp_path / "cache"
    lib = install_kafka(cache, "9.9.9", mvn=command)
    assert lib == kafka_lib(cache, "9.9.9")
    assert sorted(p.name for p in lib.glob("*.jar")) == [
        "kafka-clients-9.9.9.jar",
        "kafka_2.13-9.9.9.jar",
    ]
    assert installed(cache, "9.9.9")
    assert "<version>9.9.9</version>" in (lib.parent / "pom.xml").read_text()
    assert install_kafka(cache, "9.9.9", mvn=command) == lib
    assert runs.read_text().count("run") == 1


def test_a_failed_resolution_says_why_and_leaves_no_lib(
    tmp_path: Path, mvn: tuple[str, Path, Path]
) -> None:
    command, runs, fail = mvn
    fail.touch()
    cache = tmp_path / "cache"
    with pytest.raises(InstallError, match="Could not resolve dependencies") as err:
        install_kafka(cache, "9.9.9", mvn=command)
    assert "kafka_2.13:9.9.9" in str(err.value)
    assert not kafka_lib(cache, "9.9.9").exists()
    assert not installed(cache, "9.9.9")

    fail.unlink()  # the next call tries again
    install_kafka(cache, "9.9.9", mvn=command)
    assert installed(cache, "9.9.9")
    assert runs.read_text().count("run") == 2


def test_without_maven_it_says_what_to_install(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(InstallError, match="apt-get install -y maven"):
        install_kafka(tmp_path / "cache", "9.9.9")
