//! Generations, snapshots and WAL segments of a v0.3 replica, from a listing alone.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Utc};
use serde::Serialize;

use super::names::{V3Object, parse_key};
use crate::storage::ObjectInfo;

/// A snapshot object: the database file as of the start of WAL index `index`.
#[derive(Debug, Clone, Serialize)]
pub struct SnapshotInfo {
    pub generation: String,
    pub index: u64,
    pub key: String,
    pub size: u64,
    /// Storage timestamp (file mtime or S3 `LastModified`): the restore-point time.
    pub created_at: DateTime<Utc>,
}

/// A WAL segment object: bytes `[offset, offset + len)` of WAL image `index`.
#[derive(Debug, Clone, Serialize)]
pub struct SegmentInfo {
    pub generation: String,
    pub index: u64,
    pub offset: u64,
    pub key: String,
    pub size: u64,
    pub created_at: DateTime<Utc>,
}

/// One generation: snapshots sorted by index, segments sorted by (index, offset).
#[derive(Debug, Clone, Serialize)]
pub struct Generation {
    pub id: String,
    pub snapshots: Vec<SnapshotInfo>,
    pub segments: Vec<SegmentInfo>,
    /// Oldest storage timestamp over snapshots and segments.
    pub created_at: DateTime<Utc>,
    /// Newest storage timestamp over snapshots and segments.
    pub updated_at: DateTime<Utc>,
    /// Problems visible from the names alone (no snapshot, WAL index without offset 0, missing
    /// WAL index, duplicate names). Gaps inside an index need the decompressed sizes: see verify.
    pub problems: Vec<String>,
}

/// Every generation of a v0.3 replica, sorted by id.
#[derive(Debug, Clone, Serialize)]
pub struct V3Catalog {
    pub generations: Vec<Generation>,
}

impl V3Catalog {
    /// The generation with this id.
    pub fn generation(&self, id: &str) -> Option<&Generation> {
        self.generations.iter().find(|g| g.id == id)
    }
}

/// Build the catalog from a listing whose keys are relative to the replica root; keys that are
/// not v0.3 objects are ignored. `None` when there is no v0.3 object at all. Downloads nothing.
pub fn catalog_from_listing(objects: &[ObjectInfo]) -> Option<V3Catalog> {
    let mut by_gen: BTreeMap<String, (Vec<SnapshotInfo>, Vec<SegmentInfo>)> = BTreeMap::new();
    for obj in objects {
        let Some(parsed) = parse_key(&obj.key) else { continue };
        let (key, size, created_at) = (obj.key.clone(), obj.size, obj.modified);
        match parsed {
            V3Object::Snapshot { generation, index } => {
                let entry = by_gen.entry(generation.clone()).or_default();
                entry.0.push(SnapshotInfo { generation, index, key, size, created_at });
            }
            V3Object::WalSegment { generation, index, offset } => {
                let entry = by_gen.entry(generation.clone()).or_default();
                entry.1.push(SegmentInfo { generation, index, offset, key, size, created_at });
            }
        }
    }
    if by_gen.is_empty() {
        return None;
    }
    let generations =
        by_gen.into_iter().map(|(id, (snapshots, segments))| build_generation(id, snapshots, segments)).collect();
    Some(V3Catalog { generations })
}

fn build_generation(id: String, mut snapshots: Vec<SnapshotInfo>, mut segments: Vec<SegmentInfo>) -> Generation {
    let mut problems = Vec::new();
    // Sort numerically; among duplicates of one position (e.g. `00000001` and `000000001`) keep
    // the first key and report the others.
    snapshots.sort_by(|a, b| (a.index, &a.key).cmp(&(b.index, &b.key)));
    snapshots.dedup_by(|dup, kept| {
        let same = dup.index == kept.index;
        if same {
            problems.push(format!("{}: duplicate of {}", dup.key, kept.key));
        }
        same
    });
    segments.sort_by(|a, b| (a.index, a.offset, &a.key).cmp(&(b.index, b.offset, &b.key)));
    segments.dedup_by(|dup, kept| {
        let same = (dup.index, dup.offset) == (kept.index, kept.offset);
        if same {
            problems.push(format!("{}: duplicate of {}", dup.key, kept.key));
        }
        same
    });

    let times = snapshots.iter().map(|s| s.created_at).chain(segments.iter().map(|s| s.created_at));
    let created_at = times.clone().min().unwrap_or_default();
    let updated_at = times.max().unwrap_or_default();

    problems.extend(listing_problems(&id, &snapshots, &segments));
    Generation { id, snapshots, segments, created_at, updated_at, problems }
}

