#!/usr/bin/env bash
# Restore benchmark (not a test: it prints figures): chronoscope vs the real Litestream v0.5.17.
#
#   scripts/bench-restore.sh
#
# 1. builds target/release/chronoscope and installs the tools (scripts/install-tools.sh,
#    /usr/bin/time);
# 2. builds a >= BENCH_DB_MB MiB WAL-mode SQLite database (text + compressible/random blobs +
#    indexes) and has real Litestream v0.5.17 replicate it, with writes while it runs (so the
#    replica holds a snapshot plus L2/L1/L0 files), to a file replica and to a moto S3 server on
#    127.0.0.1. The replicas are
#    cached under BENCH_DIR (the S3 objects as a dump with their metadata, re-uploaded to a fresh
#    moto on every run) and reused while their COMPLETE marker exists;
# 3. restores each replica BENCH_RUNS times with each tool, alternating, timing wall time and peak
#    RSS with /usr/bin/time; every output is compared byte for byte (cmp) with the first
#    Litestream output;
# 4. prints a table of medians.
#
# Environment:
#   BENCH_DB_MB=256       minimum database size (MiB)
#   BENCH_RUNS=5          restores per tool and variant
#   BENCH_DIR=/tmp/chronoscope-bench   work dir (replica cache + outputs)
#   BENCH_FRESH=1         rebuild the database and replicas even if cached
#   BENCH_SKIP_BUILD=1    use the existing target/release/chronoscope (no cargo build)
#   BENCH_VARIANTS="ls-none cs-full ls-full cs-quick ls-quick floor"   subset/order of the timed variants
#
# The floor of each replica, timed like the restores: for the folder, reading the LTX files the
# restore plan names and writing the restored database once (`cat` + `cp` + `sync`); for S3,
# downloading the same objects with chronoscope's own S3 client and concurrency and discarding
# them (`chronoscope restore --fetch-only`).
# Progress goes to stderr; the report goes to stdout.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

DB_MB="${BENCH_DB_MB:-256}"
RUNS="${BENCH_RUNS:-5}"
BENCH_DIR="${BENCH_DIR:-/tmp/chronoscope-bench}"
VARIANTS="${BENCH_VARIANTS:-ls-none cs-full ls-full cs-quick ls-quick floor}"
CACHE="$BENCH_DIR/replica-${DB_MB}mb"
OUT="$BENCH_DIR/out"
BUCKET="bench"
WRITE_GAP_S=0.7

log() { echo "bench: $*" >&2; }
die() { log "ERROR: $*"; exit 1; }

# --- 1. binary and tools ----------------------------------------------------------------------
if [ "${BENCH_SKIP_BUILD:-0}" != 1 ]; then
  log "cargo build --release --bin chronoscope"
  cargo build --release --bin chronoscope >&2
fi
CS="$ROOT/target/release/chronoscope"
[ -x "$CS" ] || die "$CS missing (unset BENCH_SKIP_BUILD)"

tools="$(scripts/install-tools.sh)"
LS="$(sed -n 's/^CHRONOSCOPE_LITESTREAM_V5=//p' <<<"$tools")"
MOTO="$(sed -n 's/^CHRONOSCOPE_MOTO_SERVER=//p' <<<"$tools")"
PY="$ROOT/.tools/venv/bin/python" # has boto3 (moto dependency)
[ -x "$LS" ] && [ -x "$MOTO" ] && [ -x "$PY" ] || die "tools missing: $tools"
if [ ! -x /usr/bin/time ]; then
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  log "apt-get install time"
  $SUDO apt-get update -qq >&2
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y --no-install-recommends time >&2
fi
helper() { "$PY" "$ROOT/scripts/bench/bench.py" "$@"; }

