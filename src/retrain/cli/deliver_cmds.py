"""`retrain deploy ...`, `retrain changed-specs` and `retrain infra ...`: what Cloud Build and
the GitHub workflows run. Each deploy step builds a plan (`retrain.delivery.plan`); with
`--dry-run` it is printed (and nothing is read from the cloud), otherwise carried out."""

from __future__ import annotations

import argparse
import functools
import json
import re
import sys
from collections.abc import Callable
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from retrain.delivery.apply import Ports
from retrain.delivery.config import DeployConfig
from retrain.delivery.plan import DeliveryPlan
from retrain.errors import ConfigError, RetrainError
from retrain.settings import Settings
from retrain.wiring import (
    build_candidate_backend,
    build_candidate_baselines,
    build_candidate_changes,
    build_model_registry,
    build_pipeline_env,
    build_release_storage,
)

PLAN = "build/release-plan.json"
COMPILED = "build/pipelines"


def _example(*lines: str) -> dict[str, Any]:
    return {
        "formatter_class": argparse.RawDescriptionHelpFormatter,
        "epilog": "example:\n" + "\n".join(f"  {line}" for line in lines),
    }


def _cloud_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--project", default="", help="Google Cloud project (env RETRAIN_PROJECT)")
    parser.add_argument("--region", default="", help="region (env RETRAIN_REGION, us-central1)")
    parser.add_argument("--git-sha", default="", help="commit being deployed (env RETRAIN_GIT_SHA)")
    parser.add_argument(
        "--bucket", default="", help="artefact bucket (env RETRAIN_ARTIFACT_BUCKET)"
    )
    parser.add_argument(
        "--dry-run",
        action="store_true",
        help="print the commands, run nothing (also: RETRAIN_DRY_RUN=1)",
    )


def register(subparsers: Any) -> None:
    _add_changed_specs(subparsers)
    deploy = subparsers.add_parser(
        "deploy",
        help="deploy on merge: plan, compile, templates, functions, schedules, promotions",
        **_example(
            "retrain deploy templates --dry-run --project my-proj --git-sha $(git rev-parse HEAD)"
        ),
    )
    steps = deploy.add_subparsers(dest="deploy_command", metavar="STEP", required=True)
    for add in (_add_plan, _add_compile, _add_templates, _add_functions, _add_schedules,
                _add_promotions, _add_candidate):  # fmt: skip
        add(steps)
    _add_infra(subparsers)


def _command(
    parent: Any, name: str, help: str, examples: list[str], handler: Any, cloud: bool = True
) -> argparse.ArgumentParser:
    """A sub-command with its help, examples and handler; `cloud`: the deploy options too."""
    parser: argparse.ArgumentParser = parent.add_parser(name, help=help, **_example(*examples))
    if cloud:
        _cloud_options(parser)
    parser.set_defaults(handler=_dry_run_from_settings(handler))
    return parser


Handler = Callable[[argparse.Namespace, Settings], int]


def _dry_run_from_settings(handler: Handler) -> Handler:
    """`--dry-run`, or RETRAIN_DRY_RUN=1 (read with the other settings, after parsing)."""

    @functools.wraps(handler)  # inspect.unwrap finds the command's code (tests/delivery)
    def run(args: argparse.Namespace, settings: Settings) -> int:
        args.dry_run = getattr(args, "dry_run", False) or settings.dry_run
        return handler(args, settings)

    return run


def _add_changed_specs(subparsers: Any) -> None:
    changed = _command(
        subparsers, "changed-specs",
        "list the spec files a change affects (spec edits, or all on pipeline code changes)",
        ["retrain changed-specs --base origin/main",
         "retrain changed-specs --base origin/main --format github-output >> $GITHUB_OUTPUT"],
        _changed_specs, cloud=False,
    )  # fmt: skip
    changed.add_argument("--base", required=True, help="revision to compare with (merge base)")
    changed.add_argument("--head", default="HEAD")
    changed.add_argument("--specs-dir", default="specs")
    changed.add_argument(
        "--format", choices=["lines", "json", "github-output"], default="lines",
        help="lines: one path per line; json: a list; github-output: specs=<json> and any=<bool>",
    )  # fmt: skip


def _add_plan(steps: Any) -> None:
    plan = _command(
        steps, "plan",
        "which specs this release compiles and which it carries over from the last one",
        ["retrain deploy plan --project my-proj --git-sha $COMMIT_SHA"], _plan,
    )  # fmt: skip
    plan.add_argument("specs", nargs="*", default=["specs"], help="spec files or dirs")
    plan.add_argument("--out", default=PLAN)
    plan.add_argument(
        "--previous", default="auto",
        help="the last release index: auto (read releases/latest.json), none, or a file",
    )  # fmt: skip
    plan.add_argument("--force", action="store_true", help="compile every spec")


