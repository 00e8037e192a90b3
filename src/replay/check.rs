//! Whole-database mode: replay every execution, compare each final state with `t_state`, and
//! check what executions say about each other (children, scheduled executions, responses,
//! `t_delay`). Rows are read in ranges of whole executions on this thread while another thread
//! folds the previous range.

use std::collections::{HashMap, HashSet};
use std::sync::mpsc::sync_channel;
use std::time::Instant;

use serde::Serialize;

use super::compare::compare_with_t_state;
use super::engine::Replay;
use super::error::ReplayError;
use super::finding::{Finding, FindingKind};
use super::step::Step;
use crate::obelisk::{
    DelayId, Event, ExecutionId, ExecutionRows, ExecutionSummary, Ffqn, JoinSetId, ObeliskDb, ResponseKind,
};

/// Log rows read per range query.
const ROWS_PER_RANGE: u64 = 50_000;

/// The outcome of replaying a whole database.
#[derive(Debug, Clone, Serialize)]
pub struct CheckReport {
    pub database: String,
    pub schema_version: Option<u32>,
    /// Executions replayed (with log rows).
    pub executions: usize,
    pub events: usize,
    pub responses: usize,
    /// Every finding: replay-rule violations, differences with `t_state`, cross-execution ones.
    pub findings: Vec<Finding>,
    pub elapsed_ms: u64,
}

impl CheckReport {
    /// Findings per kind, most frequent first.
    pub fn counts(&self) -> Vec<(FindingKind, usize)> {
        let mut counts: HashMap<FindingKind, usize> = HashMap::new();
        for f in &self.findings {
            *counts.entry(f.kind).or_default() += 1;
        }
        let mut out: Vec<_> = counts.into_iter().collect();
        out.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
        out
    }
}

/// Replays every execution of `db` and compares it with `t_state` and with the others.
pub fn check_database(db: &ObeliskDb) -> Result<CheckReport, ReplayError> {
    let started = Instant::now();
    let summaries: HashMap<ExecutionId, ExecutionSummary> =
        db.list_executions(&Default::default())?.into_iter().map(|s| (s.id.clone(), s)).collect();
    let pending_delays: HashSet<DelayId> = db.pending_delays(None)?.into_iter().map(|d| d.delay_id).collect();
    let ranges = db.execution_ranges(ROWS_PER_RANGE)?;
    let checked = std::thread::scope(|scope| -> Result<Checker, ReplayError> {
        let (tx, rx) = sync_channel::<Vec<ExecutionRows>>(1);
        let worker = scope.spawn(move || {
            let mut checker = Checker::new(summaries);
            for batch in rx {
                for rows in batch {
                    checker.add(rows);
                }
            }
            checker
        });
        let mut failed = None;
        for range in &ranges {
            match db.load_range(range) {
                Ok(batch) => {
                    if tx.send(batch).is_err() {
                        break;
                    }
                }
                Err(e) => {
                    failed = Some(e);
                    break;
                }
            }
        }
        drop(tx);
        let checker = worker.join().unwrap_or_else(|panic| std::panic::resume_unwind(panic));
        match failed {
            Some(e) => Err(e.into()),
            None => Ok(checker),
        }
    })?;
    let mut report = CheckReport {
        database: db.path().display().to_string(),
        schema_version: db.schema().version,
        executions: checked.executions,
        events: checked.events,
        responses: checked.responses,
        findings: Vec::new(),
        elapsed_ms: 0,
    };
    report.findings = checked.finish(&pending_delays);
    report.elapsed_ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
    Ok(report)
}

/// What an execution's own log says about it, for the cross-execution checks.
struct Facts {
    parent: Option<(ExecutionId, JoinSetId)>,
    ffqn: Option<Ffqn>,
    scheduled_by: Option<ExecutionId>,
    finished_version: Option<u64>,
}

/// What an execution's replay expects of another execution or of `t_delay`.
enum Expectation {
    Child { parent: ExecutionId, version: u64, step: usize, child: ExecutionId, join_set: JoinSetId, ffqn: Ffqn },
    Response { parent: ExecutionId, step: usize, child: ExecutionId, finished_version: u64, readable: bool },
    Scheduled { by: ExecutionId, version: u64, step: usize, id: ExecutionId },
    Delay { owner: ExecutionId, version: u64, step: usize, id: DelayId, fired: Option<bool>, owner_finished: bool },
}

