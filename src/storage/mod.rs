//! Replica stores: where Litestream replica objects live (a local folder or an S3 bucket).
//!
//! A store is read-only by construction: the trait has no write method. Keys are relative to the
//! store's root (the replica path), always with `/` separators, exactly as Litestream wrote them
//! below that root (so an S3 replica with an empty path has v0.5 keys starting with `/`).

mod address;
pub mod litestream_config;
mod local;
mod s3;

pub use address::{ReplicaAddress, S3Options, parse_address};
pub use local::LocalStore;
pub use s3::{S3Location, S3Store, runtime};

use std::collections::BTreeMap;
use std::io::Read;

use chrono::{DateTime, Utc};

/// One object (file) of a replica as listed by its store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObjectInfo {
    /// Key relative to the store root, `/`-separated.
    pub key: String,
    /// Size in bytes.
    pub size: u64,
    /// S3 `LastModified` (1 s resolution) or file mtime.
    pub modified: DateTime<Utc>,
}

/// Errors a replica store reports. Every variant names the object or location involved.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("{key}: not found")]
    NotFound { key: String },
    #[error("{location}: access denied ({detail})")]
    AccessDenied { location: String, detail: String },
    #[error(
        "{location}: no usable S3 credentials ({detail}); set AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, LITESTREAM_ACCESS_KEY_ID/LITESTREAM_SECRET_ACCESS_KEY, or --profile"
    )]
    Credentials { location: String, detail: String },
    #[error("{location}: cannot reach the storage endpoint ({detail})")]
    Unreachable { location: String, detail: String },
    #[error("{location}: {detail}")]
    Io { location: String, detail: String },
    #[error("invalid replica address `{address}`: {reason}")]
    BadAddress { address: String, reason: String },
    /// The user cancelled while a request was in flight.
    #[error("cancelled")]
    Cancelled,
}

impl StoreError {
    /// An I/O failure on `location`.
    pub fn io(location: impl Into<String>, err: impl std::fmt::Display) -> Self {
        StoreError::Io { location: location.into(), detail: err.to_string() }
    }
}

/// A readable replica location. Implementations are cheap to share across threads.
pub trait ReplicaStore: Send + Sync {
    /// Human-readable address of the store root (e.g. `s3://bucket/path` or a folder).
    fn describe(&self) -> String;

    /// Every object whose key starts with `prefix` (recursive, paginated internally),
    /// sorted by key.
    fn list(&self, prefix: &str) -> Result<Vec<ObjectInfo>, StoreError>;

    /// The immediate "sub-folders" under `prefix` (keys of the form `prefix<name>/...`), as
    /// `<name>` strings, plus the objects directly under `prefix`. Used for tenant discovery
    /// without listing whole buckets.
    fn list_dir(&self, prefix: &str) -> Result<(Vec<String>, Vec<ObjectInfo>), StoreError>;

    /// User metadata of an object (S3 `x-amz-meta-*`; empty for local files).
    fn metadata(&self, key: &str) -> Result<BTreeMap<String, String>, StoreError>;

    /// `len` bytes starting at `offset` (fewer if the object is shorter).
    fn get_range(&self, key: &str, offset: u64, len: u64) -> Result<Vec<u8>, StoreError>;

    /// A streaming reader over the whole object. Memory use is bounded whatever the size.
    fn open(&self, key: &str) -> Result<Box<dyn Read + Send>, StoreError>;

    /// A local path for the object if the store is a folder (lets restore skip copying).
    fn local_path(&self, _key: &str) -> Option<std::path::PathBuf> {
        None
    }

    /// Join a sub-path onto this store's root, giving a store for a nested replica (tenants).
    fn child(&self, sub: &str) -> Box<dyn ReplicaStore>;

    /// The same store, with network requests that give up ([`StoreError::Cancelled`]) as soon as
    /// `cancel` is set, even when a request hangs. Local reads need no such help.
    fn cancellable(&self, cancel: &crate::cancel::Cancel) -> Box<dyn ReplicaStore>;
}

#[cfg(test)]
mod fuzz_tests;