# S3 against moto only: fixed dummy credentials, no CA bundle (Litestream v0.5.17 refuses to start
# its S3 client with AWS_CA_BUNDLE set), no profile or instance-metadata lookups.
unset AWS_CA_BUNDLE AWS_PROFILE AWS_SESSION_TOKEN LITESTREAM_ACCESS_KEY_ID LITESTREAM_SECRET_ACCESS_KEY
export AWS_ACCESS_KEY_ID=bench AWS_SECRET_ACCESS_KEY=bench AWS_REGION=us-east-1 AWS_EC2_METADATA_DISABLED=true

# --- process bookkeeping ----------------------------------------------------------------------
MOTO_PID=""
declare -A LS_PID=()
cleanup() {
  local p
  for p in "${LS_PID[@]}" $MOTO_PID; do
    kill "$p" 2>/dev/null || true
  done
  for p in "${LS_PID[@]}" $MOTO_PID; do
    wait "$p" 2>/dev/null || true
  done
}
trap cleanup EXIT
trap 'exit 130' INT TERM

mkdir -p "$BENCH_DIR"
PORT="$(helper freeport)"
ENDPOINT="http://127.0.0.1:$PORT"
log "moto_server on $ENDPOINT"
"$MOTO" -H 127.0.0.1 -p "$PORT" >"$BENCH_DIR/moto.log" 2>&1 &
MOTO_PID=$!
helper wait-http "$ENDPOINT/" 30

