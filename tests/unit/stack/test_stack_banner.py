"""The banner of ``pulseline stack run``: what it names, and that the README says the same."""

from __future__ import annotations

import re
from pathlib import Path

from streams.settings import Settings, TierSettings
from streams.stack.banner import PUSH_BODY, PUSH_PATH, Where, banner

README = Path(__file__).parents[3] / "README.md"
LOCAL = Settings.load(Path(__file__).parents[3] / "deploy" / "local" / "pulseline.yaml")


def _where(**changes: object) -> Where:
    base = Where(workdir=Path(".stack"), command=".venv/bin/pulseline")
    return Where(**{**base.__dict__, **changes})


def test_the_push_example_is_the_readmes() -> None:
    text = banner(LOCAL, _where())
    readme = README.read_text()
    quick_start = readme[readme.index("## Quick start") : readme.index("## Architecture")]
    example = re.search(r"curl -XPOST '([^']+)' \\\n\s+--data-binary '([^']+)'", quick_start)
    assert example is not None, "no push example in the Quick start"
    assert example[1] == f"http://{LOCAL.collector.listen}{PUSH_PATH}"
    assert example[2] == PUSH_BODY
    assert f"curl -XPOST '{example[1]}' \\" in text
    assert f"--data-binary '{example[2]}'" in text


def test_it_names_each_store_its_targets_alerts_and_the_workers_pages() -> None:
    text = banner(LOCAL, _where(receivers=("127.0.0.1:9095",), notifications=Path("n.jsonl")))
    lines = text.splitlines()

    def line(label: str) -> str:
        return next(x for x in lines if x.strip().startswith(label))

    assert line("raw samples").split()[-1] == (
        "http://127.0.0.1:8428/api/v1/query?query=room_temperature"
    )
    assert line("1-minute rows").split()[-1] == (
        "http://127.0.0.1:8429/api/v1/query?query=room_temperature_max"
    )
    assert line("1-hour rows").split()[-1].startswith("http://127.0.0.1:8430/api/v1/query?")
    assert line("scrape targets").split()[-1] == "http://127.0.0.1:9091/targets"
    assert line("alerts").split()[1:] == [
        "http://127.0.0.1:6066/api/v2/alerts",
        "or:",
        ".venv/bin/pulseline",
        "alerts",
        "--url",
        "http://127.0.0.1:6066",
    ]
    assert "webhook receiver 127.0.0.1:9095" in line("notifications")
    assert "n.jsonl" in text
    assert line("worker").split()[1:] == [
        "http://127.0.0.1:6066/metrics",
        "http://127.0.0.1:6066/health",
    ]
    assert ".venv/bin/pulseline stack stop --dir .stack" in line("stop")


def test_no_graph_ui_that_does_not_exist() -> None:
    text = banner(LOCAL, _where())
    readme = README.read_text()
    assert "vmui" not in text
    assert "/vmui" not in readme
    assert "no graph UI" in text


def test_the_broker_line_says_what_kafka_costs_and_keeps() -> None:
    text = banner(LOCAL, _where(broker="kafka", broker_ready_s=6.24, broker_rss=180 * 2**20))
    assert "Apache Kafka on 127.0.0.1:9092: ready in 6.2 s, 180 MB resident" in text
    assert ".stack/kafka-9092 keeps topics, records, offsets and alert state" in text
    tansu = banner(LOCAL, _where(broker="tansu", broker_ready_s=0.1))
    assert "memory-only" in tansu


def test_a_tier_of_another_width_is_named_by_it() -> None:
    settings = Settings(
        tiers=[
            TierSettings(name="raw", retention_s=86400, bucket="r"),
            TierSettings(name="5m", window_s=300, retention_s=86400, bucket="f"),
        ]
    )
    assert "    5m rows " in banner(settings, _where())


def test_without_local_receivers_it_says_no_notification_arrives_here() -> None:
    assert "notifications    none" in banner(LOCAL, _where())


def test_it_links_the_workers_pages_and_a_few_demo_graphs() -> None:
    from streams.stack.banner import DEMO_GRAPHS
    from streams.web.graphpage import READY_VIEWS

    lines = banner(LOCAL, _where()).splitlines()
    pages = next(x for x in lines if x.strip().startswith("pages")).split()[1:]
    assert pages == [f"http://127.0.0.1:6066/{p}" for p in ("alerts", "rules", "silences", "graph")]
    start = next(i for i, x in enumerate(lines) if x.strip().startswith("demo graphs"))
    links = [x.split()[-1] for x in lines[start : start + len(DEMO_GRAPHS)]]
    assert links == [f"http://127.0.0.1:6066{v.link}" for v in DEMO_GRAPHS]
    assert {v.section for v in DEMO_GRAPHS} == {"hosts", "pipeline"}
    assert set(DEMO_GRAPHS) <= set(READY_VIEWS)
