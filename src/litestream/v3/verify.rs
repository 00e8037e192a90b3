//! Checking every object of a generation without restoring it.

use std::collections::BTreeMap;
use std::io::Read;

use super::apply::segment_gap;
use super::catalog::{Generation, SegmentInfo, SnapshotInfo};
use super::keys::AgeIdentities;
use super::object::{decode, decode_error, read_full};
use super::pool::{Meter, run_jobs};
use super::sqlite::{DB_HEADER_LEN, WalScanner, db_page_size};
use crate::litestream::{Cancel, Progress, ProgressEvent, RestoreError};
use crate::storage::{ReplicaStore, StoreError};

/// Verify a generation: decode every object (age, LZ4 content checksum), check snapshot headers,
/// WAL headers, salts and frame checksums, segment contiguity, and the listing-level problems
/// (missing indexes, missing first segments). Returns one line per problem, naming the object;
/// does not stop at the first. `Err` only for what stops everything: cancel, an unreachable
/// store, or encrypted objects without any identity.
pub fn verify_generation(
    store: &dyn ReplicaStore,
    generation: &Generation,
    ids: &AgeIdentities,
    progress: &dyn Progress,
    cancel: &Cancel,
) -> Result<Vec<String>, RestoreError> {
    let total = generation.snapshots.iter().map(|s| s.size).chain(generation.segments.iter().map(|s| s.size)).sum();
    progress.report(ProgressEvent::Phase {
        name: "verifying",
        total: Some(total),
        unit: crate::litestream::Unit::Bytes,
    });
    let meter = Meter::new(progress);

    let mut by_index: BTreeMap<u64, Vec<&SegmentInfo>> = BTreeMap::new();
    for seg in &generation.segments {
        by_index.entry(seg.index).or_default().push(seg);
    }
    let mut units: Vec<Unit> = generation.snapshots.iter().map(Unit::Snapshot).collect();
    units.extend(by_index.into_values().map(Unit::Wal));

    let checker = Checker { store, ids, meter: &meter, generation: &generation.id };
    let found = run_jobs(&units, cancel, |unit| {
        let problems = match unit {
            Unit::Snapshot(s) => checker.snapshot(s),
            Unit::Wal(segments) => checker.wal(segments, cancel),
        };
        meter.report();
        problems
    })?;
    let mut problems = generation.problems.clone();
    problems.extend(found.into_iter().flatten());
    Ok(problems)
}

enum Unit<'g> {
    Snapshot(&'g SnapshotInfo),
    Wal(Vec<&'g SegmentInfo>),
}

struct Checker<'a> {
    store: &'a dyn ReplicaStore,
    ids: &'a AgeIdentities,
    meter: &'a Meter<'a>,
    generation: &'a str,
}

impl Checker<'_> {
    /// Open `key` decoded, or the problem (`Err` when it stops the whole verification).
    fn open(&self, key: &str) -> Result<Result<Box<dyn Read + Send + '_>, String>, RestoreError> {
        let raw = match self.store.open(key) {
            Ok(raw) => raw,
            Err(e) => return self.problem(e.into()).map(Err),
        };
        match decode(self.meter.count(raw), key, self.ids) {
            Ok(reader) => Ok(Ok(reader)),
            Err(e) => self.problem(e).map(Err),
        }
    }

    /// An object's error as a problem line, or `Err` if no object can be verified.
    fn problem(&self, err: RestoreError) -> Result<String, RestoreError> {
        match err {
            RestoreError::Cancelled => Err(err),
            RestoreError::Decrypt { .. } if self.ids.is_empty() => Err(err),
            RestoreError::Store(StoreError::NotFound { .. }) => Ok(err.to_string()),
            RestoreError::Store(_) => Err(err),
            other => Ok(other.to_string()),
        }
    }

    fn snapshot(&self, snapshot: &SnapshotInfo) -> Result<Vec<String>, RestoreError> {
        let key = &snapshot.key;
        let mut reader = match self.open(key)? {
            Ok(reader) => reader,
            Err(problem) => return Ok(vec![problem]),
        };
        let mut header = [0u8; DB_HEADER_LEN];
        let checked = read_full(&mut reader, &mut header).map_err(|e| decode_error(key, e)).and_then(|n| {
            let page_size = db_page_size(&header[..n]).map_err(|reason| RestoreError::corrupt(key, reason))?;
            let len = n as u64 + drain(&mut reader, key, &mut |_| {})?;
            if !len.is_multiple_of(u64::from(page_size)) {
                let reason = format!("{len} bytes is not a whole number of {page_size}-byte pages");
                return Err(RestoreError::corrupt(key, reason));
            }
            Ok(())
        });
        match checked {
            Ok(()) => Ok(vec![]),
            Err(e) => Ok(vec![self.problem(e)?]),
        }
    }

    /// One WAL index: every segment decoded; while the chain holds, its bytes checked as one
    /// WAL image (contiguous offsets, header, salts, cumulative checksums, ends on a commit).
    fn wal(&self, segments: &[&SegmentInfo], cancel: &Cancel) -> Result<Vec<String>, RestoreError> {
        let mut problems = Vec::new();
        // Without its offset-0 segment (a listing problem already) the image cannot be checked.
        let complete = segments.first().is_some_and(|s| s.offset == 0);
        let mut scanner = complete.then(WalScanner::new);
        let mut expected = complete.then_some(0u64);
        for seg in segments {
            cancel.check()?;
            if let Some(end) = expected
                && end != seg.offset
            {
                problems.push(self.problem(segment_gap(self.generation, seg, end))?);
                scanner = None;
            }
            let mut reader = match self.open(&seg.key)? {
                Ok(reader) => reader,
                Err(problem) => {
                    problems.push(problem);
                    (scanner, expected) = (None, None);
                    continue;
                }
            };
            let mut wal_problem = None;
            let read = drain(&mut reader, &seg.key, &mut |chunk| {
                if let Some(s) = scanner.as_mut()
                    && let Err(e) = s.feed(chunk, &mut |_| {})
                {
                    wal_problem = Some(e.into_restore_error(&seg.key));
                    scanner = None;
                }
            });
            match read {
                Ok(len) => {
                    expected = Some(seg.offset + len);
                    if let Some(e) = wal_problem {
                        problems.push(self.problem(e)?);
                    }
                }
                // A bad object explains whatever its bytes did to the WAL check.
                Err(e) => {
                    problems.push(self.problem(e)?);
                    (scanner, expected) = (None, None);
                }
            }
        }
        if let (Some(scanner), Some(last)) = (scanner, segments.last()) {
            match scanner.finish() {
                Ok(summary) if summary.uncommitted_frames > 0 => problems.push(format!(
                    "{}: {} frame(s) after the last commit (an unfinished transaction)",
                    last.key, summary.uncommitted_frames
                )),
                Ok(_) => {}
                Err(e) => problems.push(self.problem(e.into_restore_error(&last.key))?),
            }
        }
        Ok(problems)
    }
}

