//! Executing a restore plan: the snapshot into the output file, then every WAL index in order.

use std::collections::BTreeMap;
use std::ffi::OsString;
use std::fs::File;
use std::path::{Path, PathBuf};

use serde::Serialize;

use super::catalog::SegmentInfo;
use super::checkpoint::checkpoint;
use super::keys::AgeIdentities;
use super::object::{copy_decoded, decode, decode_error, read_full};
use super::plan::V3Plan;
use super::pool::{Meter, run_jobs};
use super::sqlite::{DB_HEADER_LEN, db_page_size};
use crate::litestream::{Cancel, Progress, ProgressEvent, RestoreError, Unit};
use crate::storage::ReplicaStore;

/// What [`apply`] did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct V3ApplyStats {
    pub page_size: u32,
    /// Pages in the restored file.
    pub page_count: u64,
    /// Compressed (downloaded) bytes read.
    pub bytes_read: u64,
    pub wal_indexes_applied: u64,
    /// Frames of committed transactions applied.
    pub frames_applied: u64,
}

/// Execute `plan` into `out` (an empty file at `out_path` that the caller verifies and renames).
/// The snapshot and every WAL index (its segments concatenated into `<out>.wal-tmp-<index>`,
/// checking `next.offset == prev.offset + length`) are downloaded in parallel; the indexes are
/// then applied in order like SQLite's `wal_checkpoint(TRUNCATE)` (latest committed frame per
/// page, file resized to the last commit's size; an invalid frame is an error naming its object)
/// and the temp files removed. Reports `Phase("downloading", compressed bytes)` / `Advance`, then
/// `Phase("applying", indexes)` / `Advance`. Checks `cancel` between objects and indexes.
pub fn apply(
    store: &dyn ReplicaStore,
    plan: &V3Plan,
    ids: &AgeIdentities,
    out: &mut File,
    out_path: &Path,
    progress: &dyn Progress,
    cancel: &Cancel,
) -> Result<V3ApplyStats, RestoreError> {
    let parts = Parts { generation: &plan.generation, snapshot: Some(plan), first_index: plan.snapshot.index };
    run(store, parts, &plan.segments, ids, out, out_path, progress, cancel)
}

/// [`apply`] onto `out` already holding the generation's state after some part of WAL index
/// `first_index` (a cached restore): no snapshot, `segments` are those of `first_index` from
/// offset 0 and of the indexes after it. Re-applying the frames already in `out` rewrites the
/// pages they wrote with the same contents, so the result is the state after `segments`.
#[allow(clippy::too_many_arguments)]
pub fn apply_onto(
    store: &dyn ReplicaStore,
    generation: &str,
    first_index: u64,
    segments: &[SegmentInfo],
    ids: &AgeIdentities,
    out: &mut File,
    out_path: &Path,
    progress: &dyn Progress,
    cancel: &Cancel,
) -> Result<V3ApplyStats, RestoreError> {
    let parts = Parts { generation, snapshot: None, first_index };
    run(store, parts, segments, ids, out, out_path, progress, cancel)
}

/// What a run starts from: the plan's snapshot, or the file as it is.
#[derive(Clone, Copy)]
struct Parts<'a> {
    generation: &'a str,
    snapshot: Option<&'a V3Plan>,
    first_index: u64,
}

