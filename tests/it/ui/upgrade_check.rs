//! The upgrade check in the app, on the fleet folder of `upgrade_check` (real v0.5 and v0.3
//! replicas of 0.41.5 tenants and a damaged one): "Upgrade check…" on the Tenants screen asks
//! for a candidate build (our changed `wf.sleepy`), the verdicts table fills in the background,
//! "Only problems" keeps the failures, and a click opens the execution in time travel at the
//! step where the build diverges, re-executed with the candidate.

use chronoscope::fleet::upgrade::Verdict;
use chronoscope::ui::Screen;
use chronoscope::ui::dialogs::{DialogPurpose, ScriptedDialogs};
use chronoscope::ui::model::upgrade::RowText;
use egui_kittest::kittest::Queryable;

use super::kit::{harness, options, wait_for};
use crate::support::components::sleepy_variant;
use crate::upgrade_check::{DEMO_SLEEPY, expected_ids, fleet};

#[test]
fn the_verdicts_table_fills_and_a_click_opens_the_failing_step() {
    let f = fleet();
    let cache = tempfile::tempdir().unwrap();
    let mut opts = options(cache.path());
    opts.open = Some(f.root.display().to_string());
    opts.dialogs = Box::new(ScriptedDialogs::default().with(DialogPurpose::UpgradeComponent, sleepy_variant()));
    let mut h = harness(opts);
    wait_for(&mut h, "tenants", |a| a.tenants.loading.is_none() && a.tenants.rows().len() == 4);

    h.get_by_label("Upgrade check…").click();
    wait_for(&mut h, "the verdicts", |a| a.upgrade.as_ref().is_some_and(|u| !u.running()));
    assert_eq!(h.state().screen, Screen::Upgrade);
    let (rows, expected_rows) = {
        let model = h.state().upgrade.as_ref().unwrap();
        let mut expected = 1; // the damaged tenant's error
        for db in f.restored.values() {
            expected += expected_ids(db, false).len();
        }
        (model.rows().to_vec(), expected)
    };
    assert_eq!(rows.len(), expected_rows, "{rows:?}");
    let nondeterministic: Vec<(&str, String)> = rows
        .iter()
        .filter_map(|r| match &r.text {
            RowText::Execution { id, verdict: Verdict::Nondeterministic, .. } => {
                Some((r.tenant_name.as_str(), id.to_string()))
            }
            _ => None,
        })
        .collect();
    assert_eq!(nondeterministic, [("demo-v3", DEMO_SLEEPY.to_owned()), ("demo-v5", DEMO_SLEEPY.to_owned())]);
    assert!(
        rows.iter()
            .any(|r| r.tenant_name == "damaged-v5"
                && matches!(&r.text, RowText::TenantError(e) if e.contains("checksum")))
    );
    h.get_by_label("2 nondeterministic");
    h.get_by_label("1 tenants not checked");
    assert_eq!(h.get_all_by_label(DEMO_SLEEPY).count(), 2);

    // Only the problems: the two sleepy executions and the damaged tenant.
    h.get_by_label("Only problems").click();
    h.run_steps(2);
    assert_eq!(h.state().upgrade.as_ref().unwrap().rows().len(), 3);

    // A click opens demo-v5's sleepy at v2, re-executed with the candidate.
    h.get_all_by_label(DEMO_SLEEPY).nth(1).unwrap().click();
    wait_for(&mut h, "the execution", |a| {
        a.timetravel.is_some() && a.rerun.as_ref().is_some_and(|r| !r.reports.is_empty())
    });
    let state = h.state();
    assert_eq!(state.screen, Screen::TimeTravel);
    assert_eq!(
        state.breadcrumb_text(),
        format!("demo-v5 › latest › {DEMO_SLEEPY} › step 2/{}", state.timetravel.as_ref().unwrap().len() - 1)
    );
    let tt = state.timetravel.as_ref().unwrap();
    assert_eq!(tt.rows()[tt.current().step].version, Some(2));
    let report = state.rerun.as_ref().unwrap().report(&DEMO_SLEEPY.parse().unwrap()).unwrap().as_ref().unwrap();
    assert_eq!(report.outcome.as_str(), "nondeterministic");
    h.get_by_label("src/lib.rs:56");
    h.get_by_label_contains("fields differ");
}
