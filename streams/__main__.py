"""``python -m streams`` is the ``pulseline`` command."""

from streams.cli import main

raise SystemExit(main())
