"""The operators' commands of ``pulseline``: ``status`` and ``dlq show|replay``.

See :mod:`streams.status.commands` and :mod:`streams.dlq.commands`.
"""

from __future__ import annotations

from typing import Any

from streams.dlq.commands import add_dlq_commands
from streams.status.commands import add_status_command


def add_commands(sub: Any) -> None:
    """Add ``status`` and ``dlq`` to ``pulseline``'s subcommand parsers."""
    add_status_command(sub)
    add_dlq_commands(sub)
