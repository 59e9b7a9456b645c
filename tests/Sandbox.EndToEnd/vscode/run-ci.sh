#!/usr/bin/env bash
# CI entry for the VS Code extension: install code-server, build and package the .vsix, run the
# unit tests, then the end-to-end test in code-server (needs SANDBOX_BIN, the built `sandbox`).
# Each step prints its duration. Exit status is the first failing step's.
#
#   bash tests/Sandbox.EndToEnd/vscode/run-ci.sh            # everything
#   SKIP_E2E=1 bash tests/Sandbox.EndToEnd/vscode/run-ci.sh  # no code-server, no browser
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../../.." && pwd)
ext="$repo/editors/vscode"

step() {
  local name=$1
  shift
  local start=$SECONDS
  echo "::: vscode: $name"
  "$@"
  echo "::: vscode: $name took $((SECONDS - start)) s"
}

step "npm ci" npm --prefix "$ext" ci --no-audit --no-fund --loglevel=error
step "build + package (build/sandbox.vsix)" npm --prefix "$ext" run --silent package
step "unit tests" npm --prefix "$ext" test --silent
if [[ "${SKIP_E2E:-}" != 1 ]]; then
  step "install code-server" bash -c "bash '$here/install-code-server.sh' >/dev/null"
  export SANDBOX_BIN=${SANDBOX_BIN:-$repo/src/Sandbox.Cli/bin/Debug/net10.0/sandbox}
  step "end-to-end in code-server" node --test "$here/"
fi
