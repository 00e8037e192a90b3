//! The replayed state of one step as text, for `chronoscope replay`.

use rustc_hash::FxHashMap;

use crate::format::time;
use crate::obelisk::{DelayId, ExecutionId, ExecutionState, JoinSetResponse, ResponseKind, describe};
use crate::replay::{ChildState, DelayState, ReplayState, RequestTarget};

fn compact(v: &impl serde::Serialize) -> String {
    let s = serde_json::to_string(v).unwrap_or_default();
    if s.chars().count() > 100 { format!("{}…", s.chars().take(99).collect::<String>()) } else { s }
}

/// Pending state in words: `blocked by join set g:1 (lock until …)`.
fn pending(s: &ExecutionState) -> String {
    match s {
        ExecutionState::PendingAt { scheduled_at } => format!("pending at {}", time(*scheduled_at)),
        ExecutionState::Locked { executor_id, run_id, lock_expires_at } => {
            let by = executor_id.as_ref().map(|e| format!(" by {e}")).unwrap_or_default();
            let run = run_id.as_ref().map(|r| format!(" run {r}")).unwrap_or_default();
            format!("locked{by}{run} until {}", time(*lock_expires_at))
        }
        ExecutionState::BlockedByJoinSet { join_set_id, lock_expires_at, closing } => {
            let js = join_set_id.as_ref().map(|j| format!(" {j}")).unwrap_or_default();
            let closing = if *closing { ", closing" } else { "" };
            format!("blocked by join set{js}{closing} (lock until {})", time(*lock_expires_at))
        }
        ExecutionState::Finished { finished_at } => format!("finished at {}", time(*finished_at)),
        ExecutionState::Other { state, at } => format!("{state} at {}", time(*at)),
    }
}

/// What a response carries, in one line.
fn response_value(kind: &ResponseKind) -> String {
    match kind {
        ResponseKind::ChildExecutionFinished { child_execution_id, result, .. } => {
            let r = result.as_ref().map(describe::retval).unwrap_or_else(|| "(result not readable)".into());
            format!("child {child_execution_id}: {r}")
        }
        ResponseKind::DelayFinished { delay_id, success } => {
            format!("delay {delay_id} {}", if *success { "fired" } else { "cancelled" })
        }
    }
}

/// A response's value without naming the child or delay: `ok 2`, `fired`.
fn outcome(kind: &ResponseKind) -> String {
    match kind {
        ResponseKind::ChildExecutionFinished { result, .. } => {
            result.as_ref().map(describe::retval).unwrap_or_else(|| "(result not readable)".into())
        }
        ResponseKind::DelayFinished { success, .. } => (if *success { "fired" } else { "cancelled" }).to_owned(),
    }
}

