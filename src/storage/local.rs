//! A replica in a local folder (Litestream `type: file`), read-only.

use std::collections::BTreeMap;
use std::fs;
use std::io::{Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};

use super::{ObjectInfo, ReplicaStore, StoreError};

/// A folder holding a replica (or many tenants' replicas below it).
#[derive(Debug, Clone)]
pub struct LocalStore {
    root: PathBuf,
}

impl LocalStore {
    pub fn new(root: impl Into<PathBuf>) -> Self {
        LocalStore { root: root.into() }
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    fn path(&self, key: &str) -> PathBuf {
        self.root.join(key.trim_start_matches('/'))
    }

    fn info(&self, key: String, meta: &fs::Metadata) -> ObjectInfo {
        let modified = meta.modified().map(DateTime::<Utc>::from).unwrap_or_default();
        ObjectInfo { key, size: meta.len(), modified }
    }

    fn walk(&self, dir: &Path, rel: &str, prefix: &str, out: &mut Vec<ObjectInfo>) -> Result<(), StoreError> {
        let entries = match fs::read_dir(dir) {
            Ok(e) => e,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
            Err(e) => return Err(StoreError::io(dir.display().to_string(), e)),
        };
        for entry in entries {
            let entry = entry.map_err(|e| StoreError::io(dir.display().to_string(), e))?;
            let name = entry.file_name().to_string_lossy().into_owned();
            let key = if rel.is_empty() { name } else { format!("{rel}/{name}") };
            let meta = fs::metadata(entry.path()).map_err(|e| StoreError::io(entry.path().display().to_string(), e))?;
            if meta.is_dir() {
                // Only descend where the prefix can still match.
                let dir_key = format!("{key}/");
                if dir_key.starts_with(prefix) || prefix.starts_with(&dir_key) {
                    self.walk(&entry.path(), &key, prefix, out)?;
                }
            } else if meta.is_file() && key.starts_with(prefix) {
                out.push(self.info(key, &meta));
            }
        }
        Ok(())
    }
}

fn map_io(path: &Path, key: &str, e: std::io::Error) -> StoreError {
    match e.kind() {
        std::io::ErrorKind::NotFound => StoreError::NotFound { key: path.display().to_string() },
        std::io::ErrorKind::PermissionDenied => {
            StoreError::AccessDenied { location: path.display().to_string(), detail: e.to_string() }
        }
        _ => StoreError::io(format!("{} ({key})", path.display()), e),
    }
}

impl ReplicaStore for LocalStore {
    fn describe(&self) -> String {
        self.root.display().to_string()
    }

    fn list(&self, prefix: &str) -> Result<Vec<ObjectInfo>, StoreError> {
        if !self.root.is_dir() {
            return Err(StoreError::NotFound { key: self.root.display().to_string() });
        }
        let mut out = Vec::new();
        self.walk(&self.root, "", prefix.trim_start_matches('/'), &mut out)?;
        out.sort_by(|a, b| a.key.cmp(&b.key));
        Ok(out)
    }

    fn list_dir(&self, prefix: &str) -> Result<(Vec<String>, Vec<ObjectInfo>), StoreError> {
        let dir = self.path(prefix);
        let entries = fs::read_dir(&dir).map_err(|e| map_io(&dir, prefix, e))?;
        let (mut dirs, mut files) = (Vec::new(), Vec::new());
        for entry in entries {
            let entry = entry.map_err(|e| StoreError::io(dir.display().to_string(), e))?;
            let name = entry.file_name().to_string_lossy().into_owned();
            let meta = fs::metadata(entry.path()).map_err(|e| StoreError::io(entry.path().display().to_string(), e))?;
            if meta.is_dir() {
                dirs.push(name);
            } else if meta.is_file() {
                files.push(self.info(format!("{prefix}{name}"), &meta));
            }
        }
        dirs.sort();
        files.sort_by(|a, b| a.key.cmp(&b.key));
        Ok((dirs, files))
    }

    fn metadata(&self, _key: &str) -> Result<BTreeMap<String, String>, StoreError> {
        Ok(BTreeMap::new())
    }

    fn get_range(&self, key: &str, offset: u64, len: u64) -> Result<Vec<u8>, StoreError> {
        let path = self.path(key);
        let mut f = fs::File::open(&path).map_err(|e| map_io(&path, key, e))?;
        f.seek(SeekFrom::Start(offset)).map_err(|e| map_io(&path, key, e))?;
        let mut buf = Vec::with_capacity(len.min(1 << 20) as usize);
        f.take(len).read_to_end(&mut buf).map_err(|e| map_io(&path, key, e))?;
        Ok(buf)
    }

    fn open(&self, key: &str) -> Result<Box<dyn Read + Send>, StoreError> {
        let path = self.path(key);
        let f = fs::File::open(&path).map_err(|e| map_io(&path, key, e))?;
        Ok(Box::new(std::io::BufReader::with_capacity(256 * 1024, f)))
    }

    fn local_path(&self, key: &str) -> Option<PathBuf> {
        Some(self.path(key))
    }

    fn child(&self, sub: &str) -> Box<dyn ReplicaStore> {
        Box::new(LocalStore::new(self.path(sub)))
    }

    fn cancellable(&self, _cancel: &crate::cancel::Cancel) -> Box<dyn ReplicaStore> {
        Box::new(self.clone())
    }
}
