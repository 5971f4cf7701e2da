"""The log-sink filters (retrain.events.filters) against the golden events the decoders see."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from retrain.delivery.logfilter import And, Comparison, Not, Or, matches, parse
from retrain.errors import ConfigError, EventError
from retrain.events import filters
from retrain.events.bigquery import decode_data_arrival
from retrain.events.drift import decode_drift
from retrain.events.envelope import unwrap
from retrain.events.pipeline_job import decode_state_change
from retrain.events.types import Dismissed

GOLDEN = Path(__file__).resolve().parents[1] / "golden" / "events"
PROJECT = "acme-analytics"  # the project of the golden events
SINKS = {
    "data_arrival": filters.data_arrival_filter(PROJECT),
    "drift": filters.drift_alert_filter(PROJECT),
    "run_complete": filters.run_complete_filter(PROJECT),
}
DECODERS = {
    "data_arrival": decode_data_arrival,
    "drift": decode_drift,
    "run_complete": decode_state_change,
}
# Which sink forwards each golden entry. None: no sink (TFDV anomalies are published by the
# pipeline itself; the others are what the filters exist to keep out).
EXPECTED_SINK: dict[str, str | None] = {
    # legacy v1 entries: the same writes are counted from their v2 entries
    "bigquery_v1_failed.json": None,
    "bigquery_v1_load.json": None,
    "bigquery_v1_query.json": None,
    "bigquery_v1_temp_result.json": None,
    "bigquery_v1_table_update.json": None,  # the same schema change is read from its v2 entry
    "bigquery_v2_below_threshold.json": "data_arrival",
    "bigquery_v2_load.json": "data_arrival",
    "bigquery_v2_split_change.json": "data_arrival",
    "bigquery_v2_split_part.json": None,  # a split part without the change
    "bigquery_v2_table_drop_column.json": "data_arrival",  # table changes: Admin Activity log
    "bigquery_v2_table_patch_new_column.json": "data_arrival",
    "bigquery_v2_table_retyped.json": "data_arrival",
    "bigquery_v2_truncate.json": None,  # no inserted rows
    "bigquery_v2_unwatched.json": "data_arrival",  # the router ignores the table
    "bigquery_v2_write_api.json": "data_arrival",
    "bigquery_v2_write_api_second.json": "data_arrival",
    "malformed_bad_rows.json": "data_arrival",  # passes the sink, rejected by the decoder
    "malformed_monitoring_stats.json": "drift",  # passes the sink, rejected by the decoder
    "malformed_pipeline_no_state.json": None,
    "malformed_unknown_service.json": None,
    "monitoring_anomaly.json": "drift",
    "monitoring_anomaly_notify.json": "drift",
    "monitoring_stats_anomalies.json": "drift",
    "monitoring_v2_alert.json": "drift",
    "monitoring_v2_log_entry.json": "drift",
    "pipeline_failed.json": "run_complete",
    "pipeline_foreign.json": "run_complete",  # the router ignores jobs without our labels
    "pipeline_running.json": None,  # not terminal
    "pipeline_succeeded.json": "run_complete",
    "tfdv_anomalies.json": None,
    "tfdv_clean.json": None,
    # Cloud Scheduler publishes ticks straight to their topic: no log sink is involved.
    "malformed_schedule_tick.json": None,
    "schedule_no_trigger.json": None,
    "schedule_stale_spec.json": None,
    "schedule_tick.json": None,
    "schedule_tick_retry.json": None,
}


def _entries() -> list[tuple[str, str, dict[str, Any]]]:
    expected = json.loads((GOLDEN / "expected.json").read_text())
    out = []
    for name, case in sorted(expected.items()):
        try:
            entry = unwrap((GOLDEN / name).read_bytes()).payload
        except EventError:
            continue  # bodies that are not log entries at all never came from a sink
        out.append((name, case["function"], entry))
    return out


ENTRIES = _entries()


def test_every_golden_entry_has_an_expectation() -> None:
    assert sorted(name for name, _, _ in ENTRIES) == sorted(EXPECTED_SINK)


@pytest.mark.parametrize(("name", "function", "entry"), ENTRIES, ids=[e[0] for e in ENTRIES])
def test_sinks_forward_exactly_the_expected_entries(
    name: str, function: str, entry: dict[str, Any]
) -> None:
    hits = [kind for kind, text in SINKS.items() if matches(text, entry)]
    expected = EXPECTED_SINK[name]
    assert hits == ([expected] if expected else [])
    if expected:
        assert expected == function  # the sink feeds the function that decodes it


@pytest.mark.parametrize(("name", "function", "entry"), ENTRIES, ids=[e[0] for e in ENTRIES])
def test_whatever_a_decoder_accepts_passes_its_sink(
    name: str, function: str, entry: dict[str, Any]
) -> None:
    """The invariant: a filter never drops an event the decoder would act on."""
    if function not in SINKS:
        return  # not a log entry (schedule ticks): nothing filters it
    try:
        decoded = DECODERS[function](entry)
    except EventError:
        return
    is_tfdv = isinstance(entry.get("jsonPayload", entry), dict) and "anomalies" in entry.get(
        "jsonPayload", entry
    )
    if isinstance(decoded, Dismissed) or is_tfdv:
        return
    assert matches(SINKS[function], entry), f"{name} is decoded but its sink drops it"


def test_sinks_are_scoped_to_their_project() -> None:
    entry = next(e for n, _, e in ENTRIES if n == "bigquery_v2_below_threshold.json")
    other = {**entry, "logName": entry["logName"].replace(PROJECT, "someone-else")}
    assert matches(filters.data_arrival_filter(PROJECT), entry)
    assert not matches(filters.data_arrival_filter(PROJECT), other)
    job = next(e for n, _, e in ENTRIES if n == "pipeline_succeeded.json")
    assert not matches(filters.run_complete_filter("someone-else"), job)


def test_or_binds_tighter_than_and() -> None:
    node = parse('a="1" b="2" OR c="3"')
    assert node == And(
        (
            Comparison("a", "=", ("1",)),
            Or((Comparison("b", "=", ("2",)), Comparison("c", "=", ("3",)))),
        )
    )
    assert matches('a="1" AND b="2" OR c="3"', {"a": "1", "c": "3"})
    assert not matches('a="1" AND b="2" OR c="3"', {"a": "0", "c": "3"})


def test_operators() -> None:
    entry = {"x": {"n": 5, "s": "Hello World", "l": ["a", "b"], "t": True}}
    assert matches("x.n=5", entry)
    assert matches('x.s:"world"', entry)  # has: case-insensitive substring
    assert not matches('x.s="world"', entry)
    assert matches('x.l="b"', entry)
    assert matches("x.t=true", entry)
    assert matches("x:*", entry) and not matches("y:*", entry)
    assert matches('x.s!="bye"', entry) and not matches('y!="bye"', entry)
    assert matches('NOT y="1"', entry) and matches('-y="1"', entry)
    assert parse('NOT (a="1")') == Not(Comparison("a", "=", ("1",)))
    assert matches('x.s=("no" OR "Hello World")', entry)


@pytest.mark.parametrize("text", ['a>"1"', 'a="1" AND', "(a=1", 'a=~"x"', "=1"])
def test_syntax_outside_the_subset_is_an_error_not_a_mismatch(text: str) -> None:
    with pytest.raises(ConfigError):
        parse(text)
