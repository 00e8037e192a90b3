//! The tree view model: an execution with its children (to any depth) and the executions it
//! scheduled, each with its replay and its span of the parent's steps (requested → arrived →
//! received), so a UI can step into a child at a parent step and back out at the same moment.

use std::collections::{BTreeMap, HashMap, HashSet};

use chrono::{DateTime, Utc};
use serde::Serialize;

use super::engine::Replay;
use super::error::ReplayError;
use super::source::ReplaySource;
use crate::obelisk::{ExecutionId, Ffqn, JoinSetId, ObeliskError, ResultKind};

/// How a node hangs under its parent.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum TreeRelation {
    /// The execution the tree was loaded for.
    Root,
    /// A derived execution, requested in `join_set_id` of `parent`.
    Child { parent: ExecutionId, join_set_id: JoinSetId },
    /// A top-level execution created by `by`'s `schedule`.
    Scheduled { by: ExecutionId },
}

/// Where a node's life shows in its parent's steps.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ChildSpan {
    /// The parent's request (or `schedule`) step and version.
    pub requested_step: usize,
    pub requested_version: u64,
    /// The parent step at which the child's result arrived (children only).
    pub arrived_step: Option<usize>,
    /// The parent step at which the workflow received it, and the wait's version.
    pub received_step: Option<usize>,
    pub received_version: Option<u64>,
}

/// One execution of the tree.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TreeNode {
    pub id: ExecutionId,
    pub ffqn: Option<Ffqn>,
    pub relation: TreeRelation,
    /// In the parent's (or scheduler's) steps; `None` for the root and for children nothing requested.
    pub span: Option<ChildSpan>,
    pub depth: usize,
    /// This execution's own steps.
    pub steps: usize,
    pub first_at: Option<DateTime<Utc>>,
    pub last_at: Option<DateTime<Utc>>,
    /// The replayed final state's name (`finished`, `blocked_by_join_set`, …).
    pub state: Option<String>,
    pub result_kind: Option<ResultKind>,
    pub findings: usize,
    /// Requested or scheduled, but without rows here (not created yet, deleted, or not exported).
    pub missing: bool,
    pub children: Vec<TreeNode>,
}

/// A loaded tree: the view model and every node's replay.
#[derive(Debug, Clone)]
pub struct ReplayTree {
    root: TreeNode,
    replays: HashMap<ExecutionId, Replay>,
}

impl ReplayTree {
    /// Loads `root`, its derived executions (any depth) and the executions it scheduled (with
    /// theirs), replaying each once.
    pub fn load(source: &ReplaySource<'_>, root: &ExecutionId) -> Result<ReplayTree, ReplayError> {
        let mut loader = Loader { source, replays: HashMap::new(), visited: HashSet::new() };
        let replay = source.replay(root)?;
        let node = loader.node(root.clone(), replay, TreeRelation::Root, None, 0)?;
        Ok(ReplayTree { root: node, replays: loader.replays })
    }

    /// The root node.
    pub fn root(&self) -> &TreeNode {
        &self.root
    }

    /// Every node, parents before children (pre-order).
    pub fn nodes(&self) -> Vec<&TreeNode> {
        let mut out = Vec::new();
        let mut stack = vec![&self.root];
        while let Some(node) = stack.pop() {
            out.push(node);
            stack.extend(node.children.iter().rev());
        }
        out
    }

    /// The node of `id`.
    pub fn node(&self, id: &ExecutionId) -> Option<&TreeNode> {
        self.nodes().into_iter().find(|n| &n.id == id)
    }

    /// The replay of `id` (not for missing nodes).
    pub fn replay(&self, id: &ExecutionId) -> Option<&Replay> {
        self.replays.get(id)
    }

    /// The execution `id` hangs under (its parent or its scheduler).
    pub fn parent_of(&self, id: &ExecutionId) -> Option<&ExecutionId> {
        match &self.node(id)?.relation {
            TreeRelation::Root => None,
            TreeRelation::Child { parent, .. } => Some(parent),
            TreeRelation::Scheduled { by } => Some(by),
        }
    }

    /// Stepping into `child` at its parent's step `parent_step`: the child's last step at or
    /// before that moment (its first step if it had not started yet).
    pub fn step_into(&self, child: &ExecutionId, parent_step: usize) -> Option<usize> {
        let parent = self.replay(self.parent_of(child)?)?;
        let at = parent.step(parent_step)?.at();
        let replay = self.replay(child)?;
        if replay.is_empty() {
            return None;
        }
        Some(replay.step_at_time(at).unwrap_or(0))
    }

    /// Backing out of `child` at its step `child_step`: the parent's last step at or before that
    /// moment, but not before the step that requested the child.
    pub fn step_out(&self, child: &ExecutionId, child_step: usize) -> Option<usize> {
        let node = self.node(child)?;
        let parent = self.replay(self.parent_of(child)?)?;
        let at = self.replay(child)?.step(child_step)?.at();
        let floor = node.span.as_ref().map_or(0, |s| s.requested_step);
        Some(parent.step_at_time(at).unwrap_or(0).max(floor))
    }
}

struct Loader<'s, 'a> {
    source: &'s ReplaySource<'a>,
    replays: HashMap<ExecutionId, Replay>,
    visited: HashSet<ExecutionId>,
}

