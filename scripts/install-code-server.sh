#!/usr/bin/env bash
# Installs code-server (VS Code in the browser) for the end-to-end tests and `npm start`, without
# its own install script, which downloads ripgrep from GitHub and so fails offline. Works offline
# (npm registry + Debian apt only) and on a machine with full internet access.
#
#   scripts/install-code-server.sh            install if missing, then verify it starts
#   scripts/install-code-server.sh --force    reinstall from scratch
#   scripts/install-code-server.sh --verify   also start an existing install to check it works
#   scripts/install-code-server.sh --print    print the entry.js path of a verified install (or fail)
#
# Environment:
#   IMAGEFOLDER_TOOLS      cache folder (default: $HOME/.cache/imagefolder-inspector/tools)
#   CODE_SERVER_VERSION    default 4.100.3 (VS Code 1.100.3, the last line that runs on Node 20)
#   IMAGEFOLDER_NO_APT=1   never call apt-get (the needed Debian packages must then be present)
#
# The install lives in $IMAGEFOLDER_TOOLS/code-server-<version>/, outside the git tree; a marker
# file records a successful verified install, so later runs return in well under a second.
set -euo pipefail

VERSION="${CODE_SERVER_VERSION:-4.100.3}"
TOOLS="${IMAGEFOLDER_TOOLS:-$HOME/.cache/imagefolder-inspector/tools}"
DEST="$TOOLS/code-server-$VERSION"
ENTRY="$DEST/node_modules/code-server/out/node/entry.js"
MARKER="$DEST/.imagefolder-installed"
NICE="${IMAGEFOLDER_NICE:-nice -n 10}"
# Debian packages: Chromium (driven by playwright-core), ripgrep (VS Code's search), and the
# headers the native modules of VS Code's server build against.
APT_PACKAGES=(chromium ripgrep libkrb5-dev libx11-dev libxkbfile-dev libsecret-1-dev pkg-config)

log() { printf '[install-code-server] %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

FORCE=0
PRINT=0
for arg in "$@"; do
  case "$arg" in
    --force) FORCE=1 ;;
    --print) PRINT=1 ;;
    --verify) export IMAGEFOLDER_VERIFY=1 ;;
    -h|--help) sed -n '2,16p' "$0"; exit 0 ;;
    *) die "unknown argument: $arg" ;;
  esac
done

if [[ $PRINT == 1 ]]; then
  [[ -f "$MARKER" && -f "$ENTRY" ]] || die "code-server $VERSION is not installed in $DEST"
  echo "$ENTRY"
  exit 0
fi

