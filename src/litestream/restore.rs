//! Restore execution: apply a plan into a temp file, verify it, then rename it into place.
//!
//! v0.5: the planned LTX files are decoded in order and each page is written at its offset, so
//! the latest file's page wins, exactly as Litestream's compactor does; the output is truncated to
//! the last file's commit size; the lock page stays zero. Memory is bounded by one page plus the
//! prefetch window, whatever the database size.

use std::fs::File;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use serde::Serialize;

use super::catalog::{Catalog, LtxFile};
use super::fetch;
use super::ltx::{self, PageDecoder};
use super::output::TempOutput;
use super::plan::{self, Plan, RestoreTarget};
use super::v3::{self, AgeIdentities};
use super::{Cancel, Progress, ProgressEvent, RestoreError, Unit};
use crate::storage::ReplicaStore;

/// How thoroughly the restored database is checked by SQLite before it is put in place.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum IntegrityCheck {
    /// `PRAGMA integrity_check` (default).
    Full,
    /// `PRAGMA quick_check`.
    Quick,
}

/// Options of a restore.
pub struct RestoreOptions {
    pub output: PathBuf,
    pub overwrite: bool,
    /// Parallel downloads (remote stores).
    pub concurrency: usize,
    pub age: AgeIdentities,
    pub integrity: IntegrityCheck,
}

impl RestoreOptions {
    pub fn new(output: impl Into<PathBuf>) -> Self {
        RestoreOptions {
            output: output.into(),
            overwrite: false,
            concurrency: 8,
            age: AgeIdentities::none(),
            integrity: IntegrityCheck::Full,
        }
    }
}

/// What a finished restore did and checked.
#[derive(Debug, Clone, Serialize)]
pub struct RestoreReport {
    pub output: PathBuf,
    pub point: String,
    pub objects: usize,
    pub bytes_read: u64,
    pub page_size: u32,
    pub page_count: u64,
    pub integrity: String,
    #[serde(serialize_with = "ser_secs")]
    pub elapsed: Duration,
}

fn ser_secs<S: serde::Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_f64(d.as_secs_f64())
}

/// Plan and execute a restore of `target`.
pub fn restore(
    store: &dyn ReplicaStore,
    catalog: &Catalog,
    target: &RestoreTarget,
    opts: &RestoreOptions,
    progress: &dyn Progress,
    cancel: &Cancel,
) -> Result<RestoreReport, RestoreError> {
    let plan = plan::plan(catalog, target)?;
    execute(store, &plan, opts, progress, cancel)
}

/// Execute a plan: apply into a temp file beside the output, verify, rename.
pub fn execute(
    store: &dyn ReplicaStore,
    plan: &Plan,
    opts: &RestoreOptions,
    progress: &dyn Progress,
    cancel: &Cancel,
) -> Result<RestoreReport, RestoreError> {
    let started = Instant::now();
    let store = store.cancellable(cancel);
    let store = store.as_ref();
    let mut out = TempOutput::create(&opts.output, opts.overwrite)?;
    progress.report(ProgressEvent::Phase { name: "restoring", total: Some(plan.bytes()), unit: Unit::Bytes });
    // The point restored; for v0.5 with the time from the last file's header (the plan may
    // only know listing times).
    let mut point = plan.describe();
    let (page_size, page_count, bytes_read) = match plan {
        Plan::V5 { files, .. } => {
            let temp_path = out.temp_path().to_path_buf();
            let r = apply_v5(store, files, out.file(), &temp_path, opts.concurrency, progress, cancel);
            let _ = std::fs::remove_dir_all(super::output::spill_dir(&temp_path));
            let s = r?;
            if let Some(time) = chrono::DateTime::from_timestamp_millis(s.timestamp_ms) {
                point = plan.describe_at(time);
            }
            (s.page_size, s.commit, s.bytes_read)
        }
        Plan::V3(p) => {
            let temp_path = out.temp_path().to_path_buf();
            let s = v3::apply(store, p, &opts.age, out.file(), &temp_path, progress, cancel)?;
            (s.page_size, s.page_count, s.bytes_read)
        }
    };
    cancel.check()?;
    out.sync()?;
    progress.report(ProgressEvent::Phase { name: "verifying", total: None, unit: Unit::Bytes });
    let integrity = verify_database(out.temp_path(), page_size, page_count, opts.integrity, cancel).map_err(|e| {
        // A v0.3 time cut inside the snapshot's WAL index: say why the result can be torn.
        match (e, plan) {
            (RestoreError::Verification(m), Plan::V3(p)) if p.cut_short().is_some() => {
                RestoreError::Verification(format!("{m}; {}", p.cut_short().unwrap_or_default()))
            }
            (e, _) => e,
        }
    })?;
    cancel.check()?;
    let output = out.commit()?;
    Ok(RestoreReport {
        output,
        point,
        objects: plan.objects(),
        bytes_read,
        page_size,
        page_count,
        integrity,
        elapsed: started.elapsed(),
    })
}

