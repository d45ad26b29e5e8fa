"""Layered packages: a part imports only the parts below it, never one above (the order each
package's docstring gives; a package's ``__init__`` may re-export from all of its parts)."""

from __future__ import annotations

import ast
import importlib
from pathlib import Path

import pytest

LAYERS: dict[str, dict[str, int]] = {
    "streams.alertmanager": {
        **{"model": 0, "wire": 0, "templating": 1, "config": 2},
        **{"notify": 3, "engine": 4, "api": 5},
    },
    "streams.rules": {
        **{"errors": 0, "yamlpos": 0, "templating": 1, "model": 2, "loader": 2},
        **{"evaluation": 3, "testing": 4},
    },
}


def _root(package: str) -> Path:
    return Path(importlib.import_module(package).__file__ or "").parent


def _part(package: str, module: str) -> str:
    """(``streams.rules``, ``streams.rules.evaluation.group``) -> ``evaluation``."""
    return module.removeprefix(package + ".").split(".")[0]


def _imports(path: Path, package: str) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
    return {m for m in found if m.startswith(package + ".")}


@pytest.mark.parametrize("package", sorted(LAYERS))
def test_every_part_has_a_layer(package: str) -> None:
    parts = {p.stem if p.is_file() else p.name for p in _root(package).iterdir()}
    assert parts - {"__init__", "__pycache__"} == set(LAYERS[package])


@pytest.mark.parametrize("package", sorted(LAYERS))
def test_no_part_imports_a_higher_one(package: str) -> None:
    root, rank = _root(package), LAYERS[package]
    upward = []
    for path in sorted(root.rglob("*.py")):
        if path == root / "__init__.py":
            continue
        part = _part(package, ".".join(path.relative_to(root).with_suffix("").parts))
        for target in _imports(path, package):
            if rank[_part(package, target)] > rank[part]:
                upward.append(f"{path.relative_to(root)} imports {target}")
    assert upward == []
