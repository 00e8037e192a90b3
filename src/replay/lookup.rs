//! ID → position lookups for join sets, children and delays, kept outside the state so that
//! cloning a state (checkpoints, random jumps) does not clone hash maps.
//!
//! Positions are creation order, identical on every fold of the same steps: the first fold
//! records them; a refold from a checkpoint reads the finished lookup and accepts a position only
//! when it is below the current state's length (the entity already exists at that step).

use std::collections::HashMap;

use crate::obelisk::{DelayId, ExecutionId, JoinSetId};

/// Positions of an execution's join sets, children and delays in its states.
#[derive(Debug, Clone, Default)]
pub struct Lookup {
    join_sets: HashMap<JoinSetId, usize>,
    children: HashMap<ExecutionId, usize>,
    delays: HashMap<DelayId, usize>,
}

/// A lookup being built (first fold) or read (refold).
pub(crate) enum Index<'a> {
    Building(&'a mut Lookup),
    Frozen(&'a Lookup),
}

impl Index<'_> {
    fn lookup(&self) -> &Lookup {
        match self {
            Index::Building(l) => l,
            Index::Frozen(l) => l,
        }
    }

    /// The join set's position if it exists among the first `len`.
    pub(crate) fn join_set(&self, id: &JoinSetId, len: usize) -> Option<usize> {
        self.lookup().join_sets.get(id).copied().filter(|&i| i < len)
    }

    /// The child's position if it exists among the first `len`.
    pub(crate) fn child(&self, id: &ExecutionId, len: usize) -> Option<usize> {
        self.lookup().children.get(id).copied().filter(|&i| i < len)
    }

    /// The delay's position if it exists among the first `len`.
    pub(crate) fn delay(&self, id: &DelayId, len: usize) -> Option<usize> {
        self.lookup().delays.get(id).copied().filter(|&i| i < len)
    }

    pub(crate) fn record_join_set(&mut self, id: &JoinSetId, position: usize) {
        if let Index::Building(l) = self {
            l.join_sets.entry(id.clone()).or_insert(position);
        }
    }

    pub(crate) fn record_child(&mut self, id: &ExecutionId, position: usize) {
        if let Index::Building(l) = self {
            l.children.entry(id.clone()).or_insert(position);
        }
    }

    pub(crate) fn record_delay(&mut self, id: &DelayId, position: usize) {
        if let Index::Building(l) = self {
            l.delays.entry(id.clone()).or_insert(position);
        }
    }
}

impl Lookup {
    /// The position of a join set (in the final state).
    pub fn join_set(&self, id: &JoinSetId) -> Option<usize> {
        self.join_sets.get(id).copied()
    }

    /// The position of a child (in the final state).
    pub fn child(&self, id: &ExecutionId) -> Option<usize> {
        self.children.get(id).copied()
    }

    /// The position of a delay (in the final state).
    pub fn delay(&self, id: &DelayId) -> Option<usize> {
        self.delays.get(id).copied()
    }
}
