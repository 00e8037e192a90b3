//! The whole flow on the bundled demo: tenants listed, a tenant restored in the background,
//! executions listed, an execution opened and stepped through with keys, a child stepped into
//! and out of, the filter focused with `/`, the execution exported as JSON and the database
//! saved (dialogs answered with temp paths).

use chronoscope::ui::Screen;
use chronoscope::ui::dialogs::{DialogPurpose, ScriptedDialogs};
use egui::Key;
use egui_kittest::kittest::Queryable;

use super::kit::{click_menu, databases_in, files_in, harness, options, select_tenant, wait_for};

const PARENT: &str = "E_01M86FEWCGVEWKA4MWX3D41J75";
const CHILD: &str = "E_01M86FEWCGVEWKA4MWX3D41J75.o:1-serial_1";

#[test]
fn demo_restore_open_step_into_child_and_export() {
    let cache = tempfile::tempdir().unwrap();
    let out = tempfile::tempdir().unwrap();
    let json = out.path().join("parent.json");
    let saved_db = out.path().join("alpha.db");
    let mut opts = options(cache.path());
    opts.dialogs = Box::new(
        ScriptedDialogs::default()
            .with(DialogPurpose::ExportExecution, &json)
            .with(DialogPurpose::ExportDatabase, &saved_db),
    );
    let mut h = harness(opts);

    // Tenants of the demo fleet, listed in the background.
    wait_for(&mut h, "tenants", |a| a.tenants.loading.is_none() && !a.tenants.rows().is_empty());
    let names: Vec<_> = h.state().tenants.rows().iter().map(|r| r.name.clone()).collect();
    assert_eq!(names, ["tenant-alpha", "tenant-zeta"]);
    h.get_by_label("tenant-zeta");
    assert_eq!(h.get_all_by_label("v0.5").count(), 2);
    h.get_by_label_contains("TXID 000000000000002f");

    // Restore points, then a restore of the latest point into the temp cache.
    select_tenant(&mut h, "tenant-alpha");
    h.get_by_label("Restore latest").click();
    wait_for(&mut h, "executions", |a| a.executions.is_some());
    assert_eq!(h.state().screen, Screen::Executions);
    let restored = databases_in(cache.path());
    assert_eq!(restored.len(), 1, "one restored database in the cache: {restored:?}");
    assert!(restored[0].starts_with("tenant-alpha-latest-"), "{restored:?}");
    let manifest = chronoscope::litestream::cache::manifest::Manifest::load(&cache.path().join(&restored[0])).unwrap();
    assert_eq!(manifest.point.describe(), "TXID 000000000000002f");
    let ex = h.state().executions.as_ref().unwrap();
    assert_eq!(ex.all().len(), 61);
    assert_eq!(ex.view().len(), 28, "children folded under their parents");
    h.get_by_label("28 shown of 61");
    assert_eq!(h.state().breadcrumb_text(), "tenant-alpha › latest");

    // Filters: state and ID prefix narrow the cached view.
    h.get_by_label("ID prefix").focus();
    h.get_by_label("ID prefix").type_text("E_01M86FEWCG");
    h.run_steps(2);
    let shown = h.state().executions.as_ref().unwrap().view().len();
    assert_eq!(shown, 6, "E_01M86FEWCG… prefix: the parent, its 3 descendants and 2 other executions");
    h.key_press(Key::Escape);
    h.get_by_label("ID prefix").focus();
    h.key_press_modifiers(egui::Modifiers::COMMAND, Key::A);
    h.key_press(Key::Backspace);
    h.key_press(Key::Escape);
    h.run_steps(2);
    assert_eq!(h.state().executions.as_ref().unwrap().view().len(), 28);

    // Open the parent workflow in time travel.
    h.get_by_label(PARENT).click();
    wait_for(&mut h, "the replay", |a| a.timetravel.is_some());
    assert_eq!(h.state().screen, Screen::TimeTravel);
    let len = h.state().timetravel.as_ref().unwrap().len();
    assert!(len >= 9, "9 events and responses: {len}");
    h.get_by_label_contains("Step 0 /");
    h.get_by_label("Pending state");

    // Keys: Right/j forward, Left/k back, End/Home, PageDown.
    for key in [Key::ArrowRight, Key::ArrowRight, Key::J] {
        h.key_press(key);
    }
    h.run_steps(2);
    assert_eq!(step(&h), 3);
    h.key_press(Key::K);
    h.key_press(Key::ArrowLeft);
    h.run_steps(2);
    assert_eq!(step(&h), 1);
    h.key_press(Key::End);
    h.run_steps(2);
    assert_eq!(step(&h), len - 1);
    h.get_by_label_contains(&format!("Step {} / {}", len - 1, len - 1));
    h.key_press(Key::Home);
    h.run_steps(2);
    assert_eq!(step(&h), 0);
    h.key_press(Key::PageDown);
    h.run_steps(2);
    assert_eq!(step(&h), (len - 1).min(20));
    h.key_press(Key::Home);
    h.run_steps(2);

    // Step to the child's request, Enter steps into it, Backspace back out.
    let mut guard = 0;
    while h.state().timetravel.as_ref().unwrap().child_at_cursor().is_none() {
        h.key_press(Key::ArrowRight);
        h.run_steps(1);
        guard += 1;
        assert!(guard < len, "no step of {PARENT} requests a child");
    }
    let parent_step = step(&h);
    h.get_by_label_contains(&format!("Step into {CHILD}"));
    h.key_press(Key::Enter);
    h.run_steps(2);
    let tt = h.state().timetravel.as_ref().unwrap();
    assert_eq!(tt.stack().len(), 2);
    assert_eq!(tt.current().id.to_string(), CHILD);
    assert!(h.state().breadcrumb_text().starts_with(&format!("tenant-alpha › latest › {PARENT} › {CHILD} › step ")));
    h.key_press(Key::End);
    h.run_steps(2);
    h.get_by_label("Return value");
    h.key_press(Key::Backspace);
    h.run_steps(2);
    let tt = h.state().timetravel.as_ref().unwrap();
    assert_eq!(tt.stack().len(), 1);
    assert_eq!(tt.current().id.to_string(), PARENT);
    assert!(step(&h) >= parent_step, "back at or after the request ({parent_step}): {}", step(&h));

    // `/` focuses the step filter; typing narrows the steps; stepping stays among matches.
    h.key_press(Key::Slash);
    h.run_steps(2);
    assert!(h.get_by_label("Filter steps").is_focused());
    h.get_by_label("Filter steps").type_text("join_next");
    h.key_press(Key::Escape);
    h.run_steps(2);
    let tt = h.state().timetravel.as_ref().unwrap();
    let view = tt.view().to_vec();
    assert!(!view.is_empty() && view.len() < len, "{view:?}");
    h.key_press(Key::Home);
    h.key_press(Key::ArrowRight);
    h.run_steps(2);
    assert_eq!(step(&h), view[1.min(view.len() - 1)]);

    // Export the execution tree as JSON and save the restored database.
    click_menu(&mut h, "File", "Export execution as JSON…");
    wait_for(&mut h, "the export", |a| !a.saved.is_empty());
    let doc: serde_json::Value = serde_json::from_slice(&std::fs::read(&json).unwrap()).unwrap();
    assert_eq!(doc["root"], PARENT);
    assert!(doc["executions"].as_array().unwrap().len() >= 4, "the parent and its descendants");
    click_menu(&mut h, "File", "Save restored database…");
    wait_for(&mut h, "the saved database", |a| a.saved.len() == 2);
    let head = std::fs::read(&saved_db).unwrap();
    assert!(head.starts_with(b"SQLite format 3\0"));
    assert_eq!(files_in(out.path()).len(), 2, "no temp files left: {:?}", files_in(out.path()));
}

fn step(h: &egui_kittest::Harness<'_, chronoscope::ui::App>) -> usize {
    h.state().timetravel.as_ref().unwrap().current().step
}
