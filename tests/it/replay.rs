//! The replay engine on real Obelisk databases: the two fixture databases (0.38.3 schema 3,
//! 0.41.5 schema 17) and the four fleet tenants restored from their real Litestream replicas.
//! Whole-database replays agree with `t_state`; known steps of known executions have the state
//! the fixture READMEs describe; random access equals folding from zero; exports replay the same;
//! damaged rows are findings, not panics.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use chronoscope::obelisk::{ExecutionId, ExecutionState, Lifecycle, ObeliskDb, ResponseKind, ResultKind, RetVal};
use chronoscope::replay::export::{ExportFile, export_tree, write_atomically};
use chronoscope::replay::{
    AwaitKind, FindingKind, JoinSetStatus, Replay, ReplaySource, ReplayTree, Step, TreeRelation, check_database,
};

use crate::restore_fixtures::{find_replica_root, fixtures};
use crate::support::cli::{chronoscope_cmd, describe, stdout_json};
use crate::support::fixtures::extract;

/// Every real database: the fixture files, and the fleet tenants restored (once per test run).
fn databases() -> &'static [(String, PathBuf)] {
    static DBS: OnceLock<(tempfile::TempDir, Vec<(String, PathBuf)>)> = OnceLock::new();
    &DBS.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap();
        let mut dbs = vec![
            ("0.38.3".to_owned(), fixtures().join("obelisk/0.38.3/demo.sqlite")),
            ("0.41.5".to_owned(), fixtures().join("obelisk/0.41.5/demo.sqlite")),
        ];
        let gamma = extract(&fixtures().join("fleet/v0.3/tenant-gamma.replica.tar.gz"));
        let replicas = [
            ("tenant-alpha", fixtures().join("fleet/v0.5/tenant-alpha")),
            ("tenant-beta", fixtures().join("fleet/v0.5/tenant-beta")),
            ("tenant-zeta", fixtures().join("fleet/v0.5/tenant-zeta")),
            ("tenant-gamma", find_replica_root(gamma.path())),
        ];
        for (name, replica) in replicas {
            let out = dir.path().join(format!("{name}.db"));
            let run =
                chronoscope_cmd().args(["restore", "--no-progress", "-o"]).arg(&out).arg(&replica).output().unwrap();
            assert!(run.status.success(), "restore {name}: {}", describe(&run));
            dbs.push((name.to_owned(), out));
        }
        (dir, dbs)
    })
    .1
}

fn db(name: &str) -> ObeliskDb {
    let path = &databases().iter().find(|(n, _)| n == name).unwrap_or_else(|| panic!("no database {name}")).1;
    ObeliskDb::open(path).unwrap_or_else(|e| panic!("{name}: {e}"))
}

fn id(text: &str) -> ExecutionId {
    text.parse().unwrap_or_else(|e| panic!("{text}: {e}"))
}

fn replay(db: &ObeliskDb, execution: &str) -> Replay {
    ReplaySource::Database(db).replay(&id(execution)).unwrap_or_else(|e| panic!("{execution}: {e}"))
}

/// The step holding log version `version`.
fn step_of(replay: &Replay, version: u64) -> usize {
    replay.steps().iter().position(|s| s.version() == Some(version)).unwrap_or_else(|| panic!("no v{version}"))
}

#[test]
fn every_database_replays_in_agreement_with_t_state() {
    for (name, path) in databases() {
        let db = ObeliskDb::open(path).unwrap();
        let report = check_database(&db).unwrap_or_else(|e| panic!("{name}: {e}"));
        let listed = db.list_executions(&Default::default()).unwrap();
        assert!(report.executions > 30, "{name}: only {} executions", report.executions);
        assert_eq!(report.executions, listed.len(), "{name}: every listed execution is replayed");
        assert_eq!(report.events, listed.iter().map(|e| e.event_count as usize).sum::<usize>(), "{name}");
        let findings: Vec<String> = report.findings.iter().map(ToString::to_string).collect();
        assert!(findings.is_empty(), "{name}: {findings:#?}");
        // The same, one execution at a time, through the public pieces the UI uses.
        for summary in &listed {
            let r = ReplaySource::Database(&db).replay(&summary.id).unwrap();
            assert_eq!(r.final_state().version, Some(summary.version), "{name} {}", summary.id);
            assert_eq!(r.final_state().result_kind, summary.result_kind, "{name} {}", summary.id);
            assert!(
                chronoscope::replay::compare_with_t_state(r.final_state(), summary).is_empty(),
                "{name} {}",
                summary.id
            );
        }
    }
}

