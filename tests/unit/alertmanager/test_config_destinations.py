"""Receivers on link-local or cloud metadata addresses are refused when the file loads."""

import socket
from pathlib import Path

import pytest

from streams.alertmanager.config.loader import AlertmanagerConfigError, load_config, parse_config

DNS = {
    "meta.test": ["10.0.0.9", "169.254.169.254"],
    "meta6.test": ["fd00:ec2::254"],
    "mapped.test": ["::ffff:169.254.10.1"],
    "ok.test": ["10.0.0.1", "2001:db8::1"],
}


class FakeDNS:
    """A resolver over a table; names not in it do not resolve. Records what was asked."""

    def __init__(self) -> None:
        self.asked: list[str] = []

    def __call__(self, host: str) -> list[str]:
        self.asked.append(host)
        if host not in DNS:
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        return DNS[host]


def config(*receivers: str, global_: str = "") -> str:
    """A file whose receivers start at line 4 (line 5 with a one-line ``global_``)."""
    head = f"global: {{{global_}}}\n" if global_ else ""
    return head + "route: {receiver: a}\nreceivers:\n  - name: a\n" + "".join(receivers)


def refused(text: str) -> list[str]:
    with pytest.raises(AlertmanagerConfigError) as info:
        parse_config(text, "am.yml", resolve=FakeDNS())
    return [str(p) for p in info.value.problems]


def test_a_name_resolving_to_a_metadata_address_is_refused_at_its_line() -> None:
    text = config(
        "  - name: ops\n",
        "    webhook_configs:\n",
        "      - url: http://ok.test/hook\n",
        "      - url: http://meta.test:8080/latest/meta-data?token=s3cret\n",
    )
    assert refused(text) == [
        "am.yml:7:9: receiver 'ops': webhook_configs[1]: http://meta.test:8080/... resolves "
        "to 169.254.169.254, a link-local or cloud metadata address; set "
        "http_config.allow_link_local: true to allow it"
    ]


@pytest.mark.parametrize(
    ("url", "address"),
    [
        ("http://meta6.test/", "fd00:ec2::254"),
        ("http://mapped.test/", "::ffff:169.254.10.1"),
    ],
)
def test_ipv6_metadata_and_mapped_addresses_are_refused(url: str, address: str) -> None:
    (problem,) = refused(config(f"  - name: ops\n    webhook_configs: [{{url: '{url}'}}]\n"))
    assert problem.startswith("am.yml:5:23: receiver 'ops': webhook_configs[0]: ")
    assert f"resolves to {address}, a link-local" in problem


def test_literal_addresses_are_refused_whatever_the_resolver_says() -> None:
    text = config(
        "  - name: fwd\n",
        "    alertmanager_configs: [{url: 'http://[fd00:ec2::254]:9093/'}]\n",
        "  - name: hook\n",
        "    webhook_configs: [{url: 'http://169.254.1.2/'}]\n",
    )
    with pytest.raises(AlertmanagerConfigError) as info:
        parse_config(text, "am.yml", resolve=FakeDNS())  # it resolves neither
    assert [str(p).split(" is a ")[0] for p in info.value.problems] == [
        "am.yml:5:28: receiver 'fwd': alertmanager_configs[0]: http://fd00:ec2::254:9093/...",
        "am.yml:7:23: receiver 'hook': webhook_configs[0]: http://169.254.1.2/...",
    ]


def test_a_slack_url_from_global_is_checked_where_it_is_used() -> None:
    text = config(
        "  - name: chat\n",
        "    slack_configs: [{channel: '#ops'}]\n",
        global_="slack_api_url: 'https://meta.test/services/T0/B0/x'",
    )
    assert refused(text) == [
        "am.yml:6:21: receiver 'chat': slack_configs[0]: https://meta.test/... resolves to "
        "169.254.169.254, a link-local or cloud metadata address; set "
        "http_config.allow_link_local: true to allow it"
    ]


def test_allow_link_local_lets_it_through() -> None:
    text = config(
        "  - name: ops\n",
        "    webhook_configs:\n",
        "      - url: http://meta.test/\n",
        "        http_config: {allow_link_local: true}\n",
    )
    parsed = parse_config(text, "am.yml", resolve=FakeDNS())
    assert set(parsed.receivers) == {"a", "ops"}


def test_names_that_do_not_resolve_yet_and_safe_names_load() -> None:
    dns = FakeDNS()
    text = config(
        "  - name: ops\n",
        "    webhook_configs: [{url: 'http://later.test/'}, {url: 'https://ok.test/'}]\n",
        "    email_configs: [{to: a@meta.test, smarthost: 'meta.test:25', from: b@ok.test}]\n",
    )
    parsed = parse_config(text, "am.yml", resolve=dns)
    assert set(parsed.receivers) == {"a", "ops"}
    # Only HTTP destinations are looked up; SMTP hosts are not URLs of this check.
    assert dns.asked == ["later.test", "ok.test"]


def test_load_config_passes_the_resolver_on(tmp_path: Path) -> None:
    path = tmp_path / "alertmanager.yml"
    path.write_text(config("  - name: ops\n    webhook_configs: [{url: 'http://meta.test/'}]\n"))
    with pytest.raises(AlertmanagerConfigError, match=r"alertmanager.yml:5:23: receiver 'ops'"):
        load_config(path, resolve=FakeDNS())
