"""Plugins of the whole test tree: the real servers (``tests/integration/servers.py``) and
the fault suite's options and fixtures (``tests/faults/faultkit.py``), on the path by
``pythonpath`` in pyproject.toml, so that every folder can use them.

Test files marked ``long(seconds)`` (a module-level ``pytestmark``, with about how long the
file takes) are collected first, the longest first: ``make test`` hands files to its
processes in collection order, so the longest start at once and run beside the rest
instead of after it.
"""

from __future__ import annotations

import pytest

pytest_plugins = ["servers", "faultkit"]


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The longest files first; otherwise the order pytest collected (the sort is stable)."""

    def seconds(item: pytest.Item) -> float:
        marker = item.get_closest_marker("long")
        return float(marker.args[0]) if marker is not None else 0.0

    items.sort(key=seconds, reverse=True)
