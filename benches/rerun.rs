//! Re-execution benchmark (not a test; it prints figures): `cargo bench --bench rerun`.
//!
//! With the real `demo_workflow` component stored in the 0.41.5 fixture:
//! 1. compiling it (cold, by Cranelift) and loading it from the compile cache;
//! 2. re-executing every workflow execution of the fixture, per execution and per event;
//! 3. one long `wf.concurrent(N)` (a log built from the real one: N children submitted, N
//!    awaited in arrival order), per 1,000 events;
//! 4. every workflow execution of a database with ~1,000 of them (copies of the fixture's).
//!
//! Each re-execution figure is printed beside its reference: the fold replay (`replay`, no
//! WASM) of the same executions, as a ratio. Targets: compile ≤ 200 ms, cached load ≤ 10 ms,
//! ≤ 50 µs per event, 1,000 executions ≤ 1 s.
//!
//! Environment: `BENCH_RERUN_CHILDREN` (5000), `BENCH_RERUN_EXECUTIONS` (1000), `BENCH_FRESH=1`.

#[path = "common/mod.rs"]
mod common;

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use chronoscope::obelisk::{ContentDigest, ExecutionId, ObeliskDb};
use chronoscope::replay::{Replay, check_database};
use chronoscope::rerun::{
    Compiled, ExecutionInput, OutcomeKind, Prepared, Rerunner, RunOptions, rerun, rerun_database,
};
use common::{FIXTURE, build_copies, columns, env_usize, insert_sql, median, ms, repo, us};
use rusqlite::types::Value;
use rusqlite::{Connection, params_from_iter};

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

const DIGEST: &str = "sha256:e99b5fd8360e28b70bb33ac86afb368fc2482a02cdbf490624a88f571df96b5a";
const CONCURRENT: &str = "E_01M86G6PE09WW43FVD6HR4HBJJ";

fn peak_rss_mb() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let kb = status.lines().find(|l| l.starts_with("VmHWM:")).and_then(|l| l.split_whitespace().nth(1)?.parse().ok());
    kb.unwrap_or(0.0) / 1024.0
}

