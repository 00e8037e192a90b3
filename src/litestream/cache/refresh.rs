//! The cached latest restore of a replica, kept up to date incrementally. The first restore is
//! a full one; later a refresh applies only the LTX files above the cached TXID (the widest
//! files that continue the chain, each checksum-verified) onto a copy of the cached database,
//! verifies it as a restore is verified, and renames it over the old one. It falls back to a
//! full restore when the chain does not continue from the cached point: a new lineage, or
//! compaction removed what would continue it. A v0.3 refresh within the same generation fetches
//! the cached WAL index again from offset 0 (its frames' checksums chain from the index's WAL
//! header) and every newer index; a new generation, or segments gone, is a full restore.

use std::fs::File;
use std::path::{Path, PathBuf};

use chrono::Utc;

use super::manifest::{Manifest, Point};
use crate::litestream::catalog::{self, LtxFile, Times};
use crate::litestream::output::{TempOutput, spill_dir};
use crate::litestream::plan::{self, Plan, RestoreTarget, better};
use crate::litestream::restore::{self, IntegrityCheck, RestoreOptions, V5Base, apply_v5_onto, verify_database};
use crate::litestream::v3::{self, AgeIdentities, SegmentInfo, V3Catalog, V3Plan};
use crate::litestream::{Cancel, Progress, ProgressEvent, RestoreError, Unit};
use crate::storage::ReplicaStore;

/// How the cached latest restore was brought up to date.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CacheOutcome {
    /// It was already at the replica's newest point.
    UpToDate,
    /// Restored in full (first time, or the chain did not continue).
    Restored,
    /// `files` LTX files (`bytes` bytes) applied onto the cached database.
    Refreshed { files: usize, bytes: u64 },
}

/// The cached latest restore of a replica.
#[derive(Debug, Clone)]
pub struct CachedRestore {
    pub path: PathBuf,
    pub outcome: CacheOutcome,
    pub manifest: Manifest,
}

/// The file holding the latest restore of `store`: `<name>-latest-<hash>.db`.
pub fn latest_path(dir: &Path, store: &dyn ReplicaStore) -> PathBuf {
    use std::hash::{Hash, Hasher};
    let mut h = std::hash::DefaultHasher::new();
    store.describe().hash(&mut h);
    dir.join(format!("{}-latest-{:016x}.db", super::replica_name(store), h.finish()))
}

/// Bring the cached latest restore of `store` to the replica's newest point.
pub fn refresh_latest(
    store: &dyn ReplicaStore,
    age: &AgeIdentities,
    dir: &Path,
    progress: &dyn Progress,
    cancel: &Cancel,
) -> Result<CachedRestore, RestoreError> {
    let catalog = catalog::load(store, Times::Listing)?;
    let plan = plan::plan(&catalog, &RestoreTarget::Latest)?;
    let path = latest_path(dir, store);
    let replica = store.describe();
    // One refresh of an entry at a time (the app and an upgrade check may both refresh a
    // tenant): the database and its manifest must describe the same point.
    std::fs::create_dir_all(dir).map_err(|e| RestoreError::output(dir, e))?;
    let lock_path = path.with_extension("db.lock");
    let lock = File::create(&lock_path).map_err(|e| RestoreError::output(&lock_path, e))?;
    lock.lock().map_err(|e| RestoreError::output(&lock_path, e))?;
    let result = refresh_locked(store, age, &catalog, &plan, path.clone(), replica, progress, cancel);
    if result.is_err() && !path.is_file() {
        // Nothing was cached: leave nothing behind.
        let _ = std::fs::remove_file(&lock_path);
    }
    result
}

