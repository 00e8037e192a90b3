//! `chronoscope rerun` on real databases and real components: the 0.41.5 demo and fleet tenant
//! zeta (restored from its real Litestream replica) replay with their stored component; our own
//! variants of that component (one instruction changed, by byte patch or by `wasm-tools print`,
//! edit, `wasm-tools parse`) are nondeterministic at the exact version; a print/parse round trip
//! behaves like the original; bad inputs are clear errors.

use std::path::{Path, PathBuf};
use std::process::Output;
use std::sync::OnceLock;

use std::sync::Arc;

use chronoscope::obelisk::{ExecutionState, ObeliskDb};
use chronoscope::rerun::{OutcomeKind, RerunJob, RerunRequest, Rerunner, RunOptions};
use serde_json::Value;

use crate::restore_fixtures::fixtures;
use crate::support::cli::{chronoscope_cmd, describe};
use crate::support::components::{demo, parse, printed, serial_variant, sleepy_variant, stored_component};

/// A temp folder for the test binary: the compile and restore caches, the component variants.
fn scratch() -> &'static Path {
    static DIR: OnceLock<tempfile::TempDir> = OnceLock::new();
    DIR.get_or_init(|| tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"))).path()
}

/// `chronoscope rerun ARGS… --json` with the shared caches; the exit code and the reports.
fn rerun(args: &[&str]) -> (Option<i32>, Vec<Value>, Output) {
    let out = chronoscope_cmd()
        .env("XDG_CACHE_HOME", scratch().join("cache"))
        .arg("rerun")
        .args(args)
        .arg("--json")
        .output()
        .unwrap_or_else(|e| panic!("{e}"));
    let reports = serde_json::from_slice(&out.stdout).unwrap_or_default();
    (out.status.code(), reports, out)
}

fn by_id<'a>(reports: &'a [Value], id: &str) -> &'a Value {
    reports.iter().find(|r| r["execution_id"] == id).unwrap_or_else(|| panic!("{id} in {reports:?}"))
}

#[test]
fn the_demo_and_tenant_zeta_replay_with_their_stored_components() {
    for source in [demo(), fixtures().join("fleet/v0.5/tenant-zeta")] {
        let (code, reports, out) = rerun(&[source.to_str().unwrap_or_default()]);
        assert_eq!(code, Some(0), "{}", describe(&out));
        assert!(reports.len() >= 13, "{}", describe(&out));
        for r in &reports {
            assert_eq!(r["consistent"], true, "{r}");
            assert_eq!(r["matched"], r["total"], "{r}");
            assert!(r["nondeterminism"].is_null());
            match r["ffqn"].as_str().unwrap_or_default() {
                "demo:workflow/wf.panicky" => {
                    assert_eq!(r["outcome"], "trapped");
                    assert_eq!(r["trap"]["source"]["line"], 99);
                    assert!(r["trap"]["source"]["file"].as_str().is_some_and(|f| f.ends_with("/src/lib.rs")));
                }
                _ if r["recorded_retval"].is_null() => assert_eq!(r["outcome"], "blocked", "{r}"),
                _ => {
                    assert_eq!(r["outcome"], "finished");
                    assert_eq!(r["retval"], r["recorded_retval"]);
                }
            }
        }
    }
    // Zeta's blocked execution waits on the join set its t_state names.
    let zeta = scratch().join("cache/chronoscope/restores");
    let restored = std::fs::read_dir(&zeta).unwrap_or_else(|e| panic!("{e}")).flatten().map(|e| e.path());
    let restored = restored
        .into_iter()
        .find(|p| p.to_string_lossy().contains("tenant-zeta") && p.extension().is_some_and(|e| e == "db"));
    let restored = restored.unwrap_or_else(|| panic!("zeta"));
    let db = ObeliskDb::open(&restored).unwrap_or_else(|e| panic!("{e}"));
    let (_, reports, _) = rerun(&[restored.to_str().unwrap_or_default()]);
    for r in reports.iter().filter(|r| r["outcome"] == "blocked") {
        let id = r["execution_id"].as_str().unwrap_or_default().parse().unwrap_or_else(|e| panic!("{e}"));
        let ExecutionState::BlockedByJoinSet { join_set_id: Some(js), .. } =
            db.execution_summary(&id).unwrap_or_else(|e| panic!("{e}")).state
        else {
            panic!("{id} is blocked in t_state")
        };
        assert_eq!(r["blocked"]["join_set_id"], js.to_string());
    }
}

