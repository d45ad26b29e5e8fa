"""Snapshots of a partition's downsampling state, for a Faust table or any store.

What to persist, and when, so that a worker killed at any moment (SIGKILL) loses no window
and counts no sample twice:

1. Feed each record with its offset: ``engine.add_points(p, points, offset=record.offset)``.
   A snapshot records the highest offset added; after a restore, a replayed record at or
   below it is recognised and skipped whole.
2. Write the rows (and late samples) the engine returned, and await the sink's
   acknowledgement, **before** persisting a snapshot taken after them. A snapshot says those
   windows are closed: if it were stored first and the worker died before the write, the
   rows would never be emitted again.
3. Persist ``engine.snapshot(p)`` at window transitions (when
   ``engine.needs_snapshot(p)``, about once per finest window per partition), not per
   sample.
4. Commit the source offset only up to ``engine.offset(p)`` of the newest *persisted*
   snapshot (with Faust: ack a record only once a snapshot covers it, or seek the partition to
   ``offset + 1`` after a restore). Then every record after the snapshot is consumed again,
   rebuilding the open windows exactly, and rows re-emitted for windows that closed after
   the snapshot overwrite themselves (same series and timestamp).

On assignment, ``engine.restore(p, data)`` before the first ``add_points``; on revocation,
``engine.drop(p)``. A snapshot is about 8 bytes per buffered number plus the series names;
split it into pieces below the broker's message limit (1 MB by default) when storing it in a
changelog-backed table.

Format: ``PLDS1\\n``, an 8-byte little-endian length, a JSON header (boundaries, counters,
series names and their array lengths, byte order) and then every series' doubles.
"""

from __future__ import annotations

import struct
import sys
from array import array
from dataclasses import asdict
from typing import Any

import orjson

from streams.downsample.config import WindowPlan
from streams.downsample.rows import Late, SeriesKey
from streams.downsample.state import DownsampleStats, PartitionState
from streams.errors import SnapshotError
from streams.records import Point

MAGIC = b"PLDS1\n"
_LEN = struct.Struct("<Q")


def encode(p: PartitionState, plan: WindowPlan) -> bytes:
    """The state of one partition as bytes."""
    keys: list[list[str]] = []
    lens: list[int] = []
    chunks: list[bytes] = []
    for (pk, f), a in p.series.items():
        keys.append([*pk, f])
        lens.append(len(a))
        chunks.append(a.tobytes())
    head = orjson.dumps(
        {
            "windows_ms": plan.windows_ms,
            "little": sys.byteorder == "little",
            "max_ts": p.max_ts,
            "sources": p.sources.to_json(),
            "wm": p.wm,
            "closed_to": p.closed_to,
            "final_to": p.final_to,
            "offset": p.offset,
            "stats": asdict(p.stats),
            "late": [[*late.point, late.reason] for late in p.late],
            "keys": keys,
            "lens": lens,
        }
    )
    return b"".join((MAGIC, _LEN.pack(len(head)), head, *chunks))


def decode(data: bytes, p: PartitionState, plan: WindowPlan) -> None:
    """Load a snapshot into an empty partition state.

    Raises:
        SnapshotError: not a snapshot, damaged, or taken with other tiers.
    """
    if not data.startswith(MAGIC) or len(data) < len(MAGIC) + _LEN.size:
        raise SnapshotError("not a downsampler snapshot (bad magic)")
    start = len(MAGIC) + _LEN.size
    (size,) = _LEN.unpack_from(data, len(MAGIC))
    try:
        head: dict[str, Any] = orjson.loads(data[start : start + size])
        if tuple(head["windows_ms"]) != plan.windows_ms:
            raise SnapshotError(
                f"snapshot windows {head['windows_ms']} ms differ from the configured "
                f"{list(plan.windows_ms)} ms; state of other tiers cannot be resumed"
            )
        values = array("d")
        values.frombytes(data[start + size :])
        if head["little"] != (sys.byteorder == "little"):
            values.byteswap()
        if len(values) != sum(head["lens"]):
            raise SnapshotError("snapshot is truncated: fewer values than its series need")
        p.max_ts, p.wm = head["max_ts"], head["wm"]
        p.sources.load(head.get("sources", []))  # older snapshots have none
        p.closed_to, p.final_to = head["closed_to"], head["final_to"]
        p.offset = head["offset"]
        p.stats = DownsampleStats(**head["stats"])
        p.late = [Late(Point(m, t, f, ts), reason) for m, t, f, ts, reason in head["late"]]
        _load_series(p.series, head["keys"], head["lens"], values)
    except (KeyError, TypeError, ValueError) as exc:
        raise SnapshotError(f"damaged snapshot: {exc!r:.200}") from None


def _load_series(
    series: dict[SeriesKey, array[float]], keys: list[list[str]], lens: list[int], values: Any
) -> None:
    intern = sys.intern
    pks: dict[tuple[str, ...], tuple[str, ...]] = {}
    pos = 0
    for key, n in zip(keys, lens, strict=True):
        pk = tuple(map(intern, key[:-1]))
        pk = pks.setdefault(pk, pk)
        series[(pk, intern(key[-1]))] = values[pos : pos + n]
        pos += n
