//! The source pane on the real 0.41.5 demo database (its `demo_workflow` component and source
//! are stored in it): opening an execution re-executes it in the background; the pane shows the
//! line of the cursor's event and follows the arrow keys; a trap is a finding whose frames jump
//! to their line; the inspector shows what the guest received and its log so far; a folder can
//! replace the stored source; a database that predates stored components says so and the fold
//! view keeps working.

use std::path::{Path, PathBuf};

use chronoscope::ui::App;
use chronoscope::ui::dialogs::{DialogPurpose, ScriptedDialogs};
use chronoscope::ui::options::Gate;
use egui::Key;
use egui_kittest::Harness;
use egui_kittest::kittest::Queryable;

use super::kit::{harness, options, wait_for, wait_for_unsettled};
use crate::support::fixtures::shared;

/// wf.panicky: `ops::add(1, 2)` at line 97, then `panic!` at line 99.
const PANICKY: &str = "E_01M86G6PK39G1R9KFM2F4BW3T9";
/// wf.serial(1, 2): logs at lines 24 and 27, `ops::add` at 25 and 26.
const SERIAL: &str = "E_01M86G6PD8CH6MWG9CWFCJT438";

fn source() -> String {
    std::fs::read_to_string(shared().join("fixtures/obelisk/0.41.5/demo_workflow_v6_lib.rs")).unwrap()
}

/// A writable copy of the fixture database `version/demo.sqlite` in `dir`.
fn copy_db(dir: &Path, version: &str) -> PathBuf {
    let to = dir.join(format!("demo-{version}.sqlite"));
    std::fs::copy(shared().join(format!("fixtures/obelisk/{version}/demo.sqlite")), &to).unwrap();
    to
}

/// An app over `db`, with `dialogs`, showing the executions.
fn app_on(db: &Path, cache: &Path, dialogs: ScriptedDialogs) -> Harness<'static, App> {
    let mut opts = options(cache);
    opts.open = Some(db.display().to_string());
    opts.dialogs = Box::new(dialogs);
    let mut h = harness(opts);
    wait_for(&mut h, "executions", |a| a.executions.is_some());
    h
}

/// Open execution `id` and wait until its re-execution ended and its source files are read.
fn open_and_rerun(h: &mut Harness<'_, App>, id: &str) {
    h.get_by_label(id).click();
    wait_for(h, "the replay", |a| a.timetravel.is_some());
    wait_for(h, "the re-execution and its source", |a| {
        a.rerun.as_ref().is_some_and(|r| !r.running() && r.files_task.is_none() && !r.reports.is_empty())
    });
}

fn step(h: &Harness<'_, App>) -> usize {
    h.state().timetravel.as_ref().unwrap().current().step
}

fn press(h: &mut Harness<'_, App>, key: Key) {
    h.key_press(key);
    h.run_steps(3);
}

/// The pane's header names `src/lib.rs:line` and shows that line of the source.
fn shows_line(h: &Harness<'_, App>, line: u32) {
    h.get_by_label(&format!("src/lib.rs:{line}"));
    let text = source().lines().nth(line as usize - 1).unwrap().trim().to_owned();
    assert!(h.query_all_by_label(&text).next().is_some(), "line {line} `{text}` is shown");
    let scrolled = h.state().rerun.as_ref().unwrap().scrolled_to.clone();
    assert_eq!(scrolled.map(|(_, l)| l), Some(line), "the code view scrolled to line {line}");
}

#[test]
fn the_source_line_follows_the_cursor_and_a_trap_frame_jumps_to_its_line() {
    let dir = tempfile::tempdir().unwrap();
    let db = copy_db(dir.path(), "0.41.5");
    let mut h = app_on(&db, dir.path(), ScriptedDialogs::default());
    open_and_rerun(&mut h, PANICKY);

    // The report: it trapped where the log says it did, at the panic.
    let report = {
        let model = h.state().rerun.as_ref().unwrap();
        model.report(&PANICKY.parse().unwrap()).unwrap().clone().expect("re-executed")
    };
    assert!(report.consistent, "{report:?}");
    assert_eq!(report.outcome.as_str(), "trapped");
    h.get_by_label("trapped");

    // Step 0, the creation, is the engine's, not the code's.
    assert_eq!(step(&h), 0);
    h.get_by_label("not made by the workflow's code");

    // Stepping with the arrow key reaches the first event of `ops::add(1, 2)`: line 97.
    let mut lines = Vec::new();
    for _ in 0..report.total + 4 {
        press(&mut h, Key::ArrowRight);
        if let Some((_, l)) = h.state().rerun.as_ref().unwrap().scrolled_to.clone() {
            lines.push((step(&h), l));
        }
    }
    let first_97 = lines.iter().find(|(_, l)| *l == 97).expect("line 97 is shown while stepping");
    assert!(lines.iter().all(|(_, l)| *l == 97 || *l == 99), "{lines:?}");
    // Back to it with the left arrow: the header names line 97 and shows its text.
    while step(&h) > first_97.0 {
        press(&mut h, Key::ArrowLeft);
    }
    shows_line(&h, 97);

    // The last step is the trap: the panic at line 99.
    press(&mut h, Key::End);
    assert_eq!(step(&h), h.state().timetravel.as_ref().unwrap().len() - 1);
    shows_line(&h, 99);

    // The trap finding lists its frames; a click on the user-code frame pins its line.
    press(&mut h, Key::Home);
    assert_eq!(step(&h), 0);
    let frame = h.get_by_label_contains("src/lib.rs:99  ");
    frame.click();
    h.run_steps(3);
    assert_eq!(step(&h), h.state().timetravel.as_ref().unwrap().len() - 1, "the frame jumps to the last step");
    shows_line(&h, 99);
}

