//! [`Replay`]: an execution's steps folded once, with checkpoints for fast random access.
//!
//! The first fold records the findings, the final state and a full state every `interval` steps
//! (states share storage, see `shared_vec.rs`). [`Replay::state_at`] clones the nearest checkpoint
//! at or before the step and folds forward at most `interval - 1` steps.

use chrono::{DateTime, Utc};

use super::error::ReplayError;
use super::finding::{Finding, FindingSink};
use super::fold::Folder;
use super::lookup::{Index, Lookup};
use super::state::ReplayState;
use super::step::{Step, interleave};
use crate::obelisk::{ExecutionId, JoinSetResponse, LogEntry};

/// Default steps between checkpoints.
pub const DEFAULT_CHECKPOINT_INTERVAL: usize = 256;

/// Logs with more than this many checkpoints at the default interval space them further apart,
/// up to [`WIDEST_INTERVAL`]: each checkpoint keeps its own copy of the chunks written after it,
/// which in a 266,667-step log was 59 MB for 1,042 checkpoints.
const FEW_CHECKPOINTS: usize = 512;

/// The widest interval below [`MAX_CHECKPOINTS`]; a jump folds at most this many steps.
const WIDEST_INTERVAL: usize = 1024;

/// At most this many checkpoints are kept; longer logs space them further apart.
const MAX_CHECKPOINTS: usize = 4096;

/// Steps between checkpoints for a log of `steps` steps.
fn interval_for(steps: usize) -> usize {
    (steps / FEW_CHECKPOINTS).clamp(DEFAULT_CHECKPOINT_INTERVAL, WIDEST_INTERVAL).max(steps.div_ceil(MAX_CHECKPOINTS))
}

/// One execution, replayed.
#[derive(Debug, Clone)]
pub struct Replay {
    execution_id: ExecutionId,
    steps: Vec<Step>,
    /// Step index of each response, in arrival order.
    response_steps: Vec<usize>,
    lookup: Lookup,
    interval: usize,
    /// `checkpoints[i]` = the state after `i * interval` steps (`checkpoints[0]` = initial).
    checkpoints: Vec<ReplayState>,
    final_state: ReplayState,
    findings: Vec<Finding>,
}

impl Replay {
    /// Replays `log` (ordered by version) with `responses` (in arrival order), with checkpoints
    /// every 256 steps (further apart beyond 131,072 steps, see [`interval_for`]).
    pub fn new(execution_id: ExecutionId, log: Vec<LogEntry>, responses: Vec<JoinSetResponse>) -> Replay {
        Replay::from_interleaved(execution_id, interleave(log, responses))
    }

    /// Replays with a checkpoint every `interval` steps (at least 1).
    pub fn with_interval(
        execution_id: ExecutionId,
        log: Vec<LogEntry>,
        responses: Vec<JoinSetResponse>,
        interval: usize,
    ) -> Replay {
        Replay::from_steps(execution_id, interleave(log, responses), interval)
    }

    /// Replays steps already interleaved (see [`super::Interleaving`]), with the default checkpoints.
    pub fn from_interleaved(execution_id: ExecutionId, steps: Vec<Step>) -> Replay {
        let interval = interval_for(steps.len());
        Replay::from_steps(execution_id, steps, interval)
    }

    #[doc(hidden)]
    pub fn from_interleaved_with(execution_id: ExecutionId, steps: Vec<Step>, interval: usize) -> Replay {
        Replay::from_steps(execution_id, steps, interval)
    }

    fn from_steps(execution_id: ExecutionId, steps: Vec<Step>, interval: usize) -> Replay {
        let interval = interval.max(1);
        let response_steps =
            steps.iter().enumerate().filter(|(_, s)| matches!(s, Step::Response(_))).map(|(i, _)| i).collect();
        let mut lookup = Lookup::default();
        let mut sink = FindingSink::collecting();
        let mut state = ReplayState::initial(execution_id.clone());
        let mut checkpoints = vec![state.clone()];
        {
            let mut folder = Folder { steps: &steps, index: Index::Building(&mut lookup), findings: &mut sink };
            for i in 0..steps.len() {
                folder.apply(&mut state, i);
                if (i + 1) % interval == 0 && i + 1 < steps.len() {
                    checkpoints.push(state.clone());
                }
            }
        }
        Replay {
            execution_id,
            steps,
            response_steps,
            lookup,
            interval,
            checkpoints,
            final_state: state,
            findings: sink.list,
        }
    }

    pub fn execution_id(&self) -> &ExecutionId {
        &self.execution_id
    }