#[test]
fn join_next_receives_the_childs_result_at_its_arrival() {
    // wf.failing calls ops.fail, which fails twice, retries and returns err "boom" (README).
    let db = db("0.38.3");
    let parent = replay(&db, "E_01M86DPJ5BPCP71S3G8V6JMMX9");
    let join_next = step_of(&parent, 4);
    let blocked = parent.state_at(join_next).unwrap();
    assert!(
        matches!(&blocked.pending, Some(ExecutionState::BlockedByJoinSet { join_set_id: Some(js), closing: false, .. }) if js.to_string() == "o:1-fail"),
        "{:?}",
        blocked.pending
    );
    assert_eq!(blocked.waiting.as_ref().map(|w| w.version), Some(4));
    assert!(blocked.received.is_none());
    // The next step is the child's response: the workflow is unblocked and gets err "boom".
    let arrival = join_next + 1;
    assert!(matches!(parent.step(arrival), Some(Step::Response(_))));
    let got = parent.state_at(arrival).unwrap();
    assert!(matches!(got.pending, Some(ExecutionState::PendingAt { .. })), "{:?}", got.pending);
    assert!(got.waiting.is_none());
    let received = got.received.as_ref().expect("the join_next's value");
    assert_eq!((received.await_version, received.await_kind, received.response), (4, AwaitKind::JoinNext, 0));
    match &received.value {
        ResponseKind::ChildExecutionFinished { child_execution_id, result: Some(RetVal::Err(Some(v))), .. } => {
            assert_eq!(child_execution_id.to_string(), "E_01M86DPJ5BPCP71S3G8V6JMMX9.o:1-fail_1");
            assert_eq!(v.value, serde_json::json!("boom"));
        }
        other => panic!("{other:?}"),
    }
    let child = got.child(&id("E_01M86DPJ5BPCP71S3G8V6JMMX9.o:1-fail_1")).unwrap();
    assert_eq!(
        (child.result_kind.clone(), child.consumed_version, child.arrived_step),
        (Some(ResultKind::Err), Some(4), Some(arrival))
    );
    let js = got.join_sets.iter().next().unwrap();
    assert_eq!((js.requests.len(), js.arrivals.len(), js.consumed), (1, 1, 1));
    assert_eq!(parent.final_state().result_kind, Some(ResultKind::Err));
}

#[test]
fn a_retry_after_temporarily_failed_counts_attempts_and_backs_off() {
    let db = db("0.38.3");
    let child = replay(&db, "E_01M86DPJ5BPCP71S3G8V6JMMX9.o:1-fail_1");
    let first_run = child.state_at(step_of(&child, 1)).unwrap();
    assert_eq!(
        (first_run.attempts.runs, first_run.attempts.attempt, first_run.attempts.intermittent_failures),
        (1, 1, 0)
    );
    assert!(matches!(first_run.pending, Some(ExecutionState::Locked { .. })));
    let failed = child.state_at(step_of(&child, 2)).unwrap();
    assert_eq!((failed.attempts.attempt, failed.attempts.intermittent_failures), (2, 1));
    // Backing off until the time the event names (200 ms after the failure).
    let backoff = match child.step(step_of(&child, 2)) {
        Some(Step::Event(e)) => match &e.event {
            chronoscope::obelisk::Event::TemporarilyFailed(f) => f.backoff_expires_at,
            other => panic!("{other:?}"),
        },
        other => panic!("{other:?}"),
    };
    assert_eq!(failed.pending, Some(ExecutionState::PendingAt { scheduled_at: backoff }));
    assert_eq!(backoff.to_rfc3339_opts(chrono::SecondsFormat::Millis, true), "2026-11-24T09:20:27.529Z");
    let second_run = child.state_at(step_of(&child, 3)).unwrap();
    assert_eq!((second_run.attempts.runs, second_run.attempts.attempt), (2, 2));
    let last = child.final_state();
    assert_eq!((last.attempts.runs, last.attempts.intermittent_failures, last.attempts.attempt), (3, 2, 3));
    assert_eq!(last.result_kind, Some(ResultKind::Err));
}

