#!/usr/bin/env bash
# THE test command: installs the real tools (scripts/install-tools.sh), points the tests at
# them, and runs every test. Extra arguments go to `cargo test`.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

tools="$(scripts/install-tools.sh)"
while IFS='=' read -r key value; do
  case "$key" in
    CHRONOSCOPE_*) export "$key=$value"; echo "test.sh: $key=$value" ;;
  esac
done <<<"$tools"
for var in CHRONOSCOPE_LITESTREAM_V5 CHRONOSCOPE_LITESTREAM_V3 CHRONOSCOPE_MOTO_SERVER; do
  [ -x "${!var:-}" ] || { echo "test.sh: $var is not an executable: '${!var:-}'" >&2; exit 1; }
done

exec cargo test --locked --no-fail-fast "$@"
