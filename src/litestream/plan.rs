//! Restore planning: which objects to apply, in which order, for a restore target. The v0.5
//! planner follows Litestream's `CalcRestorePlan` (spec §2.3) so plans match `restore -dry-run`.

use std::cmp::Ordering;

use chrono::{DateTime, Utc};
use serde::Serialize;

use super::RestoreError;
use super::catalog::{Catalog, Format, LtxFile, NewerFormat};
use super::ltx::format_txid;
use super::v3::{self, V3Plan, V3Target};

/// What point of the replica's history to restore.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RestoreTarget {
    /// The newest state.
    Latest,
    /// The state as of this time (v0.5: files strictly before it; v0.3: objects at or before it).
    Timestamp(DateTime<Utc>),
    /// v0.5: the state after this transaction.
    Txid(u64),
    /// v0.3: a generation, optionally up to a WAL index.
    Generation { id: String, index: Option<u64> },
}

/// The objects a restore will apply.
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "format")]
pub enum Plan {
    #[serde(rename = "v0.5")]
    V5 {
        files: Vec<LtxFile>,
        #[serde(serialize_with = "ser_txid")]
        txid: u64,
        timestamp: DateTime<Utc>,
    },
    #[serde(rename = "v0.3")]
    V3(V3Plan),
}

fn ser_txid<S: serde::Serializer>(v: &u64, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&format_txid(*v))
}

impl Plan {
    /// Total bytes of stored objects to read.
    pub fn bytes(&self) -> u64 {
        match self {
            Plan::V5 { files, .. } => files.iter().map(|f| f.size).sum(),
            Plan::V3(p) => p.snapshot.size + p.segments.iter().map(|s| s.size).sum::<u64>(),
        }
    }

    /// Number of stored objects to read.
    pub fn objects(&self) -> usize {
        match self {
            Plan::V5 { files, .. } => files.len(),
            Plan::V3(p) => 1 + p.segments.len(),
        }
    }

    /// One-line description of the point restored.
    pub fn describe(&self) -> String {
        match self {
            Plan::V5 { timestamp, .. } => self.describe_at(*timestamp),
            Plan::V3(p) => format!(
                "v0.3 generation {} up to WAL index {:08x} ({}), snapshot {:08x} + {} WAL segments",
                p.generation,
                p.last_index,
                crate::format::time(p.updated_at),
                p.snapshot.index,
                p.segments.len()
            ),
        }
    }
}

impl Plan {
    /// Like [`Plan::describe`], with the restored point's time given (for v0.5: from the last
    /// file's header, when the plan only had listing times).
    pub fn describe_at(&self, time: DateTime<Utc>) -> String {
        match self {
            Plan::V5 { txid, files, .. } => {
                format!("v0.5 TXID {} ({}), {} LTX files", format_txid(*txid), crate::format::time(time), files.len())
            }
            Plan::V3(_) => self.describe(),
        }
    }
}

/// Plan a restore of `target` from `catalog`. With both formats present, TXIDs go to v0.5,
/// generations to v0.3, and the newer format is preferred otherwise.
pub fn plan(catalog: &Catalog, target: &RestoreTarget) -> Result<Plan, RestoreError> {
    let plan_v5_target = |txid: Option<u64>, ts: Option<DateTime<Utc>>| -> Result<Plan, RestoreError> {
        let c = catalog
            .v5
            .as_ref()
            .ok_or_else(|| RestoreError::NotRestorable("this replica has no v0.5 (LTX) data".into()))?;
        if let Some(ts) = ts {
            check_timestamp_v5(&c.files, ts)?;
        }
        let files = plan_v5(&c.files, txid, ts)?;
        let last = files.last().expect("plans are never empty");
        Ok(Plan::V5 { txid: last.max_txid, timestamp: last.timestamp, files })
    };
    let plan_v3_target = |t: V3Target| -> Result<Plan, RestoreError> {
        let c = catalog
            .v3
            .as_ref()
            .ok_or_else(|| RestoreError::NotRestorable("this replica has no v0.3 (generations) data".into()))?;
        Ok(Plan::V3(v3::plan(c, &t)?))
    };
    let v5_first = !matches!(catalog.format, Format::V3 | Format::Mixed { newer: NewerFormat::V3 });
    match target {
        RestoreTarget::Txid(txid) => plan_v5_target(Some(*txid), None),
        RestoreTarget::Generation { id, index } => {
            plan_v3_target(V3Target::Generation { id: id.clone(), index: *index })
        }
        RestoreTarget::Latest if v5_first => plan_v5_target(None, None),
        RestoreTarget::Latest => plan_v3_target(V3Target::Latest),
        RestoreTarget::Timestamp(ts) => {
            let (first, second): (Box<dyn Fn() -> _>, Box<dyn Fn() -> _>) = if v5_first {
                (Box::new(|| plan_v5_target(None, Some(*ts))), Box::new(|| plan_v3_target(V3Target::Timestamp(*ts))))
            } else {
                (Box::new(|| plan_v3_target(V3Target::Timestamp(*ts))), Box::new(|| plan_v5_target(None, Some(*ts))))
            };
            match first() {
                Ok(p) => Ok(p),
                Err(e) if matches!(catalog.format, Format::Mixed { .. }) => second().map_err(|_| e),
                Err(e) => Err(e),
            }
        }
    }
}