def _add_compile(steps: Any) -> None:
    compile_ = _command(
        steps, "compile",
        "compile the plan's changed specs with the release image (pipeline environment)",
        ["retrain deploy compile --plan build/release-plan.json --out build/pipelines"],
        _compile, cloud=False,
    )  # fmt: skip
    compile_.add_argument("--plan", default=PLAN)
    compile_.add_argument("--out", default=COMPILED)
    compile_.add_argument("--dry-run", action="store_true", help="print what would compile")


def _add_templates(steps: Any) -> None:
    templates = _command(
        steps, "templates",
        "check images are pushed, upload templates keyed by commit, write the release index",
        ["retrain deploy templates --plan build/release-plan.json --dry-run --project my-proj"],
        _templates,
    )  # fmt: skip
    templates.add_argument("--plan", default=PLAN)
    templates.add_argument("--compiled", default=COMPILED)
    templates.add_argument(
        "--registry", default="",
        help="Kubeflow template registry URL (env RETRAIN_TEMPLATE_REGISTRY); empty: GCS only",
    )  # fmt: skip


def _add_functions(steps: Any) -> None:
    functions = _command(
        steps, "functions",
        "stage the source and deploy the four Cloud Functions with their Pub/Sub triggers",
        ["retrain deploy functions --dry-run --project my-proj --git-sha abc1234"], _functions,
    )  # fmt: skip
    functions.add_argument("--stage", default="build/functions-source", help="staging directory")
    functions.add_argument("--github-repo", default="", help="owner/name (env RETRAIN_GITHUB_REPO)")


def _add_schedules(steps: Any) -> None:
    schedules = _command(
        steps, "schedules", "sync spec schedules to Cloud Scheduler jobs (create, update, delete)",
        ["retrain deploy schedules --dry-run --project my-proj --git-sha abc1234"], _schedules,
    )  # fmt: skip
    schedules.add_argument("specs", nargs="*", default=["specs"])


def _add_promotions(steps: Any) -> None:
    promotions = _command(
        steps, "promotions",
        "apply promotion sections changed between two revisions (Model Registry alias)",
        ["retrain deploy promotions --base HEAD~1 --dry-run --project my-proj"], _promotions,
    )  # fmt: skip
    promotions.add_argument("--base", default="", help="revision before the change")
    promotions.add_argument(
        "--plan", default=PLAN, help="without --base: compare with the plan's previous release"
    )
    promotions.add_argument("--head", default="HEAD")
    promotions.add_argument("--specs-dir", default="specs")


def _add_candidate(steps: Any) -> None:
    candidate = _command(
        steps, "candidate",
        "upload a PR's compiled templates and start its candidate runs on Vertex",
        ["retrain deploy candidate specs/churn.yaml --pr 12 --project my-proj --git-sha $SHA"],
        _candidate,
    )  # fmt: skip
    candidate.add_argument("specs", nargs="+", help="spec files to run")
    candidate.add_argument("--pr", type=int, required=True, help="pull request number")
    candidate.add_argument("--compiled", default=COMPILED)
    candidate.add_argument(
        "--base",
        default="origin/main",
        help="the default branch's revision: its specs name production, the runs' baseline",
    )
    candidate.add_argument(
        "--snapshot",
        default="",
        help="read the data as of this UTC time, YYYY-MM-DDTHH:MM:SSZ (default: now); the same "
        "snapshot reuses the cached data steps of an earlier run",
    )


def _add_infra(subparsers: Any) -> None:
    infra = subparsers.add_parser(
        "infra",
        help="values for Terraform (names, sink filters); check which sink forwards an event",
        **_example(
            "retrain infra tfvars --project my-proj > infra/retrain.auto.tfvars.json",
            "retrain infra match tests/golden/events/pipeline_succeeded.json --project acme-prod",
        ),
    )
    actions = infra.add_subparsers(dest="infra_command", metavar="ACTION", required=True)
    tfvars = _command(
        actions, "tfvars",
        "print the Terraform variables: topics, service accounts, log sinks with filters",
        ["retrain infra tfvars --project my-proj --github-repo acme/models"], _tfvars, cloud=False,
    )  # fmt: skip
    for option in ("--project", "--region", "--bucket", "--github-repo"):
        tfvars.add_argument(option, default="")
    tfvars.add_argument("--specs", default="specs")
    match = _command(
        actions, "match", "which log sink (if any) forwards this log entry or Pub/Sub message",
        ["retrain infra match tests/golden/events/bigquery_v2_load.json --project acme-analytics"],
        _match, cloud=False,
    )  # fmt: skip
    match.add_argument("event", type=Path)
    match.add_argument("--project", required=True, help="the project the sinks live in")


# -- helpers ------------------------------------------------------------------------------


