"""The alert manager's layers: a part imports only the parts below it, never one above
(the order :mod:`streams.alertmanager`'s docstring gives)."""

import ast
from pathlib import Path

import streams.alertmanager

PACKAGE = Path(streams.alertmanager.__file__).parent
RANK = {"model": 0, "wire": 0, "templating": 1, "config": 2, "notify": 3, "engine": 4, "api": 5}


def _part(module: str) -> str:
    """``streams.alertmanager.engine.group`` -> ``engine``."""
    return module.removeprefix("streams.alertmanager.").split(".")[0]


def _imports(path: Path) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
    return {m for m in found if m.startswith("streams.alertmanager.")}


def test_every_part_has_a_layer() -> None:
    parts = {p.stem if p.is_file() else p.name for p in PACKAGE.iterdir()}
    parts -= {"__init__", "__pycache__"}
    assert parts == set(RANK)


def test_no_part_imports_a_higher_one() -> None:
    upward = []
    for path in sorted(PACKAGE.rglob("*.py")):
        part = _part(".".join(path.relative_to(PACKAGE).with_suffix("").parts))
        for target in _imports(path):
            if RANK[_part(target)] > RANK[part]:
                upward.append(f"{path.relative_to(PACKAGE)} imports {target}")
    assert upward == []
