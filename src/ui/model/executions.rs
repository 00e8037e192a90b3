//! The executions of the open database: every row once, in tree order (children under their
//! parents), and the visible view (folded children hidden, filters applied) rebuilt only when
//! the filters or the folding change.

use std::collections::HashSet;
use std::path::PathBuf;

use crate::obelisk::{ExecutionId, ExecutionSummary, StatusFilter};

/// One visible row.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ExecRow {
    /// Index into `all`.
    pub index: usize,
    /// 0 for top-level executions.
    pub depth: usize,
    /// Direct children in the database.
    pub children: usize,
}

/// The filters of the executions table.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ExecFilter {
    pub status: Option<StatusFilter>,
    pub ffqn: String,
    pub id: String,
}

impl ExecFilter {
    fn is_empty(&self) -> bool {
        self.status.is_none() && self.ffqn.is_empty() && self.id.is_empty()
    }

    fn matches(&self, e: &ExecutionSummary) -> bool {
        self.status.is_none_or(|s| s.matches(e))
            && (self.ffqn.is_empty() || e.ffqn.to_string().starts_with(self.ffqn.trim()))
            && (self.id.is_empty() || e.id.to_string().starts_with(self.id.trim()))
    }
}

pub struct ExecutionsModel {
    pub db_path: PathBuf,
    all: Vec<ExecutionSummary>,
    /// `all` indexes in tree order: newest top-level first, each followed by its descendants.
    order: Vec<usize>,
    /// Direct children of `all[i]`.
    children: Vec<usize>,
    filter: ExecFilter,
    expanded: HashSet<ExecutionId>,
    view: Vec<ExecRow>,
    pub selected: Option<ExecutionId>,
}

impl ExecutionsModel {
    pub fn new(db_path: PathBuf, all: Vec<ExecutionSummary>) -> ExecutionsModel {
        let mut order: Vec<usize> = (0..all.len()).collect();
        let keys: Vec<(String, String)> = all.iter().map(|e| (e.id.root().to_string(), e.id.to_string())).collect();
        // Newest root first; within a root, IDs ascending put each child right after its parent.
        order.sort_by(|&a, &b| keys[b].0.cmp(&keys[a].0).then_with(|| keys[a].1.cmp(&keys[b].1)));
        let position: std::collections::HashMap<&ExecutionId, usize> =
            all.iter().enumerate().map(|(i, e)| (&e.id, i)).collect();
        let mut children = vec![0; all.len()];
        for e in &all {
            if let Some(p) = e.id.parent().and_then(|p| position.get(&p).copied()) {
                children[p] += 1;
            }
        }
        let mut model = ExecutionsModel {
            db_path,
            all,
            order,
            children,
            filter: ExecFilter::default(),
            expanded: HashSet::new(),
            view: Vec::new(),
            selected: None,
        };
        model.rebuild();
        model
    }

    pub fn all(&self) -> &[ExecutionSummary] {
        &self.all
    }

    pub fn get(&self, index: usize) -> &ExecutionSummary {
        &self.all[index]
    }

    pub fn view(&self) -> &[ExecRow] {
        &self.view
    }

    pub fn filter(&self) -> &ExecFilter {
        &self.filter
    }

    pub fn set_filter(&mut self, filter: ExecFilter) {
        if filter != self.filter {
            self.filter = filter;
            self.rebuild();
        }
    }

    pub fn is_expanded(&self, id: &ExecutionId) -> bool {
        self.expanded.contains(id)
    }

    /// Show or hide the children of `id`.
    pub fn toggle(&mut self, id: &ExecutionId) {
        if !self.expanded.remove(id) {
            self.expanded.insert(id.clone());
        }
        self.rebuild();
    }

    /// Unfold every execution with children.
    pub fn expand_all(&mut self) {
        self.expanded =
            self.all.iter().zip(&self.children).filter(|(_, c)| **c > 0).map(|(e, _)| e.id.clone()).collect();
        self.rebuild();
    }

    fn rebuild(&mut self) {
        let mut view = Vec::new();
        if self.filter.is_empty() {
            // Folded: skip rows deeper than a folded ancestor.
            let mut hidden_below: Option<usize> = None;
            for &i in &self.order {
                let e = &self.all[i];
                let depth = e.id.depth();
                if hidden_below.is_some_and(|d| depth > d) {
                    continue;
                }
                hidden_below = None;
                if self.children[i] > 0 && !self.expanded.contains(&e.id) {
                    hidden_below = Some(depth);
                }
                view.push(ExecRow { index: i, depth, children: self.children[i] });
            }
        } else {
            for &i in &self.order {
                let e = &self.all[i];
                if self.filter.matches(e) {
                    view.push(ExecRow { index: i, depth: e.id.depth(), children: self.children[i] });
                }
            }
        }
        self.view = view;
    }
}
