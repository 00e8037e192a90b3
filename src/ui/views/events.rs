//! The event table of the current execution: one row per step (log events and responses
//! arriving), colored by kind, virtual rows, the cursor's row selected and kept in view.

use egui_extras::{Column, TableBuilder};

use crate::ui::command::Command;
use crate::ui::model::timetravel::TimeTravel;

pub fn ui(tt: &mut TimeTravel, ui: &mut egui::Ui, commands: &mut Vec<Command>) {
    let rows = tt.rows();
    let view = tt.view().to_vec();
    let cursor = tt.current().step;
    let dark = ui.visuals().dark_mode;
    // Selectable labels would take the press for text selection, and a click on a row's text
    // would not reach the row (a real pointer press and release are frames apart).
    ui.style_mut().interaction.selectable_labels = false;
    let mut table = TableBuilder::new(ui)
        .id_salt(("events", tt.current().id.to_string()))
        .striped(true)
        .resizable(true)
        .sense(egui::Sense::click())
        .cell_layout(egui::Layout::left_to_right(egui::Align::Center))
        .column(Column::initial(54.0))
        .column(Column::initial(44.0))
        .column(Column::initial(190.0))
        .column(Column::initial(150.0))
        .column(Column::remainder().clip(true));
    if std::mem::take(&mut tt.scroll_to_cursor)
        && let Ok(pos) = view.binary_search(&cursor)
    {
        table = table.scroll_to_row(pos, Some(egui::Align::Center));
    }
    table
        .header(20.0, |mut h| {
            for name in ["Step", "Ver", "Time", "Kind", "Detail"] {
                h.col(|ui| {
                    ui.strong(name);
                });
            }
        })
        .body(|body| {
            body.rows(20.0, view.len(), |mut row| {
                let step = view[row.index()];
                let r = &rows[step];
                row.set_selected(step == cursor);
                row.col(|ui| {
                    ui.label(step.to_string());
                });
                row.col(|ui| {
                    ui.label(r.version.map(|v| format!("v{v}")).unwrap_or_default());
                });
                row.col(|ui| {
                    ui.label(r.at.format("%H:%M:%S%.3f").to_string()).on_hover_text(crate::format::time(r.at));
                });
                row.col(|ui| {
                    ui.colored_label(r.color.color(dark), &r.kind);
                });
                row.col(|ui| {
                    ui.label(&r.detail);
                });
                if row.response().clicked() {
                    commands.push(Command::SetStep(step));
                }
            });
        });
}
