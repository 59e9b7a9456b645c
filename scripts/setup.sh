#!/usr/bin/env bash
# Installs what Sandbox needs on a Debian/Ubuntu machine, only what is missing (idempotent).
#   scripts/setup.sh          what `sandbox run` needs: LXC and a C compiler for the in-container agent
#   scripts/setup.sh --all    also every language toolchain and the tools the tests drive
#                             (Neovim, Chromium, ripgrep, node, nats-server)
set -euo pipefail

want=(lxc uidmap gcc libc6-dev)
if [[ "${1:-}" == "--all" ]]; then
  want+=(python3 g++ openjdk-17-jdk-headless perl ruby php-cli golang-go rustc bash
         neovim chromium ripgrep nats-server make python3-minimal git curl ca-certificates
         build-essential libkrb5-dev libsecret-1-dev libx11-dev libxkbfile-dev)
  command -v node >/dev/null 2>&1 || want+=(nodejs npm)
  command -v npm >/dev/null 2>&1 || want+=(npm)
fi

missing=()
for p in "${want[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done

if ((${#missing[@]})); then
  echo "setup: installing ${missing[*]}" >&2
  SUDO=""
  if [[ $(id -u) -ne 0 ]]; then
    command -v sudo >/dev/null || { echo "setup: run as root (apt-get needs it)" >&2; exit 2; }
    SUDO=sudo
  fi
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
fi

if ! command -v dotnet >/dev/null 2>&1; then
  echo "setup: the .NET 10 SDK is required (https://dot.net); install it, then run this again" >&2
  exit 2
fi
