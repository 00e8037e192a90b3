//! Errors of re-execution: the component cannot be found, compiled or linked, the execution
//! cannot be re-executed, the database cannot be read. Each names the object and the reason.

use crate::obelisk::ObeliskError;

/// What can go wrong before or around running the guest. Outcomes of the guest itself (a trap,
/// nondeterminism, a blocked join set) are not errors: they are [`super::Outcome`]s.
#[derive(Debug, thiserror::Error)]
pub enum RerunError {
    /// Reading the Obelisk database failed.
    #[error(transparent)]
    Obelisk(#[from] ObeliskError),
    /// The database does not store the component the execution ran with.
    #[error(
        "{path}: the component {digest} of {execution_id} is not stored in this database{}: pass the .wasm with --component",
        predates_note(*.predates)
    )]
    ComponentMissing { path: String, digest: String, execution_id: String, predates: bool },
    /// The bytes are not a WebAssembly component (a truncated file, a core module, not WASM).
    #[error("{what}: not a WebAssembly component: {reason}")]
    NotAComponent { what: String, reason: String },
    /// Stored bytes whose SHA-256 is not their digest.
    #[error("{what}: checksum mismatch: the content hashes to {actual}, its digest says {expected}")]
    ChecksumMismatch { what: String, expected: String, actual: String },
    /// The component imports something the host does not implement.
    #[error("{what}: unsupported import `{import}`: {reason}")]
    UnsupportedImport { what: String, import: String, reason: String },
    /// Compiling or instantiating failed for another reason.
    #[error("{what}: {reason}")]
    Component { what: String, reason: String },
    /// The execution cannot be re-executed (not a workflow, no `Created`, params unreadable).
    #[error("{execution_id}: cannot re-execute: {reason}")]
    NotReExecutable { execution_id: String, reason: String },
    /// The component does not export the execution's function, or with another signature.
    #[error("{what}: {reason}")]
    Export { what: String, reason: String },
    /// Reading or writing a file (the component, the compile cache).
    #[error("{path}: {reason}")]
    Io { path: String, reason: String },
}

/// Why a database has no component store at all.
pub fn predates_note(predates: bool) -> &'static str {
    if predates { " (Obelisk stores components in the database since 0.39; this one predates that)" } else { "" }
}
