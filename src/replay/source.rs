//! Where replays come from: an Obelisk database, or an export file read back. Both give the same
//! [`Replay`] for the same rows.

use super::engine::Replay;
use super::error::ReplayError;
use super::export::ExportFile;
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
            ReplaySource::Database(db) => Ok(Replay::new(id.clone(), db.execution_log(id)?, db.responses(id)?)),
            ReplaySource::Export(file) => file.replay(id),
        }
    }

    /// True when the execution has rows here.
    pub fn contains(&self, id: &ExecutionId) -> Result<bool, ReplayError> {
        match self {
            ReplaySource::Database(db) => match db.execution_log(id) {
                Ok(_) => Ok(true),
                Err(crate::obelisk::ObeliskError::ExecutionNotFound { .. }) => Ok(false),
                Err(e) => Err(e.into()),
            },
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
