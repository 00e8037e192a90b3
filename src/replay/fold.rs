//! The fold: applies one step to a [`ReplayState`]. This file handles the log's structure and
//! the pending-state events (`created`, `locked`, `unlocked`, failures, `finished`, pause,
//! cancellation, upgrades), mirroring how Obelisk updates `t_state` (spec §3.3); history events
//! and responses are in `join_sets.rs`.

use super::finding::{FindingKind, FindingSink};
use super::lookup::Index;
use super::state::{ReplayState, UpgradeRecord};
use super::step::Step;
use crate::obelisk::{Event, ExecutionState, LastLock, Lifecycle, LogEntry, ResponseKind, RetVal, UpgradeOutcome};

/// The steps a fold reads: the one being applied, and earlier responses (a `join_next` takes
/// the value of the response it consumes).
pub(crate) trait Steps {
    fn step(&self, index: usize) -> Option<&Step>;

    /// What the response at step `index` carries, for the `join_next` that consumes it (once).
    fn response_kind(&self, index: usize) -> Option<ResponseKind> {
        match self.step(index) {
            Some(Step::Response(r)) => Some(r.kind.clone()),
            _ => None,
        }
    }
}

impl Steps for Vec<Step> {
    fn step(&self, index: usize) -> Option<&Step> {
        self.get(index)
    }
}

/// Applies steps of one execution.
pub(crate) struct Folder<'a> {
    pub(crate) steps: &'a dyn Steps,
    pub(crate) index: Index<'a>,
    pub(crate) findings: &'a mut FindingSink,
}

