//! The executions table of a restored demo tenant: `/` focuses the ID filter, the State combo box
//! and the "Function prefix" field narrow the rows exactly as the core's SQL filter does; then a
//! long execution is opened and PageUp/PageDown move 20 steps (clamped at the ends).

use std::collections::BTreeSet;

use chronoscope::obelisk::{ExecutionFilter, ObeliskDb, StatusFilter};
use chronoscope::ui::{App, Screen};
use egui::Key;
use egui::accesskit::Role;
use egui_kittest::Harness;
use egui_kittest::kittest::Queryable;

use super::kit::{harness, options, select_tenant, type_into, wait_for};

/// wf.concurrent with the most steps of tenant-alpha (21 events, and its responses).
const LONG: &str = "E_01M86FF3W40HSP91Y035GNSX55";

/// IDs of the rows the table shows.
fn shown(h: &Harness<'_, App>) -> BTreeSet<String> {
    let ex = h.state().executions.as_ref().unwrap();
    ex.view().iter().map(|r| ex.get(r.index).id.to_string()).collect()
}

/// IDs the core selects with `filter` in the open database.
fn core(h: &Harness<'_, App>, filter: ExecutionFilter) -> BTreeSet<String> {
    let db = ObeliskDb::open(&h.state().opened.as_ref().unwrap().path).unwrap();
    db.list_executions(&filter).unwrap().into_iter().map(|e| e.id.to_string()).collect()
}

/// Pick `state` in the State combo box.
fn pick_state(h: &mut Harness<'_, App>, state: &str) {
    h.get_by_role_and_label(Role::ComboBox, "State").click();
    h.run_steps(2);
    h.get_by_role_and_label(Role::Button, state).click();
    h.run_steps(3);
    assert_eq!(h.get_by_role_and_label(Role::ComboBox, "State").value().as_deref(), Some(state));
}

fn step(h: &Harness<'_, App>) -> usize {
    h.state().timetravel.as_ref().unwrap().current().step
}

#[test]
fn state_and_function_filters_slash_and_page_keys() {
    let cache = tempfile::tempdir().unwrap();
    let mut h = harness(options(cache.path()));
    select_tenant(&mut h, "tenant-alpha");
    h.get_by_label("Restore latest").click();
    wait_for(&mut h, "executions", |a| a.executions.is_some());
    h.get_by_label("28 shown of 61");

    // `/` focuses the ID filter of the executions screen.
    assert!(!h.get_by_label("ID prefix").is_focused());
    h.key_press(Key::Slash);
    h.run_steps(2);
    assert!(h.get_by_label("ID prefix").is_focused());
    h.get_by_label("ID prefix").type_text(LONG);
    h.run_steps(2);
    assert_eq!(h.state().executions.as_ref().unwrap().filter().id, LONG);
    let family = core(&h, ExecutionFilter { id_prefix: Some(LONG.into()), ..Default::default() });
    assert_eq!(family.len(), 7, "the workflow and its 6 batch children: {family:?}");
    assert_eq!(shown(&h), family);
    type_into(&mut h, "ID prefix", "");
    h.get_by_label("28 shown of 61");

    // State: blocked (two workflows waiting on a join set).
    pick_state(&mut h, "blocked");
    let blocked = core(&h, ExecutionFilter { status: Some(StatusFilter::Blocked), ..Default::default() });
    assert_eq!(blocked.len(), 2);
    assert_eq!(shown(&h), blocked);
    h.get_by_label("2 shown of 61");
    for id in &blocked {
        h.get_by_label(id);
    }

    // State and function prefix together: the finished wf.concurrent runs.
    pick_state(&mut h, "finished");
    type_into(&mut h, "Function prefix", "demo:workflow/wf.conc");
    let filter = h.state().executions.as_ref().unwrap().filter().clone();
    assert_eq!((filter.status, filter.ffqn.as_str()), (Some(StatusFilter::Finished), "demo:workflow/wf.conc"));
    let expected = core(
        &h,
        ExecutionFilter {
            status: Some(StatusFilter::Finished),
            ffqn_prefix: Some("demo:workflow/wf.conc".into()),
            ..Default::default()
        },
    );
    assert!(expected.len() >= 4 && expected.contains(LONG), "{expected:?}");
    assert_eq!(shown(&h), expected);
    h.get_by_label(&format!("{} shown of 61", expected.len()));

    // Only the prefix: every activity, whatever its state.
    pick_state(&mut h, "any");
    type_into(&mut h, "Function prefix", "demo:activity/");
    let activities = core(&h, ExecutionFilter { ffqn_prefix: Some("demo:activity/".into()), ..Default::default() });
    assert_eq!(shown(&h), activities);
    assert!(activities.len() > 20, "{activities:?}");
    let ex = h.state().executions.as_ref().unwrap();
    assert!(ex.view().iter().all(|r| ex.get(r.index).ffqn.to_string().starts_with("demo:activity/")));

    // Back to the workflows; open the long one.
    type_into(&mut h, "Function prefix", "demo:workflow/wf.concurrent");
    h.get_by_label(LONG).click();
    wait_for(&mut h, "the replay", |a| a.timetravel.is_some());
    assert_eq!(h.state().screen, Screen::TimeTravel);
    let len = h.state().timetravel.as_ref().unwrap().len();
    assert!(len > 22, "{len} steps");

    // PageUp from the last step: 20 back, then clamped at the first; PageDown 20 forward.
    h.key_press(Key::End);
    h.run_steps(2);
    assert_eq!(step(&h), len - 1);
    h.key_press(Key::PageUp);
    h.run_steps(2);
    assert_eq!(step(&h), len - 1 - 20);
    h.get_by_label_contains(&format!("Step {} / {}", len - 21, len - 1));
    h.key_press(Key::PageUp);
    h.run_steps(2);
    assert_eq!(step(&h), 0);
    h.key_press(Key::PageDown);
    h.run_steps(2);
    assert_eq!(step(&h), 20);
    h.key_press(Key::PageDown);
    h.run_steps(2);
    assert_eq!(step(&h), len - 1);
}
