"""Apache Kafka's jars, resolved with Maven from Maven Central into a cache outside the repo.

A broker needs no download of a release archive: ``org.apache.kafka:kafka_2.13`` and its
runtime dependencies (the server, controller, raft, metadata, storage and client modules,
Scala, Jackson, the Yammer metrics...) are ordinary Maven artifacts. Kafka's own release
archive adds one thing they leave out, a logging backend for SLF4J: reload4j here, as in that
archive. Maven copies every jar into ``<cache>/kafka-<version>/lib``; ``java -cp 'lib/*'``
runs the broker from there.

The first resolution downloads 57 jars (and Maven's dependency plugin); a later call
finds the finished directory and returns at once. An interrupted resolution leaves no
half-filled ``lib``: jars are copied elsewhere and the directory is renamed when complete.

Example:
    >>> lib = install_kafka(default_cache_dir())  # doctest: +SKIP
    >>> sorted(p.name for p in lib.glob("kafka_2.13-*.jar"))  # doctest: +SKIP
    ['kafka_2.13-3.9.1.jar']
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from xml.sax.saxutils import escape

from streams.errors import PulselineError

KAFKA_VERSION = "3.9.1"
"""The Apache Kafka release the project runs (KRaft, combined broker and controller)."""
SCALA_VERSION = "2.13"
LOGGING_JARS = (
    ("org.slf4j", "slf4j-reload4j", "1.7.36"),
    ("ch.qos.reload4j", "reload4j", "1.2.25"),
)
"""The SLF4J backend of Kafka's release archive, which its Maven artifacts leave to the user."""
DEPENDENCY_PLUGIN = "org.apache.maven.plugins:maven-dependency-plugin:3.8.1"
COMPLETE = ".complete"
"""Written last into a finished ``lib`` directory; its text is the resolved version."""


class InstallError(PulselineError):
    """Kafka's jars could not be resolved (no Maven, no network, an unknown version)."""


def default_cache_dir() -> Path:
    """Where downloaded engines live: ``$XDG_CACHE_HOME/pulseline`` or ``~/.cache/pulseline``."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "pulseline"


def kafka_lib(cache_dir: Path, version: str = KAFKA_VERSION) -> Path:
    """The ``lib`` directory of a Kafka release in the cache (it may not exist yet)."""
    return cache_dir / f"kafka-{version}" / "lib"


def installed(cache_dir: Path, version: str = KAFKA_VERSION) -> bool:
    """Whether the jars of ``version`` were resolved completely into the cache."""
    marker = kafka_lib(cache_dir, version) / COMPLETE
    return marker.is_file() and marker.read_text().strip() == version


def pom(version: str = KAFKA_VERSION) -> str:
    """A Maven project whose runtime dependencies are exactly what a broker needs.

    >>> text = pom("3.9.1")
    >>> "<artifactId>kafka_2.13</artifactId>" in text and "<version>3.9.1</version>" in text
    True
    """
    coordinates = [("org.apache.kafka", f"kafka_{SCALA_VERSION}", version), *LOGGING_JARS]
    deps = "".join(
        f"    <dependency><groupId>{escape(g)}</groupId><artifactId>{escape(a)}</artifactId>"
        f"<version>{escape(v)}</version></dependency>\n"
        for g, a, v in coordinates
    )
    return (
        '<project xmlns="http://maven.apache.org/POM/4.0.0">\n'
        "  <modelVersion>4.0.0</modelVersion>\n"
        "  <groupId>pulseline.local</groupId>\n"
        f"  <artifactId>kafka-runtime-{escape(version)}</artifactId>\n"
        "  <version>1</version>\n"
        "  <packaging>pom</packaging>\n"
        f"  <dependencies>\n{deps}  </dependencies>\n"
        "</project>\n"
    )


def install_kafka(
    cache_dir: Path,
    version: str = KAFKA_VERSION,
    *,
    say: Callable[[str], None] = lambda _: None,
    mvn: str | None = None,
) -> Path:
    """Resolve Kafka's jars into the cache unless already there; returns the ``lib`` directory.

    Args:
        cache_dir: the cache root (see :func:`default_cache_dir`); Maven's local repository
            is kept beside the releases, in ``<cache_dir>/m2``.
        version: the Kafka release.
        say: receives one line of progress when a resolution starts and when it ends.
        mvn: the Maven command (default: ``mvn`` on PATH).

    Raises:
        InstallError: Maven is missing or failed; its output's last lines are in the message.
    """
    lib = kafka_lib(cache_dir, version)
    if installed(cache_dir, version):
        return lib
    command = mvn or shutil.which("mvn")
    if command is None:
        raise InstallError(
            "Apache Kafka's jars are resolved with Maven, which is not installed: "
            "apt-get install -y maven default-jre-headless (make test installs them as root)"
        )
    release = lib.parent
    release.mkdir(parents=True, exist_ok=True)
    (release / "pom.xml").write_text(pom(version))
    staging = release / "lib.partial"
    shutil.rmtree(staging, ignore_errors=True)
    say(f"resolving Apache Kafka {version} from Maven Central into {release}")
    began = time.monotonic()
    argv = [
        command,
        "--batch-mode",
        "--quiet",
        "-f",
        str(release / "pom.xml"),
        f"-Dmaven.repo.local={cache_dir / 'm2'}",
        f"{DEPENDENCY_PLUGIN}:copy-dependencies",
        "-DincludeScope=runtime",
        f"-DoutputDirectory={staging}",
    ]
    done = subprocess.run(argv, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        tail = "\n".join((done.stdout + done.stderr).splitlines()[-20:])
        raise InstallError(
            f"Maven could not resolve org.apache.kafka:kafka_{SCALA_VERSION}:{version} "
            f"(exit {done.returncode}); {release / 'pom.xml'} is the project it read:\n{tail}"
        )
    (staging / COMPLETE).write_text(version)
    shutil.rmtree(lib, ignore_errors=True)
    staging.rename(lib)
    jars = len(list(lib.glob("*.jar")))
    say(f"resolved {jars} jars in {time.monotonic() - began:.0f}s")
    return lib


def main() -> int:
    """``python -m streams.stack.kafka_install``: resolve the pinned release unless cached.

    Prints progress only when it resolves; silent (and instant) when the cache has it.
    """
    try:
        install_kafka(default_cache_dir(), say=lambda line: print(line, flush=True))
    except InstallError as exc:
        print(f"error: {exc}", file=sys.stderr, flush=True)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
