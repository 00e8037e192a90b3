#!/usr/bin/env bash
# Builds the release binary and ships it lean: the DWARF line tables (most of its size) move to
# `chronoscope.debug` beside it, linked by `.gnu_debuglink`, so a panic's backtrace (and
# `addr2line`, gdb) still finds file and line when that file is beside the binary, and function
# names (the symbol table stays) without it. Prints both sizes and checks that an address of
# `main` resolves to src/main.rs through the link.
# Usage: scripts/release.sh [OUT_DIR]   (default: target/dist)
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
OUT="${1:-$ROOT/target/dist}"
TARGET_DIR="${CARGO_TARGET_DIR:-$ROOT/target}"
cd "$ROOT"
cargo build --release --locked >&2
mkdir -p "$OUT"
BIN="$OUT/chronoscope"
cp "$TARGET_DIR/release/chronoscope" "$BIN.tmp"
objcopy --only-keep-debug "$BIN.tmp" "$OUT/chronoscope.debug"
objcopy --strip-debug --add-gnu-debuglink="$OUT/chronoscope.debug" "$BIN.tmp"
mv "$BIN.tmp" "$BIN"
size_of() { stat -c %s "$1" | awk '{ printf "%.1f MB", $1 / 1e6 }'; }
echo "release binary: $(size_of "$BIN") ($BIN); debug info: $(size_of "$OUT/chronoscope.debug") (chronoscope.debug beside it)"
# The line tables are still reachable: `main`'s address resolves to src/main.rs through the link.
# (awk reads all of nm's output: leaving early would kill nm with SIGPIPE and fail the pipe.)
addr="$(nm "$BIN" | awk '!found && $3 ~ /11chronoscope4main17h/ && $2 ~ /[tT]/ { print $1; found = 1 }')"
where="$(addr2line -e "$BIN" "0x$addr")"
case "$where" in
  *src/main.rs:*) echo "backtraces resolve through chronoscope.debug: 0x$addr is $where" ;;
  *) echo "release: 0x$addr of main resolves to '$where', not src/main.rs" >&2; exit 1 ;;
esac
"$BIN" --version
