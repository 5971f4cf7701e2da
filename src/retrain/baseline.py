"""Production's model as git says: the run that the spec's `promotion.version` names (the spec
as the default branch has it), found through that run's evaluation summary.

Every submitting path (routing, the local backend's callers, CI's PR candidates, the demo) asks
here, so every run is judged against the promoted model, never a PR candidate or an unpromoted
run. What cannot be read becomes "no baseline" with the reason, never an error that stops a run.
The summary is untrusted input: its model must lie under the root production runs write to.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from retrain.blobs import BlobStore, is_under
from retrain.errors import BackendError, SummaryError
from retrain.runs import Baseline
from retrain.spec.model import Spec
from retrain.summary import parse_summary, summary_path

# Promotion PRs write a run's job id (`completion.decide.proposal`): RunRequest's pattern.
_JOB_ID = re.compile(r"^[a-z][a-z0-9-]{0,127}$")


@dataclass(frozen=True)
class ProductionBaselines:
    """Resolves a spec's baseline. `runs_root(spec_name)` is the pipeline root production runs
    of that spec write under (Vertex: <pipeline root>/<spec>; locally the work directory's)."""

    runs_root: Callable[[str], str]
    blobs: BlobStore

    def __call__(self, spec: Spec) -> Baseline:
        version = spec.promotion.version
        if not version:
            return Baseline()
        if not _JOB_ID.fullmatch(version):
            return Baseline.missing(
                f"promotion.version {version[:80]!r} is not a run id", version=version
            )
        root = self.runs_root(spec.name)
        location = summary_path(root, version)
        try:
            summary = parse_summary(self.blobs.read_bytes(location), location)
        except (SummaryError, BackendError) as exc:  # TransientError: the caller retries
            return Baseline.missing(f"production's run summary cannot be read: {exc}", version)
        if summary.spec != spec.name or summary.run.run_id != version:
            return Baseline.missing(
                f"{location}: the summary is of run {summary.run.run_id[:80]!r} of spec "
                f"{summary.spec[:80]!r}, not production's",
                version,
            )
        model = summary.candidate.uri
        if not is_under(model, root):
            return Baseline.missing(
                f"{location}: production's model {model[:200]!r} is not under {root}", version
            )
        return Baseline.found(version, model)


def no_baseline(spec: Spec) -> Baseline:
    """For callers that cannot read runs (dry runs, tests): unset, or named but not looked up."""
    version = spec.promotion.version or ""
    if not version:
        return Baseline()
    return Baseline.missing("production's runs are not readable from here", version)
