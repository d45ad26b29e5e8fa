"""The commands that the shipped rule files' headers tell a user to run work as written."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
SHIPPED = sorted((ROOT / "rules").glob("*.yml"))
COMMAND = re.compile(r"`((?:pulseline|promtool) [^`]+)`")


def header_commands(path: Path) -> list[str]:
    """The backquoted commands in the comment lines at the top of ``path``."""
    header = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.startswith("#"):
            break
        header.append(line.lstrip("# "))
    return COMMAND.findall(" ".join(header))


def test_the_default_rules_header_names_commands() -> None:
    assert any(cmd.startswith("pulseline rules check") for cmd in header_commands(SHIPPED[0]))


@pytest.mark.parametrize(
    "command", sorted({cmd for path in SHIPPED for cmd in header_commands(path)})
)
def test_a_header_command_succeeds_from_the_repository_root(command: str, promtool: str) -> None:
    # The shell expands globs as it would for the user; `pulseline` is this interpreter's.
    program, _, args = command.partition(" ")
    runner = f"{sys.executable} -m streams" if program == "pulseline" else promtool
    done = subprocess.run(
        f"{runner} {args}", shell=True, cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, f"{command}:\n{done.stdout}{done.stderr}"
