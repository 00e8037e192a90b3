//! `obelisk:workflow/workflow-support@6.0.0`: every function turned into its deterministic keys
//! (spec §3.1.3), matched against the log, and answered from the log: persisted values for
//! `random-*` and `execution-id-generate`, responses in arrival order for the `join-next*`
//! family, the recorded request results for `submit-json`, `schedule-json` and `stub-json`.

use wasmtime::StoreContextMut;
use wasmtime::component::{ComponentType, Lift, Linker, Lower, Resource};

use super::join_set::JoinSetHandle;
use super::response_json::{JsonResult, response_json, retval_json};
use super::types::{Datetime, DelayId, ExecutionId, Function, ScheduleAt, ScheduleJsonError};
use super::{HostState, begin};
use crate::obelisk::{self, HistoryEvent, JoinNextTryOutcome, JoinSetRequest, PersistKind, PersistedValue};
use crate::rerun::join_sets::Member;
use crate::rerun::keys::Key;
use crate::rerun::matcher::Stop;
use crate::rerun::source::SourceLine;

pub const INTERFACE: &str = "obelisk:workflow/workflow-support@6.0.0";

#[derive(ComponentType, Lift, Lower, Clone, Debug, PartialEq)]
#[component(variant)]
pub enum SubmitJsonError {
    #[component(name = "ffqn-parsing-error")]
    FfqnParsingError(String),
    #[component(name = "function-not-found")]
    FunctionNotFound,
    #[component(name = "type-check-error")]
    TypeCheckError(String),
}

#[derive(ComponentType, Lift, Lower, Clone, Debug, PartialEq)]
#[component(variant)]
pub enum JoinNextTryError {
    #[component(name = "all-processed")]
    AllProcessed,
    #[component(name = "pending")]
    Pending,
}

#[derive(ComponentType, Lift, Lower, Clone, Debug, PartialEq)]
#[component(variant)]
pub enum GetResultJsonError {
    #[component(name = "execution-id-parsing-error")]
    ExecutionIdParsingError(String),
    #[component(name = "not-found-in-processed-responses")]
    NotFoundInProcessedResponses,
}

#[derive(ComponentType, Lift, Lower, Clone, Debug, PartialEq)]
#[component(variant)]
pub enum JoinSetCreateError {
    #[component(name = "conflict")]
    Conflict,
    #[component(name = "invalid-name")]
    InvalidName(String),
}

#[derive(ComponentType, Lift, Lower, Clone, Debug, PartialEq)]
#[component(variant)]
pub enum JoinNextError {
    #[component(name = "all-processed")]
    AllProcessed,
}

#[derive(ComponentType, Lift, Lower, Clone, Debug, PartialEq)]
#[component(variant)]
pub enum StubJsonError {
    #[component(name = "execution-id-parsing-error")]
    ExecutionIdParsingError(String),
    #[component(name = "execution-not-found")]
    ExecutionNotFound,
    #[component(name = "type-check-error")]
    TypeCheckError(String),
    #[component(name = "conflict")]
    Conflict,
}

type Store<'a> = StoreContextMut<'a, HostState>;
type Res<T> = wasmtime::Result<(T,)>;

