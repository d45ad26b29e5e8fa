"""``pulseline alertmanager check``: amtool's summary for a good file, the problem for a bad one."""

from pathlib import Path

import pytest

from streams.cli import main

SHIPPED = Path(__file__).parents[3] / "deploy" / "alertmanager.yml"


def test_check_accepts_the_shipped_file(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["alertmanager", "check", str(SHIPPED)]) == 0
    out = capsys.readouterr().out
    assert "SUCCESS" in out and "1 receivers" in out


def test_check_names_file_line_and_problem(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "am.yml"
    bad.write_text(
        "route:\n  receiver: team\nreceivers:\n  - name: team\n    pagerduty_configs: []\n"
    )
    assert main(["alertmanager", "check", str(SHIPPED), str(bad)]) == 1
    out = capsys.readouterr().out
    assert "FAILED" in out and f"{bad}:5:" in out and "pagerduty_configs" in out


def test_silence_add_needs_a_comment() -> None:
    with pytest.raises(SystemExit) as exc:
        main(["silence", "add", "alertname=Down"])
    assert exc.value.code == 2
