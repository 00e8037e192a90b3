//! The restore cache: restored databases kept under a cache folder. The latest point of a
//! replica is one entry refreshed incrementally ([`refresh`]); other points are keyed by the
//! replica and the exact objects of their plan, so opening the same point twice restores once.
//! Each entry's origin is in its manifest ([`manifest`]); [`admin`] lists and removes entries.

pub mod admin;
pub mod manifest;
pub mod refresh;

use std::hash::{Hash, Hasher};
use std::path::{Path, PathBuf};

use super::catalog::{self, Times};
use super::plan::{self, Plan, RestoreTarget};
use super::restore::{self, RestoreOptions};
use super::v3::AgeIdentities;
use super::{Cancel, Progress, RestoreError};
use crate::storage::ReplicaStore;

/// `$XDG_CACHE_HOME/chronoscope/restores` (or `~/.cache/…`, or the temp folder).
pub fn default_dir() -> PathBuf {
    let base = std::env::var_os("XDG_CACHE_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache")))
        .unwrap_or_else(std::env::temp_dir);
    base.join("chronoscope").join("restores")
}

/// The file a plan of `store` is cached as: `<name>-<point>-<hash>.db`.
pub fn cached_path(dir: &Path, store: &dyn ReplicaStore, plan: &Plan) -> PathBuf {
    let mut h = std::hash::DefaultHasher::new();
    store.describe().hash(&mut h);
    let point = match plan {
        Plan::V5 { files, txid, .. } => {
            for f in files {
                (&f.key, f.size).hash(&mut h);
            }
            format!("txid-{txid:016x}")
        }
        Plan::V3(p) => {
            (&p.snapshot.key, p.snapshot.size).hash(&mut h);
            for s in &p.segments {
                (&s.key, s.size).hash(&mut h);
            }
            format!("gen-{}-{:08x}", p.generation, p.last_index)
        }
    };
    dir.join(format!("{}-{point}-{:016x}.db", replica_name(store), h.finish()))
}

/// The replica's last path component, for file names (`tenant-alpha`).
fn replica_name(store: &dyn ReplicaStore) -> String {
    store
        .describe()
        .split(" (")
        .next()
        .unwrap_or_default()
        .trim_end_matches('/')
        .rsplit('/')
        .next()
        .unwrap_or("replica")
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() || c == '-' || c == '_' { c } else { '_' })
        .collect()
}

/// Restore `target` of `store` into the cache (unless already there) and return its path and
/// whether it was restored now.
pub fn restore_cached(
    store: &dyn ReplicaStore,
    target: &RestoreTarget,
    age: &AgeIdentities,
    dir: &Path,
    progress: &dyn Progress,
    cancel: &Cancel,
) -> Result<(PathBuf, bool), RestoreError> {
    if *target == RestoreTarget::Latest {
        let r = refresh::refresh_latest(store, age, dir, progress, cancel)?;
        return Ok((r.path, r.outcome != refresh::CacheOutcome::UpToDate));
    }
    let times = if matches!(target, RestoreTarget::Timestamp(_)) { Times::Precise } else { Times::Listing };
    let catalog = catalog::load(store, times)?;
    let plan = plan::plan(&catalog, target)?;
    let path = cached_path(dir, store, &plan);
    if path.is_file() {
        return Ok((path, false));
    }
    let mut opts = RestoreOptions::new(&path);
    opts.age = age.clone();
    restore::execute(store, &plan, &opts, progress, cancel)?;
    Ok((path, true))
}
