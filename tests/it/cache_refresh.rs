//! The incremental restore cache (`chronoscope restore REPLICA --cache`): the latest point of a
//! replica is restored once, then refreshed with only the LTX files above the cached TXID, and
//! must equal a full restore of the same point byte for byte (and Litestream's own restore).
//! On tenant alpha's real replica seen at an older point first, on a chain that no longer
//! continues from the cached point (a full restore instead), and on a replica that real
//! Litestream v0.5.17 keeps writing while the cache is refreshed. For v0.3: tenant gamma's real
//! replica seen at an older WAL index first (the refresh fetches that index again from offset 0
//! and the newer ones, never a snapshot), and a replica Litestream v0.3.13 keeps writing across
//! a new generation (a full restore).

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde_json::Value;

use crate::restore_fixtures::{find_replica_root, fixtures};
use crate::support::cli::{assert_same_restore, chronoscope_cmd, describe};
use crate::support::fixtures::extract;
use crate::support::tools;
use crate::support::writer::{Replicator, Writer};

/// `chronoscope restore REPLICA --cache --json` with `cache` as XDG_CACHE_HOME.
fn cache_restore(replica: &Path, cache: &Path) -> Value {
    let out = chronoscope_cmd()
        .env("XDG_CACHE_HOME", cache)
        .arg("restore")
        .arg(replica)
        .args(["--cache", "--json", "--no-progress"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", describe(&out));
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}: {}", describe(&out)))
}

fn txid_of(v: &Value) -> u64 {
    v["manifest"]["point"]["txid"].as_u64().unwrap_or_else(|| panic!("a v0.5 point: {v}"))
}

/// The cached file equals chronoscope's full restore and Litestream's restore at its TXID.
fn equals_full_restores(cached: &Path, replica: &Path, txid: u64, out: &Path, label: &str) {
    let t = format!("{txid:016x}");
    let url = format!("file://{}", replica.display());
    let ls = assert_same_restore(
        &tools::litestream_v5(),
        &["-txid".into(), t.clone(), url],
        &[replica.display().to_string(), "--txid".into(), t],
        out,
        label,
    )
    .unwrap_or_else(|| panic!("[{label}] Litestream restores TXID {txid:#x}"));
    let (a, b) = (std::fs::read(cached).unwrap(), std::fs::read(&ls).unwrap());
    assert!(
        a == b,
        "[{label}] the refreshed cache ({} bytes) differs from the full restore ({} bytes)",
        a.len(),
        b.len()
    );
}

/// Copy the LTX files of `from` that `keep` accepts (by level, min, max TXID) into `to`
/// (emptied first), keeping their times.
fn copy_ltx(from: &Path, to: &Path, keep: impl Fn(u8, u64, u64) -> bool) {
    let _ = std::fs::remove_dir_all(to);
    for level in std::fs::read_dir(from.join("ltx")).unwrap().flatten() {
        let lv: u8 = level.file_name().to_string_lossy().parse().unwrap();
        for f in std::fs::read_dir(level.path()).unwrap().flatten() {
            let name = f.file_name().to_string_lossy().into_owned();
            let (min, max) = name.trim_end_matches(".ltx").split_once('-').unwrap();
            let (min, max) = (u64::from_str_radix(min, 16).unwrap(), u64::from_str_radix(max, 16).unwrap());
            if keep(lv, min, max) {
                let dir = to.join("ltx").join(level.file_name());
                std::fs::create_dir_all(&dir).unwrap();
                let st =
                    std::process::Command::new("cp").arg("-p").arg(f.path()).arg(dir.join(&name)).status().unwrap();
                assert!(st.success());
            }
        }
    }
}

#[test]
fn a_refresh_applies_only_the_newer_files_and_equals_a_full_restore() {
    let dir = tempfile::tempdir().unwrap();
    let alpha = fixtures().join("fleet/v0.5/tenant-alpha");
    let replica = dir.path().join("tenant-alpha");
    let cache = dir.path().join("cache");

    // The replica as it was at TXID 0x20: restored in full.
    copy_ltx(&alpha, &replica, |_, _, max| max <= 0x20);
    let first = cache_restore(&replica, &cache);
    assert_eq!((first["outcome"].as_str(), txid_of(&first)), (Some("restored"), 0x20), "{first}");
    let path = PathBuf::from(first["path"].as_str().unwrap());
    equals_full_restores(&path, &replica, 0x20, dir.path(), "first");

    // All of it: from 0x21 the widest files are the three L2 files up to 0x2f.
    copy_ltx(&alpha, &replica, |_, _, _| true);
    let second = cache_restore(&replica, &cache);
    assert_eq!((second["outcome"].as_str(), txid_of(&second)), (Some("refreshed"), 0x2f), "{second}");
    assert_eq!(second["path"], first["path"], "one cache entry per replica");
    let applied: Vec<&str> =
        second["manifest"]["point"]["files"].as_array().unwrap().iter().map(|f| f.as_str().unwrap()).collect();
    assert_eq!(
        applied,
        [
            "ltx/2/0000000000000021-0000000000000026.ltx",
            "ltx/2/0000000000000027-000000000000002b.ltx",
            "ltx/2/000000000000002c-000000000000002f.ltx"
        ]
    );
    let sizes: u64 = applied.iter().map(|k| std::fs::metadata(replica.join(k)).unwrap().len()).sum();
    assert_eq!(second["bytes"].as_u64(), Some(sizes), "only those files were read");
    equals_full_restores(&path, &replica, 0x2f, dir.path(), "refreshed");

    // Nothing new: up to date, the file untouched.
    let before = std::fs::read(&path).unwrap();
    let third = cache_restore(&replica, &cache);
    assert_eq!(third["outcome"], "up_to_date");
    assert_eq!(std::fs::read(&path).unwrap(), before);

    // `cache ls` lists it with its point; `cache rm` removes it and its manifest.
    let ls = chronoscope_cmd().env("XDG_CACHE_HOME", &cache).args(["cache", "ls", "--json"]).output().unwrap();
    let entries: Vec<Value> = serde_json::from_slice(&ls.stdout).unwrap_or_else(|e| panic!("{e}: {}", describe(&ls)));
    assert_eq!(entries.len(), 1, "{entries:?}");
    assert_eq!(entries[0]["manifest"]["point"]["txid"], 0x2f);
    let name = path.file_name().unwrap().to_str().unwrap();
    let rm = chronoscope_cmd().env("XDG_CACHE_HOME", &cache).args(["cache", "rm", name]).output().unwrap();
    assert!(rm.status.success(), "{}", describe(&rm));
    let left: Vec<_> = std::fs::read_dir(path.parent().unwrap()).unwrap().flatten().map(|e| e.file_name()).collect();
    assert!(left.is_empty(), "{left:?}");
}

#[test]
fn a_chain_that_does_not_continue_from_the_cached_point_is_restored_in_full() {
    let dir = tempfile::tempdir().unwrap();
    let alpha = fixtures().join("fleet/v0.5/tenant-alpha");
    let replica = dir.path().join("tenant-alpha");
    let cache = dir.path().join("cache");
    copy_ltx(&alpha, &replica, |_, _, max| max <= 0x20);
    let first = cache_restore(&replica, &cache);
    assert_eq!(txid_of(&first), 0x20);
    // Every file holding TXID 0x21 (below the snapshot level) is gone: only the newest snapshot
    // reaches past 0x20.
    copy_ltx(&alpha, &replica, |level, min, max| level == 9 || !(min <= 0x21 && 0x21 <= max));
    let second = cache_restore(&replica, &cache);
    assert_eq!((second["outcome"].as_str(), txid_of(&second)), (Some("restored"), 0x2f), "{second}");
    let path = PathBuf::from(second["path"].as_str().unwrap());
    equals_full_restores(&path, &replica, 0x2f, dir.path(), "full again");
}

#[test]
fn refreshes_while_litestream_keeps_writing_equal_full_restores() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("db.sqlite");
    let replica = dir.path().join("replica");
    let cache = dir.path().join("cache");
    let mut writer = Writer::create(&db);
    let config = dir.path().join("litestream.yml");
    let yaml = format!(
        "levels:\n  - interval: 2s\nsnapshot:\n  interval: 1h\nl0-retention: 1h\ndbs:\n  - path: {}\n    replica:\n      type: file\n      path: {}\n      sync-interval: 200ms\n",
        db.display(),
        replica.display()
    );
    std::fs::write(&config, yaml).unwrap();
    let mut ls = Replicator::start(&tools::litestream_v5(), &config, &dir.path().join("litestream.log"));
    ls.wait_until("the first LTX file", Duration::from_secs(60), || replica.join("ltx/0").is_dir());
    let mut outcomes = Vec::new();
    let mut last_txid = 0;
    for round in 0..4 {
        writer.run(8);
        std::thread::sleep(Duration::from_millis(700));
        let r = cache_restore(&replica, &cache);
        let txid = txid_of(&r);
        assert!(txid >= last_txid, "round {round}: {r}");
        last_txid = txid;
        outcomes.push(r["outcome"].as_str().unwrap().to_owned());
        let path = PathBuf::from(r["path"].as_str().unwrap());
        // The cached file is exactly a full restore of its TXID (Litestream keeps writing).
        equals_full_restores(&path, &replica, txid, dir.path(), &format!("round {round}"));
    }
    ls.stop();
    assert_eq!(outcomes[0], "restored");
    assert!(outcomes[1..].iter().any(|o| o == "refreshed"), "{outcomes:?}");
}