#[test]
fn a_paused_execution_keeps_its_state_paused_until_unpaused() {
    // wf.sleepy submitted paused, stepped with `advance`, then unpaused (README).
    let db = db("0.38.3");
    let r = replay(&db, "E_01M86DQ6KC3PNJ0BQMZFMR0VB1");
    let paused = r.state_at(step_of(&r, 1)).unwrap();
    assert_eq!(paused.lifecycle, Lifecycle::Paused);
    assert!(matches!(paused.pending, Some(ExecutionState::PendingAt { .. })));
    let sleeping = r.state_at(step_of(&r, 6)).unwrap();
    assert_eq!(sleeping.lifecycle, Lifecycle::Paused);
    let delay = sleeping.delays.iter().next().unwrap();
    assert!(delay.paused && delay.fired.is_none(), "{delay:?}");
    let unpaused = r.state_at(step_of(&r, 7)).unwrap();
    assert_eq!(unpaused.lifecycle, Lifecycle::Active);
    let persisted: Vec<_> = unpaused.persisted.iter().map(|p| serde_json::to_value(&p.value).unwrap()).collect();
    assert_eq!(persisted, vec![serde_json::json!(601), serde_json::json!("isWivsi")]);
    let result = r.final_state().result.as_ref().expect("finished");
    assert_eq!(chronoscope::obelisk::describe::retval(result), "ok 601");
    let fired = r.final_state().delays.iter().next().unwrap().fired;
    assert_eq!(fired, Some(true));
}

#[test]
fn auto_upgrades_switch_the_digest_or_mark_it_incompatible() {
    let db = db("0.38.3");
    let failed = replay(&db, "E_01M86DXF2S4T8Q63NBE0FX053H");
    let before = failed.state_at(step_of(&failed, 7)).unwrap();
    let after = failed.state_at(step_of(&failed, 8)).unwrap();
    assert!(before.incompatible_digest.is_none());
    let digest = after.incompatible_digest.as_ref().expect("a failed upgrade marks the digest").to_string();
    assert!(digest.contains("9eb0ac8749794184"), "{digest}");
    assert_eq!(after.component_digest, before.component_digest, "a failed upgrade keeps the running digest");
    assert_eq!(after.upgrades.len(), 1);
    let unlocked = failed.final_state();
    assert!(matches!(unlocked.pending, Some(ExecutionState::PendingAt { .. })), "{:?}", unlocked.pending);
    assert!(unlocked.incompatible_digest.is_some());

    let ok = replay(&db, "E_01M86DXF34ECW02REQFDSBTVJF");
    let before = ok.state_at(step_of(&ok, 3)).unwrap();
    let after = ok.state_at(step_of(&ok, 4)).unwrap();
    assert_ne!(before.component_digest, after.component_digest);
    assert!(after.component_digest.as_ref().unwrap().to_string().contains("9eb0ac8749794184"));
    // The new deployment already locked it (v3); the upgrade names the same one.
    assert_eq!(after.upgrades.iter().next().map(|u| &u.deployment_id), after.deployment_id.as_ref());
    assert!(after.incompatible_digest.is_none());
}

#[test]
fn a_closing_join_next_cancels_and_receives_the_unawaited_request() {
    // wf.concurrent: 4 children in n:batch, 3 awaited, then the set is closed: the slow
    // activity is cancelled and its cancellation is what the closing join_next receives.
    let db = db("0.41.5");
    let r = replay(&db, "E_01M86G6PE09WW43FVD6HR4HBJJ");
    let last = r.final_state();
    let batch = last.join_sets.iter().find(|js| js.id.to_string() == "n:batch").unwrap();
    assert_eq!(batch.status, JoinSetStatus::Closed);
    assert_eq!((batch.requests.len(), batch.consumed), (4, 4));
    assert_eq!(batch.awaits.last().map(|a| a.kind), Some(AwaitKind::JoinNextClosing));
    let slow = last.child(&id("E_01M86G6PE09WW43FVD6HR4HBJJ.n:batch_4")).unwrap();
    assert!(
        matches!(&slow.result_kind, Some(ResultKind::ExecutionFailure(k)) if k.to_string() == "cancelled"),
        "{slow:?}"
    );
    assert_eq!(slow.consumed_version, Some(14));
    // join_next_try on the sleep found nothing yet.
    let try_step = r.state_at(step_of(&r, 12)).unwrap();
    let g1 = try_step.join_sets.iter().find(|js| js.id.to_string() == "g:1").unwrap();
    assert_eq!(g1.awaits.last().map(|a| a.kind), Some(AwaitKind::JoinNextTryPending));
}

/// Deterministic pseudo-random jumps (xorshift), so failures reproduce.
fn jumps(len: usize, count: usize, mut seed: u64) -> Vec<usize> {
    (0..count)
        .map(|_| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            (seed % len as u64) as usize
        })
        .collect()
}

