//! Re-execution: runs a workflow's own WASM component against its recorded execution log, in
//! our own host, offline, from the database alone (spec §3.1, §3.5). Every host call becomes
//! deterministic keys matched against the log; every matched event gets the guest's source line;
//! the run ends [`OutcomeKind::Finished`] (same return value), `Trapped` (with source frames),
//! `Blocked`, `Pending` (what it would append next) or `Nondeterministic` (where the code and
//! the log part). Nothing is ever written to the database.
//!
//! - [`Rerunner`]: the engine; [`Rerunner::prepare`] compiles a component once per digest
//!   (cached on disk), checks its imports and links the [`host`].
//! - [`ExecutionInput::load`] reads one execution; [`rerun`] runs it; [`rerun_database`] runs
//!   every workflow execution of a database (or the ones asked for).
//! - [`RerunJob`]: the same on a worker thread, with progress and cancel (for the app).
//! - [`values`]: typed JSON ↔ component values.
//!
//! Written from the WIT embedded in the components (MIT) and `shared/specs/obelisk-database.md`;
//! no Obelisk code is used.

mod diff;
mod engine;
mod error;
pub mod host;
mod imports;
mod input;
mod join_sets;
mod keys;
mod matcher;
mod outcome;
mod run;
mod source;
mod source_text;
mod symbols;
pub mod values;
mod worker;

pub use diff::{FieldDiff, field_diff};
pub use engine::{Compiled, Prepared, Rerunner, default_cache_dir};
pub use error::{RerunError, predates_note};
pub use imports::{Import, ImportKind};
pub use input::ExecutionInput;
pub use keys::Key;
pub use outcome::{Blocked, GuestLog, Nondeterminism, OutcomeKind, Pending, Report, Step, Trap, short_path};
pub use run::{RunOptions, rerun};
pub use source::{SourceLine, TrapFrame};
pub use source_text::{SourceFiles, read_by_suffix};
pub use worker::{JobProgress, RerunJob, RerunRequest};

use std::sync::Arc;

use crate::obelisk::{ComponentType, ExecutionFilter, ExecutionId, ObeliskDb};

/// The workflow executions of `db` (creation order), or `ids` as given.
pub fn workflow_executions(db: &ObeliskDb, ids: &[ExecutionId]) -> Result<Vec<ExecutionId>, RerunError> {
    if !ids.is_empty() {
        return Ok(ids.to_vec());
    }
    let all = db.list_executions(&ExecutionFilter::default())?;
    Ok(all.into_iter().filter(|e| e.component_type == ComponentType::Workflow).map(|e| e.id).collect())
}

/// The component that ran `input`, from the database's file store.
pub fn stored_component(
    rerunner: &Rerunner,
    db: &ObeliskDb,
    input: &ExecutionInput,
) -> Result<Arc<Prepared>, RerunError> {
    let digest = input.component.component_digest;
    let path = db.path().display().to_string();
    let missing = |predates: bool| RerunError::ComponentMissing {
        path: path.clone(),
        digest: digest.to_string(),
        execution_id: input.id.to_string(),
        predates,
    };
    if !db.has_file_store() {
        return Err(missing(true));
    }
    let bytes = db.stored_file(&digest)?.ok_or_else(|| missing(false))?;
    rerunner.prepare(digest, &bytes, &format!("{path} t_file {digest}"))
}

/// What [`rerun_database`] returns: each execution with its report or why it could not run.
pub type Reruns = Vec<(ExecutionId, Result<Report, RerunError>)>;

/// Re-executes each of `ids` (every workflow execution when empty) with its stored component,
/// or with `component` for all. One execution's error does not stop the others.
pub fn rerun_database(
    rerunner: &Rerunner,
    db: &ObeliskDb,
    ids: &[ExecutionId],
    component: Option<&Arc<Prepared>>,
    options: &RunOptions,
) -> Result<Reruns, RerunError> {
    rerun_database_with_progress(rerunner, db, ids, component, options, &mut |_, _| {})
}

/// [`rerun_database`], calling `progress(done, total)` before each execution and at the end.
pub fn rerun_database_with_progress(
    rerunner: &Rerunner,
    db: &ObeliskDb,
    ids: &[ExecutionId],
    component: Option<&Arc<Prepared>>,
    options: &RunOptions,
    progress: &mut dyn FnMut(usize, usize),
) -> Result<Reruns, RerunError> {
    let ids = workflow_executions(db, ids)?;
    let total = ids.len();
    let mut out = Vec::with_capacity(total);
    for id in ids {
        progress(out.len(), total);
        if options.cancel.is_cancelled() {
            break;
        }
        let report = ExecutionInput::load(db, &id).and_then(|input| {
            let prepared = match component {
                Some(p) => p.clone(),
                None => stored_component(rerunner, db, &input)?,
            };
            rerun(rerunner, &prepared, &input, options)
        });
        out.push((id, report));
    }
    progress(out.len(), total);
    Ok(out)
}

#[cfg(test)]
mod tests;