pub fn add_to_linker(linker: &mut Linker<HostState>) -> wasmtime::Result<()> {
    let mut i = linker.instance(INTERFACE)?;
    i.func_wrap("random-u64", |mut s: Store<'_>, (min, max_exclusive): (u64, u64)| -> Res<u64> {
        let kind = PersistKind::RandomU64 { min, max_inclusive: max_exclusive.saturating_sub(1) };
        match persist(&mut s, "random-u64", kind)? {
            PersistedValue::U64(v) => Ok((v,)),
            other => Err(unreadable(s.data_mut(), &other)),
        }
    })?;
    i.func_wrap("random-string", |mut s: Store<'_>, (min, max): (u16, u16)| -> Res<String> {
        let kind = PersistKind::RandomString { min_length: min.into(), max_length_exclusive: max.into() };
        match persist(&mut s, "random-string", kind)? {
            PersistedValue::String(v) => Ok((v,)),
            other => Err(unreadable(s.data_mut(), &other)),
        }
    })?;
    i.func_wrap("execution-id-generate", |mut s: Store<'_>, (): ()| -> Res<ExecutionId> {
        match persist(&mut s, "execution-id-generate", PersistKind::ExecutionId)? {
            PersistedValue::ExecutionId(id) => Ok((ExecutionId { id: id.to_string() },)),
            other => Err(unreadable(s.data_mut(), &other)),
        }
    })?;
    i.func_wrap("sleep", |mut s: Store<'_>, (at, name): (ScheduleAt, Option<String>)| -> Res<Result<Datetime, ()>> {
        let source = begin(&mut s)?;
        sleep(s.data_mut(), at, name, &source).map(|r| (r,))
    })?;
    i.func_wrap("join-set-create", |mut s: Store<'_>, (): ()| -> Res<Resource<JoinSetHandle>> {
        let source = begin(&mut s)?;
        let state = s.data_mut();
        let id = state.matcher.join_sets.next_generated();
        state.expect("join-set-create", vec![Key::JoinSetCreate { join_set_id: id.clone() }], &source)?;
        Ok((Resource::new_own(state.matcher.join_sets.open(id) as u32),))
    })?;
    i.func_wrap(
        "join-set-create-named",
        |mut s: Store<'_>, (name,): (String,)| -> Res<Result<Resource<JoinSetHandle>, JoinSetCreateError>> {
            let source = begin(&mut s)?;
            let state = s.data_mut();
            let id: obelisk::JoinSetId = match format!("n:{name}").parse() {
                Ok(id) => id,
                Err(e) => return Ok((Err(JoinSetCreateError::InvalidName(e.to_string())),)),
            };
            if state.matcher.join_sets.exists(&id) {
                return Ok((Err(JoinSetCreateError::Conflict),));
            }
            state.expect("join-set-create-named", vec![Key::JoinSetCreate { join_set_id: id.clone() }], &source)?;
            Ok((Ok(Resource::new_own(state.matcher.join_sets.open(id) as u32)),))
        },
    )?;
    i.func_wrap(
        "submit-json",
        |mut s: Store<'_>,
         (js, function, params): (Resource<JoinSetHandle>, Function, String)|
         -> Res<Result<ExecutionId, SubmitJsonError>> {
            let source = begin(&mut s)?;
            submit_json(s.data_mut(), js.rep() as usize, &function, &params, &source).map(|r| (r,))
        },
    )?;
    i.func_wrap("submit-delay", |mut s: Store<'_>, (js, at): (Resource<JoinSetHandle>, ScheduleAt)| -> Res<DelayId> {
        let source = begin(&mut s)?;
        let state = s.data_mut();
        let index = js.rep() as usize;
        let join_set_id = state.matcher.join_sets.get(index).id.clone();
        let delay_id = state.matcher.join_sets.next_delay_id(&state.matcher.execution_id, index);
        let key = Key::DelayRequest { join_set_id, delay_id: delay_id.clone(), schedule_at: at.into() };
        state.expect("submit-delay", vec![key], &source)?;
        state.matcher.join_sets.get_mut(index).members.push(Member::Delay { id: delay_id.clone() });
        Ok((DelayId { id: delay_id.to_string() },))
    })?;
    i.func_wrap(
        "join-next",
        |mut s: Store<'_>, (js,): (Resource<JoinSetHandle>,)| -> Res<Result<JsonResult, JoinNextError>> {
            let source = begin(&mut s)?;
            let state = s.data_mut();
            let index = js.rep() as usize;
            let join_set_id = state.matcher.join_sets.get(index).id.clone();
            if state.matcher.join_sets.get(index).unawaited().is_empty() {
                let key = Key::JoinNextTooMany { join_set_id, requested_ffqn: None };
                state.expect("join-next", vec![key], &source)?;
                return Ok((Err(JoinNextError::AllProcessed),));
            }
            let key = Key::JoinNext { join_set_id, requested_ffqn: None, closing: false };
            let version = state.expect("join-next", vec![key], &source)?[0];
            Ok((Ok(await_response(state, index, version, &source)?),))
        },
    )?;
    i.func_wrap(
        "join-next-try",
        |mut s: Store<'_>, (js,): (Resource<JoinSetHandle>,)| -> Res<Result<JsonResult, JoinNextTryError>> {
            let source = begin(&mut s)?;
            join_next_try(s.data_mut(), js.rep() as usize, &source).map(|r| (r,))
        },
    )?;
    i.func_wrap(
        "get-result-json",
        |mut s: Store<'_>, (id,): (ExecutionId,)| -> Res<Result<JsonResult, GetResultJsonError>> {
            begin(&mut s)?;
            let id: obelisk::ExecutionId = match id.id.parse() {
                Ok(id) => id,
                Err(e) => return Ok((Err(GetResultJsonError::ExecutionIdParsingError(format!("{e}"))),)),
            };
            Ok((match s.data().matcher.processed_child(&id) {
                Some(Some(retval)) => Ok(retval_json(retval)),
                Some(None) => Ok(Err(None)),
                None => Err(GetResultJsonError::NotFoundInProcessedResponses),
            },))
        },
    )?;
    i.func_wrap(
        "schedule-json",
        |mut s: Store<'_>,
         (id, at, function, params): (ExecutionId, ScheduleAt, Function, String)|
         -> Res<Result<(), ScheduleJsonError>> {
            let source = begin(&mut s)?;
            schedule_json(s.data_mut(), &id, at, &function, &params, &source).map(|r| (r,))
        },
    )?;
    i.func_wrap(
        "call-json",
        |mut s: Store<'_>, (function, params): (Function, String)| -> Res<Result<JsonResult, ScheduleJsonError>> {
            let source = begin(&mut s)?;
            call_json(s.data_mut(), &function, &params, &source).map(|r| (r,))
        },
    )?;
    i.func_wrap(
        "stub-json",
        |mut s: Store<'_>, (id, result_json): (ExecutionId, String)| -> Res<Result<(), StubJsonError>> {
            let source = begin(&mut s)?;
            stub_json(s.data_mut(), &id, &result_json, &source).map(|r| (r,))
        },
    )?;
    Ok(())
}

