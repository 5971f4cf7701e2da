"""`retrain init NAME --csv PATH`: a first spec (and its schema) for a user's own CSV."""

from __future__ import annotations

import argparse
import re
import shutil
from pathlib import Path
from typing import Any

from retrain.cli.parsers import add_command
from retrain.data.columns import read_columns
from retrain.data.local import check
from retrain.errors import PipelineError, RetrainError
from retrain.settings import Settings
from retrain.spec import load_spec
from retrain.spec.draft import DraftError, draft_spec
from retrain.spec.model import SPEC_NAME_PATTERN
from retrain.spec.tfschema import schema_path
from retrain.wiring import build_pipeline_env


def register(subparsers: Any) -> None:
    init = add_command(
        subparsers,
        "init",
        "write specs/NAME.yaml (and its schema) from a CSV: features and types inferred, the "
        "task guessed from the label; then check the data and print the next commands",
        "retrain init my-penguins --csv examples/data/penguins.csv --label species",
        description="The label is the last column unless --label names it. A CSV outside the "
        "repository is copied to data/NAME.csv (spec paths are relative to the repository). "
        "Review the spec it writes: the BigQuery table, owner and thresholds are placeholders.",
    )
    init.add_argument("name", help="the model's name: lowercase letters, digits and hyphens")
    init.add_argument("--csv", type=Path, required=True, help="the CSV to train on")
    init.add_argument("--label", help="the column to predict (default: the last one)")
    init.add_argument("--force", action="store_true", help="overwrite an existing spec")
    init.add_argument(
        "--no-schema",
        action="store_true",
        help="skip the schema (TFDV, ~30 s); then run `retrain schema infer` yourself",
    )
    init.add_argument("--workdir", default="work", help="where the schema step logs (default work)")
    init.set_defaults(handler=_init)


def _data_path(csv: Path, root: Path, name: str) -> str:
    """The CSV as a path relative to the repository; copied into data/ when outside it."""
    source = csv.resolve()
    if not source.is_file():
        raise RetrainError(f"--csv {csv}: no such file")
    if source.is_relative_to(root):
        return str(source.relative_to(root))
    target = root / "data" / f"{name}.csv"
    if target.exists() and target.resolve() != source:
        raise RetrainError(f"{csv} is outside the repository and data/{name}.csv exists already")
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(source, target)
    print(f"copied    {csv} to data/{name}.csv (spec paths are relative to the repository)")
    return f"data/{name}.csv"


def _init(args: argparse.Namespace, settings: Settings) -> int:
    if not re.fullmatch(SPEC_NAME_PATTERN, args.name):
        raise RetrainError(
            f"name {args.name!r}: use lowercase letters, digits and hyphens, starting with a letter"
        )
    env = build_pipeline_env(settings)
    root = env.repo_root
    spec_file = root / "specs" / f"{args.name}.yaml"
    shown = spec_file.relative_to(root)
    if spec_file.exists() and not args.force:
        raise RetrainError(f"{shown} exists already (--force overwrites it)")
    data_path = _data_path(args.csv, root, args.name)
    columns = read_columns(root / data_path)
    try:
        text = draft_spec(args.name, data_path, columns, args.label or columns[-1].name)
    except DraftError as exc:
        raise RetrainError(f"{args.csv}: {exc}") from exc
    spec_file.parent.mkdir(parents=True, exist_ok=True)
    spec_file.write_text(text)
    spec = load_spec(spec_file)
    print(
        f"wrote     {shown} ({spec.task}, {len(spec.features)} features, label {spec.label}"
        + (f", classes {', '.join(spec.classes)}" if spec.classes else "")
        + ")"
    )
    schema = schema_path(shown)
    if args.no_schema:
        print(f"note      no schema yet: run `retrain schema infer {shown}` before a run")
    else:
        from retrain.pipeline_env.schema_infer import infer_schema

        _, rows = infer_schema(env, spec, spec_file, Path(args.workdir) / "logs")
        print(f"wrote     {schema} from {rows} rows; review it")
    try:
        profile = check(spec, root, spec_file=shown if Path.cwd().resolve() == root else spec_file)
    except PipelineError as exc:
        print(exc)
        print(f"fix the above in {shown} or the CSV, then `retrain validate --data {shown}`")
        return 1
    print(f"ok        data: {profile.rows} usable of {profile.rows_read} rows")
    print("next:")
    print(f"  retrain run {args.name} --local          # train and evaluate it here")
    print(
        f"  git checkout -b {args.name} && git add {shown} {schema} && git commit -m "
        f"'Add {args.name}'   # then open a pull request: CI validates and runs a candidate"
    )
    print(f"  retrain status {args.name}               # its runs, production version, PRs")
    return 0
