//! The time-travel screen: step controls and scrubber on top, the event table in the middle,
//! the inspector on the right, findings at the bottom.

use crate::ui::app::App;
use crate::ui::command::Command;

pub fn ui(app: &mut App, ui: &mut egui::Ui, commands: &mut Vec<Command>) {
    let focus = app.focus_filter;
    let Some(tt) = &mut app.timetravel else {
        egui::CentralPanel::default().show(ui, |ui| {
            ui.label("Open an execution from the executions table.");
        });
        return;
    };
    egui::Panel::top("scrubber").show(ui, |ui| {
        ui.horizontal(|ui| {
            let id = tt.current().id.to_string();
            let ffqn = tt.node().and_then(|n| n.ffqn.as_ref()).map(|f| f.to_string()).unwrap_or_default();
            ui.strong(id);
            ui.label(ffqn);
        });
        ui.horizontal(|ui| {
            if ui.button("⏮ First").on_hover_text("Home").clicked() {
                commands.push(Command::StepFirst);
            }
            if ui.button("◀ Back").on_hover_text("Left or k").clicked() {
                commands.push(Command::StepBy(-1));
            }
            if ui.button("Next ▶").on_hover_text("Right or j").clicked() {
                commands.push(Command::StepBy(1));
            }
            if ui.button("Last ⏭").on_hover_text("End").clicked() {
                commands.push(Command::StepLast);
            }
            ui.label(format!("Step {} / {}", tt.current().step, tt.len().saturating_sub(1)));
            ui.separator();
            if ui
                .add_enabled(tt.stack().len() > 1, egui::Button::new("⬅ Step out"))
                .on_hover_text("Backspace")
                .clicked()
            {
                commands.push(Command::StepOut);
            }
            if let Some(child) = tt.child_at_cursor()
                && ui.button(format!("Step into {child} ⮩")).on_hover_text("Enter").clicked()
            {
                commands.push(Command::StepInto(child));
            }
            ui.separator();
            let mut filter = tt.filter().to_owned();
            let r = super::labelled_field(ui, "Filter steps", &mut filter, "step-filter", 140.0);
            if focus {
                r.request_focus();
            }
            tt.set_filter(&filter);
            if !filter.is_empty() {
                ui.weak(format!("{} match", tt.view().len()));
            }
        });
        super::scrubber::ui(tt, ui, commands);
    });
    let report = app.rerun.as_ref().and_then(|r| r.report(&tt.current().id)).and_then(|r| r.as_ref().ok());
    let findings = tt.replay().map_or(0, |r| r.findings().len());
    let outcome = report.filter(|r| super::outcome::has_findings(r));
    if findings > 0 || outcome.is_some() {
        egui::Panel::bottom("findings").resizable(true).default_size(130.0).show(ui, |ui| {
            egui::ScrollArea::vertical().id_salt("outcome-scroll").show(ui, |ui| {
                // What the log itself holds first, then what re-executing it found.
                if findings > 0 {
                    super::findings::ui(tt, ui, commands);
                }
                if let Some(report) = outcome {
                    super::outcome::ui(tt, report, ui, commands);
                }
            });
            super::fill(ui);
        });
    }
    egui::Panel::right("inspector")
        .resizable(true)
        .default_size(460.0)
        .show(ui, |ui| super::inspector::ui(tt, report, ui, commands));
    if let Some(model) = &mut app.rerun {
        // The code view when there is code to show; otherwise just the status line.
        if super::source::has_code(tt, model) {
            egui::Panel::bottom("source").resizable(true).default_size(300.0).show(ui, |ui| {
                super::source::ui(tt, model, ui, commands);
                super::fill(ui);
            });
        } else {
            egui::Panel::bottom("source-status")
                .resizable(false)
                .show(ui, |ui| super::source::ui(tt, model, ui, commands));
        }
    }
    egui::CentralPanel::default().show(ui, |ui| super::events::ui(tt, ui, commands));
}