/// Matches a `Persist` of `kind` and returns its recorded value.
fn persist(s: &mut Store<'_>, call: &str, kind: PersistKind) -> wasmtime::Result<PersistedValue> {
    let source = begin(s)?;
    let state = s.data_mut();
    state.expect(call, vec![Key::Persist { kind }], &source)?;
    let value = state.matcher.last_matched().and_then(|r| r.event.persisted_value());
    match value {
        Some(v) => {
            state.received(serde_json::to_value(&v).unwrap_or_default());
            Ok(v)
        }
        None => Err(state.halt(Stop::Unsupported("the persisted value is not stored (0.42 keeps only its hash)".into()), source)),
    }
}

fn unreadable(state: &mut HostState, value: &PersistedValue) -> wasmtime::Error {
    state.halt(Stop::Unsupported(format!("the persisted value {value:?} does not fit its kind")), None)
}

/// Waits for the next response of set `index` after its `JoinNext` at `version` was matched.
fn await_response(state: &mut HostState, index: usize, version: u64, source: &Option<SourceLine>) -> wasmtime::Result<JsonResult> {
    let join_set_id = state.matcher.join_sets.get(index).id.clone();
    let Some(response) = state.matcher.take_response(&join_set_id) else {
        let waiting_for = state.matcher.join_sets.get(index).unawaited().iter().map(Member::id_text).collect();
        let stop = Stop::Blocked { version, join_set_id, closing: false, waiting_for };
        return Err(state.halt(stop, source.clone()));
    };
    state.matcher.join_sets.get_mut(index).awaited += 1;
    state.received(serde_json::to_value(&response).unwrap_or_default());
    response_json(&response).map_err(|reason| state.halt(Stop::Unsupported(reason), source.clone()))
}

