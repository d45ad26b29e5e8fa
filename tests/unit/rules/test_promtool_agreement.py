"""`pulseline rules test` and `promtool test rules` (2.42) give the same verdict on every rule
test file we ship or keep as test data; files named `*_fail_test.yml` must fail in both."""

import subprocess
from pathlib import Path

import pytest

from streams.rules.testing.unittest import run_test_file, run_test_files

ROOT = Path(__file__).resolve().parents[3]
TESTDATA = Path(__file__).resolve().parent / "testdata"
TEST_FILES = sorted((ROOT / "rules").glob("*_test.yml")) + sorted(TESTDATA.glob("*_test.yml"))


def promtool_run(promtool: str, path: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [promtool, "test", "rules", str(path)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_there_are_files_of_both_verdicts() -> None:
    names = [p.name for p in TEST_FILES]
    assert "pulseline_test.yml" in names
    assert sum("_fail_" in n for n in names) >= 4
    assert sum("_fail_" not in n for n in names) >= 5


@pytest.mark.parametrize("path", TEST_FILES, ids=lambda p: p.name)
def test_same_verdict_as_promtool(promtool: str, path: Path) -> None:
    theirs = promtool_run(promtool, path)
    ours = run_test_file(path)
    assert ours.passed == (theirs.returncode == 0), (
        f"promtool: {'pass' if theirs.returncode == 0 else 'fail'}\n{theirs.stderr}\n"
        f"pulseline: {'pass' if ours.passed else 'fail'}\n" + "\n".join(ours.errors)
    )
    assert ours.passed == ("_fail_" not in path.name), "\n".join(ours.errors)


@pytest.mark.parametrize(
    "name", ["rates_fail_test.yml", "hosts_fail_test.yml", "staleness_fail_test.yml"]
)
def test_same_output_as_promtool(promtool: str, name: str, tmp_path: Path) -> None:
    path = TESTDATA / name
    theirs = promtool_run(promtool, path)
    out, err = (tmp_path / "out").open("w+"), (tmp_path / "err").open("w+")
    with out, err:
        code = run_test_files([path], out, err)
        out.seek(0)
        err.seek(0)
        assert (code, out.read(), err.read()) == (theirs.returncode, theirs.stdout, theirs.stderr)
