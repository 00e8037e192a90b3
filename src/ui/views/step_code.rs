//! The inspector's re-execution section for the cursor's step: the host call the workflow made
//! and its line, what the guest received (the join-next value, the persisted random value),
//! and the guest's own log lines and stdout/stderr up to that step (a click on a log line
//! shows its line in the source pane).

use crate::rerun::{Report, short_path};
use crate::ui::command::Command;
use crate::ui::model::rerun::RerunModel;
use crate::ui::model::timetravel::TimeTravel;

pub fn ui(tt: &TimeTravel, report: &Report, ui: &mut egui::Ui, commands: &mut Vec<Command>) {
    let step = tt.current().step;
    let rows = tt.rows();
    let version = RerunModel::cursor_version(tt);
    let at = RerunModel::step_at(report, version);
    let exact = at.filter(|s| Some(s.version) == rows.get(step).and_then(|r| r.version));
    super::inspector::section(ui, "Re-executed code", true, |ui| {
        match exact {
            Some(s) => {
                let line =
                    s.source.as_ref().map(|l| format!(" at {}:{}", short_path(&l.file), l.line)).unwrap_or_default();
                ui.label(format!("v{} {} by {}{line}", s.version, s.event_type, s.call));
                if let Some(received) = &s.received {
                    // The value itself first (a response's result), then the whole response.
                    if let Some(result) = received.get("result").or_else(|| received.get("value")) {
                        ui.horizontal(|ui| {
                            ui.weak("returned to the code:");
                            ui.monospace(compact(result));
                        });
                    }
                    super::json_tree::ui(
                        ui,
                        "the guest received",
                        received,
                        egui::Id::unique(("guest-received", step)),
                    );
                }
            }
            None => {
                let reached = RerunModel::stop_reached(report, version);
                match RerunModel::stop_line(report).filter(|_| reached) {
                    Some(l) => {
                        ui.label(format!("{} here, at {}:{}", report.outcome.as_str(), short_path(&l.file), l.line));
                    }
                    None => {
                        ui.weak("this step was not made by a call of the workflow's code");
                    }
                }
            }
        }
        let logs = RerunModel::logs_until(report, version);
        ui.collapsing(format!("Guest log up to here ({} of {})", logs.len(), report.logs.len()), |ui| {
            for l in logs {
                let text = format!("{} {}", l.level, l.message);
                match &l.source {
                    Some(src) => {
                        if ui.link(text).on_hover_text(format!("{}:{}", short_path(&src.file), src.line)).clicked() {
                            commands.push(Command::ShowSource(src.clone()));
                        }
                    }
                    None => {
                        ui.label(text);
                    }
                }
            }
        });
        let (out, err) = match at {
            Some(s) => (prefix(&report.stdout, s.stdout_len), prefix(&report.stderr, s.stderr_len)),
            None => ("", ""),
        };
        if !report.stdout.is_empty() || !report.stderr.is_empty() {
            ui.collapsing(format!("stdout/stderr up to here ({} + {} bytes)", out.len(), err.len()), |ui| {
                ui.monospace(out);
                ui.monospace(err);
            });
        }
    });
}

/// The first `len` bytes of `s`, cut back to a character boundary.
fn prefix(s: &str, len: usize) -> &str {
    let mut n = len.min(s.len());
    while !s.is_char_boundary(n) {
        n -= 1;
    }
    &s[..n]
}

/// `{"ok":{"type":"u32","value":3}}` as `ok 3`; other values as compact JSON.
fn compact(v: &serde_json::Value) -> String {
    let typed = |v: &serde_json::Value| v.get("value").map(|x| x.to_string());
    match v.as_object() {
        Some(m) if m.len() == 1 => {
            let (k, inner) = m.iter().next().expect("one entry");
            format!("{k} {}", typed(inner).unwrap_or_else(|| inner.to_string()))
        }
        _ => v.to_string(),
    }
}
