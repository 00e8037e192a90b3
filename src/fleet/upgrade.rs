//! The upgrade check: before a deploy, re-execute the unfinished workflow executions of every
//! tenant of a source against a candidate build of their component, and say for each whether
//! the build continues it (compatible), disagrees with its log (nondeterministic), traps, or
//! could not be checked (error). Tenants run in parallel (bounded); one tenant's failure (a
//! damaged backup) is its row's error and does not stop the others.

use std::collections::HashSet;
use std::path::PathBuf;
use std::sync::Arc;

use serde::Serialize;

use super::subjects::{Subject, SubjectOrigin};
use crate::cancel::Cancel;
use crate::litestream::RestoreError;
use crate::litestream::cache::restore_cached;
use crate::litestream::plan::RestoreTarget;
use crate::litestream::progress::NoProgress;
use crate::obelisk::{ComponentType, ExecutionFilter, ExecutionId, ObeliskDb, ObeliskError};
use crate::parallel;
use crate::rerun::{OutcomeKind, Prepared, Report, RerunError, Rerunner, RunOptions, SourceLine, rerun_database};

/// What to check, and how.
#[derive(Debug, Clone)]
pub struct CheckOptions {
    /// Every workflow execution the candidate can run, finished ones too (default: unfinished).
    pub all: bool,
    /// Tenants checked at once.
    pub parallel: usize,
    /// The restore cache (latest points are restored once and reused).
    pub cache_dir: PathBuf,
    pub fuel: u64,
}

/// The verdict on one execution.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    /// The candidate replays the whole log and continues (or ends) as the log does.
    Compatible,
    /// The candidate produces another event or return value than the log holds.
    Nondeterministic,
    /// The candidate traps where the log does not.
    Trapped,
    /// It could not be checked (the candidate lacks the function, the log is unreadable...).
    Error,
}

impl Verdict {
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Compatible => "compatible",
            Verdict::Nondeterministic => "nondeterministic",
            Verdict::Trapped => "trapped",
            Verdict::Error => "error",
        }
    }
}

/// One execution's verdict, with where and why.
#[derive(Debug, Clone, Serialize)]
pub struct ExecutionVerdict {
    pub execution_id: ExecutionId,
    pub ffqn: String,
    /// Its state in the backup (`pending_at`, `blocked_by_join_set`, `finished`...).
    pub state: String,
    pub verdict: Verdict,
    /// One line: the outcome and where (`v4 src/lib.rs:97: key does not match ...`).
    pub detail: String,
    /// The version of the event where the candidate stops agreeing with the log.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub version: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source: Option<SourceLine>,
    /// Recorded and produced (nondeterministic only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub recorded: Option<serde_json::Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub produced: Option<serde_json::Value>,
}

/// One tenant's verdicts, or why it could not be checked.
#[derive(Debug, Clone, Serialize)]
pub struct TenantVerdicts {
    pub tenant: String,
    /// The database checked (restored into the cache, or the file given).
    pub database: Option<PathBuf>,
    pub error: Option<String>,
    pub executions: Vec<ExecutionVerdict>,
}

impl TenantVerdicts {
    /// No error, and every execution compatible.
    pub fn all_compatible(&self) -> bool {
        self.error.is_none() && self.executions.iter().all(|e| e.verdict == Verdict::Compatible)
    }

    /// How many executions have `verdict`.
    pub fn count(&self, verdict: Verdict) -> usize {
        self.executions.iter().filter(|e| e.verdict == verdict).count()
    }
}

