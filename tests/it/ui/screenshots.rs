//! PNG snapshots of the main screens, kept in `screenshots/` (shown in the README) and compared
//! on every run (`UPDATE_SNAPSHOTS=1` rewrites them).

use egui::Key;
use egui_kittest::SnapshotOptions;
use egui_kittest::kittest::Queryable;

use super::kit::{harness, options, select_tenant, wait_for};

const PARENT: &str = "E_01M86FEWCGVEWKA4MWX3D41J75";

fn snapshot_options() -> SnapshotOptions {
    SnapshotOptions::new().output_path(crate::support::repo().join("screenshots"))
}

#[test]
fn screenshots_of_the_main_screens() {
    let cache = tempfile::tempdir().unwrap();
    let mut h = harness(options(cache.path()));
    h.set_render_cursor(false);
    select_tenant(&mut h, "tenant-alpha");
    h.run_steps(2);
    h.snapshot_options("tenants-and-restore-points", &snapshot_options());

    h.get_by_label("Restore latest").click();
    wait_for(&mut h, "executions", |a| a.executions.is_some());
    let parent: chronoscope::obelisk::ExecutionId = PARENT.parse().unwrap();
    h.state_mut().executions.as_mut().unwrap().toggle(&parent);
    h.run_steps(2);
    h.snapshot_options("executions", &snapshot_options());

    h.get_by_label(PARENT).click();
    wait_for(&mut h, "the replay", |a| a.timetravel.is_some());
    // The bundled demo predates stored components: the source pane says so (once it tried).
    wait_for(&mut h, "the re-execution", |a| a.rerun.as_ref().is_some_and(|r| !r.running()));
    // The step where the child's result is received.
    let target = {
        let tt = h.state().timetravel.as_ref().unwrap();
        let node = tt.node().unwrap();
        node.children[0].span.as_ref().unwrap().received_step.unwrap()
    };
    while h.state().timetravel.as_ref().unwrap().current().step < target {
        h.key_press(Key::ArrowRight);
        h.run_steps(1);
    }
    h.run_steps(2);
    h.snapshot_options("time-travel", &snapshot_options());

    let child = format!("Result of {PARENT}.o:1-serial_1");
    h.get_by_label(&child).click();
    h.run_steps(3);
    h.snapshot_options("inspector-child-result", &snapshot_options());
}

/// The light theme, and 2x scale (rendered, checked for missing glyphs, not compared).
#[test]
fn light_theme_and_double_scale() {
    let cache = tempfile::tempdir().unwrap();
    let mut opts = options(cache.path());
    opts.settings = Some(chronoscope::ui::settings::Settings {
        theme: chronoscope::ui::theme::ThemeChoice::Light,
        ..Default::default()
    });
    let mut h = harness(opts);
    h.set_render_cursor(false);
    select_tenant(&mut h, "tenant-alpha");
    h.get_by_label("Restore latest").click();
    wait_for(&mut h, "executions", |a| a.executions.is_some());
    h.get_by_label(PARENT).click();
    wait_for(&mut h, "the replay", |a| a.timetravel.is_some());
    // The bundled demo predates stored components: the source pane says so (once it tried).
    wait_for(&mut h, "the re-execution", |a| a.rerun.as_ref().is_some_and(|r| !r.running()));
    for _ in 0..5 {
        h.key_press(Key::ArrowRight);
    }
    h.run_steps(3);
    h.snapshot_options("time-travel-light", &snapshot_options());

    // The same database at 2x (the cached restore opened as a file).
    let mut opts = options(cache.path());
    opts.open = Some(h.state().opened.as_ref().unwrap().path.display().to_string());
    drop(h);
    let mut h = egui_kittest::Harness::builder()
        .with_size([1400.0, 900.0])
        .with_pixels_per_point(2.0)
        .build_eframe(move |cc| chronoscope::ui::App::new(cc, opts));
    wait_for(&mut h, "executions", |a| a.executions.is_some());
    h.get_by_label(PARENT).click();
    wait_for(&mut h, "the replay", |a| a.timetravel.is_some());
    // The bundled demo predates stored components: the source pane says so (once it tried).
    wait_for(&mut h, "the re-execution", |a| a.rerun.as_ref().is_some_and(|r| !r.running()));
    h.key_press(Key::End);
    h.run_steps(3);
    let image = h.render().expect("a 2x frame");
    assert_eq!((image.width(), image.height()), (2800, 1800));
    h.get_by_label_contains("Step 9 / 9");
}

