"""Random series and random supported expressions: promtool 2.42 must agree with our engine.

Each example draws a few series (counters with resets, gauges, gaps, staleness markers) and
expressions built from the supported grammar, evaluates them with our engine at a few
instants, writes one promtool test file whose `promql_expr_test` entries expect our results
(values printed as the shortest exact decimal; promtool compares exactly), runs promtool once,
and asserts it passes. Expressions our engine refuses at evaluation (many-to-many matching,
duplicate label sets) go to a second file where promtool must fail on each of them too.

Prometheus sums series in storage order, random in promtool, so `sum` and `avg` only take
inputs whose sum is exact in any order (small integers, `avg` of at most two).
"""

import math
import os
import re
import subprocess
from dataclasses import dataclass

import pytest
import yaml
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from streams.promql.evaluate import EvalError, Vector, evaluate
from streams.promql.gofmt import labels_string
from streams.promql.notation import expand_values, parse_series
from streams.promql.parse import parse_expr
from streams.promql.series import SampleStore

# more for a deeper run: PULSELINE_PROMTOOL_EXAMPLES=2000 pytest tests/unit/promql -k promtool
EXAMPLES = int(os.environ.get("PULSELINE_PROMTOOL_EXAMPLES", "60"))
RANGES = ["1m", "2m", "150s", "5m"]
LABEL_VALUES = {"inst": ["a", "b"], "grp": ["x", "y"]}
EXACT_RANGE_FUNCS = [
    "count_over_time",
    "sum_over_time",
    "max_over_time",
    "min_over_time",
    "last_over_time",
]
OTHER_RANGE_FUNCS = ["rate", "increase", "delta", "irate", "avg_over_time"]
COMPARISONS = ["==", "!=", ">", "<", ">=", "<="]


# --- series -----------------------------------------------------------------------------


@st.composite
def gauge_values(draw: st.DrawFn, length: int) -> str:
    items = []
    for _ in range(length):
        kind = draw(st.sampled_from(["n"] * 6 + ["_", "stale"]))
        items.append(str(draw(st.integers(-5, 100))) if kind == "n" else kind)
    return " ".join(items)


@st.composite
def decimals(draw: st.DrawFn, length: int) -> str:
    """Values whose sums round: only read by expressions summed in one order (numeric)."""
    items = []
    for _ in range(length):
        kind = draw(st.sampled_from(["n"] * 6 + ["_", "stale"]))
        number = round(draw(st.floats(-50, 1000)), draw(st.integers(1, 3)))
        items.append(repr(number) if kind == "n" else kind)
    return " ".join(items)


@st.composite
def counter_values(draw: st.DrawFn, length: int) -> str:
    items, value = [], draw(st.integers(0, 50))
    for _ in range(length):
        kind = draw(st.sampled_from(["n"] * 7 + ["_", "stale", "reset"]))
        if kind == "reset":
            value = draw(st.integers(0, 5))
            kind = "n"
        items.append(str(value) if kind == "n" else kind)
        value += draw(st.integers(0, 40))
    return " ".join(items)


@st.composite
def series_set(draw: st.DrawFn) -> dict[str, str]:
    length = draw(st.integers(6, 14))
    out: dict[str, str] = {}
    metrics = (
        ("ga", gauge_values),
        ("gb", gauge_values),
        ("cnt", counter_values),
        ("gd", decimals),
    )
    for metric, values in metrics:
        pool = [
            {},
            {"inst": "a"},
            {"inst": "b"},
            {"inst": "a", "grp": "x"},
            {"inst": "b", "grp": "y"},
        ]
        chosen = draw(
            st.lists(
                st.sampled_from(pool), min_size=1, max_size=2, unique_by=lambda d: tuple(d.items())
            )
        )
        for labels in chosen:
            out[metric + labels_string(sorted(labels.items())).replace(" ", "")] = draw(
                values(length)
            )
    return out


# --- expressions ----------------------------------------------------------------------


@dataclass(frozen=True)
class Gen:
    text: str
    exact: bool  # small dyadic values: any summation order gives the same result


@st.composite
def selector(draw: st.DrawFn, named: bool = True) -> str:
    if not named and draw(st.booleans()):
        return '{__name__=~"ga|gb"}'
    metric = draw(st.sampled_from(["ga", "gb", "cnt", "missing"] if named else ["ga", "gb"]))
    matchers = draw(
        st.lists(
            st.sampled_from(['inst="a"', 'inst!="a"', 'grp=~"x|y"', 'grp=""', 'inst=~"b"']),
            max_size=2,
            unique=True,
        )
    )
    return metric + ("{" + ",".join(matchers) + "}" if matchers else "")


