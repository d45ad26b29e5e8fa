"""check_file parses the configuration's template files: what amtool refuses, it refuses."""

from __future__ import annotations

from pathlib import Path

import pytest
from amtool_oracle import check_config

from streams.alertmanager.config.loader import check_file
from streams.errors import PulselineError


def _config(tmp_path: Path, template: str) -> Path:
    (tmp_path / "team.tmpl").write_text(template)
    path = tmp_path / "am.yml"
    path.write_text("route: {receiver: ops}\nreceivers: [{name: ops}]\ntemplates: ['*.tmpl']\n")
    return path


def test_good_templates_are_counted(tmp_path: Path) -> None:
    path = _config(tmp_path, '{{ define "team.title" }}{{ .CommonLabels.alertname }}{{ end }}\n')
    assert check_config(path)[0]
    assert " - 1 templates" in check_file(path).splitlines()


@pytest.mark.parametrize(
    ("template", "problem"),
    [
        ('{{ define "x" }}{{ .Foo \n', "unclosed action"),
        ('{{ define "x" }}{{ upper .Foo }}{{ end }}\n', 'function "upper" not defined'),
    ],
)
def test_bad_templates_are_refused_with_the_file_named(
    tmp_path: Path, template: str, problem: str
) -> None:
    path = _config(tmp_path, template)
    assert not check_config(path)[0]
    with pytest.raises(PulselineError, match=problem) as caught:
        check_file(path)
    assert str(tmp_path / "team.tmpl") in str(caught.value)
