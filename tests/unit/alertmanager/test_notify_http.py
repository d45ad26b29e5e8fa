"""The aiohttp transport against an in-process server; destination checks with fake DNS."""

from __future__ import annotations

import socket
import ssl
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field

import pytest
from aiohttp import web

from streams.alertmanager.config.destinations import (
    DestinationRefused,
    GuardedResolver,
    check_receiver,
)
from streams.alertmanager.config.httpconfig import HTTPConfig, TLSConfig
from streams.alertmanager.config.receivers import Integration, Receiver, WebhookConfig
from streams.alertmanager.notify.errors import NotifyError
from streams.alertmanager.notify.http import (
    USER_AGENT,
    AiohttpTransport,
    HttpRequest,
    auth_headers,
    post,
    ssl_context,
)
from streams.errors import ConfigError
from streams.stack.processes import free_port


@dataclass
class Seen:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes


@dataclass
class Server:
    port: int
    seen: list[Seen] = field(default_factory=list)

    def url(self, path: str, host: str = "127.0.0.1") -> str:
        return f"http://{host}:{self.port}{path}"


@pytest.fixture
async def server() -> AsyncIterator[Server]:
    srv = Server(free_port())

    async def handle(request: web.Request) -> web.StreamResponse:
        srv.seen.append(
            Seen(request.method, request.path_qs, dict(request.headers), await request.read())
        )
        if request.path.startswith("/redirect/"):
            code, _, target = request.path.removeprefix("/redirect/").partition("/")
            location = request.query.get("to", "/" + target)
            return web.Response(status=int(code), headers={"Location": location})
        if request.path.startswith("/status/"):
            return web.Response(status=int(request.path.rsplit("/", 1)[1]), text="nope")
        return web.Response(text="ok")

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", handle)
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", srv.port).start()
    yield srv
    await runner.cleanup()


def fake_dns(table: dict[str, Sequence[str]]):  # type: ignore[no-untyped-def]
    async def resolve(host: str) -> Sequence[str]:
        if host not in table:
            raise socket.gaierror(f"{host}: unknown")
        return table[host]

    return resolve


@pytest.fixture
async def transport() -> AsyncIterator[AiohttpTransport]:
    t = AiohttpTransport(fake_dns({"localhost": ["127.0.0.1"], "meta.test": ["169.254.1.1"]}))
    yield t
    await t.close()


INTEGRATION = Integration(
    "ops", "webhook", 0, WebhookConfig.model_validate({"url": "http://x/secret-path"})
)


async def test_posts_body_with_user_agent_and_auth(
    server: Server, transport: AiohttpTransport
) -> None:
    http = HTTPConfig.model_validate({"basic_auth": {"username": "u", "password": "p"}})
    answer = await transport.send(
        HttpRequest(server.url("/hook"), b'{"a":1}', {"Content-Type": "application/json"}, http)
    )
    assert answer.status == 200 and answer.body == b"ok"
    (seen,) = server.seen
    assert (seen.method, seen.path, seen.body) == ("POST", "/hook", b'{"a":1}')
    assert seen.headers["User-Agent"] == USER_AGENT
    assert seen.headers["Content-Type"] == "application/json"
    assert seen.headers["Authorization"] == "Basic dTpw"  # base64("u:p")


def test_without_tls_config_the_system_context_read_at_import_is_shared() -> None:
    # Loading the system CAs takes tenths of a second: not again for each receiver's pool.
    assert ssl_context(None) is ssl_context(None)
    assert ssl_context(None).verify_mode == ssl.CERT_REQUIRED
    insecure = ssl_context(TLSConfig(insecure_skip_verify=True))
    assert insecure is not ssl_context(None) and insecure.verify_mode == ssl.CERT_NONE
    assert ssl_context(None).verify_mode == ssl.CERT_REQUIRED  # the shared one is untouched


def test_auth_headers() -> None:
    bearer = HTTPConfig.model_validate({"bearer_token": "t"})
    custom = HTTPConfig.model_validate({"authorization": {"type": "Token", "credentials": "c"}})
    default = HTTPConfig.model_validate({"authorization": {"credentials": "c"}})
    assert auth_headers(bearer) == {"Authorization": "Bearer t"}
    assert auth_headers(custom) == {"Authorization": "Token c"}
    assert auth_headers(default) == {"Authorization": "Bearer c"}
    assert auth_headers(HTTPConfig()) == {}


async def test_redirects_307_keep_the_post_and_303_become_a_get(
    server: Server, transport: AiohttpTransport
) -> None:
    await transport.send(HttpRequest(server.url("/redirect/307/final"), b"body"))
    await transport.send(HttpRequest(server.url("/redirect/303/other"), b"body"))
    assert [(s.method, s.path, s.body) for s in server.seen] == [
        ("POST", "/redirect/307/final", b"body"),
        ("POST", "/final", b"body"),
        ("POST", "/redirect/303/other", b"body"),
        ("GET", "/other", b""),
    ]


