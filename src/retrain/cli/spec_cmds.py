"""`retrain validate` and `retrain schema`."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from retrain.cli.parsers import add_command
from retrain.data.local import check, file_check
from retrain.errors import PipelineError, Problem, SpecError
from retrain.settings import Settings
from retrain.spec import Spec, json_schema, load_specs, spec_paths
from retrain.spec.coverage import training_coverage
from retrain.spec.tfschema import schema_problems
from retrain.wiring import build_pipeline_env

DEFAULT_SPECS_DIR = "specs"


def register(subparsers: Any) -> None:
    validate = add_command(
        subparsers,
        "validate",
        "check spec files; one line per problem as FILE:LINE: field: message",
        "retrain validate specs/churn.yaml",
        "retrain validate  # all of specs/",
        "retrain validate --format github  # annotations in a GitHub workflow",
    )
    validate.add_argument("paths", nargs="*", default=[DEFAULT_SPECS_DIR], help="files or dirs")
    validate.add_argument(
        "--format",
        choices=["text", "github"],
        default="text",
        help="github: problems as workflow annotations (::error file=F,line=L::...)",
    )
    validate.add_argument(
        "--data",
        action="store_true",
        help="also check each spec's local table (data.local.path) through its query: "
        "columns, types, label values, row counts",
    )
    validate.set_defaults(handler=_validate)

    schema = add_command(
        subparsers,
        "schema",
        "print the JSON Schema of spec files (checked in as specs/schema.json); "
        "`infer SPEC`: write the spec's TFDV schema (specs/<name>.schema.pbtxt) from its data",
        "retrain schema > specs/schema.json",
        "retrain schema infer specs/churn.yaml  # then review and commit specs/churn.schema.pbtxt",
    )
    schema.add_argument(
        "action", nargs="?", choices=["infer"], help="infer: write the spec's TFDV schema"
    )
    schema.add_argument("spec", nargs="?", help="with infer: spec name or path")
    schema.add_argument(
        "--workdir", default="work", help="with infer: where its log goes (default work)"
    )
    schema.set_defaults(handler=_schema)


def _validate(args: argparse.Namespace, settings: Settings) -> int:
    paths = spec_paths(args.paths)
    if not paths:
        print(f"retrain validate: no spec files in {' '.join(args.paths)}", file=sys.stderr)
        return 1
    try:
        specs = load_specs(paths)
    except SpecError as exc:
        if args.format != "github":
            raise
        for problem in exc.problems:
            print(github_annotation(problem))
        return 1
    failed = False
    for spec, path in zip(specs, paths, strict=True):
        schema_issues = schema_problems(spec, path)
        for problem in schema_issues:
            if args.format == "github":
                print(github_annotation(problem))
            else:
                print(problem, file=sys.stderr)
        failed = failed or bool(schema_issues)
        root = build_pipeline_env(settings).repo_root
        if args.data:
            try:
                profile = check(spec, root, spec_file=path)
            except PipelineError as exc:
                print(exc, file=sys.stderr)
                failed = True
                continue
            print(f"ok  {spec.name:<24} data: {profile.rows} usable of {profile.rows_read} rows")
            coverage = training_coverage(spec, profile.rows)
            warning = coverage.warning() if coverage else None
            if warning:
                print(f"warning: {path}: {spec.name}: {warning}", file=sys.stderr)
        else:
            # The local file is what local runs read (cloud runs read BigQuery, and CI may not
            # have it): its plain problems are noted, without failing; --data checks it fully.
            for line in _local_file_notes(spec, root, path) if args.format == "text" else []:
                print(
                    f"note: {line} (local runs need it; `retrain validate --data` checks it)",
                    file=sys.stderr,
                )
        if not schema_issues:
            print(f"ok  {spec.name:<24} {spec.task:<22} version {spec.fingerprint()}")
    return 1 if failed else 0


def _local_file_notes(spec: Spec, root: Path, path: Path) -> list[str]:
    try:
        return file_check(spec, root, path)[2]
    except PipelineError as exc:  # outside the repository
        return [str(exc)]


def _escape(text: str, prop: bool = False) -> str:
    text = text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")
    return text.replace(":", "%3A").replace(",", "%2C") if prop else text


def github_annotation(problem: Problem) -> str:
    """A GitHub Actions error annotation, shown on the offending line of the PR's diff."""
    title = _escape(problem.field or "spec", prop=True)
    return (
        f"::error file={_escape(problem.file, prop=True)},line={problem.line},title={title}::"
        f"{_escape(problem.message)}"
    )


def schema_text() -> str:
    return json.dumps(json_schema(), indent=2, sort_keys=True) + "\n"


def _schema(args: argparse.Namespace, settings: Settings) -> int:
    if args.action is None:
        if args.spec is not None:
            print("retrain schema: did you mean `retrain schema infer SPEC`?", file=sys.stderr)
            return 2
        sys.stdout.write(schema_text())
        return 0
    if args.spec is None:
        print("retrain schema infer: which spec? e.g. specs/churn.yaml", file=sys.stderr)
        return 2
    from retrain.cli.pipeline_cmds import resolve_spec
    from retrain.pipeline_env.schema_infer import infer_schema

    env = build_pipeline_env(settings)
    spec, path = resolve_spec(args.spec, env.repo_root)
    out, rows = infer_schema(env, spec, path, Path(args.workdir) / "logs")
    print(f"wrote {out} from {rows} rows of {spec.data.local.path}; review it and check it in")
    return 0
