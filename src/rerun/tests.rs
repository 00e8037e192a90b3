//! Re-executing the 0.41.5 demo with the component stored in it: Obelisk's own results are the
//! oracle — the recorded return values, the recorded trap of `wf.panicky`, the join sets
//! `t_state` says blocked executions wait on, and the `t_log` messages of each workflow.

use std::sync::OnceLock;

use super::*;
use crate::obelisk::test_support::{FIXTURE_0_41_5, open};
use crate::obelisk::{ExecutionState, LogContent, ObeliskDb};

/// One engine for the test binary; compiles the demo component once (memory cache only).
fn rerunner() -> &'static Rerunner {
    static R: OnceLock<Rerunner> = OnceLock::new();
    R.get_or_init(|| Rerunner::new(None).unwrap_or_else(|e| panic!("{e}")))
}

fn demo_reports(db: &ObeliskDb) -> Vec<Report> {
    let reports = rerun_database(rerunner(), db, &[], None, &RunOptions::default()).unwrap_or_else(|e| panic!("{e}"));
    reports.into_iter().map(|(id, r)| r.unwrap_or_else(|e| panic!("{id}: {e}"))).collect()
}

#[test]
fn every_workflow_execution_of_the_demo_replays_as_obelisk_recorded_it() {
    let db = open(FIXTURE_0_41_5);
    let reports = demo_reports(&db);
    assert_eq!(reports.len(), 13, "13 workflow executions (12 top-level and one child workflow)");
    let mut finished = 0;
    for r in &reports {
        let id = &r.execution_id;
        assert!(r.consistent, "{id} {}: {} {}", r.ffqn, r.outcome.as_str(), r.where_text());
        assert!(r.nondeterminism.is_none(), "{id}: {:?}", r.nondeterminism);
        assert_eq!(r.matched, r.total, "{id}: every recorded history event produced");
        let summary = db.execution_summary(id).unwrap_or_else(|e| panic!("{e}"));
        match &summary.state {
            ExecutionState::Finished { .. } if r.ffqn.function() == "panicky" => {
                assert_eq!(r.outcome, OutcomeKind::Trapped);
            }
            ExecutionState::Finished { .. } => {
                finished += 1;
                assert_eq!(r.outcome, OutcomeKind::Finished, "{id}");
                // The same value, the same type, in Obelisk's own JSON form.
                let json = |v: &Option<crate::obelisk::RetVal>| serde_json::to_value(v).unwrap_or_default();
                assert_eq!(json(&r.retval), json(&r.recorded_retval), "{id} {}", r.ffqn);
            }
            ExecutionState::BlockedByJoinSet { join_set_id, .. } => {
                assert_eq!(r.outcome, OutcomeKind::Blocked, "{id}");
                let blocked = r.blocked.as_ref().unwrap_or_else(|| panic!("{id}: blocked detail"));
                assert_eq!(Some(&blocked.join_set_id), join_set_id.as_ref(), "{id}: the join set t_state names");
                assert_eq!(blocked.version, summary.version, "{id}: the last recorded event is its JoinNext");
            }
            other => panic!("{id}: unexpected state {other:?}"),
        }
    }
    assert_eq!(finished, 10);
}

#[test]
fn guest_logs_reproduce_t_log() {
    let db = open(FIXTURE_0_41_5);
    for r in demo_reports(&db) {
        let recorded: Vec<(String, String)> = db
            .app_logs(&r.execution_id, false)
            .unwrap_or_else(|e| panic!("{e}"))
            .into_iter()
            .filter_map(|l| match l.content {
                LogContent::Message { level, message } => Some((format!("{level:?}").to_lowercase(), message)),
                LogContent::Stream { .. } => None,
            })
            .collect();
        let produced: Vec<(String, String)> = r.logs.iter().map(|l| (l.level.clone(), l.message.clone())).collect();
        assert_eq!(produced, recorded, "{} {}", r.execution_id, r.ffqn);
    }
}

