//! Litestream v0.3 replicas: `generations/<gen>/snapshots/<idx>.snapshot.lz4` and
//! `generations/<gen>/wal/<idx>_<off>.wal.lz4`, each object an LZ4 frame, optionally wrapped in age.
//!
//! * `names`: parsing object keys.
//! * `catalog`: generations, snapshots and WAL segments from a listing (no downloads).
//! * `plan`: choosing the snapshot and segments for a restore target.
//! * `object` and `keys`: opening an object as decompressed (and decrypted) bytes.
//! * `sqlite`: the SQLite database header and WAL images (frames, salts, checksums).
//! * `apply` and `checkpoint`: executing a plan into a database file.
//! * `verify`: checking every object of a generation.

mod apply;
mod catalog;
mod checkpoint;
mod keys;
mod lz4;
mod names;
mod object;
mod plan;
mod pool;
mod sqlite;
mod verify;

#[cfg(test)]
mod fuzz_tests;
#[cfg(test)]
pub(crate) mod test_support;

pub use apply::{V3ApplyStats, apply, apply_onto};
pub use catalog::{Generation, SegmentInfo, SnapshotInfo, V3Catalog, catalog_from_listing};
pub use keys::AgeIdentities;
pub use names::{V3Object, parse_key};
pub use object::{decode_error, open_decoded};
pub use plan::{V3Plan, V3Target, plan};
pub use verify::verify_generation;
