"""The one settings object of pulseline.

Settings come from, highest priority first: environment variables with the prefix
``PULSELINE_`` (nested keys joined by ``__``, for example ``PULSELINE_INFLUX__TOKEN``),
then an optional YAML file, then the embedded defaults, which run the whole pipeline on
one machine (broker on 127.0.0.1:9092, TSDB on 127.0.0.1:8428).

Every key is documented in the README's configuration table and by the field
descriptions below; ``pulseline config show`` prints the effective values, secrets masked.

Example:
    >>> s = Settings.load(None)
    >>> s.kafka.partitions
    8
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

from streams.durations import parse_duration
from streams.errors import ConfigError
from streams.names import Store

_FROZEN = ConfigDict(frozen=True, extra="forbid")


_SECONDS = re.compile(r"\d+(?:\.\d*)?")


def _duration(value: object) -> float:
    """Seconds from a number, a number in a string (as the environment gives) or ``5m``."""
    if isinstance(value, int | float):
        return float(value)
    text = str(value).strip()
    if _SECONDS.fullmatch(text):
        return float(text)
    return parse_duration(text)


def _host_port(value: str) -> str:
    host, sep, port = value.rpartition(":")
    if not sep or not host or not port.isdigit() or not 0 <= int(port) <= 65535:
        raise ValueError(f"{value!r} is not HOST:PORT (example: 127.0.0.1:9091)")
    return value


class KafkaSettings(BaseModel):
    """Where the Kafka-protocol broker is and how topics are laid out."""

    model_config = _FROZEN

    broker: str = Field(
        "kafka://127.0.0.1:9092",
        description="Bootstrap servers as kafka://host:port[;host:port...].",
    )
    partitions: int = Field(
        8, ge=1, description="Partitions of every pipeline topic: the ceiling on workers."
    )
    replication_factor: int = Field(1, ge=1, description="Replication of created topics.")
    compression: Literal["none", "gzip"] = Field(
        "none", description="Compression of produced records."
    )
    enable_idempotence: bool = Field(
        True,
        description="Idempotent producers: a send retried after a lost acknowledgement is "
        "written once (Apache Kafka; Tansu has none, set false there).",
    )
    min_insync_replicas: int | None = Field(
        None,
        ge=1,
        description="min.insync.replicas of the topics pulseline creates: replicas that hold a "
        "record before it is acknowledged; default replication_factor - 1, at least 1.",
    )
    session_timeout_s: float = Field(
        6.0,
        gt=0,
        description="Consumer-group session timeout: a worker that died without a word "
        "(SIGKILL, a lost host) keeps its partitions this long before the others take them "
        "over. Brokers refuse less than their group.min.session.timeout.ms (6 s by default).",
    )
    heartbeat_interval_s: float = Field(
        1.0,
        gt=0,
        description="How often a worker tells the group coordinator it is alive, and learns "
        "that the group rebalances; below a third of session_timeout_s.",
    )
    request_timeout_s: float = Field(30.0, gt=0, description="Produce and admin timeout.")
    loss_check_s: float = Field(
        2.0,
        gt=0,
        description="How often a worker checks whether the broker came back empty (its topics "
        "gone, or partitions ending below the committed offsets); on a loss confirmed by the "
        "next check it recreates the topics and starts over from their beginning.",
    )
    max_record_bytes: int = Field(
        1_000_000,
        ge=1024,
        description="Largest record value the collectors produce: keep it below the broker's "
        "message.max.bytes (Kafka's default is 1048588). A point larger than this is refused "
        "(413).",
    )

    @field_validator(
        "session_timeout_s",
        "heartbeat_interval_s",
        "request_timeout_s",
        "loss_check_s",
        mode="before",
    )
    @classmethod
    def _parse(cls, value: object) -> float:
        return _duration(value)

    @model_validator(mode="after")
    def _check_heartbeat(self) -> KafkaSettings:
        if self.heartbeat_interval_s * 3 > self.session_timeout_s:
            raise ValueError(
                f"heartbeat_interval_s {self.heartbeat_interval_s} must be at most a third of "
                f"session_timeout_s {self.session_timeout_s}: one late heartbeat would end the "
                "session"
            )
        return self

    @field_validator("broker")
    @classmethod
    def _check_broker(cls, value: str) -> str:
        hosts = value.removeprefix("kafka://")
        for host in hosts.replace(",", ";").split(";"):
            _host_port(host)
        return value

    @property
    def bootstrap_servers(self) -> list[str]:
        """The broker URL as aiokafka's list of ``host:port``."""
        return self.broker.removeprefix("kafka://").replace(",", ";").split(";")

    @model_validator(mode="after")
    def _check_insync(self) -> KafkaSettings:
        if self.min_insync_replicas is not None and (
            self.min_insync_replicas > self.replication_factor
        ):
            raise ValueError(
                f"min_insync_replicas {self.min_insync_replicas} exceeds replication_factor "
                f"{self.replication_factor}: no write could ever be acknowledged"
            )
        return self

    @property
    def topic_configs(self) -> dict[str, str]:
        """The configuration of every topic pulseline creates (its own and table changelogs).

        With three replicas, two must hold a record before Kafka acknowledges it: a write
        survives the loss of one broker, and one broker may be down for maintenance.

        >>> KafkaSettings(replication_factor=3).topic_configs
        {'min.insync.replicas': '2'}
        >>> KafkaSettings().topic_configs
        {'min.insync.replicas': '1'}
        """
        insync = self.min_insync_replicas or max(1, self.replication_factor - 1)
        return {"min.insync.replicas": str(insync)}


