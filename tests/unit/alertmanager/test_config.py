import textwrap
from pathlib import Path

import pytest
from amtool_oracle import check_config

from streams.alertmanager.config.loader import (
    AlertmanagerConfig,
    AlertmanagerConfigError,
    check_file,
    load_config,
    parse_config,
)
from streams.alertmanager.config.route import FlapDetection
from streams.errors import ConfigError

DEPLOY = Path(__file__).resolve().parents[3] / "deploy" / "alertmanager.yml"

FULL = """\
global:
  resolve_timeout: 2m
  smtp_from: am@example.org
  smtp_smarthost: mail.example.org:587
  smtp_require_tls: false
  slack_api_url: https://hooks.slack.example/T0/B0/x
route:
  receiver: team
  group_by: [alertname]
  flap_detection: {changes: 4, window: 10m, hold: 15m}
  routes:
    - matchers: ['severity="critical"', 'team=~"db|web", env!="dev"']
      match: {region: eu}
      match_re: {cluster: 'c[0-9]+'}
      receiver: mail
      mute_time_intervals: [nights]
      active_time_intervals: [office]
      routes:
        - matchers: [host="db1"]
          flap_detection: {changes: 0}
        - matchers: [host="db2"]
          flap_detection: {changes: 2, window: 1m}
receivers:
  - name: team
    slack_configs: [{channel: '#ops'}]
  - name: mail
    email_configs: [{to: oncall@example.org}]
    webhook_configs: [{url: 'http://127.0.0.1:9095/', max_alerts: 5}]
inhibit_rules:
  - source_matchers: ['severity="critical"']
    target_matchers: ['severity=~"warning|info"']
    equal: [alertname, cluster]
  - source_match: {severity: critical}
    target_match_re: {severity: 'warn.*'}
mute_time_intervals:
  - name: nights
    time_intervals: [{times: [{start_time: '00:00', end_time: '06:00'}]}]
time_intervals:
  - name: office
    time_intervals:
      - weekdays: ['monday:friday']
        times: [{start_time: '09:00', end_time: '17:00'}]
        location: Europe/Berlin
templates: ['tmpl/*.tmpl', '/nonexistent/*.tmpl']
"""


def write(tmp_path: Path, text: str, name: str = "alertmanager.yml") -> Path:
    path = tmp_path / name
    path.write_text(textwrap.dedent(text))
    return path


def test_full_config_loads(tmp_path: Path) -> None:
    (tmp_path / "tmpl").mkdir()
    for name in ("b.tmpl", "a.tmpl", ".hidden.tmpl", "c.txt"):
        (tmp_path / "tmpl" / name).write_text('{{ define "x" }}{{ end }}')
    config = load_config(write(tmp_path, FULL))
    assert isinstance(config, AlertmanagerConfig)
    assert config.global_.resolve_timeout == 120.0
    assert config.global_.smtp_require_tls is False
    assert list(config.receivers) == ["team", "mail"]
    email = config.receivers["mail"].email_configs[0]
    assert (email.smarthost, email.from_, email.require_tls) == (
        "mail.example.org:587",
        "am@example.org",
        False,
    )
    assert config.receivers["team"].slack_configs[0].api_url is not None
    root = config.route
    (child,) = root.routes
    assert [str(m) for m in child.matchers] == [
        'cluster=~"^(?:c[0-9]+)$"',
        'env!="dev"',
        'region="eu"',
        'severity="critical"',
        'team=~"db|web"',
    ]
    assert (child.mute_time_intervals, child.active_time_intervals) == (("nights",), ("office",))
    # Time intervals are not inherited; flap detection is, unless a route sets its own.
    off, own = child.routes
    assert off.mute_time_intervals == () and off.active_time_intervals == ()
    assert child.flap_detection == FlapDetection(4, 600.0, 900.0)
    assert off.flap_detection is None
    assert own.flap_detection == FlapDetection(2, 60.0, 60.0)
    source, target = (
        config.inhibit_rules[0].source_matchers,
        config.inhibit_rules[0].target_matchers,
    )
    assert [str(m) for m in source + target] == ['severity="critical"', 'severity=~"warning|info"']
    assert config.inhibit_rules[0].equal == ("alertname", "cluster")
    assert [str(m) for m in config.inhibit_rules[1].target_matchers] == ['severity=~"^(?:warn.*)$"']
    assert set(config.time_intervals) == {"nights", "office"}
    assert config.time_intervals["office"].periods[0].location == "Europe/Berlin"
    tmpl = tmp_path / "tmpl"
    assert config.templates == (tmpl / ".hidden.tmpl", tmpl / "a.tmpl", tmpl / "b.tmpl")
    assert config.source == str(tmp_path / "alertmanager.yml")


