from pathlib import Path

import pytest
import yaml

from streams.cli import main


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