class TopicSettings(BaseModel):
    """Names of the topics the pipeline uses."""

    model_config = _FROZEN

    raw: str = Field("metrics.raw", description="Batches of points from the collectors.")
    members: str = Field("collectors.members", description="Collector heartbeats (one partition).")
    late: str = Field(
        "metrics.late", description="Samples the downsampler refused as too late or in the future."
    )
    rule_samples: str = Field(
        "rules.samples", description="Samples forwarded to rule evaluation, keyed by rule group."
    )
    alerts: str = Field("alerts.events", description="Alert state changes, keyed by fingerprint.")
    alert_groups: str = Field(
        "alerts.groups",
        description="Alerts on their way to the alert manager, keyed by aggregation group.",
    )
    silences: str = Field(
        "alerts.silences", description="Silences, keyed by id (compacted, read by every worker)."
    )
    notifications: str = Field(
        "alerts.notifications",
        description="The notifications the alert manager sent, keyed by aggregation group.",
    )
    dlq_suffix: str = Field(".dlq", description="Suffix of a topic's dead-letter topic.")

    def dlq(self, topic: str) -> str:
        """The dead-letter topic of ``topic``."""
        return f"{topic}{self.dlq_suffix}"

    def compacted(self) -> frozenset[str]:
        """The topics that keep only the newest record of each key."""
        return frozenset({self.silences})

    def pipeline(self, partitions: int) -> dict[str, int]:
        """Every topic the pipeline uses and its partition count, for ``topics create``."""
        return {
            self.raw: partitions,
            self.dlq(self.raw): partitions,
            self.late: partitions,
            self.rule_samples: partitions,
            self.alerts: partitions,
            self.alert_groups: partitions,
            self.silences: 1,
            self.notifications: partitions,
            self.members: 1,
        }


class InfluxSettings(BaseModel):
    """The InfluxDB 2 write API (or one that speaks it, such as VictoriaMetrics)."""

    model_config = _FROZEN

    url: str = Field("http://127.0.0.1:8428", description="Base URL of the write API.")
    store: Store = Field(
        "victoriametrics",
        description="What serves the write API: victoriametrics (run with "
        "-influxSkipMeasurement; each field is written as its series, so a Prometheus sample "
        "up is stored as up) or influxdb (InfluxDB 2: measurement, tags and fields as they "
        "are). The names: streams/names.py.",
    )
    org: str = Field("pulseline", description="Organization of the buckets.")
    token: SecretStr = Field(SecretStr(""), description="API token (secret).")
    read_token: SecretStr = Field(
        SecretStr(""),
        description="API token the worker's /graph page reads InfluxDB 2 buckets with "
        "(secret); empty: token. docker-compose gives the worker a write-only token, and this "
        "one read-only.",
    )
    timeout_s: float = Field(10.0, gt=0, description="Timeout of one write request.")
    gzip: bool = Field(True, description="Compress write bodies.")
    batch_lines: int = Field(5000, ge=1, description="Lines per write request at most.")
    retry_min_s: float = Field(0.2, gt=0, description="First backoff after a failed write.")
    retry_max_s: float = Field(10.0, gt=0, description="Longest backoff between retries.")

    @field_validator("timeout_s", "retry_min_s", "retry_max_s", mode="before")
    @classmethod
    def _parse(cls, value: object) -> float:
        return _duration(value)


