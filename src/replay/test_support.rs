//! Fixtures and helpers for the replay engine's tests.

use std::path::PathBuf;

use crate::obelisk::ObeliskDb;

/// The Obelisk 0.38.3 demo database (schema 3).
pub const FIXTURE_0_38_3: &str = "0.38.3";
/// The Obelisk 0.41.5 demo database (schema 17).
pub const FIXTURE_0_41_5: &str = "0.41.5";

/// `tests/fixtures/obelisk/<version>/demo.sqlite`.
pub fn fixture(version: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/obelisk").join(version).join("demo.sqlite")
}

/// Opens a fixture, panicking with the error's message.
pub fn open(version: &str) -> ObeliskDb {
    ObeliskDb::open(fixture(version)).unwrap_or_else(|e| panic!("{e}"))
}
