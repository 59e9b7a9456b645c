#!/usr/bin/env bash
# Real LSP clients (vscode-languageserver-protocol over stdio, vscode-ws-jsonrpc over WebSocket) against
# `sandbox lsp` with the real runner. Prints TAP (`# pass N`, `# fail N`) for ./test.
set -uo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$here/../../.." && pwd)"
export SANDBOX_BIN="${SANDBOX_BIN:-$ROOT/src/Sandbox.Cli/bin/Debug/net10.0/sandbox}"
(cd "$here" && npm ci --no-audit --no-fund --loglevel=error) || { echo "npm ci failed"; exit 1; }
cd "$here" && exec node --test --test-concurrency=1 --test-reporter=tap test/
