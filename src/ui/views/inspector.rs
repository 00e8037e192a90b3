//! The inspector: the replayed state after the cursor's step — pending state, attempts, what a
//! `join_next` received, join sets, children (click to step into one), delays, scheduled
//! executions, persisted values, params and result as trees, and the logs of the run.

use crate::obelisk::{Event, LogContent, ResponseKind, describe};
use crate::replay::{ReplayState, RequestTarget, Step};
use crate::rerun::Report;
use crate::ui::command::Command;
use crate::ui::model::timetravel::TimeTravel;
use crate::ui::theme;

pub fn ui(tt: &mut TimeTravel, report: Option<&Report>, ui: &mut egui::Ui, commands: &mut Vec<Command>) {
    let Some(state) = tt.state() else {
        ui.label("No steps.");
        return;
    };
    let step = tt.current().step;
    let rows = tt.rows();
    let dark = ui.visuals().dark_mode;
    egui::ScrollArea::vertical().id_salt("inspector-scroll").auto_shrink([false, false]).show(ui, |ui| {
        if let Some(r) = rows.get(step) {
            ui.horizontal_wrapped(|ui| {
                ui.strong(format!("Step {step}"));
                ui.colored_label(r.color.color(dark), &r.kind);
                ui.weak(crate::format::time(r.at));
            });
            ui.label(&r.detail);
        }
        ui.separator();
        if let Some(report) = report {
            super::step_code::ui(tt, report, ui, commands);
        }
        summary(ui, &state);
        if let Some(received) = &state.received {
            section(ui, "Received at this step", true, |ui| {
                ui.label(format!(
                    "{} ({:?}, wait v{})",
                    received.join_set_id, received.await_kind, received.await_version
                ));
                response_value(ui, &received.value, egui::Id::unique(("received", step)));
            });
        }
        children(tt, ui, &state, commands);
        join_sets(ui, &state);
        if !state.delays.is_empty() {
            section(ui, &format!("Delays ({})", state.delays.len()), false, |ui| {
                for d in state.delays.iter() {
                    let status = match d.fired {
                        None => "pending",
                        Some(true) => "fired",
                        Some(false) => "cancelled",
                    };
                    ui.label(format!(
                        "{} in {} · expires {} · {status}",
                        d.id,
                        d.join_set_id,
                        crate::format::time(d.expires_at)
                    ));
                }
            });
        }
        if !state.scheduled.is_empty() {
            section(ui, &format!("Scheduled ({})", state.scheduled.len()), false, |ui| {
                for s in state.scheduled.iter() {
                    ui.label(format!(
                        "v{} {} at {:?}{}",
                        s.version,
                        s.execution_id,
                        s.schedule_at,
                        if s.error.is_some() { " (failed)" } else { "" }
                    ));
                }
            });
        }
        if !state.persisted.is_empty() {
            section(ui, &format!("Persisted values ({})", state.persisted.len()), false, |ui| {
                for p in state.persisted.iter() {
                    let v = serde_json::to_value(&p.value).unwrap_or_default();
                    super::json_tree::ui(
                        ui,
                        &format!("v{} {:?}", p.version, p.kind),
                        &v,
                        egui::Id::unique(("persisted", p.version)),
                    );
                }
            });
        }
        if let Some(Step::Event(e)) = tt.replay().and_then(|r| r.step(0))
            && let Event::Created(c) = &e.event
        {
            section(ui, "Params", false, |ui| {
                let v = serde_json::to_value(&c.params).unwrap_or_default();
                super::json_tree::ui(ui, "params", &v, egui::Id::unique("params"));
            });
        }
        if let Some(result) = &state.result {
            section(ui, "Return value", true, |ui| {
                ui.label(describe::retval(result));
                let v = serde_json::to_value(result).unwrap_or_default();
                super::json_tree::ui(ui, "result", &v, egui::Id::unique("result"));
            });
        }
        logs(tt, ui, &state);
    });
}

pub(super) fn section(ui: &mut egui::Ui, title: &str, open: bool, body: impl FnOnce(&mut egui::Ui)) {
    egui::CollapsingHeader::new(title).default_open(open).show(ui, body);
}

fn summary(ui: &mut egui::Ui, s: &ReplayState) {
    egui::Grid::new("state-grid").num_columns(2).striped(true).show(ui, |ui| {
        let mut row = |k: &str, v: String| {
            ui.weak(k);
            ui.label(v);
            ui.end_row();
        };
        row("Pending state", s.pending.as_ref().map(describe::state).unwrap_or_else(|| "-".into()));
        row("Lifecycle", s.lifecycle.to_string());
        row("Result", s.result.as_ref().map(describe::retval).unwrap_or_else(|| "-".into()));
        let a = &s.attempts;
        let retries = a.max_retries.map(|m| format!(", max retries {m}")).unwrap_or_default();
        row(
            "Runs",
            format!(
                "{} runs, attempt {}, {} lock extensions, {} failures{retries}",
                a.runs, a.attempt, a.lock_extensions, a.intermittent_failures
            ),
        );
        if let Some(w) = &s.waiting {
            row("Waiting on", format!("{} (since v{})", w.join_set_id, w.version));
        }
        if let Some(l) = &s.last_lock {
            row("Last lock", format!("run {}", l.run_id));
        }
        row("Responses arrived", s.responses_arrived.to_string());
    });
}