/// Result of applying LTX files.
pub struct V5ApplyStats {
    pub page_size: u32,
    pub commit: u64,
    pub bytes_read: u64,
    /// The last applied file's header timestamp (the restored point's time).
    pub timestamp_ms: i64,
}

/// The database an incremental apply starts from: a restore at `txid` (see
/// [`apply_v5_onto`]).
#[derive(Debug, Clone, Copy)]
pub struct V5Base {
    pub txid: u64,
    pub page_size: u32,
    /// Its size in pages.
    pub commit: u32,
}

/// Apply the planned LTX files to `file` (at `file_path`), latest page wins, verifying every file
/// checksum. Large objects spill beside the file ([`super::output::spill_dir`]).
pub fn apply_v5(
    store: &dyn ReplicaStore,
    files: &[LtxFile],
    file: &mut File,
    file_path: &Path,
    concurrency: usize,
    progress: &dyn Progress,
    cancel: &Cancel,
) -> Result<V5ApplyStats, RestoreError> {
    apply_v5_onto(store, files, None, file, file_path, concurrency, progress, cancel)
}

/// [`apply_v5`] onto `file` holding the restore `base` (when given): the files continue its
/// chain at `base.txid + 1` instead of starting with a snapshot, and the pages they do not
/// change stay as they are.
#[allow(clippy::too_many_arguments)]
pub fn apply_v5_onto(
    store: &dyn ReplicaStore,
    files: &[LtxFile],
    base: Option<V5Base>,
    file: &mut File,
    file_path: &Path,
    concurrency: usize,
    progress: &dyn Progress,
    cancel: &Cancel,
) -> Result<V5ApplyStats, RestoreError> {
    let keys: Vec<(String, u64)> = files.iter().map(|f| (f.key.clone(), f.size)).collect();
    let mut page_size = base.map_or(0, |b| b.page_size);
    let mut commit = base.map_or(0, |b| b.commit);
    let mut prev_max = base.map_or(0, |b| b.txid);
    let mut written = PageSet::default();
    let mut writer = PageWriter::new(file);
    let mut page = Vec::new();
    let mut done_bytes = 0u64;
    let mut timestamp_ms = 0i64;
    let spill_dir = super::output::spill_dir(file_path);
    fetch::for_each_in_order(store, &keys, concurrency, &spill_dir, cancel, |i, reader| {
        let meta = &files[i];
        let mut dec = PageDecoder::new(&meta.key, reader)?;
        let h = dec.header().clone();
        if (h.min_txid, h.max_txid) != (meta.min_txid, meta.max_txid) {
            return Err(RestoreError::corrupt(
                &meta.key,
                format!("header TXIDs {:#x}-{:#x} do not match the file name", h.min_txid, h.max_txid),
            ));
        }
        if i == 0 && base.is_none() && !h.is_snapshot() {
            return Err(RestoreError::Chain {
                reason: format!("{}: the first file of a restore must be a snapshot (start at TXID 1)", meta.key),
            });
        }
        if i > 0 || base.is_some() {
            if h.page_size != page_size {
                return Err(RestoreError::corrupt(
                    &meta.key,
                    format!("page size {} differs from the chain's {page_size}", h.page_size),
                ));
            }
            if !(h.min_txid <= prev_max + 1 && h.max_txid > prev_max) {
                return Err(RestoreError::Chain {
                    reason: format!(
                        "{}: does not continue the chain at TXID {}",
                        meta.key,
                        ltx::format_txid(prev_max + 1)
                    ),
                });
            }
        }
        page_size = h.page_size;
        commit = h.commit;
        prev_max = h.max_txid;
        timestamp_ms = h.timestamp_ms;
        writer.page_size = page_size as u64;
        let mut pages_in_file = 0u32;
        while let Some(pgno) = dec.next_page(&mut page)? {
            writer.write(pgno, &page).map_err(|e| RestoreError::output(file_path, e))?;
            written.insert(pgno);
            pages_in_file += 1;
            if pages_in_file.is_multiple_of(4096) {
                cancel.check()?;
                progress.report(ProgressEvent::Advance { done: done_bytes + dec.bytes_read() });
            }
        }
        done_bytes += dec.bytes_read();
        progress.report(ProgressEvent::Advance { done: done_bytes });
        Ok(())
    })?;
    writer.flush().map_err(|e| RestoreError::output(file_path, e))?;
    let lock_page = ltx::lock_page(page_size);
    let kept = base.map_or(0, |b| b.commit);
    if let Some(missing) = (1..=commit).find(|&p| p != lock_page && p > kept && !written.contains(p)) {
        return Err(RestoreError::Chain { reason: format!("page {missing} is in no planned LTX file") });
    }
    file.set_len(u64::from(commit) * u64::from(page_size)).map_err(|e| RestoreError::output(file_path, e))?;
    Ok(V5ApplyStats { page_size, commit: u64::from(commit), bytes_read: done_bytes, timestamp_ms })
}

/// Which page numbers have been written (a bitmap: 32 KiB per GiB of 4 KiB pages).
#[derive(Default)]
struct PageSet(Vec<u64>);

