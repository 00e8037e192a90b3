//! Test infrastructure: real tools (Litestream v0.5.17 and v0.3.13, moto S3 server, sqlite3 CLI),
//! fixtures, the chronoscope binary, and a workload writer. No mocks.
#![allow(dead_code)]

pub mod cli;
pub mod components;
pub mod fault_proxy;
pub mod fixtures;
pub mod moto;
pub mod tools;
pub mod writer;

/// Compiled components of the UI tests, shared by the tests of one build (written atomically).
pub fn component_cache() -> std::path::PathBuf {
    std::path::PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("components")
}

/// `<repo>` = the crate root.
pub fn repo() -> std::path::PathBuf {
    std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}
