import argparse
import os
from importlib.metadata import version
from pathlib import Path

import pytest
import yaml

from streams.cli import build_parser, main
from streams.stack.processes import free_port


def test_config_show_prints_yaml_with_secrets_masked(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PULSELINE_INFLUX__TOKEN", "hunter2")
    monkeypatch.setenv("PULSELINE_KAFKA__PARTITIONS", "12")
    assert main(["config", "show"]) == 0
    out = capsys.readouterr().out
    shown = yaml.safe_load(out)
    assert shown["kafka"]["partitions"] == 12
    assert shown["influx"]["token"] == "**********"
    assert "hunter2" not in out


def test_bad_config_file_exits_1_with_the_file_named(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "p.yaml"
    path.write_text("kafka:\n  partitions: -1\n")
    assert main(["--config", str(path), "config", "show"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("pulseline: error: invalid settings in ")
    assert str(path) in err and "kafka.partitions" in err


def test_unknown_command_is_a_usage_error() -> None:
    with pytest.raises(SystemExit) as exc:
        main(["nonsense"])
    assert exc.value.code == 2


def test_rules_check_passes_the_shipped_rules(capsys: pytest.CaptureFixture[str]) -> None:
    shipped = Path(__file__).parents[2] / "rules" / "pulseline.yml"
    assert main(["rules", "check", str(shipped)]) == 0
    assert "1 rule file(s) valid" in capsys.readouterr().out


def test_rules_check_names_file_line_group_rule_and_construct(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "bad.yml"
    bad.write_text("groups:\n- name: g\n  rules:\n  - alert: A\n    expr: topk(3, up)\n")
    assert main(["rules", "check", str(bad)]) == 1
    err = capsys.readouterr().err
    assert f"{bad}:5:" in err and 'group "g", rule "A"' in err and "topk" in err


def test_config_is_accepted_after_the_command_too(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("PULSELINE_CONFIG", raising=False)
    path = tmp_path / "p.yaml"
    path.write_text("kafka:\n  partitions: 3\n")
    for argv in (
        ["--config", str(path), "config", "show"],
        ["config", "show", "--config", str(path)],
    ):
        assert main(argv) == 0
        out = capsys.readouterr().out
        assert out.startswith(f"# settings from {path}\n")
        assert yaml.safe_load(out)["kafka"]["partitions"] == 3


def test_config_show_says_when_it_shows_the_defaults(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("PULSELINE_CONFIG", raising=False)
    for name in [n for n in os.environ if n.startswith("PULSELINE_")]:
        monkeypatch.delenv(name)
    assert main(["config", "show"]) == 0
    first = capsys.readouterr().out.splitlines()[0]
    assert first == "# no --config (nor $PULSELINE_CONFIG): the embedded defaults"
    monkeypatch.setenv("PULSELINE_WORKER__WEB_PORT", "7000")
    assert main(["config", "show"]) == 0
    first = capsys.readouterr().out.splitlines()[0]
    assert first.endswith("the embedded defaults, with PULSELINE_WORKER__WEB_PORT over them")


def test_config_show_writes_durations_and_paths_as_people_do(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("PULSELINE_CONFIG", raising=False)
    assert main(["config", "show"]) == 0
    shown = yaml.safe_load(capsys.readouterr().out)
    assert [t["retention_s"] for t in shown["tiers"]] == ["7d", "30d", "365d"]
    assert shown["downsample"]["max_future_s"] == "10m"
    assert shown["worker"]["data_dir"] == ".pulseline"


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        main(["--version"])
    assert exc.value.code == 0
    assert capsys.readouterr().out == f"pulseline {version('pulseline')}\n"


def test_help_has_no_docstring_markup(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["--help"])
    out = capsys.readouterr().out
    assert "``" not in out and ":class:" not in out
    assert out.splitlines()[2].startswith("pulseline: a metrics monitoring and alerting pipeline")


def test_demo_help_shows_the_real_defaults(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["demo", "--help"])
    out = " ".join(capsys.readouterr().out.split())
    for words in (
        "http://127.0.0.1:9091",
        "simulated hosts (default: 20)",
        "seconds between pushes (default: 10)",
        "(default: run until Ctrl-C)",
        "(default: host-,",
    ):
        assert words in out


@pytest.mark.parametrize("argv", [["--hosts", "-5"], ["--hosts", "0"], ["--interval", "0"]])
def test_demo_refuses_numbers_out_of_range(
    argv: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exc:
        main(["demo", *argv])
    assert exc.value.code == 2
    assert f"argument {argv[0]}: {argv[1]} must be more than 0" in capsys.readouterr().err


def test_demo_against_an_unreachable_collector_exits_1(
    capsys: pytest.CaptureFixture[str],
) -> None:
    url = f"http://127.0.0.1:{free_port()}"
    assert main(["demo", "--url", url, "--duration", "30"]) == 1
    assert capsys.readouterr().err.startswith(
        f"pulseline: error: cannot reach the collector at {url}"
    )


def _command_paths(parser: argparse.ArgumentParser) -> list[tuple[str, ...]]:
    """Every command and subcommand registered in ``parser``, as word paths."""
    paths: list[tuple[str, ...]] = []
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                paths.append((name,))
                paths += [(name, *rest) for rest in _command_paths(sub)]
    return paths


def test_the_top_level_help_lists_every_registered_command(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with pytest.raises(SystemExit):
        main(["--help"])
    listed = [
        line.split()[1:3]
        for line in capsys.readouterr().out.splitlines()
        if line.strip().startswith("pulseline ")
    ]
    paths = _command_paths(build_parser())
    assert {("status",), ("dlq", "replay"), ("stack", "stop")} <= set(paths)
    for path in paths:  # `pulseline silence add|query|expire` lists three subcommands
        assert any(
            words[0] == path[0] and (len(path) == 1 or path[1] in words[1].split("|"))
            for words in listed
        ), f"pulseline --help does not list {' '.join(path)}"
