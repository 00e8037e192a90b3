//! The replay engine's findings for the current execution; clicking one jumps to its step.

use crate::ui::command::Command;
use crate::ui::model::timetravel::TimeTravel;
use crate::ui::theme;

pub fn ui(tt: &TimeTravel, ui: &mut egui::Ui, commands: &mut Vec<Command>) {
    let Some(replay) = tt.replay() else { return };
    let dark = ui.visuals().dark_mode;
    ui.colored_label(theme::warn_color(dark), format!("Findings ({})", replay.findings().len()));
    egui::ScrollArea::vertical().id_salt("findings-scroll").show(ui, |ui| {
        for f in replay.findings() {
            let at = f.step.map(|s| format!("step {s}")).unwrap_or_else(|| "whole execution".into());
            let text = format!("{at} · [{}] {}", f.kind, f.message);
            match f.step {
                Some(s) => {
                    if ui.link(text).on_hover_text("Jump to the step").clicked() {
                        commands.push(Command::SetStep(s));
                    }
                }
                None => {
                    ui.label(text);
                }
            }
        }
    });
}
