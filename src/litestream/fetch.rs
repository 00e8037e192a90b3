//! Ordered prefetching of replica objects: downloads run ahead of the consumer with bounded
//! concurrency, small objects are kept in memory and large ones spill to a temp folder, so
//! memory stays bounded whatever the replica size. The memory held by fetched objects is one
//! budget for the whole process ([`MEMORY_BUDGET`]): a fleet scan restoring 8 tenants at once
//! holds no more than one restore does, and what does not fit spills. Local folders are read in
//! place.

use std::fs::File;
use std::io::{Cursor, Read};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Condvar, Mutex};

use super::{Cancel, RestoreError};
use crate::storage::ReplicaStore;

/// Objects up to this size are buffered in memory; larger ones go to a temp file.
const MEMORY_LIMIT: u64 = 4 << 20;

/// Bytes of fetched objects held in memory at once, over every restore of the process.
pub const MEMORY_BUDGET: u64 = 16 << 20;

/// Bytes of [`MEMORY_BUDGET`] in use.
static IN_MEMORY: AtomicU64 = AtomicU64::new(0);

/// A share of [`MEMORY_BUDGET`], given back on drop.
pub struct Reserved(u64);

impl Reserved {
    /// `bytes` of the budget, when that many are free.
    fn take(bytes: u64) -> Option<Reserved> {
        IN_MEMORY
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |used| {
                (used + bytes <= MEMORY_BUDGET).then_some(used + bytes)
            })
            .ok()
            .map(|_| Reserved(bytes))
    }
}

impl Drop for Reserved {
    fn drop(&mut self) {
        IN_MEMORY.fetch_sub(self.0, Ordering::SeqCst);
    }
}

/// One object ready to be read.
pub enum Fetched {
    Memory(Cursor<Vec<u8>>, Reserved),
    Spilled { file: std::io::BufReader<File>, path: PathBuf },
    Direct(Box<dyn Read + Send>),
}

impl Read for Fetched {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        match self {
            Fetched::Memory(c, _) => c.read(buf),
            Fetched::Spilled { file, .. } => file.read(buf),
            Fetched::Direct(r) => r.read(buf),
        }
    }
}

impl Drop for Fetched {
    fn drop(&mut self) {
        if let Fetched::Spilled { path, .. } = self {
            let _ = std::fs::remove_file(path);
        }
    }
}

struct Shared {
    slots: Mutex<Vec<Option<Result<Fetched, RestoreError>>>>,
    ready: Condvar,
    consumed: AtomicUsize,
    /// Set when the consumer gave up: workers stop without fetching more.
    stop: std::sync::atomic::AtomicBool,
}

/// Run `consume` over the objects `keys` (with sizes) in order, downloading ahead with
/// `concurrency` workers. `consume` receives each object's index and reader.
pub fn for_each_in_order(
    store: &dyn ReplicaStore,
    keys: &[(String, u64)],
    concurrency: usize,
    spill_dir: &Path,
    cancel: &Cancel,
    mut consume: impl FnMut(usize, &mut Fetched) -> Result<(), RestoreError>,
) -> Result<(), RestoreError> {
    if keys.iter().all(|(k, _)| store.local_path(k).is_some()) {
        for (i, (key, _)) in keys.iter().enumerate() {
            cancel.check()?;
            let mut r = Fetched::Direct(store.open(key)?);
            consume(i, &mut r)?;
        }
        return Ok(());
    }
    let shared = Shared {
        slots: Mutex::new((0..keys.len()).map(|_| None).collect()),
        ready: Condvar::new(),
        consumed: AtomicUsize::new(0),
        stop: Default::default(),
    };
    let next = AtomicUsize::new(0);
    let window = concurrency.max(1);
    std::thread::scope(|s| {
        for _ in 0..window.min(keys.len()) {
            s.spawn(|| {
                loop {
                    let i = next.fetch_add(1, Ordering::SeqCst);
                    if i >= keys.len() {
                        break;
                    }
                    // Stay at most `window` objects ahead of the consumer.
                    let mut guard = shared.slots.lock().unwrap_or_else(|p| p.into_inner());
                    while i >= shared.consumed.load(Ordering::SeqCst) + window && !shared.stop.load(Ordering::SeqCst) {
                        guard = shared.ready.wait(guard).unwrap_or_else(|p| p.into_inner());
                    }
                    drop(guard);
                    if shared.stop.load(Ordering::SeqCst) {
                        break;
                    }
                    // The object the consumer waits for now is streamed to it, not spilled first.
                    let wanted_now = shared.consumed.load(Ordering::SeqCst) == i;
                    let result = if cancel.is_cancelled() {
                        Err(RestoreError::Cancelled)
                    } else {
                        fetch(store, &keys[i], i, spill_dir, wanted_now)
                    };
                    shared.slots.lock().unwrap_or_else(|p| p.into_inner())[i] = Some(result);
                    shared.ready.notify_all();
                }
            });
        }
        let result = (|| {
            for i in 0..keys.len() {
                let fetched = {
                    let mut guard = shared.slots.lock().unwrap_or_else(|p| p.into_inner());
                    loop {
                        if let Some(r) = guard[i].take() {
                            break r;
                        }
                        // Wake up now and then: a cancel must not wait for a slow download.
                        cancel.check()?;
                        guard = shared
                            .ready
                            .wait_timeout(guard, std::time::Duration::from_millis(50))
                            .unwrap_or_else(|p| p.into_inner())
                            .0;
                    }
                };
                // A download that failed because of the cancel reports the cancel.
                cancel.check()?;
                let mut fetched = fetched?;
                consume(i, &mut fetched)?;
                shared.consumed.store(i + 1, Ordering::SeqCst);
                shared.ready.notify_all();
            }
            Ok(())
        })();
        if result.is_err() {
            // Stop the workers; finished downloads are dropped (and spilled files removed).
            next.store(keys.len(), Ordering::SeqCst);
            shared.stop.store(true, Ordering::SeqCst);
            shared.ready.notify_all();
        }
        result
    })
}