/// A timestamp outside the times of the stored files cannot be honoured faithfully: before the
/// first snapshot nothing exists, after the last file the backup cannot tell what happened.
fn check_timestamp_v5(files: &[LtxFile], ts: DateTime<Utc>) -> Result<(), RestoreError> {
    let earliest = files.iter().filter(|f| f.min_txid == 1).map(|f| f.timestamp).min();
    let latest = files.iter().map(|f| f.timestamp).max();
    match (earliest, latest) {
        (Some(e), Some(l)) if ts <= e || ts > l => Err(RestoreError::NotRestorable(format!(
            "timestamp {} is outside the restorable range: after {} and up to {}",
            crate::format::time(ts),
            crate::format::time(e),
            crate::format::time(l)
        ))),
        (None, _) | (_, None) => Err(RestoreError::NotRestorable("no snapshot to start a restore from".into())),
        _ => Ok(()),
    }
}

/// Litestream's `restoreCandidateBetter`: larger max TXID, then smaller min, then higher level,
/// then earlier creation.
pub(crate) fn better(a: &LtxFile, b: &LtxFile) -> bool {
    let order = a
        .max_txid
        .cmp(&b.max_txid)
        .then(b.min_txid.cmp(&a.min_txid))
        .then(a.level.cmp(&b.level))
        .then(b.timestamp.cmp(&a.timestamp));
    order == Ordering::Greater
}

