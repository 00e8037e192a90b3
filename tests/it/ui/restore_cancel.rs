//! Cancelling a running restore: the worker is held at its first progress report, Cancel is
//! clicked, and the cache is left without any file, with the reason shown in words.

use chronoscope::ui::options::Gate;
use egui_kittest::kittest::Queryable;

use super::kit::{databases_in, files_in, harness, options, select_tenant, wait_for};

#[test]
fn cancelled_restore_leaves_nothing() {
    let cache = tempfile::tempdir().unwrap();
    let mut opts = options(cache.path());
    let gate = Gate::new();
    opts.restore_gate = Some(gate.clone());
    let mut h = harness(opts);
    select_tenant(&mut h, "tenant-zeta");
    h.get_by_label("Restore latest").click();
    wait_for(&mut h, "the restore to start", |a| a.restore.running.is_some());
    h.get_by_label("Cancel").click();
    wait_for(&mut h, "the restore to stop", |a| a.restore.running.is_none());
    let error = h.state().restore.error.clone().unwrap_or_default();
    assert!(error.contains("cancel"), "{error}");
    h.get_by_label_contains("Restore failed:");
    assert!(h.state().executions.is_none());
    assert_eq!(files_in(cache.path()), Vec::<String>::new());
    let leftovers: Vec<_> = std::fs::read_dir(cache.path()).unwrap().flatten().map(|e| e.path()).collect();
    assert!(leftovers.is_empty(), "nothing half-written: {leftovers:?}");

    // The same restore, not held, succeeds afterwards.
    gate.open();
    h.get_by_label("Restore latest").click();
    wait_for(&mut h, "executions", |a| a.executions.is_some());
    assert_eq!(databases_in(cache.path()).len(), 1);
}
