//! One execution folded as its rows are read, keeping no events: what whole-database checks
//! need (final state, findings, responses) in memory that grows with the state, not the log.

use std::cell::RefCell;

use rustc_hash::FxHashMap;

use super::finding::{Finding, FindingSink};
use super::fold::{Folder, Steps};
use super::lookup::{Index, Lookup};
use super::state::ReplayState;
use super::step::Step;
use crate::obelisk::{ExecutionId, JoinSetResponse, LogEntry, ResponseKind};

/// The result of [`FoldAsRead`]: what [`super::Replay`] gives for the same rows, without steps.
#[derive(Debug)]
pub(crate) struct Folded {
    pub(crate) final_state: ReplayState,
    pub(crate) findings: Vec<Finding>,
    pub(crate) events: usize,
    pub(crate) responses: usize,
    /// Every `ChildExecutionFinished` response, in arrival order.
    pub(crate) children_finished: Vec<ChildFinished>,
    /// The step asked for with [`FoldAsRead::snapshot_at`] and the state after it.
    pub(crate) snapshot: Option<(Step, ReplayState)>,
    /// Every response applied, in arrival order, when [`FoldAsRead::keep_responses`] was asked.
    pub(crate) responses_kept: Vec<JoinSetResponse>,
}

/// A response saying a child finished, at step `step`.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct ChildFinished {
    pub(crate) step: usize,
    pub(crate) child: ExecutionId,
    pub(crate) finished_version: u64,
    /// The result could be read.
    pub(crate) readable: bool,
}

/// Folds log entries pushed in version order, with the execution's responses interleaved as
/// [`super::step::Interleaving`] does. Nothing is kept of a step once it is applied but what a
/// later `join_next` takes from a response it has not consumed yet.
pub(crate) struct FoldAsRead {
    state: ReplayState,
    lookup: Lookup,
    sink: FindingSink,
    /// Responses not applied yet, the next one last; with `keep_responses`, every response
    /// (the next one is `responses` from the end).
    pending: Vec<JoinSetResponse>,
    unconsumed: Unconsumed,
    children_finished: Vec<ChildFinished>,
    snapshot_at: Option<usize>,
    snapshot: Option<(Step, ReplayState)>,
    keep_responses: bool,
    steps: usize,
    events: usize,
    responses: usize,
}

/// What applied responses carry until a `join_next` consumes them, by step.
#[derive(Default)]
struct Unconsumed(RefCell<FxHashMap<usize, ResponseKind>>);

impl Steps for Unconsumed {
    /// Steps are applied as they come: there is nothing to look up but responses.
    fn step(&self, _index: usize) -> Option<&Step> {
        None
    }

    fn response_kind(&self, index: usize) -> Option<ResponseKind> {
        self.0.borrow_mut().remove(&index)
    }
}

impl FoldAsRead {
    /// A fold of `id` with its `responses` in arrival order.
    pub(crate) fn new(id: ExecutionId, mut responses: Vec<JoinSetResponse>) -> FoldAsRead {
        responses.reverse();
        let children_finished =
            responses.iter().filter(|r| matches!(r.kind, ResponseKind::ChildExecutionFinished { .. })).count();
        FoldAsRead {
            state: ReplayState::initial(id),
            lookup: Lookup::default(),
            sink: FindingSink::collecting(),
            pending: responses,
            unconsumed: Unconsumed::default(),
            children_finished: Vec::with_capacity(children_finished),
            snapshot_at: None,
            snapshot: None,
            keep_responses: false,
            steps: 0,
            events: 0,
            responses: 0,
        }
    }

    /// Also keeps step `index` and the state after it (a clone that shares the state's lists).
    pub(crate) fn snapshot_at(mut self, index: usize) -> FoldAsRead {
        self.snapshot_at = Some(index);
        self
    }

    /// Also keeps every response once applied (to show what a child returned).
    pub(crate) fn keep_responses(mut self) -> FoldAsRead {
        self.keep_responses = true;
        self
    }

    /// Folds the next log event, after the responses that arrived before it (none before `Created`).
    pub(crate) fn push(&mut self, entry: LogEntry) {
        if self.steps > 0 {
            while self.upcoming().is_some_and(|r| r.created_at <= entry.created_at) {
                self.apply_next_response();
            }
        }
        self.events += 1;
        self.apply(&Step::Event(entry));
    }

