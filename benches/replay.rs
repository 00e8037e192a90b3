//! Replay benchmark (not a test; it prints figures): `cargo bench --bench replay`.
//!
//! Builds two databases from the real Obelisk 0.41.5 fixture (cached in `target/bench-data/`):
//! - `many`: every execution of the fixture copied with re-keyed IDs (every root ULID replaced in
//!   every text column, so children, delays, responses and scheduled executions stay linked)
//!   until there are at least a million log rows;
//! - `long`: one `wf.serial` workflow whose real direct-call block (`join_set_create o:N-add`,
//!   `join_set_request`, `join_next`, the child's response, and the child's own rows) is repeated
//!   with the one-off counter N running up, to at least 200 000 events.
//!
//! Then measures: whole-database replay (`check_database`, with the comparison to `t_state`),
//! opening the long execution (reading its rows and folding it with checkpoints), and the
//! latency of random jumps and of single steps in it. Targets: whole replay under 2 s per
//! million events; a random jump under 1 ms.
//!
//! Environment: `BENCH_MIN_ROWS` (1000000), `BENCH_LONG_EVENTS` (200000), `BENCH_FRESH=1` to
//! rebuild the databases.

#[path = "common/mod.rs"]
mod common;

use std::path::Path;
use std::time::{Duration, Instant};

use common::{FIXTURE, TABLES, build_copies, columns, env_usize, insert_sql, median, ms, repo, start_from_fixture, us};

use chronoscope::obelisk::{ExecutionId, ObeliskDb};
use chronoscope::replay::{Replay, check_database};
use rusqlite::types::Value;
use rusqlite::{Connection, params_from_iter};

/// The allocator the `chronoscope` binary uses (see `src/main.rs`).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// The workflow whose block is repeated for `long`, and its first child.
const SERIAL: &str = "E_01M86G6PD8CH6MWG9CWFCJT438";

fn sql_time(t: chrono::DateTime<chrono::Utc>) -> String {
    t.format("%Y-%m-%d %H:%M:%S%.9f+00:00").to_string()
}

