"""Compiling specs to Vertex templates, incrementally: content hashes of everything that
shapes a template, the plan they give, and the compile that carries it out.

A template depends on the spec's identity, the compile options and the pipeline code. Hashing
them before starting the pipeline environment means an unchanged repository compiles nothing
and never pays TFX's import.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

from retrain.errors import PipelineError, SpecError
from retrain.google.resource_names import PROJECT_PATTERN, REGION_PATTERN
from retrain.pipeline_env.process import PipelineEnv, echo
from retrain.spec.load import load_specs
from retrain.spec.model import Spec
from retrain.spec.sql import QueryProblem, time_travel_query, windowed_query
from retrain.spec.tfschema import schema_path, schema_problems

MANIFEST = "manifest.json"
# Where Beam's BigQuery read (TFX's BigQueryExampleGen, EXPORT method) writes a query's results
# before exporting them: without a `temp_dataset` it creates a dataset per read, which needs
# `bigquery.datasets.create` (apache_beam/io/gcp/bigquery.py, _CustomBigQuerySource
# ._setup_temporary_dataset; bigquery_tools.py, BigQueryWrapper.create_temporary_dataset).
# Given one, it only creates and deletes a table there. infra/main.tf creates both datasets;
# candidate runs (PR code) get their own (`retrain compile --bigquery-temp-dataset`).
TEMP_DATASET = "retrain_tmp"
CANDIDATE_TEMP_DATASET = "retrain_candidates_tmp"
# Code that shapes the compiled template, relative to the repository root.
PIPELINE_CODE = (
    "pipelines",
    "src/retrain/spec",
    "src/retrain/metrics.py",
    "src/retrain/runs.py",
    "src/retrain/summary.py",
)


class CompileOptions(BaseModel):
    """Everything outside the spec that a template names: where runs write, the image, and
    the project, region and account its Beam, Dataflow and training jobs use."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    pipeline_root: str
    serving_root: str
    image: str
    project: str = Field(pattern=PROJECT_PATTERN)
    region: str = Field(pattern=REGION_PATTERN)
    service_account: str = Field(
        default="", description="Dataflow workers and training jobs run as it; '' = default."
    )
    temp_location: str = Field(default="", description="Default: <pipeline_root>/tmp.")
    staging_location: str = Field(default="", description="Default: <pipeline_root>/staging.")
    bigquery_temp_dataset: str = Field(
        default="",
        pattern=r"^([a-z][a-z0-9-]{4,28}[a-z0-9]\.[A-Za-z0-9_]{1,1024})?$",
        description="PROJECT.DATASET where BigQuery reads put their query results; "
        f"default: PROJECT.{TEMP_DATASET} (infra/main.tf creates it).",
    )
    dataflow: bool = Field(
        default=True,
        description="False: Beam components run in their step even when a spec asks for "
        "Dataflow (candidate runs: their account has no Dataflow roles).",
    )
    vertex_training: bool = Field(
        default=True,
        description="False: the Trainer trains in its step even when a spec sets "
        "resources.training (candidate runs: PR code may not create Vertex custom jobs).",
    )

    @property
    def temp_root(self) -> str:
        return self.temp_location or f"{self.pipeline_root.rstrip('/')}/tmp"

    @property
    def temp_dataset(self) -> str:
        return self.bigquery_temp_dataset or f"{self.project}.{TEMP_DATASET}"

    @property
    def staging_root(self) -> str:
        return self.staging_location or f"{self.pipeline_root.rstrip('/')}/staging"


# Placeholders for compiling on a machine that deploys nothing (demo, local checks); Cloud
# Build passes the real bucket, project and the pushed image.
PLACEHOLDER_OPTIONS = CompileOptions(
    pipeline_root="gs://retrain-artifacts/pipelines",
    serving_root="gs://retrain-artifacts/serving",
    image="retrain-pipelines:local",
    project="retrain-local",
    region="us-central1",
)


class ManifestEntry(BaseModel):
    input_hash: str
    spec_version: str
    template: str
    template_sha256: str


class Manifest(BaseModel):
    specs: dict[str, ManifestEntry] = {}

    @classmethod
    def load(cls, out: Path) -> Manifest:
        path = out / MANIFEST
        if not path.exists():
            return cls()
        try:
            return cls.model_validate_json(path.read_text())
        except ValueError:
            return cls()  # a damaged manifest only costs a full recompile

    def save(self, out: Path) -> None:
        text = json.dumps(self.model_dump(mode="json"), indent=2, sort_keys=True) + "\n"
        (out / MANIFEST).write_text(text)


