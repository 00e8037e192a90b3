//! Errors of opening and reading an Obelisk database, and of parsing identifiers.

/// What can go wrong opening or reading an Obelisk database. Messages are one line and start with
/// the file, so the CLI and the GUI can show them as they are.
#[derive(Debug, thiserror::Error)]
pub enum ObeliskError {
    /// The file cannot be read (missing, a directory, no permission).
    #[error("{path}: cannot read: {reason}")]
    Io { path: String, reason: String },
    /// The file is not an SQLite database at all.
    #[error("{path}: not an SQLite database: {reason}")]
    NotSqlite { path: String, reason: String },
    /// The file is an SQLite database, but not one written by Obelisk.
    #[error("{path}: not an Obelisk database: {reason}")]
    NotObelisk { path: String, reason: String },
    /// The file looks like Obelisk's but lacks something every reader needs.
    #[error("{path}: unsupported Obelisk schema: {reason}")]
    Unsupported { path: String, reason: String },
    /// SQLite failed while running a query.
    #[error("{path}: {context}: {source}")]
    Sqlite {
        path: String,
        context: String,
        #[source]
        source: rusqlite::Error,
    },
    /// A row holds a value that cannot be read (an ID, a timestamp, a digest or JSON).
    #[error("{path}: {reason}")]
    Data { path: String, reason: String },
    /// No execution with this ID exists in the database.
    #[error("{path}: no execution `{id}`")]
    ExecutionNotFound { path: String, id: String },
}

/// An identifier (execution, join set, delay, run, ...) that does not follow Obelisk's grammar.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid {what} `{input}`: {reason}")]
pub struct IdError {
    /// What was being parsed, e.g. `execution ID`.
    pub what: &'static str,
    /// The text that was rejected.
    pub input: String,
    /// Why it was rejected.
    pub reason: String,
}

impl IdError {
    pub(crate) fn new(what: &'static str, input: &str, reason: impl Into<String>) -> Self {
        IdError { what, input: input.to_owned(), reason: reason.into() }
    }
}
