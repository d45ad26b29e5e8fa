"""The collector's scrape configuration: the ``scrape_configs`` section of prometheus.yml.

A collector config file reads like Prometheus'::

    global:
      scrape_interval: 15s
      scrape_timeout: 10s
    scrape_configs:
      - job_name: node
        scrape_interval: 10s
        metrics_path: /metrics
        scheme: http
        honor_labels: false
        sample_limit: 10000
        label_limit: 64
        body_size_limit: 10MB
        static_configs:
          - targets: ["127.0.0.1:9100"]
            labels: {env: dev}
        file_sd_configs:
          - files: ["targets/*.yml", "targets/*.json"]

Target files are Prometheus ``file_sd_configs`` files: a list of ``{targets, labels}`` groups
in YAML or JSON. They are read again when they change (see :class:`TargetFiles`).

Example:
    >>> cfg = ScrapeConfig.model_validate({"scrape_configs": [{"job_name": "n"}]})
    >>> cfg.scrape_configs[0].scrape_interval_s
    60.0
"""

from __future__ import annotations

import glob
import json
import re
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from streams.durations import parse_duration
from streams.errors import ConfigError

_STRICT = ConfigDict(frozen=True, extra="forbid", populate_by_name=True)
_SIZE = re.compile(r"(\d+)\s*(B|KB|MB|GB|KiB|MiB|GiB)?")
_SIZE_UNITS = {None: 1, "B": 1, "KB": 1000, "MB": 10**6, "GB": 10**9}
_SIZE_UNITS |= {"KiB": 1024, "MiB": 1024**2, "GiB": 1024**3}


def _seconds(value: object) -> float | None:
    if value is None:
        return None
    return parse_duration(value) if isinstance(value, str) else float(str(value))


def parse_size(value: object) -> int:
    """Bytes from ``10MB``, ``512KiB`` or a plain number; 0 means no limit."""
    if isinstance(value, int):
        return value
    match = _SIZE.fullmatch(str(value).strip())
    if match is None:
        raise ValueError(f"{value!r} is not a size (examples: 0, 512KiB, 10MB)")
    return int(match.group(1)) * _SIZE_UNITS[match.group(2)]


class TargetGroup(BaseModel):
    """Targets sharing labels, as in ``static_configs`` and file SD files."""

    model_config = _STRICT

    targets: tuple[str, ...] = ()
    labels: dict[str, str] = Field(default_factory=dict)


class FileSD(BaseModel):
    """``file_sd_configs`` entry: files (globs allowed) of target groups.

    ``refresh_interval`` is accepted so prometheus.yml sections load unchanged; the files are
    checked for changes every second regardless.
    """

    model_config = _STRICT

    files: tuple[str, ...]
    refresh_interval_s: float = Field(30.0, alias="refresh_interval")

    @field_validator("refresh_interval_s", mode="before")
    @classmethod
    def _duration(cls, value: object) -> float | None:
        return _seconds(value)


class Job(BaseModel):
    """One ``scrape_configs`` entry."""

    model_config = _STRICT

    job_name: str = Field(min_length=1)
    scrape_interval_s: float | None = Field(None, alias="scrape_interval")
    scrape_timeout_s: float | None = Field(None, alias="scrape_timeout")
    metrics_path: str = "/metrics"
    scheme: Literal["http", "https"] = "http"
    honor_labels: bool = False
    sample_limit: int = Field(0, ge=0)
    label_limit: int = Field(0, ge=0)
    body_size_limit: int = Field(0, ge=0)
    static_configs: tuple[TargetGroup, ...] = ()
    file_sd_configs: tuple[FileSD, ...] = ()

    @field_validator("scrape_interval_s", "scrape_timeout_s", mode="before")
    @classmethod
    def _durations(cls, value: object) -> float | None:
        return _seconds(value)

    @field_validator("body_size_limit", mode="before")
    @classmethod
    def _size(cls, value: object) -> int:
        return parse_size(value)


