//! Applying one WAL image to a database file, as SQLite's `wal_checkpoint(TRUNCATE)` does.

use std::collections::{BTreeMap, HashMap};
use std::fs::File;
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::Path;

use super::sqlite::WalScanner;
use crate::litestream::RestoreError;

/// What a checkpoint did.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Checkpointed {
    /// Frames of committed transactions.
    pub frames: u64,
}

/// Apply the WAL image at `wal_path` to `db`: for every page, its latest committed frame is
/// written if the page is within the last commit's database size, then the file is resized to
/// that size. Valid frames after the last commit (an unfinished transaction) are ignored; an
/// invalid frame is an error naming `key_at(offset)`, the object that holds it. Pending pages
/// are tracked as offsets into the WAL file, never held in memory.
pub(crate) fn checkpoint(
    wal_path: &Path,
    db: &File,
    db_path: &Path,
    page_size: u32,
    key_at: impl Fn(u64) -> String,
) -> Result<Checkpointed, RestoreError> {
    let wal_err = |e| RestoreError::output(wal_path, e);
    let mut wal = File::open(wal_path).map_err(wal_err)?;

    let mut scanner = WalScanner::new();
    let mut pending: HashMap<u32, u64> = HashMap::new();
    let mut committed: BTreeMap<u32, u64> = BTreeMap::new();
    let mut buf = vec![0u8; 256 * 1024];
    loop {
        let n = wal.read(&mut buf).map_err(wal_err)?;
        if n == 0 {
            break;
        }
        let mut on_frame = |frame: super::sqlite::Frame| {
            pending.insert(frame.pgno, frame.page_offset);
            if frame.commit != 0 {
                committed.extend(pending.drain());
            }
        };
        scanner.feed(&buf[..n], &mut on_frame).map_err(|e| {
            let key = key_at(e.offset);
            e.into_restore_error(&key)
        })?;
    }
    let summary = scanner.finish().map_err(|e| {
        let key = key_at(e.offset);
        e.into_restore_error(&key)
    })?;
    if summary.page_size != page_size {
        return Err(RestoreError::corrupt(
            key_at(0),
            format!("WAL page size {} differs from the database page size {page_size}", summary.page_size),
        ));
    }
    let Some(db_pages) = summary.db_pages else {
        return Ok(Checkpointed::default());
    };

    let size = u64::from(page_size);
    let db_err = |e| RestoreError::output(db_path, e);
    let mut page = vec![0u8; page_size as usize];
    let mut out = db;
    for (&pgno, &offset) in committed.range(..=db_pages) {
        wal.seek(SeekFrom::Start(offset)).map_err(wal_err)?;
        wal.read_exact(&mut page).map_err(wal_err)?;
        out.seek(SeekFrom::Start(u64::from(pgno - 1) * size)).map_err(db_err)?;
        out.write_all(&page).map_err(db_err)?;
    }
    db.set_len(u64::from(db_pages) * size).map_err(db_err)?;
    Ok(Checkpointed { frames: summary.committed_frames })
}
