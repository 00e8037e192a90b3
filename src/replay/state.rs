//! The replayed state of one execution after a step: what `t_state` would say (pending state,
//! lifecycle, result), counters, and everything the workflow did so far — join sets with their
//! requests and which response each wait consumed, children, delays, scheduled executions,
//! persisted values, component and deployment.

use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::Serialize;

use super::shared_vec::SharedVec;
use crate::obelisk::{
    ContentDigest, DelayId, DeploymentId, ExecutionId, ExecutionState, Ffqn, JoinSetId, JoinSetKind, LastLock,
    Lifecycle, PersistKind, PersistedValue, ResponseKind, ResultKind, RetVal, ScheduleAt, UpgradeOutcome,
};

/// Runs, retries and the retry policy.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Attempts {
    /// `Locked` events that started a new run (a new run ID).
    pub runs: u32,
    /// `Locked` events that extended the current run's lock.
    pub lock_extensions: u32,
    /// `temporarily_failed` + `temporarily_timed_out` so far (`t_state.intermittent_event_count`).
    pub intermittent_failures: u32,
    /// The attempt the current or next run is: 1 + intermittent failures.
    pub attempt: u32,
    /// From the last `Locked` (`None` = retry forever, as for workflows; or not locked yet).
    pub max_retries: Option<u32>,
    pub retry_exp_backoff: Option<Duration>,
}

/// A request in a join set.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "type", content = "id", rename_all = "snake_case")]
pub enum RequestTarget {
    Child(ExecutionId),
    /// Boxed: a delay's ID is twice a child's, and join sets hold many requests.
    Delay(Box<DelayId>),
}

/// One request of a join set.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Request {
    pub version: u64,
    pub step: usize,
    pub target: RequestTarget,
}

/// A response that arrived for a join set (responses of a set are consumed in this order).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Arrival {
    pub step: usize,
    pub at: DateTime<Utc>,
    /// Index into the execution's responses (arrival order).
    pub response: usize,
    pub target: RequestTarget,
}

/// How a workflow waited on a join set.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum AwaitKind {
    /// `join_next` (blocking).
    JoinNext,
    /// `join_next` with `closing` (the set is being closed).
    JoinNextClosing,
    /// `join_next_try` that found a response.
    JoinNextTryFound,
    /// `join_next_try` with nothing yet.
    JoinNextTryPending,
    /// `join_next_try` after every response was consumed.
    JoinNextTryAllProcessed,
    /// `join_next_too_many`: nothing left to wait for.
    JoinNextTooMany,
}

impl AwaitKind {
    /// True when the wait takes the set's next response.
    pub fn consumes(self) -> bool {
        matches!(self, AwaitKind::JoinNext | AwaitKind::JoinNextClosing | AwaitKind::JoinNextTryFound)
    }
}

/// One wait on a join set.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Await {
    pub version: u64,
    pub step: usize,
    pub kind: AwaitKind,
    /// For consuming waits: the index into the set's `arrivals` it takes (the n-th consuming wait
    /// takes the n-th arrival).
    pub slot: Option<usize>,
    /// The step at which the workflow got the value (this step, or the response's arrival).
    pub received_step: Option<usize>,
}

/// Whether a join set still takes requests.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum JoinSetStatus {
    Open,
    /// A closing `join_next` was seen; responses are still outstanding.
    Closing,
    /// Closing, and every request's response was consumed.
    Closed,
}

/// A join set of the execution.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct JoinSetState {
    pub id: JoinSetId,
    pub kind: JoinSetKind,
    pub created_version: u64,
    pub created_step: usize,
    pub status: JoinSetStatus,
    pub requests: Vec<Request>,
    pub arrivals: Vec<Arrival>,
    pub awaits: Vec<Await>,
    /// Consuming waits so far.
    pub consumed: usize,
    /// `join_next` rows so far (with closing ones): what Obelisk itself counts to decide whether
    /// a `join_next` blocks (it does not count `join_next_try`).
    pub join_next_rows: usize,
    /// Child requests so far, failed ones included (the index of the next child ID is this + 1).
    pub child_requests: u64,
}

impl JoinSetState {
    /// Requests whose response has not been consumed yet.
    pub fn outstanding(&self) -> usize {
        self.requests.len().saturating_sub(self.consumed)
    }
}

/// A child execution requested by the workflow.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ChildState {
    pub id: ExecutionId,
    pub join_set_id: JoinSetId,
    pub ffqn: Ffqn,
    pub requested_version: u64,
    pub requested_step: usize,
    /// The request itself failed (e.g. function not found); no response will come.
    pub request_error: Option<Box<serde_json::Value>>,
    /// Set when the workflow wrote the child's result itself (`stub`).
    pub stubbed_version: Option<u64>,
    /// The step at which the child's result arrived, and the response index.
    pub arrived_step: Option<usize>,
    pub response: Option<usize>,
    pub result_kind: Option<ResultKind>,
    /// The log version at which the workflow received the result.
    pub consumed_version: Option<u64>,
    pub consumed_step: Option<usize>,
}