/// `long`: one `wf.serial` with its direct-call block repeated to `min_events` events.
fn build_long(path: &Path, min_events: usize) -> ExecutionId {
    let source = Connection::open(repo().join(FIXTURE)).unwrap();
    let child = format!("{SERIAL}.o:1-add_1");
    let log_cols = columns(&source, "t_execution_log");
    let state_cols = columns(&source, "t_state");
    let resp_cols = columns(&source, "t_join_set_response");
    let col = |cols: &[String], name: &str| cols.iter().position(|c| c == name).unwrap();
    let select = |table: &str, cols: &[String], id: &str, order: &str| -> Vec<Vec<Value>> {
        let sql = format!("SELECT {} FROM {table} WHERE execution_id = ?1 ORDER BY {order}", cols.join(", "));
        let mut stmt = source.prepare(&sql).unwrap();
        stmt.query_map([id], |r| (0..cols.len()).map(|i| r.get::<_, Value>(i)).collect()).unwrap().flatten().collect()
    };
    let parent_log = select("t_execution_log", &log_cols, SERIAL, "version");
    let child_log = select("t_execution_log", &log_cols, &child, "version");
    let parent_state = select("t_state", &state_cols, SERIAL, "execution_id").remove(0);
    let child_state = select("t_state", &state_cols, &child, "execution_id").remove(0);
    let response = select("t_join_set_response", &resp_cols, SERIAL, "id").remove(0);
    // The parent's rows: Created, Locked, [create, request, join_next] x 2, Finished.
    let (head, block, finished) = (&parent_log[..2], &parent_log[2..5], &parent_log[parent_log.len() - 1]);
    let blocks = (min_events - 3).div_ceil(3);
    eprintln!("bench: building {} (wf.serial with {blocks} direct calls)", path.display());

    let mut conn = start_from_fixture(path, &TABLES);
    let tx = conn.transaction().unwrap();
    let t0 = chrono::DateTime::parse_from_rfc3339("2026-11-24T10:04:13.114280143Z").unwrap().to_utc();
    let at = |k: usize, micros: i64| sql_time(t0 + chrono::Duration::microseconds(k as i64 * 4 + micros));
    let text = |v: &Value| match v {
        Value::Text(s) => s.clone(),
        other => panic!("{other:?}"),
    };
    let sub = |s: &str, k: usize| s.replace("o:1-add", &format!("o:{k}-add"));
    {
        let mut log = tx.prepare(&insert_sql("t_execution_log", &log_cols)).unwrap();
        let mut state = tx.prepare(&insert_sql("t_state", &state_cols)).unwrap();
        let mut resp = tx.prepare(&insert_sql("t_join_set_response", &resp_cols)).unwrap();
        let (v_version, v_created, v_json, v_js) = (
            col(&log_cols, "version"),
            col(&log_cols, "created_at"),
            col(&log_cols, "json_value"),
            col(&log_cols, "join_set_id"),
        );
        let mut version = 0i64;
        let mut put = |row: &[Value], version: i64, created: String, json: String, js: Option<String>, id: &str| {
            let mut row = row.to_vec();
            row[col(&log_cols, "execution_id")] = Value::Text(id.to_owned());
            row[v_version] = Value::Integer(version);
            row[v_created] = Value::Text(created);
            row[v_json] = Value::Text(json);
            if let Some(js) = js {
                row[v_js] = Value::Text(js);
            }
            log.execute(params_from_iter(row)).unwrap();
        };
        for row in head {
            put(row, version, text(&row[v_created]), text(&row[v_json]), None, SERIAL);
            version += 1;
        }
        for k in 1..=blocks {
            for row in block {
                put(row, version, at(k, 0), sub(&text(&row[v_json]), k), Some(format!("o:{k}-add")), SERIAL);
                version += 1;
            }
            // The child: Created, Locked, Finished (its own rows), then the parent's response.
            let child_id = format!("{SERIAL}.o:{k}-add_1");
            for (i, row) in child_log.iter().enumerate() {
                let json = text(&row[v_json]).replace(&child, &child_id).replace("o:1-add", &format!("o:{k}-add"));
                put(row, i as i64, at(k, 1 + i as i64 / 2), json, None, &child_id);
            }
            let mut s = child_state.clone();
            s[col(&state_cols, "execution_id")] = Value::Text(child_id.clone());
            for c in ["created_at", "first_scheduled_at", "pending_expires_finished", "updated_at"] {
                s[col(&state_cols, c)] = Value::Text(at(k, 2));
            }
            state.execute(params_from_iter(s)).unwrap();
            let mut r = response.clone();
            r[col(&resp_cols, "join_set_id")] = Value::Text(format!("o:{k}-add"));
            r[col(&resp_cols, "child_execution_id")] = Value::Text(child_id);
            r[col(&resp_cols, "created_at")] = Value::Text(at(k, 2));
            r[col(&resp_cols, "seq")] = Value::Integer(k as i64);
            resp.execute(params_from_iter(r)).unwrap();
        }
        let end = at(blocks + 1, 0);
        put(finished, version, end.clone(), text(&finished[v_json]), None, SERIAL);
        let mut s = parent_state.clone();
        s[col(&state_cols, "corresponding_version")] = Value::Integer(version);
        s[col(&state_cols, "pending_expires_finished")] = Value::Text(end);
        state.execute(params_from_iter(s)).unwrap();
    }
    tx.commit().unwrap();
    SERIAL.parse().unwrap()
}

