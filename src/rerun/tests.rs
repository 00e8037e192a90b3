//! Re-executing the 0.41.5 demo with the component stored in it: Obelisk's own results (the
//! recorded return values, the trap of `wf.panicky`, `t_log`) are the oracle.

use std::collections::BTreeMap;
use std::sync::{Arc, OnceLock};

use super::*;
use crate::obelisk::test_support::{FIXTURE_0_41_5, open};

/// One engine for the test binary; compiles the demo component once (memory cache only).
fn rerunner() -> &'static Rerunner {
    static R: OnceLock<Rerunner> = OnceLock::new();
    R.get_or_init(|| Rerunner::new(None).unwrap_or_else(|e| panic!("{e}")))
}

fn demo_reports() -> Vec<(crate::obelisk::ExecutionId, Report)> {
    let db = open(FIXTURE_0_41_5);
    let reports = rerun_database(rerunner(), &db, &[], None, &RunOptions::default()).unwrap_or_else(|e| panic!("{e}"));
    reports.into_iter().map(|(id, r)| (id.clone(), r.unwrap_or_else(|e| panic!("{id}: {e}")))).collect()
}

#[test]
fn every_workflow_execution_of_the_demo_replays() {
    let started = std::time::Instant::now();
    let reports = demo_reports();
    eprintln!("{} executions in {:?}", reports.len(), started.elapsed());
    let mut by_outcome: BTreeMap<&str, Vec<String>> = BTreeMap::new();
    for (id, r) in &reports {
        eprintln!("{id} {} {} {}/{} {} {:?}", r.ffqn, r.outcome.as_str(), r.matched, r.total, r.where_text(), r.trap.as_ref().map(|t| &t.reason));
        by_outcome.entry(r.outcome.as_str()).or_default().push(r.ffqn.to_string());
        assert!(r.consistent, "{id} {}: {:?}", r.ffqn, r);
    }
    let _ = Arc::new(());
    assert_eq!(by_outcome.get("nondeterministic"), None);
}