def test_defaults_of_a_minimal_config() -> None:
    config = parse_config("route: {receiver: r}\nreceivers: [{name: r}]\n", "am.yml")
    assert config.global_.resolve_timeout == 300.0
    root = config.route
    assert (root.group_wait, root.group_interval, root.repeat_interval) == (30.0, 300.0, 14400.0)
    assert (root.group_by, root.group_by_all, root.flap_detection) == (frozenset(), False, None)
    assert (
        config.inhibit_rules == () and config.templates == () and dict(config.time_intervals) == {}
    )


def test_alertmanager_quirks_are_kept() -> None:
    config = parse_config(
        """\
route:
  receiver: 123
  group_by: ['...']
  routes:
    - {group_by: [], continue: yes, matchers: ['']}
    - {receiver: '', group_wait: }
receivers: [{name: 123}]
""",
        "am.yml",
    )
    first, second = config.route.routes
    # A receiver written as a number is its text; an empty group_by list inherits.
    assert config.route.receiver == "123" and first.group_by_all and first.continue_
    assert first.matchers == () and second.receiver == "123" and second.group_wait == 30.0


def test_merge_keys_are_followed(tmp_path: Path) -> None:
    text = """\
route:
  receiver: r
  routes:
    - &base {receiver: r2, group_wait: 1m, matchers: ['a="1"']}
    - <<: *base
      matchers: ['a="2"']
receivers: [{name: r}, {name: r2}]
"""
    _, second = parse_config(text, "am.yml").route.routes
    assert (second.receiver, second.group_wait, [str(m) for m in second.matchers]) == (
        "r2",
        60.0,
        ['a="2"'],
    )
    assert check_config(write(tmp_path, text))[0]