class GlobalConfig(BaseModel):
    """The ``global`` section: defaults of every job."""

    model_config = _STRICT

    scrape_interval_s: float = Field(60.0, alias="scrape_interval", gt=0)
    scrape_timeout_s: float = Field(10.0, alias="scrape_timeout", gt=0)

    @field_validator("scrape_interval_s", "scrape_timeout_s", mode="before")
    @classmethod
    def _durations(cls, value: object) -> float | None:
        return _seconds(value)


class ScrapeConfig(BaseModel):
    """A whole collector config: ``global`` and ``scrape_configs``."""

    model_config = _STRICT

    global_: GlobalConfig = Field(default_factory=GlobalConfig, alias="global")
    scrape_configs: tuple[Job, ...] = ()

    @model_validator(mode="after")
    def _resolve(self) -> ScrapeConfig:
        names = [job.job_name for job in self.scrape_configs]
        duplicates = sorted({n for n in names if names.count(n) > 1})
        if duplicates:
            raise ValueError(f"job_name must be unique; repeated: {duplicates}")
        jobs = []
        for job in self.scrape_configs:
            interval = job.scrape_interval_s or self.global_.scrape_interval_s
            timeout = job.scrape_timeout_s or min(self.global_.scrape_timeout_s, interval)
            if timeout > interval:
                raise ValueError(
                    f"job {job.job_name!r}: scrape_timeout ({timeout}s) is longer than "
                    f"scrape_interval ({interval}s)"
                )
            jobs.append(
                job.model_copy(update={"scrape_interval_s": interval, "scrape_timeout_s": timeout})
            )
        object.__setattr__(self, "scrape_configs", tuple(jobs))
        return self


def load_scrape_config(path: Path) -> ScrapeConfig:
    """Read a collector config file.

    Raises:
        ConfigError: unreadable, not YAML, or invalid; names the file and the key.
    """
    data = _read(path)
    try:
        return ScrapeConfig.model_validate(data or {})
    except ValidationError as exc:
        raise ConfigError(f"{path}: {_problems(exc)}") from None


def _read(path: Path) -> Any:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"cannot read {path}: {exc.strerror}") from None
    try:
        return json.loads(text) if path.suffix == ".json" else yaml.safe_load(text)
    except (yaml.YAMLError, ValueError) as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{path}:{mark.line + 1}:{mark.column + 1}" if mark else str(path)
        raise ConfigError(f"{where}: cannot parse: {getattr(exc, 'problem', exc)}") from None


def _problems(exc: ValidationError) -> str:
    return "; ".join(
        f"{'.'.join(str(p) for p in err['loc']) or 'top level'}: {err['msg']}"
        for err in exc.errors()
    )


class TargetFiles:
    """The target groups of ``file_sd_configs`` files, re-read when a file changes.

    A file that became invalid is reported and its last good groups stay in use, as
    Prometheus does.
    """

    def __init__(self, patterns: tuple[str, ...], base: Path) -> None:
        self._patterns = [str(base / p) for p in patterns]
        self._seen: dict[str, tuple[float, tuple[TargetGroup, ...]]] = {}
        self.errors: dict[str, str] = {}

    def groups(self) -> list[TargetGroup]:
        """Every group of every matching file, reading only files that changed."""
        current: dict[str, tuple[float, tuple[TargetGroup, ...]]] = {}
        for pattern in self._patterns:
            for name in sorted(glob.glob(pattern)):
                try:
                    mtime = Path(name).stat().st_mtime
                except OSError:
                    continue
                old = self._seen.get(name)
                if old is not None and old[0] == mtime:
                    current[name] = old
                    continue
                try:
                    current[name] = (mtime, self._load(Path(name)))
                    self.errors.pop(name, None)
                except ConfigError as exc:
                    self.errors[name] = str(exc)
                    if old is not None:
                        current[name] = old
        self._seen = current
        return [group for _, groups in current.values() for group in groups]

    @staticmethod
    def _load(path: Path) -> tuple[TargetGroup, ...]:
        data = _read(path)
        if not isinstance(data, list):
            raise ConfigError(f"{path}: a target file is a list of {{targets, labels}} groups")
        try:
            return tuple(TargetGroup.model_validate(item) for item in data)
        except ValidationError as exc:
            raise ConfigError(f"{path}: {_problems(exc)}") from None
