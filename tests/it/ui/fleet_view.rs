//! The Fleet screen on the fleet folder of `upgrade_check` (zeta's v0.5 replica, the 0.41.5
//! demo replicated by Litestream v0.5 and v0.3, a damaged tenant): *Scan* indexes every tenant in
//! the background; the per-tenant counts are what SQL over each database (as Litestream
//! restores it) says; the damaged tenant shows its error; a search for error words lists
//! exactly the executions whose result holds them, and a click opens one in time travel.

use std::collections::BTreeSet;
use std::process::Command;

use chronoscope::ui::Screen;
use egui_kittest::kittest::Queryable;

use super::kit::{harness, options, type_into, wait_for};
use crate::support::tools;
use crate::upgrade_check::fleet;

fn sql_count(db: &std::path::Path, sql: &str) -> usize {
    let o = Command::new(tools::sqlite3()).arg(db).arg(sql).output().unwrap();
    String::from_utf8_lossy(&o.stdout).trim().parse().unwrap()
}

#[test]
fn scan_counts_search_and_open_a_hit() {
    let f = fleet();
    let cache = tempfile::tempdir().unwrap();
    let mut opts = options(cache.path());
    opts.open = Some(f.root.display().to_string());
    let mut h = harness(opts);
    wait_for(&mut h, "tenants", |a| a.tenants.loading.is_none() && a.tenants.rows().len() == 4);
    h.get_by_label("Fleet").click();
    h.run_steps(2);
    assert_eq!(h.state().screen, Screen::FleetIndex);
    h.get_by_label_contains("Not scanned yet");
    h.get_by_label("Scan").click();
    wait_for(&mut h, "the scan", |a| a.fleet.as_ref().is_some_and(|f| f.task.is_none() && f.counts.len() == 4));

    let counts = h.state().fleet.as_ref().unwrap().counts.clone();
    for c in &counts {
        let Some(db) = f.restored.get(&c.tenant.name) else {
            assert_eq!(c.tenant.name, "damaged-v5");
            assert!(c.tenant.error.as_deref().is_some_and(|e| e.contains("checksum")), "{c:?}");
            continue;
        };
        assert_eq!(c.tenant.executions, sql_count(db, "SELECT count(*) FROM t_state"), "{}", c.tenant.name);
        assert_eq!(c.blocked, sql_count(db, "SELECT count(*) FROM t_state WHERE state = 'blocked_by_join_set'"));
        assert_eq!(c.running, sql_count(db, "SELECT count(*) FROM t_state WHERE state = 'locked'"));
        assert!(c.tenant.error.is_none());
    }
    h.get_by_label_contains("restore failed: ltx/9/");

    // Error words: the executions whose result mentions `unreachable` (the panicky ones).
    type_into(&mut h, "Error words", "unreachable");
    h.get_by_label("Search").click();
    wait_for(&mut h, "the hits", |a| a.fleet.as_ref().is_some_and(|f| f.task.is_none() && !f.hits.is_empty()));
    let hits: BTreeSet<(String, String)> =
        h.state().fleet.as_ref().unwrap().hits.iter().map(|x| (x.tenant.clone(), x.execution_id.clone())).collect();
    let mut expected = BTreeSet::new();
    for (tenant, db) in &f.restored {
        let o = Command::new(tools::sqlite3())
            .arg(db)
            .arg("SELECT execution_id FROM t_execution_log WHERE variant = 'finished' AND json_value LIKE '%unreachable%'")
            .output()
            .unwrap();
        for id in String::from_utf8_lossy(&o.stdout).lines() {
            expected.insert((tenant.clone(), id.to_owned()));
        }
    }
    assert_eq!(hits, expected);

    // A click on demo-v5's hit opens it in time travel.
    let (tenant, id) = hits.iter().find(|(t, _)| t == "demo-v5").unwrap().clone();
    let links: Vec<_> = h.get_all_by_label(&id).collect();
    assert_eq!(links.len(), 2, "demo-v3 and demo-v5 hold the same execution");
    let row =
        h.state().fleet.as_ref().unwrap().hits.iter().position(|x| x.tenant == tenant && x.execution_id == id).unwrap();
    let other =
        h.state().fleet.as_ref().unwrap().hits.iter().position(|x| x.tenant != tenant && x.execution_id == id).unwrap();
    links[usize::from(row > other)].click();
    wait_for(&mut h, "time travel", |a| a.timetravel.is_some());
    let crumb = h.state().breadcrumb_text();
    assert!(crumb.starts_with(&format!("{tenant} › latest › {id} › step 0/")), "{crumb}");
}