#[test]
fn a_changed_random_range_is_nondeterministic_at_the_persist_with_its_source_line() {
    let (code, reports, out) =
        rerun(&[demo().to_str().unwrap_or_default(), "--component", sleepy_variant().to_str().unwrap_or_default()]);
    assert_eq!(code, Some(2), "{}", describe(&out));
    for r in &reports {
        if r["ffqn"] == "demo:workflow/wf.sleepy" {
            assert_eq!(r["outcome"], "nondeterministic", "{r}");
            let n = &r["nondeterminism"];
            assert_eq!((n["version"].as_u64(), r["matched"].as_u64()), (Some(2), Some(0)), "{r}");
            assert_eq!(n["recorded"]["kind"]["max_inclusive"], 999);
            assert_eq!(n["produced"]["kind"]["max_inclusive"], 1999);
            // `let r = ws::random_u64(0, 1000);`
            assert_eq!(n["source"]["line"], 56, "{n}");
        } else {
            assert_eq!(r["consistent"], true, "{r}");
        }
    }
}

#[test]
fn a_changed_child_param_is_nondeterministic_at_the_child_request() {
    let (code, reports, out) =
        rerun(&[demo().to_str().unwrap_or_default(), "--component", serial_variant().to_str().unwrap_or_default()]);
    assert_eq!(code, Some(2), "{}", describe(&out));
    let nondeterministic: Vec<(&str, u64, &Value, &Value)> = reports
        .iter()
        .filter(|r| r["outcome"] == "nondeterministic")
        .map(|r| {
            let n = &r["nondeterminism"];
            (
                r["execution_id"].as_str().unwrap_or_default(),
                n["version"].as_u64().unwrap_or(0),
                &n["recorded"]["request"]["params"],
                &n["produced"]["params"],
            )
        })
        .collect();
    let expected = [
        ("E_01M86G6PD8CH6MWG9CWFCJT438", 6, serde_json::json!([3, 1]), serde_json::json!([3, 2])),
        ("E_01M86G6PG1GTX1709RQEGGSBH3.o:1-serial_1", 6, serde_json::json!([10, 1]), serde_json::json!([10, 2])),
        ("E_01M86G6PQCFAQN6N8AKWY2ZYDA", 8, serde_json::json!([7, 1]), serde_json::json!([7, 2])),
    ];
    assert_eq!(nondeterministic.len(), expected.len(), "{}", describe(&out));
    for ((id, version, recorded, produced), (eid, ev, er, ep)) in nondeterministic.iter().zip(&expected) {
        assert_eq!((*id, *version, *recorded, *produced), (*eid, *ev, er, ep));
    }
    // The parent of the child serial only sees its child's recorded result: still consistent.
    assert_eq!(by_id(&reports, "E_01M86G6PG1GTX1709RQEGGSBH3")["consistent"], true);
}

#[test]
fn a_print_parse_round_trip_replays_like_the_original() {
    let round_trip = parse(&printed(false), "round-trip");
    let bytes = std::fs::read(&round_trip).unwrap_or_else(|e| panic!("{e}"));
    assert_ne!(bytes, std::fs::read(stored_component()).unwrap_or_default(), "a new binary");
    let demo_path = demo();
    let demo_arg = demo_path.to_str().unwrap_or_default();
    let (code_a, original, _) = rerun(&[demo_arg]);
    let (code_b, again, out) = rerun(&[demo_arg, "--component", round_trip.to_str().unwrap_or_default()]);
    assert_eq!((code_a, code_b), (Some(0), Some(0)), "{}", describe(&out));
    let summary = |r: &Value| {
        (
            r["execution_id"].clone(),
            r["outcome"].clone(),
            r["matched"].clone(),
            r["retval"].clone(),
            r["logs"].as_array().map(Vec::len),
        )
    };
    assert_eq!(original.iter().map(summary).collect::<Vec<_>>(), again.iter().map(summary).collect::<Vec<_>>());
    assert_ne!(original[0]["component_digest"], again[0]["component_digest"]);
}