# ---------------------------------------------------------------------------------------------
# 1. Debian packages
# ---------------------------------------------------------------------------------------------
ensure_apt_packages() {
  local missing=()
  for p in "${APT_PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
  done
  [[ ${#missing[@]} == 0 ]] && return 0
  if [[ "${IMAGEFOLDER_NO_APT:-}" == 1 ]] || ! command -v apt-get >/dev/null; then
    log "warning: missing Debian packages: ${missing[*]} (IMAGEFOLDER_NO_APT=1 or no apt-get); continuing"
    return 0
  fi
  local sudo=()
  if [[ $(id -u) != 0 ]]; then
    command -v sudo >/dev/null || die "missing packages ${missing[*]}; run as root or install them"
    sudo=(sudo)
  fi
  log "apt-get install ${missing[*]}"
  # Refresh the package lists only if an install from the current ones fails.
  if ! DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -q "${missing[@]}" >&2; then
    "${sudo[@]}" apt-get update -q >&2
    DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -q "${missing[@]}" >&2
  fi
}

# ---------------------------------------------------------------------------------------------
# 2. Verification: start code-server on a free loopback port and wait for /healthz
# ---------------------------------------------------------------------------------------------
verify() {
  local tmp port pid ok=0
  tmp="$(mktemp -d)"
  port="$(node -e 'const s=require("net").createServer();s.listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})')"
  node "$ENTRY" --auth none --bind-addr "127.0.0.1:$port" --disable-telemetry --disable-update-check \
    --disable-workspace-trust --config "$tmp/config.yaml" --user-data-dir "$tmp/user" \
    --extensions-dir "$tmp/ext" "$tmp" \
    >"$tmp/log" 2>&1 &
  pid=$!
  for _ in $(seq 1 120); do
    if ! kill -0 "$pid" 2>/dev/null; then break; fi
    if node -e '
      require("http").get(process.argv[1], r => {
        let b = ""; r.on("data", d => b += d);
        r.on("end", () => process.exit(r.statusCode === 200 && b.includes("status") ? 0 : 1));
      }).on("error", () => process.exit(1));' "http://127.0.0.1:$port/healthz" 2>/dev/null; then
      # The workbench page must also be served (it fails if the VS Code build is incomplete).
      if node -e '
        require("http").get(process.argv[1], r => {
          let b = ""; r.on("data", d => b += d);
          r.on("end", () => process.exit(r.statusCode === 200 && b.includes("workbench") ? 0 : 1));
        }).on("error", () => process.exit(1));' "http://127.0.0.1:$port/?folder=$tmp" 2>/dev/null; then
        ok=1
      fi
      break
    fi
    sleep 0.5
  done
  kill "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  if [[ $ok != 1 ]]; then
    log "code-server did not start; its log:"
    cat "$tmp/log" >&2
    rm -rf "$tmp"
    return 1
  fi
  rm -rf "$tmp"
  return 0
}

if [[ $FORCE == 0 && -f "$MARKER" && -f "$ENTRY" ]]; then
  if [[ "${IMAGEFOLDER_VERIFY:-0}" == 1 ]]; then
    verify || die "cached install in $DEST does not start; rerun with --force"
    log "code-server $VERSION verified in $DEST"
  else
    log "code-server $VERSION already installed in $DEST"
  fi
  echo "$ENTRY"
  exit 0
fi
# An install that was moved into place but never verified (interrupted run): verify it first.
if [[ $FORCE == 0 && ! -f "$MARKER" && -f "$ENTRY" ]] && verify; then
  printf 'code-server %s\ninstalled %s\n' "$VERSION" "$(date -u +%FT%TZ)" > "$MARKER"
  log "code-server $VERSION verified in $DEST"
  echo "$ENTRY"
  exit 0
fi

ensure_apt_packages
command -v node >/dev/null || die "node is not on PATH"
node -e 'process.exit(+process.versions.node.split(".")[0] >= 20 ? 0 : 1)' || die "Node 20 or newer is needed"

# node-gyp: npm's own copy (always present with npm), against the nodedir npm is configured with
# (Debian's /usr headers here; elsewhere node-gyp downloads the headers itself).
NPM_DIR="$(dirname "$(readlink -f "$(command -v npm)")")/.."
NODE_GYP="$NPM_DIR/node_modules/node-gyp/bin/node-gyp.js"
[[ -f "$NODE_GYP" ]] || NODE_GYP="$(command -v node-gyp || true)"
[[ -n "$NODE_GYP" && -e "$NODE_GYP" ]] || die "node-gyp not found (looked in $NPM_DIR/node_modules/node-gyp)"
NODEDIR="$(npm config get nodedir 2>/dev/null || true)"
GYP_ARGS=()
[[ -n "$NODEDIR" && "$NODEDIR" != undefined && "$NODEDIR" != null ]] && GYP_ARGS+=("--nodedir=$NODEDIR")
gyp() { $NICE node "$NODE_GYP" rebuild "${GYP_ARGS[@]}" --jobs=2 >"$1/.imagefolder-gyp.log" 2>&1; }

START=$(date +%s)
STAGE="$DEST.partial"
rm -rf "$STAGE"
mkdir -p "$STAGE"
cd "$STAGE"
# Do not let the project's .npmrc or an inherited npm prefix steer these installs.
export npm_config_fund=false npm_config_audit=false npm_config_update_notifier=false

log "npm install --ignore-scripts code-server@$VERSION in $STAGE"
echo '{"name":"imagefolder-tools","private":true}' > package.json
$NICE npm install --ignore-scripts --no-save --loglevel=error "code-server@$VERSION" >&2

CS="$STAGE/node_modules/code-server"
VS="$CS/lib/vscode"
[[ -d "$VS" ]] || die "unexpected code-server layout: $VS missing"

log "npm install --omit=dev --ignore-scripts in lib/vscode"
(cd "$VS" && $NICE npm install --omit=dev --ignore-scripts --loglevel=error >&2)

# ripgrep: VS Code's search runs node_modules/@vscode/ripgrep/bin/rg; use Debian's (or any on PATH).
RG="$(command -v rg || true)"
[[ -n "$RG" ]] || die "ripgrep (rg) not found: install Debian's ripgrep"
mkdir -p "$VS/node_modules/@vscode/ripgrep/bin"
ln -sf "$RG" "$VS/node_modules/@vscode/ripgrep/bin/rg"

log "building native modules of lib/vscode with node-gyp"
failed=()
while IFS= read -r gypfile; do
  name="$(dirname "${gypfile#./}")"
  dir="$VS/node_modules/$name"
  log "  node-gyp rebuild: $name"
  if ! (cd "$dir" && gyp "$dir"); then
    failed+=("$name")
    tail -20 "$dir/.imagefolder-gyp.log" >&2 || true
  fi
done < <(cd "$VS/node_modules" && find . -mindepth 2 -maxdepth 3 -name binding.gyp -not -path '*/node_modules/*' | sort)
# Only the modules the server really loads are fatal; the rest (optional, Windows/mac only) are not.
for m in "${failed[@]}"; do
  case "$m" in
    @vscode/spdlog|node-pty|@parcel/watcher|native-watchdog|kerberos)
      die "native module $m failed to build (see $VS/node_modules/$m/.imagefolder-gyp.log)" ;;
    *) log "warning: optional native module $m did not build" ;;
  esac
done

ln -sfn node_modules "$VS/node_modules.asar"
mkdir -p "$VS/bin/remote-cli" "$VS/bin/helpers"
[[ -e "$VS/bin/remote-cli/code-linux.sh" ]] && ln -sf code-linux.sh "$VS/bin/remote-cli/code-server"
[[ -e "$VS/bin/helpers/browser-linux.sh" ]] && ln -sf browser-linux.sh "$VS/bin/helpers/browser.sh"

log "npm install --omit=dev --ignore-scripts in lib/vscode/extensions"
(cd "$VS/extensions" && $NICE npm install --omit=dev --ignore-scripts --loglevel=error >&2)

log "npm rebuild argon2"
(cd "$STAGE" && $NICE npm rebuild argon2 --loglevel=error >&2) || {
  log "npm rebuild argon2 failed; trying node-gyp directly"
  (cd "$STAGE/node_modules/argon2" && gyp "$STAGE/node_modules/argon2")
}

# Move into place, then verify from the final location (paths inside are relative).
rm -rf "$DEST"
mv "$STAGE" "$DEST"
ENTRY="$DEST/node_modules/code-server/out/node/entry.js"
log "verifying that code-server starts"
verify || die "code-server $VERSION was installed in $DEST but does not start"
printf 'code-server %s\ninstalled %s\n' "$VERSION" "$(date -u +%FT%TZ)" > "$MARKER"
log "code-server $VERSION installed and verified in $DEST ($(( $(date +%s) - START )) s)"
echo "$ENTRY"
