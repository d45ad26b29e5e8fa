"""The Kafka server directory: written and formatted once, reused as it is on a restart."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from streams.stack.apache_kafka import kafka_server
from streams.stack.processes import ProcessError

FAKE_JAVA = """#!/bin/sh
# Plays Kafka's StorageTool: records the call and writes meta.properties into log.dirs.
echo "$*" >> "{calls}"
case "$*" in *StorageTool*) ;; *) exit 0;; esac
[ -e "{fail}" ] && {{ echo "Invalid cluster.id"; exit 1; }}
for arg in "$@"; do config="$arg"; done
dir=$(sed -n 's/^log.dirs=//p' "$config")
mkdir -p "$dir" && echo "node.id=1" > "$dir/meta.properties"
"""


@pytest.fixture
def java(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Path, Path]:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    calls, fail = tmp_path / "calls", tmp_path / "fail"
    script = bin_dir / "java"
    script.write_text(FAKE_JAVA.format(calls=calls, fail=fail))
    script.chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}:/usr/bin:/bin")
    return calls, fail


def _properties(path: Path) -> dict[str, str]:
    return dict(line.split("=", 1) for line in path.read_text().splitlines())


def test_formats_once_and_a_restart_keeps_the_directory(
    tmp_path: Path, java: tuple[Path, Path]
) -> None:
    calls, _ = java
    lib = tmp_path / "lib"
    server = kafka_server(9500, tmp_path / "stack", controller_port=9501, lib=lib)
    home = tmp_path / "stack" / "kafka-9500"
    props = _properties(home / "server.properties")
    assert props["listeners"] == "PLAINTEXT://127.0.0.1:9500,CONTROLLER://127.0.0.1:9501"
    assert props["log.dirs"] == str(home / "data")
    assert (home / "data" / "meta.properties").is_file()
    assert calls.read_text().count("StorageTool format") == 1
    assert server.argv[-4:] == ["-cp", f"{lib}/*", "kafka.Kafka", str(home / "server.properties")]

    marker = home / "data" / "a-topic-0"
    marker.mkdir()
    kafka_server(9500, tmp_path / "stack", lib=lib)  # as a stack restart does
    assert calls.read_text().count("StorageTool format") == 1
    assert marker.is_dir()
    assert _properties(home / "server.properties")["controller.quorum.voters"] == "1@127.0.0.1:9501"


def test_a_failed_format_is_an_error_with_the_tools_words(
    tmp_path: Path, java: tuple[Path, Path]
) -> None:
    _, fail = java
    fail.touch()
    with pytest.raises(ProcessError, match=r"Invalid cluster\.id"):
        kafka_server(9500, tmp_path / "stack", controller_port=9501, lib=tmp_path / "lib")


def test_without_java_it_says_what_to_install(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(ProcessError, match="default-jre-headless"):
        kafka_server(9500, tmp_path / "stack", lib=tmp_path / "lib")


def test_a_restart_moves_the_controller_off_a_port_taken_since(
    tmp_path: Path, java: tuple[Path, Path]
) -> None:
    lib = tmp_path / "lib"
    first = kafka_server(9500, tmp_path / "stack", lib=lib)
    controller = first.ports[1]
    home = tmp_path / "stack" / "kafka-9500"
    assert first.ports == (9500, controller)
    with socket.socket() as taken:  # something else listens there now
        taken.bind(("127.0.0.1", controller))
        taken.listen()
        again = kafka_server(9500, tmp_path / "stack", lib=lib)
    moved = again.ports[1]
    assert moved != controller
    assert _properties(home / "server.properties")["controller.quorum.voters"] == (
        f"1@127.0.0.1:{moved}"
    )
    assert kafka_server(9500, tmp_path / "stack", lib=lib).ports == (9500, moved)  # kept if free