#[test]
fn random_access_equals_folding_from_zero_on_every_execution() {
    let mut checked = 0usize;
    for (name, path) in databases() {
        let db = ObeliskDb::open(path).unwrap();
        for summary in db.list_executions(&Default::default()).unwrap() {
            let log = db.execution_log(&summary.id).unwrap();
            let responses = db.responses(&summary.id).unwrap();
            let reference = Replay::with_interval(summary.id.clone(), log.clone(), responses.clone(), usize::MAX);
            let mut from_zero = Vec::new();
            reference.for_each_state(|s| from_zero.push(s.clone()));
            assert_eq!(from_zero.len(), reference.len());
            assert_eq!(from_zero.last(), Some(reference.final_state()), "{name} {}", summary.id);
            for interval in [1, 2, 3, 5, 256] {
                let r = Replay::with_interval(summary.id.clone(), log.clone(), responses.clone(), interval);
                assert_eq!(r.findings(), reference.findings());
                for step in jumps(r.len(), 3 * r.len(), 0x9E37_79B9_7F4A_7C15 ^ (r.len() as u64) ^ interval as u64) {
                    let state = r.state_at(step).unwrap();
                    assert_eq!(state, from_zero[step], "{name} {} step {step} interval {interval}", summary.id);
                    assert_eq!(state, r.state_at_from_scratch(step).unwrap());
                    checked += 1;
                }
            }
        }
    }
    assert!(checked > 10_000, "only {checked} jumps");
}

#[test]
fn a_tree_links_children_scheduled_executions_and_their_spans() {
    // wf.parent: calls wf.serial (which calls ops.add twice) and schedules two ops.add.
    let db = db("0.41.5");
    let root = id("E_01M86G6PG1GTX1709RQEGGSBH3");
    let tree = ReplayTree::load(&ReplaySource::Database(&db), &root).unwrap();
    let ids: Vec<String> = tree.nodes().iter().map(|n| n.id.to_string()).collect();
    for expected in [
        "E_01M86G6PG1GTX1709RQEGGSBH3.o:1-serial_1",
        "E_01M86G6PG1GTX1709RQEGGSBH3.o:1-serial_1.o:1-add_1",
        "E_01M86G6PG1GTX1709RQEGGSBH3.o:1-serial_1.o:2-add_1",
    ] {
        assert!(ids.contains(&expected.to_owned()), "{expected} not in {ids:?}");
    }
    let scheduled: Vec<String> = tree
        .nodes()
        .into_iter()
        .filter(|n| matches!(n.relation, TreeRelation::Scheduled { .. }))
        .map(|n| n.id.to_string())
        .collect();
    assert_eq!(scheduled, ["E_01M86G6PG17YNRTP3XKFF1W3JT", "E_01M86G6PG1QKJFAEE2NXA7CVC6"], "{ids:?}");
    let child_id = id("E_01M86G6PG1GTX1709RQEGGSBH3.o:1-serial_1");
    let child = tree.node(&child_id).unwrap();
    assert_eq!(child.depth, 1);
    let span = child.span.as_ref().unwrap();
    assert!(span.requested_step < span.arrived_step.unwrap() && span.arrived_step <= span.received_step, "{span:?}");
    // Stepping into the child at the parent's request, then back out, lands on the request or later.
    let into = tree.step_into(&child_id, span.requested_step).unwrap();
    assert_eq!(into, 0, "the child had just been created");
    let child_replay = tree.replay(&child_id).unwrap();
    let out = tree.step_out(&child_id, child_replay.len() - 1).unwrap();
    assert!(out >= span.requested_step && out <= span.received_step.unwrap(), "{out} {span:?}");
    assert_eq!(tree.parent_of(&child_id), Some(&root));
}

#[test]
fn an_export_replays_exactly_like_the_database() {
    let db = db("tenant-zeta");
    let dir = tempfile::tempdir().unwrap();
    let mut exported = 0;
    for summary in db.list_executions(&Default::default()).unwrap().into_iter().filter(|s| s.is_top_level) {
        let doc = export_tree(&db, &summary.id).unwrap();
        let path = dir.path().join(format!("{}.json", summary.id));
        write_atomically(&doc, &path).unwrap();
        let file = ExportFile::open(&path).unwrap();
        assert_eq!(file.root(), &summary.id);
        for e in &doc.executions {
            let a = ReplaySource::Database(&db).replay(&e.id).unwrap();
            let b = ReplaySource::Export(&file).replay(&e.id).unwrap();
            assert_eq!(a.steps(), b.steps(), "{}", e.id);
            assert_eq!(a.findings(), b.findings());
            let (mut sa, mut sb) = (Vec::new(), Vec::new());
            a.for_each_state(|s| sa.push(s.clone()));
            b.for_each_state(|s| sb.push(s.clone()));
            assert_eq!(sa, sb, "{}", e.id);
            assert_eq!(e.steps.len(), a.len());
            assert!(e.t_state_differences.is_empty());
            exported += 1;
        }
    }
    assert!(exported >= 60, "{exported}");
    assert!(
        std::fs::read_dir(dir.path()).unwrap().flatten().all(|e| !e.file_name().to_string_lossy().contains(".tmp"))
    );
}

