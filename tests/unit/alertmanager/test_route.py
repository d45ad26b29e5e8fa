import textwrap
from pathlib import Path

from amtool_oracle import receivers_for, yaml_string
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from streams.alertmanager.config.loader import AlertmanagerConfig, parse_config
from streams.alertmanager.config.route import Route, group_key

TREE = """\
route:
  receiver: default
  group_by: [alertname]
  group_wait: 10s
  routes:
    - matchers: ['team="db"']
      receiver: db
      continue: true
      group_by: [cluster]
      routes:
        - match: {severity: critical}
          receiver: db-pager
          group_wait: 0s
        - match_re: {env: 'prod|staging'}
          receiver: db-prod
    - matchers: ['team=~"db|web"']
      receiver: web
      group_by: ['...']
      repeat_interval: 1h
    - matchers: ['team="ops"']
      routes:
        - matchers: ['severity!="info"']
receivers:
  - name: default
  - name: db
  - name: db-pager
  - name: db-prod
  - name: web
"""


def load(text: str) -> AlertmanagerConfig:
    return parse_config(textwrap.dedent(text), "am.yml")


def receivers(route: Route, labels: dict[str, str]) -> list[str]:
    return [r.receiver for r in route.match(labels)]


def test_hand_worked_tree_matching() -> None:
    root = load(TREE).route
    # team=db continues: db's critical child, then the web route (team=~"db|web").
    assert receivers(root, {"team": "db", "severity": "critical"}) == ["db-pager", "web"]
    # Only the first matching child of db counts (neither has continue).
    assert receivers(root, {"team": "db", "severity": "critical", "env": "prod"}) == [
        "db-pager",
        "web",
    ]
    assert receivers(root, {"team": "db", "env": "staging"}) == ["db-prod", "web"]
    # db's children do not match: db itself is the match; then web.
    assert receivers(root, {"team": "db", "env": "dev"}) == ["db", "web"]
    assert receivers(root, {"team": "web"}) == ["web"]
    # match_re is anchored: 'production' is not 'prod|staging'.
    assert receivers(root, {"team": "db", "env": "production"}) == ["db", "web"]
    # ops: the child matches and inherits the receiver of ops, which inherits the root's.
    assert receivers(root, {"team": "ops", "severity": "page"}) == ["default"]
    assert receivers(root, {"team": "ops", "severity": "info"}) == ["default"]
    assert receivers(root, {}) == ["default"]


def test_inherited_settings_are_resolved_at_load() -> None:
    root = load(TREE).route
    db, web, ops = root.routes
    pager, prod = db.routes
    assert (root.group_wait, root.group_interval, root.repeat_interval) == (10.0, 300.0, 14400.0)
    assert (pager.group_by, pager.group_wait, pager.group_interval) == (
        frozenset({"cluster"}),
        0.0,
        300.0,
    )
    assert (prod.group_by, prod.group_wait) == (frozenset({"cluster"}), 10.0)
    assert web.group_by_all and web.repeat_interval == 3600.0 and web.group_wait == 10.0
    assert ops.receiver == "default" and ops.routes[0].group_by == frozenset({"alertname"})
    assert db.continue_ and not web.continue_


def test_group_labels() -> None:
    root = load(TREE).route
    labels = {"team": "db", "severity": "critical", "cluster": "eu", "alertname": "Down"}
    pager, web = root.match(labels)
    assert pager.group_labels(labels) == (("cluster", "eu"),)
    assert web.group_labels(labels) == tuple(sorted(labels.items()))
    assert root.group_labels({"job": "x"}) == ()


def test_keys_and_ids_as_alertmanager_forms_them() -> None:
    root = load(TREE).route
    db, web, ops = root.routes
    assert (root.key, root.id) == ("{}", "{}")
    assert (db.key, db.id) == ('{}/{team="db"}', '{}/{team="db"}/0')
    assert db.routes[1].key == '{}/{team="db"}/{env=~"^(?:prod|staging)$"}'
    assert db.routes[1].id == '{}/{team="db"}/{env=~"^(?:prod|staging)$"}/1'
    assert web.id == '{}/{team=~"db|web"}/1'
    assert ops.routes[0].id == '{}/{team="ops"}/{severity!="info"}/0'