#[test]
fn panicky_traps_at_its_panic_and_steps_carry_their_source_lines() {
    let db = open(FIXTURE_0_41_5);
    let reports = demo_reports(&db);
    let by_id = |id: &str| {
        reports.iter().find(|r| r.execution_id.to_string() == id).unwrap_or_else(|| panic!("{id} re-executed"))
    };
    let panicky = by_id("E_01M86G6PK39G1R9KFM2F4BW3T9");
    let trap = panicky.trap.as_ref().unwrap_or_else(|| panic!("a trap"));
    let at = trap.source.as_ref().unwrap_or_else(|| panic!("a source line"));
    assert!(at.file.ends_with("/src/lib.rs") && at.line == 99, "{at:?}");
    // The recorded detail names the same frame: `…::panicky … at …/src/lib.rs:99:13`.
    let Some(crate::obelisk::RetVal::ExecutionFailure(recorded)) = &panicky.recorded_retval else {
        panic!("recorded trap")
    };
    assert!(recorded.detail.as_deref().is_some_and(|d| d.contains("src/lib.rs:99:13")));
    assert!(
        trap.reason.contains("unreachable") && recorded.reason.as_deref().is_some_and(|r| r.contains("unreachable"))
    );
    assert!(trap.frames.iter().any(|f| f.user_code && f.line == Some(99) && f.func.ends_with("Guest>::panicky")));
    // Every step of the first add at line 97 (`ops::add(1, 2)?`).
    assert_eq!(panicky.steps.iter().map(|s| s.source.as_ref().map(|s| s.line)).collect::<Vec<_>>(), [Some(97); 3]);

    // wf.serial: two `ops::add` calls at lines 25 and 26, logs at 24 and 27 (skipping the
    // bindings macro at line 9).
    let serial = by_id("E_01M86G6PD8CH6MWG9CWFCJT438");
    let lines: Vec<(u64, &str, u32)> = serial
        .steps
        .iter()
        .map(|s| (s.version, s.event_type.as_str(), s.source.as_ref().map_or(0, |s| s.line)))
        .collect();
    assert_eq!(
        lines,
        [
            (2, "join_set_create", 25),
            (3, "join_set_request", 25),
            (4, "join_next", 25),
            (5, "join_set_create", 26),
            (6, "join_set_request", 26),
            (7, "join_next", 26)
        ]
    );
    assert_eq!(serial.logs.iter().map(|l| l.source.as_ref().map(|s| s.line)).collect::<Vec<_>>(), [Some(24), Some(27)]);
    // What the guest received: the child's recorded result.
    assert_eq!(serial.steps[2].received.as_ref().and_then(|r| r.pointer("/result/ok/value")), Some(&3.into()));
    // wf.sleepy received its persisted random values.
    let sleepy = by_id("E_01M86G6PF12FCXTSFMF2TZGQWR");
    assert_eq!(sleepy.steps[0].received, Some(693.into()));
    assert_eq!(sleepy.steps[1].received, Some("YHDnZTt1".into()));
}

/// `wf.serial` with its log cut after the first direct call: the code wants the second one.
#[test]
fn a_log_that_ends_early_is_pending_with_the_events_the_workflow_would_append() {
    let db = open(FIXTURE_0_41_5);
    let id = "E_01M86G6PD8CH6MWG9CWFCJT438".parse().unwrap_or_else(|e| panic!("{e}"));
    let full = ExecutionInput::load(&db, &id).unwrap_or_else(|e| panic!("{e}"));
    let prepared = stored_component(rerunner(), &db, &full).unwrap_or_else(|e| panic!("{e}"));
    let run = |input: &ExecutionInput| {
        rerun(rerunner(), &prepared, input, &RunOptions::default()).unwrap_or_else(|e| panic!("{e}"))
    };

    let mut cut = full.clone();
    cut.history.truncate(3);
    cut.responses.truncate(1);
    cut.finished = None;
    let report = run(&cut);
    assert_eq!((report.outcome, report.consistent, report.matched), (OutcomeKind::Pending, true, 3));
    let pending = report.pending.as_ref().unwrap_or_else(|| panic!("pending detail"));
    let next: Vec<String> = pending.would_append.iter().map(ToString::to_string).collect();
    assert_eq!(
        next,
        [
            "join_set_create o:2-add",
            "child_execution_request o:2-add E_01M86G6PD8CH6MWG9CWFCJT438.o:2-add_1 demo:activity/ops.add[3,1]",
            "join_next o:2-add demo:activity/ops.add",
        ]
    );
    assert_eq!(pending.source.as_ref().map(|s| s.line), Some(26));

    // Every event recorded, `Finished` not yet: the code would finish with 4.
    let mut unfinished = full.clone();
    unfinished.finished = None;
    let report = run(&unfinished);
    assert_eq!((report.outcome, report.consistent), (OutcomeKind::Pending, true));
    let would_finish = report.pending.as_ref().and_then(|p| p.would_finish.as_ref());
    assert_eq!(serde_json::to_value(would_finish).ok(), Some(serde_json::json!({"ok": {"type": "u32", "value": 4}})));

    // A response the log does not have yet: blocked at the first `join_next`.
    let mut waiting = full;
    waiting.responses.clear();
    let report = run(&waiting);
    assert_eq!(report.outcome, OutcomeKind::Blocked);
    assert_eq!(report.blocked.as_ref().map(|b| (b.version, b.join_set_id.to_string())), Some((4, "o:1-add".into())));
}
