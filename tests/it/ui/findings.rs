//! The replay engine's findings in the app: a database with damaged log rows, opened from the
//! command line; the findings panel lists them and a click jumps to the step.

use chronoscope::replay::FindingKind;
use chronoscope::ui::Screen;
use egui_kittest::kittest::Queryable;

use super::kit::{harness, options, wait_for};
use crate::replay::damaged_copy;

#[test]
fn findings_are_listed_and_a_click_jumps_to_the_step() {
    let dir = tempfile::tempdir().unwrap();
    let db = damaged_copy(dir.path());
    let cache = tempfile::tempdir().unwrap();
    let mut opts = options(cache.path());
    opts.open = Some(db.display().to_string());
    let mut h = harness(opts);
    wait_for(&mut h, "executions", |a| a.executions.is_some());

    // wf.concurrent: its `locked` (v1) and a `join_next_try` (v12) rows were damaged.
    h.get_by_label("E_01M86G6PE09WW43FVD6HR4HBJJ").click();
    wait_for(&mut h, "the replay", |a| a.timetravel.is_some());
    assert_eq!(h.state().screen, Screen::TimeTravel);
    let findings: Vec<(usize, u64)> = {
        let replay = h.state().timetravel.as_ref().unwrap().replay().expect("replayed");
        replay
            .findings()
            .iter()
            .filter(|f| f.kind == FindingKind::UndecodableEvent)
            .map(|f| (f.step.expect("a step"), f.version.expect("a version")))
            .collect()
    };
    assert_eq!(findings.iter().map(|f| f.1).collect::<Vec<_>>(), [1, 12], "{findings:?}");
    h.get_by_label_contains("Findings (");
    assert_eq!(h.state().timetravel.as_ref().unwrap().current().step, 0);

    // A click on the second finding moves the cursor to its step; the step's row is shown raw.
    let (step, _) = findings[1];
    let links: Vec<_> = h.get_all_by_label_contains("[undecodable_event]").collect();
    assert_eq!(links.len(), 2);
    links[1].click();
    h.run_steps(3);
    assert_eq!(h.state().timetravel.as_ref().unwrap().current().step, step);
    h.get_by_label_contains(&format!("Step {step} /"));
    assert!(h.query_all_by_label_contains("teleported").next().is_some(), "the undecoded row is shown");
}
