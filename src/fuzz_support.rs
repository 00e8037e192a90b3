//! Property-test helpers shared by the decoders' fuzz tests (issue 11): random damage to an
//! object (byte flips, truncations, insertions) and a restore harness that checks what a
//! damaged replica restores against what the intact one does.

use std::collections::BTreeSet;
use std::path::Path;

use proptest::prelude::*;
use proptest::sample::Index;
use proptest::test_runner::{Config, TestRunner};

use crate::litestream::catalog::{self, Times};
use crate::litestream::plan::{self, Plan, RestoreTarget};
use crate::litestream::progress::NoProgress;
use crate::litestream::restore::{self, IntegrityCheck, RestoreOptions};
use crate::litestream::v3::AgeIdentities;
use crate::litestream::{Cancel, RestoreError};
use crate::storage::LocalStore;

/// A few hundred cases, no regression files in the source tree.
pub(crate) fn runner(cases: u32) -> TestRunner {
    TestRunner::new(Config { cases, failure_persistence: None, ..Config::default() })
}

/// Damage done to one object's bytes.
#[derive(Debug, Clone)]
pub(crate) enum Mutation {
    /// XOR 1–8 bytes (positions may repeat) with non-zero values.
    Flip(Vec<(Index, u8)>),
    /// Keep only the first `len` bytes (`len` < the original length).
    Truncate(Index),
    /// Insert 1–16 bytes before position `at` (0..=len).
    Insert(Index, Vec<u8>),
}

pub(crate) fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        prop::collection::vec((any::<Index>(), 1u8..=255), 1..=8).prop_map(Mutation::Flip),
        any::<Index>().prop_map(Mutation::Truncate),
        (any::<Index>(), prop::collection::vec(any::<u8>(), 1..=16)).prop_map(|(at, b)| Mutation::Insert(at, b)),
    ]
}

impl Mutation {
    /// The damaged copy of `data` (non-empty).
    pub fn apply(&self, data: &[u8]) -> Vec<u8> {
        let mut out = data.to_vec();
        match self {
            Mutation::Flip(flips) => {
                for (at, x) in flips {
                    let at = at.index(out.len());
                    out[at] ^= x;
                }
            }
            Mutation::Truncate(len) => out.truncate(len.index(data.len())),
            Mutation::Insert(at, bytes) => {
                let at = at.index(data.len() + 1);
                out.splice(at..at, bytes.iter().copied());
            }
        }
        out
    }
}

/// Puts an object's original bytes and mtime back when dropped (also when a case panics).
pub(crate) struct Restored<'a> {
    path: &'a Path,
    bytes: Vec<u8>,
    mtime: std::time::SystemTime,
}

impl<'a> Restored<'a> {
    /// Replace the file at `path` by `damaged`, keeping its mtime (v0.3 restore-point times).
    pub fn replace(path: &'a Path, damaged: &[u8]) -> Restored<'a> {
        let bytes = std::fs::read(path).expect("read object");
        let mtime = std::fs::metadata(path).and_then(|m| m.modified()).expect("mtime");
        write_keeping_mtime(path, damaged, mtime);
        Restored { path, bytes, mtime }
    }
}

impl Drop for Restored<'_> {
    fn drop(&mut self) {
        write_keeping_mtime(self.path, &self.bytes, self.mtime);
    }
}

fn write_keeping_mtime(path: &Path, bytes: &[u8], mtime: std::time::SystemTime) {
    std::fs::write(path, bytes).expect("write object");
    std::fs::File::options().write(true).open(path).and_then(|f| f.set_modified(mtime)).expect("set mtime");
}

