//! `obelisk:workflow/workflow-support@6.0.0`: every function turned into its deterministic keys
//! (spec §3.1.3), matched against the log, and answered from the log: persisted values for
//! `random-*` and `execution-id-generate`, responses in arrival order for the `join-next*`
//! family, the recorded request results for `submit-json`, `schedule-json` and `stub-json`.
//!
//! - [`types`]: the interface's error variants.
//! - [`join`]: the calls that wait for responses (`join-next*`, `sleep`).
//! - [`requests`]: the calls that add requests (`submit-json`, `call-json`, `schedule-json`,
//!   `stub-json`).

mod join;
mod requests;
pub mod types;

use wasmtime::StoreContextMut;
use wasmtime::component::{Linker, Resource};

use self::join::{await_response, join_next_try, sleep};
use self::requests::{call_json, schedule_json, stub_json, submit_json};
use self::types::{
    GetResultJsonError, JoinNextError, JoinNextTryError, JoinSetCreateError, StubJsonError, SubmitJsonError,
};
use super::join_set::JoinSetHandle;
use super::response_json::{JsonResult, retval_json};
use super::types::{Datetime, DelayId, ExecutionId, Function, ScheduleAt, ScheduleJsonError};
use super::{HostState, begin};
use crate::obelisk::{self, PersistKind, PersistedValue};
use crate::rerun::join_sets::Member;
use crate::rerun::keys::Key;
use crate::rerun::matcher::Stop;

pub const INTERFACE: &str = "obelisk:workflow/workflow-support@6.0.0";

pub(super) type Store<'a> = StoreContextMut<'a, HostState>;
pub(super) type Res<T> = wasmtime::Result<(T,)>;

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
        None => Err(state
            .halt(Stop::Unsupported("the persisted value is not stored (0.42 keeps only its hash)".into()), source)),
    }
}

fn unreadable(state: &mut HostState, value: &PersistedValue) -> wasmtime::Error {
    state.halt(Stop::Unsupported(format!("the persisted value {value:?} does not fit its kind")), None)
}
