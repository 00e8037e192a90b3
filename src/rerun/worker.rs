//! Re-execution on a worker thread, for the app: the UI starts a [`RerunJob`], reads its
//! progress each frame (compiling, then executions done of total), may cancel it (a running
//! guest is interrupted at its next epoch tick), and takes the reports when it is done.

use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;

use super::{ExecutionId, Prepared, RerunError, Rerunner, Reruns, RunOptions, rerun_database_with_progress};
use crate::cancel::Cancel;
use crate::obelisk::ObeliskDb;

/// What to re-execute.
#[derive(Debug, Clone)]
pub struct RerunRequest {
    pub db: PathBuf,
    /// Empty: every workflow execution.
    pub ids: Vec<ExecutionId>,
    /// Another build to run instead of the recorded components.
    pub component: Option<PathBuf>,
    pub fuel: u64,
}

/// A snapshot of a job's progress.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct JobProgress {
    /// Compiling a component (the first time its digest is seen).
    pub compiling: bool,
    pub done: usize,
    pub total: usize,
    pub finished: bool,
}

#[derive(Default)]
struct Shared {
    done: AtomicUsize,
    total: AtomicUsize,
    result: Mutex<Option<Result<Reruns, RerunError>>>,
}

/// A re-execution running in the background.
pub struct RerunJob {
    rerunner: Arc<Rerunner>,
    shared: Arc<Shared>,
    cancel: Cancel,
    thread: Option<JoinHandle<()>>,
}

impl RerunJob {
    /// Starts `request` on its own thread with `rerunner` (shared, so components compiled once
    /// stay prepared for the next job).
    pub fn spawn(rerunner: Arc<Rerunner>, request: RerunRequest) -> RerunJob {
        RerunJob::spawn_after(rerunner, request, |_| {})
    }

    /// Like [`RerunJob::spawn`], but the thread first calls `before` (tests hold a job there
    /// until they cancel it or let it go).
    pub fn spawn_after(
        rerunner: Arc<Rerunner>,
        request: RerunRequest,
        before: impl FnOnce(&Cancel) + Send + 'static,
    ) -> RerunJob {
        let shared = Arc::new(Shared::default());
        let cancel = Cancel::new();
        let (r, s, c) = (rerunner.clone(), shared.clone(), cancel.clone());
        let thread = std::thread::Builder::new()
            .name("rerun".into())
            .spawn(move || {
                before(&c);
                let result = run(&r, &request, &s, &c);
                *s.result.lock().unwrap_or_else(|p| p.into_inner()) = Some(result);
            })
            .ok();
        RerunJob { rerunner, shared, cancel, thread }
    }

    pub fn progress(&self) -> JobProgress {
        JobProgress {
            compiling: self.rerunner.is_compiling(),
            done: self.shared.done.load(Ordering::Relaxed),
            total: self.shared.total.load(Ordering::Relaxed),
            finished: self.thread.as_ref().is_none_or(JoinHandle::is_finished),
        }
    }

    /// Stops the job: the running guest is interrupted, the rest is not started.
    pub fn cancel(&self) {
        self.cancel.cancel();
    }

    /// The reports once the job has finished (`None` before).
    pub fn take_result(&mut self) -> Option<Result<Reruns, RerunError>> {
        if !self.progress().finished {
            return None;
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
        self.shared.result.lock().unwrap_or_else(|p| p.into_inner()).take()
    }

    /// Waits for the job and returns its reports.
    pub fn wait(mut self) -> Result<Reruns, RerunError> {
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
        let result = self.shared.result.lock().unwrap_or_else(|p| p.into_inner()).take();
        result.unwrap_or_else(|| {
            Err(RerunError::Component { what: "re-execution".into(), reason: "the worker thread panicked".into() })
        })
    }
}

impl Drop for RerunJob {
    fn drop(&mut self) {
        self.cancel.cancel();
    }
}

fn run(rerunner: &Rerunner, request: &RerunRequest, shared: &Shared, cancel: &Cancel) -> Result<Reruns, RerunError> {
    let db = ObeliskDb::open(&request.db)?;
    let component: Option<Arc<Prepared>> = match &request.component {
        Some(path) => Some(rerunner.prepare_file(path)?),
        None => None,
    };
    let options = RunOptions { fuel: request.fuel, cancel: cancel.clone() };
    rerun_database_with_progress(rerunner, &db, &request.ids, component.as_ref(), &options, &mut |done, total| {
        shared.done.store(done, Ordering::Relaxed);
        shared.total.store(total, Ordering::Relaxed);
    })
}
