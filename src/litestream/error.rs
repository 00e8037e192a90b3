//! Errors of decoding, planning, restoring and verifying replicas.

use crate::storage::StoreError;

/// Everything that can go wrong between a replica and a restored database. Messages are one line
/// and name the object (key) or the reason, so the CLI and the GUI can show them as they are.
#[derive(Debug, thiserror::Error)]
pub enum RestoreError {
    #[error(transparent)]
    Store(StoreError),
    /// An object's bytes are not what the format allows (bad magic, truncated, bad LZ4, ...).
    #[error("{key}: corrupt object: {reason}")]
    Corrupt { key: String, reason: String },
    /// A checksum stored in an object disagrees with its contents.
    #[error("{key}: checksum mismatch: {reason}")]
    Checksum { key: String, reason: String },
    /// The replica's chain of objects has a hole (TXID gap, missing WAL segment or index).
    #[error("{reason}")]
    Chain { reason: String },
    /// An age-encrypted object could not be decrypted.
    #[error("{key}: cannot decrypt: {reason}")]
    Decrypt { key: String, reason: String },
    /// Nothing under the address looks like a Litestream replica.
    #[error("{location}: no Litestream replica found (no `ltx/`, level or `generations/` objects)")]
    NoReplica { location: String },
    /// The requested point (timestamp, TXID, generation/index) cannot be restored.
    #[error("{0}")]
    NotRestorable(String),
    /// The restored file failed verification (page size/count, integrity check).
    #[error("restored database failed verification: {0}")]
    Verification(String),
    /// Writing the output failed.
    #[error("{path}: {detail}")]
    Output { path: String, detail: String },
    #[error("cancelled")]
    Cancelled,
}

impl RestoreError {
    pub fn corrupt(key: impl Into<String>, reason: impl std::fmt::Display) -> Self {
        RestoreError::Corrupt { key: key.into(), reason: reason.to_string() }
    }
    pub fn output(path: &std::path::Path, err: impl std::fmt::Display) -> Self {
        RestoreError::Output { path: path.display().to_string(), detail: err.to_string() }
    }
}

impl From<StoreError> for RestoreError {
    /// A store call interrupted by the user is the restore's own cancellation.
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Cancelled => RestoreError::Cancelled,
            other => RestoreError::Store(other),
        }
    }
}
