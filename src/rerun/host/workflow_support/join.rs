//! The `workflow-support` calls that wait: `join-next`'s response handling, `join-next-try`
//! (answered with the outcome the log recorded) and `sleep` (a one-off delay set).

use super::types::JoinNextTryError;
use crate::obelisk::{HistoryEvent, JoinNextTryOutcome, JoinSetRequest};
use crate::rerun::host::HostState;
use crate::rerun::host::response_json::{JsonResult, response_json};
use crate::rerun::host::types::{Datetime, ScheduleAt};
use crate::rerun::join_sets::Member;
use crate::rerun::keys::Key;
use crate::rerun::matcher::Stop;
use crate::rerun::source::SourceLine;

/// Waits for the next response of set `index` after its `JoinNext` at `version` was matched.
pub(super) fn await_response(
    state: &mut HostState,
    index: usize,
    version: u64,
    source: &Option<SourceLine>,
) -> wasmtime::Result<JsonResult> {
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

pub(super) fn sleep(
    state: &mut HostState,
    at: ScheduleAt,
    name: Option<String>,
    source: &Option<SourceLine>,
) -> wasmtime::Result<Result<Datetime, ()>> {
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
        Some(HistoryEvent::JoinSetRequest { request: JoinSetRequest::DelayRequest { expires_at, .. }, .. }) => {
            *expires_at
        }
        _ => return Err(state.halt(Stop::Unsupported("the delay request has no expiry".into()), source.clone())),
    };
    let fired = await_response(state, index, versions[2], source)?;
    state.matcher.join_sets.get_mut(index).closed = true;
    Ok(fired.map(|_| Datetime::from(expires_at)).map_err(|_| ()))
}

pub(super) fn join_next_try(
    state: &mut HostState,
    index: usize,
    source: &Option<SourceLine>,
) -> wasmtime::Result<Result<JsonResult, JoinNextTryError>> {
    let join_set_id = state.matcher.join_sets.get(index).id.clone();
    let version =
        state.expect("join-next-try", vec![Key::JoinNextTry { join_set_id: join_set_id.clone() }], source)?[0];
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
            Err(state.halt(
                Stop::Nondeterministic { recorded: Box::new(recorded), produced: Box::new(produced) },
                source.clone(),
            ))
        }
    }
}