fn sleep(state: &mut HostState, at: ScheduleAt, name: Option<String>, source: &Option<SourceLine>) -> wasmtime::Result<Result<Datetime, ()>> {
    let join_set_id = match name {
        Some(name) => match format!("n:{name}").parse() {
            Ok(id) => id,
            Err(e) => return Err(state.halt(Stop::Unsupported(format!("sleep name: {e}")), source.clone())),
        },
        None => state.matcher.join_sets.next_one_off("sleep"),
    };
    let index = state.matcher.join_sets.open(join_set_id.clone());
    let delay_id = state.matcher.join_sets.next_delay_id(&state.matcher.execution_id, index);
    let keys = vec![
        Key::JoinSetCreate { join_set_id: join_set_id.clone() },
        Key::DelayRequest { join_set_id: join_set_id.clone(), delay_id: delay_id.clone(), schedule_at: at.into() },
        Key::JoinNext { join_set_id, requested_ffqn: None, closing: false },
    ];
    let versions = state.expect("sleep", keys, source)?;
    state.matcher.join_sets.get_mut(index).members.push(Member::Delay { id: delay_id });
    let expires_at = match state.matcher.recorded_at(versions[1]).map(|r| &r.event) {
        Some(HistoryEvent::JoinSetRequest { request: JoinSetRequest::DelayRequest { expires_at, .. }, .. }) => *expires_at,
        _ => return Err(state.halt(Stop::Unsupported("the delay request has no expiry".into()), source.clone())),
    };
    let fired = await_response(state, index, versions[2], source)?;
    state.matcher.join_sets.get_mut(index).closed = true;
    Ok(fired.map(|_| Datetime::from(expires_at)).map_err(|_| ()))
}

/// The FFQN of `function` and the JSON array `params`, or the error the guest gets.
fn target(function: &Function, params: &str) -> Result<(obelisk::Ffqn, Vec<serde_json::Value>), ScheduleJsonError> {
    let ffqn = function.ffqn_text().parse().map_err(|e: obelisk::IdError| ScheduleJsonError::FfqnParsingError(e.to_string()))?;
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
        Some(HistoryEvent::JoinSetRequest { request: JoinSetRequest::ChildExecutionRequest { result, .. }, .. })
        | Some(HistoryEvent::Schedule { result, .. })
        | Some(HistoryEvent::Stub { result, .. }) => result.clone(),
        _ => Ok(()),
    }
}

fn submit_json(state: &mut HostState, index: usize, function: &Function, params: &str, source: &Option<SourceLine>) -> wasmtime::Result<Result<ExecutionId, SubmitJsonError>> {
    let (ffqn, params) = match target(function, params) {
        Ok(t) => t,
        Err(ScheduleJsonError::FfqnParsingError(e)) => return Ok(Err(SubmitJsonError::FfqnParsingError(e))),
        Err(ScheduleJsonError::TypeCheckError(e)) => return Ok(Err(SubmitJsonError::TypeCheckError(e))),
        Err(ScheduleJsonError::FunctionNotFound) => return Ok(Err(SubmitJsonError::FunctionNotFound)),
    };
    let join_set_id = state.matcher.join_sets.get(index).id.clone();
    let child = state.matcher.join_sets.next_child_id(&state.matcher.execution_id, index);
    let key = Key::ChildExecutionRequest { join_set_id, child_execution_id: child.clone(), target_ffqn: ffqn.clone(), params };
    let version = state.expect("submit-json", vec![key], source)?[0];
    if let Err(e) = recorded_result(state, version) {
        return Ok(Err(match request_error(&e) {
            ScheduleJsonError::FunctionNotFound => SubmitJsonError::FunctionNotFound,
            ScheduleJsonError::TypeCheckError(t) | ScheduleJsonError::FfqnParsingError(t) => SubmitJsonError::TypeCheckError(t),
        }));
    }
    state.matcher.join_sets.get_mut(index).members.push(Member::Child { id: child.clone(), ffqn });
    Ok(Ok(ExecutionId { id: child.to_string() }))
}