/// [`refresh_latest`] with the entry's lock held.
#[allow(clippy::too_many_arguments)]
fn refresh_locked(
    store: &dyn ReplicaStore,
    age: &AgeIdentities,
    catalog: &catalog::Catalog,
    plan: &Plan,
    path: PathBuf,
    replica: String,
    progress: &dyn Progress,
    cancel: &Cancel,
) -> Result<CachedRestore, RestoreError> {
    let cached = Manifest::load(&path).filter(|m| path.is_file() && m.replica == replica);
    if let Some(m) = &cached {
        if same_point(&m.point, plan) {
            touch(&path);
            return Ok(CachedRestore { path, outcome: CacheOutcome::UpToDate, manifest: m.clone() });
        }
        if let (Plan::V5 { txid, .. }, Point::V5 { txid: have, page_size, commit, files }, Some(v5)) =
            (plan, &m.point, &catalog.v5)
            && have < txid
            && files.iter().any(|k| v5.files.iter().any(|f| &f.key == k))
            && let Some(chain) = files_after(&v5.files, *have, *txid)
        {
            let base = V5Base { txid: *have, page_size: *page_size, commit: *commit };
            match incremental_v5(store, &path, base, &chain, &replica, progress, cancel) {
                Ok(r) => return Ok(r),
                Err(RestoreError::Cancelled) => return Err(RestoreError::Cancelled),
                // Anything else: a full restore says what is wrong, or repairs the cache.
                Err(_) => {}
            }
        }
        if let (Plan::V3(p), Point::V3 { generation, index, segments }, Some(v3)) = (plan, &m.point, &catalog.v3)
            && let Some(after) = segments_after(v3, p, (generation, *index, segments))
        {
            match incremental_v3(store, &path, (generation, *index), &after, age, &replica, progress, cancel) {
                Ok(r) => return Ok(r),
                Err(RestoreError::Cancelled) => return Err(RestoreError::Cancelled),
                Err(_) => {}
            }
        }
    }
    let mut opts = RestoreOptions::new(&path);
    opts.overwrite = true;
    opts.age = age.clone();
    let report = restore::execute(store, plan, &opts, progress, cancel)?;
    let point = match plan {
        Plan::V5 { txid, files, .. } => Point::V5 {
            txid: *txid,
            page_size: report.page_size,
            commit: report.page_count as u32,
            files: files.iter().map(|f| f.key.clone()).collect(),
        },
        Plan::V3(p) => Point::V3 {
            generation: p.generation.clone(),
            index: p.last_index,
            segments: p.segments.iter().map(|s| s.key.clone()).collect(),
        },
    };
    let manifest = Manifest { replica, point, restored_at: Utc::now() };
    manifest.save(&path)?;
    Ok(CachedRestore { path, outcome: CacheOutcome::Restored, manifest })
}

/// Is the cached point the plan's?
fn same_point(point: &Point, plan: &Plan) -> bool {
    match (point, plan) {
        (Point::V5 { txid, .. }, Plan::V5 { txid: t, .. }) => txid == t,
        (Point::V3 { generation, index, segments }, Plan::V3(p)) => {
            generation == &p.generation
                && *index == p.last_index
                && segments.last() == p.segments.last().map(|s| &s.key)
        }
        _ => false,
    }
}

/// The LTX files (levels 0 to 8) that take a database at `base` to `target`: from each TXID
/// reached, the file that starts at or before the next TXID and reaches furthest (Litestream's
/// order for ties). `None` when the chain does not continue.
pub fn files_after(files: &[LtxFile], base: u64, target: u64) -> Option<Vec<LtxFile>> {
    let mut cur = base;
    let mut out = Vec::new();
    while cur < target {
        let candidates = files.iter().filter(|f| f.level < 9 && f.min_txid <= cur + 1 && f.max_txid > cur);
        let best = candidates.filter(|f| f.max_txid <= target).fold(None::<&LtxFile>, |b, f| match b {
            Some(b) if !better(f, b) => Some(b),
            _ => Some(f),
        })?;
        out.push(best.clone());
        cur = best.max_txid;
    }
    Some(out)
}

/// Apply `chain` onto a copy of the cached database, verify it, rename it over the cache entry.
fn incremental_v5(
    store: &dyn ReplicaStore,
    path: &Path,
    base: V5Base,
    chain: &[LtxFile],
    replica: &str,
    progress: &dyn Progress,
    cancel: &Cancel,
) -> Result<CachedRestore, RestoreError> {
    let store = store.cancellable(cancel);
    let store = store.as_ref();
    let bytes: u64 = chain.iter().map(|f| f.size).sum();
    let last = chain.last().map_or(base.txid, |f| f.max_txid);
    let files = chain.iter().map(|f| f.key.clone()).collect();
    refresh_copy(path, replica, (chain.len(), bytes), progress, cancel, |file, temp| {
        let applied = apply_v5_onto(store, chain, Some(base), file, temp, 4, progress, cancel);
        let _ = std::fs::remove_dir_all(spill_dir(temp));
        let s = applied?;
        Ok((s.page_size, s.commit, Point::V5 { txid: last, page_size: s.page_size, commit: s.commit as u32, files }))
    })
}

/// Apply the WAL `segments` (the cached index's from offset 0, then every later index of the
/// generation) onto a copy of the cached database.
#[allow(clippy::too_many_arguments)]
fn incremental_v3(
    store: &dyn ReplicaStore,
    path: &Path,
    (generation, first_index): (&str, u64),
    segments: &[SegmentInfo],
    age: &AgeIdentities,
    replica: &str,
    progress: &dyn Progress,
    cancel: &Cancel,
) -> Result<CachedRestore, RestoreError> {
    let store = store.cancellable(cancel);
    let store = store.as_ref();
    let bytes: u64 = segments.iter().map(|s| s.size).sum();
    let index = segments.last().map_or(first_index, |s| s.index);
    refresh_copy(path, replica, (segments.len(), bytes), progress, cancel, |file, temp| {
        let s = v3::apply_onto(store, generation, first_index, segments, age, file, temp, progress, cancel)?;
        let keys = segments.iter().map(|s| s.key.clone()).collect();
        Ok((s.page_size, s.page_count, Point::V3 { generation: generation.to_owned(), index, segments: keys }))
    })
}

