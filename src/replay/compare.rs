//! Comparing a replayed final state with Obelisk's own projection (`t_state`): state and its
//! time, version, join set, result kind, lifecycle, failure count, last lock, digests, deployment.
//! Every difference is a [`FindingKind::StateMismatch`].

use super::finding::{Finding, FindingKind};
use super::state::ReplayState;
use crate::obelisk::{ExecutionState, ExecutionSummary};

/// The differences between `state` (the replay after its last step) and `summary` (`t_state`).
pub fn compare_with_t_state(state: &ReplayState, summary: &ExecutionSummary) -> Vec<Finding> {
    let mut out = Vec::new();
    let mut differ = |field: &str, t_state: String, replay: String| {
        if t_state != replay {
            out.push(Finding {
                execution_id: summary.id.clone(),
                version: state.version,
                step: state.steps_applied.checked_sub(1),
                kind: FindingKind::StateMismatch,
                message: format!("{field}: t_state has {t_state}, the replay gives {replay}"),
            });
        }
    };
    let replayed = state.pending.as_ref();
    differ("state", summary.state.name().to_owned(), replayed.map_or("nothing".into(), |s| s.name().to_owned()));
    if replayed.map(ExecutionState::name) == Some(summary.state.name()) {
        differ("state time", time_of(&summary.state), replayed.map(time_of).unwrap_or_default());
        if let (
            ExecutionState::BlockedByJoinSet { join_set_id: a, closing: ca, .. },
            Some(ExecutionState::BlockedByJoinSet { join_set_id: b, closing: cb, .. }),
        ) = (&summary.state, replayed)
        {
            differ("join set", format!("{a:?} closing={ca}"), format!("{b:?} closing={cb}"));
        }
        if let (
            ExecutionState::Locked { executor_id: a, run_id: ra, .. },
            Some(ExecutionState::Locked { executor_id: b, run_id: rb, .. }),
        ) = (&summary.state, replayed)
        {
            differ("lock", format!("{a:?} {ra:?}"), format!("{b:?} {rb:?}"));
        }
    }
    differ("version", summary.version.to_string(), state.version.map_or("none".into(), |v| v.to_string()));
    differ("result kind", format!("{:?}", summary.result_kind), format!("{:?}", state.result_kind));
    differ("lifecycle", summary.lifecycle.to_string(), state.lifecycle.to_string());
    differ(
        "intermittent failures",
        summary.intermittent_failures.to_string(),
        state.attempts.intermittent_failures.to_string(),
    );
    differ("last lock", format!("{:?}", summary.last_lock), format!("{:?}", state.last_lock));
    differ("component digest", summary.component_digest.to_string(), state.component_digest.map(|d| d.to_string()).unwrap_or_default());
    differ("deployment", summary.deployment_id.to_string(), state.deployment_id.map(|d| d.to_string()).unwrap_or_default());
    differ("incompatible digest", format!("{:?}", summary.incompatible_digest), format!("{:?}", state.incompatible_digest));
    out
}

/// The time a pending state carries (scheduled at, lock expiry, finish time).
fn time_of(state: &ExecutionState) -> String {
    let t = match state {
        ExecutionState::PendingAt { scheduled_at } => scheduled_at,
        ExecutionState::Locked { lock_expires_at, .. } => lock_expires_at,
        ExecutionState::BlockedByJoinSet { lock_expires_at, .. } => lock_expires_at,
        ExecutionState::Finished { finished_at } => finished_at,
        ExecutionState::Other { at, .. } => at,
    };
    t.to_rfc3339_opts(chrono::SecondsFormat::Nanos, true)
}
