"""Fuzzing the handlers and the spec loader: whatever arrives, the answer is a decision (or a
SpecError listing `FILE:LINE: field: message`), never an unhandled exception, and garbage
never starts a run.

RETRAIN_FUZZ_EXAMPLES sets the cases per test; by default the Hypothesis profile's count
(tests/conftest.py: 300 in `make test`, 30 in `make quick`); 10,000 in `bench/run_all.py`
(`bench/fuzz.py`).
"""

from __future__ import annotations

import base64
import json
import os
import re
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
import yaml
from functions_framework import create_app
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from retrain.errors import SpecError
from retrain.events.envelope import pubsub_body, unwrap
from retrain.routing.decision import Decision, EventKind
from retrain.routing.service import Service
from retrain.spec.load import parse_spec
from tests.routing.helpers import make_service

EXAMPLES = int(os.environ.get("RETRAIN_FUZZ_EXAMPLES", settings().max_examples))
FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
REPO = Path(__file__).resolve().parents[2]
GOLDEN = REPO / "tests" / "golden" / "events"
# The log entries inside the golden deliveries (mutations should hit fields, not base64).
PAYLOADS = {
    p.name: unwrap(json.loads(p.read_text())).payload
    for p in sorted(GOLDEN.glob("*.json"))
    if p.name != "expected.json" and not p.name.startswith("malformed_")
}
FUNCTIONS: tuple[EventKind, ...] = ("data_arrival", "drift", "run_complete")

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(st.characters(exclude_categories=()), max_size=40),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=4)
    ),
    max_leaves=16,
)


def handle(service: Service, function: EventKind, data: Any) -> list[Decision]:
    return service.handle(function, data, "fuzz-event")


