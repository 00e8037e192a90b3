//! What re-executing one execution needs from the database (spec §3.5): the function and params
//! of `Created`, the component digest, the history events in version order, the responses in
//! arrival order, and the recorded `Finished`, if any.

use super::error::RerunError;
use super::matcher::Recorded;
use crate::obelisk::{
    ComponentId, ComponentType, Event, ExecutionId, Ffqn, JoinSetResponse, ObeliskDb, Params, RetVal,
};

/// One execution's recorded run.
#[derive(Debug, Clone)]
pub struct ExecutionInput {
    pub id: ExecutionId,
    pub ffqn: Ffqn,
    pub params: Vec<serde_json::Value>,
    /// The component of the last `Locked` (after an upgrade), else of `Created`.
    pub component: ComponentId,
    pub history: Vec<Recorded>,
    pub responses: Vec<JoinSetResponse>,
    /// The version and return value of `Finished`.
    pub finished: Option<(u64, RetVal)>,
}

impl ExecutionInput {
    /// Reads execution `id`; an execution that is not a workflow, or whose log cannot be
    /// decoded, is an error naming it.
    pub fn load(db: &ObeliskDb, id: &ExecutionId) -> Result<ExecutionInput, RerunError> {
        let log = db.execution_log(id)?;
        let fail = |reason: String| RerunError::NotReExecutable { execution_id: id.to_string(), reason };
        let Some(Event::Created(created)) = log.first().map(|e| &e.event) else {
            return Err(fail("its log does not start with `created`".into()));
        };
        if created.component_id.component_type != ComponentType::Workflow {
            return Err(fail(format!(
                "{} is not a workflow (its component type is `{}`): only workflows are re-executed, activities are not deterministic",
                created.ffqn, created.component_id.component_type
            )));
        }
        let params = match &created.params {
            Params::Values(values) => values.clone(),
            Params::Rejected { .. } => return Err(fail("its params were too large to be stored".into())),
        };
        let mut component = created.component_id.clone();
        let mut history = Vec::new();
        let mut finished = None;
        for entry in &log {
            match &entry.event {
                Event::HistoryEvent { event } => {
                    history.push(Recorded { version: entry.version, event: event.clone() })
                }
                Event::Locked(locked) => component = locked.component_id.clone(),
                Event::Finished(f) => finished = Some((entry.version, f.retval.clone())),
                Event::Raw(raw) if raw.variant == "history_event" => {
                    return Err(fail(format!("version {} cannot be decoded: {}", entry.version, raw.error)));
                }
                _ => {}
            }
        }
        let responses = db.responses(id)?;
        Ok(ExecutionInput {
            id: id.clone(),
            ffqn: created.ffqn.clone(),
            params,
            component,
            history,
            responses,
            finished,
        })
    }
}
