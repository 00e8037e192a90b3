//! Failed restores in the app: two damaged copies of tenant-alpha (a flipped byte in the last LTX
//! file of the latest plan; a level-0-only replica missing a file in the middle). Each restore
//! fails with the reason in words, naming the object, and leaves nothing in the cache folder; an
//! intact point below the gap still restores.

use chronoscope::ui::Screen;
use egui_kittest::Harness;
use egui_kittest::kittest::Queryable;

use chronoscope::ui::App;

use super::kit::{harness, options, type_into, wait_for, wait_for_restored};
use crate::restore_fixtures::{copy_dir, fixtures};
use crate::support::cli::{chronoscope, stdout_json};

/// Restore the latest point of `tenant` and wait for the failure; returns the error shown.
fn restore_latest_fails(h: &mut Harness<'_, App>, tenant: &str) -> String {
    h.get_by_label(tenant).click();
    wait_for(h, "restore points", |a| {
        a.tenants.selected_row().is_some_and(|r| r.name == tenant) && matches!(a.restore.catalog, Some(Ok(_)))
    });
    h.get_by_label("Restore latest").click();
    wait_for(h, "the restore to fail", |a| a.restore.running.is_none() && a.restore.error.is_some());
    assert_eq!(h.state().screen, Screen::Fleet);
    assert!(h.state().executions.is_none() && h.state().opened.is_none());
    let error = h.state().restore.error.clone().unwrap();
    h.get_by_label(&format!("Restore failed: {error}"));
    error
}

/// Everything in `dir`, files and folders.
fn entries(dir: &std::path::Path) -> Vec<String> {
    std::fs::read_dir(dir).unwrap().flatten().map(|e| e.file_name().to_string_lossy().into_owned()).collect()
}

#[test]
fn damaged_replicas_fail_in_words_and_leave_nothing_in_the_cache() {
    let tmp = tempfile::tempdir().unwrap();
    let fleet = tmp.path().join("fleet");
    // A flipped byte in the WAL salt (covered by the file checksum only) of the newest file.
    let flipped = fleet.join("alpha-flipped");
    copy_dir(&fixtures().join("fleet/v0.5/tenant-alpha"), &flipped);
    let plan = stdout_json(&chronoscope([
        "restore",
        flipped.to_str().unwrap(),
        "-o",
        "/nonexistent/x",
        "--dry-run",
        "--json",
    ]));
    let key = plan["files"].as_array().unwrap().last().unwrap()["key"].as_str().unwrap().to_owned();
    let mut bytes = std::fs::read(flipped.join(&key)).unwrap();
    bytes[64] ^= 0x55;
    std::fs::write(flipped.join(&key), bytes).unwrap();
    // Level 0 only, without the file of TXID 0x10.
    let gap = fleet.join("alpha-gap");
    std::fs::create_dir_all(gap.join("ltx")).unwrap();
    copy_dir(&fixtures().join("fleet/v0.5/tenant-alpha/ltx/0"), &gap.join("ltx/0"));
    std::fs::remove_file(gap.join("ltx/0/0000000000000010-0000000000000010.ltx")).unwrap();

    let cache = tempfile::tempdir().unwrap();
    let mut opts = options(cache.path());
    opts.open = Some(fleet.display().to_string());
    let mut h = harness(opts);
    wait_for(&mut h, "tenants", |a| a.tenants.loading.is_none() && a.tenants.rows().len() == 2);

    let error = restore_latest_fails(&mut h, "alpha-flipped");
    assert!(error.contains(&key) && error.contains("checksum mismatch"), "{error}");
    assert_eq!(entries(cache.path()), Vec::<String>::new(), "nothing half-written");

    let error = restore_latest_fails(&mut h, "alpha-gap");
    assert!(error.contains("non-contiguous"), "{error}");
    assert!(error.contains("000000000000000f") && error.contains("0000000000000011"), "{error}");
    assert_eq!(entries(cache.path()), Vec::<String>::new(), "nothing half-written");

    // Below the gap the chain is intact: TXID 0xf restores and opens.
    type_into(&mut h, "TXID", "f");
    h.get_by_label("Restore TXID").click();
    let n = wait_for_restored(&mut h, "alpha-gap", "TXID 000000000000000f");
    assert!(n > 0);
    assert_eq!(entries(cache.path()).len(), 1, "{:?}", entries(cache.path()));
}