/// A copy of a fixture database with some log rows damaged.
pub fn damaged_copy(dir: &Path) -> PathBuf {
    let path = dir.join("damaged.sqlite");
    std::fs::copy(fixtures().join("obelisk/0.41.5/demo.sqlite"), &path).unwrap();
    let conn = rusqlite::Connection::open(&path).unwrap();
    // A known variant with a body of the wrong shape, an unknown variant, a history event with a
    // wrongly typed field, and a `Created` that is not an object. (Text that is not JSON at all
    // cannot be stored: the log's generated column parses it; `Event::decode` has unit tests.)
    conn.execute_batch(
        "UPDATE t_execution_log SET json_value = '{\"locked\": 42}' WHERE execution_id = 'E_01M86G6PE09WW43FVD6HR4HBJJ' AND version = 1;
         UPDATE t_execution_log SET variant = 'teleported', json_value = '{\"teleported\":{\"to\":\"mars\"}}' WHERE execution_id = 'E_01M86G6PE09WW43FVD6HR4HBJJ' AND version = 12;
         UPDATE t_execution_log SET json_value = '{\"history_event\":{\"event\":{\"type\":\"join_next\",\"join_set_id\":42}}}' WHERE execution_id = 'E_01M86G6PG1GTX1709RQEGGSBH3' AND version = 4;
         UPDATE t_execution_log SET json_value = '[]' WHERE execution_id = 'E_01M86G6PF12FCXTSFMF2TZGQWR' AND version = 0;",
    )
    .unwrap();
    drop(conn);
    path
}

#[test]
fn damaged_rows_are_findings_and_never_panics() {
    let dir = tempfile::tempdir().unwrap();
    let path = damaged_copy(dir.path());
    let db = ObeliskDb::open(&path).unwrap();
    let report = check_database(&db).unwrap();
    let undecodable: Vec<(String, Option<u64>)> = report
        .findings
        .iter()
        .filter(|f| f.kind == FindingKind::UndecodableEvent)
        .map(|f| (f.execution_id.to_string(), f.version))
        .collect();
    for expected in [
        ("E_01M86G6PE09WW43FVD6HR4HBJJ".to_owned(), Some(1)),
        ("E_01M86G6PE09WW43FVD6HR4HBJJ".to_owned(), Some(12)),
        ("E_01M86G6PG1GTX1709RQEGGSBH3".to_owned(), Some(4)),
        ("E_01M86G6PF12FCXTSFMF2TZGQWR".to_owned(), Some(0)),
    ] {
        assert!(undecodable.contains(&expected), "{expected:?} not in {undecodable:?}");
    }
    // Every step of every execution is still reachable, and the raw rows are kept as steps.
    for summary in db.list_executions(&Default::default()).unwrap() {
        let r = ReplaySource::Database(&db).replay(&summary.id).unwrap();
        assert_eq!(r.event_count() as u64, summary.version + 1, "{}: no row dropped", summary.id);
        for step in 0..r.len() {
            r.state_at(step).unwrap();
        }
    }
    let r = replay(&db, "E_01M86G6PE09WW43FVD6HR4HBJJ");
    assert!(
        r.step(step_of(&r, 12)).unwrap().detail().contains("teleported")
            || r.step(step_of(&r, 12)).unwrap().kind().contains("teleported")
    );
    // The CLI reports them and exits non-zero.
    let out = chronoscope_cmd().arg("check").arg(&path).output().unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", describe(&out));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("undecodable_event") && text.contains("E_01M86G6PE09WW43FVD6HR4HBJJ v12"), "{text}");
}

