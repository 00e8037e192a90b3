//! The upgrade check in the background, for the app: compiling the candidate, then tenants
//! checked in parallel; each tenant's verdicts are readable as soon as it ends; cancellable.
//! Nothing here blocks the caller but a short lock when something new arrived.

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;

use super::subjects::Subject;
use super::upgrade::{CheckOptions, TenantVerdicts, check_all};
use crate::cancel::Cancel;
use crate::rerun::Rerunner;

#[derive(Default)]
struct Shared {
    compiling: AtomicBool,
    /// Bumped whenever a tenant ends (readers copy the results when it changed).
    generation: AtomicUsize,
    results: Mutex<Vec<Option<TenantVerdicts>>>,
    /// The candidate could not be loaded.
    error: Mutex<Option<String>>,
}

/// A running upgrade check.
pub struct UpgradeJob {
    shared: Arc<Shared>,
    cancel: Cancel,
    thread: Option<JoinHandle<()>>,
}

/// What the job has so far.
pub struct JobState {
    pub compiling: bool,
    pub finished: bool,
    pub error: Option<String>,
    /// One entry per subject, `None` until it is checked.
    pub results: Vec<Option<TenantVerdicts>>,
    pub generation: usize,
}

impl UpgradeJob {
    /// Check `subjects` against the component at `candidate`, on a thread of its own.
    pub fn spawn(rerunner: Arc<Rerunner>, candidate: PathBuf, subjects: Vec<Subject>, options: CheckOptions) -> Self {
        let shared = Arc::new(Shared::default());
        *shared.results.lock().unwrap_or_else(|p| p.into_inner()) = vec![None; subjects.len()];
        let cancel = Cancel::new();
        let (s, c) = (shared.clone(), cancel.clone());
        let thread = std::thread::Builder::new()
            .name("upgrade-check".into())
            .spawn(move || {
                s.compiling.store(true, Ordering::Relaxed);
                let prepared = rerunner.prepare_file(&candidate);
                s.compiling.store(false, Ordering::Relaxed);
                let prepared = match prepared {
                    Ok(p) => p,
                    Err(e) => {
                        *s.error.lock().unwrap_or_else(|p| p.into_inner()) = Some(e.to_string());
                        s.generation.fetch_add(1, Ordering::Relaxed);
                        return;
                    }
                };
                let done = |i: usize, v: &TenantVerdicts| {
                    s.results.lock().unwrap_or_else(|p| p.into_inner())[i] = Some(v.clone());
                    s.generation.fetch_add(1, Ordering::Relaxed);
                };
                check_all(&rerunner, &prepared, &subjects, &options, &done, &c);
            })
            .ok();
        UpgradeJob { shared, cancel, thread }
    }

    pub fn cancel(&self) {
        self.cancel.cancel();
    }

    pub fn is_finished(&self) -> bool {
        self.thread.as_ref().is_none_or(JoinHandle::is_finished)
    }

    /// Has anything arrived since `generation`?
    pub fn changed_since(&self, generation: usize) -> bool {
        self.shared.generation.load(Ordering::Relaxed) != generation
    }

    pub fn is_compiling(&self) -> bool {
        self.shared.compiling.load(Ordering::Relaxed)
    }

    /// A copy of what has arrived.
    pub fn state(&self) -> JobState {
        let generation = self.shared.generation.load(Ordering::Relaxed);
        JobState {
            compiling: self.is_compiling(),
            finished: self.is_finished(),
            error: self.shared.error.lock().unwrap_or_else(|p| p.into_inner()).clone(),
            results: self.shared.results.lock().unwrap_or_else(|p| p.into_inner()).clone(),
            generation,
        }
    }
}

impl Drop for UpgradeJob {
    fn drop(&mut self) {
        self.cancel.cancel();
    }
}
