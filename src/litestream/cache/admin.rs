//! Looking after the restore cache: its entries (each restored database with its manifest),
//! removing some, and collecting the ones unused for a while along with what interrupted
//! restores left behind.

use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use chrono::{DateTime, Utc};
use serde::Serialize;

use super::manifest::{Manifest, manifest_path};
use crate::litestream::RestoreError;

/// One cached database.
#[derive(Debug, Clone, Serialize)]
pub struct Entry {
    pub path: PathBuf,
    pub bytes: u64,
    /// Last restored, refreshed or used.
    pub used: DateTime<Utc>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub manifest: Option<Manifest>,
}

/// Temp files of restores younger than this may belong to a restore still running.
const TEMP_GRACE: Duration = Duration::from_secs(3600);

/// The entries under `dir`, most recently used first (none when it does not exist).
pub fn list(dir: &Path) -> Result<Vec<Entry>, RestoreError> {
    let Ok(read) = std::fs::read_dir(dir) else { return Ok(Vec::new()) };
    let mut out = Vec::new();
    for e in read.flatten() {
        let path = e.path();
        let name = e.file_name().to_string_lossy().into_owned();
        if name.starts_with('.') || !name.ends_with(".db") || !path.is_file() {
            continue;
        }
        let meta = e.metadata().map_err(|err| RestoreError::output(&path, err))?;
        // Written (the database) or last used (its manifest is touched on use).
        let manifest_time = std::fs::metadata(manifest_path(&path)).and_then(|m| m.modified()).ok();
        let used = meta.modified().ok().into_iter().chain(manifest_time).max();
        let used = used.map(DateTime::<Utc>::from).unwrap_or_else(Utc::now);
        out.push(Entry { manifest: Manifest::load(&path), path, bytes: meta.len(), used });
    }
    out.sort_by(|a, b| b.used.cmp(&a.used).then(a.path.cmp(&b.path)));
    Ok(out)
}

/// Remove a cached database, its manifest and its lock file.
pub fn remove(db: &Path) -> Result<(), RestoreError> {
    std::fs::remove_file(db).map_err(|e| RestoreError::output(db, e))?;
    let _ = std::fs::remove_file(manifest_path(db));
    let _ = std::fs::remove_file(db.with_extension("db.lock"));
    Ok(())
}

/// What [`gc`] removed.
#[derive(Debug, Clone, Default, Serialize)]
pub struct GcReport {
    pub removed: Vec<PathBuf>,
    pub bytes: u64,
    /// Temp files and spill folders of interrupted restores, orphaned manifests.
    pub leftovers: usize,
}

/// Remove the entries not used for `unused_for`, and the leftovers of interrupted restores
/// older than an hour.
pub fn gc(dir: &Path, unused_for: Duration) -> Result<GcReport, RestoreError> {
    let now = SystemTime::now();
    let mut report = GcReport::default();
    for e in list(dir)? {
        let age = now.duration_since(SystemTime::from(e.used)).unwrap_or_default();
        if age > unused_for {
            remove(&e.path)?;
            report.bytes += e.bytes;
            report.removed.push(e.path);
        }
    }
    let Ok(read) = std::fs::read_dir(dir) else { return Ok(report) };
    for e in read.flatten() {
        let path = e.path();
        let name = e.file_name().to_string_lossy().into_owned();
        let old = e
            .metadata()
            .and_then(|m| m.modified())
            .is_ok_and(|t| now.duration_since(t).unwrap_or_default() > TEMP_GRACE);
        let temp = name.starts_with('.') && (name.contains(".chronoscope-") || name.contains(".tmp"));
        let orphan = [".db.json", ".db.lock"]
            .iter()
            .any(|ext| name.ends_with(ext) && !dir.join(&name[..name.len() - ext.len() + 3]).is_file());
        if (temp && old) || orphan {
            let removed = if path.is_dir() { std::fs::remove_dir_all(&path) } else { std::fs::remove_file(&path) };
            if removed.is_ok() {
                report.leftovers += 1;
            }
        }
    }
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gc_removes_unused_entries_and_orphans_only() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        std::fs::write(d.join("old.db"), b"x").unwrap();
        std::fs::write(d.join("old.db.json"), b"{}").unwrap();
        std::fs::write(d.join("new.db"), b"yy").unwrap();
        std::fs::write(d.join("gone.db.json"), b"{}").unwrap();
        std::fs::write(d.join(".new.db.chronoscope-1.tmp"), b"").unwrap();
        let week_ago = SystemTime::now() - Duration::from_secs(7 * 86400);
        for f in ["old.db", "old.db.json"] {
            std::fs::File::options().append(true).open(d.join(f)).unwrap().set_modified(week_ago).unwrap();
        }
        let r = gc(d, Duration::from_secs(86400)).unwrap();
        assert_eq!(r.removed, [d.join("old.db")]);
        assert_eq!((r.bytes, r.leftovers), (1, 1), "the orphan manifest; the fresh temp file stays");
        let mut left: Vec<String> =
            std::fs::read_dir(d).unwrap().flatten().map(|e| e.file_name().to_string_lossy().into_owned()).collect();
        left.sort();
        assert_eq!(left, [".new.db.chronoscope-1.tmp", "new.db"]);
    }
}