/// The v0.3 objects of `from` that `keep` accepts (snapshot or not, index, offset) copied into
/// `to` (emptied first), keeping their times.
fn copy_v3(from: &Path, to: &Path, keep: impl Fn(bool, u64, u64) -> bool) {
    let _ = std::fs::remove_dir_all(to);
    for generation in std::fs::read_dir(from.join("generations")).unwrap().flatten() {
        for (sub, snapshot) in [("snapshots", true), ("wal", false)] {
            let Ok(entries) = std::fs::read_dir(generation.path().join(sub)) else { continue };
            for f in entries.flatten() {
                let name = f.file_name().to_string_lossy().into_owned();
                let stem = name.split('.').next().unwrap();
                let (index, offset) = stem.split_once('_').unwrap_or((stem, "0"));
                let (index, offset) =
                    (u64::from_str_radix(index, 16).unwrap(), u64::from_str_radix(offset, 16).unwrap());
                if keep(snapshot, index, offset) {
                    let dir = to.join("generations").join(generation.file_name()).join(sub);
                    std::fs::create_dir_all(&dir).unwrap();
                    let st = std::process::Command::new("cp").arg("-p").arg(f.path()).arg(dir.join(&name)).status();
                    assert!(st.unwrap().success());
                }
            }
        }
    }
}

