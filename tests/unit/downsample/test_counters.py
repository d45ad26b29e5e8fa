from dataclasses import fields

from streams.downsample.counters import COUNTER_HELP
from streams.downsample.processor import StageStats
from streams.downsample.state import DownsampleStats


def test_every_exposed_counter_is_explained() -> None:
    exposed = {f.name for f in fields(DownsampleStats)} | {
        f.name for f in fields(StageStats) if f.name != "records"
    }
    assert exposed == set(COUNTER_HELP)
