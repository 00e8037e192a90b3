//! Choosing what to restore: generation, snapshot and WAL segments (v0.3.13 semantics, but a hole
//! in the chain is an error instead of a silently older database).

use chrono::{DateTime, SecondsFormat, Utc};
use serde::Serialize;

use super::catalog::{Generation, SegmentInfo, SnapshotInfo, V3Catalog};
use crate::litestream::RestoreError;

/// What to restore.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum V3Target {
    /// The newest state of the generation updated last.
    Latest,
    /// The state as of this time (storage timestamps, inclusive).
    Timestamp(DateTime<Utc>),
    /// A given generation: its newest state, or the end of WAL index `index`.
    Generation { id: String, index: Option<u64> },
}

/// A restore plan: a snapshot, then WAL segments in (index, offset) order.
#[derive(Debug, Clone, Serialize)]
pub struct V3Plan {
    pub generation: String,
    pub snapshot: SnapshotInfo,
    pub segments: Vec<SegmentInfo>,
    /// The last WAL index applied (the snapshot's index when there is no segment).
    pub last_index: u64,
    /// Storage time of the newest planned object: the restored state is as of this time.
    pub updated_at: DateTime<Utc>,
    /// With a timestamp: the segments of the snapshot's own WAL index left out by the time cut.
    /// The snapshot may already hold their frames (see [`V3Plan::cut_short`]).
    #[serde(skip)]
    pub tail: Vec<SegmentInfo>,
}

impl V3Plan {
    /// Why a restore of this plan can be torn, when it is: a v0.3 snapshot of index N is the
    /// database file copied after a PASSIVE checkpoint, so it may already hold frames of WAL N
    /// (a partial checkpoint even a torn set of pages), and only re-applying WAL N from offset 0
    /// up to where the snapshot was taken makes it consistent. A time between the snapshot's
    /// upload and the upload of those segments (see `tail`) cuts WAL N short; v0.3.13 then writes
    /// a database no transaction committed. `None` when the plan applies the snapshot's whole index.
    pub fn cut_short(&self) -> Option<String> {
        let (first, last) = (self.tail.first()?, self.tail.last()?);
        Some(format!(
            "snapshot {:08x} of generation {} (from {}) can hold WAL frames uploaded after the restore time \
             ({} from {} on), so the WAL uploaded by then may not make it consistent (Litestream v0.3.13 \
             writes such a database anyway); restore a time before {} or from {} on",
            self.snapshot.index,
            self.generation,
            fmt_time(&self.snapshot.created_at),
            first.key,
            fmt_time(&first.created_at),
            fmt_time(&self.snapshot.created_at),
            fmt_time(&last.created_at),
        ))
    }
}

/// Plan a restore. Generation: with a timestamp, among those whose `[created_at, updated_at]`
/// holds it, the one updated last (ties: the first by id). Snapshot: newest `created_at <= ts`
/// (or highest index `<= N`). Segments: from the snapshot's index, in (index, offset) order,
/// stopping at the first created after `ts` or beyond index `N`. A WAL index without its offset-0
/// segment, or a missing index, is a [`RestoreError::Chain`]; a point no generation covers is
/// [`RestoreError::NotRestorable`] naming the restorable ranges.
pub fn plan(catalog: &V3Catalog, target: &V3Target) -> Result<V3Plan, RestoreError> {
    let (generation, ts, max_index) = match target {
        V3Target::Latest => (newest(catalog.generations.iter()).ok_or_else(|| no_generation(catalog))?, None, None),
        V3Target::Timestamp(ts) => {
            let covering = catalog.generations.iter().filter(|g| g.created_at <= *ts && *ts <= g.updated_at);
            let generation = newest(covering).ok_or_else(|| {
                RestoreError::NotRestorable(format!(
                    "no v0.3 generation covers {}; restorable ranges: {}",
                    fmt_time(ts),
                    ranges(catalog)
                ))
            })?;
            (generation, Some(*ts), None)
        }
        V3Target::Generation { id, index } => {
            let generation = catalog.generation(id).ok_or_else(|| {
                let ids: Vec<_> = catalog.generations.iter().map(|g| g.id.as_str()).collect();
                RestoreError::NotRestorable(format!("no generation {id}; generations: {}", ids.join(", ")))
            })?;
            (generation, None, *index)
        }
    };
    plan_generation(generation, ts, max_index)
}

/// The generation with the greatest `updated_at`; the first one on ties (as v0.3.13).
fn newest<'a>(generations: impl Iterator<Item = &'a Generation>) -> Option<&'a Generation> {
    generations.fold(None, |best: Option<&Generation>, g| match best {
        Some(b) if g.updated_at <= b.updated_at => Some(b),
        _ => Some(g),
    })
}

