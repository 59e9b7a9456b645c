#!/usr/bin/env bash
# Browser tests of the web playground: playwright-core drives Debian's chromium against `sandbox serve`
# (real language server, real runner). Prints TAP (`# pass N`, `# fail N`) for ./test.
set -uo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../../.." && pwd)"
cd "$ROOT"
if ! command -v "${CHROMIUM:-/usr/bin/chromium}" >/dev/null 2>&1; then
  apt-get install -y -qq chromium >/dev/null || { echo "cannot install chromium"; exit 1; }
fi
# Building src/Sandbox.Cli runs npm ci there already; this covers a test-only run.
[[ -d editors/web/node_modules/playwright-core ]] || (cd editors/web && npm ci --no-audit --no-fund) || exit 1
(cd editors/web && node --test --test-reporter=tap test/) || true  # counted through its TAP summary
export SANDBOX_BIN="${SANDBOX_BIN:-$ROOT/src/Sandbox.Cli/bin/Debug/net10.0/sandbox}"
exec node --test --test-concurrency=1 --test-reporter=tap tests/Sandbox.EndToEnd/web/
