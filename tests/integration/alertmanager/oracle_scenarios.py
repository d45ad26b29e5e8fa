"""The differential scenarios: each an alertmanager.yml, timed steps and a hand-worked outline.

Timings are short so that a scenario lasts a few seconds: ``group_wait`` 1 s and
``group_interval`` 2 s unless said otherwise. Alerts posted at 0 therefore flush at 1, 3,
5 ...; steps and ends sit at least 0.5 s away from those ticks, so that no outcome depends on
which side of a tick a step lands. Alerts carry no ``startsAt`` unless said (the server stamps
arrival): an alert that started more than ``group_wait`` ago would flush its group at once.

Outlines write a notification as ``"group labels: alerts"``, an alert as its labels outside the
group labels followed by ``+`` (firing) or ``-`` (resolved); see
:func:`oracle_normal.outline`. Each was worked out from Alertmanager 0.25's documented
behaviour and is checked against the real one.
"""

from __future__ import annotations

from oracle import Expire, Matcher, Post, Scenario, Silence, alert

TIMINGS = """
  group_wait: 1s
  group_interval: 2s
  repeat_interval: 1h"""


def hooks(*names: str, quiet: tuple[str, ...] = ()) -> str:
    """A ``receivers:`` section: a webhook per name at ``$webhook/<name>``; ``quiet`` ones
    do not send resolved alerts."""
    lines = ["receivers:"]
    for name in names + quiet:
        lines += [
            f"  - name: {name}",
            "    webhook_configs:",
            f"      - url: $webhook/{name}",
            f"        send_resolved: {'false' if name in quiet else 'true'}",
        ]
    return "\n".join(lines) + "\n"


# Alerts of one name group together; a member joining later is announced at the next
# group_interval with the whole group; re-posting an unchanged alert announces nothing.
GROUPING = Scenario(
    "grouping",
    "route:\n  receiver: hook\n  group_by: [alertname]" + TIMINGS + "\n" + hooks("hook"),
    (
        Post(
            0,
            (alert(alertname="A", i="1"), alert(alertname="A", i="2"), alert(alertname="B", i="1")),
        ),
        Post(1.5, (alert(alertname="A", i="3"), alert(alertname="B", i="1"))),
    ),
    end=4.0,
    expected={
        "/hook": [
            (1, "alertname=A: i=1+ i=2+"),
            (1, "alertname=B: i=1+"),
            (3, "alertname=A: i=1+ i=2+ i=3+"),
        ]
    },
)

# group_by: ['...']: every label set is a group of its own.
GROUP_BY_ALL = Scenario(
    "group_by_all",
    "route:\n  receiver: hook\n  group_by: ['...']" + TIMINGS + "\n" + hooks("hook"),
    (
        Post(
            0,
            (alert(alertname="A", i="1"), alert(alertname="A", i="2"), alert(alertname="B", i="1")),
        ),
        Post(1.5, (alert(alertname="A", i="2", ends=1.5),)),
    ),
    end=4.0,
    expected={
        "/hook": [
            (1, "alertname=A,i=1: +"),
            (1, "alertname=A,i=2: +"),
            (1, "alertname=B,i=1: +"),
            (3, "alertname=A,i=2: -"),
        ]
    },
)

# continue: team a's route passes its alerts on to the next siblings, and a nested route takes
# its critical ones. The pager route has no continue: critical alerts stop there, so "rest"
# gets only team a's warning (past team a, not caught by the pager). An alert that matched a
# route does not fall back to the root receiver; one that matched none does.
CONTINUE = Scenario(
    "continue",
    f"""route:
  receiver: default
  group_by: [alertname]{TIMINGS}
  routes:
    - matchers: ['team="a"']
      receiver: team-a
      continue: true
      routes:
        - matchers: ['severity="critical"']
          receiver: team-a-pager
    - matchers: ['severity="critical"']
      receiver: pager
    - matchers: ['severity=~"critical|warning"']
      receiver: rest
"""
    + hooks("default", "team-a", "team-a-pager", "pager", "rest"),
    (
        Post(
            0,
            (
                alert(alertname="Disk", team="a", severity="critical"),
                alert(alertname="Cpu", team="a", severity="warning"),
                alert(alertname="Net", team="b", severity="critical"),
                alert(alertname="Fan", team="b", severity="info"),
            ),
        ),
    ),
    end=2.0,
    expected={
        "/team-a": [(1, "alertname=Cpu: severity=warning,team=a+")],
        "/team-a-pager": [(1, "alertname=Disk: severity=critical,team=a+")],
        "/pager": [
            (1, "alertname=Disk: severity=critical,team=a+"),
            (1, "alertname=Net: severity=critical,team=b+"),
        ],
        "/rest": [(1, "alertname=Cpu: severity=warning,team=a+")],
        "/default": [(1, "alertname=Fan: severity=info,team=b+")],
    },
)