/// Prints `state` (the state after a step), with `response(i)` the execution's i-th response.
pub fn print_state<'a>(response: impl Fn(usize) -> Option<&'a JoinSetResponse>, state: &ReplayState) {
    let row = |label: &str, value: String| println!("  {label:<12} {value}");
    if let Some(f) = &state.ffqn {
        row("function", f.to_string());
    }
    row("state", state.pending.as_ref().map(pending).unwrap_or_else(|| "(not created)".into()));
    row("lifecycle", state.lifecycle.to_string());
    if let Some(r) = &state.result {
        row("result", describe::retval(r));
    }
    let a = &state.attempts;
    let retries = a.max_retries.map(|m| format!(", max retries {m}")).unwrap_or_default();
    row(
        "attempts",
        format!(
            "attempt {} ({} runs, {} lock extensions, {} intermittent failures{retries})",
            a.attempt, a.runs, a.lock_extensions, a.intermittent_failures
        ),
    );
    if let Some(l) = &state.last_lock {
        row("last lock", format!("executor {} run {}", l.executor_id, l.run_id));
    }
    if let Some(d) = &state.component_digest {
        let deployment = state.deployment_id.as_ref().map(|d| format!(" (deployment {d})")).unwrap_or_default();
        row("component", format!("{d}{deployment}"));
    }
    if let Some(d) = &state.incompatible_digest {
        row("incompatible", format!("upgrade to {d} failed"));
    }
    if let Some(r) = &state.received {
        row(
            "received",
            format!(
                "{} on {} (v{}) took response #{}: {}",
                compact(&r.await_kind).trim_matches('"'),
                r.join_set_id,
                r.await_version,
                r.response,
                response_value(&r.value)
            ),
        );
    }
    if let Some(w) = &state.waiting {
        row("waiting", format!("join_next on {} (v{}) has no response yet", w.join_set_id, w.version));
    }
    if !state.join_sets.is_empty() {
        // Looked up once per request: a long workflow has tens of thousands of children.
        let children: FxHashMap<&ExecutionId, &ChildState> = state.children.iter().map(|c| (&c.id, c)).collect();
        let delays: FxHashMap<&DelayId, &DelayState> = state.delays.iter().map(|d| (&d.id, d)).collect();
        println!("\n  join sets:");
        for js in state.join_sets.iter() {
            println!(
                "    {} ({}) {}: {} requests, {} arrived, {} consumed",
                js.id,
                compact(&js.kind).trim_matches('"'),
                compact(&js.status).trim_matches('"'),
                js.requests.len(),
                js.arrivals.len(),
                js.consumed
            );
            for req in &js.requests {
                match &req.target {
                    RequestTarget::Child(id) => {
                        let child = children.get(id).copied();
                        let ffqn = child.map(|c| c.ffqn.to_string()).unwrap_or_default();
                        let outcome = match child {
                            Some(c) if c.request_error.is_some() => "request failed".to_owned(),
                            Some(c) => match (c.response.and_then(&response), c.consumed_version) {
                                (Some(r), Some(v)) => format!("{} (received at v{v})", outcome(&r.kind)),
                                (Some(r), None) => format!("{} (arrived, not received yet)", outcome(&r.kind)),
                                (None, _) => "running".to_owned(),
                            },
                            None => String::new(),
                        };
                        println!("      v{:<4} child {id} {ffqn}: {outcome}", req.version);
                    }
                    RequestTarget::Delay(id) => {
                        let d = delays.get(&**id).copied();
                        let outcome = match d.map(|d| (d.fired, d.consumed_version)) {
                            Some((Some(true), Some(v))) => format!("fired (received at v{v})"),
                            Some((Some(true), None)) => "fired (arrived, not received yet)".to_owned(),
                            Some((Some(false), _)) => "cancelled".to_owned(),
                            Some((None, _)) => "pending".to_owned(),
                            None => String::new(),
                        };
                        let until = d.map(|d| format!(" until {}", time(d.expires_at))).unwrap_or_default();
                        println!("      v{:<4} delay {id}{until}: {outcome}", req.version);
                    }
                }
            }
        }
    }
    if !state.scheduled.is_empty() {
        println!("\n  scheduled:");
        for s in state.scheduled.iter() {
            let error = s.error.as_ref().map(|e| format!(" failed: {}", compact(e))).unwrap_or_default();
            println!("    v{:<4} {} at {}{error}", s.version, s.execution_id, compact(&s.schedule_at));
        }
    }
    if !state.persisted.is_empty() {
        println!("\n  persisted values:");
        for p in state.persisted.iter() {
            let value = p.value.as_ref().map(compact).unwrap_or_else(|| "(hash only)".into());
            println!("    v{:<4} {} = {value}", p.version, compact(&p.kind));
        }
    }
    if !state.upgrades.is_empty() {
        println!("\n  component upgrades:");
        for u in state.upgrades.iter() {
            println!("    v{:<4} {} to {} ({})", u.version, compact(&u.outcome), u.component_digest, u.deployment_id);
        }
    }
}
