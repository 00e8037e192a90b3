//! The `workflow-support` calls that add requests to the log: `submit-json` (a child in a join
//! set), `call-json` (a direct child call), `schedule-json` (a new top-level execution) and
//! `stub-json` (a stub child's result), each answered with the result the log recorded.

use super::join::await_response;
use super::types::{StubJsonError, SubmitJsonError};
use crate::obelisk::{self, HistoryEvent, JoinSetRequest};
use crate::rerun::host::HostState;
use crate::rerun::host::response_json::JsonResult;
use crate::rerun::host::types::{ExecutionId, Function, ScheduleAt, ScheduleJsonError};
use crate::rerun::join_sets::Member;
use crate::rerun::keys::Key;
use crate::rerun::matcher::Stop;
use crate::rerun::source::SourceLine;

/// The FFQN of `function` and the JSON array `params`, or the error the guest gets.
fn target(function: &Function, params: &str) -> Result<(obelisk::Ffqn, Vec<serde_json::Value>), ScheduleJsonError> {
    let ffqn = function
        .ffqn_text()
        .parse()
        .map_err(|e: obelisk::IdError| ScheduleJsonError::FfqnParsingError(e.to_string()))?;
    match serde_json::from_str(params) {
        Ok(serde_json::Value::Array(values)) => Ok((ffqn, values)),
        Ok(other) => Err(ScheduleJsonError::TypeCheckError(format!("params must be a JSON array, not {other}"))),
        Err(e) => Err(ScheduleJsonError::TypeCheckError(format!("params are not JSON: {e}"))),
    }
}

/// The guest's error for a request the log recorded as failed (`{"Err": ...}`).
fn request_error(error: &serde_json::Value) -> ScheduleJsonError {
    match error {
        serde_json::Value::String(s) if s == "function_not_found" => ScheduleJsonError::FunctionNotFound,
        serde_json::Value::Object(o) if o.contains_key("type_check_error") => {
            ScheduleJsonError::TypeCheckError(o["type_check_error"].as_str().unwrap_or_default().to_owned())
        }
        other => ScheduleJsonError::TypeCheckError(other.to_string()),
    }
}

/// The recorded result of the request event at `version`.
fn recorded_result(state: &HostState, version: u64) -> Result<(), serde_json::Value> {
    match state.matcher.recorded_at(version).map(|r| &r.event) {
        Some(HistoryEvent::JoinSetRequest {
            request: JoinSetRequest::ChildExecutionRequest { result, .. }, ..
        })
        | Some(HistoryEvent::Schedule { result, .. })
        | Some(HistoryEvent::Stub { result, .. }) => result.clone(),
        _ => Ok(()),
    }
}

pub(super) fn submit_json(
    state: &mut HostState,
    index: usize,
    function: &Function,
    params: &str,
    source: &Option<SourceLine>,
) -> wasmtime::Result<Result<ExecutionId, SubmitJsonError>> {
    let (ffqn, params) = match target(function, params) {
        Ok(t) => t,
        Err(ScheduleJsonError::FfqnParsingError(e)) => return Ok(Err(SubmitJsonError::FfqnParsingError(e))),
        Err(ScheduleJsonError::TypeCheckError(e)) => return Ok(Err(SubmitJsonError::TypeCheckError(e))),
        Err(ScheduleJsonError::FunctionNotFound) => return Ok(Err(SubmitJsonError::FunctionNotFound)),
    };
    let join_set_id = state.matcher.join_sets.get(index).id.clone();
    let child = state.matcher.join_sets.next_child_id(&state.matcher.execution_id, index);
    let key = Key::ChildExecutionRequest {
        join_set_id,
        child_execution_id: child.clone(),
        target_ffqn: ffqn.clone(),
        params,
    };
    let version = state.expect("submit-json", vec![key], source)?[0];
    if let Err(e) = recorded_result(state, version) {
        return Ok(Err(match request_error(&e) {
            ScheduleJsonError::FunctionNotFound => SubmitJsonError::FunctionNotFound,
            ScheduleJsonError::TypeCheckError(t) | ScheduleJsonError::FfqnParsingError(t) => {
                SubmitJsonError::TypeCheckError(t)
            }
        }));
    }
    state.matcher.join_sets.get_mut(index).members.push(Member::Child { id: child.clone(), ffqn });
    Ok(Ok(ExecutionId { id: child.to_string() }))
}

