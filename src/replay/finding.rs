//! Findings: places where the recorded data breaks a replay rule or disagrees with Obelisk's own
//! projection (`t_state`). Each names the execution and, where it applies, the log version and
//! the replay step.

use std::fmt;

use serde::Serialize;

use crate::obelisk::ExecutionId;

/// What kind of rule a finding is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum FindingKind {
    /// A log row that could not be decoded (unknown variant, malformed JSON).
    UndecodableEvent,
    /// Versions are not 0, 1, 2, … or the log does not start with `Created`.
    MalformedLog,
    /// An event after the terminal `Finished`.
    EventAfterFinish,
    /// A join set ID that does not derive as Obelisk derives it (one-off counter, generated number).
    JoinSetIdDerivation,
    /// A join set created twice.
    DuplicateJoinSet,
    /// A request, wait or response on a join set that was never created.
    UnknownJoinSet,
    /// A request added to a join set that is already closing.
    RequestAfterClose,
    /// A child ID that does not derive from the parent, join set and request count.
    ChildIdDerivation,
    /// A delay ID that does not belong to this execution's join set.
    DelayIdDerivation,
    /// The same child or delay requested twice.
    DuplicateRequest,
    /// A `join_next` with no request left to wait for, or a `join_next_try`/`join_next_too_many`
    /// whose outcome contradicts the requests and responses.
    AwaitMismatch,
    /// The workflow went on (new history events, or returned) while a `join_next` still had no response.
    ProgressWithoutResponse,
    /// A response nothing requested, a second response for one request, or one before its request.
    UnexpectedResponse,
    /// The workflow returned while a request of one of its join sets was never awaited nor closed.
    UnawaitedRequest,
    /// A `stub` of an execution that is not one of this workflow's children.
    StubTarget,
    /// The replayed final state differs from `t_state`.
    StateMismatch,
    /// Cross-execution: a requested child, a scheduled execution or a responded child is missing,
    /// or its own log disagrees with the parent's records.
    TreeMismatch,
    /// `t_delay` disagrees with the replayed delays.
    DelayTableMismatch,
}

impl FindingKind {
    /// The snake-case name used in JSON.
    pub fn name(self) -> &'static str {
        match self {
            FindingKind::UndecodableEvent => "undecodable_event",
            FindingKind::MalformedLog => "malformed_log",
            FindingKind::EventAfterFinish => "event_after_finish",
            FindingKind::JoinSetIdDerivation => "join_set_id_derivation",
            FindingKind::DuplicateJoinSet => "duplicate_join_set",
            FindingKind::UnknownJoinSet => "unknown_join_set",
            FindingKind::RequestAfterClose => "request_after_close",
            FindingKind::ChildIdDerivation => "child_id_derivation",
            FindingKind::DelayIdDerivation => "delay_id_derivation",
            FindingKind::DuplicateRequest => "duplicate_request",
            FindingKind::AwaitMismatch => "await_mismatch",
            FindingKind::ProgressWithoutResponse => "progress_without_response",
            FindingKind::UnexpectedResponse => "unexpected_response",
            FindingKind::UnawaitedRequest => "unawaited_request",
            FindingKind::StubTarget => "stub_target",
            FindingKind::StateMismatch => "state_mismatch",
            FindingKind::TreeMismatch => "tree_mismatch",
            FindingKind::DelayTableMismatch => "delay_table_mismatch",
        }
    }
}

impl fmt::Display for FindingKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// One finding.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Finding {
    pub execution_id: ExecutionId,
    /// The log version the finding is about, when it is about one event.
    pub version: Option<u64>,
    /// The replay step (index into the execution's steps), when known.
    pub step: Option<usize>,
    pub kind: FindingKind,
    /// One line, for people.
    pub message: String,
}

impl fmt::Display for Finding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.execution_id)?;
        if let Some(v) = self.version {
            write!(f, " v{v}")?;
        }
        write!(f, ": [{}] {}", self.kind, self.message)
    }
}

/// Where a fold puts its findings: collected on the first pass, ignored when refolding from a
/// checkpoint (messages are then never built).
#[derive(Debug, Default)]
pub(crate) struct FindingSink {
    collect: bool,
    pub(crate) list: Vec<Finding>,
}

impl FindingSink {
    /// A sink that keeps findings.
    pub(crate) fn collecting() -> Self {
        FindingSink { collect: true, list: Vec::new() }
    }

    /// A sink that drops them.
    pub(crate) fn ignoring() -> Self {
        FindingSink { collect: false, list: Vec::new() }
    }

    /// Records a finding; `message` is only called when findings are kept.
    pub(crate) fn add(
        &mut self,
        execution_id: &ExecutionId,
        version: Option<u64>,
        step: Option<usize>,
        kind: FindingKind,
        message: impl FnOnce() -> String,
    ) {
        if self.collect {
            self.list.push(Finding { execution_id: execution_id.clone(), version, step, kind, message: message() });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn displays_and_serializes() {
        let id: ExecutionId = "E_01M86DPFFDGMT7EW7PF6ESA2Z2".parse().unwrap_or_else(|e| panic!("{e}"));
        let mut sink = FindingSink::collecting();
        sink.add(&id, Some(7), Some(8), FindingKind::AwaitMismatch, || "no request left".into());
        let mut quiet = FindingSink::ignoring();
        quiet.add(&id, None, None, FindingKind::AwaitMismatch, || panic!("never built"));
        assert!(quiet.list.is_empty());
        let f = &sink.list[0];
        assert_eq!(f.to_string(), "E_01M86DPFFDGMT7EW7PF6ESA2Z2 v7: [await_mismatch] no request left");
        let json = serde_json::to_value(f).unwrap_or_default();
        assert_eq!((json["kind"].as_str(), json["version"].as_u64()), (Some("await_mismatch"), Some(7)));
    }
}