impl Loader<'_, '_> {
    /// A node for an execution that has rows; children and scheduled ones are loaded below it.
    fn node(
        &mut self,
        id: ExecutionId,
        replay: Replay,
        relation: TreeRelation,
        span: Option<ChildSpan>,
        depth: usize,
    ) -> Result<TreeNode, ReplayError> {
        self.visited.insert(id.clone());
        // Derived executions present in the source, grouped by parent (one query per tree root).
        let mut present: BTreeMap<ExecutionId, Vec<ExecutionId>> = BTreeMap::new();
        if id.is_top_level() {
            for d in self.source.descendants(&id)? {
                if let Some(p) = d.parent() {
                    present.entry(p).or_default().push(d);
                }
            }
        }
        let node = self.subtree(&id, replay, relation, span, depth, &present)?;
        Ok(node)
    }

    fn subtree(
        &mut self,
        id: &ExecutionId,
        replay: Replay,
        relation: TreeRelation,
        span: Option<ChildSpan>,
        depth: usize,
        present: &BTreeMap<ExecutionId, Vec<ExecutionId>>,
    ) -> Result<TreeNode, ReplayError> {
        self.visited.insert(id.clone());
        let state = replay.final_state();
        let mut node = TreeNode {
            id: id.clone(),
            ffqn: state.ffqn.clone(),
            relation,
            span,
            depth,
            steps: replay.len(),
            first_at: replay.steps().first().map(|s| s.at()),
            last_at: replay.steps().last().map(|s| s.at()),
            state: state.pending.as_ref().map(|s| s.name().to_owned()),
            result_kind: state.result_kind.clone(),
            findings: replay.findings().len(),
            missing: false,
            children: Vec::new(),
        };
        let mut requested: Vec<(ExecutionId, TreeRelation, ChildSpan)> = Vec::new();
        for c in state.children.iter().filter(|c| c.request_error.is_none()) {
            let relation = TreeRelation::Child { parent: id.clone(), join_set_id: c.join_set_id.clone() };
            let span = ChildSpan {
                requested_step: c.requested_step,
                requested_version: c.requested_version,
                arrived_step: c.arrived_step,
                received_step: c.consumed_step,
                received_version: c.consumed_version,
            };
            requested.push((c.id.clone(), relation, span));
        }
        let scheduled: Vec<(ExecutionId, ChildSpan)> = state
            .scheduled
            .iter()
            .filter(|s| s.error.is_none())
            .map(|s| {
                let span = ChildSpan {
                    requested_step: s.step,
                    requested_version: s.version,
                    arrived_step: None,
                    received_step: None,
                    received_version: None,
                };
                (s.execution_id.clone(), span)
            })
            .collect();
        self.replays.insert(id.clone(), replay);

        let mut seen: HashSet<ExecutionId> = HashSet::new();
        for (child, relation, span) in requested {
            seen.insert(child.clone());
            node.children.push(self.derived(child, relation, Some(span), depth + 1, present)?);
        }
        for child in present.get(id).into_iter().flatten().filter(|c| !seen.contains(*c)) {
            let Some((parent, join_set_id, _)) = child.split_to_parts() else { continue };
            let relation = TreeRelation::Child { parent, join_set_id: join_set_id.clone() };
            node.children.push(self.derived(child.clone(), relation, None, depth + 1, present)?);
        }
        for (target, span) in scheduled {
            if self.visited.contains(&target) {
                continue;
            }
            let relation = TreeRelation::Scheduled { by: id.clone() };
            node.children.push(match self.load(&target)? {
                Some(replay) => self.node(target, replay, relation, Some(span), depth + 1)?,
                None => missing(target, relation, Some(span), depth + 1),
            });
        }
        Ok(node)
    }

    fn derived(
        &mut self,
        id: ExecutionId,
        relation: TreeRelation,
        span: Option<ChildSpan>,
        depth: usize,
        present: &BTreeMap<ExecutionId, Vec<ExecutionId>>,
    ) -> Result<TreeNode, ReplayError> {
        if self.visited.contains(&id) {
            return Ok(missing(id, relation, span, depth));
        }
        match self.load(&id)? {
            Some(replay) => self.subtree(&id, replay, relation, span, depth, present),
            None => Ok(missing(id, relation, span, depth)),
        }
    }

    /// The replay of `id`, or `None` when the source has no rows for it.
    fn load(&self, id: &ExecutionId) -> Result<Option<Replay>, ReplayError> {
        match self.source.replay(id) {
            Ok(r) => Ok(Some(r)),
            Err(ReplayError::Obelisk(ObeliskError::ExecutionNotFound { .. }) | ReplayError::NotInExport { .. }) => {
                Ok(None)
            }
            Err(e) => Err(e),
        }
    }
}

fn missing(id: ExecutionId, relation: TreeRelation, span: Option<ChildSpan>, depth: usize) -> TreeNode {
    TreeNode {
        id,
        ffqn: None,
        relation,
        span,
        depth,
        steps: 0,
        first_at: None,
        last_at: None,
        state: None,
        result_kind: None,
        findings: 0,
        missing: true,
        children: Vec::new(),
    }
}