/// Why a tenant could not be checked.
#[derive(Debug, thiserror::Error)]
pub enum TenantError {
    #[error("restore failed: {0}")]
    Restore(#[from] RestoreError),
    #[error("{0}")]
    Database(#[from] ObeliskError),
    #[error("{0}")]
    Rerun(#[from] RerunError),
}

/// Checks every subject against `candidate`, `options.parallel` at a time; `done(i, verdicts)`
/// is called as each subject `i` ends (from worker threads). Results are in `subjects` order.
pub fn check_all(
    rerunner: &Rerunner,
    candidate: &Arc<Prepared>,
    subjects: &[Subject],
    options: &CheckOptions,
    done: &(dyn Fn(usize, &TenantVerdicts) + Sync),
    cancel: &Cancel,
) -> Vec<TenantVerdicts> {
    let exports: HashSet<String> = rerunner.exported_functions(candidate).into_iter().collect();
    let indexed: Vec<(usize, &Subject)> = subjects.iter().enumerate().collect();
    parallel::map(&indexed, options.parallel.max(1), |(i, subject)| {
        let verdicts = check_one(rerunner, candidate, &exports, subject, options, cancel);
        done(*i, &verdicts);
        verdicts
    })
}

/// One subject: its database (restored through the cache), its selected executions, each
/// re-executed with the candidate.
pub fn check_one(
    rerunner: &Rerunner,
    candidate: &Arc<Prepared>,
    exports: &HashSet<String>,
    subject: &Subject,
    options: &CheckOptions,
    cancel: &Cancel,
) -> TenantVerdicts {
    let mut out = TenantVerdicts { tenant: subject.name.clone(), database: None, error: None, executions: Vec::new() };
    match check_database(rerunner, candidate, exports, subject, options, cancel, &mut out) {
        Ok(()) => {}
        Err(e) => out.error = Some(e.to_string()),
    }
    out
}

fn check_database(
    rerunner: &Rerunner,
    candidate: &Arc<Prepared>,
    exports: &HashSet<String>,
    subject: &Subject,
    options: &CheckOptions,
    cancel: &Cancel,
    out: &mut TenantVerdicts,
) -> Result<(), TenantError> {
    let path = match &subject.origin {
        SubjectOrigin::Database(path) => path.clone(),
        SubjectOrigin::Replica { store, age } => {
            std::fs::create_dir_all(&options.cache_dir).map_err(|e| RestoreError::output(&options.cache_dir, e))?;
            let (path, _) =
                restore_cached(store.as_ref(), &RestoreTarget::Latest, age, &options.cache_dir, &NoProgress, cancel)?;
            path
        }
    };
    out.database = Some(path.clone());
    let db = ObeliskDb::open(&path)?;
    let selected: Vec<_> = db
        .list_executions(&ExecutionFilter::default())?
        .into_iter()
        .filter(|e| e.component_type == ComponentType::Workflow)
        .filter(|e| options.all || !e.is_finished())
        .filter(|e| exports.contains(&e.ffqn.to_string()))
        .collect();
    if selected.is_empty() {
        return Ok(());
    }
    let ids: Vec<ExecutionId> = selected.iter().map(|e| e.id.clone()).collect();
    let run = RunOptions { fuel: options.fuel, cancel: cancel.clone() };
    let reports = rerun_database(rerunner, &db, &ids, Some(candidate), &run)?;
    for (summary, (_, report)) in selected.iter().zip(reports) {
        let state = summary.state.name().to_owned();
        let ffqn = summary.ffqn.to_string();
        out.executions.push(match report {
            Ok(report) => verdict_of(&report, state, ffqn),
            Err(e) => ExecutionVerdict {
                execution_id: summary.id.clone(),
                ffqn,
                state,
                verdict: Verdict::Error,
                detail: e.to_string(),
                version: None,
                source: None,
                recorded: None,
                produced: None,
            },
        });
    }
    Ok(())
}

/// The verdict a report gives.
pub fn verdict_of(report: &Report, state: String, ffqn: String) -> ExecutionVerdict {
    let mut v = ExecutionVerdict {
        execution_id: report.execution_id.clone(),
        ffqn,
        state,
        verdict: Verdict::Compatible,
        detail: format!("{} {}", report.outcome.as_str(), report.where_text()).trim_end().to_owned(),
        version: None,
        source: None,
        recorded: None,
        produced: None,
    };
    if report.consistent {
        return v;
    }
    match report.outcome {
        OutcomeKind::Nondeterministic => {
            v.verdict = Verdict::Nondeterministic;
            if let Some(n) = &report.nondeterminism {
                v.detail = format!("{}: {}", report.where_text(), n.message);
                v.version = Some(n.version);
                v.source = n.source.clone();
                v.recorded = Some(n.recorded.clone());
                v.produced = Some(n.produced.clone());
            }
        }
        OutcomeKind::Trapped => {
            v.verdict = Verdict::Trapped;
            if let Some(t) = &report.trap {
                v.detail = format!("{}: {}", report.where_text(), t.reason).trim_start_matches(": ").to_owned();
                v.source = t.source.clone();
            }
            v.version = report.steps.last().map(|s| s.version);
        }
        OutcomeKind::Cancelled => {
            v.verdict = Verdict::Error;
            v.detail = "cancelled".into();
        }
        // Returned another value, or stopped elsewhere than where the log ends.
        OutcomeKind::Finished | OutcomeKind::Blocked | OutcomeKind::Pending => {
            v.verdict = Verdict::Nondeterministic;
            v.detail = format!("{} where the log does not: {}", report.outcome.as_str(), report.where_text());
            v.version = report.steps.last().map(|s| s.version);
            v.recorded = report.recorded_retval.as_ref().and_then(|r| serde_json::to_value(r).ok());
            v.produced = report.retval.as_ref().and_then(|r| serde_json::to_value(r).ok());
        }
    }
    v
}
