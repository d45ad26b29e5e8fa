"""Debian's amtool (Alertmanager 0.25) as the reference for configuration semantics.

Tests call these helpers to ask amtool what it makes of a file: whether ``check-config``
accepts it, the matchers of each route as ``config routes`` prints them, and the receivers
``config routes test`` resolves for a label set.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Mapping, Sequence
from pathlib import Path

import pytest

from streams.alertmanager.config.matchers import escape_value

_TREE_PREFIXES = ("├── ", "└── ")


def amtool() -> str:
    """amtool's path; a clear failure, not a skip, when it is missing."""
    found = shutil.which("amtool") or (
        "/usr/bin/amtool" if Path("/usr/bin/amtool").exists() else None
    )
    if found is None:
        pytest.fail(
            "amtool is not installed: it is the reference for alertmanager.yml semantics. "
            "Install Debian's 'prometheus-alertmanager' package."
        )
    return found


def run(*args: str) -> subprocess.CompletedProcess[str]:
    """Run amtool; its output decoded as UTF-8 with every character kept.

    Not ``text=True``: universal newlines would turn a carriage return inside a printed
    label value into a line break.
    """
    done = subprocess.run([amtool(), *args], capture_output=True, timeout=60)
    return subprocess.CompletedProcess(
        done.args, done.returncode, done.stdout.decode(), done.stderr.decode()
    )


def check_config(path: Path) -> tuple[bool, str]:
    """Whether ``amtool check-config`` accepts the file, and what it printed."""
    done = run("check-config", str(path))
    return done.returncode == 0, done.stdout + done.stderr


def route_matchers(path: Path) -> list[str]:
    """Each route's matchers as ``amtool config routes`` prints them, depth first.

    The root and routes without matchers print as ``default-route``.

    amtool prints a route as its matchers, then ``"  continue: true"`` for a route that
    continues, then ``"  receiver: NAME"``. Values are printed with only ``\\``, ``"`` and
    newlines escaped, so a value may hold two blanks, a tab or ``receiver:`` itself: the
    suffixes are cut from the end of the line (the matchers always end in ``"}``), never at
    the first blanks. Lines are split at newlines only (a value may hold a carriage return).
    """
    done = run("config", "routes", f"--config.file={path}")
    assert done.returncode == 0, done.stderr
    out = []
    for line in done.stdout.split("\n"):
        stripped = line.lstrip(" │")
        for prefix in _TREE_PREFIXES:
            if stripped.startswith(prefix):
                slug = stripped[len(prefix) :]
                head, found, _receiver = slug.rpartition("  receiver: ")
                out.append((head if found else slug).removesuffix("  continue: true"))
    return out


def receivers_for(path: Path, labels: Mapping[str, str]) -> list[str]:
    """The receivers ``amtool config routes test`` resolves for a label set, in order."""
    args = [f'{name}="{escape_value(value)}"' for name, value in labels.items()]
    done = run("config", "routes", "test", f"--config.file={path}", *args)
    assert done.returncode == 0, done.stderr
    return done.stdout.strip().split(",")


def yaml_string(text: str) -> str:
    """A YAML double-quoted scalar holding ``text`` exactly."""
    return json.dumps(text)


def routes_config(matcher_lines: Sequence[str]) -> str:
    """A config whose root has one child route per ``matchers`` line, in order."""
    routes = "".join(f"    - matchers: [{yaml_string(line)}]\n" for line in matcher_lines)
    return f"route:\n  receiver: r\n  routes:\n{routes}receivers:\n  - name: r\n"