#[test]
fn a_whole_database_check_folds_each_execution_as_its_replay_does() {
    // The check reads whole ranges of executions and folds them without checkpoints; a replay
    // reads one execution row by row and keeps checkpoints. Both must find the same.
    let dir = tempfile::tempdir().unwrap();
    let damaged = damaged_copy(dir.path());
    let mut sources: Vec<PathBuf> = databases().iter().map(|(_, p)| p.clone()).collect();
    sources.push(damaged);
    for path in &sources {
        let db = ObeliskDb::open(path).unwrap();
        let report = check_database(&db).unwrap();
        let own_kinds = |k: FindingKind| {
            !matches!(k, FindingKind::StateMismatch | FindingKind::TreeMismatch | FindingKind::DelayTableMismatch)
        };
        let mut from_check: Vec<String> =
            report.findings.iter().filter(|f| own_kinds(f.kind)).map(ToString::to_string).collect();
        let (mut from_replays, mut events, mut responses) = (Vec::new(), 0, 0);
        for summary in db.list_executions(&Default::default()).unwrap() {
            let r = ReplaySource::Database(&db).replay(&summary.id).unwrap();
            from_replays.extend(r.findings().iter().map(ToString::to_string));
            (events, responses) = (events + r.event_count(), responses + r.response_count());
        }
        from_check.sort();
        from_replays.sort();
        assert_eq!(from_check, from_replays, "{}", path.display());
        assert_eq!((report.events, report.responses), (events, responses), "{}", path.display());
    }
    // The damaged copy does have findings of its own, so the comparison above is not empty.
    let report = check_database(&ObeliskDb::open(sources.last().unwrap()).unwrap()).unwrap();
    assert!(report.findings.iter().filter(|f| f.kind == FindingKind::UndecodableEvent).count() >= 4);
}

#[test]
fn t_state_rows_and_logs_without_each_other_are_findings() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("orphans.sqlite");
    std::fs::copy(fixtures().join("obelisk/0.41.5/demo.sqlite"), &path).unwrap();
    let conn = rusqlite::Connection::open(&path).unwrap();
    conn.execute_batch(
        "DELETE FROM t_execution_log WHERE execution_id = 'E_01M86G6PG17YNRTP3XKFF1W3JT';
         DELETE FROM t_state WHERE execution_id = 'E_01M86G6PKV084KDYN01J23FDHA';",
    )
    .unwrap();
    drop(conn);
    let report = check_database(&ObeliskDb::open(&path).unwrap()).unwrap();
    let mismatches: Vec<(String, String)> = report
        .findings
        .iter()
        .filter(|f| f.kind == FindingKind::StateMismatch)
        .map(|f| (f.execution_id.to_string(), f.message.clone()))
        .collect();
    assert_eq!(
        mismatches,
        [
            ("E_01M86G6PG17YNRTP3XKFF1W3JT".to_owned(), "a t_state row without any log row".to_owned()),
            ("E_01M86G6PKV084KDYN01J23FDHA".to_owned(), "log rows without a t_state row".to_owned()),
        ]
    );
    // The execution without a t_state row is still replayed; the one without log rows is not.
    assert_eq!(report.executions, 32);
}