class TierSettings(BaseModel):
    """One storage tier: raw samples (no window) or aggregates over a window."""

    model_config = _FROZEN

    name: str = Field(description="Short name, used in logs and metrics (raw, 1m, 1h).")
    window_s: float | None = Field(None, description="Aggregation window; none for raw.")
    retention_s: float = Field(description="How long the bucket keeps data.")
    bucket: str = Field(description="InfluxDB bucket of the tier.")
    url: str | None = Field(None, description="Write URL of this tier; default influx.url.")

    @field_validator("window_s", "retention_s", mode="before")
    @classmethod
    def _parse_durations(cls, value: object) -> float | None:
        return None if value is None else _duration(value)


DEFAULT_TIERS = (
    TierSettings(name="raw", retention_s=7 * 86400, bucket="metrics"),
    TierSettings(name="1m", window_s=60, retention_s=30 * 86400, bucket="metrics_1m"),
    TierSettings(name="1h", window_s=3600, retention_s=365 * 86400, bucket="metrics_1h"),
)


class DownsampleSettings(BaseModel):
    """How windows close, how long they accept corrections and when series are forgotten.

    Durations accept seconds or Prometheus notation (``30s``, ``5m``).

    Example:
        >>> DownsampleSettings(lateness_s="1m").lateness_s
        60.0
    """

    model_config = _FROZEN

    lateness_s: float = Field(
        30.0, ge=0, description="Allowed lateness: the watermark trails the newest event time."
    )
    correction_s: float = Field(
        300.0,
        ge=0,
        description="Correction horizon: a closed window accepts late samples (and its row is "
        "written again) until the watermark passes its end plus this.",
    )
    idle_s: float = Field(
        3600.0,
        gt=0,
        description="A series with no open window and no sample for this long is forgotten.",
    )
    max_future_s: float = Field(
        600.0, gt=0, description="Samples this far ahead of the worker's clock are refused."
    )
    enabled: bool = Field(True, description="Whether workers run the downsampling agent.")
    tick_s: float = Field(
        1.0, gt=0, description="How often a quiet partition's event time moves on with the clock."
    )
    snapshot_max_s: float = Field(
        60.0,
        gt=0,
        description="Longest time a record waits for a state snapshot before it is acknowledged "
        "(snapshots are otherwise taken when windows close).",
    )
    snapshot_chunk_bytes: int = Field(
        500_000,
        ge=1024,
        description="Largest piece of a state snapshot in the table's changelog (below the "
        "broker's message size limit).",
    )

    @field_validator(
        "lateness_s",
        "correction_s",
        "idle_s",
        "max_future_s",
        "tick_s",
        "snapshot_max_s",
        mode="before",
    )
    @classmethod
    def _parse(cls, value: object) -> float:
        return _duration(value)