impl Folder<'_> {
    /// Applies `steps[step]` to `state` (which must hold steps `..step`).
    pub(crate) fn apply(&mut self, state: &mut ReplayState, step: usize) {
        if let Some(current) = self.steps.step(step) {
            self.apply_step(state, step, current);
        }
    }

    /// Applies `current`, step number `step`, to `state` (which must hold steps `..step`).
    pub(crate) fn apply_step(&mut self, state: &mut ReplayState, step: usize, current: &Step) {
        state.received = None;
        state.steps_applied = step + 1;
        state.at = Some(current.at());
        match current {
            Step::Event(entry) => self.apply_event(state, entry, step),
            Step::Response(response) => self.apply_response(state, response, step),
        }
    }

    /// Records a finding about this execution.
    pub(crate) fn finding(
        &mut self,
        state: &ReplayState,
        version: Option<u64>,
        step: usize,
        kind: FindingKind,
        message: impl FnOnce() -> String,
    ) {
        self.findings.add(&state.execution_id, version, Some(step), kind, message);
    }

    fn apply_event(&mut self, state: &mut ReplayState, entry: &LogEntry, step: usize) {
        let version = entry.version;
        let expected = state.version.map_or(0, |v| v + 1);
        if version != expected {
            self.finding(state, Some(version), step, FindingKind::MalformedLog, || {
                format!(
                    "version {version} follows {} (expected {expected})",
                    state.version.map_or("nothing".into(), |v| format!("version {v}"))
                )
            });
        }
        let is_created = matches!(entry.event, Event::Created(_));
        if state.pending.is_none() && !is_created && state.version.is_none() {
            self.finding(state, Some(version), step, FindingKind::MalformedLog, || {
                format!("the log starts with `{}`, not `created`", entry.event.variant())
            });
        }
        if state.is_finished() {
            self.finding(state, Some(version), step, FindingKind::EventAfterFinish, || {
                format!("`{}` after the execution finished", entry.event.variant())
            });
        }
        state.version = Some(version);
        match &entry.event {
            Event::Created(created) => {
                if state.pending.is_some() || version != 0 {
                    self.finding(state, Some(version), step, FindingKind::MalformedLog, || {
                        format!("`created` at version {version}: only version 0 may be `created`")
                    });
                }
                state.pending = Some(ExecutionState::PendingAt { scheduled_at: created.scheduled_at });
                state.ffqn = Some(created.ffqn.clone());
                state.component_digest = Some(created.component_id.component_digest);
                state.deployment_id = created.deployment_id;
            }
            Event::Locked(locked) => {
                let same_run = state.last_lock.as_ref().is_some_and(|l| l.run_id == locked.run_id);
                if same_run {
                    state.attempts.lock_extensions += 1;
                } else {
                    state.attempts.runs += 1;
                }
                if let Some(retry) = &locked.retry_config {
                    state.attempts.max_retries = retry.max_retries;
                    state.attempts.retry_exp_backoff = Some(retry.retry_exp_backoff);
                }
                state.pending = Some(ExecutionState::Locked {
                    executor_id: Some(locked.executor_id),
                    run_id: Some(locked.run_id),
                    lock_expires_at: locked.lock_expires_at,
                });
                state.last_lock = Some(LastLock { executor_id: locked.executor_id, run_id: locked.run_id });
                if locked.deployment_id.is_some() {
                    state.deployment_id = locked.deployment_id;
                }
            }
            Event::Unlocked(unlocked) => {
                state.pending = Some(ExecutionState::PendingAt { scheduled_at: unlocked.backoff_expires_at });
            }
            Event::TemporarilyFailed(failed) => {
                state.pending = Some(ExecutionState::PendingAt { scheduled_at: failed.backoff_expires_at });
                state.attempts.intermittent_failures += 1;
                state.attempts.attempt = state.attempts.intermittent_failures + 1;
            }
            Event::TemporarilyTimedOut(timed_out) => {
                state.pending = Some(ExecutionState::PendingAt { scheduled_at: timed_out.backoff_expires_at });
                state.attempts.intermittent_failures += 1;
                state.attempts.attempt = state.attempts.intermittent_failures + 1;
            }
            Event::Finished(finished) => {
                let returned = matches!(finished.retval, RetVal::Ok(_) | RetVal::Err(_));
                if returned {
                    self.check_returned(state, version, step);
                }
                state.pending = Some(ExecutionState::Finished { finished_at: entry.created_at });
                state.result_kind = Some(finished.retval.kind());
                state.result = Some(finished.retval.clone());
                state.lifecycle = Lifecycle::Active;
                state.last_lock = None;
                state.waiting = None;
            }
            Event::HistoryEvent { event } => {
                if let Some(waiting) = state.waiting.take() {
                    self.finding(state, Some(version), step, FindingKind::ProgressWithoutResponse, || {
                        format!(
                            "`{}` while the join_next at version {} on {} had no response yet",
                            event.type_name(),
                            waiting.version,
                            waiting.join_set_id
                        )
                    });
                }
                self.apply_history(state, event, version, step);
            }
            Event::Paused => state.lifecycle = Lifecycle::Paused,
            Event::Unpaused => state.lifecycle = Lifecycle::Active,
            Event::CancellationRequested => state.lifecycle = Lifecycle::Cancelling,
            Event::ComponentUpgradeFinished(upgrade) => {
                state.deployment_id = Some(upgrade.deployment_id);
                match &upgrade.outcome {
                    UpgradeOutcome::Success { .. } => {
                        state.component_digest = Some(upgrade.component_digest);
                        state.incompatible_digest = None;
                    }
                    UpgradeOutcome::Failed { .. } => state.incompatible_digest = Some(upgrade.component_digest),
                }
                state.upgrades.push(UpgradeRecord {
                    version,
                    component_digest: upgrade.component_digest,
                    deployment_id: upgrade.deployment_id,
                    outcome: upgrade.outcome.clone(),
                });
            }
            Event::Raw(raw) => {
                self.finding(state, Some(version), step, FindingKind::UndecodableEvent, || {
                    format!("`{}` row not decodable: {}", raw.variant, raw.error)
                });
            }
        }
    }

    /// The workflow returned (`ok`/`err`): it cannot have been waiting, and Obelisk closes every
    /// join set at the end, so every request must have been awaited.
    fn check_returned(&mut self, state: &mut ReplayState, version: u64, step: usize) {
        if let Some(waiting) = state.waiting.clone() {
            self.finding(state, Some(version), step, FindingKind::ProgressWithoutResponse, || {
                format!(
                    "returned while the join_next at version {} on {} had no response yet",
                    waiting.version, waiting.join_set_id
                )
            });
        }
        let open: Vec<(String, usize)> = state
            .join_sets
            .iter()
            .filter(|js| js.outstanding() > 0)
            .map(|js| (js.id.to_string(), js.outstanding()))
            .collect();
        for (js, n) in open {
            self.finding(state, Some(version), step, FindingKind::UnawaitedRequest, || {
                format!("returned with {n} request(s) of join set {js} never awaited nor closed")
            });
        }
    }
}
