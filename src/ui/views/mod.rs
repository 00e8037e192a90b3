//! The views: one file per view. Each draws part of the [`App`] and pushes [`Command`]s; filter
//! fields update their model directly (the model rebuilds its cached view on change).

mod breadcrumb;
mod events;
mod executions;
mod findings;
mod fleet;
mod inspector;
mod json_tree;
mod menu;
mod outcome;
mod restore_points;
mod scrubber;
mod source;
pub mod sources;
mod status;
mod step_code;
mod tenants;
mod timetravel;
mod upgrade;

use super::app::{App, Screen};
use super::command::Command;

/// Draw the whole window.
pub fn draw(app: &mut App, ui: &mut egui::Ui, commands: &mut Vec<Command>) {
    egui::Panel::top("top").show(ui, |ui| {
        menu::ui(app, ui, commands);
        breadcrumb::ui(app, ui, commands);
    });
    egui::Panel::bottom("status").show(ui, |ui| status::ui(app, ui, commands));
    match app.screen {
        Screen::Fleet => {
            egui::Panel::left("sources").resizable(true).default_size(230.0).show(ui, |ui| {
                sources::ui(app, ui, commands);
                fill(ui);
            });
            if app.tenants.selected.is_some() {
                egui::Panel::bottom("restore-points").resizable(true).default_size(300.0).show(ui, |ui| {
                    restore_points::ui(app, ui, commands);
                    fill(ui);
                });
            }
            egui::CentralPanel::default().show(ui, |ui| tenants::ui(app, ui, commands));
        }
        Screen::Executions => {
            egui::CentralPanel::default().show(ui, |ui| executions::ui(app, ui, commands));
        }
        Screen::TimeTravel => timetravel::ui(app, ui, commands),
        Screen::FleetIndex => {
            egui::CentralPanel::default().show(ui, |ui| fleet::ui(app, ui, commands));
        }
        Screen::Upgrade => {
            egui::CentralPanel::default().show(ui, |ui| upgrade::ui(app, ui, commands));
        }
    }
}

/// A text field with a visible label that is also its accessible name.
pub fn labelled_field(ui: &mut egui::Ui, label: &str, text: &mut String, id: &str, width: f32) -> egui::Response {
    let label_id = ui.label(label).id;
    ui.add(egui::TextEdit::singleline(text).id(egui::Id::unique(id)).desired_width(width)).labelled_by(label_id)
}

/// A heading with the app's spacing.
pub fn heading(ui: &mut egui::Ui, text: &str) {
    ui.add_space(2.0);
    ui.strong(text);
    ui.add_space(2.0);
}

/// Take the rest of a panel, so its size does not depend on what it showed first.
pub fn fill(ui: &mut egui::Ui) {
    let size = ui.available_size();
    if size.x > 0.0 && size.y > 0.0 {
        ui.allocate_space(size);
    }
}
