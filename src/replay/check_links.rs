//! The cross-execution half of [`super::check_database`]: what each execution's log says about
//! itself ([`Facts`]) and what its replay expects of other executions and of `t_delay`
//! ([`Expectation`]), checked against each other once every execution is replayed.
//!
//! A whole database holds hundreds of thousands of executions, so both are kept small: every
//! execution ID, join set ID and function name is stored once per worker ([`Names`]) and
//! referred to by number.

use std::collections::HashSet;
use std::hash::Hash;

use indexmap::IndexSet;
use rustc_hash::FxBuildHasher;

use super::finding::{Finding, FindingKind};
use crate::obelisk::{DelayId, ExecutionId, Ffqn, JoinSetId};

/// Values stored once, referred to by their number.
pub(super) struct Interned<T>(IndexSet<T, FxBuildHasher>);

impl<T: Hash + Eq> Default for Interned<T> {
    fn default() -> Self {
        Interned(IndexSet::default())
    }
}

impl<T: Hash + Eq> Interned<T> {
    pub(super) fn reserve(&mut self, additional: usize) {
        self.0.reserve(additional);
    }

    /// The number of `value`, stored now if it is new.
    pub(super) fn number(&mut self, value: &T) -> u32
    where
        T: Clone,
    {
        match self.0.get_index_of(value) {
            Some(i) => i as u32,
            None => self.0.insert_full(value.clone()).0 as u32,
        }
    }

    /// The number of `value`, stored now if it is new (no clone).
    pub(super) fn number_owned(&mut self, value: T) -> u32 {
        self.0.insert_full(value).0 as u32
    }

    pub(super) fn find(&self, value: &T) -> Option<u32> {
        self.0.get_index_of(value).map(|i| i as u32)
    }

    pub(super) fn get(&self, number: u32) -> &T {
        &self.0[number as usize]
    }
}

/// One worker's tables of names.
#[derive(Default)]
pub(super) struct Names {
    pub executions: Interned<ExecutionId>,
    pub join_sets: Interned<JoinSetId>,
    pub ffqns: Interned<Ffqn>,
}

/// What an execution's own log says about it (numbers in its worker's [`Names`]).
#[derive(Clone, Copy, Default)]
pub(super) struct Facts {
    /// Parent execution and join set.
    pub parent: Option<(u32, u32)>,
    pub ffqn: Option<u32>,
    pub scheduled_by: Option<u32>,
    pub finished_version: Option<u64>,
}

/// What an execution's replay expects of another execution or of `t_delay` (numbers in its
/// worker's [`Names`]).
pub(super) enum Expectation {
    Child { parent: u32, version: u64, step: usize, child: u32, join_set: u32, ffqn: u32 },
    Response { parent: u32, step: usize, child: u32, finished_version: u64, readable: bool },
    Scheduled { by: u32, version: u64, step: usize, id: u32 },
    Delay { owner: u32, version: u64, step: usize, id: Box<DelayId>, fired: Option<bool>, owner_finished: bool },
}

/// What one worker kept of the executions it replayed.
#[derive(Default)]
pub(super) struct Links {
    pub names: Names,
    /// Indexed by execution number; `None` for executions only named here.
    pub facts: Vec<Option<Facts>>,
    pub expectations: Vec<Expectation>,
    /// Executions deleted by retention (0.42+): their children may be gone.
    pub tombstoned: HashSet<u32, FxBuildHasher>,
}

impl Links {
    /// The number of an execution, with room for its facts.
    pub(super) fn execution(&mut self, id: &ExecutionId) -> u32 {
        let n = self.names.executions.number(id);
        self.grow(n);
        n
    }

    pub(super) fn execution_owned(&mut self, id: ExecutionId) -> u32 {
        let n = self.names.executions.number_owned(id);
        self.grow(n);
        n
    }

    fn grow(&mut self, n: u32) {
        if self.facts.len() <= n as usize {
            self.facts.resize(n as usize + 1, None);
        }
    }

    fn facts_of(&self, id: &ExecutionId) -> Option<&Facts> {
        self.facts[self.names.executions.find(id)? as usize].as_ref()
    }
}

/// Every worker's part, checked against each other at the end.
pub(super) struct AllLinks<'a>(pub Vec<&'a Links>);

