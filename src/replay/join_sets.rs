//! History events and responses: join sets, requests, waits and the responses they consume
//! (spec §3.1 and §3.3), children, delays, schedules, stubs and persisted values — with the replay
//! rules checked as they are applied.
//!
//! Two counts are kept per join set. The replay's: each `join_next` (closing or not) and each
//! `join_next_try` that found something takes the set's next response in arrival order — that is
//! the value the workflow receives. Obelisk's own: whether a `join_next` blocks is decided from
//! the number of `join_next` rows only (it does not count `join_next_try`), and `t_state` follows
//! that, so the pending state mirrors it.

use chrono::DateTime;

use super::finding::FindingKind;
use super::fold::Folder;
use super::state::{
    Arrival, Await, AwaitKind, ChildState, DelayState, JoinSetState, JoinSetStatus, PersistedRecord, Received,
    ReplayState, Request, RequestTarget, ScheduledExecution, Waiting,
};
use crate::obelisk::{
    ExecutionState, HistoryEvent, JoinNextTryOutcome, JoinSetId, JoinSetKind, JoinSetRequest, JoinSetResponse,
    ResponseKind,
};

/// The function name of a one-off join set created for a `sleep`.
const SLEEP: &str = "sleep";

impl Folder<'_> {
    pub(crate) fn apply_history(&mut self, state: &mut ReplayState, event: &HistoryEvent, version: u64, step: usize) {
        match event {
            HistoryEvent::Persist { kind, .. } => {
                state.persisted.push(PersistedRecord { version, kind: kind.clone(), value: event.persisted_value() });
            }
            HistoryEvent::JoinSetCreate { join_set_id } => self.create_join_set(state, join_set_id, version, step),
            HistoryEvent::JoinSetRequest { join_set_id, request } => {
                self.request(state, join_set_id, request, version, step)
            }
            HistoryEvent::JoinNext { join_set_id, run_expires_at, closing, .. } => {
                self.join_next(state, join_set_id, *run_expires_at, *closing, version, step)
            }
            HistoryEvent::JoinNextTry { join_set_id, outcome } => {
                self.join_next_try(state, join_set_id, outcome, version, step)
            }
            HistoryEvent::JoinNextTooMany { join_set_id, .. } => {
                let Some(js) = self.known_join_set(state, join_set_id, version, step) else { return };
                let outstanding = state.join_sets.get(js).map_or(0, JoinSetState::outstanding);
                if outstanding > 0 {
                    self.finding(state, Some(version), step, FindingKind::AwaitMismatch, || {
                        format!("join_next_too_many on {join_set_id} while {outstanding} request(s) are outstanding")
                    });
                }
                push_await(state, js, version, step, AwaitKind::JoinNextTooMany, None);
            }
            HistoryEvent::Schedule { execution_id, schedule_at, result, .. } => {
                state.scheduled.push(ScheduledExecution {
                    version,
                    step,
                    execution_id: execution_id.clone(),
                    schedule_at: schedule_at.clone(),
                    error: result.as_ref().err().cloned(),
                });
            }
            HistoryEvent::Stub { target_execution_id, .. } => {
                match self.index.child(target_execution_id, state.children.len()) {
                    Some(i) => {
                        if let Some(child) = state.children.get_mut(i) {
                            child.stubbed_version = Some(version);
                        }
                    }
                    None => self.finding(state, Some(version), step, FindingKind::StubTarget, || {
                        format!("stub of {target_execution_id}, which is not a child this workflow requested")
                    }),
                }
            }
        }
    }

    /// The position of a join set that must exist; a finding when it does not.
    fn known_join_set(&mut self, state: &ReplayState, id: &JoinSetId, version: u64, step: usize) -> Option<usize> {
        let found = self.index.join_set(id, state.join_sets.len());
        if found.is_none() {
            self.finding(state, Some(version), step, FindingKind::UnknownJoinSet, || {
                format!("join set {id} was never created")
            });
        }
        found
    }

    fn create_join_set(&mut self, state: &mut ReplayState, id: &JoinSetId, version: u64, step: usize) {
        if let Some(existing) = self.index.join_set(id, state.join_sets.len()) {
            let first = state.join_sets.get(existing).map_or(0, |js| js.created_version);
            self.finding(state, Some(version), step, FindingKind::DuplicateJoinSet, || {
                format!("join set {id} created again (first at version {first})")
            });
            return;
        }
        match id.kind() {
            JoinSetKind::OneOff => {
                state.one_off_join_sets += 1;
                let expected = state.one_off_join_sets;
                if id.one_off_parts().map(|(n, _)| n) != Some(expected) {
                    self.finding(state, Some(version), step, FindingKind::JoinSetIdDerivation, || {
                        format!("one-off join set {id}: expected `o:{expected}-<function>` ({expected} = 1 + earlier one-off join sets)")
                    });
                }
            }
            JoinSetKind::Generated => {
                state.generated_join_sets += 1;
                let expected = state.generated_join_sets;
                if id.name().parse::<u64>().ok() != Some(expected) || id.name().starts_with('0') {
                    self.finding(state, Some(version), step, FindingKind::JoinSetIdDerivation, || {
                        format!("generated join set {id}: expected `g:{expected}` ({expected} = 1 + earlier generated join sets)")
                    });
                }
            }
            JoinSetKind::Named => {}
            JoinSetKind::Other(code) => {
                let code = code.clone();
                self.finding(state, Some(version), step, FindingKind::JoinSetIdDerivation, || {
                    format!("join set {id} has an unknown kind `{code}` (expected o, g or n)")
                });
            }
        }
        let position = state.join_sets.len();
        state.join_sets.push(JoinSetState {
            id: id.clone(),
            kind: id.kind().clone(),
            created_version: version,
            created_step: step,
            status: JoinSetStatus::Open,
            requests: Vec::new(),
            arrivals: Vec::new(),
            awaits: Vec::new(),
            consumed: 0,
            join_next_rows: 0,
            child_requests: 0,
        });
        self.index.record_join_set(id, position);
    }

    fn request(
        &mut self,
        state: &mut ReplayState,
        id: &JoinSetId,
        request: &JoinSetRequest,
        version: u64,
        step: usize,
    ) {
        let js = self.known_join_set(state, id, version, step);
        let (status, first_request, child_requests) =
            js.and_then(|i| state.join_sets.get(i)).map_or((JoinSetStatus::Open, false, 0), |j| {
                (j.status, j.requests.is_empty() && j.child_requests == 0, j.child_requests)
            });
        if status != JoinSetStatus::Open {
            self.finding(state, Some(version), step, FindingKind::RequestAfterClose, || {
                format!("request added to join set {id} after it started closing")
            });
        }
        let function = match request {
            JoinSetRequest::ChildExecutionRequest { target_ffqn, .. } => target_ffqn.function(),
            JoinSetRequest::DelayRequest { .. } => SLEEP,
        };
        if first_request
            && let Some((_, name)) = id.one_off_parts()
            && name != function
        {
            self.finding(state, Some(version), step, FindingKind::JoinSetIdDerivation, || {
                format!("one-off join set {id} is named after `{name}` but its request is for `{function}`")
            });
        }
        match request {
            JoinSetRequest::ChildExecutionRequest { child_execution_id, target_ffqn, result, .. } => {
                let expected = state.execution_id.child(id.clone(), child_requests + 1);
                if child_execution_id != &expected {
                    self.finding(state, Some(version), step, FindingKind::ChildIdDerivation, || {
                        format!("child ID {child_execution_id}: expected {expected} (parent, join set, 1 + earlier child requests in it)")
                    });
                }
                if let Some(j) = js.and_then(|i| state.join_sets.get_mut(i)) {
                    j.child_requests += 1;
                }
                if let Some(first) = self.index.child(child_execution_id, state.children.len()) {
                    let at = state.children.get(first).map_or(0, |c| c.requested_version);
                    self.finding(state, Some(version), step, FindingKind::DuplicateRequest, || {
                        format!("child {child_execution_id} requested again (first at version {at})")
                    });
                    return;
                }
                let position = state.children.len();
                // The join set's own ID, so that its text is shared rather than one more copy.
                let join_set_id = js.and_then(|i| state.join_sets.get(i)).map_or_else(|| id.clone(), |j| j.id.clone());
                state.children.push(ChildState {
                    id: child_execution_id.clone(),
                    join_set_id,
                    ffqn: target_ffqn.clone(),
                    requested_version: version,
                    requested_step: step,
                    request_error: result.as_ref().err().cloned().map(Box::new),
                    stubbed_version: None,
                    arrived_step: None,
                    response: None,
                    result_kind: None,
                    consumed_version: None,
                    consumed_step: None,
                });
                self.index.record_child(child_execution_id, position);
                if result.is_ok()
                    && let Some(j) = js.and_then(|i| state.join_sets.get_mut(i))
                {
                    push_small(
                        &mut j.requests,
                        Request { version, step, target: RequestTarget::Child(child_execution_id.clone()) },
                    );
                }
            }
            JoinSetRequest::DelayRequest { delay_id, expires_at, schedule_at, paused } => {
                if delay_id.owner() != &state.execution_id || delay_id.join_set_id() != id {
                    self.finding(state, Some(version), step, FindingKind::DelayIdDerivation, || {
                        format!("delay {delay_id} does not belong to join set {id} of {}", state.execution_id)
                    });
                }
                if let Some(first) = self.index.delay(delay_id, state.delays.len()) {
                    let at = state.delays.get(first).map_or(0, |d| d.requested_version);
                    self.finding(state, Some(version), step, FindingKind::DuplicateRequest, || {
                        format!("delay {delay_id} requested again (first at version {at})")
                    });
                    return;
                }
                let position = state.delays.len();
                state.delays.push(DelayState {
                    id: delay_id.clone(),
                    join_set_id: id.clone(),
                    expires_at: *expires_at,
                    schedule_at: schedule_at.clone(),
                    paused: *paused,
                    requested_version: version,
                    requested_step: step,
                    fired: None,
                    arrived_step: None,
                    consumed_version: None,
                    consumed_step: None,
                });
                self.index.record_delay(delay_id, position);
                if let Some(j) = js.and_then(|i| state.join_sets.get_mut(i)) {
                    push_small(
                        &mut j.requests,
                        Request { version, step, target: RequestTarget::Delay(Box::new(delay_id.clone())) },
                    );
                }
            }
        }
    }

    fn join_next(
        &mut self,
        state: &mut ReplayState,
        id: &JoinSetId,
        run_expires_at: DateTime<chrono::Utc>,
        closing: bool,
        version: u64,
        step: usize,
    ) {
        let blocked = ExecutionState::BlockedByJoinSet {
            join_set_id: Some(id.clone()),
            lock_expires_at: run_expires_at,
            closing,
        };
        let Some(js) = self.known_join_set(state, id, version, step) else {
            state.pending = Some(blocked);
            return;
        };
        // Obelisk's decision (t_state): the n-th `join_next` row waits for the n-th response.
        let (nth_arrival, outstanding) = match state.join_sets.get_mut(js) {
            Some(j) => {
                let n = j.join_next_rows;
                j.join_next_rows += 1;
                if closing && j.status == JoinSetStatus::Open {
                    j.status = JoinSetStatus::Closing;
                }
                (j.arrivals.get(n).map(|a| a.at), j.outstanding())
            }
            None => (None, 0),
        };
        state.pending = Some(match nth_arrival {
            Some(arrived) => ExecutionState::PendingAt { scheduled_at: run_expires_at.max(arrived) },
            None => blocked,
        });
        if outstanding == 0 {
            self.finding(state, Some(version), step, FindingKind::AwaitMismatch, || {
                format!("join_next on {id} with no request left to wait for")
            });
        }
        let kind = if closing { AwaitKind::JoinNextClosing } else { AwaitKind::JoinNext };
        if !self.consume(state, js, version, step, kind) {
            state.waiting = Some(Waiting { join_set_id: id.clone(), version });
        }
    }

    fn join_next_try(
        &mut self,
        state: &mut ReplayState,
        id: &JoinSetId,
        outcome: &JoinNextTryOutcome,
        version: u64,
        step: usize,
    ) {
        let Some(js) = self.known_join_set(state, id, version, step) else { return };
        let (outstanding, available) =
            state.join_sets.get(js).map_or((0, 0), |j| (j.outstanding(), j.arrivals.len().saturating_sub(j.consumed)));
        match outcome {
            JoinNextTryOutcome::Found => {
                if outstanding == 0 {
                    self.finding(state, Some(version), step, FindingKind::AwaitMismatch, || {
                        format!("join_next_try found a response on {id} with no request left")
                    });
                }
                if !self.consume(state, js, version, step, AwaitKind::JoinNextTryFound) {
                    self.finding(state, Some(version), step, FindingKind::AwaitMismatch, || {
                        format!("join_next_try found a response on {id}, but none had arrived")
                    });
                }
            }
            JoinNextTryOutcome::Pending => {
                // A response that arrived after the run was locked may not be visible to it yet,
                // so only a set with nothing outstanding contradicts `pending`.
                if outstanding == 0 {
                    self.finding(state, Some(version), step, FindingKind::AwaitMismatch, || {
                        format!("join_next_try pending on {id}, but every request was already consumed")
                    });
                }
                push_await(state, js, version, step, AwaitKind::JoinNextTryPending, None);
            }
            JoinNextTryOutcome::AllProcessed => {
                if outstanding > 0 {
                    self.finding(state, Some(version), step, FindingKind::AwaitMismatch, || {
                        format!("join_next_try all_processed on {id} while {outstanding} request(s) are outstanding ({available} arrived)")
                    });
                }
                push_await(state, js, version, step, AwaitKind::JoinNextTryAllProcessed, None);
            }
            JoinNextTryOutcome::Other(text) => {
                let text = text.clone();
                self.finding(state, Some(version), step, FindingKind::UndecodableEvent, || {
                    format!("join_next_try with an unknown outcome `{text}` on {id}")
                });
                push_await(state, js, version, step, AwaitKind::JoinNextTryPending, None);
            }
        }
    }

    /// A consuming wait takes the set's next response: delivered now when it has arrived
    /// (returns true), else when it arrives.
    fn consume(&mut self, state: &mut ReplayState, js: usize, version: u64, step: usize, kind: AwaitKind) -> bool {
        let Some(j) = state.join_sets.get_mut(js) else { return false };
        let slot = j.consumed;
        j.consumed += 1;
        let arrived = slot < j.arrivals.len();
        push_await(state, js, version, step, kind, Some(slot));
        if arrived {
            self.deliver(state, js, slot, step);
        }
        arrived
    }

    /// The workflow receives arrival `slot` of join set `js` at `step`.
    fn deliver(&mut self, state: &mut ReplayState, js: usize, slot: usize, step: usize) {
        let Some(j) = state.join_sets.get_mut(js) else { return };
        let Some(arrival) = j.arrivals.get(slot).cloned() else { return };
        let Some(wait) = j.awaits.iter_mut().rev().find(|a| a.slot == Some(slot)) else { return };
        wait.received_step = Some(step);
        let (await_version, await_kind) = (wait.version, wait.kind);
        if j.status == JoinSetStatus::Closing
            && j.consumed >= j.requests.len()
            && j.awaits.iter().all(|a| a.slot.is_none() || a.received_step.is_some())
        {
            j.status = JoinSetStatus::Closed;
        }
        let join_set_id = j.id.clone();
        match &arrival.target {
            RequestTarget::Child(id) => {
                if let Some(c) = self.index.child(id, state.children.len()).and_then(|i| state.children.get_mut(i)) {
                    c.consumed_version = Some(await_version);
                    c.consumed_step = Some(step);
                }
            }
            RequestTarget::Delay(id) => {
                if let Some(d) = self.index.delay(id, state.delays.len()).and_then(|i| state.delays.get_mut(i)) {
                    d.consumed_version = Some(await_version);
                    d.consumed_step = Some(step);
                }
            }
        }
        if state.waiting.as_ref().is_some_and(|w| w.join_set_id == join_set_id && w.version == await_version) {
            state.waiting = None;
        }
        let Some(value) = self.steps.response_kind(arrival.step) else { return };
        state.received = Some(Received { join_set_id, await_version, await_kind, response: arrival.response, value });
    }

    pub(crate) fn apply_response(&mut self, state: &mut ReplayState, response: &JoinSetResponse, step: usize) {
        let position = state.responses_arrived;
        state.responses_arrived += 1;
        let id = &response.join_set_id;
        let Some(js) = self.index.join_set(id, state.join_sets.len()) else {
            self.finding(state, None, step, FindingKind::UnknownJoinSet, || {
                format!("response {} for join set {id}, which was not created before it arrived", response.cursor())
            });
            return;
        };
        let target = match &response.kind {
            ResponseKind::ChildExecutionFinished { child_execution_id, result, .. } => {
                let child = self.index.child(child_execution_id, state.children.len());
                let problem = match child.and_then(|i| state.children.get(i)) {
                    None => Some("which was not requested before it arrived".to_owned()),
                    Some(c) if &c.join_set_id != id => {
                        Some(format!("which was requested in join set {}", c.join_set_id))
                    }
                    Some(c) if c.arrived_step.is_some() => Some("a second time".to_owned()),
                    Some(_) => None,
                };
                if let Some(problem) = problem {
                    self.finding(state, None, step, FindingKind::UnexpectedResponse, || {
                        format!("response {} on {id} for child {child_execution_id}, {problem}", response.cursor())
                    });
                    return;
                }
                if let Some(c) = child.and_then(|i| state.children.get_mut(i)) {
                    c.arrived_step = Some(step);
                    c.response = Some(position);
                    c.result_kind = result.as_ref().map(|r| r.kind());
                }
                RequestTarget::Child(child_execution_id.clone())
            }
            ResponseKind::DelayFinished { delay_id, success } => {
                let delay = self.index.delay(delay_id, state.delays.len());
                let problem = match delay.and_then(|i| state.delays.get(i)) {
                    None => Some("which was not requested before it arrived".to_owned()),
                    Some(d) if &d.join_set_id != id => {
                        Some(format!("which was requested in join set {}", d.join_set_id))
                    }
                    Some(d) if d.arrived_step.is_some() => Some("a second time".to_owned()),
                    Some(_) => None,
                };
                if let Some(problem) = problem {
                    self.finding(state, None, step, FindingKind::UnexpectedResponse, || {
                        format!("response {} on {id} for delay {delay_id}, {problem}", response.cursor())
                    });
                    return;
                }
                if let Some(d) = delay.and_then(|i| state.delays.get_mut(i)) {
                    d.arrived_step = Some(step);
                    d.fired = Some(*success);
                }
                RequestTarget::Delay(Box::new(delay_id.clone()))
            }
        };
        let Some(j) = state.join_sets.get_mut(js) else { return };
        push_small(&mut j.arrivals, Arrival { step, at: response.created_at, response: position, target });
        let slot = j.arrivals.len() - 1;
        let awaited = slot < j.consumed;
        let unblocks = slot < j.join_next_rows;
        if let Some(ExecutionState::BlockedByJoinSet { join_set_id: Some(blocked_on), lock_expires_at, .. }) =
            &state.pending
            && blocked_on == id
            && unblocks
        {
            state.pending =
                Some(ExecutionState::PendingAt { scheduled_at: (*lock_expires_at).max(response.created_at) });
        }
        if awaited {
            self.deliver(state, js, slot, step);
        }
    }
}

fn push_await(state: &mut ReplayState, js: usize, version: u64, step: usize, kind: AwaitKind, slot: Option<usize>) {
    if let Some(j) = state.join_sets.get_mut(js) {
        push_small(&mut j.awaits, Await { version, step, kind, slot, received_step: None });
    }
}

/// `Vec::push` growing 1, 2, 4, … instead of starting at 4: most join sets hold one request, one
/// arrival and one wait, and a long execution has tens of thousands of join sets.
fn push_small<T>(v: &mut Vec<T>, value: T) {
    if v.len() == v.capacity() {
        v.reserve_exact(v.len().max(1));
    }
    v.push(value);
}