def _paths(value: Any, prefix: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    yield prefix
    if isinstance(value, dict):
        for key, child in value.items():
            yield from _paths(child, (*prefix, key))
    elif isinstance(value, list):
        for i, child in enumerate(value):
            yield from _paths(child, (*prefix, i))


def _replace(value: Any, path: tuple[Any, ...], new: Any) -> Any:
    if not path:
        return new
    head, rest = path[0], path[1:]
    if isinstance(value, dict):
        return {**value, head: _replace(value[head], rest, new)}
    copy = list(value)
    copy[head] = _replace(copy[head], rest, new)
    return copy


@st.composite
def mutated_payloads(draw: st.DrawFn) -> dict[str, Any]:
    """A golden payload with one field (or subtree) replaced by a value of any type."""
    payload = PAYLOADS[draw(st.sampled_from(sorted(PAYLOADS)))]
    paths = list(_paths(payload))
    if draw(st.booleans()):  # any field or subtree, any type
        path = draw(st.sampled_from(paths[1:]))
        new: Any = draw(json_values)
    else:  # a string field, with a lone surrogate or other odd unicode in it
        strings = [p for p in paths[1:] if isinstance(_get(payload, p), str)]
        path = draw(st.sampled_from(strings))
        odd = st.sampled_from(["\ud800", "\udfff", "\x00", "\u202e", "\U0001f600", "`|<>"])
        new = _get(payload, path) + draw(odd)
    result: dict[str, Any] = _replace(payload, path, new)
    return result


def _get(value: Any, path: tuple[Any, ...]) -> Any:
    for step in path:
        value = value[step]
    return value


@st.composite
def garbage(draw: st.DrawFn) -> bytes | str | dict[str, Any]:
    """Undecodable or meaningless bodies: random bytes, truncated JSON, nesting bombs, huge
    strings, unicode (lone surrogates included), each bare or inside a Pub/Sub message."""
    kind = draw(st.sampled_from(["bytes", "truncated", "nested", "huge", "unicode", "types"]))
    raw: bytes
    if kind == "bytes":
        raw = draw(st.binary(max_size=300))
    elif kind == "truncated":
        text = json.dumps(PAYLOADS[draw(st.sampled_from(sorted(PAYLOADS)))])
        raw = text[: draw(st.integers(0, len(text) - 1))].encode()
    elif kind == "nested":
        depth = draw(st.integers(50, 100_000))
        raw = ("[" * depth + "]" * depth).encode()
    elif kind == "huge":
        raw = json.dumps({"protoPayload": {"serviceName": "x" * 2_000_000}}).encode()
    elif kind == "unicode":
        text = draw(st.text(min_size=1, max_size=60))
        raw = json.dumps({"insertId": text, text: [text]}).encode("utf-8", "surrogatepass")
    else:
        raw = json.dumps(draw(json_values)).encode()
    if draw(st.booleans()):
        body = {"message": {"data": base64.b64encode(raw).decode(), "messageId": "fz"}}
        return body
    return raw if draw(st.booleans()) else raw.decode("utf-8", "replace")


@FUZZ
@given(body=garbage(), function=st.sampled_from(FUNCTIONS))
def test_garbage_is_answered_and_never_starts_a_run(
    body: bytes | str | dict[str, Any], function: EventKind
) -> None:
    service, backend, log, sink = make_service()
    decisions = handle(service, function, body)
    assert decisions and decisions == log.decisions
    assert {d.decision for d in decisions} <= {"rejected", "ignored"}
    assert backend.calls == [] and sink.outcomes == []


@FUZZ
@given(payload=mutated_payloads(), function=st.sampled_from(FUNCTIONS), wrapped=st.booleans())
@example(  # found by the 10,000-case run: a TypeError in the TFDV decoder
    payload={
        "spec": "house-prices",
        "run_id": "house-prices-pr-1",
        "anomalies": {"driftSkewInfo": [{"path": {"step": ["city"]}, "driftMeasurements": True}]},
    },
    function="drift",
    wrapped=False,
)
def test_mutated_events_get_a_decision_and_runs_only_from_valid_requests(
    payload: dict[str, Any], function: EventKind, wrapped: bool
) -> None:
    service, backend, log, _ = make_service()
    data: Any = pubsub_body(payload, "fz-1", {}) if wrapped else payload
    decisions = handle(service, function, data)
    assert decisions and decisions == log.decisions
    runs = [d for d in decisions if d.decision == "run"]
    assert len(runs) == len(backend.jobs)
    for request in backend.calls:  # a run needs a table or model a spec names
        assert request.spec in {"churn", "house-prices"}
        assert re.fullmatch(r"[a-z][a-z0-9-]{0,127}", request.job_id)


# -- through the functions framework: structured and binary CloudEvents ------------------------

SOURCE = REPO / "functions" / "main.py"


@pytest.fixture(scope="module")
def clients() -> Iterator[dict[str, Any]]:
    """A test client per function; each loads functions/main.py afresh, so each module gets
    the in-memory service."""
    service, _, _, _ = make_service()
    apps: dict[str, Any] = {}
    modules: list[ModuleType] = []
    for target in ("on_data_arrival", "on_drift_alert", "on_run_complete"):
        apps[target] = create_app(target, str(SOURCE), "cloudevent").test_client()  # type: ignore[no-untyped-call]
        modules.append(sys.modules["main"])
        modules[-1].use_service(service)
    yield apps
    for module in modules:
        module.use_service(None)
    sys.modules.pop("main", None)


def _as_push(body: bytes | str | dict[str, Any]) -> dict[str, Any]:
    """What a Pub/Sub push carries: the payload always base64 inside `message.data` (a raw
    body is never JSON-parsed by the framework, whose own parser fails on nesting bombs)."""
    if isinstance(body, dict):
        return body
    raw = body.encode("utf-8", "surrogatepass") if isinstance(body, str) else body
    return {"message": {"data": base64.b64encode(raw).decode(), "messageId": "fz"}}


@settings(
    max_examples=max(EXAMPLES // 3, 50),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    body=st.one_of(garbage().map(_as_push), mutated_payloads()),
    target=st.integers(0, 2),
    binary=st.booleans(),
)
def test_the_functions_never_answer_500_to_garbage(
    clients: dict[str, Any],
    body: dict[str, Any],
    target: int,
    binary: bool,
) -> None:
    client = clients[("on_data_arrival", "on_drift_alert", "on_run_complete")[target]]
    raw = json.dumps(body).encode()
    if binary:
        headers = {
            "Content-Type": "application/json",
            "ce-id": "fz",
            "ce-specversion": "1.0",
            "ce-type": "google.cloud.pubsub.topic.v1.messagePublished",
            "ce-source": "//pubsub.googleapis.com/projects/p/topics/t",
        }
        answer = client.post("/", headers=headers, data=raw)
    else:
        event = {
            "specversion": "1.0",
            "id": "fz",
            "type": "google.cloud.pubsub.topic.v1.messagePublished",
            "source": "//pubsub.googleapis.com/projects/p/topics/t",
            "datacontenttype": "application/json",
            "data": body,
        }
        answer = client.post(
            "/",
            headers={"Content-Type": "application/cloudevents+json"},
            data=json.dumps(event),
        )
    # 400: the framework refused a body that is no CloudEvent; never a crash of ours (500)
    assert answer.status_code in (200, 400), answer.get_data(as_text=True)[-2000:]


# -- the spec loader ---------------------------------------------------------------------------

SPEC_TEXT = (REPO / "specs" / "churn.yaml").read_text()
SPEC_DATA = yaml.safe_load(SPEC_TEXT)
PROBLEM = re.compile(r"^specs/churn\.yaml:(\d+): (.+?): (.+)$", re.DOTALL)


@st.composite
def bad_specs(draw: st.DrawFn) -> str:
    kind = draw(st.sampled_from(["text", "lines", "chars", "types", "anchors", "keys", "nest"]))
    if kind in ("anchors", "keys", "nest"):
        lines = SPEC_TEXT.splitlines()
        at = draw(st.integers(0, len(lines)))
        indent = " " * draw(st.sampled_from([0, 2, 4]))
        name = draw(st.from_regex(r"[a-z]{1,6}", fullmatch=True))
        if kind == "anchors":
            shapes = [
                f"{indent}{name}: &{name} [a, b]",
                f"{indent}{name}: *{name}",
                f"{indent}<<: *{name}",
                f"{indent}- &{name} x",
            ]
        elif kind == "keys":
            shapes = [f"{indent}? [a, b]\n{indent}: 1", f"{indent}? {{a: 1}}\n{indent}: 2"]
        else:
            depth = draw(st.integers(20, 400))
            shapes = [f"{indent}{name}: " + "[" * depth + "]" * depth]
        lines.insert(at, draw(st.sampled_from(shapes)))
        return "\n".join(lines)
    if kind == "text":
        return draw(st.text(max_size=200))
    if kind == "lines":
        lines = SPEC_TEXT.splitlines()
        for _ in range(draw(st.integers(1, 4))):
            i = draw(st.integers(0, len(lines) - 1))
            action = draw(st.sampled_from(["drop", "dup", "indent", "dedent"]))
            if action == "drop":
                del lines[i]
            elif action == "dup":
                lines.insert(i, lines[i])
            elif action == "indent":
                lines[i] = "  " + lines[i]
            else:
                lines[i] = lines[i].lstrip()
            if not lines:
                break
        return "\n".join(lines)
    if kind == "chars":
        i = draw(st.integers(0, len(SPEC_TEXT)))
        return SPEC_TEXT[:i] + draw(st.text(min_size=1, max_size=5)) + SPEC_TEXT[i:]
    path = draw(st.sampled_from(list(_paths(SPEC_DATA))[1:]))
    return yaml.safe_dump(_replace(SPEC_DATA, path, draw(json_values)), sort_keys=False)


@FUZZ
@given(text=bad_specs())
def test_every_bad_spec_gets_file_line_field_message(text: str) -> None:
    try:
        parse_spec(text, "specs/churn.yaml")
    except SpecError as exc:
        assert exc.problems
        lines = max(1, text.count("\n") + 1)
        for problem in exc.problems:
            match = PROBLEM.match(str(problem))
            assert match, str(problem)
            assert 1 <= int(match.group(1)) <= lines + 1, (str(problem), lines)
            assert match.group(3).strip()


# -- the training query --------------------------------------------------------------------

WATCHED = "acme-analytics.crm.customers"
STATEMENTS = [
    "SELECT {cols} FROM `{t}`",
    "WITH w AS (SELECT {cols} FROM `{t}`) SELECT {cols} FROM w",
    "SELECT {cols} FROM `{t}` UNION ALL SELECT {cols} FROM `{t}`",
    "DELETE FROM `{t}` WHERE {cols} IS NULL",
    "INSERT INTO `{t}` ({cols}) VALUES (1)",
    "UPDATE `{t}` SET {cols} = 1 WHERE TRUE",
    "MERGE `{t}` a USING `{t}` b ON TRUE WHEN MATCHED THEN DELETE",
    "DROP TABLE `{t}`",
    "TRUNCATE TABLE `{t}`",
    "EXPORT DATA OPTIONS(uri='gs://x/*.csv', format='CSV') AS SELECT {cols} FROM `{t}`",
    "EXECUTE IMMEDIATE 'SELECT {cols}'",
    "CALL `{t}`()",
    "BEGIN SELECT {cols} FROM `{t}`; END",
    "DECLARE {cols} INT64",
    "SELECT {cols} FROM EXTERNAL_QUERY('c', 'SELECT 1')",
    "SELECT {cols} FROM read_text('/etc/hostname')",
    "SELECT {cols} FROM read_csv_auto('/etc/passwd')",
    "COPY (SELECT {cols} FROM `{t}`) TO '/tmp/x'",
    "SELECT {cols} INTO x FROM `{t}`",
    "SELECT {cols} FROM `{t}` WHERE {cols} IN (SELECT {cols} FROM `other-proj.d.t`)",
]


@st.composite
def queries(draw: st.DrawFn) -> str:
    cols = draw(st.sampled_from(["tenure_months", "*", "churned, country"]))
    table = draw(st.sampled_from([WATCHED, WATCHED, "other-proj.d.t", "w"]))
    parts = [
        draw(st.sampled_from(STATEMENTS)).format(cols=cols, t=table)
        for _ in range(draw(st.integers(1, 2)))
    ]
    glue = draw(st.sampled_from(["; ", ";\n", " "]))
    return glue.join(parts) + draw(st.sampled_from(["", ";", " -- c", draw(st.text(max_size=8))]))


@FUZZ
@given(sql=queries())
def test_only_one_select_over_the_watched_table_passes_the_query_check(sql: str) -> None:
    from sqlglot import exp

    from retrain.spec.sql import QueryProblem, checked_query

    try:
        tree = checked_query(sql, WATCHED)
    except QueryProblem as exc:
        assert str(exc)
        return
    assert isinstance(tree, exp.Select | exp.SetOperation), sql
    ctes = {c.alias_or_name for c in tree.find_all(exp.CTE)}
    for table in tree.find_all(exp.Table):
        assert isinstance(table.this, exp.Identifier), sql
        name = ".".join(p for p in (table.catalog, table.db, table.name) if p)
        assert name == WATCHED or name in ctes, sql
    for node in tree.walk():
        assert not isinstance(node, exp.Command | exp.Into | exp.Insert | exp.Delete), sql