# A critical alert mutes the warnings of its own cluster only; once it resolves, the muted
# warning is announced at the next flush, and the critical one's resolution is sent.
INHIBITION = Scenario(
    "inhibition",
    "route:\n  receiver: hook\n  group_by: [alertname]"
    + TIMINGS
    + """
inhibit_rules:
  - source_matchers: ['severity="critical"']
    target_matchers: ['severity="warning"']
    equal: [cluster]
"""
    + hooks("hook"),
    (
        Post(
            0,
            (
                alert(alertname="Down", cluster="a", severity="critical"),
                alert(alertname="Slow", cluster="a", severity="warning"),
                alert(alertname="Slow", cluster="b", severity="warning"),
            ),
        ),
        Post(2.0, (alert(alertname="Down", cluster="a", severity="critical", ends=2.0),)),
    ),
    end=4.0,
    expected={
        "/hook": [
            (1, "alertname=Down: cluster=a,severity=critical+"),
            (1, "alertname=Slow: cluster=b,severity=warning+"),
            (3, "alertname=Down: cluster=a,severity=critical-"),
            (3, "alertname=Slow: cluster=a,severity=warning+ cluster=b,severity=warning+"),
        ]
    },
)

# Silences made through the API before the alerts arrive (a negative matcher, a regex) mute
# them; expired at 2 s, the alerts are announced at the next flush. A silence made at 3.5 s
# on an alert already announced leaves a group whose other alert was announced too: nothing
# new to say at 5 s.
SILENCES = Scenario(
    "silences",
    "route:\n  receiver: hook\n  group_by: [alertname]" + TIMINGS + "\n" + hooks("hook"),
    (
        Silence(0, "not-i1", (Matcher("alertname", "A"), Matcher("i", "1", equal=False))),
        Silence(0, "b-or-c", (Matcher("alertname", "B|C", regex=True),)),
        Post(
            0,
            (alert(alertname="A", i="1"), alert(alertname="A", i="2"), alert(alertname="B", i="1")),
        ),
        Expire(2.0, "not-i1"),
        Expire(2.0, "b-or-c"),
        Silence(3.5, "i1", (Matcher("alertname", "A"), Matcher("i", "1"))),
    ),
    end=6.0,
    expected={
        "/hook": [
            (1, "alertname=A: i=1+"),
            (3, "alertname=A: i=1+ i=2+"),
            (3, "alertname=B: i=1+"),
        ]
    },
)

# Resolution by a posted endsAt (i=1 at 1.8 s) and by an endsAt given in advance (i=2, 4.3 s):
# "loud" hears of each; "quiet" (send_resolved: false) only of the firing.
RESOLVES = Scenario(
    "resolves",
    f"""route:
  receiver: loud
  group_by: [alertname]{TIMINGS}
  routes:
    - receiver: loud
      continue: true
    - receiver: quiet
"""
    + hooks("loud", quiet=("quiet",)),
    (
        Post(0, (alert(alertname="R", i="1"), alert(alertname="R", i="2", starts=0, ends=4.3))),
        Post(1.8, (alert(alertname="R", i="1", ends=1.8),)),
    ),
    end=6.0,
    expected={
        "/loud": [
            (1, "alertname=R: i=1+ i=2+"),
            (3, "alertname=R: i=1- i=2+"),
            (5, "alertname=R: i=2-"),
        ],
        "/quiet": [(1, "alertname=R: i=1+ i=2+")],
    },
)

# An unchanged group is sent again once repeat_interval (1.5 s) has passed since the last
# send, checked at each group_interval (1 s) tick: at 1, 3 and 5 s. The repeat interval is
# not a multiple of the group interval, so no tick falls on its boundary.
REPEAT = Scenario(
    "repeat",
    """route:
  receiver: hook
  group_by: [alertname]
  group_wait: 1s
  group_interval: 1s
  repeat_interval: 1500ms
"""
    + hooks("hook"),
    (Post(0, (alert(alertname="Hot", i="1"),)),),
    end=5.5,
    expected={"/hook": [(t, "alertname=Hot: i=1+") for t in (1, 3, 5)]},
)

# 200 alerts in 20 groups, posted in five requests within 0.4 s: one notification per group
# with its ten alerts; half of each group resolved at 2 s: one more per group at 3 s.
BURST_GROUPS = [f"g{g:02d}" for g in range(20)]
BURST = Scenario(
    "burst",
    "route:\n  receiver: hook\n  group_by: [group]" + TIMINGS + "\n" + hooks("hook"),
    (
        *(
            Post(
                0.1 * k,
                tuple(
                    alert(alertname="Burst", group=g, i=str(i))
                    for g in BURST_GROUPS
                    for i in (2 * k, 2 * k + 1)
                ),
            )
            for k in range(5)
        ),
        Post(
            2.0,
            tuple(
                alert(alertname="Burst", group=g, i=str(i), ends=2.0)
                for g in BURST_GROUPS
                for i in range(5)
            ),
        ),
    ),
    end=4.0,
    expected={
        "/hook": [
            *(
                (1, f"group={g}: " + " ".join(f"alertname=Burst,i={i}+" for i in range(10)))
                for g in BURST_GROUPS
            ),
            *(
                (
                    3,
                    f"group={g}: "
                    + " ".join(f"alertname=Burst,i={i}{'-' if i < 5 else '+'}" for i in range(10)),
                )
                for g in BURST_GROUPS
            ),
        ]
    },
)

SCENARIOS = (GROUPING, GROUP_BY_ALL, CONTINUE, INHIBITION, SILENCES, RESOLVES, REPEAT, BURST)
