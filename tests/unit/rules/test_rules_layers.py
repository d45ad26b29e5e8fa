"""The rules package's layers: a part imports only the parts below it, never one above (the
order :mod:`streams.rules`' docstring gives; the package's ``__init__`` re-exports from all)."""

import ast
from pathlib import Path

import streams.rules

PACKAGE = Path(streams.rules.__file__).parent
RANK = {
    "errors": 0,
    "yamlpos": 0,
    "templating": 1,
    "model": 2,
    "loader": 2,
    "evaluation": 3,
    "testing": 4,
}


def _part(module: str) -> str:
    """``streams.rules.evaluation.group`` -> ``evaluation``."""
    return module.removeprefix("streams.rules.").split(".")[0]


def _imports(path: Path) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
    return {m for m in found if m.startswith("streams.rules.")}


def test_every_part_has_a_layer() -> None:
    parts = {p.stem if p.is_file() else p.name for p in PACKAGE.iterdir()}
    assert parts - {"__init__", "__pycache__"} == set(RANK)


def test_no_part_imports_a_higher_one() -> None:
    upward = []
    for path in sorted(PACKAGE.rglob("*.py")):
        if path == PACKAGE / "__init__.py":
            continue
        part = _part(".".join(path.relative_to(PACKAGE).with_suffix("").parts))
        for target in _imports(path):
            if RANK[_part(target)] > RANK[part]:
                upward.append(f"{path.relative_to(PACKAGE)} imports {target}")
    assert upward == []