#[test]
fn executions_that_disagree_about_each_other_are_findings() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("disagree.sqlite");
    std::fs::copy(fixtures().join("obelisk/0.41.5/demo.sqlite"), &path).unwrap();
    let conn = rusqlite::Connection::open(&path).unwrap();
    conn.execute_batch(
        r#"-- a child that runs another function than its parent requested
        UPDATE t_execution_log SET json_value = replace(json_value, '"ffqn":"demo:activity/ops.add"', '"ffqn":"demo:activity/ops.sub"')
         WHERE execution_id = 'E_01M86G6PD8CH6MWG9CWFCJT438.o:2-add_1' AND version = 0;
        -- a child that names another join set of its parent
        UPDATE t_execution_log SET json_value = replace(json_value, '"o:1-add"]', '"o:9-add"]')
         WHERE execution_id = 'E_01M86G6PD8CH6MWG9CWFCJT438.o:1-add_1' AND version = 0;
        -- a scheduled execution that names another scheduler
        UPDATE t_execution_log SET json_value = replace(json_value, '"scheduled_by":"E_01M86G6PG1GTX1709RQEGGSBH3"', '"scheduled_by":"E_01M86G6PD8CH6MWG9CWFCJT438"')
         WHERE execution_id = 'E_01M86G6PG17YNRTP3XKFF1W3JT' AND version = 0;
        -- a child whose finished row is gone, and a child that is gone altogether
        DELETE FROM t_execution_log WHERE execution_id = 'E_01M86G6PE09WW43FVD6HR4HBJJ.n:batch_1' AND version = 2;
        DELETE FROM t_execution_log WHERE execution_id = 'E_01M86G6PQCFAQN6N8AKWY2ZYDA.o:2-add_1';
        DELETE FROM t_state WHERE execution_id = 'E_01M86G6PQCFAQN6N8AKWY2ZYDA.o:2-add_1';
        -- a pending delay missing from t_delay, and a t_delay row nobody requested
        DELETE FROM t_delay WHERE delay_id = 'Delay_01M86G6XQMQ81M6EPHN9VQCK02.o:1-sleep_1';
        INSERT INTO t_delay (execution_id, join_set_id, delay_id, expires_at)
         VALUES ('E_01M86G6PD8CH6MWG9CWFCJT438', 'o:7-sleep', 'Delay_01M86G6PD8CH6MWG9CWFCJT438.o:7-sleep_1', '2026-11-24 10:14:20.611332658+00:00');"#,
    )
    .unwrap();
    drop(conn);
    let report = check_database(&ObeliskDb::open(&path).unwrap()).unwrap();
    let mut links: Vec<String> = report
        .findings
        .iter()
        .filter(|f| matches!(f.kind, FindingKind::TreeMismatch | FindingKind::DelayTableMismatch))
        .map(|f| format!("{} [{}] {}", f.execution_id, f.kind, f.message))
        .collect();
    links.sort();
    let expected = [
        r#"E_01M86G6PD8CH6MWG9CWFCJT438 [delay_table_mismatch] t_delay holds Delay_01M86G6PD8CH6MWG9CWFCJT438.o:7-sleep_1, which no replayed execution requested"#,
        r#"E_01M86G6PD8CH6MWG9CWFCJT438.o:1-add_1 [tree_mismatch] created with parent Some("E_01M86G6PD8CH6MWG9CWFCJT438 o:9-add"), but E_01M86G6PD8CH6MWG9CWFCJT438 requested it in o:1-add"#,
        r#"E_01M86G6PD8CH6MWG9CWFCJT438.o:2-add_1 [tree_mismatch] runs Some("demo:activity/ops.sub"), but E_01M86G6PD8CH6MWG9CWFCJT438 requested demo:activity/ops.add"#,
        r#"E_01M86G6PE09WW43FVD6HR4HBJJ [tree_mismatch] the response for E_01M86G6PE09WW43FVD6HR4HBJJ.n:batch_1 points at its version 2, but the child finished at no version (not finished)"#,
        r#"E_01M86G6PG17YNRTP3XKFF1W3JT [tree_mismatch] scheduled by E_01M86G6PG1GTX1709RQEGGSBH3 (version "#,
        r#"E_01M86G6PQCFAQN6N8AKWY2ZYDA [tree_mismatch] requested child E_01M86G6PQCFAQN6N8AKWY2ZYDA.o:2-add_1 has no log rows"#,
        r#"E_01M86G6PQCFAQN6N8AKWY2ZYDA [tree_mismatch] the response for E_01M86G6PQCFAQN6N8AKWY2ZYDA.o:2-add_1 points at its version "#,
        r#"E_01M86G6XQMQ81M6EPHN9VQCK02 [delay_table_mismatch] delay Delay_01M86G6XQMQ81M6EPHN9VQCK02.o:1-sleep_1 has no response yet but is not in t_delay"#,
    ];
    assert_eq!(links.len(), expected.len(), "{links:#?}");
    for (found, expected) in links.iter().zip(expected) {
        assert!(found.starts_with(expected), "{found}\n  expected to start with\n{expected}\nall: {links:#?}");
    }
    assert!(
        links[4].ends_with(r#"but its created says scheduled_by Some("E_01M86G6PD8CH6MWG9CWFCJT438")"#),
        "{}",
        links[4]
    );
}