class CollectorSettings(BaseModel):
    """The collector's HTTP push endpoint and how it batches into Kafka."""

    model_config = _FROZEN

    listen: str = Field("127.0.0.1:9091", description="HOST:PORT of the HTTP server.")
    max_body_bytes: int = Field(
        64 * 1024 * 1024, ge=1024, description="Largest accepted body, after gunzip (413)."
    )
    points_per_record: int = Field(2000, ge=1, description="Points in one Kafka record at most.")
    source_tags: tuple[str, ...] = Field(
        ("host", "instance"),
        description="Tags whose first present value keys a point's record (else measurement).",
    )
    tokens: dict[str, SecretStr] = Field(
        default_factory=dict,
        description="Bearer tokens by client name; when set, every write needs one (401).",
    )
    max_labels_per_series: int = Field(
        31,
        ge=0,
        description="Most labels of a series, the name included (a line's tags plus one), on "
        "every write endpoint (400) and in scrapes; 0: no limit. VictoriaMetrics keeps 30 "
        "besides the name and drops the rest.",
    )
    max_label_name_length: int = Field(
        256,
        ge=0,
        description="Longest tag key or field key, in UTF-8 bytes (400); 0: no limit. "
        "VictoriaMetrics truncates longer label names.",
    )
    max_label_value_length: int = Field(
        16384,
        ge=0,
        description="Longest tag value or measurement, in UTF-8 bytes (400); 0: no limit. "
        "VictoriaMetrics truncates longer label values.",
    )
    max_series_per_request: int = Field(
        100_000, ge=0, description="Remote write: most series in one request (400)."
    )
    scrape_config: Path | None = Field(
        None, description="Scrape config file (prometheus.yml-like); none: push only."
    )
    keep_created: bool = Field(
        False,
        description="Store the *_created series prometheus_client exposes next to counters, "
        "histograms and summaries (their creation times); by default they are dropped.",
    )
    member_id: str | None = Field(
        None, description="This collector's id in the cluster; default HOSTNAME:PORT."
    )
    heartbeat_s: float = Field(2.0, gt=0, description="Seconds between membership heartbeats.")
    member_timeout_s: float = Field(
        6.0, gt=0, description="A collector silent this long is gone; its targets move."
    )
    replication_factor: int = Field(
        1, ge=1, description="Collectors that scrape each target (1: exactly one)."
    )

    @field_validator("listen")
    @classmethod
    def _check_listen(cls, value: str) -> str:
        return _host_port(value)

    @field_validator("heartbeat_s", "member_timeout_s", mode="before")
    @classmethod
    def _parse(cls, value: object) -> float:
        return _duration(value)


class RuleSettings(BaseModel):
    """Alert and recording rules evaluated in the stream.

    Example:
        >>> RuleSettings(files=["rules/pulseline.yml"]).tick_s
        1.0
    """

    model_config = _FROZEN

    files: tuple[Path, ...] = Field(
        (), description="Prometheus rule files; relative to the settings file. None: no rules."
    )
    interval_s: float = Field(
        60.0,
        gt=0,
        description="How often a group without its own `interval` is evaluated whole at the "
        "wall clock (absence, series that went away), besides evaluations on sample arrival; "
        "Prometheus' default `evaluation_interval`.",
    )
    tick_s: float = Field(
        1.0,
        gt=0,
        description="How often the timer looks for alerts whose `for` or `keep_firing_for` ran "
        "out (they are evaluated then) and for groups due for their interval.",
    )
    reload_s: float = Field(
        5.0, gt=0, description="How often rule files are checked for changes (also on SIGHUP)."
    )
    take_within_s: float = Field(
        0.01, gt=0, description="Longest wait to fill a take in the rule agents (alert latency)."
    )
    external_url: str = Field(
        "",
        description="The URL people reach the workers' pages at: `$externalURL` in alert "
        "templates and the base of each alert's `generatorURL` (a link to its expression on "
        "/graph); default http://web_host:web_port of the worker.",
    )

    @field_validator("interval_s", "tick_s", "reload_s", "take_within_s", mode="before")
    @classmethod
    def _parse(cls, value: object) -> float:
        return _duration(value)