pub(super) fn schedule_json(
    state: &mut HostState,
    id: &ExecutionId,
    at: ScheduleAt,
    function: &Function,
    params: &str,
    source: &Option<SourceLine>,
) -> wasmtime::Result<Result<(), ScheduleJsonError>> {
    if let Err(e) = target(function, params) {
        return Ok(Err(e));
    }
    let execution_id = match id.id.parse() {
        Ok(id) => id,
        Err(e) => return Err(state.halt(Stop::Unsupported(format!("schedule-json: {e}")), source.clone())),
    };
    let version =
        state.expect("schedule-json", vec![Key::Schedule { execution_id, schedule_at: at.into() }], source)?[0];
    Ok(recorded_result(state, version).map_err(|e| request_error(&e)))
}

pub(super) fn call_json(
    state: &mut HostState,
    function: &Function,
    params: &str,
    source: &Option<SourceLine>,
) -> wasmtime::Result<Result<JsonResult, ScheduleJsonError>> {
    let (ffqn, params) = match target(function, params) {
        Ok(t) => t,
        Err(e) => return Ok(Err(e)),
    };
    let join_set_id = state.matcher.join_sets.next_one_off(ffqn.function());
    let index = state.matcher.join_sets.open(join_set_id.clone());
    let child = state.matcher.join_sets.next_child_id(&state.matcher.execution_id, index);
    let keys = vec![
        Key::JoinSetCreate { join_set_id: join_set_id.clone() },
        Key::ChildExecutionRequest {
            join_set_id: join_set_id.clone(),
            child_execution_id: child.clone(),
            target_ffqn: ffqn.clone(),
            params,
        },
        Key::JoinNext { join_set_id, requested_ffqn: Some(ffqn.clone()), closing: false },
    ];
    let versions = state.expect("call-json", keys, source)?;
    if let Err(e) = recorded_result(state, versions[1]) {
        return Ok(Err(request_error(&e)));
    }
    state.matcher.join_sets.get_mut(index).members.push(Member::Child { id: child, ffqn });
    let result = await_response(state, index, versions[2], source)?;
    state.matcher.join_sets.get_mut(index).closed = true;
    Ok(Ok(result))
}

pub(super) fn stub_json(
    state: &mut HostState,
    id: &ExecutionId,
    result_json: &str,
    source: &Option<SourceLine>,
) -> wasmtime::Result<Result<(), StubJsonError>> {
    let target: obelisk::ExecutionId = match id.id.parse() {
        Ok(id) => id,
        Err(e) => return Ok(Err(StubJsonError::ExecutionIdParsingError(format!("{e}")))),
    };
    let produced: serde_json::Value = match serde_json::from_str(result_json) {
        Ok(v) => v,
        Err(e) => return Ok(Err(StubJsonError::TypeCheckError(format!("not JSON: {e}")))),
    };
    let key = Key::Stub { target_execution_id: target.clone(), result_json: produced.clone() };
    let version = state.expect("stub-json", vec![key.clone()], source)?[0];
    // The log keeps only a hash; the stubbed child's own `Finished` holds the value.
    if let Some(recorded) = state.matcher.child_result(&target) {
        let recorded_json = match recorded {
            obelisk::RetVal::Ok(v) => serde_json::json!({ "ok": v.as_ref().map(|t| t.value.clone()) }),
            obelisk::RetVal::Err(v) => serde_json::json!({ "err": v.as_ref().map(|t| t.value.clone()) }),
            obelisk::RetVal::ExecutionFailure(_) => serde_json::Value::Null,
        };
        if recorded_json != produced {
            let recorded = state.matcher.recorded_at(version).cloned().unwrap_or_else(|| unreachable!("matched"));
            return Err(state.halt(
                Stop::Nondeterministic { recorded: Box::new(recorded), produced: Box::new(key) },
                source.clone(),
            ));
        }
    }
    Ok(recorded_result(state, version).map_err(|e| match e {
        serde_json::Value::String(s) if s == "execution_not_found" => StubJsonError::ExecutionNotFound,
        serde_json::Value::String(s) if s == "conflict" => StubJsonError::Conflict,
        other => StubJsonError::TypeCheckError(other.to_string()),
    }))
}
