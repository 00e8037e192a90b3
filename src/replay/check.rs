//! Whole-database mode: replay every execution, compare each final state with `t_state`, and
//! check what executions say about each other (children, scheduled executions, responses,
//! `t_delay`). Rows are read and replayed in ranges of whole executions, by one worker per CPU.

use std::collections::{HashMap, HashSet};

use rustc_hash::{FxHashMap, FxHashSet};
use std::sync::atomic::{AtomicUsize, Ordering};
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
const ROWS_PER_RANGE: u64 = 4_000;

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
///
/// The log is cut into ranges of whole executions; one worker per CPU takes ranges in turn,
/// reading them on its own read-only connection and replaying them. The cross-execution checks
/// run at the end, again one thread per worker's part.
pub fn check_database(db: &ObeliskDb) -> Result<CheckReport, ReplayError> {
    let started = Instant::now();
    let pending_delays: HashSet<DelayId> = db.pending_delays(None)?.into_iter().map(|d| d.delay_id).collect();
    let ranges = db.execution_ranges(ROWS_PER_RANGE)?;
    let workers = std::thread::available_parallelism().map_or(1, |n| n.get()).clamp(1, ranges.len().max(1));
    let next = AtomicUsize::new(0);
    // Each worker's map of facts is sized for its share up front: growing it moves every entry.
    let share = ranges.iter().map(|r| r.executions).sum::<usize>() / workers + ROWS_PER_RANGE as usize;
    let work = |db: &ObeliskDb| -> Result<Checker, ReplayError> {
        let mut checker = Checker::default();
        checker.facts.reserve(share);
        while let Some(range) = ranges.get(next.fetch_add(1, Ordering::Relaxed)) {
            checker.add_range(db.load_range(range)?, db.t_state_summaries(range)?);
        }
        Ok(checker)
    };
    let path = db.path().to_path_buf();
    let parts = std::thread::scope(|scope| -> Result<Vec<Checker>, ReplayError> {
        let helpers: Vec<_> = (1..workers)
            .map(|_| {
                scope.spawn(|| {
                    let own = ObeliskDb::open(&path)?;
                    work(&own)
                })
            })
            .collect();
        let mut parts = vec![work(db)?];
        for helper in helpers {
            parts.push(helper.join().unwrap_or_else(|panic| std::panic::resume_unwind(panic))?);
        }
        Ok(parts)
    })?;
    let parts = Parts(parts);
    let mut report = CheckReport {
        database: db.path().display().to_string(),
        schema_version: db.schema().version,
        executions: parts.0.iter().map(|p| p.executions).sum(),
        events: parts.0.iter().map(|p| p.events).sum(),
        responses: parts.0.iter().map(|p| p.responses).sum(),
        findings: Vec::new(),
        elapsed_ms: 0,
    };
    report.findings = parts.finish(&pending_delays);
    // Freeing what the workers kept takes a while and nobody needs to wait for it.
    std::thread::spawn(move || drop(parts));
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
#[derive(Default)]
struct Checker {
    facts: FxHashMap<ExecutionId, Facts>,
    expectations: Vec<Expectation>,
    findings: Vec<Finding>,
    /// Executions deleted by retention (0.42+): their children may be gone.
    tombstoned: FxHashSet<ExecutionId>,
    executions: usize,
    events: usize,
    responses: usize,
}

impl Checker {
    /// Replays the executions of one ID range and compares them with the range's `t_state` rows.
    fn add_range(&mut self, executions: Vec<ExecutionRows>, summaries: Vec<ExecutionSummary>) {
        let by_id: FxHashMap<&ExecutionId, usize> = summaries.iter().enumerate().map(|(i, s)| (&s.id, i)).collect();
        let mut matched = vec![false; summaries.len()];
        for rows in executions {
            let summary = by_id.get(&rows.id).map(|&i| {
                matched[i] = true;
                &summaries[i]
            });
            self.add(rows, summary);
        }
        for (summary, _) in summaries.iter().zip(matched).filter(|(_, matched)| !matched) {
            self.findings.push(finding(
                &summary.id,
                None,
                None,
                FindingKind::StateMismatch,
                "a t_state row without any log row".into(),
            ));
        }
        self.tombstoned.extend(summaries.into_iter().filter(|s| s.tombstoned).map(|s| s.id));
    }

    fn add(&mut self, rows: ExecutionRows, summary: Option<&ExecutionSummary>) {
        let id = rows.id.clone();
        let facts = facts_of(&rows);
        let replay = Replay::without_checkpoints(rows.id, rows.log, rows.responses);
        self.executions += 1;
        self.events += replay.event_count();
        self.responses += replay.response_count();
        self.findings.extend(replay.findings().iter().cloned());
        match summary {
            Some(summary) => self.findings.extend(compare_with_t_state(replay.final_state(), summary)),
            None => self.findings.push(finding(
                &id,
                None,
                None,
                FindingKind::StateMismatch,
                "log rows without a t_state row".into(),
            )),
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
}

/// The workers' parts, checked against each other at the end.
struct Parts(Vec<Checker>);

impl Parts {
    /// What the log of `id` says, whichever part replayed it.
    fn facts(&self, id: &ExecutionId) -> Option<&Facts> {
        self.0.iter().find_map(|p| p.facts.get(id))
    }

    fn is_tombstoned(&self, id: &ExecutionId) -> bool {
        self.0.iter().any(|p| p.tombstoned.contains(id))
    }

    /// The cross-execution findings (each part's expectations on its own thread), then every
    /// finding sorted by execution and step.
    fn finish(&self, pending_delays: &HashSet<DelayId>) -> Vec<Finding> {
        let checked: Vec<(Vec<Finding>, HashSet<&DelayId>)> = std::thread::scope(|scope| {
            let threads: Vec<_> = self
                .0
                .iter()
                .map(|part| scope.spawn(|| self.check_expectations(&part.expectations, pending_delays)))
                .collect();
            threads.into_iter().map(|t| t.join().unwrap_or_else(|panic| std::panic::resume_unwind(panic))).collect()
        });
        let mut findings: Vec<Finding> = self.0.iter().flat_map(|p| p.findings.iter().cloned()).collect();
        let mut known_delays: HashSet<&DelayId> = HashSet::new();
        for (part_findings, part_delays) in checked {
            findings.extend(part_findings);
            known_delays.extend(part_delays);
        }
        for id in pending_delays.iter().filter(|d| !known_delays.contains(d)) {
            findings.push(finding(
                id.owner(),
                None,
                None,
                FindingKind::DelayTableMismatch,
                format!("t_delay holds {id}, which no replayed execution requested"),
            ));
        }
        findings.sort_by(|a, b| {
            (a.execution_id.to_string(), a.step, a.version).cmp(&(b.execution_id.to_string(), b.step, b.version))
        });
        findings
    }

    /// Checks what executions expect of others and of `t_delay`; also gives the delays seen.
    fn check_expectations<'a>(
        &self,
        expectations: &'a [Expectation],
        pending_delays: &HashSet<DelayId>,
    ) -> (Vec<Finding>, HashSet<&'a DelayId>) {
        let mut known_delays: HashSet<&DelayId> = HashSet::new();
        let mut out = Vec::new();
        for e in expectations {
            match e {
                Expectation::Child { parent, version, step, child, join_set, ffqn } => match self.facts(child) {
                    None if !self.is_tombstoned(parent) => out.push(finding(
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
                            out.push(finding(
                                child,
                                Some(0),
                                Some(0),
                                FindingKind::TreeMismatch,
                                format!(
                                    "created with parent {:?}, but {parent} requested it in {join_set}",
                                    f.parent.as_ref().map(|(p, js)| format!("{p} {js}"))
                                ),
                            ));
                        }
                        if f.ffqn.as_ref() != Some(ffqn) {
                            out.push(finding(
                                child,
                                Some(0),
                                Some(0),
                                FindingKind::TreeMismatch,
                                format!(
                                    "runs {:?}, but {parent} requested {ffqn}",
                                    f.ffqn.as_ref().map(ToString::to_string)
                                ),
                            ));
                        }
                    }
                },
                Expectation::Response { parent, step, child, finished_version, readable } => {
                    let actual = self.facts(child).and_then(|f| f.finished_version);
                    if actual != Some(*finished_version) || !readable {
                        out.push(finding(parent, None, Some(*step), FindingKind::TreeMismatch, format!(
                            "the response for {child} points at its version {finished_version}, but the child finished at {}",
                            actual.map_or("no version (not finished)".into(), |v| format!("version {v}"))
                        )));
                    }
                }
                Expectation::Scheduled { by, version, step, id } => match self.facts(id) {
                    None => out.push(finding(
                        by,
                        Some(*version),
                        Some(*step),
                        FindingKind::TreeMismatch,
                        format!("scheduled execution {id} has no log rows"),
                    )),
                    Some(f) if f.scheduled_by.as_ref() != Some(by) => out.push(finding(
                        id,
                        Some(0),
                        Some(0),
                        FindingKind::TreeMismatch,
                        format!(
                            "scheduled by {by} (version {version}), but its created says scheduled_by {:?}",
                            f.scheduled_by.as_ref().map(ToString::to_string)
                        ),
                    )),
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
                        out.push(finding(
                            owner,
                            Some(*version),
                            Some(*step),
                            FindingKind::DelayTableMismatch,
                            format!("delay {id} {problem}"),
                        ));
                    }
                }
            }
        }
        (out, known_delays)
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
    use crate::obelisk::test_support::{FIXTURE_0_38_3, FIXTURE_0_41_5, open};

    #[test]
    fn both_fixture_databases_replay_without_findings() {
        for (fixture, executions, events, responses) in [(FIXTURE_0_38_3, 38, 212, 22), (FIXTURE_0_41_5, 33, 177, 18)] {
            let report = check_database(&open(fixture)).unwrap_or_else(|e| panic!("{e}"));
            let shown: Vec<String> = report.findings.iter().map(ToString::to_string).collect();
            assert!(shown.is_empty(), "{fixture}:\n{}", shown.join("\n"));
            assert_eq!(
                (report.executions, report.events, report.responses),
                (executions, events, responses),
                "{fixture}"
            );
        }
    }
}
