//! One step of one execution read from a database and folded as its rows are read: what
//! `chronoscope replay` shows, in memory that grows with the execution's state, not with its log
//! (a [`super::Replay`] keeps every step for random jumps; this keeps one).

use super::engine::Replay;
use super::error::ReplayError;
use super::finding::Finding;
use super::fold_as_read::FoldAsRead;
use super::state::ReplayState;
use super::step::Step;
use crate::obelisk::{ExecutionId, JoinSetResponse, ObeliskDb};

/// The state after one step, and what the whole execution's fold found.
#[derive(Debug)]
pub struct StateAtStep {
    /// 0-based step index (log events with responses interleaved).
    pub index: usize,
    /// The step itself.
    pub step: Step,
    /// The state after it.
    pub state: ReplayState,
    /// The state after the last step.
    pub final_state: ReplayState,
    /// Replay-rule findings of the whole execution.
    pub findings: Vec<Finding>,
    /// Steps in all: `events` + responses.
    pub steps: usize,
    pub events: usize,
    /// Every response, in arrival order.
    pub responses: Vec<JoinSetResponse>,
}

impl StateAtStep {
    /// Folds `id` from `db` and keeps the state after `step` (`None`: the last step).
    pub fn read(db: &ObeliskDb, id: &ExecutionId, step: Option<usize>) -> Result<StateAtStep, ReplayError> {
        let responses = db.responses(id)?;
        let events = db.log_len(id)?;
        if events == 0 {
            return Err(db.not_found(id).into());
        }
        let steps = events + responses.len();
        let index = step.unwrap_or(steps - 1);
        if index >= steps {
            return Err(ReplayError::StepOutOfRange { execution_id: id.to_string(), step: index, len: steps });
        }
        let mut fold = FoldAsRead::new(id.clone(), responses).snapshot_at(index).keep_responses();
        db.visit_execution_log(id, |entry| fold.push(entry))?;
        let folded = fold.finish();
        let (step, state) = folded.snapshot.ok_or_else(|| ReplayError::StepOutOfRange {
            // The log grew or shrank between counting and reading it.
            execution_id: id.to_string(),
            step: index,
            len: folded.events + folded.responses,
        })?;
        Ok(StateAtStep {
            index,
            step,
            state,
            final_state: folded.final_state,
            findings: folded.findings,
            steps: folded.events + folded.responses,
            events: folded.events,
            responses: folded.responses_kept,
        })
    }

    /// The same from a replay already made (an export's): clones of its step, states and responses.
    pub fn from_replay(replay: &Replay, step: Option<usize>) -> Result<StateAtStep, ReplayError> {
        let index = step.unwrap_or(replay.len().saturating_sub(1));
        let at = replay.step(index).ok_or_else(|| ReplayError::StepOutOfRange {
            execution_id: replay.execution_id().to_string(),
            step: index,
            len: replay.len(),
        })?;
        Ok(StateAtStep {
            index,
            step: at.clone(),
            state: replay.state_at(index)?,
            final_state: replay.final_state().clone(),
            findings: replay.findings().to_vec(),
            steps: replay.len(),
            events: replay.event_count(),
            responses: (0..replay.response_count()).filter_map(|i| replay.response(i).cloned()).collect(),
        })
    }

    /// The response with this index (arrival order).
    pub fn response(&self, index: usize) -> Option<&JoinSetResponse> {
        self.responses.get(index)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::obelisk::test_support::{FIXTURE_0_38_3, FIXTURE_0_41_5, open};

    /// At the first, a middle and the last step of every execution of both fixtures, the state,
    /// step, findings and responses are those of the execution's full replay.
    #[test]
    fn the_state_at_a_step_is_the_replays_state_there() {
        for fixture in [FIXTURE_0_38_3, FIXTURE_0_41_5] {
            let db = open(fixture);
            let all = db.list_executions(&Default::default()).unwrap_or_else(|e| panic!("{e}"));
            let mut compared = 0;
            for summary in all {
                let id = summary.id;
                let replay = Replay::new(
                    id.clone(),
                    db.execution_log(&id).unwrap_or_else(|e| panic!("{e}")),
                    db.responses(&id).unwrap_or_else(|e| panic!("{e}")),
                );
                let last = replay.len() - 1;
                for step in [Some(0), Some(last / 2), None] {
                    let at = StateAtStep::read(&db, &id, step).unwrap_or_else(|e| panic!("{id} {step:?}: {e}"));
                    let index = step.unwrap_or(last);
                    assert_eq!(at.index, index);
                    assert_eq!(at.state, replay.state_at(index).unwrap(), "{id} step {index}");
                    assert_eq!(Some(&at.step), replay.step(index), "{id} step {index}");
                    assert_eq!(&at.final_state, replay.final_state(), "{id}");
                    assert_eq!(at.findings, replay.findings(), "{id}");
                    assert_eq!((at.steps, at.events), (replay.len(), replay.event_count()), "{id}");
                    let responses: Vec<_> = (0..replay.response_count()).map(|i| replay.response(i).cloned()).collect();
                    assert_eq!(at.responses.iter().cloned().map(Some).collect::<Vec<_>>(), responses, "{id}");
                    compared += 1;
                }
            }
            assert!(compared > 90, "{fixture}: {compared}");
        }
    }

    #[test]
    fn a_step_past_the_end_is_refused_with_the_steps_there_are() {
        let db = open(FIXTURE_0_41_5);
        let id = db.list_executions(&Default::default()).unwrap().remove(0).id;
        let steps = StateAtStep::read(&db, &id, None).unwrap().steps;
        let err = StateAtStep::read(&db, &id, Some(steps)).unwrap_err().to_string();
        assert!(
            err.contains(&format!("step {steps} is out of range")) && err.contains(&format!("0..{steps}")),
            "{err}"
        );
    }
}
