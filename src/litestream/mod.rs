//! Litestream replica formats (v0.5 LTX levels and v0.3 generations), the catalog of restore
//! points, restore planning, restore execution and verification.

pub mod cache;
pub mod catalog;
pub mod error;
pub mod fetch;
pub mod ltx;
pub mod output;
pub mod plan;
pub mod progress;
pub mod restore;
pub mod tenants;
pub mod v3;
pub mod verify;

#[cfg(test)]
mod fuzz_tests;

pub use error::RestoreError;
pub use progress::{Cancel, Progress, ProgressEvent, Unit};