    /// The events pushed so far.
    pub(crate) fn events(&self) -> usize {
        self.events
    }

    /// Folds the responses that arrived after the last event and gives the result.
    pub(crate) fn finish(mut self) -> Folded {
        while self.upcoming().is_some() {
            self.apply_next_response();
        }
        let responses_kept = if self.keep_responses {
            self.pending.reverse();
            self.pending
        } else {
            Vec::new()
        };
        Folded {
            final_state: self.state,
            findings: self.sink.list,
            events: self.events,
            responses: self.responses,
            children_finished: self.children_finished,
            snapshot: self.snapshot,
            responses_kept,
        }
    }

    /// The next response to apply.
    fn upcoming(&self) -> Option<&JoinSetResponse> {
        if self.keep_responses {
            self.pending.len().checked_sub(self.responses + 1).map(|i| &self.pending[i])
        } else {
            self.pending.last()
        }
    }

    /// Takes the next response: out of `pending`, or a copy when they are kept.
    fn take_next_response(&mut self) -> Option<JoinSetResponse> {
        if self.keep_responses {
            return self.upcoming().cloned();
        }
        let response = self.pending.pop()?;
        if self.pending.len() < self.pending.capacity() / 4 {
            self.pending.shrink_to_fit();
        }
        Some(response)
    }

    fn apply_next_response(&mut self) {
        let Some(response) = self.take_next_response() else { return };
        self.responses += 1;
        let step = self.steps;
        if let ResponseKind::ChildExecutionFinished { child_execution_id, finished_version, result } = &response.kind {
            // The ID the state holds, when the child was requested: its text is shared.
            let requested = self.lookup.child(child_execution_id).and_then(|i| self.state.children.get(i));
            let child = requested.map_or_else(|| child_execution_id.clone(), |c| c.id.clone());
            self.children_finished.push(ChildFinished {
                step,
                child,
                finished_version: *finished_version,
                readable: result.is_some(),
            });
        }
        self.unconsumed.0.borrow_mut().insert(step, response.kind.clone());
        self.apply(&Step::Response(response));
    }

    fn apply(&mut self, step: &Step) {
        let index = self.steps;
        self.steps += 1;
        let mut folder =
            Folder { steps: &self.unconsumed, index: Index::Building(&mut self.lookup), findings: &mut self.sink };
        folder.apply_step(&mut self.state, index, step);
        if self.snapshot_at == Some(index) {
            self.snapshot = Some((step.clone(), self.state.clone()));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::obelisk::test_support::{FIXTURE_0_38_3, FIXTURE_0_41_5, open};
    use crate::replay::Replay;

    /// Every execution of both fixtures folds to the same final state and findings as its replay.
    #[test]
    fn folding_as_read_ends_where_the_replay_ends() {
        for fixture in [FIXTURE_0_38_3, FIXTURE_0_41_5] {
            let db = open(fixture);
            let all = db.list_executions(&Default::default()).unwrap_or_else(|e| panic!("{e}"));
            assert!(all.len() > 30, "{fixture}");
            for summary in all {
                let id = summary.id;
                let log = db.execution_log(&id).unwrap_or_else(|e| panic!("{e}"));
                let responses = db.responses(&id).unwrap_or_else(|e| panic!("{e}"));
                let replay = Replay::new(id.clone(), log.clone(), responses.clone());
                let mut fold = FoldAsRead::new(id.clone(), responses);
                for entry in log {
                    fold.push(entry);
                }
                let folded = fold.finish();
                assert_eq!(&folded.final_state, replay.final_state(), "{id}");
                assert_eq!(folded.findings, replay.findings(), "{id}");
                assert_eq!((folded.events, folded.responses), (replay.event_count(), replay.response_count()));
                let expected: Vec<ChildFinished> = (0..replay.len())
                    .filter_map(|step| match replay.step(step) {
                        Some(Step::Response(r)) => match &r.kind {
                            ResponseKind::ChildExecutionFinished { child_execution_id, finished_version, result } => {
                                Some(ChildFinished {
                                    step,
                                    child: child_execution_id.clone(),
                                    finished_version: *finished_version,
                                    readable: result.is_some(),
                                })
                            }
                            ResponseKind::DelayFinished { .. } => None,
                        },
                        _ => None,
                    })
                    .collect();
                assert_eq!(folded.children_finished, expected, "{id}");
            }
        }
    }
}