#[allow(clippy::too_many_arguments)]
fn run(
    store: &dyn ReplicaStore,
    parts: Parts<'_>,
    segments: &[SegmentInfo],
    ids: &AgeIdentities,
    out: &mut File,
    out_path: &Path,
    progress: &dyn Progress,
    cancel: &Cancel,
) -> Result<V3ApplyStats, RestoreError> {
    let indexes = group_by_index(parts.generation, parts.first_index, segments)?;
    let snapshot_size = parts.snapshot.map_or(0, |p| p.snapshot.size);
    let total = snapshot_size + segments.iter().map(|s| s.size).sum::<u64>();
    progress.report(ProgressEvent::Phase { name: "downloading", total: Some(total), unit: Unit::Bytes });
    let meter = Meter::new(progress);
    let temps = TempWals { out_path, indexes: indexes.keys().copied().collect() };

    let mut jobs: Vec<Job> = parts.snapshot.map(Job::Snapshot).into_iter().collect();
    jobs.extend(indexes.iter().map(|(&index, segments)| Job::Wal(index, segments.as_slice())));
    let db: &File = out;
    let done = run_jobs(&jobs, cancel, |job| {
        let result = match job {
            Job::Snapshot(plan) => download_snapshot(store, plan, ids, &meter, db, out_path),
            Job::Wal(index, segments) => {
                download_wal(store, parts.generation, segments, ids, &meter, &temps.path(*index))
            }
        };
        meter.report();
        result
    })?;
    // The snapshot job (first) yields the page size, checked to be 512..=65536; without one the
    // file's own header tells.
    let page_size = match parts.snapshot {
        Some(_) => done.first().map_or(0, |&size| size as u32),
        None => existing_page_size(out, out_path)?,
    };

    progress.report(ProgressEvent::Phase {
        name: "applying",
        total: Some(indexes.len() as u64),
        unit: Unit::Items("WAL indexes"),
    });
    let mut stats = V3ApplyStats { page_size, bytes_read: meter.done(), ..Default::default() };
    for (n, (&index, segments)) in indexes.iter().enumerate() {
        cancel.check()?;
        let wal_path = temps.path(index);
        let key_at = |offset: u64| {
            let seg = segments.iter().rev().find(|s| s.offset <= offset).or(segments.first());
            seg.map_or_else(|| format!("WAL index {index:08x}"), |s| s.key.clone())
        };
        let applied = checkpoint(&wal_path, db, out_path, page_size, key_at)?;
        std::fs::remove_file(&wal_path).map_err(|e| RestoreError::output(&wal_path, e))?;
        stats.wal_indexes_applied += 1;
        stats.frames_applied += applied.frames;
        progress.report(ProgressEvent::Advance { done: n as u64 + 1 });
    }
    out.sync_all().map_err(|e| RestoreError::output(out_path, e))?;
    let len = out.metadata().map_err(|e| RestoreError::output(out_path, e))?.len();
    stats.page_count = len / u64::from(page_size.max(1));
    Ok(stats)
}

enum Job<'p> {
    Snapshot(&'p V3Plan),
    Wal(u64, &'p [&'p SegmentInfo]),
}

/// The page size in the SQLite header of the file being applied onto.
fn existing_page_size(out: &File, out_path: &Path) -> Result<u32, RestoreError> {
    let mut header = [0u8; DB_HEADER_LEN];
    std::os::unix::fs::FileExt::read_exact_at(out, &mut header, 0).map_err(|e| RestoreError::output(out_path, e))?;
    db_page_size(&header).map_err(|reason| RestoreError::Verification(format!("{}: {reason}", out_path.display())))
}

/// The segments per WAL index, checking what the names tell: indexes from `first` (the
/// snapshot's) to the last without a hole, each starting at offset 0 with increasing offsets.
fn group_by_index<'s>(
    generation: &str,
    first: u64,
    segments: &'s [SegmentInfo],
) -> Result<BTreeMap<u64, Vec<&'s SegmentInfo>>, RestoreError> {
    let mut indexes: BTreeMap<u64, Vec<&SegmentInfo>> = BTreeMap::new();
    for seg in segments {
        indexes.entry(seg.index).or_default().push(seg);
    }
    let mut expected = first;
    for (&index, segments) in &indexes {
        if index != expected {
            let reason = format!("generation {generation}: missing WAL index {expected:08x}");
            return Err(RestoreError::Chain { reason });
        }
        expected = index + 1;
        if segments.first().is_some_and(|s| s.offset != 0) || segments.windows(2).any(|w| w[0].offset >= w[1].offset) {
            let reason =
                format!("generation {generation}: WAL index {index:08x} does not start at offset 0 or is out of order");
            return Err(RestoreError::Chain { reason });
        }
    }
    Ok(indexes)
}

/// Stream the snapshot into the output file, checking its SQLite header. Returns the page size.
fn download_snapshot(
    store: &dyn ReplicaStore,
    plan: &V3Plan,
    ids: &AgeIdentities,
    meter: &Meter,
    mut db: &File,
    out_path: &Path,
) -> Result<u64, RestoreError> {
    let key = &plan.snapshot.key;
    let mut reader = decode(meter.count(store.open(key)?), key, ids)?;
    let mut header = [0u8; DB_HEADER_LEN];
    let n = read_full(&mut reader, &mut header).map_err(|e| decode_error(key, e))?;
    let page_size = db_page_size(&header[..n]).map_err(|reason| RestoreError::corrupt(key, reason))?;
    std::io::Write::write_all(&mut db, &header[..n]).map_err(|e| RestoreError::output(out_path, e))?;
    let len = n as u64 + copy_decoded(&mut reader, key, &mut db, out_path)?;
    if !len.is_multiple_of(u64::from(page_size)) {
        let reason = format!("{len} bytes is not a whole number of {page_size}-byte pages");
        return Err(RestoreError::corrupt(key, reason));
    }
    Ok(u64::from(page_size))
}