/// Plan `target` on the replica at `root` and execute it into `dir/out.db` with the crate's own
/// restore (quick integrity check). The plan and the restored bytes.
pub(crate) fn restore_into(
    root: &Path,
    target: &RestoreTarget,
    age: &AgeIdentities,
    dir: &Path,
) -> Result<Vec<u8>, RestoreError> {
    let store = LocalStore::new(root);
    let catalog = catalog::load(&store, Times::Listing)?;
    let plan = plan::plan(&catalog, target)?;
    let mut opts = RestoreOptions::new(dir.join("out.db"));
    opts.integrity = IntegrityCheck::Quick;
    opts.concurrency = 2;
    opts.age = age.clone();
    restore::execute(&store, &plan, &opts, &NoProgress, &Cancel::new())?;
    Ok(std::fs::read(dir.join("out.db")).expect("read output"))
}

/// The keys a restore of `target` reads.
pub(crate) fn planned_keys(root: &Path, target: &RestoreTarget) -> BTreeSet<String> {
    let store = LocalStore::new(root);
    let catalog = catalog::load(&store, Times::Listing).expect("catalog");
    match plan::plan(&catalog, target).expect("plan") {
        Plan::V5 { files, .. } => files.into_iter().map(|f| f.key).collect(),
        Plan::V3(p) => {
            std::iter::once(p.snapshot.key.clone()).chain(p.segments.iter().map(|s| s.key.clone())).collect()
        }
    }
}

/// The property over `cases` random damages to one of `keys` (objects of the replica at `root`):
/// a restore either fails with an error naming the damaged object, leaving the output folder
/// empty (no output, temp, spill or WAL files), and only when the plan reads it; or restores
/// exactly the intact replica's bytes (an unread object, or a damage that decodes to the same
/// pages, which must stay rare). Panics are failures.
pub(crate) fn check_restores(root: &Path, target: &RestoreTarget, age: &AgeIdentities, keys: &[String], cases: u32) {
    let scratch = tempfile::tempdir().expect("tempdir");
    let baseline = restore_into(root, target, age, scratch.path()).expect("intact replica restores");
    let read = planned_keys(root, target);
    assert!(keys.iter().any(|k| read.contains(k)), "no planned key among {keys:?} (plan {read:?})");
    let mut runner = runner(cases);
    let (failed, unseen) = (std::sync::atomic::AtomicUsize::new(0), std::sync::atomic::AtomicUsize::new(0));
    let result = runner.run(&(0..keys.len(), mutation()), |(i, m)| {
        let key = &keys[i];
        let path = root.join(key);
        let original = std::fs::read(&path).expect("read object");
        let damaged = m.apply(&original);
        let _restore = Restored::replace(&path, &damaged);
        let out = tempfile::tempdir().expect("tempdir");
        let result = restore_into(root, target, age, out.path());
        let left: Vec<String> = std::fs::read_dir(out.path())
            .expect("ls output dir")
            .flatten()
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .collect();
        let must_fail = read.contains(key) && damaged != original;
        match result {
            Ok(bytes) => {
                // A damage the format cannot see is harmless only when it changes nothing: LTX
                // checksums cover the decompressed pages, so compressed bytes that decode to the
                // same page (an LZ4 match at offset 1 instead of 2 inside a run of equal bytes)
                // restore the same database.
                prop_assert!(bytes == baseline, "{key} damaged ({m:?}): the restore differs from the intact replica's");
                if must_fail {
                    unseen.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                }
                prop_assert_eq!(left, vec!["out.db".to_string()]);
            }
            Err(e) => {
                prop_assert!(must_fail, "{key} unread or intact, yet: {e}");
                failed.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                prop_assert!(e.to_string().contains(key.as_str()), "error does not name {key}: {e}");
                prop_assert!(left.is_empty(), "left in the output folder: {left:?}");
            }
        }
        Ok(())
    });
    if let Err(e) = result {
        panic!("{e}");
    }
    // Damage the checksums cannot see is rare: nearly every damaged planned object fails.
    let (failed, unseen) = (failed.into_inner(), unseen.into_inner());
    assert!(failed > 0 && unseen * 20 <= failed, "{failed} damaged restores failed, {unseen} restored the same bytes");
}
