//! The inspector on a real run of the demo (tenant-alpha's longest wf.concurrent: two runs, a
//! delay, logs in both runs): the Params, Delays and log sections open and show what the
//! database holds; "Logs of this run" follows the run at the cursor, "Logs so far" once finished.

use chronoscope::obelisk::{AppLogEntry, Event, ObeliskDb};
use chronoscope::replay::Step;
use chronoscope::ui::App;
use egui::Key;
use egui_kittest::Harness;
use egui_kittest::kittest::Queryable;

use super::kit::{harness, options, select_tenant, wait_for};

const LONG: &str = "E_01M86FF3W40HSP91Y035GNSX55";
/// Its delay (in the log: `delay … finished ok=true`).
const DELAY: &str = "Delay_01M86FF3W40HSP91Y035GNSX55.g:1_0";

/// The inspector's log section at the cursor, from the core: the logs of `LONG` written by the
/// run at the cursor ("Logs of this run"), or by any run once none holds the lock ("Logs so
/// far"), up to the cursor's time.
fn expected_logs(h: &mut Harness<'_, App>) -> (&'static str, Vec<AppLogEntry>) {
    let state = h.state_mut().timetravel.as_mut().unwrap().state().unwrap();
    let run = state.last_lock.as_ref().map(|l| l.run_id);
    let db = ObeliskDb::open(&h.state().opened.as_ref().unwrap().path).unwrap();
    let logs = db.app_logs(&LONG.parse().unwrap(), false).unwrap();
    let logs = logs
        .into_iter()
        .filter(|l| run.as_ref().is_none_or(|r| &l.run_id == r) && state.at.is_none_or(|t| l.created_at <= t))
        .collect();
    (if run.is_some() { "Logs of this run" } else { "Logs so far" }, logs)
}

/// Open the log section titled `title` and check it lists exactly `expected`, in order.
fn check_logs(h: &mut Harness<'_, App>, title: &str, expected: &[AppLogEntry]) {
    h.get_by_label(&format!("{title} ({})", expected.len())).click_accesskit();
    h.run_steps(3);
    let mut y = f32::MIN;
    for l in expected {
        let time = l.created_at.format("%H:%M:%S%.3f").to_string();
        let text = l.text().trim_end().to_owned();
        let node = h
            .get_all_by_label_contains(&text)
            .find(|n| n.accesskit_node_label().starts_with(&time))
            .unwrap_or_else(|| panic!("the log line {time} … {text} is shown"));
        assert!(node.rect().min.y > y, "in write order: {text}");
        y = node.rect().min.y;
    }
}

trait Label {
    fn accesskit_node_label(&self) -> String;
}

impl Label for egui_kittest::Node<'_> {
    fn accesskit_node_label(&self) -> String {
        use egui_kittest::kittest::NodeT;
        // Static text carries its text as the value (kittest's label queries look at both).
        let node = self.accesskit_node();
        node.label().or_else(|| node.value()).unwrap_or_default()
    }
}

#[test]
fn params_delays_and_logs_of_this_run() {
    let cache = tempfile::tempdir().unwrap();
    let mut h = harness(options(cache.path()));
    select_tenant(&mut h, "tenant-alpha");
    h.get_by_label("Restore latest").click();
    wait_for(&mut h, "executions", |a| a.executions.is_some());
    h.get_by_label(LONG).click();
    wait_for(&mut h, "the replay", |a| a.timetravel.is_some());

    // Params: the created event's params ([5] in the database), as a tree.
    let params = {
        let tt = h.state().timetravel.as_ref().unwrap();
        let Some(Step::Event(e)) = tt.replay().unwrap().step(0) else { panic!("step 0 is an event") };
        let Event::Created(c) = &e.event else { panic!("step 0 is the creation") };
        serde_json::to_value(&c.params).unwrap()
    };
    assert_eq!(params, serde_json::json!([5]));
    h.get_by_label("Params").click_accesskit();
    h.run_steps(3);
    let item = h.get_by_label("0:");
    let value = h.get_all_by_label("5").find(|n| (n.rect().center().y - item.rect().center().y).abs() < 4.0);
    assert!(value.is_some(), "params[0] = 5 shown beside its key");
    h.get_by_label("params: [1 items]");

    // At the last step: the delay fired.
    h.key_press(Key::End);
    h.run_steps(3);
    let delays = h.state_mut().timetravel.as_mut().unwrap().state().unwrap().delays.clone();
    assert_eq!(delays.len(), 1);
    let d = delays.iter().next().unwrap();
    assert_eq!(d.fired, Some(true));
    assert_eq!(d.id.to_string(), DELAY);
    h.get_by_label("Delays (1)").click_accesskit();
    h.run_steps(3);
    let shown = h.get_by_label_contains(&format!("{DELAY} in {} · expires ", d.join_set_id)).accesskit_node_label();
    assert!(shown.ends_with(" · fired"), "the delay is shown as fired: {shown}");

    // Finished: no run holds the lock, so the logs of every run so far (both runs).
    let (title, all) = expected_logs(&mut h);
    assert_eq!(title, "Logs so far");
    assert!(all.iter().any(|l| l.text().contains(&format!("delay {DELAY} finished ok=true"))));
    check_logs(&mut h, title, &all);

    // The last step of each run: that run's logs only.
    let len = h.state().timetravel.as_ref().unwrap().len();
    let mut last_step_of_run = Vec::new();
    for step in 0..len {
        h.state_mut().timetravel.as_mut().unwrap().set_step(step);
        let state = h.state_mut().timetravel.as_mut().unwrap().state().unwrap();
        let Some(run) = state.last_lock.as_ref().map(|l| l.run_id) else { continue };
        match last_step_of_run.last_mut() {
            Some((r, s)) if *r == run => *s = step,
            _ => last_step_of_run.push((run, step)),
        }
    }
    assert_eq!(last_step_of_run.len(), 2, "two runs: {last_step_of_run:?}");
    let mut seen = 0;
    for (run, step) in &last_step_of_run {
        h.state_mut().push(chronoscope::ui::command::Command::SetStep(*step));
        h.run_steps(3);
        assert_eq!(h.state().timetravel.as_ref().unwrap().current().step, *step);
        let (title, logs) = expected_logs(&mut h);
        assert_eq!(title, "Logs of this run");
        assert!(!logs.is_empty() && logs.iter().all(|l| &l.run_id == run), "{logs:?}");
        check_logs(&mut h, title, &logs);
        let others = all.iter().filter(|l| &l.run_id != run).map(|l| l.text().trim_end().to_owned());
        for other in others.filter(|t| !logs.iter().any(|l| l.text().trim_end() == t)) {
            assert!(h.query_all_by_label_contains(&other).next().is_none(), "not a log of this run: {other}");
        }
        seen += logs.len();
    }
    assert_eq!(seen, all.len(), "every log belongs to one of the two runs");
    let first_run_line = format!("submitted {LONG}.n:batch_1");
    assert!(all.iter().any(|l| l.text() == first_run_line));
}
