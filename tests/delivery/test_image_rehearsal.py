"""The merge build's steps that run inside the pipeline image, rehearsed in that image's
environment (issue 23, blocker 1).

`docker/pipelines.Dockerfile` installs `pipelines/requirements.lock` with `--no-deps`, then this
project with `--no-deps --no-build-isolation -e .`, so a step Cloud Build runs in that image has
only the lock's packages: none of the service environment's (`.venv`). `.venv-pipelines` is
built the same way by the Makefile (the lock with `--no-deps`, then the project with `--no-deps
--no-build-isolation -e .`; `test_the_pipeline_venv_is_built_as_the_image_is` checks both
files say so, and that every pin of the lock is what the venv holds). One difference, on the
safe side: the image starts FROM `gcr.io/tfx-oss-public/tfx:1.16.0`, whose own packages the
venv does not have, so the venv holds a subset of the image's packages (the lock's pins
replace the base image's versions of what they name). A step that runs here runs in the image.

The steps come from `cloudbuild.yaml` itself (every step whose `name` is the pipeline image
`${_IMAGE}` and whose entrypoint is one of this project's console scripts), so a new step in
the image cannot escape the rehearsal: it fails here until REHEARSALS says how to run it.
Each step is rehearsed twice: every module its command imports (read from the source by
tests/delivery/step_imports.py, lazy imports included) is imported in the venv, and the step
itself runs there on a real input (for `deploy compile`: the release plan the `plan` step
writes for this repository's specs, both BigQuery sources, with a local pipeline root, since
a gs:// root stages files over the network).
"""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import tomllib
import yaml

from retrain.cli.main import build_parser

from .helpers import REPO, SHA
from .step_imports import command_imports

pytestmark = pytest.mark.tfx

CLOUDBUILD: dict[str, Any] = yaml.safe_load((REPO / "cloudbuild.yaml").read_text())
DOCKERFILE = (REPO / "docker" / "pipelines.Dockerfile").read_text()
VENV = REPO / ".venv-pipelines"
SCRIPTS: dict[str, str] = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["scripts"]


def _dockerfile_instructions(keyword: str) -> list[str]:
    joined = re.sub(r"\\\n\s*", " ", DOCKERFILE)  # continuation lines
    return [
        line.split(None, 1)[1]
        for line in joined.splitlines()
        if line.startswith(f"{keyword} ") and len(line.split(None, 1)) == 2
    ]


def _dockerfile_env() -> dict[str, str]:
    env: dict[str, str] = {}
    for instruction in _dockerfile_instructions("ENV"):
        for item in shlex.split(instruction):
            name, _, value = item.partition("=")
            env[name] = value
    return env


def _image_steps() -> list[dict[str, Any]]:
    """The cloudbuild.yaml steps that run this project's code inside the pipeline image."""
    return [
        s
        for s in CLOUDBUILD["steps"]
        if s["name"] == "${_IMAGE}" and s.get("entrypoint", "") in SCRIPTS
    ]