/// Concatenate one index's segments into `path`, checking that each starts where the previous
/// one ended. Returns the WAL image's length.
fn download_wal(
    store: &dyn ReplicaStore,
    generation: &str,
    segments: &[&SegmentInfo],
    ids: &AgeIdentities,
    meter: &Meter,
    path: &Path,
) -> Result<u64, RestoreError> {
    let mut file = File::create(path).map_err(|e| RestoreError::output(path, e))?;
    let mut len = 0u64;
    for seg in segments {
        if seg.offset != len {
            return Err(segment_gap(generation, seg, len));
        }
        let mut reader = decode(meter.count(store.open(&seg.key)?), &seg.key, ids)?;
        len += copy_decoded(&mut reader, &seg.key, &mut file, path)?;
    }
    Ok(len)
}

/// A segment that does not start where the previous ones ended.
pub(crate) fn segment_gap(generation: &str, seg: &SegmentInfo, expected: u64) -> RestoreError {
    if seg.offset > expected {
        RestoreError::Chain {
            reason: format!(
                "generation {generation}: WAL index {:08x} is missing the segment at offset {expected:08x} \
                 (bytes {expected:#x}..{:#x}; next is {})",
                seg.index, seg.offset, seg.key
            ),
        }
    } else {
        RestoreError::corrupt(
            &seg.key,
            format!("starts at offset {:#x} but the previous segments end at {expected:#x}", seg.offset),
        )
    }
}

/// The per-index WAL files beside the output; whatever is left is removed on drop.
struct TempWals<'a> {
    out_path: &'a Path,
    indexes: Vec<u64>,
}

impl TempWals<'_> {
    fn path(&self, index: u64) -> PathBuf {
        let mut name = OsString::from(self.out_path.as_os_str());
        name.push(format!(".wal-tmp-{index:08x}"));
        PathBuf::from(name)
    }
}