#[test]
fn cli_replay_check_and_export_on_the_fixtures() {
    let dir = tempfile::tempdir().unwrap();
    let db38 = fixtures().join("obelisk/0.38.3/demo.sqlite");
    let db = db38.to_str().unwrap();

    // check: clean, and JSON with the counts.
    let out = chronoscope_cmd().args(["check", db]).output().unwrap();
    assert!(out.status.success(), "{}", describe(&out));
    assert!(String::from_utf8_lossy(&out.stdout).contains("replayed 38 executions"), "{}", describe(&out));
    let report = stdout_json(&chronoscope_cmd().args(["check", db, "--json"]).output().unwrap());
    assert_eq!((report["executions"].as_u64(), report["findings"].as_array().map(Vec::len)), (Some(38), Some(0)));

    // replay at a step: the value the join_next received, in text and JSON.
    let out = chronoscope_cmd().args(["replay", db, "E_01M86DPJ5BPCP71S3G8V6JMMX9", "--step", "5"]).output().unwrap();
    assert!(out.status.success(), "{}", describe(&out));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("step 5 of 0..=6"), "{text}");
    assert!(
        text.contains("received") && text.contains("child E_01M86DPJ5BPCP71S3G8V6JMMX9.o:1-fail_1: err \"boom\""),
        "{text}"
    );
    let json = stdout_json(
        &chronoscope_cmd()
            .args(["replay", db, "E_01M86DPJ5BPCP71S3G8V6JMMX9", "--step", "5", "--json"])
            .output()
            .unwrap(),
    );
    assert_eq!(json["state"]["received"]["value"]["result"]["err"]["value"], "boom");
    assert_eq!(json["at_step"]["step"], "response");
    // Default step: the last, with t_state in agreement.
    let out = chronoscope_cmd().args(["replay", db, "E_01M86DPJ5BPCP71S3G8V6JMMX9"]).output().unwrap();
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("t_state agrees (finished, version 5)"),
        "{}",
        describe(&out)
    );
    // Out of range and unknown executions are errors that say so.
    let out = chronoscope_cmd().args(["replay", db, "E_01M86DPJ5BPCP71S3G8V6JMMX9", "--step", "99"]).output().unwrap();
    assert!(!out.status.success() && String::from_utf8_lossy(&out.stderr).contains("99"), "{}", describe(&out));
    let out = chronoscope_cmd().args(["replay", db, "E_01M86DPJ5BPCP71S3G8V6JMMZZ"]).output().unwrap();
    assert!(
        !out.status.success() && String::from_utf8_lossy(&out.stderr).contains("E_01M86DPJ5BPCP71S3G8V6JMMZZ"),
        "{}",
        describe(&out)
    );

    // export, then replay the export: the same state as from the database.
    let file = dir.path().join("failing.json");
    let out = chronoscope_cmd().args(["export", db, "E_01M86DPJ5BPCP71S3G8V6JMMX9", "-o"]).arg(&file).output().unwrap();
    assert!(out.status.success(), "{}", describe(&out));
    assert!(String::from_utf8_lossy(&out.stdout).contains("with 2 executions"), "{}", describe(&out));
    for execution in ["E_01M86DPJ5BPCP71S3G8V6JMMX9", "E_01M86DPJ5BPCP71S3G8V6JMMX9.o:1-fail_1"] {
        for step in ["0", "3", "5"] {
            let from_db = stdout_json(
                &chronoscope_cmd().args(["replay", db, execution, "--step", step, "--json"]).output().unwrap(),
            );
            let from_file = stdout_json(
                &chronoscope_cmd()
                    .arg("replay")
                    .arg(&file)
                    .args([execution, "--step", step, "--json"])
                    .output()
                    .unwrap(),
            );
            assert_eq!(from_db["state"], from_file["state"], "{execution} step {step}");
            assert_eq!(from_db["at_step"], from_file["at_step"]);
        }
    }
    // An export's root is the default execution.
    let root = stdout_json(&chronoscope_cmd().arg("replay").arg(&file).arg("--json").output().unwrap());
    assert_eq!(root["execution_id"], "E_01M86DPJ5BPCP71S3G8V6JMMX9");
    let doc: serde_json::Value = serde_json::from_slice(&std::fs::read(&file).unwrap()).unwrap();
    assert_eq!(doc["format"], "chronoscope.replay-export");
    assert_eq!(doc["executions"].as_array().unwrap().len(), 2);
    assert!(doc["executions"][1]["logs"].is_array() && doc["executions"][0]["steps"].as_array().unwrap().len() == 7);

    // From a backup straight to a replayed execution: a replica is restored into the cache first.
    let cache = tempfile::tempdir().unwrap();
    let alpha = fixtures().join("fleet/v0.5/tenant-alpha");
    let out = chronoscope_cmd().env("XDG_CACHE_HOME", cache.path()).arg("check").arg(&alpha).output().unwrap();
    assert!(out.status.success(), "{}", describe(&out));
    assert!(String::from_utf8_lossy(&out.stdout).contains("replayed 61 executions"), "{}", describe(&out));
    let out = chronoscope_cmd()
        .env("XDG_CACHE_HOME", cache.path())
        .arg("replay")
        .arg(&alpha)
        .arg("E_01M86FG85BQ3G39CNYZJGPVAD3")
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", describe(&out));
    assert!(String::from_utf8_lossy(&out.stdout).contains("lifecycle    paused"), "{}", describe(&out));
}
