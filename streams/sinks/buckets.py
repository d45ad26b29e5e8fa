"""InfluxDB 2 bucket provisioning: one bucket per tier, with the tier's retention.

``pulseline buckets ensure`` creates the buckets that are missing and sets the retention of
those that exist to the configured one, through influxdb-client's buckets API. Tiers whose
URL points elsewhere are provisioned on their own server.

A server without InfluxDB 2's buckets API, such as VictoriaMetrics (one database for every
bucket name, its retention set by its ``-retentionPeriod`` flag), is reported as having nothing
to do, not as an error: the organization lookup answers 400, 404 or 405 without InfluxDB's
JSON error body there.

Example:
    >>> report = ensure_buckets(settings)  # doctest: +SKIP
    >>> report  # doctest: +SKIP
    ['metrics: created, retention 7d', 'metrics_1m: exists, retention 30d', ...]
"""

from __future__ import annotations

import orjson
from influxdb_client.client.bucket_api import BucketsApi
from influxdb_client.client.influxdb_client import InfluxDBClient
from influxdb_client.domain.bucket import Bucket
from influxdb_client.domain.bucket_retention_rules import BucketRetentionRules
from influxdb_client.rest import ApiException
from urllib3.exceptions import HTTPError

from streams.durations import format_duration
from streams.errors import SinkError
from streams.settings import Settings, TierSettings
from streams.sinks.influx import refused

DAY = 86_400


def ensure_buckets(settings: Settings) -> list[str]:
    """Create or update every tier's bucket; return one line per bucket saying what happened.

    Tiers on the same server share one client and one organization lookup.

    Raises:
        SinkError: the server refused or could not be reached; names the bucket.
    """
    influx = settings.influx
    servers: dict[str, list[TierSettings]] = {}
    for tier in settings.tiers:
        servers.setdefault(settings.tier_url(tier), []).append(tier)
    report = []
    for url, tiers in servers.items():
        with InfluxDBClient(
            url=url,
            token=influx.token.get_secret_value(),
            org=influx.org,
            timeout=int(influx.timeout_s * 1000),
        ) as client:
            org_id: str | None = None
            for tier in tiers:
                try:
                    if org_id is None:
                        org_id = _org_id(client, influx.org, url, tier.bucket)
                    report.append(_ensure(client, org_id, url, tier))
                except ApiException as exc:
                    if org_id is None and without_buckets_api(exc):
                        report.append(_nothing_to_do(url, tiers, exc))
                        break
                    raise refused(exc, url, tier.bucket) from None
                except (HTTPError, OSError) as exc:
                    raise SinkError(f"{url}: {exc}", status=None, bucket=tier.bucket) from None
    return report


def without_buckets_api(exc: ApiException) -> bool:
    """Whether an error answer says the server has no InfluxDB 2 API at that path at all.

    InfluxDB 2 answers its errors with a JSON object holding a ``code`` (a missing organization
    is ``{"code": "not found", ...}``); a server that does not have the API answers 400, 404 or
    405 with something else (VictoriaMetrics: ``unsupported path requested``).
    """
    if exc.status not in (400, 404, 405):
        return False
    try:
        body = orjson.loads(exc.body or b"")
    except orjson.JSONDecodeError:
        return True
    return not (isinstance(body, dict) and "code" in body)


def _nothing_to_do(url: str, tiers: list[TierSettings], exc: ApiException) -> str:
    names = ", ".join(tier.bucket for tier in tiers)
    answer = (exc.body or exc.reason or "").strip()
    kind = (
        "VictoriaMetrics: one database for every bucket, its retention set by its "
        "-retentionPeriod flag"
        if "unsupported path requested" in answer
        else f"it answered {exc.status} to /api/v2/orgs"
    )
    return f"{url}: no InfluxDB 2 buckets API ({kind}); nothing to do for {names}"


def _org_id(client: InfluxDBClient, org: str, url: str, bucket: str) -> str:
    orgs = client.organizations_api().find_organizations(org=org)  # type: ignore[no-untyped-call]
    if not orgs:
        raise SinkError(f"{url}: no organization {org!r}", status=404, bucket=bucket)
    return str(orgs[0].id)


def _ensure(client: InfluxDBClient, org_id: str, url: str, tier: TierSettings) -> str:
    api = client.buckets_api()
    seconds = round(tier.retention_s)
    retention = f"retention {_days(seconds)}"
    rule = BucketRetentionRules(type="expire", every_seconds=seconds)  # type: ignore[no-untyped-call]
    bucket = _find(api, tier.bucket, org_id)
    if bucket is None:
        api.create_bucket(bucket_name=tier.bucket, retention_rules=rule, org=org_id)
        return f"{tier.bucket}: created on {url}, {retention}"
    current = [r.every_seconds for r in bucket.retention_rules or []]
    if current == [seconds]:
        return f"{tier.bucket}: exists on {url}, {retention}"
    shards = max(
        (r.shard_group_duration_seconds or 0 for r in bucket.retention_rules or []), default=0
    )
    note = ""
    if seconds and shards > seconds:
        # InfluxDB refuses a retention shorter than the bucket's shard groups (422): they
        # shrink with it, to what InfluxDB gives a new bucket of that retention.
        rule.shard_group_duration_seconds = shard_group_seconds(seconds)
        note = f", shard groups {_days(rule.shard_group_duration_seconds)}"
    bucket.retention_rules = [rule]
    api.update_bucket(bucket=bucket)
    return f"{tier.bucket}: {retention} set on {url} (was {_show(current)}){note}"


def shard_group_seconds(retention_s: int) -> int:
    """InfluxDB 2's shard-group duration for a bucket created with this retention.

    One week for an infinite (0) retention or one of six months and more, one day from two
    days on, else one hour.

    Example:
        >>> [shard_group_seconds(s) for s in (0, 365 * 86400, 30 * 86400, 12 * 3600)]
        [604800, 604800, 86400, 3600]
    """
    if retention_s == 0 or retention_s >= 180 * DAY:
        return 7 * DAY
    return DAY if retention_s >= 2 * DAY else 3600


def _find(api: BucketsApi, name: str, org_id: str) -> Bucket | None:
    """The bucket called ``name``, or None if there is none.

    InfluxDB 2 answers the lookup of a missing name with 404, not with an empty list.
    """
    try:
        found = api.find_buckets(name=name, org_id=org_id).buckets or []  # type: ignore[no-untyped-call]
    except ApiException as exc:
        if exc.status == 404:
            return None
        raise
    return found[0] if found else None


def _days(seconds: int) -> str:
    return f"{seconds // 86400}d" if seconds and seconds % 86400 == 0 else format_duration(seconds)


def _show(seconds: list[int]) -> str:
    return ", ".join(_days(s) if s else "forever" for s in seconds) or "no rule"