S3_URL="s3://$BUCKET/db?endpoint=$ENDPOINT&region=us-east-1&forcePathStyle=true"
url_of() { if [ "$1" = file ]; then echo "file://$CACHE/file/replica"; else echo "$S3_URL"; fi; }
stat_of() { if [ "$1" = file ]; then helper stat file "$CACHE/file/replica"; else helper stat s3 "$ENDPOINT" "$BUCKET" db; fi; }
json_get() { "$PY" -c 'import json,sys; d=json.load(sys.stdin)
for k in sys.argv[1:]: d=d[k]
print(d)' "$@"; }

# --- 2. database and replicas -----------------------------------------------------------------
# One uninterrupted `litestream replicate` session per replica:
#   start        full image (L0 TXID 1, L9 1-1); then a write transaction every ~0.7 s (updates all
#                over the DB, inserts, deletes), L1 compactions every 10 s, L2 every 1 min
#   ~+80 s       Litestream's own periodic L9 snapshot (next one is due snapshot.interval after the
#                newest snapshot's data time: TXID 1 = database creation time)
#   snapshot+35s writes stop; 12 s later one more write (an L0 tail after the last L1 window)
#   ~+140 s      caught up; SIGTERM (well before the next snapshot at ~+170 s)
# A latest-state restore then reads L9 snapshot + L2/L1 files + L0 tail, as in production.
# (Restarting litestream around `replicate -once -force-snapshot` instead made Litestream write
# extra full-database images into L0 and L1, so the restore read 2-3x the database size and the
# file and S3 replicas differed; the running process's own snapshot avoids that.)
SNAPSHOT_S=90
WRITE_AFTER_SNAPSHOT_S=35
write_config() { # $1 = file|s3
  local dir="$CACHE/$1"
  {
    cat <<EOF
# Written by scripts/bench-restore.sh (short intervals so a ~2 min session leaves every level).
levels:
  - interval: 10s
  - interval: 1m
snapshot:
  interval: ${SNAPSHOT_S}s
  retention: 168h
l0-retention: 1h
dbs:
  - path: $dir/db.sqlite
    replica:
EOF
    if [ "$1" = file ]; then
      printf '      type: file\n      path: %s/replica\n' "$dir"
    else
      printf '      type: s3\n      bucket: %s\n      path: db\n      endpoint: %s\n      region: us-east-1\n      force-path-style: true\n' \
        "$BUCKET" "$ENDPOINT"
    fi
  } >"$dir/litestream.yml"
}

start_replicate() { # $1 = file|s3
  "$LS" replicate -config "$CACHE/$1/litestream.yml" >>"$CACHE/$1/replicate.log" 2>&1 &
  LS_PID[$1]=$!
}

stop_replicate() { # $1 = file|s3; SIGTERM = graceful shutdown
  kill -TERM "${LS_PID[$1]}" 2>/dev/null || true
  wait "${LS_PID[$1]}" 2>/dev/null || true
  unset "LS_PID[$1]"
}

# Wait until the highest L0 TXID of both replicas is >= $1 and has not moved for 5 s.
wait_caught_up() {
  local min="$1" r t last="" cur stable=0
  for t in $(seq 1 240); do
    cur=""
    for r in file s3; do
      kill -0 "${LS_PID[$r]}" 2>/dev/null || die "litestream ($r) died; see $CACHE/$r/replicate.log"
      cur+="$(stat_of "$r" | json_get max_l0_txid) "
    done
    if [ "$cur" = "$last" ] && [ "${cur%% *}" -ge "$min" ] && [ "$(echo "$cur" | cut -d' ' -f2)" -ge "$min" ]; then
      stable=$((stable + 1))
      [ "$stable" -ge 5 ] && { log "replicas caught up (max L0 TXID file/s3: $cur)"; return; }
    else
      stable=0
    fi
    last="$cur"
    sleep 1
  done
  die "replicas did not settle (last: $cur)"
}

build_replicas() {
  log "building a >= ${DB_MB} MiB database and its replicas in $CACHE (~3 min)"
  rm -rf "$CACHE"
  mkdir -p "$CACHE/file" "$CACHE/s3/dump"
  helper gen "$CACHE/base.db" "$DB_MB"
  # One replica per database in v0.5: two identical copies, written to in lockstep.
  for r in file s3; do
    cp "$CACHE/base.db" "$CACHE/$r/db.sqlite"
    write_config "$r"
  done
  rm -f "$CACHE/base.db" "$CACHE/base.db-shm" "$CACHE/base.db-wal"
  helper mkbucket "$ENDPOINT" "$BUCKET"
  local dbs="$CACHE/file/db.sqlite,$CACHE/s3/db.sqlite" seq r t0 want got

  t0=$(date +%s)
  log "litestream replicate (file + s3) with writes; waiting for Litestream's periodic snapshot"
  start_replicate file
  start_replicate s3
  wait_caught_up 1
  local snaps
  while :; do
    helper write "$dbs" 5 "$WRITE_GAP_S" >/dev/null
    snaps="$(stat_of file | json_get levels 9 2>/dev/null || echo 0) $(stat_of s3 | json_get levels 9 2>/dev/null || echo 0)"
    [ "$snaps" = "2 2" ] && break
    [ $(($(date +%s) - t0)) -lt 300 ] || die "no periodic snapshot after 300 s (L9 file/s3: $snaps)"
  done
  log "snapshot taken at t0+$(($(date +%s) - t0))s; ${WRITE_AFTER_SNAPSHOT_S}s more writes"
  helper write "$dbs" "until:$(($(date +%s) + WRITE_AFTER_SNAPSHOT_S))" "$WRITE_GAP_S" >/dev/null
  sleep 12 # let the last L1 window close, as on a live system
  seq="$(helper write "$dbs" 1 0)"
  wait_caught_up 3
  stop_replicate file
  stop_replicate s3
  snaps="$(stat_of file | json_get levels 9) $(stat_of s3 | json_get levels 9)"
  log "replicate session took $(($(date +%s) - t0))s; L9 snapshots file/s3: $snaps"
  [ "$snaps" = "2 2" ] || log "WARNING: expected exactly 2 snapshots per replica (the restore may read only the last one)"

  log "verifying both replicas with litestream restore (expect seq=$seq)"
  for r in file s3; do
    rm -f "$CACHE/verify.db"
    "$LS" restore -integrity-check quick -o "$CACHE/verify.db" "$(url_of "$r")" >>"$CACHE/$r/replicate.log" 2>&1 ||
      die "litestream restore of the $r replica failed; see $CACHE/$r/replicate.log"
    got="$(helper dbinfo "$CACHE/verify.db")"
    want="$(helper dbinfo "$CACHE/$r/db.sqlite")"
    [ "$(json_get seq <<<"$got")" = "$seq" ] && [ "$(json_get events <<<"$got")" = "$(json_get events <<<"$want")" ] ||
      die "$r replica is behind the database: restored $got, database $want"
  done
  rm -f "$CACHE/verify.db"

  log "saving the S3 objects (bodies + metadata) to $CACHE/s3/dump"
  helper s3-dump "$ENDPOINT" "$BUCKET" db "$CACHE/s3/dump" >/dev/null
  echo "complete $(date -u +%FT%TZ) litestream $("$LS" version) seq $seq" >"$CACHE/COMPLETE"
}

if [ "${BENCH_FRESH:-0}" = 1 ] || [ ! -f "$CACHE/COMPLETE" ]; then
  build_replicas
else
  log "reusing cached replicas in $CACHE ($(cat "$CACHE/COMPLETE")); BENCH_FRESH=1 rebuilds"
  helper s3-load "$ENDPOINT" "$BUCKET" "$CACHE/s3/dump" >/dev/null
fi

# --- 3. timed restores ------------------------------------------------------------------------
rm -rf "$OUT"
mkdir -p "$OUT"
LOAD_START="$(cut -d' ' -f1-3 /proc/loadavg)"
: >"$OUT/load.txt"
RESULTS="$OUT/results.tsv"
: >"$RESULTS"
IDENTICAL="yes"

restore_cmd() { # $1 = replica, $2 = variant, $3 = output
  local url
  url="$(url_of "$1")"
  case "$2" in
    floor)
      if [ "$1" = file ]; then
        echo sh "$OUT/floor.sh" "$OUT/file-reference.db" "$3" "${PLAN_FILES[@]}"
      else
        echo "$CS" restore "s3://$BUCKET/db" --endpoint "$ENDPOINT" --region us-east-1 --force-path-style --fetch-only
      fi
      ;;
    ls-none) echo "$LS" restore -o "$3" "$url" ;;
    ls-full) echo "$LS" restore -integrity-check full -o "$3" "$url" ;;
    ls-quick) echo "$LS" restore -integrity-check quick -o "$3" "$url" ;;
    cs-full | cs-quick)
      local extra=()
      [ "$2" = cs-quick ] && extra+=(--quick-check)
      if [ "$1" = file ]; then
        echo "$CS" restore "$CACHE/file/replica" -o "$3" --no-progress "${extra[@]}"
      else
        echo "$CS" restore "s3://$BUCKET/db" --endpoint "$ENDPOINT" --region us-east-1 --force-path-style -o "$3" --no-progress "${extra[@]}"
      fi
      ;;
  esac
}

