//! Errors of the replay engine: reading the database, stepping out of range, reading or writing
//! an export.

use crate::obelisk::ObeliskError;

/// What can go wrong replaying. Messages are one line.
#[derive(Debug, thiserror::Error)]
pub enum ReplayError {
    /// Reading the Obelisk database failed.
    #[error(transparent)]
    Obelisk(#[from] ObeliskError),
    /// A step index past the end.
    #[error("step {step} is out of range: {execution_id} has {len} steps (0..{len})")]
    StepOutOfRange { execution_id: String, step: usize, len: usize },
    /// The execution is not in the export file.
    #[error("{path}: no execution `{id}` in this export (its root is {root})")]
    NotInExport { path: String, id: String, root: String },
    /// An export file that cannot be read or is not an export.
    #[error("{path}: not a Chronoscope export: {reason}")]
    BadExport { path: String, reason: String },
    /// Reading or writing a file failed.
    #[error("{path}: {reason}")]
    Io { path: String, reason: String },
}
