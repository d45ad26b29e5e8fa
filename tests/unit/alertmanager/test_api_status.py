"""GET /api/v2/status: secrets masked as Alertmanager masks them, its schema's fields.

The configuration below was loaded by a real Alertmanager 0.25, whose ``config.original``
showed ``<secret>`` for smtp_auth_password, slack_api_url, basic_auth's password, the
email's auth_password and authorization's credentials (it left the webhook URLs in clear,
which pulseline holds as secrets and masks too). The required fields are those of the
``alertmanagerStatus`` definition of Alertmanager's OpenAPI document; amtool's ``config
show`` and ``cluster show`` read the answer served here.
"""

from __future__ import annotations

import asyncio
import shutil
from typing import Any

import orjson
import pytest
import yaml
from aiohttp import web

from streams.alertmanager.api.status import SECRET, api_status, masked_config
from streams.alertmanager.config.loader import parse_config

CONFIG = """\
global:
  resolve_timeout: 5m
  smtp_smarthost: 'localhost:25'
  smtp_from: 'am@example.org'
  smtp_auth_username: 'user'
  smtp_auth_password: 'hunter2'   # keep this comment
  slack_api_url: 'https://hooks.slack.com/services/XXX'
route:
  receiver: ops
  group_by: [alertname]
receivers:
  - name: ops
    webhook_configs:
      - url: 'http://127.0.0.1:9/hook'
        http_config:
          basic_auth: {username: u, password: secretpw}
  - name: pager
    slack_configs:
      - channel: '#pager'
    email_configs:
      - to: 'x@example.org'
        auth_password: "emailpw"
  - name: team
    webhook_configs:
      - url: 'http://127.0.0.1:9/team'
        http_config:
          authorization:
            credentials: |
              tok
              en
"""

SECRETS = (
    *("hunter2", "hooks.slack.com", "secretpw", "emailpw", "tok"),
    *("127.0.0.1:9/hook", "127.0.0.1:9/team"),
)


def _replace_secrets(data: Any, secrets: dict[str, Any]) -> Any:
    """The parsed config with the values at the secret keys replaced by SECRET."""
    if isinstance(data, list):
        return [_replace_secrets(item, secrets) for item in data]
    if not isinstance(data, dict):
        return data
    return {
        k: SECRET if k in secrets and secrets[k] is None else _replace_secrets(v, secrets)
        for k, v in data.items()
    }


def test_every_secret_is_masked_and_the_rest_kept() -> None:
    parse_config(CONFIG, "am.yml")  # a configuration pulseline loads
    masked = masked_config(CONFIG)
    for secret in SECRETS:
        assert secret not in masked
    assert "# keep this comment" in masked
    keys = {"smtp_auth_password", "slack_api_url", "password", "auth_password"}
    keys |= {"credentials", "url"}
    expected = _replace_secrets(yaml.safe_load(CONFIG), dict.fromkeys(keys))
    assert yaml.safe_load(masked) == expected
    assert masked.count(SECRET) == 7


def test_anchors_merges_and_null_values() -> None:
    text = """\
receivers:
  - name: a
    email_configs:
      - &mail {to: x@example.org, auth_password: &pw "p1"}
      - <<: *mail
        auth_secret: *pw
  - name: b
    slack_configs:
      - api_url:
"""
    masked = masked_config(text)
    assert "p1" not in masked
    data = yaml.safe_load(masked)
    first, second = data["receivers"][0]["email_configs"]
    assert first["auth_password"] == second["auth_secret"] == SECRET
    assert data["receivers"][1]["slack_configs"][0]["api_url"] is None


def test_text_that_is_not_yaml_is_masked_whole() -> None:
    assert masked_config("a: [unclosed\n password: p") == SECRET + "\n"


def test_status_has_every_field_alertmanagers_schema_requires() -> None:
    status = api_status(CONFIG, started_at=1.5)
    assert set(status) == {"cluster", "config", "uptime", "versionInfo"}
    assert status["cluster"] == {"peers": [], "status": "disabled"}
    assert status["uptime"] == "1970-01-01T00:00:01.500Z"
    assert set(status["versionInfo"]) == {
        *("version", "revision", "branch"),
        *("buildUser", "buildDate", "goVersion"),
    }
    assert all(isinstance(v, str) for v in status["versionInfo"].values())
    assert status["config"]["original"] == masked_config(CONFIG)


async def test_amtool_reads_the_status() -> None:
    amtool = shutil.which("amtool")
    if amtool is None:
        pytest.fail("amtool is not installed (Debian's prometheus-alertmanager package)")

    async def status(request: web.Request) -> web.Response:
        body = orjson.dumps(api_status(CONFIG, started_at=0.0))
        return web.Response(body=body, content_type="application/json")

    app = web.Application()
    app.router.add_get("/api/v2/status", status)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    try:
        url = f"--alertmanager.url=http://127.0.0.1:{port}"
        shown = await _run(amtool, url, "config", "show")
        cluster = await _run(amtool, url, "cluster", "show")
    finally:
        await runner.cleanup()
    assert shown.strip() == masked_config(CONFIG).strip()
    assert cluster.splitlines()[0].split() == ["Cluster", "Status:", "disabled"]


async def _run(*argv: str) -> str:
    process = await asyncio.create_subprocess_exec(
        *argv, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
    )
    out, err = await asyncio.wait_for(process.communicate(), timeout=30)
    assert process.returncode == 0, err.decode()
    return out.decode()