async def test_redirects_not_followed_when_configured_so(
    server: Server, transport: AiohttpTransport
) -> None:
    request = HttpRequest(
        server.url("/redirect/307/final"), b"", http=HTTPConfig(follow_redirects=False)
    )
    with pytest.raises(NotifyError) as info:
        await post(transport, request, INTEGRATION)
    assert (info.value.status, info.value.retryable) == (307, False)
    assert len(server.seen) == 1


async def test_credentials_do_not_follow_a_redirect_to_another_host(
    server: Server, transport: AiohttpTransport
) -> None:
    to = server.url("/landing", host="localhost")
    http = HTTPConfig.model_validate({"bearer_token": "t"})
    await transport.send(HttpRequest(server.url(f"/redirect/307/?to={to}"), b"", http=http))
    first, second = server.seen
    assert first.headers["Authorization"] == "Bearer t"
    assert second.path == "/landing" and "Authorization" not in second.headers


@pytest.mark.parametrize(
    "url",
    [
        "http://169.254.169.254/latest/meta-data",
        "http://[fd00:ec2::254]/latest",
        "http://meta.test/x",
    ],
)
async def test_link_local_destinations_are_refused_at_send(
    url: str, transport: AiohttpTransport
) -> None:
    with pytest.raises(NotifyError) as info:
        await post(transport, HttpRequest(url, b""), INTEGRATION)
    assert info.value.retryable is False
    assert "allow_link_local" in str(info.value)


async def test_a_redirect_to_a_metadata_address_is_refused(
    server: Server, transport: AiohttpTransport
) -> None:
    to = "http://169.254.169.254/latest/meta-data/iam"
    with pytest.raises(NotifyError, match="link-local") as info:
        await post(transport, HttpRequest(server.url(f"/redirect/302/?to={to}"), b""), INTEGRATION)
    assert info.value.retryable is False


async def test_guarded_resolver() -> None:
    dns = fake_dns({"mixed": ["127.0.0.1", "169.254.1.1"], "v6": ["::1"]})
    with pytest.raises(DestinationRefused):
        await GuardedResolver(dns).resolve("mixed", 80, socket.AF_UNSPEC)
    allowed = await GuardedResolver(dns, allow_link_local=True).resolve(
        "mixed", 80, socket.AF_UNSPEC
    )
    assert [r["host"] for r in allowed] == ["127.0.0.1", "169.254.1.1"]
    assert [r["host"] for r in await GuardedResolver(dns).resolve("v6", 80, socket.AF_INET6)] == [
        "::1"
    ]
    with pytest.raises(OSError):
        await GuardedResolver(dns).resolve("v6", 80, socket.AF_INET)


async def test_no_answer_is_retryable_and_the_url_path_is_not_shown(
    transport: AiohttpTransport,
) -> None:
    url = f"http://127.0.0.1:{free_port()}/secret-path"
    with pytest.raises(NotifyError) as info:
        await post(transport, HttpRequest(url, b""), INTEGRATION)
    assert info.value.retryable is True and info.value.status is None
    assert "secret-path" not in str(info.value)


async def test_status_answers(server: Server, transport: AiohttpTransport) -> None:
    for code, retryable in ((500, True), (502, True), (429, True), (400, False), (403, False)):
        with pytest.raises(NotifyError) as info:
            await post(transport, HttpRequest(server.url(f"/status/{code}"), b""), INTEGRATION)
        assert (info.value.status, info.value.retryable) == (code, retryable)
        assert str(info.value).endswith(f"unexpected status code {code}: nope")
    answer = await post(transport, HttpRequest(server.url("/fine"), b""), INTEGRATION)
    assert answer.status == 200


def _receiver(url: str, allow: bool = False) -> Receiver:
    return Receiver.model_validate(
        {
            "name": "ops",
            "webhook_configs": [{"url": url, "http_config": {"allow_link_local": allow}}],
        }
    )


def test_check_receiver_at_load() -> None:
    def dns(host: str) -> list[str]:
        table = {"meta.test": ["169.254.169.254"], "ok.test": ["10.0.0.1"]}
        if host not in table:
            raise socket.gaierror(host)
        return table[host]

    with pytest.raises(
        ConfigError, match=r"receiver 'ops': webhook_configs\[0\]: .*resolves to 169"
    ):
        check_receiver(_receiver("http://meta.test/x"), dns)
    with pytest.raises(ConfigError, match="is a link-local"):
        check_receiver(_receiver("http://169.254.169.254/x"), dns)
    check_receiver(_receiver("http://meta.test/x", allow=True), dns)
    check_receiver(_receiver("http://ok.test/x"), dns)
    check_receiver(_receiver("http://not-yet.test/x"), dns)  # checked again at send time