# Group keys a real Alertmanager 0.25 sent as groupKey in webhook notifications, for this
# configuration and these alerts (label values with a quote, a non-ASCII letter, a newline).
REAL_ALERTMANAGER = """\
route:
  receiver: all
  group_wait: 0s
  group_by: ['...']
  routes:
    - matchers: ['t="mute"']
      receiver: muted
      routes:
        - matchers: ['sub="x"']
          receiver: muted_child
    - matchers: ['t="re"']
      match_re: {r: 'a|b'}
      receiver: re
receivers: [{name: all}, {name: muted}, {name: muted_child}, {name: re}]
"""
OBSERVED = [
    (
        {"alertname": "A", "a": "x", "a0": "y", "a_b": "z", "b": 'q"uoteé\n'},
        '{}:{a0="y", a="x", a_b="z", alertname="A", b="q\\"uoteé\\n"}',
    ),
    (
        {"alertname": "MC", "t": "mute", "sub": "x"},
        '{}/{t="mute"}/{sub="x"}:{alertname="MC", sub="x", t="mute"}',
    ),
    (
        {"alertname": "R", "t": "re", "r": "a"},
        '{}/{r=~"^(?:a|b)$",t="re"}:{alertname="R", r="a", t="re"}',
    ),
]


def test_group_keys_match_those_of_a_real_alertmanager() -> None:
    root = load(REAL_ALERTMANAGER).route
    for labels, expected in OBSERVED:
        (route,) = root.match(labels)
        assert group_key(route, route.group_labels(labels)) == expected


LABEL_SETS = [
    {"team": "db", "severity": "critical"},
    {"team": "db", "severity": "critical", "env": "prod"},
    {"team": "db", "env": "staging"},
    {"team": "db", "env": "production"},
    {"team": "web"},
    {"team": "ops", "severity": "info"},
    {"team": "ops"},
    {"other": "x"},
]


def test_matching_agrees_with_amtool(tmp_path: Path) -> None:
    path = tmp_path / "am.yml"
    path.write_text(TREE)
    root = load(TREE).route
    for labels in LABEL_SETS:
        assert receivers(root, labels) == receivers_for(path, labels), labels


# Generated trees: routes of up to three levels with matchers over a few labels and values,
# random continue flags and receivers; each tree is checked against amtool for a few alerts.
_NAMES = ["a", "b", "c"]
_VALUES = ["x", "y", ""]
_matcher = st.builds(
    lambda n, o, v: f'{n}{o}"{v}"',
    st.sampled_from(_NAMES),
    st.sampled_from(["=", "!=", "=~", "!~"]),
    st.sampled_from([*_VALUES, "x|y", ".+", "x.*"]),
)


def _route(depth: int) -> st.SearchStrategy[str]:
    children = st.lists(_route(depth - 1), max_size=3) if depth > 0 else st.just([])
    return st.builds(
        _route_text,
        st.lists(_matcher, max_size=2),
        st.one_of(st.none(), st.sampled_from(["r1", "r2", "r3"])),
        st.booleans(),
        children,
    )


def _route_text(matchers: list[str], receiver: str | None, cont: bool, children: list[str]) -> str:
    parts = [f"matchers: [{', '.join(yaml_string(m) for m in matchers)}]", f"continue: {cont}"]
    if receiver:
        parts.append(f"receiver: {receiver}")
    if children:
        parts.append(f"routes: [{', '.join(children)}]")
    return "{" + ", ".join(parts) + "}"


_labels = st.dictionaries(st.sampled_from(_NAMES), st.sampled_from(["x", "y", "xy"]), max_size=3)


@settings(
    max_examples=8, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    tree=st.lists(_route(2), min_size=1, max_size=3),
    alerts=st.lists(_labels, min_size=4, max_size=4),
)
def test_generated_trees_match_as_amtool_matches(
    tmp_path: Path, tree: list[str], alerts: list[dict[str, str]]
) -> None:
    text = (
        f"route: {{receiver: r0, routes: [{', '.join(tree)}]}}\n"
        "receivers: [{name: r0}, {name: r1}, {name: r2}, {name: r3}]\n"
    )
    path = tmp_path / "am.yml"
    path.write_text(text)
    root = parse_config(text, str(path)).route
    for labels in alerts:
        assert receivers(root, labels) == receivers_for(path, labels), (text, labels)
