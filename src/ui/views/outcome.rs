//! How the re-execution of the current execution ended, as findings: a trap with its source
//! frames (a click shows the frame's line), a nondeterminism with the recorded and produced
//! events side by side and the fields that differ, what a pending execution would append next
//! and what a blocked one waits for (both marked as not in the log).

use crate::rerun::{OutcomeKind, Report, SourceLine, field_diff, short_path};
use crate::ui::command::Command;
use crate::ui::model::timetravel::TimeTravel;
use crate::ui::theme;

/// True when the report has something to show here.
pub fn has_findings(report: &Report) -> bool {
    report.outcome != OutcomeKind::Finished || !report.consistent
}

pub fn ui(tt: &TimeTravel, report: &Report, ui: &mut egui::Ui, commands: &mut Vec<Command>) {
    let dark = ui.visuals().dark_mode;
    let step_of = |version: u64| tt.rows().iter().position(|r| r.version == Some(version));
    let last = tt.len().saturating_sub(1);
    match report.outcome {
        OutcomeKind::Trapped => {
            let trap = report.trap.as_ref();
            let reason = trap.map(|t| t.reason.as_str()).unwrap_or("trapped");
            if ui.link(format!("trap: {reason}")).on_hover_text("Jump to the last step").clicked() {
                commands.push(Command::SetStep(last));
            }
            let frames = trap.map(|t| t.frames.as_slice()).unwrap_or_default();
            // The workflow's own frames first, as links to their line; the rest folded.
            for frame in frames.iter().filter(|f| f.user_code) {
                let (Some(file), Some(line)) = (&frame.file, frame.line) else { continue };
                let text = format!("  {}:{line}  {}", short_path(file), frame.func);
                if ui.link(text).on_hover_text("Show this line").clicked() {
                    commands.push(Command::SetStep(last));
                    let func = Some(frame.func.clone());
                    commands.push(Command::ShowSource(SourceLine { file: file.clone(), line, column: None, func }));
                }
            }
            let others = frames.iter().filter(|f| !f.user_code).count();
            if others > 0 {
                ui.collapsing(format!("all {} frames ({others} outside the workflow's code)", frames.len()), |ui| {
                    for frame in frames {
                        let at = match (&frame.file, frame.line) {
                            (Some(f), Some(l)) => format!("{}:{l}", short_path(f)),
                            _ => "?".into(),
                        };
                        ui.weak(format!("  {at}  {}", frame.func));
                    }
                });
            }
        }
        OutcomeKind::Nondeterministic => {
            let Some(n) = &report.nondeterminism else { return };
            let link = ui.link(egui::RichText::new(&n.message).color(theme::error_color(dark)));
            if link.on_hover_text("Jump to the step").clicked() {
                commands.push(Command::SetStep(step_of(n.version).unwrap_or(last)));
            }
            // The differing fields first (what to look at), then both events whole.
            let diffs = field_diff(&n.recorded, &n.produced);
            if !diffs.is_empty() {
                ui.label(format!("{} fields differ (recorded, then produced):", diffs.len()));
                for d in diffs {
                    let side = |v: &Option<serde_json::Value>| v.as_ref().map_or("(absent)".into(), |v| v.to_string());
                    ui.monospace(format!("  {}: {} -> {}", d.path, side(&d.recorded), side(&d.produced)));
                }
            }
            egui::Grid::new("nondeterminism").num_columns(2).striped(true).show(ui, |ui| {
                ui.strong(format!("recorded at v{}", n.version));
                ui.strong("produced by the code");
                ui.end_row();
                for v in [&n.recorded, &n.produced] {
                    ui.with_layout(egui::Layout::top_down(egui::Align::Min), |ui| {
                        ui.monospace(serde_json::to_string_pretty(v).unwrap_or_default());
                    });
                }
                ui.end_row();
            });
        }
        OutcomeKind::Pending => {
            let Some(p) = &report.pending else { return };
            ui.colored_label(theme::warn_color(dark), "the log ends here; the workflow would append (not in the log):");
            for key in &p.would_append {
                ui.monospace(format!("  {key}"));
            }
            if let Some(r) = &p.would_finish {
                ui.monospace(format!("  finished {}", serde_json::to_string(r).unwrap_or_default()));
            }
        }
        OutcomeKind::Blocked => {
            let Some(b) = &report.blocked else { return };
            let text = format!(
                "blocked at v{} in {}: waits for {} (not in the log)",
                b.version,
                b.join_set_id,
                b.waiting_for.join(", ")
            );
            if ui.link(text).on_hover_text("Jump to the step").clicked() {
                commands.push(Command::SetStep(step_of(b.version).unwrap_or(last)));
            }
        }
        OutcomeKind::Finished if !report.consistent => {
            ui.colored_label(theme::error_color(dark), "finished with another return value than the log's");
        }
        _ => {}
    }
}
