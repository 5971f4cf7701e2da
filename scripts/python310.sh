#!/usr/bin/env bash
# Print the path of a Python 3.10 interpreter for the TFX environment.
# Order: $PIPELINE_PYTHON, pyenv's 3.10.x, python3.10 on PATH, then uv's managed Pythons.
set -euo pipefail
if [[ -n "${PIPELINE_PYTHON:-}" ]]; then echo "$PIPELINE_PYTHON"; exit 0; fi
if command -v pyenv >/dev/null 2>&1; then
  root=$(pyenv root)
  for candidate in "$root"/versions/3.10.*/bin/python3.10; do
    [[ -x "$candidate" ]] && { echo "$candidate"; exit 0; }
  done
fi
if command -v python3.10 >/dev/null 2>&1 && python3.10 -c 'import sys' 2>/dev/null; then
  command -v python3.10; exit 0
fi
uv=${UV:-uv}
"$uv" python find 3.10 2>/dev/null && exit 0
"$uv" python install 3.10 >&2 && "$uv" python find 3.10
