"""Every ``>>>`` example in the package runs: an example that cannot run is not one."""

import doctest
import importlib
import pkgutil

import pytest

import agents
import streams


def _modules() -> list[str]:
    names = []
    for package in (streams, agents):
        for info in pkgutil.walk_packages(package.__path__, package.__name__ + "."):
            if not info.name.endswith("__main__"):  # running it would run the command
                names.append(info.name)
    return sorted(names)


@pytest.mark.parametrize("name", _modules())
def test_examples_run(name: str) -> None:
    module = importlib.import_module(name)
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS)
    assert result.failed == 0, f"{result.failed} failing example(s) in {name}"
