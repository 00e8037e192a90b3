//! One-line human descriptions of events, states and results, shared by the CLI and the UI.

use super::event::Event;
use super::executions::ExecutionState;
use super::history::{HistoryEvent, JoinSetRequest};
use super::retval::{ResultKind, RetVal};

fn compact_json(v: &impl serde::Serialize) -> String {
    let s = serde_json::to_string(v).unwrap_or_default();
    if s.chars().count() > 120 { format!("{}…", s.chars().take(119).collect::<String>()) } else { s }
}

/// `ok`, `err`, `failed: timed_out`, …
pub fn result_kind(kind: &ResultKind) -> String {
    match kind {
        ResultKind::Ok => "ok".into(),
        ResultKind::Err => "err".into(),
        ResultKind::ExecutionFailure(f) => format!("failed: {f}"),
        ResultKind::Other(s) => s.clone(),
    }
}

/// A return value in one line: `ok 11`, `err "boom"`, `failed: uncategorized (workflow trap…)`.
pub fn retval(r: &RetVal) -> String {
    match r {
        RetVal::Ok(v) => {
            format!("ok {}", v.as_ref().map(|v| compact_json(&v.value)).unwrap_or_default()).trim_end().to_string()
        }
        RetVal::Err(v) => {
            format!("err {}", v.as_ref().map(|v| compact_json(&v.value)).unwrap_or_default()).trim_end().to_string()
        }
        RetVal::ExecutionFailure(f) => match &f.reason {
            Some(reason) => format!("failed: {} ({reason})", f.kind),
            None => format!("failed: {}", f.kind),
        },
    }
}

/// `pending_at`, `locked`, `blocked_by_join_set o:1-add`, `finished`.
pub fn state(s: &ExecutionState) -> String {
    match s {
        ExecutionState::PendingAt { .. } => "pending_at".into(),
        ExecutionState::Locked { .. } => "locked".into(),
        ExecutionState::BlockedByJoinSet { join_set_id, closing, .. } => {
            let js = join_set_id.as_ref().map(|j| format!(" {j}")).unwrap_or_default();
            format!("blocked_by_join_set{js}{}", if *closing { " (closing)" } else { "" })
        }
        ExecutionState::Finished { .. } => "finished".into(),
        ExecutionState::Other { state, .. } => state.clone(),
    }
}

/// The event's kind as a short name (`created`, `join_next`, …).
pub fn event_kind(e: &Event) -> String {
    match e {
        Event::HistoryEvent { event } => event.type_name().to_string(),
        other => other.variant().to_string(),
    }
}

/// What happened, in one line without the kind.
pub fn event_detail(e: &Event) -> String {
    match e {
        Event::Created(c) => {
            let parent = c.parent.as_ref().map(|(p, js)| format!(" child of {p} in {js}")).unwrap_or_default();
            format!("{} {}{parent}", c.ffqn, compact_json(&c.params))
        }
        Event::Locked(l) => {
            format!("by {} run {} until {}", l.executor_id, l.run_id, crate::format::time(l.lock_expires_at))
        }
        Event::Unlocked(u) => format!("{} (retry at {})", u.reason, crate::format::time(u.backoff_expires_at)),
        Event::TemporarilyFailed(f) => {
            let detail = f.detail.as_deref().map(|d| format!(": {d}")).unwrap_or_default();
            format!("{}{detail} (retry at {})", f.reason, crate::format::time(f.backoff_expires_at))
        }
        Event::TemporarilyTimedOut(t) => format!("retry at {}", crate::format::time(t.backoff_expires_at)),
        Event::Finished(f) => retval(&f.retval),
        Event::HistoryEvent { event } => history_detail(event),
        Event::Paused | Event::Unpaused | Event::CancellationRequested => String::new(),
        Event::ComponentUpgradeFinished(u) => {
            format!("{} to {} ({})", compact_json(&u.outcome), u.component_digest, u.deployment_id)
        }
        Event::Raw(r) => format!("undecoded: {}", r.json),
    }
}

fn history_detail(h: &HistoryEvent) -> String {
    match h {
        HistoryEvent::Persist { kind, .. } => {
            let value = h.persisted_value().map(|v| compact_json(&v)).unwrap_or_else(|| "(hash only)".into());
            format!("{} = {value}", compact_json(kind))
        }
        HistoryEvent::JoinSetCreate { join_set_id } => join_set_id.to_string(),
        HistoryEvent::JoinSetRequest { join_set_id, request } => match request {
            JoinSetRequest::DelayRequest { delay_id, expires_at, paused, .. } => {
                format!(
                    "{join_set_id}: delay {delay_id} until {}{}",
                    crate::format::time(*expires_at),
                    if *paused { " (paused)" } else { "" }
                )
            }
            JoinSetRequest::ChildExecutionRequest { child_execution_id, target_ffqn, params, .. } => {
                format!("{join_set_id}: child {child_execution_id} {target_ffqn} {}", compact_json(params))
            }
        },
        HistoryEvent::JoinNext { join_set_id, requested_ffqn, closing, .. } => {
            let f = requested_ffqn.as_ref().map(|f| format!(" for {f}")).unwrap_or_default();
            format!("{join_set_id}{f}{}", if *closing { " (closing)" } else { "" })
        }
        HistoryEvent::JoinNextTry { join_set_id, outcome } => format!("{join_set_id}: {outcome}"),
        HistoryEvent::JoinNextTooMany { join_set_id, .. } => join_set_id.to_string(),
        HistoryEvent::Schedule { execution_id, schedule_at, .. } => {
            format!("{execution_id} at {}", compact_json(schedule_at))
        }
        HistoryEvent::Stub { target_execution_id, .. } => format!("{target_execution_id}"),
    }
}
