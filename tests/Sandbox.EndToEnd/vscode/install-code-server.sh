#!/usr/bin/env bash
# Installs code-server (real VS Code in a browser) for the VS Code extension's end-to-end test.
#
# No VS Code build can be downloaded here, and code-server's npm postinstall downloads prebuilt
# native modules and a ripgrep binary, which the closed network refuses. So: install with
# --ignore-scripts, then do what the postinstall does by hand, building every native module from
# source against the system Node's headers (/usr/include/node) and using Debian's ripgrep.
#
# Idempotent: a finished install leaves a stamp file and the next call returns at once.
# Prints the code-server entry point's directory on its last line.
#
#   SANDBOX_CI_CACHE  cache root (default /var/cache/sandbox-ci); installs into $SANDBOX_CI_CACHE/code-server
set -euo pipefail

VERSION=4.100.3
CACHE_ROOT=${SANDBOX_CI_CACHE:-/var/cache/sandbox-ci}
PREFIX="$CACHE_ROOT/code-server"
PKG="$PREFIX/node_modules/code-server"
STAMP="$PREFIX/.installed"
# The stamp holds this script's hash, so a changed recipe reinstalls.
RECIPE=$(sha256sum "${BASH_SOURCE[0]}" | cut -d' ' -f1)

log() { printf '[install-code-server] %s\n' "$*" >&2; }

if [[ -f "$STAMP" && "$(cat "$STAMP")" == "$RECIPE" && -f "$PKG/out/node/entry.js" ]]; then
  log "code-server $VERSION already installed in $PREFIX"
  echo "$PKG"
  exit 0
fi

# --- system packages ---------------------------------------------------------------------------
need_apt=()
command -v chromium >/dev/null || need_apt+=(chromium)
command -v rg >/dev/null || need_apt+=(ripgrep)
command -v g++ >/dev/null || need_apt+=(build-essential)
command -v make >/dev/null || need_apt+=(make)
command -v python3 >/dev/null || need_apt+=(python3)
command -v pkg-config >/dev/null || need_apt+=(pkg-config)
[[ -f /usr/include/krb5.h || -f /usr/include/gssapi/gssapi.h ]] || need_apt+=(libkrb5-dev)
[[ -f /usr/include/node/node.h ]] || need_apt+=(libnode-dev)
command -v node >/dev/null || need_apt+=(nodejs)
command -v npm >/dev/null || need_apt+=(npm)
if ((${#need_apt[@]})); then
  log "apt-get install ${need_apt[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq "${need_apt[@]}" >/dev/null
fi

node_major=$(node -p 'process.versions.node.split(".")[0]')
if [[ "$node_major" != 20 ]]; then
  log "code-server $VERSION needs Node 20, found $(node --version)"
  exit 1
fi

NODE_GYP="$(npm prefix -g)/lib/node_modules/npm/node_modules/node-gyp/bin/node-gyp.js"
[[ -f "$NODE_GYP" ]] || NODE_GYP="$(dirname "$(readlink -f "$(command -v npm)")")/../node_modules/node-gyp/bin/node-gyp.js"
[[ -f "$NODE_GYP" ]] || { log "node-gyp not found next to npm"; exit 1; }
# Node's own headers from Debian's package: no header download.
NODEDIR=/usr

gyp_build() { # DIR [GYP-ARGS...]: build the native module in DIR from source
  local dir=$1
  shift
  [[ -d "$dir" ]] || { log "missing native module $dir"; exit 1; }
  log "node-gyp rebuild in ${dir#"$PREFIX"/}"
  (cd "$dir" && node "$NODE_GYP" rebuild --nodedir="$NODEDIR" --jobs=max "$@" >"$PREFIX/gyp-$(basename "$dir").log" 2>&1) || {
    tail -30 "$PREFIX/gyp-$(basename "$dir").log" >&2
    exit 1
  }
}

npm_quiet=(--ignore-scripts --no-audit --no-fund --loglevel=error)

# --- code-server itself ------------------------------------------------------------------------
mkdir -p "$PREFIX"
rm -rf "$PKG"
log "npm install code-server@$VERSION"
npm install --prefix "$PREFIX" "${npm_quiet[@]}" "code-server@$VERSION"

# argon2 (password hashing; unused with --auth none, but loaded at start-up)
# argon2 is a node-pre-gyp module: its binding.gyp expects the variables node-pre-gyp would pass,
# and copies the result to module_path, where argon2.js looks for it.
gyp_build "$PREFIX/node_modules/argon2" --module_name=argon2 --module_path="$PREFIX/node_modules/argon2/lib/binding/napi-v3" --napi_build_version=3

# --- lib/vscode: what postinstall.sh's vscode_install does ------------------------------------
cd "$PKG/lib/vscode"
log "npm install in lib/vscode"
npm install --omit=dev "${npm_quiet[@]}"
for mod in kerberos node-pty @vscode/deviceid @vscode/spdlog native-watchdog; do
  gyp_build "$PKG/lib/vscode/node_modules/$mod"
done
mkdir -p node_modules/@vscode/ripgrep/bin
cp "$(command -v rg)" node_modules/@vscode/ripgrep/bin/rg
rm -rf node_modules.asar && ln -s node_modules node_modules.asar
(cd bin/remote-cli && rm -f code-server && ln -s code-linux.sh code-server)
(cd bin/helpers && rm -f browser.sh && ln -s browser-linux.sh browser.sh)

cd extensions
log "npm install in lib/vscode/extensions"
npm install --omit=dev "${npm_quiet[@]}"
node ./postinstall.mjs >/dev/null

# Smoke check: every native module loads in this Node.
cd "$PKG"
node -e '
  for (const m of ["argon2", "./lib/vscode/node_modules/kerberos", "./lib/vscode/node_modules/node-pty",
                   "./lib/vscode/node_modules/@vscode/spdlog", "./lib/vscode/node_modules/native-watchdog",
                   "./lib/vscode/node_modules/@vscode/deviceid"]) require(m.startsWith(".") ? require("path").resolve(m) : m);
' || { log "a native module does not load"; exit 1; }
"$PKG/lib/vscode/node_modules/@vscode/ripgrep/bin/rg" --version >/dev/null

echo "$RECIPE" >"$STAMP"
log "code-server $VERSION installed in $PREFIX"
echo "$PKG"