/// A delay (timer) requested by the workflow.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DelayState {
    pub id: DelayId,
    pub join_set_id: JoinSetId,
    pub expires_at: DateTime<Utc>,
    pub schedule_at: ScheduleAt,
    /// Requested paused (`execution advance --pause-delays`).
    pub paused: bool,
    pub requested_version: u64,
    pub requested_step: usize,
    /// `None` while pending; `Some(true)` fired, `Some(false)` cancelled.
    pub fired: Option<bool>,
    pub arrived_step: Option<usize>,
    pub consumed_version: Option<u64>,
    pub consumed_step: Option<usize>,
}

/// A new top-level execution the workflow scheduled.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ScheduledExecution {
    pub version: u64,
    pub step: usize,
    pub execution_id: ExecutionId,
    pub schedule_at: ScheduleAt,
    /// Why scheduling failed, if it did.
    pub error: Option<serde_json::Value>,
}

/// A recorded nondeterministic value.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PersistedRecord {
    pub version: u64,
    pub kind: PersistKind,
    /// `None` when only a hash is stored (0.42+) or the bytes do not fit the kind.
    pub value: Option<PersistedValue>,
}

/// A component upgrade attempt.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct UpgradeRecord {
    pub version: u64,
    pub component_digest: ContentDigest,
    pub deployment_id: DeploymentId,
    pub outcome: UpgradeOutcome,
}

/// What the workflow received at a step: the response a `join_next`/`join_next_try` consumed.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Received {
    pub join_set_id: JoinSetId,
    /// The version of the wait that consumed the response.
    pub await_version: u64,
    pub await_kind: AwaitKind,
    /// Index into the execution's responses.
    pub response: usize,
    /// The value: a child's result or a delay's outcome.
    pub value: ResponseKind,
}

/// A wait still without its response.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Waiting {
    pub join_set_id: JoinSetId,
    pub version: u64,
}

/// The replayed state after a step.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ReplayState {
    pub execution_id: ExecutionId,
    /// Steps applied so far (the state after step `steps_applied - 1`).
    pub steps_applied: usize,
    /// The last log version applied.
    pub version: Option<u64>,
    /// The time of the last step.
    pub at: Option<DateTime<Utc>>,
    pub ffqn: Option<Ffqn>,
    /// As `t_state` tracks it (pending at, locked, blocked by a join set, finished).
    pub pending: Option<ExecutionState>,
    pub lifecycle: Lifecycle,
    pub result: Option<RetVal>,
    pub result_kind: Option<ResultKind>,
    pub attempts: Attempts,
    /// The last lock holder (cleared when finished, as in `t_state`).
    pub last_lock: Option<LastLock>,
    pub component_digest: Option<ContentDigest>,
    pub deployment_id: Option<DeploymentId>,
    /// Set by a failed upgrade, cleared by a successful one.
    pub incompatible_digest: Option<ContentDigest>,
    /// The value received at this step, if the step delivered one.
    pub received: Option<Received>,
    /// A wait whose response has not arrived yet.
    pub waiting: Option<Waiting>,
    pub join_sets: SharedVec<JoinSetState>,
    pub children: SharedVec<ChildState>,
    pub delays: SharedVec<DelayState>,
    pub scheduled: SharedVec<ScheduledExecution>,
    pub persisted: SharedVec<PersistedRecord>,
    pub upgrades: SharedVec<UpgradeRecord>,
    /// Responses arrived so far (the next response step's index into the responses).
    pub responses_arrived: usize,
    /// One-off and generated join sets created so far (the counters of their IDs).
    pub one_off_join_sets: u64,
    pub generated_join_sets: u64,
}

impl ReplayState {
    /// The state before any step.
    pub fn initial(execution_id: ExecutionId) -> ReplayState {
        ReplayState {
            execution_id,
            steps_applied: 0,
            version: None,
            at: None,
            ffqn: None,
            pending: None,
            lifecycle: Lifecycle::Active,
            result: None,
            result_kind: None,
            attempts: Attempts { attempt: 1, ..Attempts::default() },
            last_lock: None,
            component_digest: None,
            deployment_id: None,
            incompatible_digest: None,
            received: None,
            waiting: None,
            join_sets: SharedVec::new(),
            children: SharedVec::new(),
            delays: SharedVec::new(),
            scheduled: SharedVec::new(),
            persisted: SharedVec::new(),
            upgrades: SharedVec::new(),
            responses_arrived: 0,
            one_off_join_sets: 0,
            generated_join_sets: 0,
        }
    }

    /// True once `Finished` was applied.
    pub fn is_finished(&self) -> bool {
        matches!(self.pending, Some(ExecutionState::Finished { .. }))
    }

    /// The join set with this ID.
    pub fn join_set(&self, id: &JoinSetId) -> Option<&JoinSetState> {
        self.join_sets.iter().find(|js| &js.id == id)
    }

    /// The child with this ID.
    pub fn child(&self, id: &ExecutionId) -> Option<&ChildState> {
        self.children.iter().find(|c| &c.id == id)
    }

    /// The delay with this ID.
    pub fn delay(&self, id: &DelayId) -> Option<&DelayState> {
        self.delays.iter().find(|d| &d.id == id)
    }
}
