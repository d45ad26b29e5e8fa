import json
import os
from pathlib import Path

import pytest

from streams.collector.scrapeconfig import ScrapeConfig, TargetFiles, load_scrape_config, parse_size
from streams.errors import ConfigError


def test_jobs_inherit_global_interval_and_timeout(tmp_path: Path) -> None:
    path = tmp_path / "c.yml"
    path.write_text(
        "global: {scrape_interval: 15s, scrape_timeout: 5s}\n"
        "scrape_configs:\n"
        "  - job_name: node\n"
        "    body_size_limit: 10MB\n"
        "    static_configs: [{targets: ['127.0.0.1:9100'], labels: {env: dev}}]\n"
        "  - job_name: fast\n"
        "    scrape_interval: 2s\n"
    )
    node, fast = load_scrape_config(path).scrape_configs
    assert (node.scrape_interval_s, node.scrape_timeout_s, node.body_size_limit) == (15, 5, 10**7)
    assert (fast.scrape_interval_s, fast.scrape_timeout_s) == (2, 2)
    assert node.static_configs[0].labels == {"env": "dev"}


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("scrape_configs: [{job_name: a}, {job_name: a}]", "repeated: ['a']"),
        (
            "scrape_configs: [{job_name: a, scrape_interval: 5s, scrape_timeout: 10s}]",
            "longer than",
        ),
        ("scrape_configs: [{job_name: a, scheme: ftp}]", "scrape_configs.0.scheme"),
        ("scrape_configs: [{job_name: a, relabel_configs: []}]", "relabel_configs"),
        ("scrape_configs: [{job_name: a, body_size_limit: lots}]", "not a size"),
        ("scrape_configs: [{job_name: a, scrape_interval: soon}]", "not a duration"),
    ],
)
def test_invalid_configs_name_file_and_key(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "c.yml"
    path.write_text(text)
    with pytest.raises(ConfigError) as err:
        load_scrape_config(path)
    assert str(path) in str(err.value) and message in str(err.value)


def test_sizes() -> None:
    assert [parse_size(v) for v in (0, "512KiB", "10MB", "1GiB", "7")] == [
        0,
        524288,
        10**7,
        2**30,
        7,
    ]


def test_target_files_are_reread_when_they_change_and_bad_ones_keep_the_last_good(
    tmp_path: Path,
) -> None:
    (tmp_path / "a.json").write_text(json.dumps([{"targets": ["h1:9100"], "labels": {"r": "1"}}]))
    (tmp_path / "b.yml").write_text("- targets: ['h2:9100']\n")
    files = TargetFiles(("*.json", "*.yml"), tmp_path)
    assert [g.targets for g in files.groups()] == [("h1:9100",), ("h2:9100",)]

    (tmp_path / "b.yml").write_text("- targets: ['h2:9100', 'h3:9100']\n")
    os.utime(tmp_path / "b.yml", (1, 10**9 + 5))
    assert [g.targets for g in files.groups()][1] == ("h2:9100", "h3:9100")

    (tmp_path / "b.yml").write_text("- targets: [unclosed\n")
    os.utime(tmp_path / "b.yml", (1, 10**9 + 10))
    assert [g.targets for g in files.groups()][1] == ("h2:9100", "h3:9100")
    assert "b.yml" in next(iter(files.errors))

    (tmp_path / "a.json").unlink()
    assert [g.targets for g in files.groups()] == [("h2:9100", "h3:9100")]


def test_defaults_match_prometheus() -> None:
    job = ScrapeConfig.model_validate({"scrape_configs": [{"job_name": "x"}]}).scrape_configs[0]
    assert (job.scrape_interval_s, job.scrape_timeout_s, job.metrics_path, job.scheme) == (
        60,
        10,
        "/metrics",
        "http",
    )
