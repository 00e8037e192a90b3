//! Whole-replica verification: read every object, check every checksum and the chain, and report
//! each problem with the object it concerns (nothing stops at the first problem).

use std::sync::atomic::{AtomicU64, Ordering};

use serde::Serialize;

use super::catalog::{Catalog, LtxFile};
use super::ltx::PageDecoder;
use super::v3::{self, AgeIdentities};
use super::{Cancel, Progress, ProgressEvent, RestoreError, Unit};
use crate::parallel;
use crate::storage::ReplicaStore;

/// Result of verifying a replica.
#[derive(Debug, Clone, Serialize)]
pub struct VerifyReport {
    pub location: String,
    pub objects_checked: usize,
    pub bytes_checked: u64,
    /// One line per problem, naming the object key and the reason. Empty when all is well.
    pub problems: Vec<String>,
}

impl VerifyReport {
    pub fn ok(&self) -> bool {
        self.problems.is_empty()
    }
}

/// Verify every object of the replica described by `catalog`.
pub fn verify(
    store: &dyn ReplicaStore,
    catalog: &Catalog,
    age: &AgeIdentities,
    concurrency: usize,
    progress: &dyn Progress,
    cancel: &Cancel,
) -> Result<VerifyReport, RestoreError> {
    let store = store.cancellable(cancel);
    let store = store.as_ref();
    let mut problems = catalog.problems.clone();
    let mut objects = 0;
    let total = catalog.bytes;
    progress.report(ProgressEvent::Phase { name: "verifying", total: Some(total), unit: Unit::Bytes });
    let done = AtomicU64::new(0);
    if let Some(c) = &catalog.v5 {
        let results = parallel::map(&c.files, concurrency, |f| {
            if cancel.is_cancelled() {
                return Err(RestoreError::Cancelled);
            }
            let r = check_ltx(store, f);
            let d = done.fetch_add(f.size, Ordering::Relaxed) + f.size;
            progress.report(ProgressEvent::Advance { done: d });
            Ok(r)
        });
        for r in results {
            if let Err(e) = r? {
                problems.push(e.to_string());
            }
        }
        objects += c.files.len();
    }
    if let Some(c) = &catalog.v3 {
        for g in &c.generations {
            cancel.check()?;
            problems.extend(v3::verify_generation(store, g, age, progress, cancel)?);
            objects += g.snapshots.len() + g.segments.len();
        }
    }
    problems.dedup();
    Ok(VerifyReport { location: catalog.location.clone(), objects_checked: objects, bytes_checked: total, problems })
}

/// Decode one LTX file completely (structure, LZ4, file checksum) and check its name.
fn check_ltx(store: &dyn ReplicaStore, f: &LtxFile) -> Result<(), RestoreError> {
    let reader = store.open(&f.key)?;
    let mut dec = PageDecoder::new(&f.key, reader)?;
    let h = dec.header();
    if (h.min_txid, h.max_txid) != (f.min_txid, f.max_txid) {
        return Err(RestoreError::corrupt(
            &f.key,
            format!("header TXIDs {:#x}-{:#x} do not match the file name", h.min_txid, h.max_txid),
        ));
    }
    if f.level == 9 && !h.is_snapshot() {
        return Err(RestoreError::corrupt(&f.key, "level-9 file is not a snapshot"));
    }
    let mut page = Vec::new();
    while dec.next_page(&mut page)?.is_some() {}
    Ok(())
}
