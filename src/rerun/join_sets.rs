//! The workflow's join sets as the re-execution sees them: the names Obelisk derives for them
//! (spec §2.3: `o:<n>-<fn>`, `g:<n>`, `n:<name>`), the IDs of their requests, and how many of
//! those were awaited, so a close knows what is left.

use crate::obelisk::{DelayId, ExecutionId, Ffqn, JoinSetId, JoinSetKind};

/// A request added to a join set.
#[derive(Debug, Clone, PartialEq)]
pub enum Member {
    Child { id: ExecutionId, ffqn: Ffqn },
    Delay { id: DelayId },
}

impl Member {
    /// The child execution or delay ID, as text.
    pub fn id_text(&self) -> String {
        match self {
            Member::Child { id, .. } => id.to_string(),
            Member::Delay { id } => id.to_string(),
        }
    }
}

/// One join set of the execution.
#[derive(Debug, Clone)]
pub struct JoinSet {
    pub id: JoinSetId,
    pub members: Vec<Member>,
    /// Responses consumed (join-next, closing join-next, join-next-try that found one).
    pub awaited: usize,
    pub closed: bool,
}

impl JoinSet {
    /// Requests whose responses were not consumed yet, in request order.
    pub fn unawaited(&self) -> &[Member] {
        &self.members[self.awaited.min(self.members.len())..]
    }
}

/// Every join set of one execution, in creation order, and the counters that name new ones.
#[derive(Debug, Default)]
pub struct JoinSets {
    sets: Vec<JoinSet>,
    one_off: u64,
    generated: u64,
}

impl JoinSets {
    /// The ID of the next one-off set for a direct call of `function` (or `sleep`).
    pub fn next_one_off(&self, function: &str) -> JoinSetId {
        id(&format!("o:{}-{function}", self.one_off + 1))
    }

    /// The ID of the next generated set (`join-set-create`).
    pub fn next_generated(&self) -> JoinSetId {
        id(&format!("g:{}", self.generated + 1))
    }

    /// Opens a set (after its `JoinSetCreate` was matched or is about to be appended).
    pub fn open(&mut self, join_set_id: JoinSetId) -> usize {
        match join_set_id.kind() {
            JoinSetKind::OneOff => self.one_off += 1,
            JoinSetKind::Generated => self.generated += 1,
            _ => {}
        }
        self.sets.push(JoinSet { id: join_set_id, members: Vec::new(), awaited: 0, closed: false });
        self.sets.len() - 1
    }

    /// True when a set with this ID was created (named sets must be unique).
    pub fn exists(&self, join_set_id: &JoinSetId) -> bool {
        self.sets.iter().any(|s| &s.id == join_set_id)
    }

    pub fn get(&self, index: usize) -> &JoinSet {
        &self.sets[index]
    }

    pub fn get_mut(&mut self, index: usize) -> &mut JoinSet {
        &mut self.sets[index]
    }

    /// Sets not closed yet, in creation order.
    pub fn open_sets(&self) -> impl Iterator<Item = usize> + '_ {
        self.sets.iter().enumerate().filter(|(_, s)| !s.closed).map(|(i, _)| i)
    }

    /// The ID of the next child in set `index`: `<parent>.<join set>_<n>`, n = 1 + prior children.
    pub fn next_child_id(&self, parent: &ExecutionId, index: usize) -> ExecutionId {
        let set = &self.sets[index];
        let n = set.members.iter().filter(|m| matches!(m, Member::Child { .. })).count() as u64 + 1;
        parent.child(set.id.clone(), n)
    }

    /// The ID of the next delay in set `index`: `Delay_<parent path>.<join set>_<n>`, n = 1 +
    /// prior delays (0.41 numbering; 0.38 counted from 0).
    pub fn next_delay_id(&self, parent: &ExecutionId, index: usize) -> DelayId {
        let set = &self.sets[index];
        let n = set.members.iter().filter(|m| matches!(m, Member::Delay { .. })).count() + 1;
        let path = parent.to_string();
        let path = path.strip_prefix(ExecutionId::PREFIX).unwrap_or(&path);
        let text = format!("{}{path}.{}_{n}", DelayId::PREFIX, set.id);
        text.parse().unwrap_or_else(|e| unreachable!("{text} is built from valid parts: {e}"))
    }
}

fn id(text: &str) -> JoinSetId {
    text.parse().unwrap_or_else(|e| unreachable!("{text} is built from valid parts: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_follow_the_0_41_5_demo() {
        let parent: ExecutionId = "E_01M86G6PE09WW43FVD6HR4HBJJ".parse().unwrap_or_else(|e| panic!("{e}"));
        let mut sets = JoinSets::default();
        assert_eq!(sets.next_one_off("add").to_string(), "o:1-add");
        let first = sets.open(sets.next_one_off("add"));
        assert_eq!(sets.next_one_off("add").to_string(), "o:2-add");
        assert_eq!(sets.next_child_id(&parent, first).to_string(), "E_01M86G6PE09WW43FVD6HR4HBJJ.o:1-add_1");
        let g = sets.open(sets.next_generated());
        assert_eq!(sets.get(g).id.to_string(), "g:1");
        assert_eq!(sets.next_delay_id(&parent, g).to_string(), "Delay_01M86G6PE09WW43FVD6HR4HBJJ.g:1_1");
        let child: ExecutionId = "E_01M86G6PG1GTX1709RQEGGSBH3.o:1-serial_1".parse().unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(sets.next_delay_id(&child, g).to_string(), "Delay_01M86G6PG1GTX1709RQEGGSBH3.o:1-serial_1.g:1_1");
    }
}