/// Copy the cached database to a temp file, let `apply` bring it forward (returning the page
/// size, page count and new point), verify it as a restore is verified, rename it over the cache
/// entry and save its manifest. `(objects, bytes)` is what is fetched.
fn refresh_copy(
    path: &Path,
    replica: &str,
    (objects, bytes): (usize, u64),
    progress: &dyn Progress,
    cancel: &Cancel,
    apply: impl FnOnce(&mut File, &Path) -> Result<(u32, u64, Point), RestoreError>,
) -> Result<CachedRestore, RestoreError> {
    progress.report(ProgressEvent::Phase { name: "refreshing", total: Some(bytes), unit: Unit::Bytes });
    let mut out = TempOutput::create(path, true)?;
    let mut cached = File::open(path).map_err(|e| RestoreError::output(path, e))?;
    std::io::copy(&mut cached, out.file()).map_err(|e| RestoreError::output(out.temp_path(), e))?;
    let temp = out.temp_path().to_path_buf();
    let (page_size, page_count, point) = apply(out.file(), &temp)?;
    cancel.check()?;
    out.sync()?;
    progress.report(ProgressEvent::Phase { name: "verifying", total: None, unit: Unit::Bytes });
    verify_database(&temp, page_size, page_count, IntegrityCheck::Full, cancel)?;
    out.commit()?;
    let manifest = Manifest { replica: replica.to_owned(), point, restored_at: Utc::now() };
    manifest.save(path)?;
    Ok(CachedRestore { path: path.to_path_buf(), outcome: CacheOutcome::Refreshed { files: objects, bytes }, manifest })
}

/// The segments that take a cached v0.3 restore at `generation`/`index` (built from `cached`
/// segment keys) to the plan's point: every segment of `index` from offset 0 and of the later
/// indexes up to the plan's last. `None` when the plan is of another generation or the segments
/// of the cached index are no longer all there (retention, a rewritten index).
fn segments_after(
    catalog: &V3Catalog,
    plan: &V3Plan,
    (generation, index, cached): (&str, u64, &[String]),
) -> Option<Vec<SegmentInfo>> {
    if plan.generation != generation || plan.last_index < index {
        return None;
    }
    let g = catalog.generations.iter().find(|g| g.id == generation)?;
    let planned_last = plan.segments.last().map(|s| (s.index, s.offset));
    let segments: Vec<SegmentInfo> = g
        .segments
        .iter()
        .filter(|s| s.index >= index && planned_last.is_none_or(|last| (s.index, s.offset) <= last))
        .cloned()
        .collect();
    let have = cached.iter().filter(|k| {
        crate::litestream::v3::parse_key(k)
            .is_some_and(|o| matches!(o, crate::litestream::v3::V3Object::WalSegment { index: i, .. } if i == index))
    });
    let all_there = have.clone().all(|k| segments.iter().any(|s| &s.key == k));
    (all_there && segments.first().is_some_and(|s| s.index == index && s.offset == 0)).then_some(segments)
}

/// Mark a cache entry as used now (`cache gc` removes the long unused ones): its manifest's
/// time, so the database's own time stays when it was written.
pub fn touch(path: &Path) {
    if let Ok(f) = File::options().append(true).open(super::manifest::manifest_path(path)) {
        let _ = f.set_modified(std::time::SystemTime::now());
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn f(level: u8, min: u64, max: u64) -> LtxFile {
        LtxFile {
            level,
            min_txid: min,
            max_txid: max,
            key: format!("ltx/{level}/{min:016x}-{max:016x}.ltx"),
            size: 100,
            timestamp: Utc.timestamp_opt(1_000 + max as i64, 0).unwrap(),
        }
    }

    fn ranges(p: &[LtxFile]) -> Vec<(u8, u64, u64)> {
        p.iter().map(|f| (f.level, f.min_txid, f.max_txid)).collect()
    }

    #[test]
    fn takes_the_widest_files_that_continue_the_chain() {
        let files = vec![f(9, 1, 5), f(0, 6, 6), f(0, 7, 7), f(0, 8, 8), f(1, 4, 7), f(0, 9, 9)];
        // From 5: the L1 file 4-7 overlaps what is cached and reaches furthest.
        assert_eq!(ranges(&files_after(&files, 5, 9).unwrap()), [(1, 4, 7), (0, 8, 8), (0, 9, 9)]);
        assert_eq!(ranges(&files_after(&files, 7, 8).unwrap()), [(0, 8, 8)]);
        assert_eq!(files_after(&files, 9, 9).unwrap(), []);
        // Never a snapshot, never beyond the target.
        assert_eq!(ranges(&files_after(&files, 6, 7).unwrap()), [(1, 4, 7)]);
    }

    #[test]
    fn a_chain_that_does_not_continue_is_none() {
        let files = vec![f(9, 1, 5), f(0, 8, 8)];
        assert_eq!(files_after(&files, 5, 8), None);
    }
}