impl Drop for TempWals<'_> {
    fn drop(&mut self) {
        for &index in &self.indexes {
            let _ = std::fs::remove_file(self.path(index));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::litestream::progress::NoProgress;
    use crate::litestream::v3::catalog::catalog_from_listing;
    use crate::litestream::v3::plan::{V3Target, plan};
    use crate::litestream::v3::test_support::{AGE_KEY, Fixture, encrypt_tree, rows_and_integrity};
    use crate::storage::LocalStore;
    use chrono::DateTime;

    /// Restore `target` from the replica at `root` into `dir/name`.
    fn restore(
        root: &Path,
        target: &V3Target,
        ids: &AgeIdentities,
        out_path: &Path,
    ) -> Result<V3ApplyStats, RestoreError> {
        let store = LocalStore::new(root);
        let catalog = catalog_from_listing(&store.list("")?).expect("v0.3 replica");
        let plan = plan(&catalog, target)?;
        let mut out = File::create(out_path).expect("create");
        apply(&store, &plan, ids, &mut out, out_path, &NoProgress, &Cancel::new())
    }

    /// `rows` of the last log line of `fx3/log.jsonl` whose label starts with `prefix`.
    fn last_rows(fx: &Fixture, prefix: &str) -> i64 {
        let log = std::fs::read_to_string(fx.path("fx3/log.jsonl")).expect("log");
        let rows = log.lines().rev().find_map(|line| {
            let v: serde_json::Value = serde_json::from_str(line).ok()?;
            v["label"].as_str()?.starts_with(prefix).then(|| v["rows"].as_i64()).flatten()
        });
        rows.expect("log line")
    }

    #[test]
    fn fx3_latest_and_each_generation() {
        let fx = Fixture::extract("fx3");
        let root = fx.path("fx3/replica");
        let out = fx.path("latest.db");
        let stats = restore(&root, &V3Target::Latest, &AgeIdentities::none(), &out).expect("restore");
        assert_eq!((stats.page_size, stats.wal_indexes_applied), (4096, 2));
        assert_eq!(stats.page_count * 4096, std::fs::metadata(&out).expect("meta").len());
        let header = std::fs::read(&out).expect("read");
        assert_eq!((header[18], header[19]), (2, 2), "WAL mode header");
        assert_eq!(rows_and_integrity(&out, "t"), (last_rows(&fx, "g2-"), "ok".into()));
        let leftovers: Vec<_> = std::fs::read_dir(fx.path("")).expect("ls").flatten().map(|e| e.file_name()).collect();
        assert!(!leftovers.iter().any(|n| n.to_string_lossy().contains("wal-tmp")), "{leftovers:?}");

        let g1 = V3Target::Generation { id: "cebec108e499e8f7".into(), index: None };
        let out = fx.path("g1.db");
        restore(&root, &g1, &AgeIdentities::none(), &out).expect("restore g1");
        assert_eq!(rows_and_integrity(&out, "t"), (last_rows(&fx, "g1-"), "ok".into()));
    }

    #[test]
    fn fx3_points_in_time() {
        let fx = Fixture::extract("fx3");
        let root = fx.path("fx3/replica");
        // g2-big (617 rows) was written at 09:18:05.0; the next step at 09:18:06.5.
        let at = |s: &str| V3Target::Timestamp(DateTime::parse_from_rfc3339(s).expect("ts").to_utc());
        let out = fx.path("pit.db");
        restore(&root, &at("2026-11-24T09:18:05.5Z"), &AgeIdentities::none(), &out).expect("restore");
        assert_eq!(rows_and_integrity(&out, "t"), (617, "ok".into()));
        // -generation 54d5… -index 3: 657 rows (the spec's example).
        let out = fx.path("idx.db");
        let target = V3Target::Generation { id: "54d5f478e1d92b83".into(), index: Some(3) };
        restore(&root, &target, &AgeIdentities::none(), &out).expect("restore");
        assert_eq!(rows_and_integrity(&out, "t"), (657, "ok".into()));
    }

    #[test]
    fn deleted_middle_segment_is_a_chain_error_not_stale_data() {
        let fx = Fixture::extract("fx3");
        let root = fx.path("fx3/replica");
        let key = "generations/54d5f478e1d92b83/wal/00000003_00001038.wal.lz4";
        std::fs::remove_file(root.join(key)).expect("remove");
        let target = V3Target::Generation { id: "54d5f478e1d92b83".into(), index: Some(3) };
        let err = restore(&root, &target, &AgeIdentities::none(), &fx.path("out.db")).expect_err("gap");
        let RestoreError::Chain { reason } = &err else { panic!("{err}") };
        assert!(reason.contains("54d5f478e1d92b83") && reason.contains("00001038"), "{reason}");
        assert!(!fx.path("out.db.wal-tmp-00000003").exists());
    }

    #[test]
    fn flipped_byte_in_a_wal_segment_names_the_key() {
        let fx = Fixture::extract("fx3");
        let root = fx.path("fx3/replica");
        let key = "generations/54d5f478e1d92b83/wal/00000007_00001038.wal.lz4";
        let path = root.join(key);
        let mut bytes = std::fs::read(&path).expect("read");
        let mid = bytes.len() / 2;
        bytes[mid] ^= 0x10;
        std::fs::write(&path, bytes).expect("write");
        let err = restore(&root, &V3Target::Latest, &AgeIdentities::none(), &fx.path("out.db")).expect_err("corrupt");
        assert!(
            matches!(&err, RestoreError::Checksum { key: k, .. } | RestoreError::Corrupt { key: k, .. } if k == key)
        );
    }

    #[test]
    fn fx3b_multi_block_snapshot_and_its_age_twin() {
        let fx = Fixture::extract("fx3b");
        let root = fx.path("fx3b/replica");
        let plain = fx.path("plain.db");
        let stats = restore(&root, &V3Target::Latest, &AgeIdentities::none(), &plain).expect("restore");
        assert!(stats.page_count * 4096 > 12_000_000, "{stats:?}");
        let (_, check) = rows_and_integrity(&plain, "t");
        assert_eq!(check, "ok");

        let enc = fx.path("enc");
        encrypt_tree(&root, &enc);
        let ids = AgeIdentities::from_strings(&[AGE_KEY.to_string()]).expect("key");
        let decrypted = fx.path("decrypted.db");
        restore(&enc, &V3Target::Latest, &ids, &decrypted).expect("restore encrypted");
        assert!(std::fs::read(&plain).expect("plain") == std::fs::read(&decrypted).expect("decrypted"));

        let err = restore(&enc, &V3Target::Latest, &AgeIdentities::none(), &fx.path("x.db")).expect_err("no key");
        assert!(matches!(err, RestoreError::Decrypt { .. }), "{err}");
    }

    #[test]
    fn tenant_gamma_latest() {
        let fx = Fixture::extract("tenant-gamma");
        let out = fx.path("gamma.db");
        let stats =
            restore(&fx.path("tenant-gamma"), &V3Target::Latest, &AgeIdentities::none(), &out).expect("restore");
        assert_eq!((stats.page_size, stats.page_count), (4096, 143));
        assert_eq!(rows_and_integrity(&out, "t_execution_log"), (247, "ok".into()));
    }

    #[test]
    fn cancel_stops_before_downloading() {
        let fx = Fixture::extract("fx3");
        let store = LocalStore::new(fx.path("fx3/replica"));
        let catalog = catalog_from_listing(&store.list("").expect("list")).expect("catalog");
        let plan = plan(&catalog, &V3Target::Latest).expect("plan");
        let out_path = fx.path("c.db");
        let mut out = File::create(&out_path).expect("create");
        let cancel = Cancel::new();
        cancel.cancel();
        let err = apply(&store, &plan, &AgeIdentities::none(), &mut out, &out_path, &NoProgress, &cancel);
        assert!(matches!(err, Err(RestoreError::Cancelled)));
    }
}