# The folder's floor: read the planned files, write the database once. Args: REF OUT FILES...
cat >"$OUT/floor.sh" <<'EOF'
ref="$1" out="$2"
shift 2
cat "$@" >/dev/null && cp "$ref" "$out" && sync "$out"
EOF
for r in file s3; do
  ref="$OUT/$r-reference.db"
  # Restore plan (what a latest-state restore reads), and for the folder the files it names.
  plan="$("$LS" restore -dry-run -json -o "$OUT/plan.db" "$(url_of "$r")" 2>/dev/null || true)"
  echo "$plan" >"$OUT/$r-plan.json"
  mapfile -t PLAN_FILES < <("$PY" -c 'import json, sys
for f in json.load(open(sys.argv[1]))["files"]: print("%s/ltx/%s/%s" % (sys.argv[2], f["level"], f["name"]))' "$OUT/$r-plan.json" "$CACHE/file/replica")
  [ "$r" = s3 ] || [ "${#PLAN_FILES[@]}" -gt 0 ] || die "no plan files for the floor: $plan"
  for run in $(seq 1 "$RUNS"); do
    for v in $VARIANTS; do
      o="$OUT/$r-$v.db"
      rm -rf "$o" "$o"-* "$o".*
      if [ "$v" = floor ] && [ ! -f "$ref" ]; then
        continue # the folder's floor copies the first restore's output
      fi
      read -r -a cmd <<<"$(restore_cmd "$r" "$v" "$o")" # paths contain no spaces
      sync
      cut -d' ' -f1 /proc/loadavg >>"$OUT/load.txt"
      if ! /usr/bin/time -f '%e %M %U %S' -o "$OUT/time.txt" "${cmd[@]}" >"$OUT/last.log" 2>&1; then
        cat "$OUT/last.log" >&2
        die "restore failed: ${cmd[*]}"
      fi
      read -r wall rss usr sys < <(tail -n 1 "$OUT/time.txt")
      tool=litestream
      [ "${v%%-*}" = cs ] && tool=chronoscope
      [ "$v" = floor ] && tool=floor
      printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$r" "$tool" "${v#*-}" "$run" "$wall" "$rss" "$usr" "$sys" >>"$RESULTS"
      log "$r run $run $v: ${wall}s, $((rss / 1024)) MB"
      if [ "$v" = floor ]; then
        : # writes no restore of its own
      elif [ ! -f "$ref" ]; then
        mv "$o" "$ref"
      elif ! cmp -s "$ref" "$o"; then
        IDENTICAL="NO ($r $v run $run differs: $(cmp "$ref" "$o" 2>&1 | head -n 1))"
        log "OUTPUT MISMATCH: $IDENTICAL"
      fi
      rm -rf "$o" "$o"-* "$o".*
    done
  done
done

# --- 4. report --------------------------------------------------------------------------------
file_ref="$OUT/file-reference.db"
"$PY" - "$CACHE" "$OUT" "$RUNS" "$IDENTICAL" "$("$LS" version)" \
  "git $(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo '?')$(git -C "$ROOT" diff --quiet HEAD -- src 2>/dev/null || echo '+dirty src'), binary built $(date -u -r "$CS" +%FT%TZ)" \
  "$LOAD_START" \
  "$(helper dbinfo "$file_ref")" "$(stat_of file)" "$(stat_of s3)" >"$OUT/meta.json" <<'EOF'
import json, os, platform, sys
cache, out, runs, identical, lsv, csv, load_start, dbinfo, fstat, sstat = sys.argv[1:]
db = json.loads(dbinfo)
loads = [float(x) for x in open(os.path.join(out, "load.txt")).read().split()] or [0.0]
cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), "?")
meta = dict(litestream_version=lsv, chronoscope_version=csv,
            host=f"{os.cpu_count()} CPUs ({cpu}); load avg (1/5/15 min) {load_start} at start, "
                 f"{' '.join(f'{x:.2f}' for x in os.getloadavg())} at end; 1-min load before each run "
                 f"{min(loads):.2f}..{max(loads):.2f}",
            db_bytes=db["file_bytes"], db_pages=db["page_count"], page_size=db["page_size"],
            events=db["events"], documents=db["documents"], runs=int(runs), identical=identical, replicas={})
for name, st in (("file", fstat), ("s3", sstat)):
    r = json.loads(st)
    r["plan_files"], r["plan_bytes"] = "?", 0
    try:
        plan = json.load(open(os.path.join(out, f"{name}-plan.json")))
        files = plan.get("files") or plan.get("plan") or plan.get("Files") or []
        r["plan_files"] = len(files)
        r["plan_bytes"] = sum(f.get("size", f.get("Size", 0)) for f in files)
    except Exception:
        pass
    meta["replicas"][name] = r
print(json.dumps(meta))
EOF
helper report "$RESULTS" "$OUT/meta.json"
[ "$IDENTICAL" = yes ] || exit 1
