"""The schema change PR's edit on its own: values read from TFDV's text, escaped, never guessed."""

from __future__ import annotations

from retrain.anomalies import classify
from retrain.codehost.schema_edit import new_values, propose_schema
from retrain.spec.tfschema import parse_text_format
from retrain.summary import Anomaly
from tests.conftest import REPO
from tests.test_anomalies import summary_with

SCHEMA = (REPO / "specs" / "churn.schema.pbtxt").read_text()
NEW = "ENUM_TYPE_UNEXPECTED_STRING_VALUES"


def edit(*anomalies: Anomaly):  # type: ignore[no-untyped-def]
    return propose_schema(SCHEMA, classify(summary_with(list(anomalies))))


def test_values_are_read_from_tfdvs_description() -> None:
    text = "Examples contain values missing from the schema: PT (~4%), a, b (<1%), x (~12%). "
    assert new_values(text) == ["PT", "a, b", "x"]
    assert new_values("[train] Examples contain values missing from the schema: NL (~2%). ") == [
        "NL"
    ]
    assert new_values("Something else entirely") == []


def test_hostile_values_are_escaped_and_the_result_still_parses() -> None:
    value = 'say "hi" \\ bye'
    found = edit(
        Anomaly(
            feature="country",
            kind=NEW,
            description=f"Examples contain values missing from the schema: {value} (~1%). ",
        )
    )
    assert found.applied == (f"new categories of country: {value}",)
    domain = next(
        m
        for m, _ in parse_text_format(found.text).values("string_domain")
        if m.scalar("name") == "country"  # type: ignore[union-attr]
    )
    assert value in [v for v, _ in domain.values("value")]  # type: ignore[union-attr]


def test_what_cannot_be_placed_is_a_note_not_a_guess() -> None:
    control = edit(
        Anomaly(
            feature="country",
            kind=NEW,
            description="Examples contain values missing from the schema: a\x01b (~1%). ",
        )
    )
    # Issue 25: a control character is data like any other: proposed as an octal escape,
    # which protobuf's text format (and retrain's reader) read back as the same value.
    assert control.notes == () and '  value: "a\\001b"\n}' in control.text
    unnamed = edit(Anomaly(feature="contract", kind=NEW, description="values changed"))
    assert unnamed.text == SCHEMA
    assert unnamed.notes == ("contract: TFDV's description names no values to add",)
    numeric = edit(
        Anomaly(
            feature="tenure_months",
            kind=NEW,
            description="Examples contain values missing from the schema: 3 (~1%). ",
        )
    )
    assert numeric.notes == ("tenure_months: no top-level string_domain to add its values to",)


def test_known_values_and_errors_change_nothing() -> None:
    known = "Examples contain values missing from the schema: US (~1%). "
    assert edit(Anomaly(feature="country", kind=NEW, description=known)).text == SCHEMA
    assert edit(Anomaly(feature="country", kind="SCHEMA_MISSING_COLUMN")).text == SCHEMA
