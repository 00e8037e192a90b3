//! The catalog of a replica: what is stored (v0.5 levels, v0.3 generations), what can be restored
//! (the restorable range) and the problems visible without downloading page data.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::Serialize;

use super::ltx::{self, HEADER_SIZE, TRAILER_SIZE};
use super::v3::{self, V3Catalog};
use super::{RestoreError, plan};
use crate::parallel;
use crate::storage::{ObjectInfo, ReplicaStore};

/// Concurrent metadata requests (HEAD or 100-byte reads) when resolving LTX timestamps.
pub const METADATA_CONCURRENCY: usize = 32;

/// One LTX file of a v0.5 replica.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LtxFile {
    pub level: u8,
    #[serde(serialize_with = "ser_txid")]
    pub min_txid: u64,
    #[serde(serialize_with = "ser_txid")]
    pub max_txid: u64,
    pub key: String,
    pub size: u64,
    /// The LTX header timestamp (from S3 metadata or the header itself); the listing time when
    /// precise times were not requested.
    pub timestamp: DateTime<Utc>,
}

fn ser_txid<S: serde::Serializer>(v: &u64, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&ltx::format_txid(*v))
}

/// Summary of one level.
#[derive(Debug, Clone, Serialize)]
pub struct LevelSummary {
    pub level: u8,
    pub files: usize,
    #[serde(serialize_with = "ser_txid")]
    pub min_txid: u64,
    #[serde(serialize_with = "ser_txid")]
    pub max_txid: u64,
    pub first_time: DateTime<Utc>,
    pub last_time: DateTime<Utc>,
    pub bytes: u64,
}

/// The v0.5 part of a replica.
#[derive(Debug, Clone, Serialize)]
pub struct V5Catalog {
    pub levels: Vec<LevelSummary>,
    #[serde(serialize_with = "ser_txid")]
    pub max_txid: u64,
    /// Every file, sorted by (level, min, max).
    #[serde(skip)]
    pub files: Vec<LtxFile>,
    pub problems: Vec<String>,
}

/// Which format a replica is in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Format {
    #[serde(rename = "v0.5")]
    V5,
    #[serde(rename = "v0.3")]
    V3,
    /// Both v0.3 and v0.5 data under one root; `newer` is restored by default.
    #[serde(rename = "mixed")]
    Mixed { newer: NewerFormat },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum NewerFormat {
    #[serde(rename = "v0.5")]
    V5,
    #[serde(rename = "v0.3")]
    V3,
}

/// The earliest and latest points a restore can reach.
#[derive(Debug, Clone, Serialize)]
pub struct RestorableRange {
    pub earliest: DateTime<Utc>,
    pub latest: DateTime<Utc>,
    /// v0.5: the latest TXID reachable.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub latest_txid: Option<String>,
}

/// Everything known about one replica from its listing (and LTX headers).
#[derive(Debug, Clone, Serialize)]
pub struct Catalog {
    pub location: String,
    pub format: Format,
    pub objects: usize,
    pub bytes: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub v5: Option<V5Catalog>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub v3: Option<V3Catalog>,
    pub restorable: Option<RestorableRange>,
    pub problems: Vec<String>,
}

/// A v0.5 key relative to the replica root: `ltx/<level>/<name>` (file layout) or
/// `<level %04x>/<name>` (S3 layout, possibly with a leading `/` when the S3 path is empty).
pub fn parse_ltx_key(key: &str) -> Option<(u8, u64, u64)> {
    let key = key.strip_prefix('/').unwrap_or(key);
    let mut parts = key.split('/');
    let (level, name) = match (parts.next()?, parts.next()?, parts.next()) {
        ("ltx", level, Some(name)) => (level.parse::<u8>().ok()?, name),
        (level, name, None) if level.len() == 4 => (u8::from_str_radix(level, 16).ok()?, name),
        _ => return None,
    };
    if parts.next().is_some() || level > 9 {
        return None;
    }
    let (min, max) = ltx::parse_file_name(name)?;
    Some((level, min, max))
}

/// How LTX timestamps are obtained.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Times {
    /// From the listing (mtime or S3 `LastModified`): no extra requests.
    Listing,
    /// From S3 metadata `litestream-timestamp` or the LTX header (one request per file).
    Precise,
}