class AlertmanagerSettings(BaseModel):
    """The alert manager in the workers: Alertmanager's configuration file and its timers.

    Example:
        >>> AlertmanagerSettings().config is None
        True
    """

    model_config = _FROZEN

    config: Path | None = Field(
        None,
        description="An alertmanager.yml (Alertmanager 0.25's format); relative to the settings "
        "file. None: alerts are kept and served on /api/v2, nobody is notified.",
    )
    external_url: str = Field(
        "",
        description="The URL people reach the alert manager at (`externalURL` in "
        "notifications); default http://web_host:web_port of the worker.",
    )
    tick_s: float = Field(
        0.05, gt=0, description="How often the dispatcher looks for aggregation groups due."
    )
    reload_s: float = Field(
        5.0, gt=0, description="How often the config file is checked for changes (also SIGHUP)."
    )
    catch_up_s: float = Field(
        5.0,
        gt=0,
        description="Longest a due notification waits for the owner of its group to read the "
        "alerts received before it (alerts.groups records still unread).",
    )
    retry_min_s: float = Field(0.5, gt=0, description="First backoff after a failed send.")
    retry_max_s: float = Field(30.0, gt=0, description="Longest backoff between sends.")
    key_in_body: bool = Field(
        True,
        description="Webhook bodies end with an `idempotencyKey` field (the key is always in "
        "the Idempotency-Key header); false: bodies byte for byte Alertmanager's.",
    )
    retention_s: float = Field(
        432000.0,
        gt=0,
        description="How long notification log entries and expired silences are kept "
        "(Alertmanager's --data.retention, 120h).",
    )

    @field_validator(
        "tick_s",
        "reload_s",
        "catch_up_s",
        "retry_min_s",
        "retry_max_s",
        "retention_s",
        mode="before",
    )
    @classmethod
    def _parse(cls, value: object) -> float:
        return _duration(value)


Role = Literal["store", "alert"]
ROLES: tuple[Role, ...] = ("store", "alert")


class WorkerSettings(BaseModel):
    """The Faust worker."""

    model_config = _FROZEN

    app_id: str = Field(
        "pulseline",
        description="Faust app id: the consumer group of workers with both roles; a worker "
        "with one role joins APP_ID-ROLE (see roles).",
    )
    roles: tuple[Role, ...] = Field(
        ROLES,
        description="What this worker does: 'store' writes metrics.raw to the database and "
        "downsamples, 'alert' evaluates the rules and runs the alert manager. Both by "
        "default. Workers of one role form a consumer group of their own (app_id-store, "
        "app_id-alert) that reads metrics.raw on its own: run store and alert workers side "
        "by side (never beside workers with both roles, which would alert twice) so that a "
        "slow or hung database never holds up an alert, and scale each on its own.",
    )
    web_host: str = Field("127.0.0.1", description="Bind address of the worker's web server.")
    web_port: int = Field(6066, ge=0, le=65535, description="Port of the worker's web server.")
    data_dir: Path = Field(Path(".pulseline"), description="Directory for worker state.")
    static_membership: bool = Field(
        False,
        description="Join the group as a static member (Kafka's group.instance.id): a worker "
        "restarted under the same instance_id rejoins without waiting for its old session to "
        "expire. A stopped static member does not leave the group, so its partitions wait "
        "kafka.session_timeout_s before moving. Off by default: with the 6 s session a "
        "killed and restarted worker resumed as fast without it.",
    )
    instance_id: str | None = Field(
        None,
        description="This worker's static member id, unique in the group and the same across "
        "its restarts; default HOSTNAME:web_port.",
    )
    take_records: int = Field(
        100, ge=1, description="Records the raw sink takes from the stream at once."
    )
    take_within_s: float = Field(0.2, gt=0, description="Longest wait to fill a take.")
    log_level: Literal["debug", "info", "warning", "error"] = "info"

    @field_validator("take_within_s", mode="before")
    @classmethod
    def _parse(cls, value: object) -> float:
        return _duration(value)

    @field_validator("roles")
    @classmethod
    def _check_roles(cls, roles: tuple[Role, ...]) -> tuple[Role, ...]:
        if not roles:
            raise ValueError(f"a worker needs at least one role of {list(ROLES)}")
        return tuple(r for r in ROLES if r in roles)  # each once, in one order

    @property
    def group_id(self) -> str:
        """The consumer group of this worker: ``app_id`` with both roles, else
        ``app_id-ROLE``.

        >>> WorkerSettings().group_id, WorkerSettings(roles=["alert"]).group_id
        ('pulseline', 'pulseline-alert')
        """
        if self.roles == ROLES:
            return self.app_id
        return f"{self.app_id}-{self.roles[0]}"

    def group_instance_id(self, hostname: str) -> str | None:
        """The ``group.instance.id`` this worker joins with on ``hostname``; None: dynamic.

        >>> WorkerSettings(static_membership=True, web_port=6067).group_instance_id("host-1")
        'host-1:6067'
        >>> WorkerSettings(static_membership=True, instance_id="w0").group_instance_id("host-1")
        'w0'
        >>> WorkerSettings().group_instance_id("host-1") is None
        True
        """
        if not self.static_membership:
            return None
        return self.instance_id or f"{hostname}:{self.web_port}"


