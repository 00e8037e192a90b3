//! Shared set-up: an app over the bundled demo with a temp restore cache, a fixed clock and
//! scripted dialogs, and bounded waits for background results.

use std::path::Path;
use std::time::{Duration, Instant};

use chronoscope::ui::dialogs::ScriptedDialogs;
use chronoscope::ui::settings::Settings;
use chronoscope::ui::{App, AppOptions};
use egui_kittest::Harness;
use egui_kittest::kittest::Queryable;

use crate::support::repo;

/// The fixed "now" of every UI test (ages in screenshots do not change).
pub fn now() -> chrono::DateTime<chrono::Utc> {
    "2026-11-24T12:00:00Z".parse().expect("a time")
}

/// Options for an app over the bundled demo, restoring into `cache`.
pub fn options(cache: &Path) -> AppOptions {
    AppOptions {
        open: None,
        demo_dir: repo().join("assets/demo"),
        cache_dir: cache.to_path_buf(),
        component_cache: crate::support::component_cache(),
        dialogs: Box::new(ScriptedDialogs::default()),
        settings: Some(Settings::default()),
        now: Some(now()),
        restore_gate: None,
        rerun_gate: None,
        s3_credentials: None,
    }
}

/// A harness running the real app (1x scale, 1400×900).
pub fn harness(options: AppOptions) -> Harness<'static, App> {
    Harness::builder()
        .with_size([1400.0, 900.0])
        .with_pixels_per_point(1.0)
        .with_max_steps(1000)
        .build_eframe(move |cc| App::new(cc, options))
}

/// Step frames until `ready(app)` holds and no re-execution runs in the background (its end
/// changes the layout: tests click what they see after it); panics after 60 s with the app's
/// last message.
pub fn wait_for(h: &mut Harness<'_, App>, what: &str, ready: impl Fn(&App) -> bool) {
    wait_for_unsettled(h, what, |a| {
        ready(a) && a.rerun.as_ref().is_none_or(|r| !r.running() && r.files_task.is_none())
    });
}

/// [`wait_for`] without waiting for the background re-execution (for tests that hold it).
pub fn wait_for_unsettled(h: &mut Harness<'_, App>, what: &str, ready: impl Fn(&App) -> bool) {
    let start = Instant::now();
    loop {
        h.step();
        if ready(h.state()) {
            // Let the views lay out what arrived.
            h.run_steps(3);
            return;
        }
        if start.elapsed() > Duration::from_secs(60) {
            let state = h.state();
            panic!(
                "timed out waiting for {what}; message: {:?}, tenants error: {:?}, restore error: {:?}",
                state.message, state.tenants.error, state.restore.error
            );
        }
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// Wait for the demo fleet's tenants, select `tenant` and wait for its restore points.
pub fn select_tenant(h: &mut Harness<'_, App>, tenant: &str) {
    wait_for(h, "tenants", |a| a.tenants.loading.is_none() && !a.tenants.rows().is_empty());
    use egui_kittest::kittest::Queryable;
    h.get_by_label(tenant).click();
    wait_for(h, "restore points", |a| matches!(a.restore.catalog, Some(Ok(_))));
}

/// Type `text` into the field labelled `label` (replacing what it held), then leave the field.
/// Opens the menu `menu` and clicks its entry `item`.
pub fn click_menu(h: &mut Harness<'_, App>, menu: &str, item: &str) {
    h.get_by_label(menu).click();
    h.run_steps(2);
    h.get_by_label(item).click();
}

pub fn type_into(h: &mut Harness<'_, App>, label: &str, text: &str) {
    use egui_kittest::kittest::Queryable;
    h.get_by_label(label).focus();
    h.run_steps(1);
    h.key_press_modifiers(egui::Modifiers::COMMAND, egui::Key::A);
    h.key_press(egui::Key::Backspace);
    h.get_by_label(label).type_text(text);
    h.run_steps(2);
    h.key_press(egui::Key::Escape);
    h.run_steps(2);
}

/// Wait until the database of `tenant` restored at `point` (as the breadcrumb names it) is open
/// on the executions screen with its executions listed; returns how many there are, after
/// checking the table says so.
pub fn wait_for_restored(h: &mut Harness<'_, App>, tenant: &str, point: &str) -> usize {
    use egui_kittest::kittest::Queryable;
    wait_for(h, point, |a| a.executions.is_some() && a.opened.as_ref().is_some_and(|o| o.point == point));
    assert_eq!(h.state().screen, chronoscope::ui::Screen::Executions);
    assert_eq!(h.state().breadcrumb_text(), format!("{tenant} › {point}"));
    h.get_by_label(tenant);
    h.get_by_label(point);
    let n = h.state().executions.as_ref().unwrap().all().len();
    assert!(h.query_all_by_label_contains(&format!(" shown of {n}")).next().is_some(), "the table counts {n}");
    n
}

/// The restored databases directly in `dir` (not their manifests and lock files).
pub fn databases_in(dir: &Path) -> Vec<String> {
    files_in(dir).into_iter().filter(|f| f.ends_with(".db")).collect()
}

/// Files (not folders) directly in `dir`.
pub fn files_in(dir: &Path) -> Vec<String> {
    std::fs::read_dir(dir)
        .map(|rd| {
            rd.flatten().filter(|e| e.path().is_file()).map(|e| e.file_name().to_string_lossy().into_owned()).collect()
        })
        .unwrap_or_default()
}