@st.composite
def leaf(draw: st.DrawFn, exact_only: bool = False) -> Gen:
    kind = draw(
        st.sampled_from(["sel", "exact_range"] if exact_only else ["sel", "exact_range", "range"])
    )
    sel = draw(selector())
    if kind == "sel":
        return Gen(sel, True)
    window = draw(st.sampled_from(RANGES))
    if kind == "exact_range":
        return Gen(f"{draw(st.sampled_from(EXACT_RANGE_FUNCS))}({sel}[{window}])", True)
    return draw(numeric())


@st.composite
def numeric(draw: st.DrawFn) -> Gen:
    """A rate-like function, mostly of the counters, maybe raised to a power or divided:
    the float arithmetic that must agree to the bit."""
    metric = draw(st.sampled_from(["cnt", "cnt", "gd", "other"]))
    sel = draw(selector())
    if metric != "other":
        sel = metric + draw(st.sampled_from(["", '{inst="a"}', '{grp=""}']))
    text = f"{draw(st.sampled_from(OTHER_RANGE_FUNCS))}({sel}[{draw(st.sampled_from(RANGES))}])"
    tail = draw(
        st.sampled_from(["", "", " ^ 2", " ^ 3", " ^ 7", " ^ 0.5", " / 3", " * 1.1", " % 0.7"])
    )
    return Gen(f"({text}){tail}" if tail else text, False)


def matching(draw: st.DrawFn) -> str:
    return draw(st.sampled_from(["", " on (inst)", " ignoring (grp)", " on ()", " on (inst, grp)"]))


@st.composite
def expression(draw: st.DrawFn, depth: int = 3) -> Gen:
    if depth <= 0:
        return draw(leaf())
    kind = draw(
        st.sampled_from(
            ["leaf", "agg", "avg", "scalar", "compare", "vector", "set", "absent", "regex"]
        )
    )
    if kind == "leaf":
        return draw(leaf())
    if kind == "regex":
        return Gen(f"{draw(st.sampled_from(['', '-']))}{draw(selector(named=False))} * 2", True)
    if kind == "absent":
        inner = draw(selector()) if draw(st.booleans()) else draw(expression(depth - 1)).text
        return Gen(f"absent({inner})", True)
    if kind == "avg":
        grouping = draw(st.sampled_from(["", " by (inst)", " without (grp)", " by (grp)"]))
        return Gen(f"avg{grouping} ({draw(leaf(exact_only=True)).text})", True)
    if kind == "agg":
        inner = draw(expression(depth - 1))
        ops = ["max", "min", "count"] + (["sum"] if inner.exact else [])
        op = draw(st.sampled_from(ops))
        grouping = draw(
            st.sampled_from(
                ["", " by (inst)", " without (inst)", " by (grp, inst)", " by (__name__)"]
            )
        )
        return Gen(f"{op}{grouping} ({inner.text})", inner.exact or op == "count")
    if kind in ("scalar", "compare"):
        inner = draw(expression(depth - 1))
        if kind == "compare":
            op = draw(st.sampled_from(COMPARISONS)) + draw(st.sampled_from(["", " bool"]))
            number = draw(st.sampled_from(["0", "1", "10", "50", "-1", "0.5"]))
            exact = inner.exact
        else:
            op = draw(st.sampled_from(["+", "-", "*", "/", "%", "^"]))
            number = draw(st.sampled_from(["2", "3", "0", "-1", "0.5", "7"]))
            exact = inner.exact and op in "+-*" and number != "0.5"
        if draw(st.booleans()):
            return Gen(f"{number} {op} ({inner.text})", exact)
        return Gen(f"({inner.text}) {op} {number}", exact)
    lhs, rhs = draw(expression(depth - 1)), draw(expression(depth - 1))
    if kind == "set":
        op = draw(st.sampled_from(["and", "or", "unless"]))
        return Gen(f"({lhs.text}) {op}{matching(draw)} ({rhs.text})", lhs.exact and rhs.exact)
    op = draw(st.sampled_from(["+", "-", "*", "/", *COMPARISONS]))
    bool_ = " bool" if op in COMPARISONS and draw(st.booleans()) else ""
    exact = lhs.exact and rhs.exact and op != "/"
    return Gen(f"({lhs.text}) {op}{bool_}{matching(draw)} ({rhs.text})", exact)


