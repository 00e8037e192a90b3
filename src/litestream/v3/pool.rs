//! Downloading with bounded parallelism, and counting the bytes downloaded for progress.

use std::io::{self, Read};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use crate::litestream::{Cancel, Progress, ProgressEvent, RestoreError};

/// Objects downloaded at once (Litestream v0.3's default `-parallelism`).
const PARALLELISM: usize = 8;

/// Run `f` on every job with up to [`PARALLELISM`] threads; results in job order. After the first
/// error (or a cancel) no new job starts, and the first error in job order is returned.
pub(crate) fn run_jobs<J: Sync, R: Send>(
    jobs: &[J],
    cancel: &Cancel,
    f: impl Fn(&J) -> Result<R, RestoreError> + Sync,
) -> Result<Vec<R>, RestoreError> {
    let failed = AtomicBool::new(false);
    let results = crate::parallel::map(jobs, PARALLELISM, |job| {
        if failed.load(Ordering::SeqCst) {
            return Err(RestoreError::Cancelled);
        }
        let result = cancel.check().and_then(|()| f(job));
        if result.is_err() {
            failed.store(true, Ordering::SeqCst);
        }
        result
    });
    let mut out = Vec::with_capacity(results.len());
    let mut cancelled = false;
    for result in results {
        match result {
            Ok(r) => out.push(r),
            Err(RestoreError::Cancelled) => cancelled = true,
            Err(e) => return Err(e),
        }
    }
    if cancelled { Err(RestoreError::Cancelled) } else { Ok(out) }
}

/// Counts downloaded (compressed) bytes across threads and reports `Advance` every MiB.
pub(crate) struct Meter<'a> {
    done: AtomicU64,
    progress: &'a dyn Progress,
}

const REPORT_EVERY: u64 = 1 << 20;

impl<'a> Meter<'a> {
    pub fn new(progress: &'a dyn Progress) -> Self {
        Meter { done: AtomicU64::new(0), progress }
    }

    pub fn done(&self) -> u64 {
        self.done.load(Ordering::SeqCst)
    }

    fn add(&self, n: u64) {
        let before = self.done.fetch_add(n, Ordering::SeqCst);
        if before / REPORT_EVERY != (before + n) / REPORT_EVERY {
            self.progress.report(ProgressEvent::Advance { done: before + n });
        }
    }

    /// Report the total so far (call after each object).
    pub fn report(&self) {
        self.progress.report(ProgressEvent::Advance { done: self.done() });
    }

    /// `reader` with its bytes counted.
    pub fn count<R: Read>(&self, reader: R) -> Counted<'_, R> {
        Counted { inner: reader, meter: self }
    }
}

/// A reader whose bytes go to a [`Meter`].
pub(crate) struct Counted<'a, R> {
    inner: R,
    meter: &'a Meter<'a>,
}

impl<R: Read> Read for Counted<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.meter.add(n as u64);
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn results_in_order_and_first_error_wins() {
        let jobs: Vec<u64> = (0..50).collect();
        let cancel = Cancel::new();
        let out = run_jobs(&jobs, &cancel, |&j| Ok(j * 2)).expect("ok");
        assert_eq!(out, jobs.iter().map(|j| j * 2).collect::<Vec<_>>());

        let err = run_jobs(&jobs, &cancel, |&j| if j == 3 { Err(RestoreError::corrupt("k3", "bad")) } else { Ok(j) });
        assert!(matches!(err, Err(RestoreError::Corrupt { key, .. }) if key == "k3"));

        cancel.cancel();
        assert!(matches!(run_jobs(&jobs, &cancel, |&j| Ok(j)), Err(RestoreError::Cancelled)));
        assert!(run_jobs(&[] as &[u64], &Cancel::new(), |&j| Ok(j)).expect("empty").is_empty());
    }
}
