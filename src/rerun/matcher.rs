//! The matcher: compares the keys of each host call with the first unprocessed history event
//! (spec §3.1.3), hands out join-set responses in arrival order (§3.1.4), and says why the
//! re-execution stops when the log and the code part (§3.1.6).

use serde::Serialize;

use super::join_sets::JoinSets;
use super::keys::Key;
use crate::obelisk::{ExecutionId, HistoryEvent, JoinSetId, JoinSetResponse, ResponseKind, RetVal};

/// A recorded history event with its version.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Recorded {
    pub version: u64,
    pub event: HistoryEvent,
}

/// Why the guest was stopped by the host (not by a trap of its own).
#[derive(Debug, Clone, PartialEq)]
pub enum Stop {
    /// The log ends before these keys: the workflow would append them now.
    Pending { would_append: Vec<Key> },
    /// A `JoinNext` is recorded, its response has not arrived.
    Blocked { version: u64, join_set_id: JoinSetId, closing: bool, waiting_for: Vec<String> },
    /// The code produced `produced` where the log holds `recorded`.
    Nondeterministic { recorded: Box<Recorded>, produced: Box<Key> },
    /// The code or the log asks for something the host cannot give (named in words).
    Unsupported(String),
    /// The user cancelled.
    Cancelled,
}

/// One response to a join set, and whether the guest consumed it.
#[derive(Debug, Clone)]
struct Arrival {
    response: JoinSetResponse,
    consumed: bool,
}

/// The state of one re-execution's comparison with its log.
#[derive(Debug)]
pub struct Matcher {
    pub execution_id: ExecutionId,
    history: Vec<Recorded>,
    next: usize,
    arrivals: Vec<Arrival>,
    pub join_sets: JoinSets,
}

impl Matcher {
    /// `history` in version order, `responses` in arrival order.
    pub fn new(execution_id: ExecutionId, history: Vec<Recorded>, responses: Vec<JoinSetResponse>) -> Matcher {
        let arrivals = responses.into_iter().map(|response| Arrival { response, consumed: false }).collect();
        Matcher { execution_id, history, next: 0, arrivals, join_sets: JoinSets::default() }
    }

    /// Matches `keys` in order against the log; returns their versions. The first key the log
    /// does not have stops with [`Stop::Pending`] (this key and the rest would be appended), the
    /// first that differs with [`Stop::Nondeterministic`].
    pub fn expect(&mut self, keys: Vec<Key>) -> Result<Vec<u64>, Stop> {
        let mut versions = Vec::with_capacity(keys.len());
        let mut keys = keys.into_iter();
        while let Some(key) = keys.next() {
            let Some(recorded) = self.history.get(self.next) else {
                return Err(Stop::Pending { would_append: std::iter::once(key).chain(keys).collect() });
            };
            if !key.matches(&recorded.event) {
                return Err(Stop::Nondeterministic { recorded: Box::new(recorded.clone()), produced: Box::new(key) });
            }
            versions.push(recorded.version);
            self.next += 1;
        }
        Ok(versions)
    }

    /// The event the last `expect` matched.
    pub fn last_matched(&self) -> Option<&Recorded> {
        self.next.checked_sub(1).and_then(|i| self.history.get(i))
    }

    /// Consumes the next response of `join_set_id` in arrival order.
    pub fn take_response(&mut self, join_set_id: &JoinSetId) -> Option<ResponseKind> {
        let arrival = self.arrivals.iter_mut().find(|a| !a.consumed && &a.response.join_set_id == join_set_id)?;
        arrival.consumed = true;
        Some(arrival.response.kind.clone())
    }

    /// The result of a child whose response the guest already consumed (`get-result-json`).
    pub fn processed_child(&self, id: &ExecutionId) -> Option<Option<&RetVal>> {
        self.arrivals.iter().filter(|a| a.consumed).find_map(|a| match &a.response.kind {
            ResponseKind::ChildExecutionFinished { child_execution_id, result, .. } if child_execution_id == id => {
                Some(result.as_ref())
            }
            _ => None,
        })
    }

    /// The recorded event at `version`.
    pub fn recorded_at(&self, version: u64) -> Option<&Recorded> {
        self.history.binary_search_by_key(&version, |r| r.version).ok().map(|i| &self.history[i])
    }

    /// The recorded result of child `id` if its response is in the database (consumed or not).
    pub fn child_result(&self, id: &ExecutionId) -> Option<&RetVal> {
        self.arrivals.iter().find_map(|a| match &a.response.kind {
            ResponseKind::ChildExecutionFinished { child_execution_id, result, .. } if child_execution_id == id => {
                result.as_ref()
            }
            _ => None,
        })
    }

    /// The first history event the code has not produced.
    pub fn first_unprocessed(&self) -> Option<&Recorded> {
        self.history.get(self.next)
    }

    /// Events matched so far and events in the log.
    pub fn progress(&self) -> (usize, usize) {
        (self.next, self.history.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn recorded(version: u64, json: &str) -> Recorded {
        Recorded { version, event: serde_json::from_str(json).unwrap_or_else(|e| panic!("{json}: {e}")) }
    }

    fn js(s: &str) -> JoinSetId {
        s.parse().unwrap_or_else(|e| panic!("{e}"))
    }

    #[test]
    fn stops_pending_at_the_end_of_the_log_and_nondeterministic_on_a_difference() {
        let id: ExecutionId = "E_01M86G6XPHN1SMYRMJX3CK1RDJ".parse().unwrap_or_else(|e| panic!("{e}"));
        let history = vec![
            recorded(2, r#"{"type":"join_set_create","join_set_id":"o:1-approve"}"#),
            recorded(3, r#"{"type":"join_set_create","join_set_id":"o:2-approve"}"#),
        ];
        let mut m = Matcher::new(id, history, Vec::new());
        let create = |s: &str| Key::JoinSetCreate { join_set_id: js(s) };
        assert_eq!(m.expect(vec![create("o:1-approve")]), Ok(vec![2]));
        let Err(Stop::Nondeterministic { recorded, produced }) = m.expect(vec![create("g:1")]) else {
            panic!("a different join set is nondeterminism")
        };
        assert_eq!((recorded.version, *produced), (3, create("g:1")));
        assert_eq!(m.progress(), (1, 2));
        assert_eq!(m.expect(vec![create("o:2-approve")]), Ok(vec![3]));
        assert_eq!(
            m.expect(vec![create("o:3-x"), create("o:4-x")]),
            Err(Stop::Pending { would_append: vec![create("o:3-x"), create("o:4-x")] })
        );
        assert!(m.take_response(&js("o:1-approve")).is_none());
    }
}