fn pct(sorted: &[Duration], p: f64) -> Duration {
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

fn main() {
    // `cargo bench` passes `--bench`; any other argument is a filter we do not support.
    let min_rows = env_usize("BENCH_MIN_ROWS", 1_000_000);
    let long_events = env_usize("BENCH_LONG_EVENTS", 200_000);
    let dir = repo().join("target/bench-data");
    std::fs::create_dir_all(&dir).unwrap();
    let fresh = std::env::var("BENCH_FRESH").is_ok_and(|v| v == "1");
    let many = dir.join(format!("replay-many-{min_rows}.sqlite"));
    let long = dir.join(format!("replay-long-{long_events}.sqlite"));
    if fresh || !many.exists() {
        let started = Instant::now();
        build_copies(&many.with_extension("tmp"), min_rows, None);
        std::fs::rename(many.with_extension("tmp"), &many).unwrap();
        eprintln!("bench: built in {:.1} s", started.elapsed().as_secs_f64());
    }
    let long_id: ExecutionId = SERIAL.parse().unwrap();
    if fresh || !long.exists() {
        let started = Instant::now();
        build_long(&long.with_extension("tmp"), long_events);
        std::fs::rename(long.with_extension("tmp"), &long).unwrap();
        eprintln!("bench: built in {:.1} s", started.elapsed().as_secs_f64());
    }

    // 1. Whole-database replay, compared with t_state.
    let db = ObeliskDb::open(&many).unwrap();
    let mut times = Vec::new();
    let mut last = None;
    for _ in 0..3 {
        let started = Instant::now();
        let report = check_database(&db).unwrap();
        times.push(started.elapsed());
        last = Some(report);
    }
    let report = last.unwrap();
    let whole = median(times);
    let per_million = whole.as_secs_f64() / (report.events as f64 / 1e6);
    println!("Replay benchmark (release build, {} CPUs)", std::thread::available_parallelism().map_or(1, |n| n.get()));
    println!(
        "  whole-database replay: {} executions, {} events, {} responses in {} (median of 3) = {:.2} s per million events (target < 2 s); findings: {}",
        report.executions,
        report.events,
        report.responses,
        ms(whole),
        per_million,
        report.findings.len()
    );

    // The floor: the same log rows read with a bare scan and nothing done with them, in table
    // (rowid) order and in the (execution_id, version) order the replay reads them in.
    for (order, sql) in [
        ("table order", "SELECT execution_id, version, created_at, variant, json_value FROM t_execution_log"),
        (
            "ID order",
            "SELECT execution_id, version, created_at, variant, json_value FROM t_execution_log ORDER BY execution_id, version",
        ),
    ] {
        let conn = Connection::open_with_flags(&many, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY).unwrap();
        let mut times = Vec::new();
        let mut rows = 0u64;
        for _ in 0..3 {
            let started = Instant::now();
            let (mut n, mut bytes) = (0u64, 0usize);
            let mut stmt = conn.prepare(sql).unwrap();
            let mut query = stmt.query([]).unwrap();
            while let Some(row) = query.next().unwrap() {
                for i in [0, 2, 3, 4] {
                    bytes += row.get_ref(i).unwrap().as_bytes().map_or(0, <[u8]>::len);
                }
                n += 1;
            }
            std::hint::black_box(bytes);
            times.push(started.elapsed());
            rows = n;
        }
        let floor = median(times);
        println!(
            "  floor, a bare scan of the same {rows} log rows in {order} (one thread): {} (median of 3); replay / floor = {:.1}x",
            ms(floor),
            whole.as_secs_f64() / floor.as_secs_f64()
        );
    }

    // 2. Opening the long execution: read its rows, fold once with checkpoints.
    let db = ObeliskDb::open(&long).unwrap();
    let mut times = Vec::new();
    let mut replay = None;
    for _ in 0..3 {
        let started = Instant::now();
        let log = db.execution_log(&long_id).unwrap();
        let responses = db.responses(&long_id).unwrap();
        let r = Replay::new(long_id.clone(), log, responses);
        times.push(started.elapsed());
        replay = Some(r);
    }
    let replay: Replay = replay.unwrap();
    println!(
        "  open a long execution: {} events + {} responses = {} steps in {} (median of 3; read + fold, {} checkpoints every {} steps); findings: {}",
        replay.event_count(),
        replay.response_count(),
        replay.len(),
        ms(median(times)),
        replay.checkpoint_count(),
        replay.checkpoint_interval(),
        replay.findings().len()
    );

    // 3. Random jumps and single steps.
    let mut seed = 0x2545_F491_4F6C_DD1Du64;
    let mut jumps = Vec::with_capacity(10_000);
    for _ in 0..10_000 {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        let step = (seed % replay.len() as u64) as usize;
        let started = Instant::now();
        let state = replay.state_at(step).unwrap();
        jumps.push(started.elapsed());
        assert_eq!(state.steps_applied, step + 1);
    }
    jumps.sort();
    println!(
        "  random jump (state at any step, 10000 jumps): median {}, p99 {}, max {} (target < 1 ms)",
        us(pct(&jumps, 0.5)),
        us(pct(&jumps, 0.99)),
        us(*jumps.last().unwrap())
    );
    let mut steps = Vec::new();
    let start = replay.len() / 2;
    for step in start..start + 1000 {
        let started = Instant::now();
        let _ = replay.state_at(step).unwrap();
        steps.push(started.elapsed());
    }
    steps.sort();
    println!(
        "  step forward (1000 consecutive steps mid-log): median {}, max {}",
        us(pct(&steps, 0.5)),
        us(*steps.last().unwrap())
    );
    let long_check = check_database(&db).unwrap();
    println!(
        "  long database check: {} executions, {} events in {}; findings: {}",
        long_check.executions,
        long_check.events,
        ms(Duration::from_millis(long_check.elapsed_ms)),
        long_check.findings.len()
    );
}
