#!/usr/bin/env bash
# One-time set-up behind `npm start` and `npm test`, idempotent and quick when nothing is missing:
#   1. Debian packages the tests and tools need (Chromium, ripgrep, build headers, PyTorch 1.13)
#   2. npm dependencies (`npm ci`, with onnxruntime-node's CUDA download skipped)
#   3. code-server 4.100.3 in the tools cache (scripts/install-code-server.sh)
# Usage: scripts/setup.sh [start|test]   ("start" skips PyTorch, which only the tests need)
# IMAGEFOLDER_NO_APT=1 never calls apt-get (then the packages must already be there).
set -euo pipefail
cd "$(dirname "$0")/.."
FOR="${1:-test}"
log() { printf '[setup] %s\n' "$*" >&2; }

APT=(chromium ripgrep libkrb5-dev libx11-dev libxkbfile-dev libsecret-1-dev pkg-config fonts-dejavu-core)
if [ "$FOR" = test ]; then
  APT+=(python3-torch python3-torchvision python3-numpy python3-pil libopenblas0-pthread python3-onnx)
fi
missing=()
for p in "${APT[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  if [ "${IMAGEFOLDER_NO_APT:-0}" = 1 ]; then
    log "missing Debian packages (IMAGEFOLDER_NO_APT=1, not installing): ${missing[*]}"; exit 1
  fi
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  log "installing Debian packages: ${missing[*]}"
  $SUDO apt-get update -q
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"
fi

# npm ci when node_modules is missing or older than the lockfile
if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  log "npm ci"
  ONNXRUNTIME_NODE_INSTALL=skip npm ci --no-fund --no-audit
fi

bash scripts/install-code-server.sh