/// The source pane on the real 0.41.5 demo: wf.serial at its first join-next (the guest
/// receives the first activity's result), and wf.panicky at its trap.
#[test]
fn screenshot_of_the_source_pane() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("demo-0.41.5.sqlite");
    std::fs::copy(crate::support::fixtures::shared().join("fixtures/obelisk/0.41.5/demo.sqlite"), &db).unwrap();
    let mut results = egui_kittest::SnapshotResults::default();
    for (id, version, name) in [
        ("E_01M86G6PD8CH6MWG9CWFCJT438", Some(4), "source-pane"),
        ("E_01M86G6PK39G1R9KFM2F4BW3T9", None, "source-pane-trap"),
    ] {
        let mut opts = options(dir.path());
        opts.open = Some(db.display().to_string());
        let mut h = harness(opts);
        h.set_render_cursor(false);
        wait_for(&mut h, "executions", |a| a.executions.is_some());
        h.get_by_label(id).click();
        wait_for(&mut h, "the replay", |a| a.timetravel.is_some());
        wait_for(&mut h, "the re-execution and its source", |a| {
            a.rerun.as_ref().is_some_and(|r| !r.running() && r.files_task.is_none() && !r.files.is_empty())
        });
        let target = {
            let tt = h.state().timetravel.as_ref().unwrap();
            match version {
                Some(v) => tt.rows().iter().position(|r| r.version == Some(v)).unwrap(),
                None => tt.len() - 1,
            }
        };
        while h.state().timetravel.as_ref().unwrap().current().step < target {
            h.key_press(Key::ArrowRight);
            h.run_steps(1);
        }
        h.run_steps(3);
        h.snapshot_options(name, &snapshot_options());
        results.extend_harness(&mut h);
    }
}

/// The upgrade check of our changed `wf.sleepy` over the fleet folder of `upgrade_check`, and
/// the nondeterministic execution it opens in time travel.
#[test]
fn screenshot_of_the_upgrade_check() {
    use chronoscope::ui::dialogs::{DialogPurpose, ScriptedDialogs};
    let f = crate::upgrade_check::fleet();
    let cache = tempfile::tempdir().unwrap();
    let mut opts = options(cache.path());
    opts.open = Some(f.root.display().to_string());
    let candidate = crate::support::components::sleepy_variant();
    opts.dialogs = Box::new(ScriptedDialogs::default().with(DialogPurpose::UpgradeComponent, candidate));
    let mut h = harness(opts);
    h.set_render_cursor(false);
    wait_for(&mut h, "tenants", |a| a.tenants.loading.is_none() && a.tenants.rows().len() == 4);
    h.get_by_label("Upgrade check…").click();
    wait_for(&mut h, "the verdicts", |a| a.upgrade.as_ref().is_some_and(|u| !u.running()));
    h.run_steps(2);
    h.snapshot_options("upgrade-check", &snapshot_options());
    h.get_all_by_label(crate::upgrade_check::DEMO_SLEEPY).nth(1).unwrap().click();
    wait_for(&mut h, "the execution", |a| {
        a.timetravel.is_some() && a.rerun.as_ref().is_some_and(|r| !r.reports.is_empty())
    });
    h.run_steps(3);
    h.snapshot_options("upgrade-nondeterminism", &snapshot_options());
}

/// The Fleet screen over the fixture fleet folder (tenants alpha, beta and zeta), scanned, with a
/// search for error words.
#[test]
fn screenshot_of_the_fleet_screen() {
    let cache = tempfile::tempdir().unwrap();
    let mut opts = options(cache.path());
    opts.open = Some(crate::restore_fixtures::fixtures().join("fleet/v0.5").display().to_string());
    let mut h = harness(opts);
    h.set_render_cursor(false);
    wait_for(&mut h, "tenants", |a| a.tenants.loading.is_none() && a.tenants.rows().len() == 3);
    h.get_by_label("Fleet").click();
    h.run_steps(2);
    h.get_by_label("Scan").click();
    wait_for(&mut h, "the scan", |a| a.fleet.as_ref().is_some_and(|f| f.task.is_none() && f.counts.len() == 3));
    super::kit::type_into(&mut h, "Error words", "boom OR unreachable OR timed_out");
    h.get_by_label("Search").click();
    wait_for(&mut h, "the hits", |a| a.fleet.as_ref().is_some_and(|f| f.task.is_none() && !f.hits.is_empty()));
    h.run_steps(2);
    h.snapshot_options("fleet", &snapshot_options());
}
