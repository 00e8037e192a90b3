//! Re-execution of the open execution tree, for the source pane: the background
//! [`RerunJob`] (compiling, then executions done of total; cancellable), the reports it
//! returns, the source files they name (loaded by a second task), and the source line of each
//! step (the re-executed event with the step's version, or the last one before it).

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;

use crate::obelisk::ExecutionId;
use crate::rerun::{GuestLog, JobProgress, OutcomeKind, Report, RerunError, RerunJob, SourceLine, Step, predates_note};

/// Where the source pane's text comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SourceOrigin {
    /// Stored with the component in the database.
    Database,
    /// A folder the user picked.
    Folder(PathBuf),
}

/// The state of re-executing one tree.
pub struct RerunModel {
    /// The database re-executed.
    pub db: PathBuf,
    /// The workflow executions of the tree, root first.
    pub ids: Vec<ExecutionId>,
    job: Option<RerunJob>,
    pub progress: JobProgress,
    /// Each execution's report, or why it could not be re-executed (missing or unsupported
    /// component, ...).
    pub reports: HashMap<ExecutionId, Result<Report, String>>,
    /// The job itself failed (the database could not be read).
    pub error: Option<String>,
    pub cancelled: bool,
    /// Source text by DWARF path.
    pub files: HashMap<String, Arc<str>>,
    pub origin: SourceOrigin,
    /// Loading the source files.
    pub files_task: Option<u64>,
    /// A line shown instead of the cursor's (a clicked trap frame or log line); cleared when
    /// the cursor moves.
    pub pinned: Option<(usize, SourceLine)>,
    /// The line the source pane last scrolled to.
    pub scrolled_to: Option<(String, u32)>,
    /// The build run instead of the recorded one (opened from the upgrade check).
    pub candidate: Option<PathBuf>,
}

impl RerunModel {
    /// A model for `job`, which re-executes `ids` of `db`.
    pub fn new(db: PathBuf, ids: Vec<ExecutionId>, job: Option<RerunJob>) -> RerunModel {
        let progress = job.as_ref().map(RerunJob::progress).unwrap_or(JobProgress {
            compiling: false,
            done: 0,
            total: 0,
            finished: true,
        });
        RerunModel {
            db,
            ids,
            job,
            progress,
            reports: HashMap::new(),
            error: None,
            cancelled: false,
            files: HashMap::new(),
            origin: SourceOrigin::Database,
            files_task: None,
            pinned: None,
            scrolled_to: None,
            candidate: None,
        }
    }

    pub fn running(&self) -> bool {
        self.job.is_some()
    }

    pub fn cancel(&mut self) {
        if let Some(job) = &self.job {
            job.cancel();
            self.cancelled = true;
        }
    }

    /// Reads the job's progress; returns true when it has just finished (its reports are in).
    pub fn poll(&mut self) -> bool {
        let Some(job) = &mut self.job else { return false };
        self.progress = job.progress();
        let Some(result) = job.take_result() else { return false };
        self.job = None;
        match result {
            Ok(reruns) => {
                for (id, r) in reruns {
                    self.reports.insert(id, r.map_err(|e| in_words(&e)));
                }
            }
            Err(e) => self.error = Some(e.to_string()),
        }
        true
    }

    pub fn report(&self, id: &ExecutionId) -> Option<&Result<Report, String>> {
        self.reports.get(id)
    }

    /// The version of the cursor's step of `tt`, or of the event before it (a response has
    /// no version: it belongs to the event before it).
    pub fn cursor_version(tt: &crate::ui::model::timetravel::TimeTravel) -> Option<u64> {
        let rows = tt.rows();
        let step = tt.current().step.min(rows.len().saturating_sub(1));
        rows.get(..=step).and_then(|r| r.iter().rev().find_map(|r| r.version))
    }

    /// The re-executed event for a step with `version` (the last one at or before it, so a
    /// response arriving shows the line that awaits it).
    pub fn step_at(report: &Report, version: Option<u64>) -> Option<&Step> {
        let v = version?;
        report.steps.iter().rev().find(|s| s.version <= v)
    }

    /// The guest's log lines written by the time of the step with `version` (after the event
    /// before it was matched: a log after event `v` is shown from step `v` on).
    pub fn logs_until(report: &Report, version: Option<u64>) -> Vec<&GuestLog> {
        // The guest first runs once locked (v1): a log before its first call is shown from there.
        let shown = |l: &&GuestLog| match (l.after_version, version) {
            (None, Some(v)) => v >= 1,
            (Some(a), Some(v)) => a <= v,
            (_, None) => false,
        };
        report.logs.iter().filter(shown).collect()
    }

    /// Has the cursor (at an event with `version`) reached where the report stops: the
    /// diverging or blocking event, or past the last matched one for a trap?
    pub fn stop_reached(report: &Report, version: Option<u64>) -> bool {
        let Some(v) = version else { return false };
        let last = report.steps.last().map(|s| s.version);
        match report.outcome {
            OutcomeKind::Nondeterministic => report.nondeterminism.as_ref().is_some_and(|n| n.version <= v),
            OutcomeKind::Blocked => report.blocked.as_ref().is_some_and(|b| b.version <= v),
            OutcomeKind::Trapped | OutcomeKind::Pending => last.map_or(v >= 1, |m| v > m),
            _ => false,
        }
    }

    /// Where the report ends (trap, nondeterminism, blocked, pending), when it did not finish.
    pub fn stop_line(report: &Report) -> Option<&SourceLine> {
        match report.outcome {
            OutcomeKind::Trapped => report.trap.as_ref()?.source.as_ref(),
            OutcomeKind::Nondeterministic => report.nondeterminism.as_ref()?.source.as_ref(),
            OutcomeKind::Blocked => report.blocked.as_ref()?.source.as_ref(),
            OutcomeKind::Pending => report.pending.as_ref()?.source.as_ref(),
            _ => None,
        }
    }

    /// The text of `file`, when known.
    pub fn file(&self, file: &str) -> Option<&Arc<str>> {
        self.files.get(file)
    }
}

/// An error for the pane: the database's path is already on screen, and the app has no
/// `--component`.
fn in_words(e: &RerunError) -> String {
    match e {
        RerunError::ComponentMissing { digest, predates, .. } => {
            format!("the component {digest} is not stored in this database{}", predates_note(*predates))
        }
        other => other.to_string(),
    }
}