#[test]
fn the_inspector_shows_what_the_guest_received_and_its_log_so_far() {
    let dir = tempfile::tempdir().unwrap();
    let db = copy_db(dir.path(), "0.41.5");
    let mut h = app_on(&db, dir.path(), ScriptedDialogs::default());
    open_and_rerun(&mut h, SERIAL);
    let report = {
        let model = h.state().rerun.as_ref().unwrap();
        model.report(&SERIAL.parse().unwrap()).unwrap().clone().expect("re-executed")
    };
    assert!(report.consistent, "{report:?}");
    let total_logs = report.logs.len();
    assert_eq!(total_logs, 2, "{:?}", report.logs);

    // Before any call of the code, none of its two log lines is written.
    h.get_by_label(&format!("Guest log up to here (0 of {total_logs})"));

    // Walk every step: the lines shown are the code's (24-27, in order), the log grows to both
    // lines, and the join-next values the guest received are the activity results 3 and 4.
    let mut seen_lines = Vec::new();
    let mut received = Vec::new();
    let len = h.state().timetravel.as_ref().unwrap().len();
    for _ in 1..len {
        press(&mut h, Key::ArrowRight);
        if let Some((_, l)) = h.state().rerun.as_ref().unwrap().scrolled_to.clone()
            && seen_lines.last() != Some(&l)
        {
            seen_lines.push(l);
        }
        if h.query_all_by_label_contains("the guest received").next().is_some() {
            let s = step(&h);
            let tt = h.state().timetravel.as_ref().unwrap();
            let version = tt.rows()[s].version.unwrap();
            let value = report.steps.iter().find(|x| x.version == version).unwrap().received.clone().unwrap();
            // The tree shows the response: the child that finished.
            let child = value["child_execution_id"].to_string();
            assert!(h.query_all_by_label(&child).next().is_some(), "{child} is shown at step {s}");
            received.push(value["result"]["ok"]["value"].clone());
        }
    }
    assert_eq!(step(&h), len - 1);
    assert_eq!(seen_lines.first(), Some(&25), "{seen_lines:?}");
    assert!(
        seen_lines.windows(2).all(|w| w[0] < w[1]) && seen_lines.iter().all(|l| (25..=27).contains(l)),
        "{seen_lines:?}"
    );
    h.get_by_label(&format!("Guest log up to here ({total_logs} of {total_logs})"));
    assert_eq!(received, [serde_json::json!(3), serde_json::json!(4)], "ops.add(1, 2) = 3, then ops.add(3, 1) = 4");

    // The log lines are links to their source lines.
    h.get_by_label(&format!("Guest log up to here ({total_logs} of {total_logs})")).click();
    h.run_steps(3);
    h.get_by_label_contains("serial(1,2) start").click();
    h.run_steps(3);
    shows_line(&h, 24);
}

#[test]
fn a_source_folder_replaces_the_stored_source() {
    let dir = tempfile::tempdir().unwrap();
    let db = copy_db(dir.path(), "0.41.5");
    // A checkout of the workflow whose line 97 differs from the stored one.
    let checkout = dir.path().join("checkout");
    std::fs::create_dir_all(checkout.join("src")).unwrap();
    let mut lines: Vec<String> = source().lines().map(str::to_owned).collect();
    lines[96] = "        let x = ops::add(1, 2)?; // from the checkout".into();
    std::fs::write(checkout.join("src/lib.rs"), lines.join("\n")).unwrap();
    let dialogs = ScriptedDialogs::default().with(DialogPurpose::SourceFolder, &checkout);
    let mut h = app_on(&db, dir.path(), dialogs);
    open_and_rerun(&mut h, PANICKY);
    while h.state().rerun.as_ref().unwrap().scrolled_to.as_ref().is_none_or(|(_, l)| *l != 97) {
        press(&mut h, Key::ArrowRight);
    }
    h.get_by_label("let x = ops::add(1, 2)?;");

    h.get_by_label("Source folder…").click();
    wait_for(&mut h, "the checkout's source", |a| a.rerun.as_ref().is_some_and(|r| r.files_task.is_none()));
    h.get_by_label(&format!("source from {}", checkout.display()));
    h.get_by_label("let x = ops::add(1, 2)?; // from the checkout");
}