def code_hash(root: Path) -> str:
    digest = hashlib.sha256()
    for entry in PIPELINE_CODE:
        base = root / entry
        files = sorted(base.rglob("*.py")) if base.is_dir() else [base]
        files += sorted(base.rglob("*.lock")) if base.is_dir() else []
        for path in files:
            if path.exists() and "__pycache__" not in path.parts:
                digest.update(str(path.relative_to(root)).encode())
                digest.update(path.read_bytes())
    return digest.hexdigest()


def input_hash(spec: Spec, options: CompileOptions, code: str, schema: str = "") -> str:
    """`schema`: the sha256 of the spec's checked-in schema; the image the template names
    carries that file, so a new schema needs a new template."""
    payload = json.dumps(
        {"spec": spec.identity(), "options": options.model_dump(), "code": code}
        | ({"schema": schema} if schema else {}),
        sort_keys=True,
    )
    return hashlib.sha256(payload.encode()).hexdigest()


@dataclass(frozen=True)
class CompilePlan:
    to_compile: list[str]
    unchanged: list[str]


def plan(specs: list[Spec], hashes: dict[str, str], manifest: Manifest, out: Path) -> CompilePlan:
    to_compile: list[str] = []
    unchanged: list[str] = []
    for spec in specs:
        entry = manifest.specs.get(spec.name)
        fresh = (
            entry is not None
            and entry.input_hash == hashes[spec.name]
            and (out / entry.template).exists()
            and file_sha256(out / entry.template) == entry.template_sha256
        )
        (unchanged if fresh else to_compile).append(spec.name)
    return CompilePlan(to_compile, unchanged)


def file_sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def schema_digest(spec_path: Path) -> str:
    """The sha256 of the schema beside a spec; empty when there is none (compiling refuses
    such a spec, saying which command writes it)."""
    path = schema_path(spec_path)
    return file_sha256(path) if path.is_file() else ""


def snapshot_queries(specs: list[Spec]) -> dict[str, str]:
    """Each BigQuery spec's training query reading its table as of the run's data snapshot
    (`FOR SYSTEM_TIME AS OF`, filled in per run). Built in the calling process, which is the
    service environment locally and the pipeline image in Cloud Build's `compile` step: both
    install sqlglot (uv.lock; pipelines/requirements.lock, tests/delivery/test_image_rehearsal)."""
    try:
        return {
            s.name: time_travel_query(windowed_query(s), s.data.table)
            for s in specs
            if s.data.source == "bigquery"
        }
    except QueryProblem as exc:
        raise PipelineError(f"data.query {exc}") from exc


def compile_specs(
    env: PipelineEnv, paths: list[Path], out: Path, options: CompileOptions, force: bool = False
) -> tuple[list[str], list[str]]:
    """Compile what changed; return (compiled, unchanged) spec names."""
    specs = load_specs(paths)
    problems = [p for s, path in zip(specs, paths, strict=True) for p in schema_problems(s, path)]
    if problems:
        raise SpecError(problems)
    by_name = dict(zip((s.name for s in specs), paths, strict=True))
    code = code_hash(env.repo_root)
    hashes = {s.name: input_hash(s, options, code, schema_digest(by_name[s.name])) for s in specs}
    manifest = Manifest.load(out)
    todo = plan(specs, hashes, manifest, out)
    compiled = [s.name for s in specs] if force else todo.to_compile
    unchanged = [] if force else todo.unchanged
    for name in unchanged:
        echo(f"unchanged {name} (content hash {hashes[name][:12]}), skipped")
    if compiled:
        out.mkdir(parents=True, exist_ok=True)
        args = [
            "--out",
            str(out.resolve()),
            "--options",
            options.model_dump_json(),
            "--queries",
            json.dumps(snapshot_queries([s for s in specs if s.name in compiled])),
            *[str(by_name[n].resolve()) for n in compiled],
        ]
        lines = env.run_module(
            "pipelines.compile", args, out / "compile.log", on_line=lambda _: None
        )
        took = dict(line.split()[1:3] for line in lines if line.startswith("compiled: "))
        versions = {s.name: s.fingerprint() for s in specs}
        for name in compiled:
            template = f"{name}.json"
            manifest.specs[name] = ManifestEntry(
                input_hash=hashes[name],
                spec_version=versions[name],
                template=template,
                template_sha256=file_sha256(out / template),
            )
            echo(
                f"compiled  {name} -> {out / template} "
                f"({took.get(str(out.resolve() / template), '?')})"
            )
        manifest.save(out)
    return compiled, unchanged