/// What the names tell: a snapshot must exist, every WAL index must start at offset 0, and every
/// index from the oldest snapshot's to the newest segment's must be present.
fn listing_problems(id: &str, snapshots: &[SnapshotInfo], segments: &[SegmentInfo]) -> Vec<String> {
    let mut problems = Vec::new();
    let Some(first_snapshot) = snapshots.first() else {
        problems.push(format!("generations/{id}: no snapshot, cannot be restored"));
        return problems;
    };
    let mut first_offsets: BTreeMap<u64, u64> = BTreeMap::new();
    for seg in segments {
        first_offsets.entry(seg.index).or_insert(seg.offset);
    }
    for (&index, &offset) in &first_offsets {
        if offset != 0 {
            problems.push(format!(
                "generations/{id}/wal/{index:08x}_*: WAL index {index:08x} does not start at offset 0 \
                 (first segment at offset {offset:08x})"
            ));
        }
    }
    let present: BTreeSet<u64> = first_offsets.keys().copied().collect();
    if let Some(&last) = present.last() {
        for index in first_snapshot.index..last {
            if !present.contains(&index) {
                problems.push(format!("generations/{id}/wal/{index:08x}_*: missing WAL index {index:08x}"));
            }
        }
    }
    problems
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::litestream::v3::test_support::{Fixture, obj};

    #[test]
    fn fx3_has_two_generations_and_seven_snapshots() {
        let fx = Fixture::extract("fx3");
        let cat = catalog_from_listing(&fx.listing("fx3/replica")).expect("v0.3 objects");
        let ids: Vec<_> = cat.generations.iter().map(|g| g.id.as_str()).collect();
        assert_eq!(ids, ["54d5f478e1d92b83", "cebec108e499e8f7"]);
        let snapshots: usize = cat.generations.iter().map(|g| g.snapshots.len()).sum();
        assert_eq!(snapshots, 7);
        let indexes = |g: &Generation| g.segments.iter().map(|s| s.index).collect::<BTreeSet<_>>().len();
        assert_eq!(indexes(&cat.generations[0]) + indexes(&cat.generations[1]), 23);

        let g2 = &cat.generations[0];
        assert_eq!(g2.snapshots.iter().map(|s| s.index).collect::<Vec<_>>(), [0, 4, 7]);
        assert_eq!(g2.segments.len(), 21);
        assert_eq!(g2.created_at.to_rfc3339(), "2026-11-24T09:18:00+00:00");
        assert_eq!(g2.updated_at.to_rfc3339(), "2026-11-24T09:18:17+00:00");
        let g1 = &cat.generations[1];
        assert_eq!(g1.snapshots.iter().map(|s| s.index).collect::<Vec<_>>(), [0, 3, 7, 11]);
        assert_eq!(g1.created_at.to_rfc3339(), "2026-11-24T09:17:24+00:00");
        assert_eq!(g1.updated_at.to_rfc3339(), "2026-11-24T09:17:52+00:00");
        assert!(cat.generations.iter().all(|g| g.problems.is_empty()), "{:?}", cat.generations);
    }

    #[test]
    fn unrelated_listing_gives_none() {
        assert!(catalog_from_listing(&[obj("ltx/0/0000000000000001-0000000000000001.ltx", 0)]).is_none());
        assert!(catalog_from_listing(&[]).is_none());
    }

    #[test]
    fn sorts_numerically_and_reports_listing_problems() {
        let g = "0123456789abcdef";
        let cat = catalog_from_listing(&[
            obj(&format!("generations/{g}/wal/00000001_100000000.wal.lz4"), 5),
            obj(&format!("generations/{g}/wal/00000001_ffffffff.wal.lz4"), 4),
            obj(&format!("generations/{g}/wal/00000001_00000000.wal.lz4"), 3),
            obj(&format!("generations/{g}/wal/00000004_00001038.wal.lz4"), 6),
            obj(&format!("generations/{g}/snapshots/00000001.snapshot.lz4"), 1),
            obj(&format!("generations/{g}/snapshots/000000001.snapshot.lz4"), 2),
            obj(&format!("generations/{g}/snapshots/00000002.snapshot.lz4.tmp"), 2),
        ])
        .expect("catalog");
        let gen_ = &cat.generations[0];
        let offsets: Vec<_> = gen_.segments.iter().map(|s| (s.index, s.offset)).collect();
        assert_eq!(offsets, [(1, 0), (1, 0xffff_ffff), (1, 1 << 32), (4, 0x1038)]);
        assert_eq!(gen_.snapshots.len(), 1);
        assert_eq!(gen_.created_at.timestamp(), 2); // the duplicate snapshot kept is the first key
        assert_eq!(gen_.updated_at.timestamp(), 6);
        let problems = gen_.problems.join("\n");
        let duplicate = format!("snapshots/00000001.snapshot.lz4: duplicate of generations/{g}/snapshots/000000001");
        assert!(problems.contains(&duplicate), "{problems}");
        assert!(problems.contains("missing WAL index 00000002"), "{problems}");
        assert!(problems.contains("missing WAL index 00000003"), "{problems}");
        assert!(problems.contains("WAL index 00000004 does not start at offset 0"), "{problems}");
    }
}
