//! Property tests (issue 11): v0.3 snapshot and WAL segment objects (LZ4 frames), plain and
//! age-encrypted, randomly damaged, restore the intact replica's bytes or fail naming the damaged
//! object (see [`crate::fuzz_support`]); and decompressed WAL images, damaged, checkpoint onto
//! a database exactly as the intact one does or fail naming the WAL object, leaving it untouched.

use std::fs::File;
use std::io::Read;
use std::path::Path;

use proptest::prelude::*;

use super::checkpoint::checkpoint;
use super::keys::AgeIdentities;
use super::object::open_decoded;
use super::test_support::{AGE_KEY, Fixture, encrypt_tree};
use crate::fuzz_support::{Mutation, check_restores, mutation, planned_keys, runner};
use crate::litestream::RestoreError;
use crate::litestream::plan::RestoreTarget;
use crate::storage::LocalStore;

const CASES: u32 = 256;
const GEN: &str = "generations/cebec108e499e8f7";

/// Generation cebec108… up to WAL index 1: snapshot 0 and six WAL segments, all small.
fn target() -> RestoreTarget {
    RestoreTarget::Generation { id: "cebec108e499e8f7".into(), index: Some(1) }
}

fn key(rel: &str) -> String {
    format!("{GEN}/{rel}")
}

/// The snapshot, a WAL segment holding frames and two objects the plan does not read.
fn keys(root: &Path) -> Vec<String> {
    let keys = vec![
        key("snapshots/00000000.snapshot.lz4"),
        key("wal/00000000_000060b0.wal.lz4"),
        key("wal/00000001_00002050.wal.lz4"),
        key("snapshots/00000003.snapshot.lz4"),
        key("wal/00000002_00001038.wal.lz4"),
    ];
    let read = planned_keys(root, &target());
    assert_eq!(keys.iter().filter(|k| read.contains(*k)).count(), 3, "{read:?}");
    keys
}

#[test]
fn v3_lz4_objects_damaged() {
    let fx = Fixture::extract("fx3");
    let root = fx.path("fx3/replica");
    check_restores(&root, &target(), &AgeIdentities::none(), &keys(&root), CASES);
}

#[test]
fn v3_age_objects_damaged() {
    let fx = Fixture::extract("fx3");
    let enc = fx.path("enc");
    encrypt_tree(&fx.path("fx3/replica"), &enc);
    let ids = AgeIdentities::from_strings(&[AGE_KEY.to_string()]).expect("key");
    check_restores(&enc, &target(), &ids, &keys(&enc), CASES);
}

const PAGE: u32 = 4096;
const WAL_KEY: &str = "WAL object under test";

/// Checkpoint `wal` onto a copy of `db` in `dir`; the database bytes after it.
fn run_checkpoint(dir: &Path, db: &[u8], wal: &[u8]) -> (Result<u64, RestoreError>, Vec<u8>) {
    let (db_path, wal_path) = (dir.join("db"), dir.join("wal"));
    std::fs::write(&db_path, db).expect("write db");
    std::fs::write(&wal_path, wal).expect("write wal");
    let file = File::options().read(true).write(true).open(&db_path).expect("open db");
    let r = checkpoint(&wal_path, &file, &db_path, PAGE, |off| format!("{WAL_KEY} @{off:#x}")).map(|c| c.frames);
    drop(file);
    (r, std::fs::read(&db_path).expect("read db"))
}

/// A WAL image cut after its header and whole frames is a valid, shorter WAL: nothing in the
/// image can tell (v0.3 objects are protected by their LZ4 frame's end and checksum instead).
fn whole_frames(len: usize) -> bool {
    len >= 32 && (len - 32).is_multiple_of(24 + PAGE as usize)
}

#[test]
fn v3_wal_images_damaged() {
    let fx = Fixture::extract("fx3");
    let store = LocalStore::new(fx.path("fx3/replica"));
    let decoded = |key: &str| {
        let mut out = Vec::new();
        open_decoded(&store, key, &AgeIdentities::none()).expect("open").read_to_end(&mut out).expect("decode");
        out
    };
    let db = decoded(&key("snapshots/00000000.snapshot.lz4"));
    let wal: Vec<u8> =
        ["wal/00000000_00000000.wal.lz4", "wal/00000000_000060b0.wal.lz4", "wal/00000000_000070c8.wal.lz4"]
            .iter()
            .flat_map(|k| decoded(&key(k)))
            .collect();
    let dir = tempfile::tempdir().expect("tempdir");
    let (intact, expected) = run_checkpoint(dir.path(), &db, &wal);
    let intact = intact.expect("intact WAL");
    assert!(intact > 0 && expected != db);
    let result = runner(CASES).run(&mutation(), |m: Mutation| {
        let damaged = m.apply(&wal);
        let (r, after) = run_checkpoint(dir.path(), &db, &damaged);
        match r {
            Ok(frames) if damaged.len() < wal.len() && whole_frames(damaged.len()) => {
                // A prefix of the intact WAL: fewer committed frames, whole pages.
                prop_assert!(frames <= intact);
                prop_assert_eq!(after.len() % PAGE as usize, 0);
            }
            Ok(_) => {
                prop_assert!(damaged == wal, "damaged WAL ({m:?}) checkpointed without an error");
                prop_assert!(after == expected);
            }
            Err(e) => {
                prop_assert!(damaged != wal, "intact WAL failed: {e}");
                prop_assert!(e.to_string().contains(WAL_KEY), "error does not name the object: {e}");
                prop_assert!(after == db, "a failed checkpoint changed the database");
            }
        }
        Ok(())
    });
    if let Err(e) = result {
        panic!("{e}");
    }
}