/// Plan a v0.5 restore up to `txid` (inclusive) and/or of files created strictly before `ts`.
/// `files` may be in any order.
pub fn plan_v5(files: &[LtxFile], txid: Option<u64>, ts: Option<DateTime<Utc>>) -> Result<Vec<LtxFile>, RestoreError> {
    let eligible = |f: &LtxFile| txid.is_none_or(|t| f.max_txid <= t) && ts.is_none_or(|t| f.timestamp < t);
    let mut plan: Vec<LtxFile> = Vec::new();

    let mut snapshots: Vec<&LtxFile> = files.iter().filter(|f| f.level == 9).collect();
    snapshots.sort_by_key(|f| (f.min_txid, f.max_txid));
    if let Some(s) = snapshots.into_iter().rfind(|f| eligible(f)) {
        plan.push(s.clone());
    }
    let mut cur = plan.last().map_or(0, |f| f.max_txid);

    // One cursor per level 8..=0, each over files sorted by min TXID.
    let mut levels: Vec<Vec<&LtxFile>> = (0..=8u8)
        .rev()
        .map(|level| {
            let mut v: Vec<&LtxFile> = files.iter().filter(|f| f.level == level).collect();
            v.sort_by_key(|f| (f.min_txid, f.max_txid));
            v
        })
        .collect();
    let mut cursors = vec![0usize; levels.len()];
    loop {
        if txid.is_some_and(|t| cur >= t) {
            break;
        }
        let mut best: Option<&LtxFile> = None;
        for (files, pos) in levels.iter_mut().zip(cursors.iter_mut()) {
            while let Some(f) = files.get(*pos).copied() {
                if f.min_txid > cur + 1 {
                    break;
                }
                *pos += 1;
                if f.max_txid <= cur || !eligible(f) {
                    continue;
                }
                if best.is_none_or(|b| better(f, b)) {
                    best = Some(f);
                }
            }
        }
        let Some(b) = best else { break };
        plan.push(b.clone());
        cur = b.max_txid;
    }

    if txid.is_none() && ts.is_none() {
        for (files, pos) in levels.iter().zip(&cursors) {
            if let Some(next) = files.get(*pos).filter(|f| f.min_txid > cur + 1) {
                return Err(RestoreError::Chain {
                    reason: format!(
                        "non-contiguous LTX files: have up to TXID {} but next file {} starts at {}",
                        format_txid(cur),
                        next.key,
                        format_txid(next.min_txid)
                    ),
                });
            }
        }
    }
    match (plan.first(), txid) {
        (None, _) => Err(RestoreError::NotRestorable(match ts {
            Some(ts) => format!("no LTX files before {}", crate::format::time(ts)),
            None => "no LTX files to restore from".into(),
        })),
        (Some(first), _) if first.min_txid != 1 => Err(RestoreError::Chain {
            reason: format!(
                "no snapshot: the earliest usable file {} starts at TXID {}",
                first.key,
                format_txid(first.min_txid)
            ),
        }),
        (Some(_), Some(t)) if cur < t => Err(RestoreError::NotRestorable(format!(
            "TXID {} is not available: the chain reaches {}",
            format_txid(t),
            format_txid(cur)
        ))),
        _ => Ok(plan),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn f(level: u8, min: u64, max: u64, secs: i64) -> LtxFile {
        LtxFile {
            level,
            min_txid: min,
            max_txid: max,
            key: format!("ltx/{level}/{min:016x}-{max:016x}.ltx"),
            size: 1000,
            timestamp: Utc.timestamp_opt(1_000 + secs, 0).unwrap(),
        }
    }

    fn ranges(p: &[LtxFile]) -> Vec<(u8, u64, u64)> {
        p.iter().map(|f| (f.level, f.min_txid, f.max_txid)).collect()
    }

    #[test]
    fn prefers_snapshot_then_widest_files() {
        let files = vec![
            f(0, 1, 1, 1),
            f(0, 2, 2, 2),
            f(0, 3, 3, 3),
            f(0, 4, 4, 4),
            f(0, 5, 5, 5),
            f(1, 1, 3, 3),
            f(1, 4, 5, 5),
            f(9, 1, 2, 2),
        ];
        assert_eq!(ranges(&plan_v5(&files, None, None).unwrap()), vec![(9, 1, 2), (1, 1, 3), (1, 4, 5)]);
        assert_eq!(ranges(&plan_v5(&files, Some(3), None).unwrap()), vec![(9, 1, 2), (1, 1, 3)]);
        // Equal max: the smaller min wins (a wider file), as in Litestream.
        assert_eq!(ranges(&plan_v5(&files, Some(4), None).unwrap()), vec![(9, 1, 2), (1, 1, 3), (0, 4, 4)]);
        // Files strictly before the timestamp.
        let ts = Utc.timestamp_opt(1_004, 0).unwrap();
        assert_eq!(ranges(&plan_v5(&files, None, Some(ts)).unwrap()), vec![(9, 1, 2), (1, 1, 3)]);
    }

    #[test]
    fn gaps_are_errors_for_latest_but_not_below_the_gap() {
        let files = vec![f(0, 1, 1, 1), f(0, 2, 2, 2), f(0, 4, 4, 4)];
        let err = plan_v5(&files, None, None).unwrap_err().to_string();
        assert!(err.contains("non-contiguous") && err.contains("0000000000000004"), "{err}");
        assert_eq!(ranges(&plan_v5(&files, Some(2), None).unwrap()), vec![(0, 1, 1), (0, 2, 2)]);
        assert!(plan_v5(&files, Some(4), None).is_err());
    }

    #[test]
    fn needs_a_starting_snapshot() {
        let err = plan_v5(&[f(0, 2, 2, 2)], None, None).unwrap_err().to_string();
        assert!(err.contains("starts at 0000000000000002"), "{err}");
        let err = plan_v5(&[f(0, 2, 2, 2)], Some(2), None).unwrap_err().to_string();
        assert!(err.contains("no LTX files"), "{err}");
    }
}
