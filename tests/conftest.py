"""Plugins of the whole test tree: the real servers (``tests/integration/servers.py``) and
the fault suite's options and fixtures (``tests/faults/faultkit.py``), on the path by
``pythonpath`` in pyproject.toml, so that every folder can use them."""

pytest_plugins = ["servers", "faultkit"]
