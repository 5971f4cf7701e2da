"""The pull-request loop on one machine.

`retrain try SPEC`: what a pull request changing SPEC would get, before it exists. The working
tree's spec runs as a candidate against production as the base branch names it (its
`promotion.version`, among the local runs), and the comment the PR would carry is printed and
written to WORKDIR/try/<spec>.md, in the same words.

`retrain merge PR`: merge a pull request the local stack opened (a promotion or a schema
change, in WORKDIR/codehost/pr-N/) into the checkout, as a merge on GitHub would.
"""

from __future__ import annotations

import argparse
import getpass
import subprocess
import sys
from pathlib import Path
from typing import Any

from retrain.cli.parsers import add_command
from retrain.cli.pipeline_cmds import DEFAULT_WORKDIR, resolve_spec
from retrain.codehost.local import merge_pull
from retrain.compare import compare
from retrain.delivery.candidate import (
    candidate_request,
    changes_on_base_branch,
    on_base_branch,
)
from retrain.delivery.gitrev import Git
from retrain.errors import ConfigError
from retrain.pipeline_env.local_run import local_baselines, run_local
from retrain.pipeline_env.process import echo
from retrain.report import Report, comment_marker, links_for, render_comparison
from retrain.runs import NOT_BLESSED_EXIT
from retrain.settings import Settings
from retrain.summary import read_summary
from retrain.wiring import build_pipeline_env

TRY_PR = 0  # the marker's PR number: no pull request yet


def register(subparsers: Any) -> None:
    parser = add_command(
        subparsers,
        "try",
        "run the working tree's spec as a PR candidate here; print the comment its PR would get",
        "retrain try churn",
        "retrain try specs/house-prices.yaml --base main --workdir work",
        description="The candidate is judged against production as the base branch's copy of "
        "the spec names it (promotion.version, found among WORKDIR's local runs); a spec new "
        "in the working tree has no baseline. The comment is printed and written to "
        f"WORKDIR/try/SPEC.md. Exit status: 0 blessed, {NOT_BLESSED_EXIT} NOT BLESSED, 1 an "
        "invalid spec, 2 any other error.",
    )
    parser.add_argument("spec", help="spec name (looked up in specs/) or path to a spec file")
    parser.add_argument("--base", default="main", help="the branch a PR would merge into")
    parser.add_argument("--workdir", default=DEFAULT_WORKDIR, help="where local runs are kept")
    parser.set_defaults(handler=_try)

    merge = add_command(
        subparsers,
        "merge",
        "merge a pull request the local stack opened into this checkout (its base branch)",
        "retrain merge 1",
        "retrain merge 2 --workdir work",
        description="Commits the pull request's files (WORKDIR/codehost/pr-N/files/) onto its "
        "base branch, which must be checked out, and marks it merged: what merging it on "
        "GitHub does. A promotion PR merged this way makes its run production for "
        "`retrain status`, `lineage` and the next candidates.",
    )
    merge.add_argument("pr", type=int, help="the pull request's number")
    merge.add_argument("--workdir", default=DEFAULT_WORKDIR, help="where `retrain up` runs")
    merge.set_defaults(handler=_merge)


def _head(repo: Path) -> str:
    """The commit checked out, or `worktree` outside git: names the candidate's job id."""
    done = subprocess.run(
        ["git", "-C", str(repo), "rev-parse", "--short=12", "HEAD"],
        capture_output=True,
        text=True,
        check=False,
    )
    return done.stdout.strip() if done.returncode == 0 else "worktree"


def _try(args: argparse.Namespace, settings: Settings) -> int:
    env = build_pipeline_env(settings)
    spec, path = resolve_spec(args.spec, env.repo_root)
    try:
        in_repo = str(path.resolve().relative_to(env.repo_root))
    except ValueError:
        raise ConfigError(f"{path} is not inside the repository {env.repo_root}") from None
    workdir = Path(args.workdir)
    baselines = on_base_branch(
        Git(env.repo_root), args.base, lambda _: in_repo, local_baselines(workdir)
    )
    changes = changes_on_base_branch(Git(env.repo_root), args.base, lambda _: in_repo)
    request = candidate_request(
        spec, _head(env.repo_root), TRY_PR, baselines(spec), changes=changes(spec)
    )
    echo(f"trying {spec.name} (version {spec.fingerprint()}) as a PR into {args.base} would")
    summary_file = run_local(env, spec, path, workdir, request.parameters())
    summary = read_summary(summary_file)
    report = Report(
        comparison=compare(summary),
        summary=summary,
        links=links_for(summary, location=str(summary_file)),
        marker=comment_marker(spec.name, TRY_PR),
    )
    comment = render_comparison(report)
    out = workdir / "try" / f"{spec.name}.md"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(comment, encoding="utf-8")
    sys.stdout.write("\n" + comment)
    echo(f"\nthe comment is in {out}; open a pull request to have CI post it")
    return 0 if summary.blessed else NOT_BLESSED_EXIT


def _merge(args: argparse.Namespace, settings: Settings) -> int:
    repo = build_pipeline_env(settings).repo_root
    workdir = Path(args.workdir)
    pr_dir = next(
        (
            d / f"pr-{args.pr}"
            for d in (workdir / "codehost", workdir / "runs" / "codehost")  # `up`, the demo
            if (d / f"pr-{args.pr}").is_dir()
        ),
        workdir / "codehost" / f"pr-{args.pr}",
    )
    commit = merge_pull(repo, pr_dir, getpass.getuser() or "local-reviewer")
    echo(f"merged pull request #{args.pr} into {repo} as {commit[:12]}")
    echo(f"next: `retrain status --workdir {args.workdir}` shows what is production now")
    return 0
