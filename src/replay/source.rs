//! Where replays come from: an Obelisk database, or an export file read back. Both give the same
//! [`Replay`] for the same rows.

use super::engine::Replay;
use super::error::ReplayError;
use super::export::ExportFile;
use super::step::Interleaving;
use crate::obelisk::{ExecutionFilter, ExecutionId, ObeliskDb};

/// A database or an export, to replay executions from.
#[derive(Debug, Clone, Copy)]
pub enum ReplaySource<'a> {
    Database(&'a ObeliskDb),
    Export(&'a ExportFile),
}

impl ReplaySource<'_> {
    /// Replays one execution (its log and responses).
    pub fn replay(&self, id: &ExecutionId) -> Result<Replay, ReplayError> {
        match self {
            ReplaySource::Database(db) => {
                // Rows go straight into steps: a long log is never held twice.
                let mut steps = Interleaving::new(db.log_len(id)?, db.responses(id)?);
                if db.visit_execution_log(id, |entry| steps.push(entry))? == 0 {
                    return Err(db.not_found(id).into());
                }
                Ok(Replay::from_interleaved(id.clone(), steps.finish()))
            }
            ReplaySource::Export(file) => file.replay(id),
        }
    }

    /// True when the execution has rows here.
    pub fn contains(&self, id: &ExecutionId) -> Result<bool, ReplayError> {
        match self {
            ReplaySource::Database(db) => Ok(db.log_len(id)? > 0),
            ReplaySource::Export(file) => Ok(file.ids().any(|i| i == id)),
        }
    }

    /// Every derived execution below `id` (any depth) present here, in ID order.
    pub fn descendants(&self, id: &ExecutionId) -> Result<Vec<ExecutionId>, ReplayError> {
        let mut out = match self {
            ReplaySource::Database(db) => {
                let filter = ExecutionFilter { id_prefix: Some(format!("{id}.")), ..Default::default() };
                db.list_executions(&filter)?.into_iter().map(|e| e.id).filter(|e| e.is_descendant_of(id)).collect()
            }
            ReplaySource::Export(file) => file.ids().filter(|e| e.is_descendant_of(id)).cloned().collect::<Vec<_>>(),
        };
        out.sort();
        Ok(out)
    }

    /// The database file or export file, for messages.
    pub fn describe(&self) -> String {
        match self {
            ReplaySource::Database(db) => db.path().display().to_string(),
            ReplaySource::Export(file) => file.path().display().to_string(),
        }
    }
}
