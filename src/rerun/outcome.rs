//! What a re-execution reports: how it ended ([`OutcomeKind`]), every matched event with its
//! source line, the guest's logs and output, and the detail of a trap, a nondeterminism, a
//! blocked join set or the events the workflow would append next. Serializes as the
//! `chronoscope rerun --json` document.

use serde::Serialize;

use super::keys::Key;
use super::source::{SourceLine, TrapFrame};
use crate::obelisk::{ContentDigest, ExecutionId, Ffqn, JoinSetId, RetVal};

/// How a re-execution ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum OutcomeKind {
    /// The function returned.
    Finished,
    /// The guest trapped (a panic, `unreachable`, out of fuel).
    Trapped,
    /// The log ends at a recorded `JoinNext` whose response has not arrived.
    Blocked,
    /// The log ends before the workflow does: it would append more events now.
    Pending,
    /// The code and the log disagree.
    Nondeterministic,
    /// Stopped by the user.
    Cancelled,
}

impl OutcomeKind {
    pub fn as_str(self) -> &'static str {
        match self {
            OutcomeKind::Finished => "finished",
            OutcomeKind::Trapped => "trapped",
            OutcomeKind::Blocked => "blocked",
            OutcomeKind::Pending => "pending",
            OutcomeKind::Nondeterministic => "nondeterministic",
            OutcomeKind::Cancelled => "cancelled",
        }
    }
}

/// One history event the code produced and the log confirmed.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Step {
    pub version: u64,
    /// `join_set_create`, `join_set_request`, `join_next`, `persist`, ...
    pub event_type: String,
    /// The host function the guest called (`demo:activity/ops.add`, `join-next`, ...).
    pub call: String,
    /// The workflow's line that made the call.
    pub source: Option<SourceLine>,
    /// What the guest received from this event (a response, a persisted value), as JSON.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub received: Option<serde_json::Value>,
    /// Bytes the guest had written to stdout and stderr when it made the call (the output
    /// "up to this step" is `stdout[..stdout_len]`).
    pub stdout_len: usize,
    pub stderr_len: usize,
}

/// One `obelisk:log` call of the guest.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct GuestLog {
    /// `trace`, `debug`, `info`, `warn`, `error`.
    pub level: String,
    pub message: String,
    /// The version of the last event matched before the call (`None`: before any).
    pub after_version: Option<u64>,
    pub source: Option<SourceLine>,
}

/// A trap of the guest.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Trap {
    pub reason: String,
    /// Innermost first.
    pub frames: Vec<TrapFrame>,
    /// The innermost frame in the workflow's own code.
    pub source: Option<SourceLine>,
}

/// Where the code and the log part.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Nondeterminism {
    /// The version of the recorded event (or of `Finished` for a different return value).
    pub version: u64,
    /// What the log holds there (the history event or the recorded return value, as JSON;
    /// `null` when the log has nothing left).
    pub recorded: serde_json::Value,
    /// What the code produced (a key, a return value; `null` when the function returned).
    pub produced: serde_json::Value,
    /// One line, e.g. `key does not match event stored at version 6`.
    pub message: String,
    pub source: Option<SourceLine>,
}

/// A recorded `JoinNext` without its response.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Blocked {
    pub version: u64,
    pub join_set_id: JoinSetId,
    pub closing: bool,
    /// The child executions and delays of the set not awaited yet.
    pub waiting_for: Vec<String>,
    pub source: Option<SourceLine>,
}

/// The events the workflow would append next (never written anywhere).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Pending {
    pub would_append: Vec<Key>,
    /// `Some` when the function returned: the `Finished` it would write.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub would_finish: Option<RetVal>,
    pub source: Option<SourceLine>,
}

/// Everything one re-execution found.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Report {
    pub execution_id: ExecutionId,
    pub ffqn: Ffqn,
    /// The component that was run (the recorded one or `--component`).
    pub component_digest: ContentDigest,
    pub outcome: OutcomeKind,
    /// True when the outcome agrees with the log: the same return value or trap, or an
    /// unfinished log that ends where the code waits or continues.
    pub consistent: bool,
    /// History events the code produced and the log confirmed, and history events in the log.
    pub matched: usize,
    pub total: usize,
    /// What the function returned, in Obelisk's form (`{"ok":{"type":..,"value":..}}`).
    pub retval: Option<RetVal>,
    /// What the log recorded in `Finished`, if it finished.
    pub recorded_retval: Option<RetVal>,
    pub logs: Vec<GuestLog>,
    pub stdout: String,
    pub stderr: String,
    pub steps: Vec<Step>,
    pub trap: Option<Trap>,
    pub nondeterminism: Option<Nondeterminism>,
    pub blocked: Option<Blocked>,
    pub pending: Option<Pending>,
    /// Fuel (≈ wasm instructions) the guest used.
    pub fuel_used: u64,
}

impl Report {
    /// A short "where": the source line of the stop, or the version.
    pub fn where_text(&self) -> String {
        let line = |s: &Option<SourceLine>| s.as_ref().map(|s| format!("{}:{}", short_path(&s.file), s.line));
        let found = match self.outcome {
            OutcomeKind::Trapped => self.trap.as_ref().and_then(|t| line(&t.source)),
            OutcomeKind::Nondeterministic => self
                .nondeterminism
                .as_ref()
                .map(|n| format!("v{}{}", n.version, line(&n.source).map(|l| format!(" {l}")).unwrap_or_default())),
            OutcomeKind::Blocked => self.blocked.as_ref().map(|b| {
                format!(
                    "v{} {}{}",
                    b.version,
                    b.join_set_id,
                    line(&b.source).map(|l| format!(" {l}")).unwrap_or_default()
                )
            }),
            OutcomeKind::Pending => self.pending.as_ref().map(|p| {
                let next = p.would_append.first().map(|k| k.to_string()).unwrap_or_else(|| "finished".into());
                format!("next: {next}{}", line(&p.source).map(|l| format!(" {l}")).unwrap_or_default())
            }),
            OutcomeKind::Finished | OutcomeKind::Cancelled => None,
        };
        found.unwrap_or_default()
    }
}

/// `src/lib.rs` for `/tmp/build/workflow/src/lib.rs`: the last two components.
pub fn short_path(path: &str) -> &str {
    let mut slashes = path.rmatch_indices('/').map(|(i, _)| i);
    match (slashes.next(), slashes.next()) {
        (Some(_), Some(i)) => &path[i + 1..],
        _ => path,
    }
}
