//! Whole-database mode: replay every execution, compare each final state with `t_state`, and
//! check what executions say about each other (children, scheduled executions, responses,
//! `t_delay`). Rows are read and replayed in ranges of whole executions, by one worker per CPU.

use std::collections::{HashMap, HashSet};

use rustc_hash::FxHashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

use serde::Serialize;

use super::check_links::{AllLinks, Expectation, Facts, Links, finding};
use super::compare::compare_with_t_state;
use super::error::ReplayError;
use super::finding::{Finding, FindingKind};
use super::fold_as_read::{FoldAsRead, Folded};
use crate::obelisk::{DelayId, Event, ExecutionId, ExecutionSummary, IdRange, LogEntry, ObeliskDb, RangeItem};

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
        checker.links.names.executions.reserve(share);
        checker.links.facts.reserve(share);
        while let Some(range) = ranges.get(next.fetch_add(1, Ordering::Relaxed)) {
            checker.add_range(db, range)?;
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

/// Folds executions one by one, keeping only what the final checks need.
#[derive(Default)]
struct Checker {
    links: Links,
    findings: Vec<Finding>,
    executions: usize,
    events: usize,
    responses: usize,
}

impl Checker {
    /// Replays the executions of one ID range, read row by row, and compares them with the
    /// range's `t_state` rows.
    fn add_range(&mut self, db: &ObeliskDb, range: &IdRange) -> Result<(), ReplayError> {
        let summaries = db.t_state_summaries(range)?;
        let by_id: FxHashMap<&ExecutionId, usize> = summaries.iter().enumerate().map(|(i, s)| (&s.id, i)).collect();
        let mut matched = vec![false; summaries.len()];
        let mut current: Option<Reading> = None;
        db.visit_range(range, |item| match item {
            RangeItem::Execution { id, responses } => {
                let summary = by_id.get(&id).copied();
                if let Some(i) = summary {
                    matched[i] = true;
                }
                let next = Reading {
                    me: self.links.execution(&id),
                    fold: FoldAsRead::new(id, responses),
                    facts: Facts::default(),
                    summary,
                };
                if let Some(done) = current.replace(next) {
                    self.add(done, &summaries);
                }
            }
            RangeItem::Entry(entry) => {
                if let Some(reading) = current.as_mut() {
                    self.observe(reading, &entry);
                    reading.fold.push(entry);
                }
            }
        })?;
        if let Some(done) = current.take() {
            self.add(done, &summaries);
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
        for summary in summaries.into_iter().filter(|s| s.tombstoned) {
            let n = self.links.execution_owned(summary.id);
            self.links.tombstoned.insert(n);
        }
        Ok(())
    }

    /// Folds an execution read in full and compares it with its `t_state` row.
    fn add(&mut self, reading: Reading, summaries: &[ExecutionSummary]) {
        let Reading { me, fold, facts, summary } = reading;
        let mut folded = fold.finish();
        self.executions += 1;
        self.events += folded.events;
        self.responses += folded.responses;
        self.findings.append(&mut folded.findings);
        match summary.and_then(|i| summaries.get(i)) {
            Some(summary) => self.findings.extend(compare_with_t_state(&folded.final_state, summary)),
            None => self.findings.push(finding(
                &folded.final_state.execution_id,
                None,
                None,
                FindingKind::StateMismatch,
                "log rows without a t_state row".into(),
            )),
        }
        self.expect(me, &folded);
        self.links.facts[me as usize] = Some(facts);
    }

    /// Records what `folded` (execution number `me`) says about other executions and timers.
    fn expect(&mut self, me: u32, folded: &Folded) {
        let state = &folded.final_state;
        let links = &mut self.links;
        for child in state.children.iter().filter(|c| c.request_error.is_none()) {
            let expectation = Expectation::Child {
                parent: me,
                version: child.requested_version,
                step: child.requested_step,
                child: links.execution(&child.id),
                join_set: links.names.join_sets.number(&child.join_set_id),
                ffqn: links.names.ffqns.number(&child.ffqn),
            };
            links.expectations.push(expectation);
        }
        for finished in &folded.children_finished {
            let expectation = Expectation::Response {
                parent: me,
                step: finished.step,
                child: links.execution(&finished.child),
                finished_version: finished.finished_version,
                readable: finished.readable,
            };
            links.expectations.push(expectation);
        }
        for s in state.scheduled.iter().filter(|s| s.error.is_none()) {
            let id = links.execution(&s.execution_id);
            links.expectations.push(Expectation::Scheduled { by: me, version: s.version, step: s.step, id });
        }
        for d in state.delays.iter() {
            links.expectations.push(Expectation::Delay {
                owner: me,
                version: d.requested_version,
                step: d.requested_step,
                id: Box::new(d.id.clone()),
                fired: d.fired,
                owner_finished: state.is_finished(),
            });
        }
    }

    /// Adds what `entry` says about its own execution to the facts being read: its parent,
    /// function and scheduler (when the log starts with `created`) and its finished version.
    fn observe(&mut self, reading: &mut Reading, entry: &LogEntry) {
        match &entry.event {
            Event::Created(created) if reading.fold.events() == 0 => {
                let links = &mut self.links;
                reading.facts.parent =
                    created.parent.as_ref().map(|(p, js)| (links.execution(p), links.names.join_sets.number(js)));
                reading.facts.ffqn = Some(links.names.ffqns.number(&created.ffqn));
                reading.facts.scheduled_by = created.scheduled_by.as_ref().map(|by| links.execution(by));
            }
            Event::Finished(_) => reading.facts.finished_version = Some(entry.version),
            _ => {}
        }
    }
}

/// An execution being read: its fold so far and what its log says about it.
struct Reading {
    /// Its number in this worker's names.
    me: u32,
    fold: FoldAsRead,
    facts: Facts,
    /// Its `t_state` row, by position in the range's summaries.
    summary: Option<usize>,
}

/// The workers' parts, checked against each other at the end.
struct Parts(Vec<Checker>);

impl Parts {
    /// The cross-execution findings (each part's expectations on its own thread), then every
    /// finding sorted by execution and step.
    fn finish(&self, pending_delays: &HashSet<DelayId>) -> Vec<Finding> {
        let all = AllLinks(self.0.iter().map(|p| &p.links).collect());
        let checked: Vec<(Vec<Finding>, HashSet<&DelayId>)> = std::thread::scope(|scope| {
            let threads: Vec<_> =
                self.0.iter().map(|part| scope.spawn(|| all.check(&part.links, pending_delays))).collect();
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