def _config(args: argparse.Namespace, settings: Settings, **extra: str) -> DeployConfig:
    overrides = {
        "project": getattr(args, "project", ""),
        "region": getattr(args, "region", ""),
        "git_sha": getattr(args, "git_sha", ""),
        "bucket": getattr(args, "bucket", ""),
        **extra,
    }
    return settings.deploy(overrides)


def _show_or_apply(
    args: argparse.Namespace, plan: DeliveryPlan, ports: Callable[[], Ports]
) -> None:
    """The one place that decides: a dry run prints the plan, otherwise it is carried out."""
    if args.dry_run:
        for line in plan.lines():
            print(line)
        return
    from retrain.delivery.apply import apply

    apply(plan, ports())


def _specs(paths: list[str]) -> list[tuple[Any, Path]]:
    from retrain.spec import load_specs, spec_paths

    files = spec_paths(paths)
    if not files:
        raise ConfigError(f"no spec files in {' '.join(paths)}")
    return list(zip(load_specs(files), files, strict=True))


def _repo(settings: Settings) -> Path:
    return build_pipeline_env(settings).repo_root


# -- handlers -----------------------------------------------------------------------------


def _changed_specs(args: argparse.Namespace, settings: Settings) -> int:
    from retrain.delivery.gitrev import Git, changed_specs, repo_spec_files

    repo = _repo(settings)
    files = Git(repo).changed_files(args.base, args.head)
    specs, why = changed_specs(files, args.specs_dir, repo_spec_files(repo, args.specs_dir))
    print(f"{len(specs)} spec(s): {why}", file=sys.stderr)
    if args.format == "json":
        print(json.dumps(specs))
    elif args.format == "github-output":
        print(f"specs={json.dumps(specs)}")
        print(f"any={'true' if specs else 'false'}")
    else:
        for path in specs:
            print(path)
    return 0


def _plan(args: argparse.Namespace, settings: Settings) -> int:
    from retrain.delivery.images import pin
    from retrain.delivery.release import ReleaseIndex, plan_release
    from retrain.delivery.templates import read_previous
    from retrain.pipeline_env.compile import code_hash
    from retrain.shell import SubprocessRunner

    config = _config(args, settings)
    previous: ReleaseIndex | None = None
    if args.previous == "auto" and args.dry_run:
        print(f"dry run: {config.releases_root}/latest.json not read; planned as a first release")
    elif args.previous == "auto":
        previous = read_previous(config, build_release_storage(config))
    elif args.previous != "none":
        previous = ReleaseIndex.model_validate_json(Path(args.previous).read_text())
    plan = plan_release(
        _specs(args.specs), code_hash(_repo(settings)), config, previous, args.force
    )
    if args.dry_run:
        print(f"dry run: {plan.image} is not pinned to its digest")
    else:
        plan = plan.model_copy(update={"image": pin(plan.image, SubprocessRunner())})
    plan.save(Path(args.out))
    base = f"release {plan.previous_sha}" if plan.previous_sha else "no previous release"
    print(f"release {plan.git_sha} (vs {base}), image {plan.image}:")
    for spec in plan.specs:
        print(f"  {spec.action:<8} {spec.name:<24} -> {spec.template_uri}")
    print(f"plan written to {args.out}")
    return 0


def _compile(args: argparse.Namespace, settings: Settings) -> int:
    from retrain.delivery.release import ReleasePlan
    from retrain.pipeline_env.compile import compile_specs

    plan = ReleasePlan.load(Path(args.plan))
    todo = plan.to_compile
    if not todo:
        print("nothing to compile: every template carries over from the last release")
        return 0
    options = plan.compile_options()
    if args.dry_run:
        for spec in todo:
            print(
                f"would compile: {spec.path} with image {plan.image} -> {args.out}/{spec.name}.json"
            )
        return 0
    env = build_pipeline_env(settings)
    compile_specs(env, [Path(s.path) for s in todo], Path(args.out), options, force=True)
    return 0


def _templates(args: argparse.Namespace, settings: Settings) -> int:
    from retrain.delivery.release import ReleasePlan
    from retrain.delivery.templates import publish_plan
    from retrain.shell import SubprocessRunner

    config = _config(args, settings, template_registry=args.registry)
    plan = ReleasePlan.load(Path(args.plan))
    if plan.git_sha != config.git_sha and config.git_sha:
        raise ConfigError(f"the plan is for {plan.git_sha}, not {config.git_sha}")
    # The template registry upload runs kfp in the pipeline environment; a dry run only names it.
    python = (
        ""
        if args.dry_run or not config.template_registry
        else str(build_pipeline_env(settings).python)
    )
    actions, index = publish_plan(plan, Path(args.compiled), config, python)
    _show_or_apply(args, actions, lambda: Ports(SubprocessRunner(), build_release_storage(config)))
    done = "would be published" if args.dry_run else "published"
    print(f"release {index.git_sha}: {len(index.specs)} template(s) {done}")
    return 0


