//! Comparing a replayed final state with Obelisk's own projection (`t_state`): state and its
//! time, version, join set, result kind, lifecycle, failure count, last lock, digests, deployment.
//! Every difference is a [`FindingKind::StateMismatch`].

use super::finding::{Finding, FindingKind};
use super::state::ReplayState;
use crate::obelisk::{ExecutionState, ExecutionSummary};

/// The differences between `state` (the replay after its last step) and `summary` (`t_state`).
/// Values are compared as values; text is only made for a difference (this runs once per
/// execution in whole-database checks).
pub fn compare_with_t_state(state: &ReplayState, summary: &ExecutionSummary) -> Vec<Finding> {
    let mut out = Vec::new();
    let mut differ = |field: &str, equal: bool, texts: &dyn Fn() -> (String, String)| {
        if !equal {
            let (t_state, replay) = texts();
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
    let same_state = replayed.map(ExecutionState::name) == Some(summary.state.name());
    differ("state", same_state, &|| {
        (summary.state.name().to_owned(), replayed.map_or("nothing".into(), |s| s.name().to_owned()))
    });
    if let (true, Some(replayed)) = (same_state, replayed) {
        differ("state time", time_of(&summary.state) == time_of(replayed), &|| {
            (time_text(&summary.state), time_text(replayed))
        });
        if let (
            ExecutionState::BlockedByJoinSet { join_set_id: a, closing: ca, .. },
            ExecutionState::BlockedByJoinSet { join_set_id: b, closing: cb, .. },
        ) = (&summary.state, replayed)
        {
            differ("join set", (a, ca) == (b, cb), &|| (format!("{a:?} closing={ca}"), format!("{b:?} closing={cb}")));
        }
        if let (
            ExecutionState::Locked { executor_id: a, run_id: ra, .. },
            ExecutionState::Locked { executor_id: b, run_id: rb, .. },
        ) = (&summary.state, replayed)
        {
            differ("lock", (a, ra) == (b, rb), &|| (format!("{a:?} {ra:?}"), format!("{b:?} {rb:?}")));
        }
    }
    differ("version", state.version == Some(summary.version), &|| {
        (summary.version.to_string(), state.version.map_or("none".into(), |v| v.to_string()))
    });
    differ("result kind", summary.result_kind == state.result_kind, &|| {
        (format!("{:?}", summary.result_kind), format!("{:?}", state.result_kind))
    });
    differ("lifecycle", summary.lifecycle == state.lifecycle, &|| {
        (summary.lifecycle.to_string(), state.lifecycle.to_string())
    });
    differ(
        "intermittent failures",
        summary.intermittent_failures == u64::from(state.attempts.intermittent_failures),
        &|| (summary.intermittent_failures.to_string(), state.attempts.intermittent_failures.to_string()),
    );
    differ("last lock", summary.last_lock == state.last_lock, &|| {
        (format!("{:?}", summary.last_lock), format!("{:?}", state.last_lock))
    });
    differ("component digest", state.component_digest == Some(summary.component_digest), &|| {
        (summary.component_digest.to_string(), state.component_digest.map(|d| d.to_string()).unwrap_or_default())
    });
    differ("deployment", state.deployment_id.as_ref() == Some(&summary.deployment_id), &|| {
        (summary.deployment_id.to_string(), state.deployment_id.as_ref().map(|d| d.to_string()).unwrap_or_default())
    });
    differ("incompatible digest", summary.incompatible_digest == state.incompatible_digest, &|| {
        (format!("{:?}", summary.incompatible_digest), format!("{:?}", state.incompatible_digest))
    });
    out
}

fn time_text(state: &ExecutionState) -> String {
    time_of(state).to_rfc3339_opts(chrono::SecondsFormat::Nanos, true)
}

/// The time a pending state carries (scheduled at, lock expiry, finish time).
fn time_of(state: &ExecutionState) -> chrono::DateTime<chrono::Utc> {
    let t = match state {
        ExecutionState::PendingAt { scheduled_at } => scheduled_at,
        ExecutionState::Locked { lock_expires_at, .. } => lock_expires_at,
        ExecutionState::BlockedByJoinSet { lock_expires_at, .. } => lock_expires_at,
        ExecutionState::Finished { finished_at } => finished_at,
        ExecutionState::Other { at, .. } => at,
    };
    *t
}