fn plan_generation(
    generation: &Generation,
    ts: Option<DateTime<Utc>>,
    max_index: Option<u64>,
) -> Result<V3Plan, RestoreError> {
    let id = &generation.id;
    let snapshot = choose_snapshot(generation, ts, max_index)?;
    if let Some(n) = max_index {
        let highest = generation.segments.iter().map(|s| s.index).chain([snapshot.index]).max().unwrap_or(0);
        if n > highest {
            return Err(RestoreError::NotRestorable(format!(
                "generation {id} has no WAL index {n:08x}; the highest is {highest:08x}"
            )));
        }
    }

    let mut segments: Vec<SegmentInfo> = Vec::new();
    // The highest index before the cut, below the snapshot's too (v0.3.13's `maxWALIndex`).
    let mut cut_max: Option<u64> = None;
    let mut cut_at = generation.segments.len();
    for (i, seg) in generation.segments.iter().enumerate() {
        if ts.is_some_and(|ts| seg.created_at > ts) || max_index.is_some_and(|n| seg.index > n) {
            cut_at = i;
            break;
        }
        cut_max = Some(seg.index);
        if seg.index < snapshot.index {
            continue;
        }
        if segments.last().is_none_or(|prev| prev.index != seg.index) && seg.offset != 0 {
            return Err(RestoreError::Chain {
                reason: format!(
                    "generation {id}: WAL index {:08x} has no initial segment (offset 0); first is {}",
                    seg.index, seg.key
                ),
            });
        }
        segments.push(seg.clone());
    }

    if let (Some(ts), Some(max)) = (ts, cut_max)
        && max + 1 < snapshot.index
    {
        return Err(behind_snapshot(id, ts, snapshot, max, &generation.segments[cut_at..]));
    }
    let tail: Vec<SegmentInfo> = match ts {
        Some(_) => generation.segments[cut_at..].iter().filter(|s| s.index == snapshot.index).cloned().collect(),
        None => Vec::new(),
    };

    let last_index = segments.last().map_or(snapshot.index, |s| s.index);
    let mut expected = snapshot.index;
    for seg in &segments {
        if seg.index > expected {
            return Err(RestoreError::Chain {
                reason: format!("generation {id}: missing WAL index {expected:08x} (needed to reach {last_index:08x})"),
            });
        }
        expected = seg.index + 1;
    }

    let updated_at = segments.iter().map(|s| s.created_at).chain([snapshot.created_at]).max().unwrap_or_default();
    Ok(V3Plan { generation: id.clone(), snapshot: snapshot.clone(), segments, last_index, updated_at, tail })
}

/// At `ts` the WAL segments reach only index `max`, more than one below the snapshot chosen:
/// v0.3.13 fails there (`make(chan int, maxWALIndex-minWALIndex+1)` panics on a negative size),
/// so this is an error too, naming the first segment uploaded after `ts`.
fn behind_snapshot(
    id: &str,
    ts: DateTime<Utc>,
    snapshot: &SnapshotInfo,
    max: u64,
    rest: &[SegmentInfo],
) -> RestoreError {
    let next =
        rest.first().map_or_else(String::new, |s| format!("; {} was uploaded at {}", s.key, fmt_time(&s.created_at)));
    RestoreError::NotRestorable(format!(
        "generation {id} at {}: snapshot {:08x} (from {}) is newer than the WAL uploaded by then, which ends \
         in index {max:08x}{next}; Litestream v0.3.13 cannot restore this point either",
        fmt_time(&ts),
        snapshot.index,
        fmt_time(&snapshot.created_at)
    ))
}

/// Newest `created_at <= ts` (first by index on ties, as v0.3.13), or the highest index `<= N`.
fn choose_snapshot(
    generation: &Generation,
    ts: Option<DateTime<Utc>>,
    max_index: Option<u64>,
) -> Result<&SnapshotInfo, RestoreError> {
    let id = &generation.id;
    let chosen = match max_index {
        Some(n) => generation.snapshots.iter().rfind(|s| s.index <= n),
        None => generation.snapshots.iter().filter(|s| ts.is_none_or(|ts| s.created_at <= ts)).fold(
            None,
            |best: Option<&SnapshotInfo>, s| match best {
                Some(b) if s.created_at <= b.created_at => Some(b),
                _ => Some(s),
            },
        ),
    };
    chosen.ok_or_else(|| {
        let reason = match (generation.snapshots.first(), max_index, ts) {
            (None, _, _) => format!("generation {id} has no snapshot"),
            (Some(first), Some(n), _) => {
                format!("generation {id} has no snapshot at or below index {n:08x}; the first is {:08x}", first.index)
            }
            (Some(_), None, ts) => {
                let oldest = generation.snapshots.iter().map(|s| s.created_at).min().unwrap_or_default();
                format!(
                    "generation {id} has no snapshot at or before {}; the oldest is from {}",
                    ts.map_or_else(|| "now".to_string(), |t| fmt_time(&t)),
                    fmt_time(&oldest)
                )
            }
        };
        RestoreError::NotRestorable(reason)
    })
}