def _functions(args: argparse.Namespace, settings: Settings) -> int:
    from retrain.delivery import names
    from retrain.delivery.functions import functions_plan
    from retrain.shell import SubprocessRunner

    config = _config(args, settings, github_repo=args.github_repo)
    plan = functions_plan(_repo(settings), Path(args.stage), config)
    _show_or_apply(args, plan, lambda: Ports(SubprocessRunner()))
    deployed = ", ".join(fn.name for fn in names.FUNCTIONS)
    print(f"{'would deploy' if args.dry_run else 'deployed'}: {deployed}")
    return 0


def _schedules(args: argparse.Namespace, settings: Settings) -> int:
    from retrain.delivery.schedules import ScheduleJob, read_schedules, schedules_plan
    from retrain.shell import SubprocessRunner

    config = _config(args, settings)
    existing: dict[str, ScheduleJob] = {}
    if args.dry_run:
        print("dry run: the existing Cloud Scheduler jobs are not read; planned as if none exist")
    else:
        existing = read_schedules(config, SubprocessRunner())
    plan, changes = schedules_plan([s for s, _ in _specs(args.specs)], config, existing)
    _show_or_apply(args, plan, lambda: Ports(SubprocessRunner()))
    for change in changes:
        print(f"{change.verb} {change.job.name} ({change.job.schedule})")
    if not changes:
        print("schedules are in sync")
    return 0


def _promotions(args: argparse.Namespace, settings: Settings) -> int:
    from retrain.delivery.gitrev import Git, repo_spec_files
    from retrain.delivery.promotions import (
        promotion_base,
        promotion_changes,
        promotion_plan,
    )
    from retrain.shell import SubprocessRunner

    config = _config(args, settings)
    repo = _repo(settings)
    base = promotion_base(args.base, Path(args.plan))
    changes = promotion_changes(Git(repo), base, args.head, repo_spec_files(repo, args.specs_dir))
    if not changes:
        print(f"no promotion changed between {base or 'nothing (first release)'} and {args.head}")
        return 0

    def ports() -> Ports:
        storage = build_release_storage(config)
        registry = build_model_registry(settings, config)
        return Ports(SubprocessRunner(), storage, registry=registry, blobs=storage)

    _show_or_apply(args, promotion_plan(changes, config), ports)
    return 0


def _candidate(args: argparse.Namespace, settings: Settings) -> int:
    from retrain.delivery.candidate import candidate_plan
    from retrain.runs import SNAPSHOT_PATTERN, snapshot_time
    from retrain.shell import SubprocessRunner

    config = _config(args, settings)
    pairs = _specs(args.specs)
    repo = _repo(settings)
    paths = {s.name: str(p.resolve().relative_to(repo.resolve())) for s, p in pairs}
    baselines = build_candidate_baselines(config, repo, args.base, lambda s: paths[s.name])
    changes = build_candidate_changes(repo, args.base, lambda s: paths[s.name])
    snapshot = args.snapshot or snapshot_time(datetime.now(timezone.utc))
    if not re.fullmatch(SNAPSHOT_PATTERN, snapshot):
        raise ConfigError(f"--snapshot {snapshot!r}: expected YYYY-MM-DDTHH:MM:SSZ")
    specs = [s for s, _ in pairs]
    plan = candidate_plan(specs, Path(args.compiled), config, args.pr, baselines, snapshot, changes)

    def ports() -> Ports:
        backend = build_candidate_backend(settings, config)
        return Ports(SubprocessRunner(), build_release_storage(config), backend=backend)

    _show_or_apply(args, plan, ports)
    return 0


def _tfvars(args: argparse.Namespace, settings: Settings) -> int:
    from retrain.delivery.infra import tfvars_json

    config = _config(args, settings, github_repo=args.github_repo)
    specs = [s for s, _ in _specs([args.specs])]
    sys.stdout.write(tfvars_json(config, specs, settings.base_branch))
    return 0


def _match(args: argparse.Namespace, settings: Settings) -> int:
    from retrain.delivery.logfilter import matches
    from retrain.events import filters
    from retrain.events.envelope import unwrap

    try:
        entry = unwrap(args.event.read_bytes()).payload
    except OSError as exc:
        raise RetrainError(f"cannot read {args.event}: {exc}") from exc
    sinks = {
        "data_arrival": filters.data_arrival_filter(args.project),
        "drift_alert": filters.drift_alert_filter(args.project),
        "run_complete": filters.run_complete_filter(args.project),
    }
    hits = [kind for kind, text in sinks.items() if matches(text, entry)]
    print(json.dumps({"event": str(args.event), "sinks": hits}))
    return 0 if hits else 1
