//! Time travel through one execution tree: the breadcrumb of executions stepped into (each with
//! its cursor), the step filter and its matching steps, and the replayed state at the cursor
//! (computed once per cursor move from the nearest checkpoint).

use std::sync::Arc;

use chrono::{DateTime, Utc};

use crate::obelisk::{AppLogEntry, ExecutionId};
use crate::replay::{Replay, ReplayState, Step, TreeNode};
use crate::ui::tasks::LoadedTree;
use crate::ui::theme::StepColor;

/// One row of the event table (built on the worker thread when the tree loads).
#[derive(Debug, Clone)]
pub struct StepRow {
    pub at: DateTime<Utc>,
    pub version: Option<u64>,
    pub kind: String,
    pub detail: String,
    pub color: StepColor,
    /// Lowercased `kind detail`, for the filter.
    search: String,
}

impl StepRow {
    /// Rows of every step of `replay`.
    pub fn build(replay: &Replay) -> Vec<StepRow> {
        replay
            .steps()
            .iter()
            .map(|s: &Step| {
                let kind = s.kind();
                let detail = s.detail();
                let search = format!("{kind} {detail}").to_lowercase();
                StepRow { at: s.at(), version: s.version(), color: StepColor::of_kind(&kind), kind, detail, search }
            })
            .collect()
    }
}

/// An execution on the breadcrumb and where its cursor is.
#[derive(Debug, Clone, PartialEq)]
pub struct Cursor {
    pub id: ExecutionId,
    pub step: usize,
}

pub struct TimeTravel {
    pub loaded: LoadedTree,
    /// Root first; the last is the execution shown.
    stack: Vec<Cursor>,
    filter: String,
    /// Steps of the current execution matching the filter (all when empty).
    view: Vec<usize>,
    state: Option<(ExecutionId, usize, Arc<ReplayState>)>,
    /// Set when the cursor moved, so the table scrolls to it once.
    pub scroll_to_cursor: bool,
}

impl TimeTravel {
    /// Opens the tree at its root's first step.
    pub fn new(loaded: LoadedTree) -> TimeTravel {
        let root = loaded.tree.root().id.clone();
        let mut tt = TimeTravel {
            loaded,
            stack: vec![Cursor { id: root, step: 0 }],
            filter: String::new(),
            view: Vec::new(),
            state: None,
            scroll_to_cursor: true,
        };
        tt.rebuild_view();
        tt
    }

    pub fn stack(&self) -> &[Cursor] {
        &self.stack
    }

    pub fn current(&self) -> &Cursor {
        self.stack.last().expect("the stack always holds the root")
    }

    pub fn replay(&self) -> Option<&Replay> {
        self.loaded.tree.replay(&self.current().id)
    }

    pub fn node(&self) -> Option<&TreeNode> {
        self.loaded.tree.node(&self.current().id)
    }

    pub fn rows(&self) -> Arc<Vec<StepRow>> {
        self.loaded.rows.get(&self.current().id).cloned().unwrap_or_default()
    }

    pub fn logs(&self) -> &[AppLogEntry] {
        self.loaded.logs.get(&self.current().id).map(Vec::as_slice).unwrap_or_default()
    }

    pub fn len(&self) -> usize {
        self.replay().map_or(0, Replay::len)
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Visible steps (matching the filter).
    pub fn view(&self) -> &[usize] {
        &self.view
    }

    pub fn filter(&self) -> &str {
        &self.filter
    }

    pub fn set_filter(&mut self, filter: &str) {
        if filter != self.filter {
            self.filter = filter.to_owned();
            self.rebuild_view();
        }
    }

    fn rebuild_view(&mut self) {
        let needle = self.filter.to_lowercase();
        let rows = self.rows();
        self.view = (0..rows.len()).filter(|&i| needle.is_empty() || rows[i].search.contains(&needle)).collect();
    }

    /// Move the cursor to `step` (clamped).
    pub fn set_step(&mut self, step: usize) {
        let len = self.len();
        if len == 0 {
            return;
        }
        let step = step.min(len - 1);
        if let Some(top) = self.stack.last_mut()
            && top.step != step
        {
            top.step = step;
            self.scroll_to_cursor = true;
        }
    }

    /// Move by `delta` visible steps (from the cursor's place among them).
    pub fn step_by(&mut self, delta: isize) {
        if self.view.is_empty() {
            return;
        }
        let step = self.current().step;
        let pos = match self.view.binary_search(&step) {
            Ok(p) => p as isize + delta,
            // Between visible steps: the first move lands on the neighbour in that direction.
            Err(p) => {
                if delta > 0 {
                    p as isize + delta - 1
                } else {
                    p as isize + delta
                }
            }
        };
        let pos = pos.clamp(0, self.view.len() as isize - 1) as usize;
        self.set_step(self.view[pos]);
    }

    pub fn step_first(&mut self) {
        if let Some(&s) = self.view.first() {
            self.set_step(s);
        }
    }

    pub fn step_last(&mut self) {
        if let Some(&s) = self.view.last() {
            self.set_step(s);
        }
    }

    /// Step into `child` (a child or scheduled execution of the current one) at the same moment.
    pub fn step_into(&mut self, child: &ExecutionId) -> Result<(), String> {
        let tree = &self.loaded.tree;
        if tree.parent_of(child) != Some(&self.current().id) {
            return Err(format!("{child} is not a child of {}", self.current().id));
        }
        let Some(step) = tree.step_into(child, self.current().step) else {
            return Err(format!("{child} has no rows in this database"));
        };
        self.stack.push(Cursor { id: child.clone(), step });
        self.after_switch();
        Ok(())
    }

    /// Back to the parent, at the moment of the child's cursor.
    pub fn step_out(&mut self) -> bool {
        if self.stack.len() < 2 {
            return false;
        }
        let child = self.stack.pop().expect("two entries");
        if let Some(step) = self.loaded.tree.step_out(&child.id, child.step)
            && let Some(top) = self.stack.last_mut()
        {
            top.step = step;
        }
        self.after_switch();
        true
    }

    /// Step out until `depth + 1` executions are left on the breadcrumb.
    pub fn step_out_to(&mut self, depth: usize) {
        while self.stack.len() > depth + 1 && self.step_out() {}
    }

    fn after_switch(&mut self) {
        self.scroll_to_cursor = true;
        self.rebuild_view();
    }

    /// The replayed state after the cursor's step (cached until the cursor moves).
    pub fn state(&mut self) -> Option<Arc<ReplayState>> {
        let Cursor { id, step } = self.current().clone();
        if let Some((sid, sstep, state)) = &self.state
            && *sid == id
            && *sstep == step
        {
            return Some(state.clone());
        }
        let state = Arc::new(self.replay()?.state_at(step).ok()?);
        self.state = Some((id, step, state.clone()));
        Some(state)
    }

    /// The child whose request, result or receipt is the cursor's step (what Enter steps into).
    pub fn child_at_cursor(&self) -> Option<ExecutionId> {
        let step = self.current().step;
        let node = self.node()?;
        let at = |c: &&TreeNode| {
            c.span.as_ref().is_some_and(|s| {
                s.requested_step == step || s.arrived_step == Some(step) || s.received_step == Some(step)
            })
        };
        node.children.iter().filter(|c| !c.missing).find(at).map(|c| c.id.clone())
    }
}