fn join_next_try(state: &mut HostState, index: usize, source: &Option<SourceLine>) -> wasmtime::Result<Result<JsonResult, JoinNextTryError>> {
    let join_set_id = state.matcher.join_sets.get(index).id.clone();
    let version = state.expect("join-next-try", vec![Key::JoinNextTry { join_set_id: join_set_id.clone() }], source)?[0];
    let recorded = state.matcher.recorded_at(version).cloned();
    let Some(HistoryEvent::JoinNextTry { outcome, .. }) = recorded.as_ref().map(|r| &r.event) else {
        return Err(state.halt(Stop::Unsupported("join_next_try without an outcome".into()), source.clone()));
    };
    let all_awaited = state.matcher.join_sets.get(index).unawaited().is_empty();
    match outcome {
        JoinNextTryOutcome::AllProcessed if all_awaited => Ok(Err(JoinNextTryError::AllProcessed)),
        JoinNextTryOutcome::Pending if !all_awaited => Ok(Err(JoinNextTryError::Pending)),
        JoinNextTryOutcome::Found if !all_awaited => Ok(Ok(await_response(state, index, version, source)?)),
        // The recorded outcome contradicts the set's requests (e.g. `all_processed` while a
        // request is unawaited): the code is not the code that recorded it.
        _ => {
            let produced = Key::JoinNextTry { join_set_id };
            let recorded = recorded.clone().unwrap_or_else(|| unreachable!("matched above"));
            Err(state.halt(Stop::Nondeterministic { recorded, produced }, source.clone()))
        }
    }
}

fn schedule_json(state: &mut HostState, id: &ExecutionId, at: ScheduleAt, function: &Function, params: &str, source: &Option<SourceLine>) -> wasmtime::Result<Result<(), ScheduleJsonError>> {
    if let Err(e) = target(function, params) {
        return Ok(Err(e));
    }
    let execution_id = match id.id.parse() {
        Ok(id) => id,
        Err(e) => return Err(state.halt(Stop::Unsupported(format!("schedule-json: {e}")), source.clone())),
    };
    let version = state.expect("schedule-json", vec![Key::Schedule { execution_id, schedule_at: at.into() }], source)?[0];
    Ok(recorded_result(state, version).map_err(|e| request_error(&e)))
}

fn call_json(state: &mut HostState, function: &Function, params: &str, source: &Option<SourceLine>) -> wasmtime::Result<Result<JsonResult, ScheduleJsonError>> {
    let (ffqn, params) = match target(function, params) {
        Ok(t) => t,
        Err(e) => return Ok(Err(e)),
    };
    let join_set_id = state.matcher.join_sets.next_one_off(ffqn.function());
    let index = state.matcher.join_sets.open(join_set_id.clone());
    let child = state.matcher.join_sets.next_child_id(&state.matcher.execution_id, index);
    let keys = vec![
        Key::JoinSetCreate { join_set_id: join_set_id.clone() },
        Key::ChildExecutionRequest { join_set_id: join_set_id.clone(), child_execution_id: child.clone(), target_ffqn: ffqn.clone(), params },
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

fn stub_json(state: &mut HostState, id: &ExecutionId, result_json: &str, source: &Option<SourceLine>) -> wasmtime::Result<Result<(), StubJsonError>> {
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
            return Err(state.halt(Stop::Nondeterministic { recorded, produced: key }, source.clone()));
        }
    }
    Ok(recorded_result(state, version).map_err(|e| match e {
        serde_json::Value::String(s) if s == "execution_not_found" => StubJsonError::ExecutionNotFound,
        serde_json::Value::String(s) if s == "conflict" => StubJsonError::Conflict,
        other => StubJsonError::TypeCheckError(other.to_string()),
    }))
}