fn no_generation(catalog: &V3Catalog) -> RestoreError {
    RestoreError::NotRestorable(format!("no v0.3 generation to restore ({} listed)", catalog.generations.len()))
}

/// `id [first snapshot .. updated_at]` for every generation with a snapshot.
fn ranges(catalog: &V3Catalog) -> String {
    let ranges: Vec<String> = catalog
        .generations
        .iter()
        .filter_map(|g| {
            let from = g.snapshots.iter().map(|s| s.created_at).min()?;
            Some(format!("{} [{} .. {}]", g.id, fmt_time(&from), fmt_time(&g.updated_at)))
        })
        .collect();
    if ranges.is_empty() { "none".to_string() } else { ranges.join(", ") }
}

fn fmt_time(t: &DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::AutoSi, true)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::litestream::v3::catalog::catalog_from_listing;
    use crate::litestream::v3::test_support::{Fixture, obj};

    const G1: &str = "cebec108e499e8f7";
    const G2: &str = "54d5f478e1d92b83";

    fn fx3() -> V3Catalog {
        let fx = Fixture::extract("fx3");
        catalog_from_listing(&fx.listing("fx3/replica")).expect("catalog")
    }

    fn at(s: &str) -> V3Target {
        V3Target::Timestamp(DateTime::parse_from_rfc3339(s).expect("time").to_utc())
    }

    fn summary(p: &V3Plan) -> (String, u64, usize, u64) {
        (p.generation.clone(), p.snapshot.index, p.segments.len(), p.last_index)
    }

    #[test]
    fn latest_is_the_generation_updated_last() {
        let p = plan(&fx3(), &V3Target::Latest).expect("plan");
        assert_eq!(summary(&p), (G2.into(), 7, 3, 8));
        assert_eq!(p.updated_at.to_rfc3339(), "2026-11-24T09:18:17+00:00");
        let keys: Vec<_> = p.segments.iter().map(|s| s.key.rsplit('/').next().unwrap_or_default()).collect();
        assert_eq!(keys, ["00000007_00000000.wal.lz4", "00000007_00001038.wal.lz4", "00000008_00000000.wal.lz4"]);
    }

    #[test]
    fn timestamps_pick_snapshot_and_cut_segments() {
        let cat = fx3();
        // Between snapshot 3 (09:17:32) and 7 (09:17:40) of the first generation.
        let p = plan(&cat, &at("2026-11-24T09:17:35Z")).expect("plan");
        assert_eq!(summary(&p), (G1.into(), 3, 5, 4));
        assert_eq!(p.updated_at.to_rfc3339(), "2026-11-24T09:17:34+00:00");
        // Exactly at a segment's time: inclusive.
        let p = plan(&cat, &at("2026-11-24T09:17:36Z")).expect("plan");
        assert_eq!(summary(&p), (G1.into(), 3, 7, 5));
        // Second generation, before its second snapshot.
        let p = plan(&cat, &at("2026-11-24T09:18:05.5Z")).expect("plan");
        assert_eq!(summary(&p), (G2.into(), 0, 8, 3));
    }

    #[test]
    fn timestamps_outside_every_generation_are_not_restorable() {
        let cat = fx3();
        for ts in ["2026-11-24T09:17:55Z", "2026-11-24T09:17:00Z", "2026-11-24T09:18:18Z"] {
            let err = plan(&cat, &at(ts)).expect_err(ts);
            let msg = err.to_string();
            assert!(matches!(err, RestoreError::NotRestorable(_)), "{msg}");
            assert!(msg.contains("cebec108e499e8f7 [2026-11-24T09:17:24Z .. 2026-11-24T09:17:52Z]"), "{msg}");
        }
    }

    #[test]
    fn generation_and_index() {
        let cat = fx3();
        let p = plan(&cat, &V3Target::Generation { id: G1.into(), index: Some(5) }).expect("plan");
        assert_eq!(summary(&p), (G1.into(), 3, 9, 5));
        let p = plan(&cat, &V3Target::Generation { id: G1.into(), index: None }).expect("plan");
        assert_eq!(summary(&p), (G1.into(), 11, 6, 13));
        let p = plan(&cat, &V3Target::Generation { id: G1.into(), index: Some(0) }).expect("plan");
        assert_eq!(summary(&p), (G1.into(), 0, 3, 0));
        let err = plan(&cat, &V3Target::Generation { id: G1.into(), index: Some(0x0e) }).expect_err("beyond");
        assert!(err.to_string().contains("highest is 0000000d"), "{err}");
        let err = plan(&cat, &V3Target::Generation { id: "0000000000000000".into(), index: None }).expect_err("none");
        assert!(matches!(err, RestoreError::NotRestorable(_)), "{err}");
    }

    #[test]
    fn holes_are_chain_errors() {
        let g = "0123456789abcdef";
        let listing = |names: &[&str]| {
            let objects: Vec<_> =
                names.iter().enumerate().map(|(i, n)| obj(&format!("generations/{g}/{n}"), i as i64)).collect();
            catalog_from_listing(&objects).expect("catalog")
        };
        let missing_first = listing(&["snapshots/00000000.snapshot.lz4", "wal/00000000_00001038.wal.lz4"]);
        let err = plan(&missing_first, &V3Target::Latest).expect_err("missing first");
        assert!(matches!(&err, RestoreError::Chain { reason } if reason.contains("00000000_00001038")), "{err}");

        let missing_index = listing(&[
            "snapshots/00000000.snapshot.lz4",
            "wal/00000000_00000000.wal.lz4",
            "wal/00000002_00000000.wal.lz4",
        ]);
        let err = plan(&missing_index, &V3Target::Latest).expect_err("missing index");
        assert!(matches!(&err, RestoreError::Chain { reason } if reason.contains("missing WAL index 00000001")));
        // Restoring up to before the hole works.
        let p = plan(&missing_index, &V3Target::Generation { id: g.into(), index: Some(0) }).expect("plan");
        assert_eq!(p.last_index, 0);

        let no_snapshot = listing(&["wal/00000000_00000000.wal.lz4"]);
        let err = plan(&no_snapshot, &V3Target::Latest).expect_err("no snapshot");
        assert!(err.to_string().contains("has no snapshot"), "{err}");
    }

    /// A snapshot uploaded before the WAL segments it was taken after (the replica's WAL sync
    /// lags its snapshotter): between the two uploads v0.3.13 restores the snapshot alone when the
    /// WAL reaches the index just below it, and fails (a negative channel size) when it stops
    /// earlier; a cut inside or before the snapshot's index names the segments left out.
    #[test]
    fn snapshot_ahead_of_the_uploaded_wal() {
        let g = "0123456789abcdef";
        let cat = catalog_from_listing(&[
            obj(&format!("generations/{g}/snapshots/00000000.snapshot.lz4"), 1),
            obj(&format!("generations/{g}/wal/00000000_00000000.wal.lz4"), 2),
            obj(&format!("generations/{g}/snapshots/00000002.snapshot.lz4"), 3),
            obj(&format!("generations/{g}/wal/00000001_00000000.wal.lz4"), 5),
            obj(&format!("generations/{g}/wal/00000002_00000000.wal.lz4"), 6),
            obj(&format!("generations/{g}/wal/00000002_00001038.wal.lz4"), 8),
        ])
        .expect("catalog");
        let ts = |s: i64| V3Target::Timestamp(DateTime::from_timestamp(s, 0).expect("time"));
        let err = plan(&cat, &ts(4)).expect_err("WAL ends two indexes below the snapshot");
        assert!(matches!(err, RestoreError::NotRestorable(_)), "{err}");
        let msg = err.to_string();
        assert!(msg.contains("snapshot 00000002") && msg.contains("ends in index 00000000"), "{msg}");
        assert!(msg.contains("00000001_00000000.wal.lz4 was uploaded at"), "{msg}");

        let p = plan(&cat, &ts(5)).expect("snapshot alone");
        assert_eq!(summary(&p), (g.into(), 2, 0, 2));
        assert_eq!(p.tail.len(), 2);
        assert!(p.cut_short().is_some_and(|m| m.contains("00000002_00000000.wal.lz4")));
        let p = plan(&cat, &ts(7)).expect("cut inside the snapshot's index");
        assert_eq!((p.segments.len(), p.tail.len()), (1, 1));
        let p = plan(&cat, &ts(8)).expect("whole index");
        assert!(p.tail.is_empty() && p.cut_short().is_none());
        assert!(plan(&cat, &V3Target::Latest).expect("latest").tail.is_empty());
    }
}