/// Folds executions one by one, keeping only what the final checks need.
struct Checker {
    summaries: HashMap<ExecutionId, ExecutionSummary>,
    /// Executions deleted by retention (0.42+): their children may be gone.
    tombstoned: HashSet<ExecutionId>,
    facts: HashMap<ExecutionId, Facts>,
    expectations: Vec<Expectation>,
    findings: Vec<Finding>,
    executions: usize,
    events: usize,
    responses: usize,
}

impl Checker {
    fn new(summaries: HashMap<ExecutionId, ExecutionSummary>) -> Checker {
        let tombstoned = summaries.values().filter(|s| s.tombstoned).map(|s| s.id.clone()).collect();
        Checker {
            summaries,
            tombstoned,
            facts: HashMap::new(),
            expectations: Vec::new(),
            findings: Vec::new(),
            executions: 0,
            events: 0,
            responses: 0,
        }
    }

    fn add(&mut self, rows: ExecutionRows) {
        let id = rows.id.clone();
        let facts = facts_of(&rows);
        let replay = Replay::without_checkpoints(rows.id, rows.log, rows.responses);
        self.executions += 1;
        self.events += replay.event_count();
        self.responses += replay.response_count();
        self.findings.extend(replay.findings().iter().cloned());
        match self.summaries.remove(&id) {
            Some(summary) => self.findings.extend(compare_with_t_state(replay.final_state(), &summary)),
            None => self.findings.push(Finding {
                execution_id: id.clone(),
                version: None,
                step: None,
                kind: FindingKind::StateMismatch,
                message: "log rows without a t_state row".into(),
            }),
        }
        self.expect(&replay);
        self.facts.insert(id, facts);
    }

    /// Records what `replay` says about other executions and timers.
    fn expect(&mut self, replay: &Replay) {
        let state = replay.final_state();
        let me = replay.execution_id();
        for child in state.children.iter().filter(|c| c.request_error.is_none()) {
            self.expectations.push(Expectation::Child {
                parent: me.clone(),
                version: child.requested_version,
                step: child.requested_step,
                child: child.id.clone(),
                join_set: child.join_set_id.clone(),
                ffqn: child.ffqn.clone(),
            });
        }
        for (step, s) in replay.steps().iter().enumerate() {
            if let Step::Response(r) = s
                && let ResponseKind::ChildExecutionFinished { child_execution_id, finished_version, result } = &r.kind
            {
                self.expectations.push(Expectation::Response {
                    parent: me.clone(),
                    step,
                    child: child_execution_id.clone(),
                    finished_version: *finished_version,
                    readable: result.is_some(),
                });
            }
        }
        for s in state.scheduled.iter().filter(|s| s.error.is_none()) {
            self.expectations.push(Expectation::Scheduled {
                by: me.clone(),
                version: s.version,
                step: s.step,
                id: s.execution_id.clone(),
            });
        }
        for d in state.delays.iter() {
            self.expectations.push(Expectation::Delay {
                owner: me.clone(),
                version: d.requested_version,
                step: d.requested_step,
                id: d.id.clone(),
                fired: d.fired,
                owner_finished: state.is_finished(),
            });
        }
    }

