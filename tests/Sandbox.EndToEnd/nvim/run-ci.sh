#!/usr/bin/env bash
# Neovim headless as the LSP client of `sandbox lsp --stdio` (real runner). Prints TAP for ./test.
set -uo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$here/../../.." && pwd)"
export SANDBOX_BIN="${SANDBOX_BIN:-$ROOT/src/Sandbox.Cli/bin/Debug/net10.0/sandbox}"
command -v nvim >/dev/null || apt-get install -y -qq neovim >/dev/null || { echo "cannot install neovim"; exit 1; }
exec node --test --test-reporter=tap "$here/"