# (config text, the expected problems); each one is refused by amtool too unless marked.
REFUSALS = [
    (
        "route: {}\nreceivers: [{name: a}]\n",
        ["am.yml:1:8: route: the root route must name a receiver"],
    ),
    (
        "route: {receiver: a, matchers: ['x=y']}\nreceivers: [{name: a}]\n",
        ["am.yml:1:32: route: the root route must not have matchers (it matches all)"],
    ),
    (
        "route: {receiver: a, continue: true}\nreceivers: [{name: a}]\n",
        ["am.yml:1:32: route: the root route cannot have continue"],
    ),
    (
        "route:\n  receiver: a\n  routes:\n    - receiver: b\n      foo: 1\nreceivers: [{name: a}]\n",
        [
            "am.yml:4:17: route.routes[0]: undefined receiver 'b'",
            "am.yml:5:7: route.routes[0]: unknown key 'foo'",
        ],
    ),
    (
        "route: {receiver: a}\nreceivers: [{name: a}, {name: a}]\n",
        ["am.yml:2:24: receivers[1]: receiver name 'a' is not unique"],
    ),
    (
        "route:\n  receiver: a\n  routes: [{mute_time_intervals: [zz]}]\nreceivers: [{name: a}]\n",
        ["am.yml:3:35: route.routes[0]: undefined time interval 'zz'"],
    ),
    (
        "route: {receiver: a, group_by: ['...', x], group_interval: 0s}\nreceivers: [{name: a}]\n",
        [
            "am.yml:1:32: route: group_by: '...' cannot go with other labels",
            "am.yml:1:60: route: group_interval cannot be zero",
        ],
    ),
    (
        "route: {receiver: a, routes: [{matchers: ['a=~(']}]}\nreceivers: [{name: a}]\n",
        [
            "am.yml:1:43: route.routes[0]: matchers: invalid regular expression '(': missing ): ^(?:()$"
        ],
    ),
    (
        "route: {receiver: a, group_wait: 1.5s}\nreceivers: [{name: a}]\n",
        ["am.yml:1:34: route: group_wait: '1.5s' is not a duration (examples: 30s, 5m, 1h30m, 7d)"],
    ),
    (
        "route: {receiver: a}\nroute: {receiver: a}\nreceivers: [{name: a}]\n",
        ["am.yml:2:1: key 'route' is given twice in one mapping"],
    ),
    (
        "route: {receiver: a}\nreceivers: [{name: a}]\ninhibit_rules: [{equal: ['a-b']}]\n",
        ["am.yml:3:26: inhibit_rules[0]: equal: 'a-b' is not a valid label name"],
    ),
    (
        "route: {receiver: a}\nreceivers:\n  - name: a\n    webhook_configs:\n      - url: ftp://x\n",
        [
            "am.yml:5:14: receiver 'a': webhook_configs[0].url: "
            "'ftp://x/...' is not an http:// or https:// URL with a host"
        ],
    ),
    (
        "route: {receiver: a}\nreceivers:\n  - name: a\n    webhook_configs:\n"
        "      - {url: 'http://h/', sendresolved: true}\n",
        [
            "am.yml:5:28: receiver 'a': webhook_configs[0].sendresolved: unknown or unsupported key 'sendresolved'"
        ],
    ),
    (
        "route: {receiver: a}\nreceivers:\n  - name: a\n    slack_configs: [{channel: x}]\n",
        ["am.yml:4:21: receiver 'a': slack_configs[0]: no api_url and no global slack_api_url set"],
    ),
    (
        "route: {receiver: a}\nreceivers: [{name: a}]\ntime_intervals:\n"
        "  - name: t\n    time_intervals: [{weekdays: ['saturday:sunday'], location: Mars/Base}]\n",
        [
            "am.yml:5:34: time interval 't': time_intervals[0]: weekdays: "
            "weekday range 'saturday:sunday' ends before it starts",
            "am.yml:5:64: time interval 't': time_intervals[0]: location: unknown time zone 'Mars/Base'",
        ],
    ),
    ("receivers: [{name: a}]\n", ["am.yml: route: no route given (the root route is required)"]),
    (
        "route: [\n",
        [
            "am.yml:2:1: YAML syntax error: while parsing a flow node: "
            "expected the node content, but found '<stream end>'"
        ],
    ),
]


@pytest.mark.parametrize(("text", "expected"), REFUSALS)
def test_refusals_say_where_and_what(text: str, expected: list[str]) -> None:
    with pytest.raises(AlertmanagerConfigError) as info:
        parse_config(text, "am.yml")
    assert [str(p) for p in info.value.problems] == expected
    assert isinstance(info.value, ConfigError)


def test_amtool_refuses_them_too(tmp_path: Path) -> None:
    for i, (text, _) in enumerate(REFUSALS):
        ok, output = check_config(write(tmp_path, text, f"am{i}.yml"))
        assert not ok, (text, output)


