//! The menu bar and the screen switcher.

use crate::ui::app::{App, Screen};
use crate::ui::command::Command;
use crate::ui::dialogs::DialogPurpose;
use crate::ui::theme::ThemeChoice;

pub fn ui(app: &App, ui: &mut egui::Ui, commands: &mut Vec<Command>) {
    egui::MenuBar::new().ui(ui, |ui| {
        ui.menu_button("File", |ui| {
            if ui.button("Open database…").clicked() {
                commands.push(Command::Dialog(DialogPurpose::OpenDatabase));
            }
            if ui.button("Add replica folder…").clicked() {
                commands.push(Command::Dialog(DialogPurpose::AddFolder));
            }
            if ui.button("Import litestream.yml…").clicked() {
                commands.push(Command::Dialog(DialogPurpose::ImportConfig));
            }
            ui.separator();
            if ui.add_enabled(app.opened.is_some(), egui::Button::new("Save restored database…")).clicked() {
                commands.push(Command::Dialog(DialogPurpose::ExportDatabase));
            }
            if ui.add_enabled(app.timetravel.is_some(), egui::Button::new("Export execution as JSON…")).clicked() {
                commands.push(Command::Dialog(DialogPurpose::ExportExecution));
            }
            if !app.settings.recent_files.is_empty() {
                ui.separator();
                ui.menu_button("Recent files", |ui| {
                    for path in &app.settings.recent_files {
                        if ui.button(path.display().to_string()).clicked() {
                            commands.push(Command::OpenFile(path.clone()));
                        }
                    }
                });
            }
        });
        ui.menu_button("View", |ui| {
            for (choice, name) in [(ThemeChoice::Dark, "Dark theme"), (ThemeChoice::Light, "Light theme")] {
                if ui.radio(app.settings.theme == choice, name).clicked() {
                    commands.push(Command::SetTheme(choice));
                }
            }
        });
        ui.separator();
        let screens = [
            (Screen::Fleet, "Tenants", true),
            (
                Screen::Executions,
                "Executions",
                app.opened.is_some() && app.timetravel.is_none() || app.executions.is_some(),
            ),
            (Screen::TimeTravel, "Time travel", app.timetravel.is_some()),
            (Screen::Upgrade, "Upgrade check", app.upgrade.is_some()),
        ];
        for (screen, name, enabled) in screens {
            let r = ui.add_enabled(enabled, egui::Button::selectable(app.screen == screen, name));
            if r.clicked() {
                commands.push(Command::Show(screen));
            }
        }
        let fleet = egui::Button::selectable(app.screen == Screen::FleetIndex, "Fleet");
        let hint = "Every tenant of the source in one index: triage counts and a search";
        if ui.add_enabled(!app.tenants.rows().is_empty(), fleet).on_hover_text(hint).clicked() {
            commands.push(Command::ShowFleet);
        }
    });
}
