//! Steps: an execution's log events with its join-set responses interleaved in arrival order.
//!
//! Responses are not log rows; they arrive while the workflow runs or waits. A response is placed
//! before the first log event that is *later* than it: on equal timestamps the response comes
//! first. Obelisk writes a response in the same transaction as the event that caused it (a child's
//! `Finished`, a cancellation while closing a join set, a `stub`), and in the fixtures every tie is
//! such a transaction in which the parent's own events (lock extension, closing `join_next`,
//! `stub`) share the time of the response they depend on or cause. A response never goes before
//! version 0 (`Created`).

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::obelisk::{JoinSetResponse, LogEntry, ResponseKind, describe};

/// One step of a replay: a log event, or a response arriving.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "step", rename_all = "snake_case")]
pub enum Step {
    /// A row of the execution's log.
    Event(LogEntry),
    /// A response to one of the execution's join sets (`t_join_set_response`).
    Response(JoinSetResponse),
}

impl Step {
    /// When the step happened.
    pub fn at(&self) -> DateTime<Utc> {
        match self {
            Step::Event(e) => e.created_at,
            Step::Response(r) => r.created_at,
        }
    }

    /// The log version of an event step.
    pub fn version(&self) -> Option<u64> {
        match self {
            Step::Event(e) => Some(e.version),
            Step::Response(_) => None,
        }
    }

    /// The kind in a few words: `created`, `join_next`, `response`.
    pub fn kind(&self) -> String {
        match self {
            Step::Event(e) => describe::event_kind(&e.event),
            Step::Response(_) => "response".to_owned(),
        }
    }

    /// What happened, in one line without the kind.
    pub fn detail(&self) -> String {
        match self {
            Step::Event(e) => describe::event_detail(&e.event),
            Step::Response(r) => match &r.kind {
                ResponseKind::ChildExecutionFinished { child_execution_id, result, .. } => {
                    let result =
                        result.as_ref().map(describe::retval).unwrap_or_else(|| "(result not readable)".into());
                    format!("{}: child {child_execution_id} {result}", r.join_set_id)
                }
                ResponseKind::DelayFinished { delay_id, success } => {
                    format!("{}: delay {delay_id} {}", r.join_set_id, if *success { "fired" } else { "cancelled" })
                }
            },
        }
    }
}

/// Interleaves `log` (ordered by version) and `responses` (in arrival order) into steps.
pub fn interleave(log: Vec<LogEntry>, responses: Vec<JoinSetResponse>) -> Vec<Step> {
    let mut steps = Interleaving::new(log.len(), responses);
    for entry in log {
        steps.push(entry);
    }
    steps.finish()
}

/// [`interleave`] one log event at a time, for logs read row by row.
pub struct Interleaving {
    steps: Vec<Step>,
    responses: std::iter::Peekable<std::vec::IntoIter<JoinSetResponse>>,
}

impl Interleaving {
    /// Room for `events` log events and every response.
    pub fn new(events: usize, responses: Vec<JoinSetResponse>) -> Interleaving {
        Interleaving {
            steps: Vec::with_capacity(events + responses.len()),
            responses: responses.into_iter().peekable(),
        }
    }

    /// The next log event, after the responses that arrived before it (none before `Created`).
    pub fn push(&mut self, entry: LogEntry) {
        if !self.steps.is_empty() {
            while let Some(r) = self.responses.next_if(|r| r.created_at <= entry.created_at) {
                self.steps.push(Step::Response(r));
            }
        }
        self.steps.push(Step::Event(entry));
    }

    /// The steps, with the responses that arrived after the last event.
    pub fn finish(mut self) -> Vec<Step> {
        self.steps.extend(self.responses.map(Step::Response));
        self.steps
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::obelisk::{Event, JoinSetId};

    fn at(s: u32) -> DateTime<Utc> {
        DateTime::from_timestamp(1_800_000_000 + i64::from(s), 0).unwrap_or_default()
    }

    fn entry(version: u64, s: u32) -> LogEntry {
        LogEntry { version, created_at: at(s), event: Event::Paused }
    }

    fn response(id: i64, s: u32) -> JoinSetResponse {
        let js: JoinSetId = "g:1".parse().unwrap_or_else(|e| panic!("{e}"));
        let delay_id = "Delay_01M86DPFFDGMT7EW7PF6ESA2Z2.g:1_0".parse().unwrap_or_else(|e| panic!("{e}"));
        JoinSetResponse {
            id,
            seq: None,
            created_at: at(s),
            join_set_id: js,
            kind: ResponseKind::DelayFinished { delay_id, success: true },
        }
    }

    fn shape(steps: &[Step]) -> String {
        steps
            .iter()
            .map(|s| match s {
                Step::Event(e) => format!("v{}", e.version),
                Step::Response(r) => format!("r{}", r.id),
            })
            .collect::<Vec<_>>()
            .join(" ")
    }

    #[test]
    fn responses_go_before_later_events_and_first_on_ties() {
        let log = vec![entry(0, 10), entry(1, 20), entry(2, 30), entry(3, 30)];
        // r1 before Created is kept after it; r2 ties with v2/v3 and goes first; r3 after all;
        // r4 is earlier than r3 by time but keeps its arrival position.
        let steps = interleave(log, vec![response(1, 5), response(2, 30), response(3, 40), response(4, 35)]);
        assert_eq!(shape(&steps), "v0 r1 v1 r2 v2 v3 r3 r4");
        assert_eq!(steps[0].version(), Some(0));
        assert_eq!(steps[1].version(), None);
        assert_eq!(steps[1].kind(), "response");
        assert_eq!(steps[1].detail(), "g:1: delay Delay_01M86DPFFDGMT7EW7PF6ESA2Z2.g:1_0 fired");
        let json = serde_json::to_value(&steps[1]).unwrap_or_default();
        assert_eq!((json["step"].as_str(), json["type"].as_str()), (Some("response"), Some("delay_finished")));
        assert_eq!(serde_json::to_value(&steps[0]).unwrap_or_default()["step"], "event");
        assert!(interleave(Vec::new(), Vec::new()).is_empty());
        // Row by row (a database log as it is read) gives the same order.
        let mut rows = Interleaving::new(4, vec![response(1, 5), response(2, 30), response(3, 40), response(4, 35)]);
        for e in [entry(0, 10), entry(1, 20), entry(2, 30), entry(3, 30)] {
            rows.push(e);
        }
        assert_eq!(shape(&rows.finish()), "v0 r1 v1 r2 v2 v3 r3 r4");
        // Responses without any log row are still steps.
        assert_eq!(shape(&interleave(Vec::new(), vec![response(1, 5), response(2, 3)])), "r1 r2");
    }
}