/// Downloads `keys` with `concurrency` workers, as [`for_each_in_order`] does, and discards the
/// bytes: the floor a restore through the same client is measured against. Returns the bytes read.
pub fn discard_all(
    store: &dyn ReplicaStore,
    keys: &[(String, u64)],
    concurrency: usize,
    cancel: &Cancel,
) -> Result<u64, RestoreError> {
    let next = AtomicUsize::new(0);
    let total = AtomicU64::new(0);
    std::thread::scope(|s| {
        let workers: Vec<_> = (0..concurrency.max(1).min(keys.len()))
            .map(|_| {
                s.spawn(|| -> Result<(), RestoreError> {
                    while let Some((key, _)) = keys.get(next.fetch_add(1, Ordering::SeqCst)) {
                        cancel.check()?;
                        let mut reader = store.open(key)?;
                        let n = std::io::copy(&mut reader, &mut std::io::sink())
                            .map_err(|e| RestoreError::Store(crate::storage::StoreError::io(key.clone(), e)))?;
                        total.fetch_add(n, Ordering::SeqCst);
                    }
                    Ok(())
                })
            })
            .collect();
        workers.into_iter().try_for_each(|w| w.join().unwrap_or_else(|panic| std::panic::resume_unwind(panic)))
    })?;
    Ok(total.into_inner())
}

/// Opens object `i`: small ones are read into memory, a large one is streamed when `wanted_now`
/// (the consumer is waiting for it) and spilled to a temp file otherwise.
fn fetch(
    store: &dyn ReplicaStore,
    (key, size): &(String, u64),
    i: usize,
    spill_dir: &Path,
    wanted_now: bool,
) -> Result<Fetched, RestoreError> {
    let mut reader = store.open(key)?;
    if wanted_now && *size > MEMORY_LIMIT {
        return Ok(Fetched::Direct(reader));
    }
    let read_err = |e: std::io::Error| RestoreError::Store(crate::storage::StoreError::io(key.clone(), e));
    if *size <= MEMORY_LIMIT
        && let Some(reserved) = Reserved::take(*size)
    {
        let mut buf = Vec::with_capacity(*size as usize);
        reader.read_to_end(&mut buf).map_err(read_err)?;
        return Ok(Fetched::Memory(Cursor::new(buf), reserved));
    }
    std::fs::create_dir_all(spill_dir).map_err(|e| RestoreError::output(spill_dir, e))?;
    let path = spill_dir.join(format!("{i}.part"));
    let mut file = File::options()
        .read(true)
        .write(true)
        .create(true)
        .truncate(true)
        .open(&path)
        .map_err(|e| RestoreError::output(&path, e))?;
    std::io::copy(&mut reader, &mut file).map_err(read_err)?;
    use std::io::Seek;
    file.rewind().map_err(|e| RestoreError::output(&path, e))?;
    Ok(Fetched::Spilled { file: std::io::BufReader::with_capacity(256 * 1024, file), path })
}
