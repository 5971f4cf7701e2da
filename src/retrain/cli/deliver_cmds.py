"""`retrain deploy ...`, `retrain changed-specs` and `retrain infra ...`: what Cloud Build and
the GitHub workflows run. Every deploy command takes `--dry-run`, which prints each cloud
command instead of running it (and reads nothing from the cloud)."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from retrain import settings
from retrain.delivery.config import DeployConfig
from retrain.delivery.runner import DryRunRunner, Runner, SubprocessRunner
from retrain.errors import ConfigError, RetrainError

PLAN = "build/release-plan.json"
COMPILED = "build/pipelines"


def _example(*lines: str) -> dict[str, Any]:
    return {
        "formatter_class": argparse.RawDescriptionHelpFormatter,
        "epilog": "example:\n" + "\n".join(f"  {line}" for line in lines),
    }


def _env_dry_run() -> bool:
    return settings.current().dry_run


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
        default=_env_dry_run(),
        help="print the commands, run nothing (also: RETRAIN_DRY_RUN=1)",
    )


def register(subparsers: Any) -> None:
    changed = subparsers.add_parser(
        "changed-specs",
        help="list the spec files a change affects (spec edits, or all on pipeline code changes)",
        **_example(
            "retrain changed-specs --base origin/main",
            "retrain changed-specs --base origin/main --format github-output >> $GITHUB_OUTPUT",
        ),
    )
    changed.add_argument("--base", required=True, help="revision to compare with (merge base)")
    changed.add_argument("--head", default="HEAD")
    changed.add_argument("--specs-dir", default="specs")
    changed.add_argument(
        "--format", choices=["lines", "json", "github-output"], default="lines",
        help="lines: one path per line; json: a list; github-output: specs=<json> and any=<bool>",
    )  # fmt: skip
    changed.set_defaults(handler=_changed_specs)

    deploy = subparsers.add_parser(
        "deploy",
        help="deploy on merge: plan, compile, templates, functions, schedules, promotions",
        **_example(
            "retrain deploy templates --dry-run --project my-proj --git-sha $(git rev-parse HEAD)"
        ),
    )
    commands = deploy.add_subparsers(dest="deploy_command", metavar="STEP", required=True)

    plan = commands.add_parser(
        "plan",
        help="which specs this release compiles and which it carries over from the last one",
        **_example(
            "retrain deploy plan --project my-proj --git-sha $COMMIT_SHA",
        ),
    )
    _cloud_options(plan)
    plan.add_argument("specs", nargs="*", default=["specs"], help="spec files or dirs")
    plan.add_argument("--out", default=PLAN)
    plan.add_argument(
        "--previous", default="auto",
        help="the last release index: auto (read releases/latest.json), none, or a file",
    )  # fmt: skip
    plan.add_argument("--force", action="store_true", help="compile every spec")
    plan.set_defaults(handler=_plan)

    compile_ = commands.add_parser(
        "compile",
        help="compile the plan's changed specs with the release image (pipeline environment)",
        **_example("retrain deploy compile --plan build/release-plan.json --out build/pipelines"),
    )
    compile_.add_argument("--plan", default=PLAN)
    compile_.add_argument("--out", default=COMPILED)
    compile_.add_argument(
        "--dry-run", action="store_true", default=_env_dry_run(), help="print what would compile"
    )
    compile_.set_defaults(handler=_compile)

    templates = commands.add_parser(
        "templates",
        help="check images are pushed, upload templates keyed by commit, write the release index",
        **_example(
            "retrain deploy templates --plan build/release-plan.json --dry-run --project my-proj"
        ),
    )
    _cloud_options(templates)
    templates.add_argument("--plan", default=PLAN)
    templates.add_argument("--compiled", default=COMPILED)
    templates.add_argument(
        "--registry", default="",
        help="Kubeflow template registry URL (env RETRAIN_TEMPLATE_REGISTRY); empty: GCS only",
    )  # fmt: skip
    templates.set_defaults(handler=_templates)

    functions = commands.add_parser(
        "functions",
        help="stage the source and deploy the four Cloud Functions with their Pub/Sub triggers",
        **_example("retrain deploy functions --dry-run --project my-proj --git-sha abc1234"),
    )
    _cloud_options(functions)
    functions.add_argument("--stage", default="build/functions-source", help="staging directory")
    functions.add_argument("--github-repo", default="", help="owner/name (env RETRAIN_GITHUB_REPO)")
    functions.set_defaults(handler=_functions)

    schedules = commands.add_parser(
        "schedules",
        help="sync spec schedules to Cloud Scheduler jobs (create, update, delete)",
        **_example("retrain deploy schedules --dry-run --project my-proj --git-sha abc1234"),
    )
    _cloud_options(schedules)
    schedules.add_argument("specs", nargs="*", default=["specs"])
    schedules.set_defaults(handler=_schedules)

    promotions = commands.add_parser(
        "promotions",
        help="apply promotion sections changed between two revisions (Model Registry alias)",
        **_example("retrain deploy promotions --base HEAD~1 --dry-run --project my-proj"),
    )
    _cloud_options(promotions)
    promotions.add_argument("--base", default="", help="revision before the change")
    promotions.add_argument(
        "--plan", default=PLAN, help="without --base: compare with the plan's previous release"
    )
    promotions.add_argument("--head", default="HEAD")
    promotions.add_argument("--specs-dir", default="specs")
    promotions.set_defaults(handler=_promotions)

    candidate = commands.add_parser(
        "candidate",
        help="upload a PR's compiled templates and start its candidate runs on Vertex",
        **_example(
            "retrain deploy candidate specs/churn.yaml --pr 12 --project my-proj --git-sha $SHA",
        ),
    )
    _cloud_options(candidate)
    candidate.add_argument("specs", nargs="+", help="spec files to run")
    candidate.add_argument("--pr", type=int, required=True, help="pull request number")
    candidate.add_argument("--compiled", default=COMPILED)
    candidate.set_defaults(handler=_candidate)

    infra = subparsers.add_parser(
        "infra",
        help="values for Terraform (names, sink filters); check which sink forwards an event",
        **_example(
            "retrain infra tfvars --project my-proj > infra/retrain.auto.tfvars.json",
            "retrain infra match tests/golden/events/pipeline_succeeded.json --project acme-prod",
        ),
    )
    infra_commands = infra.add_subparsers(dest="infra_command", metavar="ACTION", required=True)
    tfvars = infra_commands.add_parser(
        "tfvars",
        help="print the Terraform variables: topics, service accounts, log sinks with filters",
        **_example(
            "retrain infra tfvars --project my-proj --github-repo acme/models",
        ),
    )
    tfvars.add_argument("--project", default="")
    tfvars.add_argument("--region", default="")
    tfvars.add_argument("--bucket", default="")
    tfvars.add_argument("--github-repo", default="")
    tfvars.add_argument("--specs", default="specs")
    tfvars.set_defaults(handler=_tfvars)
    match = infra_commands.add_parser(
        "match",
        help="which log sink (if any) forwards this log entry or Pub/Sub message",
        **_example(
            "retrain infra match tests/golden/events/bigquery_v2_load.json --project acme-analytics"
        ),
    )
    match.add_argument("event", type=Path)
    match.add_argument("--project", required=True, help="the project the sinks live in")
    match.set_defaults(handler=_match)


# -- helpers ------------------------------------------------------------------------------


def _config(args: argparse.Namespace, **extra: str) -> DeployConfig:
    overrides = {
        "project": getattr(args, "project", ""),
        "region": getattr(args, "region", ""),
        "git_sha": getattr(args, "git_sha", ""),
        "bucket": getattr(args, "bucket", ""),
        **extra,
    }
    return settings.current().deploy(overrides)


def _runner(args: argparse.Namespace) -> Runner:
    return DryRunRunner() if getattr(args, "dry_run", False) else SubprocessRunner()


def _specs(paths: list[str]) -> list[tuple[Any, Path]]:
    from retrain.spec import load_specs, spec_paths

    files = spec_paths(paths)
    if not files:
        raise ConfigError(f"no spec files in {' '.join(paths)}")
    return list(zip(load_specs(files), files, strict=True))


def _repo() -> Path:
    from retrain.pipeline_env import repo_root

    return repo_root()


# -- handlers -----------------------------------------------------------------------------


def _changed_specs(args: argparse.Namespace) -> int:
    from retrain.delivery.gitrev import Git, changed_specs

    repo = _repo()
    all_specs = sorted(str(p.relative_to(repo)) for p in (repo / args.specs_dir).glob("*.yaml"))
    files = Git(repo).changed_files(args.base, args.head)
    specs, why = changed_specs(files, args.specs_dir, all_specs)
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


def _plan(args: argparse.Namespace) -> int:
    from retrain.compile_plan import code_hash
    from retrain.delivery.release import ReleaseIndex, plan_release
    from retrain.delivery.templates import read_previous

    config = _config(args)
    runner = _runner(args)
    previous: ReleaseIndex | None = None
    if args.previous == "auto":
        previous = read_previous(config, runner)
    elif args.previous != "none":
        previous = ReleaseIndex.model_validate_json(Path(args.previous).read_text())
    plan = plan_release(_specs(args.specs), code_hash(_repo()), config, previous, args.force)
    plan.save(Path(args.out))
    base = f"release {plan.previous_sha}" if plan.previous_sha else "no previous release"
    print(f"release {plan.git_sha} (vs {base}), image {plan.image}:")
    for spec in plan.specs:
        print(f"  {spec.action:<8} {spec.name:<24} -> {spec.template_uri}")
    print(f"plan written to {args.out}")
    return 0


def _compile(args: argparse.Namespace) -> int:
    from retrain.cli.pipeline_cmds import compile_specs
    from retrain.compile_plan import CompileOptions
    from retrain.delivery.release import ReleasePlan

    plan = ReleasePlan.load(Path(args.plan))
    todo = plan.to_compile
    if not todo:
        print("nothing to compile: every template carries over from the last release")
        return 0
    options = CompileOptions(
        pipeline_root=plan.pipeline_root, serving_root=plan.serving_root, image=plan.image
    )
    if args.dry_run:
        for spec in todo:
            print(
                f"would compile: {spec.path} with image {plan.image} -> {args.out}/{spec.name}.json"
            )
        return 0
    compile_specs([Path(s.path) for s in todo], Path(args.out), options, force=True)
    return 0


def _templates(args: argparse.Namespace) -> int:
    from retrain.delivery.release import ReleasePlan
    from retrain.delivery.templates import publish
    from retrain.pipeline_env import pipelines_python

    config = _config(args, template_registry=args.registry)
    plan = ReleasePlan.load(Path(args.plan))
    if plan.git_sha != config.git_sha and config.git_sha:
        raise ConfigError(f"the plan is for {plan.git_sha}, not {config.git_sha}")
    runner = _runner(args)
    compiled = Path(args.compiled)
    index = publish(plan, compiled, config, runner)
    if config.template_registry and plan.to_compile:
        python = "python" if args.dry_run else str(pipelines_python())
        files = [str(compiled / "ir" / f"{s.name}.pipeline.json") for s in plan.to_compile]
        out = runner.run([python, "-m", "retrain.delivery.kfp_registry",
                          f"--host={config.template_registry}", f"--tag={plan.git_sha}",
                          "--tag=latest", *files])  # fmt: skip
        print(out, end="")
    print(f"release {index.git_sha}: {len(index.specs)} template(s) published")
    return 0


def _functions(args: argparse.Namespace) -> int:
    from retrain.delivery.functions import deploy_functions

    config = _config(args, github_repo=args.github_repo)
    deployed = deploy_functions(_repo(), Path(args.stage), config, _runner(args))
    print(f"{'would deploy' if args.dry_run else 'deployed'}: {', '.join(deployed)}")
    return 0


def _schedules(args: argparse.Namespace) -> int:
    from retrain.delivery.schedules import sync_schedules

    config = _config(args)
    actions = sync_schedules([s for s, _ in _specs(args.specs)], config, _runner(args))
    for action in actions:
        print(f"{action.verb} {action.job.name} ({action.job.schedule})")
    if not actions:
        print("schedules are in sync")
    return 0


def _promotions(args: argparse.Namespace) -> int:
    from retrain.blobs import Blobs
    from retrain.delivery.gitrev import Git
    from retrain.delivery.promotions import GcloudModelRegistry, promote, promotion_changes

    config = _config(args)
    runner = _runner(args)
    repo = _repo()
    base: str | None = args.base or None
    if base is None:
        from retrain.delivery.release import ReleasePlan

        if not Path(args.plan).exists():
            raise ConfigError(f"pass --base REV, or --plan FILE (no {args.plan})")
        base = ReleasePlan.load(Path(args.plan)).previous_sha or None
    spec_files = sorted(str(p.relative_to(repo)) for p in (repo / args.specs_dir).glob("*.yaml"))
    changes = promotion_changes(Git(repo), base, args.head, spec_files)
    if not changes:
        print(f"no promotion changed between {base or 'nothing (first release)'} and {args.head}")
        return 0
    registry = GcloudModelRegistry(config, runner)
    for change in changes:
        if args.dry_run:
            print(
                f"would promote {change.spec}: {change.after.registry_model} "
                f"alias {change.after.alias} -> run {change.after.version}"
            )
            registry.find_version(change.after.registry_model, change.after.version or "")
            continue
        print(promote(change, config, registry, Blobs()))
    return 0


def _candidate(args: argparse.Namespace) -> int:
    from retrain.backends.vertex import VertexBackend
    from retrain.delivery.candidate import candidate_requests, upload_candidates

    config = _config(args)
    runner = _runner(args)
    specs = [s for s, _ in _specs(args.specs)]
    uris = upload_candidates(specs, Path(args.compiled), config, runner)
    requests = candidate_requests(specs, config, args.pr)
    backend = VertexBackend(
        project=config.project,
        region=config.region,
        template_uri=f"{config.candidates_root}/{{spec}}/{{git_sha}}.json",
        pipeline_root=config.pipeline_root,
        service_account=config.pipelines_sa,
        api_endpoint=settings.current().vertex_endpoint,
    )
    for request in requests:
        if args.dry_run:
            print(
                f"would submit: {request.job_id} ({uris[request.spec]}) labels {request.labels()}"
            )
            continue
        started = backend.submit(request)
        print(f"{'submitted' if started else 'already submitted'}: {request.job_id}")
    return 0


def _tfvars(args: argparse.Namespace) -> int:
    from retrain.delivery.infra import tfvars_json

    config = _config(args, github_repo=args.github_repo)
    sys.stdout.write(tfvars_json(config, [s for s, _ in _specs([args.specs])]))
    return 0


def _match(args: argparse.Namespace) -> int:
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
