//! A plain SQLite database (Obelisk's own, not a replica) opened directly: through *File › Open
//! database…* (the scripted dialog answers with the 0.38.3 fixture), by dropping a `.sqlite` file
//! on the window (the 0.41.5 fixture), and again from *File › Recent files*; each opens straight
//! into its executions.

use std::path::Path;
use std::sync::Arc;

use chronoscope::obelisk::{ExecutionFilter, ObeliskDb};
use chronoscope::ui::dialogs::{DialogPurpose, ScriptedDialogs};
use chronoscope::ui::{App, Screen};
use egui_kittest::Harness;
use egui_kittest::kittest::Queryable;

use super::kit::{click_menu, harness, options, wait_for};
use crate::restore_fixtures::fixtures;

/// A file dropped on the window.
#[derive(Debug)]
struct Dropped(std::path::PathBuf);

impl egui::DroppedFile for Dropped {
    fn path(&self) -> &Path {
        &self.0
    }
    fn bytes(&self) -> Result<Vec<u8>, String> {
        std::fs::read(&self.0).map_err(|e| e.to_string())
    }
}

/// Wait for the executions of `path` and check the table lists them all (as the core reads them).
fn executions_of(h: &mut Harness<'_, App>, path: &Path) {
    wait_for(h, "executions", |a| a.executions.as_ref().is_some_and(|e| e.db_path == path));
    let expected = ObeliskDb::open(path).unwrap().list_executions(&ExecutionFilter::default()).unwrap();
    assert!(expected.len() > 30, "{}", expected.len());
    let state = h.state();
    assert_eq!(state.screen, Screen::Executions);
    let ex = state.executions.as_ref().unwrap();
    assert_eq!(ex.all().len(), expected.len());
    let name = path.file_name().unwrap().to_string_lossy();
    assert_eq!(state.breadcrumb_text(), format!("{name} › file"));
    h.get_by_label_contains(&format!(" shown of {}", expected.len()));
    // The newest top-level execution is the first row.
    let newest = expected.iter().filter(|e| e.id.parent().is_none()).map(|e| e.id.to_string()).max().unwrap();
    let first = ex.get(ex.view()[0].index).id.to_string();
    assert_eq!(first, newest);
    h.get_by_label(&newest);
}

#[test]
fn sqlite_files_open_from_the_menu_by_dropping_and_from_recent_files() {
    let menu_db = fixtures().join("obelisk/0.38.3/demo.sqlite");
    let dir = tempfile::tempdir().unwrap();
    let dropped_db = dir.path().join("tenant.sqlite");
    std::fs::copy(fixtures().join("obelisk/0.41.5/demo.sqlite"), &dropped_db).unwrap();
    let cache = tempfile::tempdir().unwrap();
    let mut opts = options(cache.path());
    opts.dialogs = Box::new(ScriptedDialogs::default().with(DialogPurpose::OpenDatabase, &menu_db));
    let mut h = harness(opts);
    wait_for(&mut h, "demo tenants", |a| a.tenants.loading.is_none());

    // File › Open database…
    click_menu(&mut h, "File", "Open database…");
    executions_of(&mut h, &menu_db);
    assert_eq!(h.state().settings.recent_files, std::slice::from_ref(&menu_db));

    // A .sqlite file dropped on the window.
    h.input_mut().dropped_files.push(Arc::new(Dropped(dropped_db.clone())));
    executions_of(&mut h, &dropped_db);
    assert_eq!(h.state().opened.as_ref().unwrap().path, dropped_db);
    assert_eq!(h.state().settings.recent_files.len(), 2);
    assert!(h.state().settings.recent_files.contains(&dropped_db));
    assert!(cache.path().read_dir().unwrap().next().is_none(), "nothing restored into the cache");

    // File › Recent files › the first database.
    click_menu(&mut h, "File", "Recent files");
    h.run_steps(2);
    h.get_by_label(&menu_db.display().to_string()).click();
    executions_of(&mut h, &menu_db);
}
