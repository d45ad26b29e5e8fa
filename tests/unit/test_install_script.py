"""The system-dependency installer tells a user without root what to install."""

import subprocess
from pathlib import Path

SCRIPT = Path(__file__).parents[2] / "deploy" / "local" / "install-system-deps.sh"


def test_without_root_it_names_the_package_and_fails(tmp_path: Path) -> None:
    fake_id = tmp_path / "id"
    fake_id.write_text("#!/bin/sh\necho 1000\n")
    fake_id.chmod(0o755)
    result = subprocess.run(
        ["/bin/sh", str(SCRIPT)],
        env={"PATH": str(tmp_path)},  # no victoria-metrics, no apt-get, id says non-root
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 1
    assert "victoria-metrics" in result.stderr
    assert "apt-get install -y victoria-metrics" in result.stderr
