//! Restore points of a v0.5 demo tenant: a restore at a typed TXID and one at a typed time, each
//! opened on its executions (the counts the fixture's timeline and the CLI give), with the
//! restore point named in the breadcrumb.

use chronoscope::ui::Screen;
use egui_kittest::kittest::{NodeT, Queryable};

use super::kit::{files_in, harness, options, select_tenant, type_into, wait_for_restored};

#[test]
fn v05_tenant_restores_at_a_typed_txid_and_at_a_typed_time() {
    let cache = tempfile::tempdir().unwrap();
    let mut h = harness(options(cache.path()));
    select_tenant(&mut h, "tenant-alpha");
    h.get_by_label_contains("level 0: 47 files");

    // A TXID: not hexadecimal first (the button stays disabled), then 0x1a.
    type_into(&mut h, "TXID", "xyz");
    assert!(h.get_by_label("Restore TXID").accesskit_node().is_disabled());
    type_into(&mut h, "TXID", "1a");
    assert_eq!(h.state().restore.txid, "1a");
    h.get_by_label("Restore TXID").click();
    let n = wait_for_restored(&mut h, "tenant-alpha", "TXID 000000000000001a");
    assert_eq!(n, 39, "executions at TXID 0x1a (`chronoscope restore --txid 1a`)");
    assert_eq!(
        h.state().message.as_ref().map(|m| m.text.as_str()),
        Some("tenant-alpha (TXID 000000000000001a) restored into the cache")
    );

    // Back through the breadcrumb; a time: the fixture's timeline recorded 24 executions then.
    h.get_by_label("tenant-alpha").click();
    h.run_steps(3);
    assert_eq!(h.state().screen, Screen::Fleet);
    type_into(&mut h, "Time", "24 Nov, 9:51");
    assert!(h.get_by_label("Restore at time").accesskit_node().is_disabled(), "not RFC 3339");
    type_into(&mut h, "Time", "2026-11-24T09:51:17.908Z");
    h.get_by_label("Restore at time").click();
    let n = wait_for_restored(&mut h, "tenant-alpha", "at 2026-11-24T09:51:17.908Z");
    assert_eq!(n, 24, "executions at 09:51:17.908 (tenant-alpha.timeline.jsonl)");
    let cached = files_in(cache.path());
    assert_eq!(cached.len(), 2, "{cached:?}");
    assert!(cached.iter().any(|f| f.starts_with("tenant-alpha-txid-000000000000001a")), "{cached:?}");

    // The same TXID again opens the cached file instead of restoring it again.
    h.get_by_label("tenant-alpha").click();
    h.run_steps(3);
    type_into(&mut h, "TXID", "1a");
    h.get_by_label("Restore TXID").click();
    assert_eq!(wait_for_restored(&mut h, "tenant-alpha", "TXID 000000000000001a"), 39);
    assert_eq!(
        h.state().message.as_ref().map(|m| m.text.as_str()),
        Some("tenant-alpha (TXID 000000000000001a) opened from the cache")
    );
    assert_eq!(files_in(cache.path()).len(), 2);
}
