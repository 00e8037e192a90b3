//! The incremental restore cache (`chronoscope restore REPLICA --cache`): the latest point of a
//! replica is restored once, then refreshed with only the LTX files above the cached TXID, and
//! must equal a full restore of the same point byte for byte (and Litestream's own restore).
//! On tenant alpha's real replica seen at an older point first, on a chain that no longer
//! continues from the cached point (a full restore instead), and on a replica that real
//! Litestream v0.5.17 keeps writing while the cache is refreshed.

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde_json::Value;

use crate::restore_fixtures::fixtures;
use crate::support::cli::{assert_same_restore, chronoscope_cmd, describe};
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