#[test]
fn a_database_without_stored_components_says_so_and_the_fold_view_works() {
    let dir = tempfile::tempdir().unwrap();
    let db = copy_db(dir.path(), "0.38.3");
    let mut h = app_on(&db, dir.path(), ScriptedDialogs::default());
    let id = {
        let ex = h.state().executions.as_ref().unwrap();
        let row = ex
            .all()
            .iter()
            .find(|e| e.ffqn.to_string().contains("wf.serial") || e.ffqn.to_string().ends_with(".serial"));
        row.expect("a serial workflow execution").id.to_string()
    };
    open_and_rerun(&mut h, &id);
    let err = {
        let model = h.state().rerun.as_ref().unwrap();
        model.report(&id.parse().unwrap()).unwrap().clone().expect_err("no component")
    };
    assert!(err.contains("predates"), "{err}");
    h.get_by_label_contains("predates");
    // The fold view still steps.
    press(&mut h, Key::ArrowRight);
    assert_eq!(step(&h), 1);
    h.get_by_label_contains("Step 1 /");
}

#[test]
fn a_blocked_execution_shows_what_it_waits_for_as_not_in_the_log() {
    // wf.wait-for-human: blocked at its join set, waiting for the approval stub.
    const WAITING: &str = "E_01M86G6XPHN1SMYRMJX3CK1RDJ";
    let dir = tempfile::tempdir().unwrap();
    let db = copy_db(dir.path(), "0.41.5");
    let mut h = app_on(&db, dir.path(), ScriptedDialogs::default());
    open_and_rerun(&mut h, WAITING);
    let blocked = {
        let model = h.state().rerun.as_ref().unwrap();
        let report = model.report(&WAITING.parse().unwrap()).unwrap().clone().expect("re-executed");
        assert!(report.consistent);
        report.blocked.expect("blocked")
    };
    assert_eq!(blocked.waiting_for, [format!("{WAITING}.o:1-approve_1")]);
    h.get_by_label(&format!(
        "blocked at v{} in {}: waits for {} (not in the log)",
        blocked.version, blocked.join_set_id, blocked.waiting_for[0]
    ));
    // Its last step shows the line that waits: the call of the approval stub.
    press(&mut h, Key::End);
    shows_line(&h, 92);
    // The outcome in the status line, and as the header's note for the line.
    assert_eq!(h.query_all_by_label("blocked").count(), 2);
}

#[test]
fn a_running_re_execution_shows_progress_and_cancels() {
    let dir = tempfile::tempdir().unwrap();
    let db = copy_db(dir.path(), "0.41.5");
    let gate = Gate::new();
    let mut opts = options(dir.path());
    opts.open = Some(db.display().to_string());
    opts.rerun_gate = Some(gate.clone());
    let mut h = harness(opts);
    wait_for(&mut h, "executions", |a| a.executions.is_some());
    h.get_by_label(PANICKY).click();
    wait_for_unsettled(&mut h, "the replay", |a| a.timetravel.is_some());
    // Held at the gate: running, with progress and a Cancel button; the fold view still steps.
    assert!(h.state().rerun.as_ref().unwrap().running());
    h.get_by_label("re-executing 1 of 1");
    press(&mut h, Key::ArrowRight);
    assert_eq!(step(&h), 1);
    h.get_by_label("Cancel").click();
    wait_for_unsettled(&mut h, "the cancelled job", |a| a.rerun.as_ref().is_some_and(|r| !r.running()));
    h.get_by_label("cancelled");
    assert!(h.state().rerun.as_ref().unwrap().report(&PANICKY.parse().unwrap()).is_none_or(|r| r.is_err()));

    // Re-execute, with the gate open this time: the report arrives.
    gate.open();
    h.get_by_label("Re-execute").click();
    wait_for(&mut h, "the report", |a| {
        a.rerun.as_ref().is_some_and(|r| r.report(&PANICKY.parse().unwrap()).is_some_and(|r| r.is_ok()))
    });
    h.get_by_label("trapped");
}