#[test]
fn bad_inputs_are_clear_errors() {
    let demo_path = demo();
    let demo_arg = demo_path.to_str().unwrap_or_default();
    let serial = "E_01M86G6PD8CH6MWG9CWFCJT438";
    let truncated = scratch().join("truncated.wasm");
    let bytes = std::fs::read(stored_component()).unwrap_or_default();
    std::fs::write(&truncated, &bytes[..1000]).unwrap_or_else(|e| panic!("{e}"));
    let core = parse("(module (func (export \"f\")))", "core-module");
    let filesystem = parse("(component (import \"wasi:filesystem/preopens@0.2.6\" (instance)))", "imports-filesystem");
    let newer = parse("(component (import \"obelisk:workflow/workflow-support@7.0.0\" (instance)))", "imports-newer");
    let not_wasm = scratch().join("not-wasm.wasm");
    std::fs::write(&not_wasm, "hello").unwrap_or_else(|e| panic!("{e}"));
    let cases: [(&Path, &str); 5] = [
        (&truncated, "not a WebAssembly component: failed to parse"),
        (&core, "not a WebAssembly component: this is a core WebAssembly module"),
        (&not_wasm, "not a WebAssembly component"),
        (&filesystem, "unsupported import `wasi:filesystem/preopens@0.2.6`"),
        (&newer, "unsupported import `obelisk:workflow/workflow-support@7.0.0`"),
    ];
    for (component, message) in cases {
        let (code, _, out) = rerun(&[demo_arg, serial, "--component", component.to_str().unwrap_or_default()]);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(code, Some(1), "{}", describe(&out));
        assert!(stderr.contains(&component.display().to_string()) && stderr.contains(message), "{stderr}");
    }
    // Schema 3 (0.38): no components stored.
    let (code, reports, out) = rerun(&[fixtures().join("obelisk/0.38.3/demo.sqlite").to_str().unwrap_or_default()]);
    assert_eq!(code, Some(1), "{}", describe(&out));
    assert!(!reports.is_empty() && reports.iter().all(|r| r["outcome"] == "error"));
    assert!(
        reports[0]["error"]
            .as_str()
            .is_some_and(|e| e.contains("is not stored in this database") && e.contains("--component"))
    );
    // An activity execution.
    let (code, reports, _) = rerun(&[demo_arg, "E_01M86G6PG17YNRTP3XKFF1W3JT"]);
    assert_eq!(code, Some(1));
    assert!(reports[0]["error"].as_str().is_some_and(|e| e.contains("is not a workflow")), "{reports:?}");
}

/// A component whose `demo:workflow/wf.serial` loops forever.
fn looping_component() -> PathBuf {
    parse(
        r#"(component
  (core module $m
    (memory (export "memory") 1)
    (func (export "serial") (param i32 i32) (result i32)
      (loop $forever (br $forever))
      i32.const 0))
  (core instance $i (instantiate $m))
  (func $serial (param "a" u32) (param "b" u32) (result (result u32 (error string)))
    (canon lift (core func $i "serial") (memory (core memory $i "memory"))))
  (instance $wf (export "serial" (func $serial)))
  (export "demo:workflow/wf" (instance $wf)))"#,
        "looping",
    )
}

#[test]
fn a_looping_guest_runs_out_of_fuel() {
    let looping = looping_component();
    let demo_path = demo();
    let args = [
        demo_path.to_str().unwrap_or_default(),
        "E_01M86G6PD8CH6MWG9CWFCJT438",
        "--fuel",
        "5000000",
        "--component",
        looping.to_str().unwrap_or_default(),
    ];
    let (code, reports, out) = rerun(&args);
    assert_eq!(code, Some(2), "{}", describe(&out));
    assert_eq!(reports[0]["outcome"], "trapped");
    assert!(reports[0]["trap"]["reason"].as_str().is_some_and(|r| r.contains("all fuel consumed")), "{}", reports[0]);
    assert_eq!(reports[0]["fuel_used"], 5_000_000);
}

#[test]
fn a_background_job_reports_progress_and_a_running_guest_is_cancelled() {
    let rerunner = Arc::new(Rerunner::new(None).unwrap_or_else(|e| panic!("{e}")));
    let request = RerunRequest { db: demo(), ids: Vec::new(), component: None, fuel: RunOptions::default().fuel };
    let reports = RerunJob::spawn(rerunner.clone(), request).wait().unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(reports.len(), 13);
    assert!(reports.iter().all(|(_, r)| r.as_ref().is_ok_and(|r| r.consistent)));

    // A guest that never returns, with fuel for days: only cancel ends it.
    let ids = vec!["E_01M86G6PD8CH6MWG9CWFCJT438".parse().unwrap_or_else(|e| panic!("{e}"))];
    let request = RerunRequest { db: demo(), ids, component: Some(looping_component()), fuel: u64::MAX / 2 };
    let mut job = RerunJob::spawn(rerunner, request);
    // `total` is set once the component is prepared and the first execution starts.
    while job.progress().total == 0 && !job.progress().finished {
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
    assert!(job.take_result().is_none(), "still running: {:?}", job.progress());
    job.cancel();
    let reports = job.wait().unwrap_or_else(|e| panic!("{e}"));
    let report = reports[0].1.as_ref().unwrap_or_else(|e| panic!("{e}"));
    // The guest has no host calls: only the epoch interruption can have stopped it.
    assert_eq!(report.outcome, OutcomeKind::Cancelled);
}