/// `wf.concurrent(n)` re-keyed to a new root: the real log's shape with `n` children.
fn build_long_concurrent(path: &Path, n: usize) -> ExecutionId {
    let root = common::rekeyed(&CONCURRENT[2..], 9_999_999);
    let id = format!("E_{root}");
    let _ = std::fs::remove_file(path);
    std::fs::copy(repo().join(FIXTURE), path).unwrap();
    let mut conn = Connection::open(path).unwrap();
    conn.pragma_update(None, "journal_mode", "DELETE").unwrap();
    conn.pragma_update(None, "synchronous", "OFF").unwrap();
    let source = Connection::open(repo().join(FIXTURE)).unwrap();
    let log_cols = columns(&source, "t_execution_log");
    let resp_cols = columns(&source, "t_join_set_response");
    let text: Vec<String> = {
        let mut stmt =
            source.prepare("SELECT json_value FROM t_execution_log WHERE execution_id = ?1 ORDER BY version").unwrap();
        stmt.query_map([CONCURRENT], |r| r.get(0)).unwrap().flatten().collect()
    };
    let re = |s: &str| s.replace(&CONCURRENT[2..], &root);
    let child = |i: usize| format!("{id}.n:batch_{i}");
    let request = |i: usize, ffqn: &str, params: &str| {
        format!(
            r#"{{"history_event":{{"event":{{"type":"join_set_request","join_set_id":"n:batch","request":{{"type":"child_execution_request","child_execution_id":"{}","target_ffqn":"{ffqn}","params":{params},"result":{{"Ok":null}}}}}}}}}}"#,
            child(i)
        )
    };
    // v0 created (params [n]), v1 locked, v2 create n:batch, requests, join_nexts, the g:1
    // delay block (v10..=v13 of the real log), the closing join_next, finished.
    let mut events: Vec<(String, &str, Option<&str>)> = Vec::new();
    events.push((re(&text[0]).replace(r#""params":[3]"#, &format!(r#""params":[{n}]"#)), "created", None));
    events.push((re(&text[1]), "locked", None));
    events.push((re(&text[2]), "history_event", Some("n:batch")));
    for i in 0..n {
        events.push((request(i + 1, "demo:activity/ops.add", &format!("[{i},{i}]")), "history_event", Some("n:batch")));
    }
    events.push((request(n + 1, "demo:activity/ops.slow", "[60000]"), "history_event", Some("n:batch")));
    for _ in 0..n {
        events.push((re(&text[7]), "history_event", Some("n:batch")));
    }
    for (v, js) in [(10, "g:1"), (11, "g:1"), (12, "g:1"), (13, "g:1"), (14, "n:batch")] {
        events.push((re(&text[v]), "history_event", Some(js)));
    }
    let sum = (0..n).map(|i| 2 * i as u64).sum::<u64>();
    events.push((
        format!(r#"{{"finished":{{"retval":{{"ok":{{"type":"u32","value":{sum}}}}},"http_client_traces":null}}}}"#),
        "finished",
        None,
    ));
    let tx = conn.transaction().unwrap();
    {
        let col = |cols: &[String], name: &str| cols.iter().position(|c| c == name).unwrap();
        let mut log = tx.prepare(&insert_sql("t_execution_log", &log_cols)).unwrap();
        let mut put = |eid: &str, version: usize, json: &str, variant: &str, js: Option<&str>| {
            let mut row = vec![Value::Null; log_cols.len()];
            row[col(&log_cols, "execution_id")] = Value::Text(eid.to_owned());
            row[col(&log_cols, "created_at")] = Value::Text("2026-11-24 10:04:13.133708320+00:00".into());
            row[col(&log_cols, "json_value")] = Value::Text(json.to_owned());
            row[col(&log_cols, "version")] = Value::Integer(version as i64);
            row[col(&log_cols, "variant")] = Value::Text(variant.to_owned());
            row[col(&log_cols, "join_set_id")] = js.map_or(Value::Null, |j| Value::Text(j.to_owned()));
            log.execute(params_from_iter(row)).unwrap();
        };
        for (version, (json, variant, js)) in events.iter().enumerate() {
            put(&id, version, json, variant, *js);
        }
        for i in 0..n {
            let finished = format!(
                r#"{{"finished":{{"retval":{{"ok":{{"type":"u32","value":{}}}}},"http_client_traces":[]}}}}"#,
                2 * i
            );
            put(&child(i + 1), 2, &finished, "finished", None);
        }
        let cancelled =
            r#"{"finished":{"retval":{"execution_failure":{"kind":"cancelled"}},"http_client_traces":null}}"#;
        put(&child(n + 1), 3, cancelled, "finished", None);
        let mut resp = tx.prepare(&insert_sql("t_join_set_response", &resp_cols)).unwrap();
        let mut seq = 0;
        let mut respond = |js: &str, delay: Option<String>, child_id: Option<String>, version: Option<i64>| {
            seq += 1;
            let mut row = vec![Value::Null; resp_cols.len()];
            row[col(&resp_cols, "created_at")] = Value::Text("2026-11-24 10:04:13.149342400+00:00".into());
            row[col(&resp_cols, "execution_id")] = Value::Text(id.clone());
            row[col(&resp_cols, "join_set_id")] = Value::Text(js.to_owned());
            if let Some(d) = delay {
                row[col(&resp_cols, "delay_id")] = Value::Text(d);
                row[col(&resp_cols, "delay_success")] = Value::Integer(1);
            }
            row[col(&resp_cols, "child_execution_id")] = child_id.map_or(Value::Null, Value::Text);
            row[col(&resp_cols, "finished_version")] = version.map_or(Value::Null, Value::Integer);
            row[col(&resp_cols, "seq")] = Value::Integer(seq);
            resp.execute(params_from_iter(row)).unwrap();
        };
        for i in 0..n {
            respond("n:batch", None, Some(child(i + 1)), Some(2));
        }
        respond("g:1", Some(format!("Delay_{root}.g:1_1")), None, None);
        respond("n:batch", None, Some(child(n + 1)), Some(3));
    }
    tx.commit().unwrap();
    id.parse().unwrap()
}

fn fold(db: &ObeliskDb, ids: &[ExecutionId]) -> usize {
    let mut steps = 0;
    for id in ids {
        steps += Replay::new(id.clone(), db.execution_log(id).unwrap(), db.responses(id).unwrap()).len();
    }
    steps
}

fn main() {
    let fixture = ObeliskDb::open(repo().join(FIXTURE)).unwrap();
    let digest: ContentDigest = DIGEST.parse().unwrap();
    let bytes = fixture.stored_file(&digest).unwrap().unwrap();
    println!(
        "Re-execution benchmark (release build, {} CPUs, wasmtime 48.0.8)",
        std::thread::available_parallelism().map_or(1, |n| n.get())
    );

    // 1. Compile cold, load from the cache.
    let cold: Vec<Duration> =
        (0..3).map(|_| Rerunner::new(None).unwrap().prepare(digest, &bytes, "demo").unwrap().took).collect();
    let cache = tempfile::tempdir().unwrap();
    Rerunner::new(Some(cache.path().to_owned())).unwrap().prepare(digest, &bytes, "demo").unwrap();
    let cached: Vec<Duration> = (0..5)
        .map(|_| {
            let p = Rerunner::new(Some(cache.path().to_owned())).unwrap().prepare(digest, &bytes, "demo").unwrap();
            assert_eq!(p.compiled, Compiled::FromDiskCache);
            p.took
        })
        .collect();
    let (cold, cached) = (median(cold), median(cached));
    println!(
        "  compile demo_workflow ({:.1} MB): cold {} (target ≤ 200 ms), from the cache {} (target ≤ 10 ms); cache/cold = {:.3}",
        bytes.len() as f64 / 1e6,
        ms(cold),
        ms(cached),
        cached.as_secs_f64() / cold.as_secs_f64()
    );

    // 2. Every workflow execution of the fixture.
    let rerunner = Rerunner::new(None).unwrap();
    let prepared: Arc<Prepared> = rerunner.prepare(digest, &bytes, "demo").unwrap();
    let options = RunOptions::default();
    let ids = chronoscope::rerun::workflow_executions(&fixture, &[]).unwrap();
    let inputs: Vec<ExecutionInput> = ids.iter().map(|id| ExecutionInput::load(&fixture, id).unwrap()).collect();
    let events: usize = inputs.iter().map(|i| i.history.len()).sum();
    let mut times = Vec::new();
    for _ in 0..20 {
        let started = Instant::now();
        for input in &inputs {
            let report = rerun(&rerunner, &prepared, input, &options).unwrap();
            assert!(report.consistent, "{}", report.execution_id);
        }
        times.push(started.elapsed());
    }
    let demo = median(times);
    let fold_demo = median(
        (0..20)
            .map(|_| {
                let s = Instant::now();
                fold(&fixture, &ids);
                s.elapsed()
            })
            .collect(),
    );
    println!(
        "  the fixture's {} workflow executions ({events} history events): {} = {} per execution, {} per event (target ≤ 50 µs); fold replay {} (rerun/fold = {:.1})",
        ids.len(),
        ms(demo),
        us(demo / ids.len() as u32),
        us(demo / events.max(1) as u32),
        ms(fold_demo),
        demo.as_secs_f64() / fold_demo.as_secs_f64()
    );

    let dir = repo().join("target/bench-data");
    std::fs::create_dir_all(&dir).unwrap();
    let fresh = std::env::var("BENCH_FRESH").is_ok_and(|v| v == "1");

    // 3. One long execution.
    let n = env_usize("BENCH_RERUN_CHILDREN", 5000);
    let long = dir.join(format!("rerun-concurrent-{n}.sqlite"));
    let tmp = long.with_extension("tmp");
    let long_id = build_long_concurrent(&tmp, n);
    std::fs::rename(&tmp, &long).unwrap();
    let db = ObeliskDb::open(&long).unwrap();
    let mut times = Vec::new();
    let mut report = None;
    for _ in 0..3 {
        let started = Instant::now();
        let input = ExecutionInput::load(&db, &long_id).unwrap();
        report = Some(rerun(&rerunner, &prepared, &input, &options).unwrap());
        times.push(started.elapsed());
    }
    let report = report.unwrap();
    assert_eq!((report.outcome, report.consistent), (OutcomeKind::Finished, true), "{:?}", report.nondeterminism);
    let long_time = median(times);
    let fold_long = median(
        (0..3)
            .map(|_| {
                let s = Instant::now();
                fold(&db, std::slice::from_ref(&long_id));
                s.elapsed()
            })
            .collect(),
    );
    println!(
        "  wf.concurrent({n}): {} history events, {} logs, in {} (read + re-execute) = {} per 1,000 events; fold replay {} (rerun/fold = {:.1})",
        report.total,
        report.logs.len(),
        ms(long_time),
        ms(long_time * 1000 / report.total as u32),
        ms(fold_long),
        long_time.as_secs_f64() / fold_long.as_secs_f64()
    );

    // 4. A database with ~1,000 workflow executions.
    let wanted = env_usize("BENCH_RERUN_EXECUTIONS", 1000);
    let copies = wanted.div_ceil(ids.len());
    let many = dir.join(format!("rerun-many-{copies}.sqlite"));
    if fresh || !many.exists() {
        build_copies(&many.with_extension("tmp"), 0, Some(copies));
        std::fs::rename(many.with_extension("tmp"), &many).unwrap();
    }
    let db = ObeliskDb::open(&many).unwrap();
    let started = Instant::now();
    let results = rerun_database(&rerunner, &db, &[], Some(&prepared), &options).unwrap();
    let all = started.elapsed();
    let consistent = results.iter().filter(|(_, r)| r.as_ref().is_ok_and(|r| r.consistent)).count();
    let started = Instant::now();
    let checked = check_database(&db).unwrap();
    let fold_all = started.elapsed();
    println!(
        "  every workflow execution of a {}-execution database ({} workflows, {consistent} consistent): {} (target ≤ 1 s); fold replay of all {} executions {} (rerun/fold = {:.1})",
        checked.executions,
        results.len(),
        ms(all),
        checked.executions,
        ms(fold_all),
        all.as_secs_f64() / fold_all.as_secs_f64()
    );
    println!("  peak RSS {:.0} MB", peak_rss_mb());
}
