"""Where a line-protocol write says it goes: InfluxDB's ``bucket``, ``org``, ``db`` and ``rp``.

A collector writes one bucket, the raw tier's (the first of ``tiers``); the other tiers'
buckets are written by the downsampler only. A write that names another bucket or
organization is refused with 404, as InfluxDB refuses a bucket it does not have, rather than
stored somewhere the sender does not expect. Parameters left out are fine. On ``/write`` the
1.x ``db`` and ``rp`` name a bucket as InfluxDB 2 maps them: ``db`` alone (or with ``rp``
``autogen``) is the bucket of that name, ``db`` and ``rp`` are the bucket ``db/rp``.

Example:
    >>> check_v1({"db": "metrics"}, bucket="metrics")
    >>> check_v1({"db": "telegraf"}, bucket="metrics")
    Traceback (most recent call last):
    ...
    streams.collector.views.RequestError: database "telegraf" not found: this collector writes \
to bucket "metrics" (the raw tier's), which is db=metrics
"""

from __future__ import annotations

from collections.abc import Mapping

from streams.collector.views import RequestError


def check_v2(query: Mapping[str, str], *, bucket: str, org: str) -> None:
    """Refuse (404) a ``bucket`` other than ``bucket`` or an ``org`` other than ``org``.

    Raises:
        RequestError: 404 naming the bucket or organization, and the one accepted.
    """
    named = query.get("bucket")
    if named is not None and named != bucket:
        raise RequestError(
            404,
            "not found",
            f'bucket "{named}" not found: this collector writes to bucket "{bucket}" (the raw '
            "tier's); the other tiers' buckets are written by the downsampler",
        )
    named_org = query.get("org")
    if named_org is not None and named_org != org:
        raise RequestError(
            404,
            "not found",
            f'organization name "{named_org}" not found: this collector\'s organization is '
            f'"{org}" (influx.org)',
        )


def check_v1(query: Mapping[str, str], *, bucket: str) -> None:
    """Refuse (404) a ``db`` (and ``rp``) that does not map to ``bucket``.

    Raises:
        RequestError: 404 naming the database, and the one accepted.
    """
    db = query.get("db")
    if db is None:
        return
    rp = query.get("rp", "")
    if (db == bucket and rp in ("", "autogen")) or f"{db}/{rp}" == bucket:
        return
    shown = f'database "{db}"' + (f' with retention policy "{rp}"' if rp else "")
    raise RequestError(
        404,
        "not found",
        f'{shown} not found: this collector writes to bucket "{bucket}" (the raw tier\'s), '
        f"which is db={bucket}",
    )
