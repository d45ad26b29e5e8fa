"""InfluxDB 2 bucket provisioning: one bucket per tier, with the tier's retention.

``pulseline buckets ensure`` creates the buckets that are missing and sets the retention of
those that exist to the configured one, through influxdb-client's buckets API. Tiers whose
URL points elsewhere are provisioned on their own server.

Example:
    >>> report = ensure_buckets(settings)  # doctest: +SKIP
    >>> report  # doctest: +SKIP
    ['metrics: created, retention 7d', 'metrics_1m: exists, retention 30d', ...]
"""

from __future__ import annotations

from influxdb_client.client.influxdb_client import InfluxDBClient
from influxdb_client.domain.bucket_retention_rules import BucketRetentionRules
from influxdb_client.rest import ApiException
from urllib3.exceptions import HTTPError

from streams.durations import format_duration
from streams.errors import SinkError
from streams.settings import Settings, TierSettings


def ensure_buckets(settings: Settings) -> list[str]:
    """Create or update every tier's bucket; return one line per bucket saying what happened.

    Raises:
        SinkError: the server refused or could not be reached; names the bucket.
    """
    report = []
    for tier in settings.tiers:
        report.append(_ensure(settings, tier))
    return report


def _ensure(settings: Settings, tier: TierSettings) -> str:
    influx = settings.influx
    url = settings.tier_url(tier)
    seconds = round(tier.retention_s)
    retention = f"retention {_days(seconds)}"
    with InfluxDBClient(
        url=url,
        token=influx.token.get_secret_value(),
        org=influx.org,
        timeout=int(influx.timeout_s * 1000),
    ) as client:
        api = client.buckets_api()
        try:
            orgs = client.organizations_api().find_organizations(org=influx.org)
            if not orgs:
                raise SinkError(
                    f"{url}: no organization {influx.org!r}", status=404, bucket=tier.bucket
                )
            org_id = orgs[0].id
            found = api.find_buckets(name=tier.bucket, org_id=org_id).buckets or []
            rule = BucketRetentionRules(type="expire", every_seconds=seconds)  # type: ignore[no-untyped-call]
            if not found:
                api.create_bucket(bucket_name=tier.bucket, retention_rules=rule, org=org_id)
                return f"{tier.bucket}: created on {url}, {retention}"
            bucket = found[0]
            current = [r.every_seconds for r in bucket.retention_rules or []]
            if current == [seconds]:
                return f"{tier.bucket}: exists on {url}, {retention}"
            bucket.retention_rules = [rule]
            api.update_bucket(bucket=bucket)
            return f"{tier.bucket}: {retention} set on {url} (was {_show(current)})"
        except ApiException as exc:
            detail = (exc.body or exc.reason or "").strip()[:300]
            raise SinkError(
                f"{url} answered {exc.status}: {detail}", status=exc.status, bucket=tier.bucket
            ) from None
        except (HTTPError, OSError) as exc:
            raise SinkError(f"{url}: {exc}", status=None, bucket=tier.bucket) from None


def _days(seconds: int) -> str:
    return f"{seconds // 86400}d" if seconds and seconds % 86400 == 0 else format_duration(seconds)


def _show(seconds: list[int]) -> str:
    return ", ".join(_days(s) if s else "forever" for s in seconds) or "no rule"