/// The cached file equals Litestream v0.3.13's (and chronoscope's full) latest restore.
fn equals_litestream_v3(cached: &Path, replica: &Path, out: &Path, label: &str) {
    let url = format!("file://{}", replica.display());
    let ls = assert_same_restore(&tools::litestream_v3(), &[url], &[replica.display().to_string()], out, label)
        .unwrap_or_else(|| panic!("[{label}] Litestream restores the latest state"));
    let (a, b) = (std::fs::read(cached).unwrap(), std::fs::read(&ls).unwrap());
    assert!(
        a == b,
        "[{label}] the refreshed cache ({} bytes) differs from the full restore ({} bytes)",
        a.len(),
        b.len()
    );
}

fn v3_point(v: &Value) -> (String, u64) {
    let p = &v["manifest"]["point"];
    assert_eq!(p["format"], "v0.3", "{v}");
    (p["generation"].as_str().unwrap().to_owned(), p["index"].as_u64().unwrap())
}

#[test]
fn a_v3_refresh_fetches_the_open_index_again_and_the_newer_ones() {
    let dir = tempfile::tempdir().unwrap();
    let tar = extract(&fixtures().join("fleet/v0.3/tenant-gamma.replica.tar.gz"));
    let gamma = find_replica_root(tar.path());
    let replica = dir.path().join("tenant-gamma");
    let cache = dir.path().join("cache");

    // As it was halfway through WAL index 9: snapshots up to 8, index 9 without its second segment.
    copy_v3(&gamma, &replica, |snapshot, index, offset| if snapshot { index <= 8 } else { (index, offset) <= (9, 0) });
    let first = cache_restore(&replica, &cache);
    assert_eq!((first["outcome"].as_str(), v3_point(&first).1), (Some("restored"), 9), "{first}");
    let path = PathBuf::from(first["path"].as_str().unwrap());
    equals_litestream_v3(&path, &replica, dir.path(), "first");

    // All of it (snapshots up to 0x10): the refresh reads index 9 from offset 0 and 10..=16, no snapshot.
    copy_v3(&gamma, &replica, |_, _, _| true);
    let second = cache_restore(&replica, &cache);
    assert_eq!((second["outcome"].as_str(), v3_point(&second).1), (Some("refreshed"), 0x10), "{second}");
    let keys: Vec<&str> =
        second["manifest"]["point"]["segments"].as_array().unwrap().iter().map(|k| k.as_str().unwrap()).collect();
    let g = "generations/f565a8e8a76b1ef1/wal";
    assert_eq!(keys.first(), Some(&format!("{g}/00000009_00000000.wal.lz4").as_str()), "{keys:?}");
    assert!(keys.iter().all(|k| k.contains("/wal/") && k[g.len() + 1..] >= *"00000009"), "{keys:?}");
    let sizes: u64 = keys.iter().map(|k| std::fs::metadata(replica.join(k)).unwrap().len()).sum();
    assert_eq!(second["bytes"].as_u64(), Some(sizes), "only those segments were read");
    let snapshot = std::fs::metadata(replica.join("generations/f565a8e8a76b1ef1/snapshots/00000010.snapshot.lz4"));
    assert!(sizes < snapshot.unwrap().len() * 4, "a refresh reads less than a full restore");
    equals_litestream_v3(&path, &replica, dir.path(), "refreshed");
    assert_eq!(cache_restore(&replica, &cache)["outcome"], "up_to_date");
}

