//! Progress reporting and cancellation shared by the CLI (progress bar) and the GUI.

/// What long-running work reports as it goes.
#[derive(Debug, Clone, PartialEq)]
pub enum ProgressEvent {
    /// A new phase begins (`"listing"`, `"downloading"`, `"applying"`, `"verifying"`), with the
    /// total amount of work when known, counted in `unit`.
    Phase { name: &'static str, total: Option<u64>, unit: Unit },
    /// `done` units of the current phase's total are complete.
    Advance { done: u64 },
    /// A human-readable note (e.g. the object being processed).
    Note(String),
}

/// What a phase's amounts count.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Unit {
    #[default]
    Bytes,
    /// Whole items, named in the plural (`"WAL indexes"`, `"replicas"`).
    Items(&'static str),
}

impl Unit {
    /// `n` in this unit, for people: `"12.0 MiB"`, `"3 WAL indexes"`.
    pub fn format(self, n: u64) -> String {
        match self {
            Unit::Bytes => crate::format::bytes(n),
            Unit::Items(name) => format!("{n} {name}"),
        }
    }

    /// A rate in this unit (only bytes have one worth showing).
    pub fn format_rate(self, per_second: f64) -> Option<String> {
        match self {
            Unit::Bytes => Some(format!("{}/s", crate::format::bytes(per_second as u64))),
            Unit::Items(_) => None,
        }
    }
}

/// Receives progress. Must be cheap: called from worker threads, often.
pub trait Progress: Send + Sync {
    fn report(&self, event: ProgressEvent);
}

/// A progress sink that ignores everything.
pub struct NoProgress;
impl Progress for NoProgress {
    fn report(&self, _event: ProgressEvent) {}
}

impl<F: Fn(ProgressEvent) + Send + Sync> Progress for F {
    fn report(&self, event: ProgressEvent) {
        self(event)
    }
}

pub use crate::cancel::Cancel;

impl Cancel {
    /// `Err(Cancelled)` once cancelled; sprinkle through loops.
    pub fn check(&self) -> Result<(), super::RestoreError> {
        if self.is_cancelled() { Err(super::RestoreError::Cancelled) } else { Ok(()) }
    }
}