# --- the property -----------------------------------------------------------------------


def yaml_float(value: float) -> str | float:
    if math.isinf(value):
        return ".inf" if value > 0 else "-.inf"
    return value


def samples_yaml(vector: Vector) -> list[dict[str, object]]:
    return [{"labels": labels_string(s.labels), "value": yaml_float(s.value)} for s in vector]


def duration(ms: int) -> str:
    return f"{ms // 1000}s"


@given(
    series=series_set(),
    exprs=st.lists(expression(), min_size=4, max_size=8),
    numerics=st.lists(numeric(), min_size=4, max_size=8),
    interval_s=st.sampled_from([60, 30, 45]),
    times=st.lists(st.integers(0, 60), min_size=2, max_size=3, unique=True),
)
@settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
    phases=[Phase.explicit, Phase.reuse, Phase.generate],  # no shrinking: a promtool run each
)
def test_promtool_agrees_with_our_engine(
    promtool: str,
    tmp_path_factory: pytest.TempPathFactory,
    series: dict[str, str],
    exprs: list[Gen],
    numerics: list[Gen],
    interval_s: int,
    times: list[int],
) -> None:
    store = SampleStore()
    for desc, values in series.items():
        for i, value in enumerate(expand_values(values)):
            if value is not None:
                store.add(parse_series(desc), i * interval_s * 1000, value)
    agree, errors = [], []
    for gen in exprs + numerics:
        tree = parse_expr(gen.text)  # every generated expression is in the supported subset
        for step in times:
            t_ms = step * 15_000
            try:
                result = evaluate(tree, store, t_ms)
            except EvalError:
                errors.append({"expr": gen.text, "eval_time": duration(t_ms), "exp_samples": []})
                continue
            if any(math.isnan(s.value) for s in result):
                continue  # promtool never finds NaN equal to NaN
            agree.append(
                {"expr": gen.text, "eval_time": duration(t_ms), "exp_samples": samples_yaml(result)}
            )
    directory = tmp_path_factory.mktemp("promtool")
    inputs = [{"series": desc, "values": values} for desc, values in series.items()]
    group = {"interval": f"{interval_s}s", "input_series": inputs}
    # one test group per erroring expression: promtool must report an error for each
    # promtool loads input samples only up to its last evaluation step at or before the
    # latest eval_time: evaluating every 15 s (the eval times' grain) loads all they can see
    doc = {
        "rule_files": [],
        "evaluation_interval": "15s",
        "tests": [{**group, "promql_expr_test": agree}]
        + [{**group, "promql_expr_test": [e]} for e in errors],
    }
    path = directory / "generated_test.yml"
    text = (
        yaml.safe_dump(doc, sort_keys=False, width=1000)
        .replace("'.inf'", ".inf")
        .replace("'-.inf'", "-.inf")
    )
    path.write_text(text)
    run = subprocess.run(
        [promtool, "test", "rules", str(path)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    expected_errors = {(e["expr"], e["eval_time"]) for e in errors}
    reported = re.findall(r'^    expr: "(.*)", time: (\S+), err: ', run.stderr, re.MULTILINE)
    got_errors = {
        (text.encode().decode("unicode_escape"), _seconds(when)) for text, when in reported
    }
    mismatches = [
        line
        for line in run.stderr.split("\n    expr: ")[1:]
        if ", err: " not in line.split("\n")[0]
    ]
    assert not mismatches, (
        "promtool disagrees:\n    expr: " + "\n    expr: ".join(mismatches) + f"\n\nfile:\n{text}"
    )
    assert got_errors == expected_errors, f"errors differ:\n{run.stderr}\n\nfile:\n{text}"
    assert (run.returncode == 0) == (not errors), run.stderr


def _seconds(go_text: str) -> str:
    """promtool prints eval_time as model.Duration: 1m30s, 0s; back to whole seconds."""
    total = 0
    for number, unit in re.findall(r"(\d+)(ms|[smhd])", go_text):
        total += int(number) * {"ms": 0, "s": 1, "m": 60, "h": 3600, "d": 86400}[unit]
    return f"{total}s"
