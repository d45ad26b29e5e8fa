"""The local stack runs a printing receiver at each webhook of alertmanager.yml on this machine."""

from __future__ import annotations

from pathlib import Path

import pytest

from streams.alertmanager.config.loader import AlertmanagerConfigError
from streams.stack.webhook import local_webhooks

SHIPPED = Path(__file__).parents[3] / "deploy" / "alertmanager.yml"

CONFIG = """
route: {receiver: a}
receivers:
  - name: a
    webhook_configs:
      - url: http://127.0.0.1:9095/
      - url: http://localhost:9200/hook
  - name: b
    webhook_configs:
      - url: http://127.0.0.1:9095/other   # the same receiver
      - url: https://127.0.0.1:9443/       # TLS: not the printing receiver's
      - url: http://hooks.example.org:9095/
"""


def test_the_shipped_files_webhook_is_the_stacks_receiver() -> None:
    assert local_webhooks(SHIPPED) == [("127.0.0.1", 9095)]


def test_only_plain_http_on_the_loopback_once_per_address(tmp_path: Path) -> None:
    path = tmp_path / "alertmanager.yml"
    path.write_text(CONFIG)
    assert local_webhooks(path) == [("127.0.0.1", 9095), ("localhost", 9200)]


def test_a_bad_file_is_refused_before_anything_starts(tmp_path: Path) -> None:
    path = tmp_path / "alertmanager.yml"
    path.write_text("route: {receiver: missing}\nreceivers: []\n")
    with pytest.raises(AlertmanagerConfigError, match=r"alertmanager\.yml"):
        local_webhooks(path)