impl AllLinks<'_> {
    /// What the log of `id` says, whichever worker replayed it, with that worker's names.
    fn facts(&self, id: &ExecutionId) -> Option<(&Names, &Facts)> {
        self.0.iter().find_map(|l| Some((&l.names, l.facts_of(id)?)))
    }

    fn is_tombstoned(&self, id: &ExecutionId) -> bool {
        self.0.iter().any(|l| l.names.executions.find(id).is_some_and(|n| l.tombstoned.contains(&n)))
    }

    /// Checks one worker's expectations; also gives the delays they name.
    pub(super) fn check<'l>(
        &self,
        links: &'l Links,
        pending_delays: &HashSet<DelayId>,
    ) -> (Vec<Finding>, HashSet<&'l DelayId>) {
        let names = &links.names;
        let id = |n: u32| names.executions.get(n);
        let mut known_delays: HashSet<&DelayId> = HashSet::new();
        let mut out = Vec::new();
        for e in &links.expectations {
            match *e {
                Expectation::Child { parent, version, step, child, join_set, ffqn } => {
                    let (parent, child, join_set, ffqn) =
                        (id(parent), id(child), names.join_sets.get(join_set), names.ffqns.get(ffqn));
                    match self.facts(child) {
                        None if !self.is_tombstoned(parent) => out.push(finding(
                            parent,
                            Some(version),
                            Some(step),
                            FindingKind::TreeMismatch,
                            format!("requested child {child} has no log rows"),
                        )),
                        None => {}
                        Some((their, f)) => {
                            let recorded = f.parent.map(|(p, js)| (their.executions.get(p), their.join_sets.get(js)));
                            if recorded != Some((parent, join_set)) {
                                out.push(finding(
                                    child,
                                    Some(0),
                                    Some(0),
                                    FindingKind::TreeMismatch,
                                    format!(
                                        "created with parent {:?}, but {parent} requested it in {join_set}",
                                        recorded.map(|(p, js)| format!("{p} {js}"))
                                    ),
                                ));
                            }
                            let runs = f.ffqn.map(|n| their.ffqns.get(n));
                            if runs != Some(ffqn) {
                                out.push(finding(
                                    child,
                                    Some(0),
                                    Some(0),
                                    FindingKind::TreeMismatch,
                                    format!("runs {:?}, but {parent} requested {ffqn}", runs.map(ToString::to_string)),
                                ));
                            }
                        }
                    }
                }
                Expectation::Response { parent, step, child, finished_version, readable } => {
                    let (parent, child) = (id(parent), id(child));
                    let actual = self.facts(child).and_then(|(_, f)| f.finished_version);
                    if actual != Some(finished_version) || !readable {
                        out.push(finding(parent, None, Some(step), FindingKind::TreeMismatch, format!(
                            "the response for {child} points at its version {finished_version}, but the child finished at {}",
                            actual.map_or("no version (not finished)".into(), |v| format!("version {v}"))
                        )));
                    }
                }
                Expectation::Scheduled { by, version, step, id: scheduled } => {
                    let (by, scheduled) = (id(by), id(scheduled));
                    match self.facts(scheduled) {
                        None => out.push(finding(
                            by,
                            Some(version),
                            Some(step),
                            FindingKind::TreeMismatch,
                            format!("scheduled execution {scheduled} has no log rows"),
                        )),
                        Some((their, f)) => {
                            let recorded = f.scheduled_by.map(|n| their.executions.get(n));
                            if recorded != Some(by) {
                                out.push(finding(
                                    scheduled,
                                    Some(0),
                                    Some(0),
                                    FindingKind::TreeMismatch,
                                    format!(
                                        "scheduled by {by} (version {version}), but its created says scheduled_by {:?}",
                                        recorded.map(ToString::to_string)
                                    ),
                                ))
                            }
                        }
                    }
                }
                Expectation::Delay { owner, version, step, id: ref delay, fired, owner_finished } => {
                    known_delays.insert(delay);
                    let pending = pending_delays.contains(delay);
                    let problem = match (fired, pending) {
                        (Some(_), true) => Some("has a response but is still in t_delay"),
                        (None, false) if !owner_finished => Some("has no response yet but is not in t_delay"),
                        _ => None,
                    };
                    if let Some(problem) = problem {
                        out.push(finding(
                            id(owner),
                            Some(version),
                            Some(step),
                            FindingKind::DelayTableMismatch,
                            format!("delay {delay} {problem}"),
                        ));
                    }
                }
            }
        }
        (out, known_delays)
    }
}

pub(super) fn finding(
    id: &ExecutionId,
    version: Option<u64>,
    step: Option<usize>,
    kind: FindingKind,
    message: String,
) -> Finding {
    Finding { execution_id: id.clone(), version, step, kind, message }
}