fn response_value(ui: &mut egui::Ui, value: &ResponseKind, id: egui::Id) {
    match value {
        ResponseKind::ChildExecutionFinished { child_execution_id, result, .. } => {
            ui.label(format!("child {child_execution_id}"));
            match result {
                Some(r) => {
                    ui.label(describe::retval(r));
                    super::json_tree::ui(ui, "result", &serde_json::to_value(r).unwrap_or_default(), id);
                }
                None => {
                    ui.label("(result not readable)");
                }
            }
        }
        ResponseKind::DelayFinished { delay_id, success } => {
            ui.label(format!("delay {delay_id} {}", if *success { "fired" } else { "cancelled" }));
        }
    }
}

fn children(tt: &TimeTravel, ui: &mut egui::Ui, s: &ReplayState, commands: &mut Vec<Command>) {
    if s.children.is_empty() {
        return;
    }
    let in_tree = |id| tt.node().is_some_and(|n| n.children.iter().any(|c| &c.id == id && !c.missing));
    let replay = tt.replay();
    section(ui, &format!("Children ({})", s.children.len()), true, |ui| {
        for c in s.children.iter() {
            ui.horizontal_wrapped(|ui| {
                if in_tree(&c.id) {
                    if ui.link(c.id.to_string()).on_hover_text("Step into this child").clicked() {
                        commands.push(Command::StepInto(c.id.clone()));
                    }
                } else {
                    ui.label(c.id.to_string());
                }
                ui.weak(c.ffqn.to_string());
            });
            let mut status = format!("requested at step {}", c.requested_step);
            if let Some(a) = c.arrived_step {
                status.push_str(&format!(", result arrived at step {a}"));
            }
            if let Some(r) = c.consumed_step {
                status.push_str(&format!(", received at step {r}"));
            }
            if c.request_error.is_some() {
                status.push_str(", request failed");
            }
            if let Some(k) = &c.result_kind {
                status.push_str(&format!(" · {}", describe::result_kind(k)));
            }
            ui.label(status);
            if let Some(resp) = c.response.and_then(|i| replay.and_then(|r| r.response(i))) {
                egui::CollapsingHeader::new(format!("Result of {}", c.id))
                    .id_salt(("child-result", c.id.to_string()))
                    .show(ui, |ui| {
                        response_value(ui, &resp.kind, egui::Id::unique(("child-result-tree", c.id.to_string())));
                    });
            }
            ui.add_space(4.0);
        }
    });
}

fn join_sets(ui: &mut egui::Ui, s: &ReplayState) {
    if s.join_sets.is_empty() {
        return;
    }
    section(ui, &format!("Join sets ({})", s.join_sets.len()), true, |ui| {
        for js in s.join_sets.iter() {
            let title = format!(
                "{} · {:?} · {} requests, {} arrived, {} consumed",
                js.id,
                js.status,
                js.requests.len(),
                js.arrivals.len(),
                js.consumed
            );
            egui::CollapsingHeader::new(title).id_salt(("js", js.id.to_string())).show(ui, |ui| {
                for r in &js.requests {
                    ui.label(format!("request v{} (step {}): {}", r.version, r.step, target(&r.target)));
                }
                for a in &js.arrivals {
                    ui.label(format!("arrived at step {}: {}", a.step, target(&a.target)));
                }
                for w in &js.awaits {
                    let got = match (w.slot, w.received_step) {
                        (Some(slot), Some(at)) => format!(": response #{slot}, received at step {at}"),
                        (Some(slot), None) => format!(": response #{slot} (not arrived)"),
                        _ => String::new(),
                    };
                    ui.label(format!("{:?} v{} (step {}){got}", w.kind, w.version, w.step));
                }
            });
        }
    });
}

fn target(t: &RequestTarget) -> String {
    match t {
        RequestTarget::Child(id) => format!("child {id}"),
        RequestTarget::Delay(id) => format!("delay {id}"),
    }
}

fn logs(tt: &TimeTravel, ui: &mut egui::Ui, s: &ReplayState) {
    let logs = tt.logs();
    if logs.is_empty() {
        return;
    }
    let until = s.at;
    let run = s.last_lock.as_ref().map(|l| l.run_id);
    let shown: Vec<_> = logs
        .iter()
        .filter(|l| until.is_none_or(|t| l.created_at <= t))
        .filter(|l| run.as_ref().is_none_or(|r| &l.run_id == r))
        .collect();
    let title = if run.is_some() { "Logs of this run" } else { "Logs so far" };
    section(ui, &format!("{title} ({})", shown.len()), false, |ui| {
        let dark = ui.visuals().dark_mode;
        for l in shown {
            let (tag, warn) = match &l.content {
                LogContent::Message { level, .. } => (
                    format!("{level:?}").to_lowercase(),
                    matches!(level, crate::obelisk::LogLevel::Warn | crate::obelisk::LogLevel::Error),
                ),
                LogContent::Stream { stream, .. } => (format!("{stream:?}").to_lowercase(), false),
            };
            let text = format!("{} {tag}: {}", l.created_at.format("%H:%M:%S%.3f"), l.text().trim_end());
            if warn {
                ui.colored_label(theme::warn_color(dark), text);
            } else {
                ui.monospace(text);
            }
        }
    });
}
