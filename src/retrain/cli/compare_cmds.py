"""`retrain compare`: the PR comment for a summary, printed; the exit code is the verdict."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from retrain.cli.parsers import add_command
from retrain.compare import compare, thresholds_from_spec
from retrain.errors import SpecError, SummaryError
from retrain.report import Report, comment_marker, links_for, render_comparison
from retrain.settings import Settings
from retrain.spec import Spec, load_spec
from retrain.summary import EvaluationSummary, read_summary

EXIT_PASS, EXIT_FAIL, EXIT_BAD_INPUT = 0, 1, 2


def register(subparsers: Any) -> None:
    parser = add_command(
        subparsers,
        "compare",
        "compare a run's evaluation summary with its baseline; print the PR comment",
        "retrain compare work/churn/pipeline_root/summaries/RUN/evaluation_summary.json \\",
        "    --spec specs/churn.yaml",
        description=(
            "Print the markdown comment for CANDIDATE.json. The baseline is the one TFX "
            "evaluated in the same run, or BASELINE.json (an older run's summary) when given. "
            "Thresholds come from --spec.\n\n"
            "exit status: 0 pass (or no baseline yet), 1 fail, 2 bad input"
        ),
    )
    parser.add_argument("candidate", metavar="CANDIDATE.json")
    parser.add_argument("baseline", metavar="BASELINE.json", nargs="?")
    parser.add_argument(
        "--spec", required=True, help="spec file, or a name looked up as specs/NAME.yaml"
    )
    parser.add_argument("--pr", type=int, help="PR number for the hidden marker")
    parser.set_defaults(handler=_compare)


def _spec(value: str) -> Spec:
    path = Path(value)
    if path.suffix not in (".yaml", ".yml") and not path.exists():
        path = Path("specs") / f"{value}.yaml"
    return load_spec(path)


def _check_same_spec(spec: Spec, summary: EvaluationSummary, source: str) -> None:
    if summary.spec != spec.name:
        raise SummaryError(f"{source} is a summary of {summary.spec!r}, not of {spec.name!r}")


def _compare(args: argparse.Namespace, settings: Settings) -> int:
    try:
        spec = _spec(args.spec)
        candidate = read_summary(args.candidate)
        _check_same_spec(spec, candidate, args.candidate)
        baseline = None
        if args.baseline:
            baseline = read_summary(args.baseline)
            _check_same_spec(spec, baseline, args.baseline)
    except SpecError as exc:
        for problem in exc.problems:
            print(problem, file=sys.stderr)
        return EXIT_BAD_INPUT
    except SummaryError as exc:
        print(f"retrain compare: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    comparison = compare(candidate, baseline, thresholds_from_spec(spec))
    pr = args.pr if args.pr is not None else candidate.run.pr_number
    report = Report(
        comparison=comparison,
        summary=candidate,
        links=links_for(candidate, location=args.candidate),
        marker=comment_marker(spec.name, pr) if pr is not None else "",
        baseline_summary=baseline,
    )
    sys.stdout.write(render_comparison(report))
    return EXIT_FAIL if comparison.verdict == "fail" else EXIT_PASS
