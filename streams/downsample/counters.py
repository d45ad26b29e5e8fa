"""What each downsampling counter means, for the HELP line of ``pulseline_downsample_*``.

The counters are the fields of :class:`~streams.downsample.state.DownsampleStats` (the window
engine's, summed over partitions) and of :class:`~streams.downsample.processor.StageStats` (the
stage's); the metric is ``pulseline_downsample_<field>_total``.

Example:
    >>> counter_help("late").startswith("Samples that arrived after their window was final")
    True
"""

from __future__ import annotations

COUNTER_HELP = {
    "samples": "Field values offered to the downsampler, replayed records excluded. Each ends in "
    "one window or in one of duplicates, late, future, non_numeric, non_finite.",
    "duplicates": "Samples whose series and timestamp a window had already counted (a replay, "
    "or a client sending twice); the first is kept.",
    "late": "Samples that arrived after their window was final (past downsample.correction_s): "
    "left out of the 1m and 1h tiers and sent to the late topic; the raw tier has them.",
    "future": "Samples more than downsample.max_future_s ahead of the worker's clock: left out "
    "of the tiers and sent to the late topic.",
    "non_numeric": "String field values: no min, max or sum, so stored in the raw tier only.",
    "non_finite": "NaN or infinite values, left out of the aggregates when their window closes.",
    "replayed_records": "Records skipped whole because their offset was already counted "
    "(consumed again after a restart or a rebalance).",
    "rows": "Aggregate rows written to the tiers, corrections included.",
    "corrections": "Rows written again because a closed window took late samples within "
    "downsample.correction_s.",
    "evicted": "Series forgotten after downsample.idle_s without samples or open windows.",
    "undecodable": "Records that are not pulseline batches: skipped here, dead-lettered by the "
    "raw sink.",
    "rows_refused": "Aggregate rows the database refused as bad data (400, 413, 422), sent to "
    "the dead-letter topic.",
    "late_sent": "Late and future samples produced to the late topic (topics.late).",
    "snapshots": "Window-state snapshots saved to the table; a record is acknowledged once a "
    "snapshot covers it.",
    "snapshot_bytes": "Bytes of the window-state snapshots saved.",
    "restores": "Window states restored from a snapshot when a partition came to this worker.",
    "failed_records": "Records acknowledged without aggregates after an unexpected error (their "
    "raw samples are stored; the log has the error).",
}
"""HELP text by counter name."""


def counter_help(name: str) -> str:
    """The HELP text of the counter ``name``; a plain one for a counter not described yet."""
    return COUNTER_HELP.get(name, f"Downsampler: {name.replace('_', ' ')}.")