    /// All steps: log events with responses interleaved.
    pub fn steps(&self) -> &[Step] {
        &self.steps
    }

    /// Number of steps.
    pub fn len(&self) -> usize {
        self.steps.len()
    }

    /// True for an execution without any row.
    pub fn is_empty(&self) -> bool {
        self.steps.is_empty()
    }

    /// The step at `index`.
    pub fn step(&self, index: usize) -> Option<&Step> {
        self.steps.get(index)
    }

    /// The response with this arrival index (as in `ReplayState` and `Received`).
    pub fn response(&self, index: usize) -> Option<&JoinSetResponse> {
        match self.steps.get(*self.response_steps.get(index)?) {
            Some(Step::Response(r)) => Some(r),
            _ => None,
        }
    }

    /// Number of responses.
    pub fn response_count(&self) -> usize {
        self.response_steps.len()
    }

    /// Number of log events.
    pub fn event_count(&self) -> usize {
        self.steps.len() - self.response_steps.len()
    }

    /// The state after the last step.
    pub fn final_state(&self) -> &ReplayState {
        &self.final_state
    }

    /// Rule violations found while folding, in step order.
    pub fn findings(&self) -> &[Finding] {
        &self.findings
    }

    /// Positions of join sets, children and delays in the states.
    pub fn lookup(&self) -> &Lookup {
        &self.lookup
    }

    /// Steps between checkpoints.
    pub fn checkpoint_interval(&self) -> usize {
        self.interval
    }

    /// Number of stored checkpoints (the initial state included).
    pub fn checkpoint_count(&self) -> usize {
        self.checkpoints.len()
    }

    /// The state after step `step` (0-based): the nearest checkpoint, folded forward.
    pub fn state_at(&self, step: usize) -> Result<ReplayState, ReplayError> {
        self.check_step(step)?;
        let target = step + 1;
        if target == self.steps.len() {
            return Ok(self.final_state.clone());
        }
        let nearest = (target / self.interval).min(self.checkpoints.len().saturating_sub(1));
        let start = self.checkpoints.get(nearest).cloned();
        let from = nearest.saturating_mul(self.interval);
        Ok(self.fold(start, from, target))
    }

    /// The state after step `step` folded from the initial state, without checkpoints: the
    /// reference [`Replay::state_at`] is tested against (slow on long logs).
    pub fn state_at_from_scratch(&self, step: usize) -> Result<ReplayState, ReplayError> {
        self.check_step(step)?;
        Ok(self.fold(None, 0, step + 1))
    }

    /// Calls `f` with every step's state in order (one fold from the start; for timelines and exports).
    pub fn for_each_state(&self, mut f: impl FnMut(&ReplayState)) {
        let mut state = ReplayState::initial(self.execution_id.clone());
        let mut sink = FindingSink::ignoring();
        let mut folder = Folder { steps: &self.steps, index: Index::Frozen(&self.lookup), findings: &mut sink };
        for i in 0..self.steps.len() {
            folder.apply(&mut state, i);
            f(&state);
        }
    }

    /// The last step at or before `at` (for following a child's timeline from its parent's).
    pub fn step_at_time(&self, at: DateTime<Utc>) -> Option<usize> {
        self.steps.iter().rposition(|s| s.at() <= at)
    }

    fn check_step(&self, step: usize) -> Result<(), ReplayError> {
        if step < self.steps.len() {
            Ok(())
        } else {
            Err(ReplayError::StepOutOfRange {
                execution_id: self.execution_id.to_string(),
                step,
                len: self.steps.len(),
            })
        }
    }

    /// Folds steps `from..to` onto `start` (the initial state when `None`).
    fn fold(&self, start: Option<ReplayState>, from: usize, to: usize) -> ReplayState {
        let mut state = start.unwrap_or_else(|| ReplayState::initial(self.execution_id.clone()));
        let mut sink = FindingSink::ignoring();
        let mut folder = Folder { steps: &self.steps, index: Index::Frozen(&self.lookup), findings: &mut sink };
        for i in from..to {
            folder.apply(&mut state, i);
        }
        state
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_logs_space_their_checkpoints_further_apart() {
        let checkpoints = |steps: usize| steps.div_ceil(interval_for(steps));
        assert_eq!(interval_for(1_000), 256);
        assert_eq!(interval_for(131_072), 256);
        assert_eq!((interval_for(266_667), checkpoints(266_667)), (520, 513));
        assert_eq!((interval_for(1_000_000), checkpoints(1_000_000)), (1024, 977));
        assert_eq!((interval_for(8_000_000), checkpoints(8_000_000)), (1954, 4095));
    }
}
