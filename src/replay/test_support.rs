//! Fixtures and helpers for the replay engine's tests.

use std::path::PathBuf;

use super::engine::Replay;
use crate::obelisk::{ExecutionId, ObeliskDb};

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

/// Parses a test literal, panicking with the error's message.
pub fn parse<T: std::str::FromStr>(text: &str) -> T
where
    T::Err: std::fmt::Display,
{
    text.parse().unwrap_or_else(|e| panic!("{e}"))
}

/// Replays one execution of a fixture.
pub fn replay(version: &str, id: &str) -> Replay {
    let db = open(version);
    let id: ExecutionId = parse(id);
    let log = db.execution_log(&id).unwrap_or_else(|e| panic!("{e}"));
    let responses = db.responses(&id).unwrap_or_else(|e| panic!("{e}"));
    Replay::new(id, log, responses)
}