# What Alertmanager accepts and pulseline does not support: refused by name, never ignored.
UNSUPPORTED = [
    (
        "route: {receiver: a}\nreceivers:\n  - name: a\n    pagerduty_configs: [{routing_key: k}]\n",
        "am.yml:4:5: receivers[0]: pagerduty_configs is not supported by pulseline "
        "(receivers may have webhook_configs, slack_configs, email_configs, alertmanager_configs)",
    ),
    (
        "route: {receiver: a}\nreceivers:\n  - name: a\n    opsgenie_configs: [{api_key: k}]\n",
        "am.yml:4:5: receivers[0]: opsgenie_configs is not supported by pulseline "
        "(receivers may have webhook_configs, slack_configs, email_configs, alertmanager_configs)",
    ),
    (
        "global: {opsgenie_api_key: k}\nroute: {receiver: a}\nreceivers: [{name: a}]\n",
        "am.yml:1:10: global: opsgenie_api_key is not supported by pulseline "
        "(it sets defaults of receiver kinds or files pulseline does not support)",
    ),
    (
        "route: {receiver: a}\nreceivers:\n  - name: a\n    webhook_configs:\n"
        "      - url: 'http://h/'\n        http_config: {oauth2: {client_id: x, client_secret: y, token_url: 'http://t/'}}\n",
        "am.yml:6:23: receiver 'a': webhook_configs[0].http_config.oauth2: "
        "unknown or unsupported key 'oauth2'",
    ),
]


@pytest.mark.parametrize(("text", "expected"), UNSUPPORTED)
def test_unsupported_parts_are_refused_by_name(tmp_path: Path, text: str, expected: str) -> None:
    with pytest.raises(AlertmanagerConfigError) as info:
        parse_config(text, "am.yml")
    assert [str(p) for p in info.value.problems] == [expected]
    assert check_config(write(tmp_path, text))[0], "Alertmanager itself accepts it"


def test_flap_detection_refusals() -> None:
    with pytest.raises(AlertmanagerConfigError) as info:
        parse_config(
            "route:\n  receiver: a\n  routes:\n"
            "    - flap_detection: {changes: -1}\n"
            "    - flap_detection: {changes: 3}\n"
            "    - flap_detection: {window: 1m, extra: 1}\n"
            "receivers: [{name: a}]\n",
            "am.yml",
        )
    assert [str(p) for p in info.value.problems] == [
        "am.yml:4:33: route.routes[0]: flap_detection: changes cannot be negative",
        "am.yml:5:23: route.routes[1]: flap_detection: window must be a duration above 0",
        "am.yml:6:23: route.routes[2]: flap_detection: changes is required (0 turns flap detection off)",
        "am.yml:6:36: route.routes[2]: flap_detection: unknown key 'extra'",
    ]


def test_unreadable_file(tmp_path: Path) -> None:
    with pytest.raises(AlertmanagerConfigError, match=r"missing\.yml: cannot read"):
        load_config(tmp_path / "missing.yml")


def test_shipped_config_is_accepted_by_amtool_and_by_the_loader() -> None:
    ok, output = check_config(DEPLOY)
    assert ok, output
    config = load_config(DEPLOY)
    root = config.route
    critical = {"severity": "critical", "alertname": "Down", "cluster": "eu", "host": "a"}
    warning = {**critical, "severity": "warning"}
    (crit_route,) = root.match(critical)
    (warn_route,) = root.match(warning)
    assert crit_route.group_wait == 0.0
    assert warn_route.group_labels(warning) == (("alertname", "Down"), ("cluster", "eu"))
    assert (warn_route.group_wait, warn_route.group_interval, warn_route.repeat_interval) == (
        30.0,
        300.0,
        14400.0,
    )
    (hook,) = config.receivers[crit_route.receiver].webhook_configs
    assert hook.url.get_secret_value() == "http://127.0.0.1:9095/" and hook.send_resolved


def test_check_file_summarizes_like_amtool(tmp_path: Path) -> None:
    assert check_file(DEPLOY).splitlines() == [
        f"Checking '{DEPLOY}'  SUCCESS",
        "Found:",
        " - global config",
        " - route (3 routes)",
        " - 1 inhibit rules",
        " - 1 receivers",
        " - 0 time intervals",
        " - 0 templates",
    ]
    with pytest.raises(AlertmanagerConfigError, match="undefined receiver 'b'"):
        check_file(write(tmp_path, "route: {receiver: b}\n"))