#[test]
fn v3_refreshes_while_litestream_keeps_writing_equal_full_restores() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("db.sqlite");
    let replica = dir.path().join("replica");
    // What the cache refreshes from and Litestream restores from: a still copy of the replica
    // taken while the writer pauses, so both see the same objects.
    let view = dir.path().join("view");
    let cache = dir.path().join("cache");
    let mut writer = Writer::create(&db);
    let config = dir.path().join("litestream.yml");
    let yaml = format!(
        "dbs:\n  - path: {}\n    min-checkpoint-page-count: 10\n    checkpoint-interval: 1s\n    replicas:\n      - type: file\n        path: {}\n        sync-interval: 200ms\n        snapshot-interval: 1h\n",
        db.display(),
        replica.display()
    );
    std::fs::write(&config, yaml).unwrap();
    let log = dir.path().join("litestream.log");
    let mut outcomes = Vec::new();
    let mut points = Vec::new();
    for run in 0..2 {
        let mut ls = Replicator::start(&tools::litestream_v3(), &config, &log);
        let generations = replica.join("generations");
        let gens_before = run;
        ls.wait_until("a snapshot of the generation", Duration::from_secs(60), || {
            std::fs::read_dir(&generations).map_or(0, |d| {
                d.flatten()
                    .filter(|g| g.path().join("snapshots").read_dir().is_ok_and(|mut s| s.next().is_some()))
                    .count()
            }) > gens_before
        });
        for round in 0..3 {
            writer.run(6);
            // Litestream syncs every 200 ms: after a second with no writes it has uploaded all.
            std::thread::sleep(Duration::from_millis(1200));
            copy_v3(&replica, &view, |_, _, _| true);
            let r = cache_restore(&view, &cache);
            points.push(v3_point(&r));
            outcomes.push(r["outcome"].as_str().unwrap().to_owned());
            let path = PathBuf::from(r["path"].as_str().unwrap());
            equals_litestream_v3(&path, &view, dir.path(), &format!("run {run} round {round}"));
        }
        ls.stop();
        // Behind Litestream's back: a commit and a truncated WAL start a new generation.
        writer.step();
        writer.checkpoint_truncate();
    }
    // Rounds within a generation refresh; the first round of the second generation restores.
    assert_eq!(outcomes[0], "restored", "{outcomes:?} {points:?}");
    assert_ne!(points[2].0, points[3].0, "a new generation: {points:?}");
    assert_eq!(outcomes[3], "restored", "{outcomes:?} {points:?}");
    for i in [1, 2, 4, 5] {
        assert_eq!(outcomes[i], "refreshed", "round {i}: {outcomes:?} {points:?}");
    }
}
