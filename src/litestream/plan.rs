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

    /// The stored objects to read, in order, with their sizes.
    pub fn keys(&self) -> Vec<(String, u64)> {
        match self {
            Plan::V5 { files, .. } => files.iter().map(|f| (f.key.clone(), f.size)).collect(),
            Plan::V3(p) => std::iter::once((p.snapshot.key.clone(), p.snapshot.size))
                .chain(p.segments.iter().map(|s| (s.key.clone(), s.size)))
                .collect(),
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

/// A timestamp at or before the first file starting at TXID 1 cannot be honoured: nothing is
/// restorable yet (files are taken strictly before the time). One after
/// the newest file restores the newest state, as Litestream v0.5.17 does (`restore -config … DB`;
/// files strictly before the time are all of them): the backup cannot tell what happened later,
/// which [`past_the_end`] says. The range named is that of every file, snapshots included.
fn check_timestamp_v5(files: &[LtxFile], ts: DateTime<Utc>) -> Result<(), RestoreError> {
    let earliest = files.iter().filter(|f| f.min_txid == 1).map(|f| f.timestamp).min();
    let latest = files.iter().map(|f| f.timestamp).max();
    match (earliest, latest) {
        (Some(e), Some(l)) if ts <= e => Err(RestoreError::NotRestorable(format!(
            "timestamp {} is outside the restorable range: after {} and up to {}",
            crate::format::time(ts),
            crate::format::time(e),
            crate::format::time(l)
        ))),
        (None, _) | (_, None) => Err(RestoreError::NotRestorable("no snapshot to start a restore from".into())),
        _ => Ok(()),
    }
}

/// Where the backup ends, when `target` is a time after the newest v0.5 file of the catalog (any
/// level): `plan` is then the newest state, and a restore should say that the backup knows
/// nothing later. `None` otherwise.
pub fn past_the_end(catalog: &Catalog, plan: &Plan, target: &RestoreTarget) -> Option<String> {
    let (RestoreTarget::Timestamp(ts), Plan::V5 { txid, .. }, Some(v5)) = (target, plan, &catalog.v5) else {
        return None;
    };
    let end = v5.files.iter().map(|f| f.timestamp).max()?;
    (*ts > end).then(|| {
        format!(
            "{} is after the newest file of the backup ({}): the backup ends at TXID {}, its newest state",
            crate::format::time(*ts),
            crate::format::time(end),
            format_txid(*txid)
        )
    })
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
    use std::collections::BTreeMap;

    use super::*;
    use crate::litestream::catalog::{self, Times};
    use crate::storage::{ObjectInfo, ReplicaStore, StoreError};
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

    /// An S3 listing (`LastModified`, whole seconds) whose objects carry their precise time as
    /// `litestream-timestamp` metadata, like Litestream v0.5 writes them. It holds no object
    /// bodies: reading one is "not found" (planning reads none).
    #[derive(Clone)]
    struct Listed(Vec<(ObjectInfo, DateTime<Utc>)>);

    impl ReplicaStore for Listed {
        fn describe(&self) -> String {
            "s3://test/db".into()
        }
        fn list(&self, prefix: &str) -> Result<Vec<ObjectInfo>, StoreError> {
            Ok(self.0.iter().filter(|(o, _)| o.key.starts_with(prefix)).map(|(o, _)| o.clone()).collect())
        }
        fn list_dir(&self, prefix: &str) -> Result<(Vec<String>, Vec<ObjectInfo>), StoreError> {
            let (mut dirs, mut files) = (Vec::new(), Vec::new());
            for o in self.list(prefix)? {
                match o.key[prefix.len()..].split_once('/') {
                    Some((dir, _)) => dirs.push(dir.to_owned()),
                    None => files.push(o),
                }
            }
            dirs.dedup();
            Ok((dirs, files))
        }
        fn metadata(&self, key: &str) -> Result<BTreeMap<String, String>, StoreError> {
            let (_, t) = self.0.iter().find(|(o, _)| o.key == key).ok_or(StoreError::NotFound { key: key.into() })?;
            Ok(BTreeMap::from([("litestream-timestamp".to_string(), t.to_rfc3339())]))
        }
        fn get_range(&self, key: &str, _offset: u64, _len: u64) -> Result<Vec<u8>, StoreError> {
            Err(StoreError::NotFound { key: key.into() })
        }
        fn open(&self, key: &str) -> Result<Box<dyn std::io::Read + Send>, StoreError> {
            Err(StoreError::NotFound { key: key.into() })
        }
        fn child(&self, sub: &str) -> Box<dyn ReplicaStore> {
            let prefix = format!("{}/", sub.trim_matches('/'));
            let under = self.0.iter().filter_map(|(o, t)| {
                let key = o.key.strip_prefix(&prefix)?.to_owned();
                Some((ObjectInfo { key, ..o.clone() }, *t))
            });
            Box::new(Listed(under.collect()))
        }
        fn cancellable(&self, _cancel: &crate::cancel::Cancel) -> Box<dyn ReplicaStore> {
            Box::new(self.clone())
        }
    }

    /// Issue 11: the newest file is a snapshot written after the last L0 file. A time after it
    /// restores the newest state (as Litestream v0.5.17 does) and says where the backup ends; a
    /// time before the first snapshot is refused naming a range that reaches the snapshot's time.
    #[test]
    fn a_time_after_the_newest_file_restores_the_newest_state() {
        let ms = |ms: i64| Utc.with_ymd_and_hms(2026, 11, 24, 9, 0, 0).unwrap() + chrono::TimeDelta::milliseconds(ms);
        // (level, min, max, precise time in ms; LastModified is the next whole second)
        let objects = [(9, 1, 1, 10_000), (0, 1, 1, 10_100), (0, 2, 2, 12_100), (0, 3, 3, 14_100), (9, 1, 3, 20_200)];
        let store = Listed(
            objects
                .iter()
                .map(|&(level, min, max, t): &(u8, u64, u64, i64)| {
                    let key = format!("{level:04x}/{min:016x}-{max:016x}.ltx");
                    (ObjectInfo { key, size: 1000, modified: ms((t / 1000 + 1) * 1000) }, ms(t))
                })
                .collect(),
        );
        let listing = store.list("").unwrap();
        let catalog = catalog::from_listing(&store, &listing, Times::Precise).unwrap();
        let range = catalog.restorable.as_ref().expect("a restorable range");
        assert_eq!((range.earliest, range.latest), (ms(10_000), ms(20_200)), "every file's time, the snapshot's too");
        let listed = catalog::from_listing(&store, &listing, Times::Listing).unwrap();
        assert_eq!(listed.restorable.as_ref().map(|r| r.latest), Some(ms(21_000)));

        let at = |t: i64| RestoreTarget::Timestamp(ms(t));
        for t in [20_201, 23_000, 86_400_000] {
            let p = plan(&catalog, &at(t)).unwrap_or_else(|e| panic!("{t}: {e}"));
            let Plan::V5 { txid, ref files, timestamp } = p else { panic!("{t}: {p:?}") };
            assert_eq!((txid, ranges(files), timestamp), (3, vec![(9, 1, 3)], ms(20_200)), "{t}");
            let note = past_the_end(&catalog, &p, &at(t)).unwrap_or_else(|| panic!("{t}: no note"));
            assert!(note.contains("newest file of the backup (2026-11-24T09:00:20.200Z)"), "{note}");
            assert!(note.contains("ends at TXID 0000000000000003"), "{note}");
        }
        // Up to the snapshot's time itself (files strictly before it): the L0 files, no note.
        for t in [14_101, 20_200] {
            let p = plan(&catalog, &at(t)).unwrap_or_else(|e| panic!("{t}: {e}"));
            let Plan::V5 { txid, ref files, .. } = p else { panic!("{t}: {p:?}") };
            assert_eq!((txid, ranges(files)), (3, vec![(9, 1, 1), (0, 2, 2), (0, 3, 3)]), "{t}");
            assert_eq!(past_the_end(&catalog, &p, &at(t)), None);
        }
        for t in [10_000, 0] {
            let err = plan(&catalog, &at(t)).unwrap_err().to_string();
            assert!(
                err.contains(
                    "outside the restorable range: after 2026-11-24T09:00:10.000Z and up to 2026-11-24T09:00:20.200Z"
                ),
                "{err}"
            );
        }
    }

    #[test]
    fn needs_a_starting_snapshot() {
        let err = plan_v5(&[f(0, 2, 2, 2)], None, None).unwrap_err().to_string();
        assert!(err.contains("starts at 0000000000000002"), "{err}");
        let err = plan_v5(&[f(0, 2, 2, 2)], Some(2), None).unwrap_err().to_string();
        assert!(err.contains("no LTX files"), "{err}");
    }
}
