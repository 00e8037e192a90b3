//! A v0.3 tenant in the app (the fleet's tenant-gamma, replicated by real Litestream v0.3.13):
//! its generation is listed with its WAL indexes, and it is restored at a typed time, at a typed
//! WAL index of the generation, and as the generation's newest state; each restored database
//! opens on its executions (the counts the fixture's timeline and the CLI give).

use chronoscope::ui::Screen;
use egui_kittest::kittest::{NodeT, Queryable};

use super::kit::{files_in, harness, options, select_tenant, type_into, wait_for_restored};
use crate::restore_fixtures::{find_replica_root, fixtures};
use crate::support::fixtures::extract;

const GENERATION: &str = "f565a8e8a76b1ef1";

#[test]
fn v03_tenant_restores_at_a_time_and_at_a_wal_index() {
    let dir = extract(&fixtures().join("fleet/v0.3/tenant-gamma.replica.tar.gz"));
    let replica = find_replica_root(dir.path());
    let cache = tempfile::tempdir().unwrap();
    let mut opts = options(cache.path());
    opts.open = Some(replica.display().to_string());
    let mut h = harness(opts);
    select_tenant(&mut h, "tenant-gamma");
    h.get_by_label("v0.3");
    h.get_by_label("v0.3: 1 generations");
    h.get_by_label_contains("6 snapshots, 31 WAL segments, WAL indexes 00000001–00000010");
    assert!(h.query_by_label("TXID").is_none(), "no TXID field for a v0.3 tenant");

    // At a time: the fixture's timeline recorded 20 executions at 09:54:32.409.
    type_into(&mut h, "Time", "2026-11-24T09:54:32.409Z");
    h.get_by_label("Restore at time").click();
    let n = wait_for_restored(&mut h, "tenant-gamma", "at 2026-11-24T09:54:32.409Z");
    assert_eq!(n, 20);
    assert_eq!(files_in(cache.path()).len(), 1);

    // Back to the restore points through the breadcrumb; up to WAL index 0x0a of the generation.
    h.get_by_label("tenant-gamma").click();
    h.run_steps(3);
    assert_eq!(h.state().screen, Screen::Fleet);
    let button = format!("Restore {GENERATION} at index");
    h.get_by_label("WAL index");
    type_into(&mut h, "WAL index", "zz");
    assert!(h.get_by_label(&button).accesskit_node().is_disabled(), "not a hexadecimal index");
    type_into(&mut h, "WAL index", "a");
    h.get_by_label(&button).click();
    let n = wait_for_restored(&mut h, "tenant-gamma", &format!("generation {GENERATION} @ 0000000a"));
    assert_eq!(n, 36);

    // The generation's newest state: all 43 executions of the fixture.
    h.get_by_label("tenant-gamma").click();
    h.run_steps(3);
    h.get_by_label(&format!("Restore generation {GENERATION}")).click();
    let n = wait_for_restored(&mut h, "tenant-gamma", &format!("generation {GENERATION}"));
    assert_eq!(n, 43);
    assert_eq!(files_in(cache.path()).len(), 3, "{:?}", files_in(cache.path()));
}

/// The restore panel's progress line, fed the progress of a real restore of tenant-gamma through
/// the cache (as the app's worker does): bytes while downloading, WAL indexes (without a speed)
/// while applying.
#[test]
fn progress_text_of_a_real_v03_restore_uses_each_phase_unit() {
    use std::sync::Mutex;

    use chronoscope::litestream::plan::RestoreTarget;
    use chronoscope::litestream::v3::AgeIdentities;
    use chronoscope::litestream::{Cancel, ProgressEvent, cache};
    use chronoscope::storage::LocalStore;
    use chronoscope::ui::model::restore::RestoreModel;

    let dir = extract(&fixtures().join("fleet/v0.3/tenant-gamma.replica.tar.gz"));
    let store = LocalStore::new(find_replica_root(dir.path()));
    let cache_dir = tempfile::tempdir().unwrap();
    let seen = Mutex::new((RestoreModel::default(), Vec::<String>::new()));
    let progress = |event: ProgressEvent| {
        let mut seen = seen.lock().unwrap();
        seen.0.progress(event);
        let text = seen.0.progress_text();
        seen.1.push(text);
    };
    let target = RestoreTarget::Generation { id: GENERATION.into(), index: Some(0x0a) };
    let (path, fresh) =
        cache::restore_cached(&store, &target, &AgeIdentities::none(), cache_dir.path(), &progress, &Cancel::new())
            .unwrap();
    assert!(fresh && path.is_file());
    let texts = seen.into_inner().unwrap().1;
    let phase = |name: &str| texts.iter().filter(|t| t.starts_with(&format!("{name} "))).collect::<Vec<_>>();
    let downloading = phase("downloading");
    assert!(!downloading.is_empty(), "{texts:?}");
    for t in &downloading {
        assert!(t.contains(" B of ") || t.contains(" kB of "), "bytes of a byte total: {t}");
        assert!(!t.contains("WAL indexes"), "{t}");
    }
    // Snapshot 8, then WAL indexes 8, 9 and a.
    let applying = phase("applying");
    assert_eq!(applying.first().map(|t| t.as_str()), Some("applying 0 WAL indexes of 3 WAL indexes"), "{texts:?}");
    assert_eq!(applying.last().map(|t| t.as_str()), Some("applying 3 WAL indexes of 3 WAL indexes"), "{texts:?}");
    assert!(applying.iter().all(|t| !t.contains("/s") && !t.contains(" B")), "no speed, no bytes: {applying:?}");
}