class Settings(BaseSettings):
    """Everything pulseline reads; frozen, loaded once, passed in explicitly.

    Example:
        >>> Settings.load(None).topics.raw
        'metrics.raw'
    """

    model_config = SettingsConfigDict(
        env_prefix="PULSELINE_", env_nested_delimiter="__", frozen=True, extra="forbid"
    )

    kafka: KafkaSettings = KafkaSettings()
    topics: TopicSettings = TopicSettings()
    influx: InfluxSettings = InfluxSettings()
    tiers: tuple[TierSettings, ...] = DEFAULT_TIERS
    collector: CollectorSettings = CollectorSettings()
    worker: WorkerSettings = WorkerSettings()
    downsample: DownsampleSettings = DownsampleSettings()
    rules: RuleSettings = RuleSettings()
    alertmanager: AlertmanagerSettings = AlertmanagerSettings()

    @field_validator("tiers")
    @classmethod
    def _check_tiers(cls, tiers: tuple[TierSettings, ...]) -> tuple[TierSettings, ...]:
        if not tiers or tiers[0].window_s is not None:
            raise ValueError("the first tier must be the raw tier (no window_s)")
        names = [t.name for t in tiers]
        if len(set(names)) != len(names):
            raise ValueError(f"tier names must be unique, got {names}")
        return tiers

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        # The environment wins over values passed in, which come from the YAML file.
        return env_settings, init_settings

    @classmethod
    def load(cls, path: Path | None) -> Settings:
        """Load settings from an optional YAML file and the environment.

        Args:
            path: a YAML file with any subset of the keys; None for none.

        Raises:
            ConfigError: the file cannot be read or a value is invalid; says which and where.
        """
        data: dict[str, Any] = {}
        if path is not None:
            data = _read_yaml(path)
        where = f" in {path}" if path is not None else ""
        try:
            return cls(**data)
        except ValidationError as exc:
            problems = "; ".join(
                f"{'.'.join(str(p) for p in err['loc'])}: {err['msg']}" for err in exc.errors()
            )
            raise ConfigError(f"invalid settings{where}: {problems}") from None

    def tier(self, name: str) -> TierSettings:
        """The tier called ``name``."""
        for tier in self.tiers:
            if tier.name == name:
                return tier
        raise ConfigError(f"no tier named {name!r}; configured: {[t.name for t in self.tiers]}")

    def tier_url(self, tier: TierSettings) -> str:
        """The write URL of ``tier``: its own, else ``influx.url``."""
        return tier.url or self.influx.url

    def masked(self) -> dict[str, Any]:
        """The settings as plain data with every secret masked, for display."""
        return self.model_dump(mode="json")


def _read_yaml(path: Path) -> dict[str, Any]:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"cannot read settings file {path}: {exc.strerror}") from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{path}:{mark.line + 1}:{mark.column + 1}" if mark else str(path)
        raise ConfigError(f"{where}: not valid YAML: {getattr(exc, 'problem', exc)}") from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: the top level must be a mapping of settings")
    collector = data.get("collector")
    if isinstance(collector, dict) and isinstance(collector.get("scrape_config"), str):
        # A file named in a settings file is relative to that file, not to the caller's cwd.
        collector["scrape_config"] = str(path.parent / collector["scrape_config"])
    rules = data.get("rules")
    if isinstance(rules, dict) and isinstance(rules.get("files"), list):
        rules["files"] = [str(path.parent / f) if isinstance(f, str) else f for f in rules["files"]]
    alertmanager = data.get("alertmanager")
    if isinstance(alertmanager, dict) and isinstance(alertmanager.get("config"), str):
        alertmanager["config"] = str(path.parent / alertmanager["config"])
    return data
