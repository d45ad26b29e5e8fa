"""The ``http_config`` of a receiver, and what makes a destination acceptable.

``http_config`` takes the keys of Prometheus' HTTP client configuration that receivers use:
``authorization``, ``basic_auth``, ``bearer_token``, ``follow_redirects``, ``enable_http2``
and ``tls_config``; other keys (``oauth2``, ``proxy_url``, ``*_file`` secrets) are refused.
``allow_link_local`` is pulseline's own: without it a destination on a link-local or cloud
metadata address is refused, so a config cannot turn pulseline into a way to read a cloud
instance's credentials.

Example:
    >>> h = HTTPConfig.model_validate({"basic_auth": {"username": "u", "password": "p"}})
    >>> h.basic_auth
    BasicAuth(username='u', password=SecretStr('**********'))
    >>> is_link_local(url_host("http://169.254.169.254/latest/meta-data"))
    True
"""

from __future__ import annotations

import ipaddress
import urllib.parse
from typing import Literal, Self

from pydantic import BaseModel, ConfigDict, SecretStr, field_validator, model_validator

FROZEN = ConfigDict(frozen=True, extra="forbid", populate_by_name=True)
"""Model configuration of every receiver model: immutable, unknown keys refused."""

_LINK_LOCAL_V4 = ipaddress.ip_network("169.254.0.0/16")
_METADATA_V6 = ipaddress.ip_address("fd00:ec2::254")


def is_link_local(address: str) -> bool:
    """Whether an IP address is link-local IPv4 or a cloud metadata address.

    IPv4-mapped IPv6 addresses count as their IPv4 address.

    >>> is_link_local("169.254.169.254"), is_link_local("fd00:ec2::254"), is_link_local("10.0.0.1")
    (True, True, False)
    >>> is_link_local("::ffff:169.254.1.1"), is_link_local("not-an-ip")
    (True, False)
    """
    try:
        ip = ipaddress.ip_address(address.split("%", 1)[0])
    except ValueError:
        return False
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    if isinstance(ip, ipaddress.IPv4Address):
        return ip in _LINK_LOCAL_V4
    return ip == _METADATA_V6


def check_http_url(url: str) -> str:
    """``url`` if it is an absolute http(s) URL with a host; ValueError otherwise."""
    parts = urllib.parse.urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"{redacted(url)!r} is not an http:// or https:// URL with a host")
    return url


def url_host(url: str) -> str:
    """The host of a URL, without brackets.

    >>> url_host("http://[fd00:ec2::254]:80/x"), url_host("https://hooks.example/x")
    ('fd00:ec2::254', 'hooks.example')
    """
    return urllib.parse.urlsplit(url).hostname or ""


def redacted(url: str) -> str:
    """A URL shown without its path, query or credentials (they may hold a token)."""
    parts = urllib.parse.urlsplit(url)
    host = parts.hostname or ""
    return f"{parts.scheme}://{host}{':' + str(parts.port) if parts.port else ''}/..."


def refuse_literal_link_local(url: str, http: HTTPConfig | None) -> None:
    if (http is None or not http.allow_link_local) and is_link_local(url_host(url)):
        raise ValueError(
            f"{redacted(url)} is a link-local or cloud metadata address; "
            "set http_config.allow_link_local: true to allow it"
        )


class Authorization(BaseModel):
    """An ``Authorization`` header: ``type`` then the credentials."""

    model_config = FROZEN

    type: str = "Bearer"
    credentials: SecretStr | None = None

    @field_validator("type")
    @classmethod
    def _not_basic(cls, value: str) -> str:
        if value.strip().lower() == "basic":
            raise ValueError('authorization type cannot be "Basic"; use basic_auth instead')
        return value


class BasicAuth(BaseModel):
    """HTTP basic authentication."""

    model_config = FROZEN

    username: str = ""
    password: SecretStr | None = None


class TLSConfig(BaseModel):
    """How to verify the server and present a client certificate."""

    model_config = FROZEN

    ca_file: str | None = None
    cert_file: str | None = None
    key_file: str | None = None
    server_name: str | None = None
    insecure_skip_verify: bool = False
    min_version: Literal["TLS10", "TLS11", "TLS12", "TLS13"] | None = None

    @model_validator(mode="after")
    def _pair(self) -> Self:
        if (self.cert_file is None) != (self.key_file is None):
            raise ValueError("tls_config needs both cert_file and key_file, or neither")
        return self


class HTTPConfig(BaseModel):
    """The ``http_config`` of a receiver: authentication, redirects, TLS.

    ``enable_http2`` is accepted because Alertmanager writes it in its own config dumps;
    requests are HTTP/1.1 either way. ``allow_link_local`` is pulseline's: it allows a
    destination on a link-local or cloud metadata address.
    """

    model_config = FROZEN

    authorization: Authorization | None = None
    basic_auth: BasicAuth | None = None
    bearer_token: SecretStr | None = None
    follow_redirects: bool = True
    enable_http2: bool = True
    tls_config: TLSConfig | None = None
    allow_link_local: bool = False

    @model_validator(mode="after")
    def _one_authentication(self) -> Self:
        given = [
            name
            for name in ("authorization", "basic_auth", "bearer_token")
            if getattr(self, name) is not None
        ]
        if len(given) > 1:
            raise ValueError(f"at most one of {' & '.join(given)} may be configured")
        return self


def check_host_port(value: str) -> str:
    """``value`` if it is ``host:port`` (``[v6]:port`` for IPv6); ValueError otherwise.

    >>> check_host_port("[::1]:25")
    '[::1]:25'
    """
    host, sep, port = value.rpartition(":")
    if not sep or not host or not port.isdigit() or not 0 < int(port) <= 65535:
        raise ValueError(f"{value!r} is not host:port (example: mail.example.org:587)")
    return value
