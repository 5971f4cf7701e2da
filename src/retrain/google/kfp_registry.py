"""Upload compiled pipelines to a Kubeflow Pipelines template registry (Artifact Registry),
through kfp's RegistryClient. Runs in the pipeline environment, where kfp is installed:

    .venv-pipelines/bin/python -m retrain.google.kfp_registry --host URL --tag SHA FILE...

Each FILE is a pipeline IR (what `retrain deploy templates` writes to build/pipelines/ir/).
Tags: the commit sha and `latest`. Prints one `uploaded: FILE PACKAGE VERSION` line per file.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from typing import Any


def upload(host: str, files: Sequence[str], tags: Sequence[str], client: Any = None) -> list[str]:
    if client is None:
        from kfp.registry import RegistryClient  # type: ignore[import-not-found,unused-ignore]

        client = RegistryClient(host=host)
    lines = []
    for path in files:
        package, version = client.upload_pipeline(file_name=path, tags=list(tags))
        lines.append(f"uploaded: {path} {package} {version}")
    return lines


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m retrain.google.kfp_registry")
    parser.add_argument("--host", required=True, help="https://REGION-kfp.pkg.dev/PROJECT/REPO")
    parser.add_argument("--tag", action="append", default=[], help="tag (repeatable)")
    parser.add_argument("files", nargs="+")
    args = parser.parse_args(argv)
    try:
        for line in upload(args.host, args.files, args.tag or ["latest"]):
            print(line, flush=True)
    except Exception as exc:  # requests/kfp errors: report one line, exit non-zero
        print(f"kfp registry upload failed: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