def test_the_pipeline_venv_is_built_as_the_image_is() -> None:
    runs = " ".join(_dockerfile_instructions("RUN"))
    assert re.search(r"pip install --no-deps -r pipelines/requirements\.lock", runs), runs
    assert re.search(r"pip install --no-deps --no-build-isolation -e \.", runs), runs
    make = (REPO / "Makefile").read_text()
    assert re.search(r"pip install [^\n]*--no-deps [^\n]*-r pipelines/requirements\.lock", make)
    assert re.search(r"pip install [^\n]*--no-deps --no-build-isolation [^\n]*-e \.", make)
    # Every step in the image that is not a project command is a known shell-free tool call.
    for step in CLOUDBUILD["steps"]:
        if step["name"] == "${_IMAGE}":
            assert step.get("entrypoint", "") in SCRIPTS, step
    # The venv holds exactly the lock's pins (a stale venv would rehearse another image).
    pins = dict(
        line.split("==", 1)
        for line in (REPO / "pipelines" / "requirements.lock").read_text().splitlines()
        if "==" in line and not line.startswith("#")
    )
    script = (
        "import json, sys, importlib.metadata as m\n"
        "pins = json.loads(sys.argv[1])\n"
        "bad = {}\n"
        "for name, want in pins.items():\n"
        "    try:\n"
        "        have = m.version(name)\n"
        "    except m.PackageNotFoundError:\n"
        "        have = None\n"
        "    if have != want:\n"
        "        bad[name] = [want, have]\n"
        "print(json.dumps(bad))\n"
    )
    done = subprocess.run(
        [str(VENV / "bin" / "python"), "-c", script, json.dumps(pins)],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    assert json.loads(done.stdout) == {}, "run `make setup`: .venv-pipelines is not the lock"
    # The query the image compiles is parsed by the sqlglot the service validated it with.
    service = tomllib.loads((REPO / "uv.lock").read_text())["package"]
    assert pins["sqlglot"] == next(p["version"] for p in service if p["name"] == "sqlglot")


def _substitutions() -> dict[str, str]:
    values = {k: str(v) for k, v in CLOUDBUILD["substitutions"].items()}
    values.update(PROJECT_ID="acme-prod", COMMIT_SHA=SHA, _DRY_RUN="0")
    return values


def _substitute(text: str, values: dict[str, str]) -> str:
    for _ in range(3):  # substitutions may nest (_IMAGE uses _REGION)
        text = re.sub(r"\$\{?([A-Z_]+)\}?", lambda m: values.get(m.group(1), m.group(0)), text)
    return text


def _checkout(root: Path) -> Path:
    """What the image holds under its WORKDIR: the Dockerfile's COPY sources."""
    (workdir,) = _dockerfile_instructions("WORKDIR")
    assert workdir == "/pipeline"
    for instruction in _dockerfile_instructions("COPY"):
        if instruction.startswith("--from="):
            continue  # Beam's boot program, not project code
        *sources, _ = instruction.split()
        for item in sources:
            source = REPO / item
            target = root / item
            target.parent.mkdir(parents=True, exist_ok=True)
            if source.is_dir():
                ignore = shutil.ignore_patterns("__pycache__", "*.json")
                shutil.copytree(source, target, ignore=ignore, dirs_exist_ok=True)
            else:
                shutil.copy2(source, target)
    return root


def _image_env(checkout: Path) -> dict[str, str]:
    """The step's environment: the image's ENV (its /pipeline is the checkout, its Python the
    venv's), Cloud Build's `options.env`, and nothing from this machine but PATH and HOME."""
    values = _substitutions()
    env = {k: v.replace("/pipeline", str(checkout)) for k, v in _dockerfile_env().items()}
    env["RETRAIN_PIPELINES_PYTHON"] = str(VENV / "bin" / "python")
    for item in CLOUDBUILD["options"]["env"]:
        name, _, value = _substitute(item, values).partition("=")
        env[name] = value
    env["PATH"] = f"{VENV / 'bin'}:/usr/bin:/bin"
    env["HOME"] = os.environ.get("HOME", str(checkout))
    return env


def _release_plan(checkout: Path, env: dict[str, str]) -> None:
    """The `plan` step's output, as that step writes it (it runs in the service environment,
    in the Cloud SDK image), with local roots in place of gs:// ones."""
    plan_step = next(s for s in CLOUDBUILD["steps"] if s["id"] == "plan")
    args = [_substitute(str(a), _substitutions()) for a in plan_step["args"]]
    service = {**env, "PATH": "/usr/bin:/bin", "RETRAIN_DRY_RUN": "1"}  # no image pin, no GCS
    done = subprocess.run(
        [str(REPO / plan_step["entrypoint"]), *args, "--previous", "none"],
        cwd=checkout, env=service, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    out = checkout / args[args.index("--out") + 1]
    plan = json.loads(out.read_text())
    assert {s["action"] for s in plan["specs"]} == {"compile"}
    plan["pipeline_root"] = str(checkout / "gcs" / "pipelines")
    plan["serving_root"] = str(checkout / "gcs" / "serving")
    out.write_text(json.dumps(plan))


def _bigquery_specs(checkout: Path) -> list[str]:
    return sorted(
        p.stem
        for p in (checkout / "specs").glob("*.yaml")
        if yaml.safe_load(p.read_text())["data"]["source"] == "bigquery"
    )


def _check_compile(checkout: Path, args: list[str]) -> None:
    out = checkout / args[args.index("--out") + 1]
    specs = _bigquery_specs(checkout)
    assert specs, "no BigQuery spec to compile"
    for name in specs:
        template = json.loads((out / f"{name}.json").read_text())
        tasks = template["pipelineSpec"]["root"]["dag"]["tasks"]
        assert "BigQueryExampleGen" in tasks
        query = json.dumps(tasks["BigQueryExampleGen"])
        assert "FOR SYSTEM_TIME AS OF" in query  # built by sqlglot (retrain.spec.sql)
        # Beam's BigQuery read gets the dataset Terraform creates (blocker 2; infra/main.tf).
        parameters = tasks["BigQueryExampleGen"]["inputs"]["parameters"]
        temp = parameters["temp_dataset"]["runtimeValue"]["constantValue"]["stringValue"]
        assert temp == f"{_substitutions()['PROJECT_ID']}.retrain_tmp"


# How to give each image step its input and check its output, keyed by its command.
Prepare = Callable[[Path, dict[str, str]], None]
Check = Callable[[Path, list[str]], None]
REHEARSALS: dict[tuple[str, ...], tuple[Prepare, Check]] = {
    ("deploy", "compile"): (_release_plan, _check_compile),
}


def _command(args: list[str]) -> tuple[str, ...]:
    return tuple(a for a in args[:2] if not a.startswith("-"))


def test_every_image_step_imports_what_it_runs_in_the_image_environment() -> None:
    steps = _image_steps()
    assert [s["id"] for s in steps], "no cloudbuild.yaml step runs project code in the image"
    for step in steps:
        args = [_substitute(str(a), _substitutions()) for a in step["args"]]
        entry = SCRIPTS[step["entrypoint"]].split(":")[0]
        found = command_imports(build_parser(), args, entry)
        modules = sorted(found.project | found.third_party)
        script = (
            "import importlib, json, sys\n"
            "missing = {}\n"
            "for name in json.loads(sys.argv[1]):\n"
            "    try:\n"
            "        importlib.import_module(name)\n"
            "    except ImportError as exc:\n"
            "        missing[name] = repr(exc)\n"
            "print(json.dumps(missing))\n"
        )
        done = subprocess.run(
            [str(VENV / "bin" / "python"), "-c", script, json.dumps(modules)],
            cwd=REPO, env=_image_env(REPO), capture_output=True, text=True, timeout=600,
        )  # fmt: skip
        assert done.returncode == 0, done.stderr[-3000:]
        assert json.loads(done.stdout.splitlines()[-1]) == {}, step["id"]


def test_every_image_step_runs_in_the_image_environment(tmp_path: Path) -> None:
    steps = _image_steps()
    unrehearsed = [s["id"] for s in steps if _command(list(map(str, s["args"]))) not in REHEARSALS]
    assert not unrehearsed, f"add a rehearsal (REHEARSALS) for the image steps {unrehearsed}"
    for step in steps:
        checkout = _checkout(tmp_path / step["id"])
        env = _image_env(checkout)
        args = [_substitute(str(a), _substitutions()) for a in step["args"]]
        prepare, check = REHEARSALS[_command(args)]
        prepare(checkout, env)
        entry = shutil.which(step["entrypoint"], path=env["PATH"])
        assert entry == str(VENV / "bin" / step["entrypoint"]), entry
        done = subprocess.run(
            [entry, *args], cwd=checkout, env=env, capture_output=True, text=True, timeout=900
        )
        assert done.returncode == 0, f"{step['id']}:\n{done.stdout[-2000:]}\n{done.stderr[-3000:]}"
        check(checkout, args)