/// Read `reader` to its end, passing each chunk to `f`; the decoded length.
fn drain(reader: &mut dyn Read, key: &str, f: &mut dyn FnMut(&[u8])) -> Result<u64, RestoreError> {
    let mut buf = vec![0u8; 256 * 1024];
    let mut len = 0u64;
    loop {
        match reader.read(&mut buf) {
            Ok(0) => return Ok(len),
            Ok(n) => {
                f(&buf[..n]);
                len += n as u64;
            }
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(decode_error(key, e)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::litestream::progress::NoProgress;
    use crate::litestream::v3::catalog::{V3Catalog, catalog_from_listing};
    use crate::litestream::v3::test_support::Fixture;
    use crate::storage::LocalStore;

    fn verify_all(store: &LocalStore) -> Vec<String> {
        let catalog: V3Catalog = catalog_from_listing(&store.list("").expect("list")).expect("catalog");
        let mut problems = Vec::new();
        for generation in &catalog.generations {
            let found = verify_generation(store, generation, &AgeIdentities::none(), &NoProgress, &Cancel::new());
            problems.extend(found.expect("verify"));
        }
        problems
    }

    #[test]
    fn fx3_and_gamma_are_clean() {
        let fx = Fixture::extract("fx3");
        assert_eq!(verify_all(&LocalStore::new(fx.path("fx3/replica"))), Vec::<String>::new());
        let fx = Fixture::extract("tenant-gamma");
        assert_eq!(verify_all(&LocalStore::new(fx.path("tenant-gamma"))), Vec::<String>::new());
    }

    #[test]
    fn reports_every_problem_with_its_key() {
        let fx = Fixture::extract("fx3");
        let root = fx.path("fx3/replica");
        let g = "generations/cebec108e499e8f7";
        let flipped = format!("{g}/wal/00000004_00001038.wal.lz4");
        let mut bytes = std::fs::read(root.join(&flipped)).expect("read");
        let mid = bytes.len() / 2;
        bytes[mid] ^= 0x10;
        std::fs::write(root.join(&flipped), bytes).expect("write");
        let gap_after = format!("{g}/wal/00000001_00002050.wal.lz4");
        std::fs::remove_file(root.join(format!("{g}/wal/00000001_00001038.wal.lz4"))).expect("rm");
        let snapshot = format!("{g}/snapshots/00000007.snapshot.lz4");
        let bytes = std::fs::read(root.join(&snapshot)).expect("read");
        std::fs::write(root.join(&snapshot), &bytes[..bytes.len() - 8]).expect("truncate");
        std::fs::remove_file(root.join(format!("{g}/wal/00000009_00000000.wal.lz4"))).expect("rm");
        std::fs::remove_file(root.join(format!("{g}/wal/00000009_00001038.wal.lz4"))).expect("rm");
        std::fs::remove_file(root.join(format!("{g}/wal/00000009_00004080.wal.lz4"))).expect("rm");

        let problems = verify_all(&LocalStore::new(&root));
        let text = problems.join("\n");
        assert!(text.contains(&format!("{flipped}: ")), "{text}");
        assert!(text.contains("missing the segment at offset 00001038") && text.contains(&gap_after), "{text}");
        assert!(text.contains(&format!("{snapshot}: corrupt object: truncated")), "{text}");
        assert!(text.contains("missing WAL index 00000009"), "{text}");
        assert_eq!(problems.len(), 4, "{text}");
    }
}
