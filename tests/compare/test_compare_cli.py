"""`retrain compare` through the real CLI entry point: output and exit codes."""

from __future__ import annotations

from pathlib import Path

import pytest

from retrain.cli.main import main
from tests.fakes.summaries import fixture_path

SPECS = Path(__file__).resolve().parents[2] / "specs"
CHURN = str(SPECS / "churn.yaml")


def test_pass_prints_the_comment_and_exits_0(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["compare", str(fixture_path("churn_pass")), "--spec", CHURN, "--pr", "9"])
    out = capsys.readouterr().out
    assert code == 0
    assert out.startswith("<!-- retrain:comparison spec=churn pr=9 -->")
    assert "### ✅ Pass" in out


def test_fail_exits_1(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["compare", str(fixture_path("churn_regression")), "--spec", CHURN]) == 1
    assert "### ❌ Fail" in capsys.readouterr().out


def test_no_baseline_is_not_a_failure(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["compare", str(fixture_path("churn_first_run")), "--spec", CHURN]) == 0
    assert "No baseline yet" in capsys.readouterr().out


def test_an_older_summary_serves_as_baseline(capsys: pytest.CaptureFixture[str]) -> None:
    args = [str(fixture_path("churn_disagree")), str(fixture_path("churn_first_run"))]
    assert main(["compare", *args, "--spec", CHURN]) == 0  # 0.8150 vs 0.8190: within 0.02
    assert "another run's summary" in capsys.readouterr().out


def test_spec_thresholds_are_the_ones_applied(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    strict = tmp_path / "churn.yaml"
    strict.write_text(Path(CHURN).read_text().replace("min: 0.75", "min: 0.9"))
    assert main(["compare", str(fixture_path("churn_pass")), "--spec", str(strict)]) == 1
    assert "below the minimum 0.9" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["compare", "missing.json", "--spec", CHURN], "cannot read"),
        (["compare", str(fixture_path("house_prices_pass")), "--spec", CHURN], "not of 'churn'"),
        (["compare", str(fixture_path("churn_pass")), "--spec", "no-such-spec"], "cannot read"),
    ],
)
def test_bad_input_exits_2(
    argv: list[str], message: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(argv) == 2
    assert message in capsys.readouterr().err


def test_malformed_summary_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text('{"schema_version": 1, "spec": "churn"}')
    assert main(["compare", str(bad), "--spec", CHURN]) == 2
    assert "bad.json" in capsys.readouterr().err
