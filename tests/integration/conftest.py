"""The integration tests' servers come from the ``servers`` plugin (``tests/conftest.py``
registers it for every folder); its helpers are named here too, for ``from conftest import``.
"""

import pytest
from servers import (
    BROKER_ENGINE,
    IDEMPOTENCE,
    Pipeline,
    Tsdb,
    kafka_only,
    read_topic,
    start_broker,
    topic_size,
    wait_for,
)

pytestmark = pytest.mark.integration

__all__ = [
    "BROKER_ENGINE",
    "IDEMPOTENCE",
    "Pipeline",
    "Tsdb",
    "kafka_only",
    "read_topic",
    "start_broker",
    "topic_size",
    "wait_for",
]