impl PageSet {
    fn insert(&mut self, pgno: u32) {
        let (w, b) = ((pgno / 64) as usize, pgno % 64);
        if self.0.len() <= w {
            self.0.resize(w + 1, 0);
        }
        self.0[w] |= 1 << b;
    }
    fn contains(&self, pgno: u32) -> bool {
        let (w, b) = ((pgno / 64) as usize, pgno % 64);
        self.0.get(w).is_some_and(|x| x & (1 << b) != 0)
    }
}

/// Writes pages at their offsets, coalescing runs of consecutive pages into large writes.
struct PageWriter<'a> {
    file: &'a File,
    page_size: u64,
    buf: Vec<u8>,
    start: u64,
    next: u64,
}

const WRITE_BUFFER: usize = 1 << 20;

impl<'a> PageWriter<'a> {
    fn new(file: &'a File) -> Self {
        PageWriter { file, page_size: 0, buf: Vec::with_capacity(WRITE_BUFFER), start: 0, next: 0 }
    }

    fn write(&mut self, pgno: u32, data: &[u8]) -> std::io::Result<()> {
        let pgno = u64::from(pgno);
        if pgno != self.next || self.buf.len() + data.len() > WRITE_BUFFER {
            self.flush()?;
            self.start = pgno;
        }
        self.buf.extend_from_slice(data);
        self.next = pgno + 1;
        Ok(())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        if !self.buf.is_empty() {
            self.file.write_all_at(&self.buf, (self.start - 1) * self.page_size)?;
            self.buf.clear();
        }
        Ok(())
    }
}

/// Check a restored database: SQLite header page size and page count against the plan, then
/// SQLite's own integrity check (interrupted when `cancel` is set). Returns SQLite's verdict
/// (`ok`).
pub fn verify_database(
    path: &Path,
    page_size: u32,
    page_count: u64,
    check: IntegrityCheck,
    cancel: &Cancel,
) -> Result<String, RestoreError> {
    let bad = |m: String| RestoreError::Verification(m);
    let mut header = [0u8; 100];
    let f = File::open(path).map_err(|e| RestoreError::output(path, e))?;
    let len = f.metadata().map_err(|e| RestoreError::output(path, e))?.len();
    if page_count == 0 {
        return Err(bad("the restored database is empty".into()));
    }
    f.read_exact_at(&mut header, 0).map_err(|e| bad(format!("cannot read the SQLite header: {e}")))?;
    if &header[..16] != b"SQLite format 3\0" {
        return Err(bad("no SQLite header on page 1".into()));
    }
    let raw = u16::from_be_bytes([header[16], header[17]]);
    let header_page_size = if raw == 1 { 65536 } else { u32::from(raw) };
    if header_page_size != page_size {
        return Err(bad(format!("SQLite header says page size {header_page_size}, the replica {page_size}")));
    }
    if len != page_count * u64::from(page_size) {
        return Err(bad(format!("file is {len} bytes, expected {page_count} pages of {page_size}")));
    }
    // The in-header page count is valid when the change counter equals "version-valid-for".
    let header_pages = u32::from_be_bytes([header[28], header[29], header[30], header[31]]);
    if header[24..28] == header[92..96] && u64::from(header_pages) != page_count {
        return Err(bad(format!("SQLite header says {header_pages} pages, the replica {page_count}")));
    }
    drop(f);
    let uri = format!("file:{}?immutable=1", path.display());
    let conn = rusqlite::Connection::open_with_flags(
        &uri,
        rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY
            | rusqlite::OpenFlags::SQLITE_OPEN_URI
            | rusqlite::OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
    .map_err(|e| bad(format!("SQLite cannot open it: {e}")))?;
    let pragma = match check {
        IntegrityCheck::Full => "PRAGMA integrity_check",
        IntegrityCheck::Quick => "PRAGMA quick_check",
    };
    let mut stmt = conn.prepare(pragma).map_err(|e| bad(format!("{pragma}: {e}")))?;
    // A large database takes a while: a watcher interrupts SQLite when the user cancels, and
    // ends as soon as the check does (its channel closes).
    let interrupt = conn.get_interrupt_handle();
    let (finished, watch) = std::sync::mpsc::channel::<()>();
    let rows = std::thread::scope(|scope| {
        scope.spawn(move || {
            while let Err(std::sync::mpsc::RecvTimeoutError::Timeout) =
                watch.recv_timeout(std::time::Duration::from_millis(20))
            {
                if cancel.is_cancelled() {
                    interrupt.interrupt();
                    break;
                }
            }
        });
        let rows: rusqlite::Result<Vec<String>> =
            stmt.query_map([], |r| r.get::<_, String>(0)).and_then(|rows| rows.collect());
        drop(finished);
        rows
    });
    if cancel.is_cancelled() {
        return Err(RestoreError::Cancelled);
    }
    let rows = rows.map_err(|e| bad(format!("{pragma}: {e}")))?;
    if rows != ["ok"] {
        return Err(bad(format!("{pragma}: {}", rows.join("; "))));
    }
    Ok("ok".into())
}
