//! What a cached restore was built from, kept beside it as `<db>.json`: the replica, and the
//! exact point (v0.5: TXID, page size, page count and the LTX files applied; v0.3: generation,
//! last WAL index and segment). A refresh continues from there when the replica's chain does.

use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::litestream::RestoreError;

/// A cached restore's origin.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Manifest {
    /// The replica, as its store describes itself (`file:///…`, `s3://… (endpoint)`).
    pub replica: String,
    pub point: Point,
    /// When the restore (or the last refresh) was made.
    pub restored_at: DateTime<Utc>,
}

/// The restore point of a cached database.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "format")]
pub enum Point {
    #[serde(rename = "v0.5")]
    V5 {
        txid: u64,
        page_size: u32,
        /// Pages after `txid`.
        commit: u32,
        /// Keys of the LTX files the database was built from (the last restore or refresh).
        files: Vec<String>,
    },
    #[serde(rename = "v0.3")]
    V3 { generation: String, index: u64, segments: Vec<String> },
}

impl Point {
    /// `TXID 000000000000002f`, `generation f565a8e8a76b1ef1 index 00000010`.
    pub fn describe(&self) -> String {
        match self {
            Point::V5 { txid, .. } => format!("TXID {}", crate::litestream::ltx::format_txid(*txid)),
            Point::V3 { generation, index, .. } => format!("generation {generation} index {index:08x}"),
        }
    }

    /// What a refresh to this point reads: `LTX files`, `WAL segments`.
    pub fn objects(&self) -> &'static str {
        match self {
            Point::V5 { .. } => "LTX files",
            Point::V3 { .. } => "WAL segments",
        }
    }
}

/// `<db>.json`.
pub fn manifest_path(db: &Path) -> PathBuf {
    let mut name = db.as_os_str().to_owned();
    name.push(".json");
    PathBuf::from(name)
}

impl Manifest {
    /// The manifest of `db`, when there is a readable one.
    pub fn load(db: &Path) -> Option<Manifest> {
        let text = std::fs::read_to_string(manifest_path(db)).ok()?;
        serde_json::from_str(&text).ok()
    }

    /// Write it beside `db` (a temp file renamed: a reader sees the old or the new one).
    pub fn save(&self, db: &Path) -> Result<(), RestoreError> {
        let path = manifest_path(db);
        let temp = path.with_extension(format!("json.tmp-{}", std::process::id()));
        let text = serde_json::to_string_pretty(self).map_err(|e| RestoreError::output(&path, e))?;
        std::fs::write(&temp, text).map_err(|e| RestoreError::output(&temp, e))?;
        std::fs::rename(&temp, &path).map_err(|e| {
            let _ = std::fs::remove_file(&temp);
            RestoreError::output(&path, e)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_through_its_file() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("t.db");
        let m = Manifest {
            replica: "file:///r".into(),
            point: Point::V5 { txid: 0x2f, page_size: 4096, commit: 12, files: vec!["ltx/0/a.ltx".into()] },
            restored_at: "2026-12-07T00:00:00Z".parse().unwrap(),
        };
        m.save(&db).unwrap();
        assert_eq!(Manifest::load(&db), Some(m));
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1, "no temp file left");
    }
}