/// Build the catalog of the replica at the root of `store`.
pub fn load(store: &dyn ReplicaStore, times: Times) -> Result<Catalog, RestoreError> {
    let objects = store.list("")?;
    from_listing(store, &objects, times)
}

/// Build the catalog from an existing listing.
pub fn from_listing(store: &dyn ReplicaStore, objects: &[ObjectInfo], times: Times) -> Result<Catalog, RestoreError> {
    let v5 = load_v5(store, objects, times)?;
    let v3 = v3::catalog_from_listing(objects);
    let format = match (&v5, &v3) {
        (Some(_), None) => Format::V5,
        (None, Some(_)) => Format::V3,
        (Some(a), Some(b)) => Format::Mixed {
            newer: if v5_latest_time(a) >= v3_latest_time(b) { NewerFormat::V5 } else { NewerFormat::V3 },
        },
        (None, None) => return Err(RestoreError::NoReplica { location: store.describe() }),
    };
    let mut problems = Vec::new();
    if let Some(c) = &v5 {
        problems.extend(c.problems.iter().cloned());
    }
    if let Some(c) = &v3 {
        for g in &c.generations {
            problems.extend(g.problems.iter().cloned());
        }
    }
    let restorable = restorable_range(v5.as_ref(), v3.as_ref());
    Ok(Catalog {
        location: store.describe(),
        format,
        objects: objects.len(),
        bytes: objects.iter().map(|o| o.size).sum(),
        v5,
        v3,
        restorable,
        problems,
    })
}

fn v5_latest_time(c: &V5Catalog) -> DateTime<Utc> {
    c.files.iter().map(|f| f.timestamp).max().unwrap_or_default()
}

fn v3_latest_time(c: &V3Catalog) -> DateTime<Utc> {
    c.generations.iter().map(|g| g.updated_at).max().unwrap_or_default()
}

fn restorable_range(v5: Option<&V5Catalog>, v3: Option<&V3Catalog>) -> Option<RestorableRange> {
    let mut range: Option<RestorableRange> = None;
    let mut widen = |earliest: DateTime<Utc>, latest: DateTime<Utc>, txid: Option<String>| {
        let r = range.get_or_insert(RestorableRange { earliest, latest, latest_txid: None });
        r.earliest = r.earliest.min(earliest);
        if latest >= r.latest {
            r.latest = latest;
        }
        if txid.is_some() {
            r.latest_txid = txid;
        }
    };
    if let Some(c) = v5 {
        // A restore needs a starting snapshot (level 9, or any file beginning at TXID 1).
        let earliest = c.files.iter().filter(|f| f.min_txid == 1).map(|f| f.timestamp).min();
        if let (Some(earliest), Ok(latest_plan)) = (earliest, plan::plan_v5(&c.files, None, None)) {
            let last = latest_plan.last().map(|f| f.max_txid).unwrap_or(0);
            widen(earliest, v5_latest_time(c), Some(ltx::format_txid(last)));
        }
    }
    if let Some(c) = v3 {
        for g in &c.generations {
            if let Some(first_snapshot) = g.snapshots.iter().map(|s| s.created_at).min() {
                widen(first_snapshot, g.updated_at, None);
            }
        }
    }
    range
}