    /// The cross-execution findings, then everything sorted by execution and step.
    fn finish(mut self, pending_delays: &HashSet<DelayId>) -> Vec<Finding> {
        let leftover: Vec<ExecutionId> = self.summaries.keys().cloned().collect();
        for id in leftover {
            self.findings.push(finding(&id, None, None, FindingKind::StateMismatch, "a t_state row without any log row".into()));
        }
        let mut known_delays: HashSet<&DelayId> = HashSet::new();
        let mut out = Vec::new();
        for e in &self.expectations {
            match e {
                Expectation::Child { parent, version, step, child, join_set, ffqn } => match self.facts.get(child) {
                    None if !self.tombstoned.contains(parent) => out.push(finding(
                        parent,
                        Some(*version),
                        Some(*step),
                        FindingKind::TreeMismatch,
                        format!("requested child {child} has no log rows"),
                    )),
                    None => {}
                    Some(f) => {
                        let expected = Some((parent.clone(), join_set.clone()));
                        if f.parent != expected {
                            out.push(finding(child, Some(0), Some(0), FindingKind::TreeMismatch, format!(
                                "created with parent {:?}, but {parent} requested it in {join_set}",
                                f.parent.as_ref().map(|(p, js)| format!("{p} {js}"))
                            )));
                        }
                        if f.ffqn.as_ref() != Some(ffqn) {
                            out.push(finding(child, Some(0), Some(0), FindingKind::TreeMismatch, format!(
                                "runs {:?}, but {parent} requested {ffqn}",
                                f.ffqn.as_ref().map(ToString::to_string)
                            )));
                        }
                    }
                },
                Expectation::Response { parent, step, child, finished_version, readable } => {
                    let actual = self.facts.get(child).and_then(|f| f.finished_version);
                    if actual != Some(*finished_version) || !readable {
                        out.push(finding(parent, None, Some(*step), FindingKind::TreeMismatch, format!(
                            "the response for {child} points at its version {finished_version}, but the child finished at {}",
                            actual.map_or("no version (not finished)".into(), |v| format!("version {v}"))
                        )));
                    }
                }
                Expectation::Scheduled { by, version, step, id } => match self.facts.get(id) {
                    None => out.push(finding(by, Some(*version), Some(*step), FindingKind::TreeMismatch, format!(
                        "scheduled execution {id} has no log rows"
                    ))),
                    Some(f) if f.scheduled_by.as_ref() != Some(by) => out.push(finding(id, Some(0), Some(0), FindingKind::TreeMismatch, format!(
                        "scheduled by {by} (version {version}), but its created says scheduled_by {:?}",
                        f.scheduled_by.as_ref().map(ToString::to_string)
                    ))),
                    Some(_) => {}
                },
                Expectation::Delay { owner, version, step, id, fired, owner_finished } => {
                    known_delays.insert(id);
                    let pending = pending_delays.contains(id);
                    let problem = match (fired, pending) {
                        (Some(_), true) => Some("has a response but is still in t_delay"),
                        (None, false) if !owner_finished => Some("has no response yet but is not in t_delay"),
                        _ => None,
                    };
                    if let Some(problem) = problem {
                        out.push(finding(owner, Some(*version), Some(*step), FindingKind::DelayTableMismatch, format!("delay {id} {problem}")));
                    }
                }
            }
        }
        for id in pending_delays.iter().filter(|d| !known_delays.contains(d)) {
            out.push(finding(id.owner(), None, None, FindingKind::DelayTableMismatch, format!("t_delay holds {id}, which no replayed execution requested")));
        }
        self.findings.extend(out);
        self.findings.sort_by(|a, b| {
            (a.execution_id.to_string(), a.step, a.version).cmp(&(b.execution_id.to_string(), b.step, b.version))
        });
        self.findings
    }
}

fn finding(id: &ExecutionId, version: Option<u64>, step: Option<usize>, kind: FindingKind, message: String) -> Finding {
    Finding { execution_id: id.clone(), version, step, kind, message }
}

fn facts_of(rows: &ExecutionRows) -> Facts {
    let created = rows.log.first().and_then(|e| match &e.event {
        Event::Created(c) => Some(c),
        _ => None,
    });
    Facts {
        parent: created.and_then(|c| c.parent.clone()),
        ffqn: created.map(|c| c.ffqn.clone()),
        scheduled_by: created.and_then(|c| c.scheduled_by.clone()),
        finished_version: rows.log.iter().rev().find(|e| matches!(e.event, Event::Finished(_))).map(|e| e.version),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::replay::test_support::{FIXTURE_0_38_3, FIXTURE_0_41_5, open};

    #[test]
    fn both_fixture_databases_replay_without_findings() {
        for (fixture, executions, events, responses) in [(FIXTURE_0_38_3, 38, 212, 22), (FIXTURE_0_41_5, 33, 177, 18)] {
            let report = check_database(&open(fixture)).unwrap_or_else(|e| panic!("{e}"));
            let shown: Vec<String> = report.findings.iter().map(ToString::to_string).collect();
            assert!(shown.is_empty(), "{fixture}:\n{}", shown.join("\n"));
            assert_eq!((report.executions, report.events, report.responses), (executions, events, responses), "{fixture}");
        }
    }
}
