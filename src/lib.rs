//! Chronoscope: the observer and time-travel replay debugger for durable workflows that keep
//! their state in SQLite and back it up with Litestream.
//!
//! - [`storage`]: replica stores (a local folder, an S3 bucket), read-only.
//! - [`litestream`]: replica formats, catalog, planning, restore and verification.
//! - [`rerun`]: re-execution of a workflow's own component against its log.
//! - [`cli`]: the headless command line.

pub mod cancel;
pub mod cli;
pub mod fleet;
pub mod format;
#[cfg(test)]
mod fuzz_support;
pub mod litestream;
pub mod obelisk;
pub mod parallel;
pub mod replay;
pub mod rerun;
pub mod storage;
pub mod ui;