fn load_v5(store: &dyn ReplicaStore, objects: &[ObjectInfo], times: Times) -> Result<Option<V5Catalog>, RestoreError> {
    let mut files: Vec<LtxFile> = objects
        .iter()
        .filter_map(|o| {
            let (level, min, max) = parse_ltx_key(&o.key)?;
            Some(LtxFile {
                level,
                min_txid: min,
                max_txid: max,
                key: o.key.clone(),
                size: o.size,
                timestamp: o.modified,
            })
        })
        .collect();
    if files.is_empty() {
        return Ok(None);
    }
    let mut problems = Vec::new();
    // Local headers are cheap to read, and file mtimes are lost by copies and checkouts.
    let local = files.first().is_some_and(|f| store.local_path(&f.key).is_some());
    if times == Times::Precise || local {
        let resolved = parallel::map(&files, METADATA_CONCURRENCY, |f| load_precise_time(store, f));
        for (f, t) in files.iter_mut().zip(resolved) {
            match t {
                Ok(t) => f.timestamp = t,
                Err(e) => problems.push(e.to_string()),
            }
        }
    }
    files.sort_by_key(|f| (f.level, f.min_txid, f.max_txid));
    for f in &files {
        if f.size < (HEADER_SIZE + TRAILER_SIZE) as u64 {
            problems.push(format!("{}: only {} bytes, too small to be an LTX file", f.key, f.size));
        }
        if f.level == 9 && f.min_txid != 1 {
            problems.push(format!("{}: snapshot (level 9) does not start at TXID 1", f.key));
        }
    }
    let max_txid = files.iter().map(|f| f.max_txid).max().unwrap_or(0);
    problems.extend(coverage_gaps(&files, max_txid));
    if let Err(e) = plan::plan_v5(&files, None, None) {
        problems.push(format!("latest restore: {e}"));
    }
    let mut levels: BTreeMap<u8, LevelSummary> = BTreeMap::new();
    for f in &files {
        let s = levels.entry(f.level).or_insert(LevelSummary {
            level: f.level,
            files: 0,
            min_txid: f.min_txid,
            max_txid: f.max_txid,
            first_time: f.timestamp,
            last_time: f.timestamp,
            bytes: 0,
        });
        s.files += 1;
        s.min_txid = s.min_txid.min(f.min_txid);
        s.max_txid = s.max_txid.max(f.max_txid);
        s.first_time = s.first_time.min(f.timestamp);
        s.last_time = s.last_time.max(f.timestamp);
        s.bytes += f.size;
    }
    Ok(Some(V5Catalog { levels: levels.into_values().collect(), max_txid, files, problems }))
}

/// TXID ranges in `1..=max` that no file of any level covers: history that is lost.
fn coverage_gaps(files: &[LtxFile], max: u64) -> Vec<String> {
    let mut ranges: Vec<(u64, u64)> = files.iter().map(|f| (f.min_txid, f.max_txid)).collect();
    ranges.sort();
    let mut gaps = Vec::new();
    let mut covered = 0u64;
    for (min, max_) in ranges {
        if min > covered + 1 {
            gaps.push(format!(
                "TXID gap: no file at any level covers {}-{}",
                ltx::format_txid(covered + 1),
                ltx::format_txid(min - 1)
            ));
        }
        covered = covered.max(max_);
    }
    debug_assert!(covered <= max);
    gaps
}

/// The precise creation time of an LTX file: S3 metadata `litestream-timestamp` when present,
/// else the header timestamp (a 100-byte ranged read).
pub fn load_precise_time(store: &dyn ReplicaStore, f: &LtxFile) -> Result<DateTime<Utc>, RestoreError> {
    if store.local_path(&f.key).is_none() {
        let meta = store.metadata(&f.key)?;
        if let Some(t) = meta.get("litestream-timestamp").and_then(|v| DateTime::parse_from_rfc3339(v).ok()) {
            return Ok(t.with_timezone(&Utc));
        }
    }
    let head = store.get_range(&f.key, 0, HEADER_SIZE as u64)?;
    Ok(ltx::Header::parse(&f.key, &head)?.timestamp())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_both_layouts() {
        assert_eq!(parse_ltx_key("ltx/0/0000000000000001-0000000000000001.ltx"), Some((0, 1, 1)));
        assert_eq!(parse_ltx_key("ltx/9/0000000000000001-0000000000000020.ltx"), Some((9, 1, 0x20)));
        assert_eq!(parse_ltx_key("0009/0000000000000001-0000000000000020.ltx"), Some((9, 1, 0x20)));
        assert_eq!(parse_ltx_key("/0000/0000000000000001-0000000000000001.ltx"), Some((0, 1, 1)));
        assert_eq!(parse_ltx_key("ltx/10/0000000000000001-0000000000000001.ltx"), None);
        assert_eq!(parse_ltx_key("generations/x/snapshots/00000000.snapshot.lz4"), None);
    }

    #[test]
    fn reports_coverage_gaps() {
        let f = |min, max| LtxFile {
            level: 0,
            min_txid: min,
            max_txid: max,
            key: String::new(),
            size: 200,
            timestamp: DateTime::default(),
        };
        assert!(coverage_gaps(&[f(1, 3), f(4, 4), f(2, 6)], 6).is_empty());
        let gaps = coverage_gaps(&[f(1, 3), f(6, 7)], 7);
        assert_eq!(gaps, vec!["TXID gap: no file at any level covers 0000000000000004-0000000000000005".to_string()]);
    }
}
