//! Tenant discovery: find every replica below a prefix or folder (a fleet keeps one replica per
//! tenant) and summarise each from its listing, without downloading page data.

use chrono::{DateTime, Utc};
use serde::Serialize;

use super::catalog::{self, Catalog, Format, Times};
use super::{Cancel, Progress, ProgressEvent, RestoreError, Unit};
use crate::parallel;
use crate::storage::ReplicaStore;

/// How deep below the location replicas are searched for.
pub const MAX_DEPTH: usize = 8;

/// One replica found below a location.
#[derive(Debug, Clone, Serialize)]
pub struct Tenant {
    /// Path of the replica relative to the searched location (`""` when the location itself is one).
    pub path: String,
    pub format: Format,
    /// Time of the newest restore point (LTX header time, or v0.3 object time).
    pub latest: Option<DateTime<Utc>>,
    /// v0.5: TXID of the newest restore point.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub latest_txid: Option<String>,
    pub bytes: u64,
    pub objects: usize,
    pub problems: Vec<String>,
}

impl Tenant {
    /// Display name: the last component of the path.
    pub fn name(&self) -> &str {
        self.path.trim_end_matches('/').rsplit('/').next().filter(|s| !s.is_empty()).unwrap_or(".")
    }
}

/// Does a folder listing look like the root of a Litestream replica?
fn is_replica_root(dirs: &[String]) -> bool {
    dirs.iter().any(|d| {
        d == "generations"
            || d == "ltx"
            || (d.len() == 4
                && d.bytes().all(|b| b.is_ascii_hexdigit())
                && u8::from_str_radix(d, 16).is_ok_and(|l| l <= 9))
    })
}

/// Find and summarise every replica below the root of `store`.
pub fn discover(
    store: &dyn ReplicaStore,
    concurrency: usize,
    progress: &dyn Progress,
    cancel: &Cancel,
) -> Result<Vec<Tenant>, RestoreError> {
    let store = store.cancellable(cancel);
    let store = store.as_ref();
    progress.report(ProgressEvent::Phase { name: "listing", total: None, unit: Unit::Items("objects") });
    let mut roots = Vec::new();
    let mut frontier = vec![String::new()];
    for _ in 0..=MAX_DEPTH {
        if frontier.is_empty() {
            break;
        }
        cancel.check()?;
        let listings = parallel::map(&frontier, concurrency, |prefix| store.list_dir(prefix));
        let mut next = Vec::new();
        for (prefix, listing) in frontier.iter().zip(listings) {
            let (dirs, _) = listing?;
            if is_replica_root(&dirs) {
                roots.push(prefix.clone());
            } else {
                next.extend(dirs.iter().map(|d| format!("{prefix}{d}/")));
            }
        }
        progress.report(ProgressEvent::Note(format!("{} replicas found", roots.len())));
        frontier = next;
    }
    roots.sort();
    progress.report(ProgressEvent::Phase {
        name: "summarising",
        total: Some(roots.len() as u64),
        unit: Unit::Items("replicas"),
    });
    let done = std::sync::atomic::AtomicU64::new(0);
    let summaries = parallel::map(&roots, concurrency, |root| {
        if cancel.is_cancelled() {
            return Err(RestoreError::Cancelled);
        }
        let r = summarise(store, root);
        let d = done.fetch_add(1, std::sync::atomic::Ordering::Relaxed) + 1;
        progress.report(ProgressEvent::Advance { done: d });
        r
    });
    summaries.into_iter().collect()
}

/// Summarise the replica at `root` (a prefix ending in `/`, or empty).
fn summarise(store: &dyn ReplicaStore, root: &str) -> Result<Tenant, RestoreError> {
    let child = store.child(root.strip_suffix('/').unwrap_or(root));
    let objects = child.list("")?;
    let catalog = catalog::from_listing(child.as_ref(), &objects, Times::Listing)?;
    let (latest, latest_txid) = latest_point(child.as_ref(), &catalog);
    Ok(Tenant {
        path: root.trim_end_matches('/').to_string(),
        format: catalog.format,
        latest,
        latest_txid,
        bytes: catalog.bytes,
        objects: catalog.objects,
        problems: catalog.problems,
    })
}

/// The newest restore point: for v0.5 the precise time of the file with the highest TXID (one
/// metadata request), for v0.3 the newest object time.
fn latest_point(store: &dyn ReplicaStore, c: &Catalog) -> (Option<DateTime<Utc>>, Option<String>) {
    let v3 = c.v3.as_ref().and_then(|v| v.generations.iter().map(|g| g.updated_at).max());
    let v5 = c.v5.as_ref().and_then(|v| {
        let newest = v.files.iter().max_by_key(|f| (f.max_txid, f.level == 0))?;
        let precise = catalog::load_precise_time(store, newest).unwrap_or(newest.timestamp);
        Some((precise, super::ltx::format_txid(newest.max_txid)))
    });
    match (v5, v3) {
        (Some((t5, txid)), Some(t3)) if t5 >= t3 => (Some(t5), Some(txid)),
        (Some(_), Some(t3)) => (Some(t3), None),
        (Some((t5, txid)), None) => (Some(t5), Some(txid)),
        (None, t3) => (t3, None),
    }
}
