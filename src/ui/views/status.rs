//! The status bar: what is running, and the last message or error.

use crate::ui::app::App;
use crate::ui::command::Command;
use crate::ui::theme;

pub fn ui(app: &App, ui: &mut egui::Ui, commands: &mut Vec<Command>) {
    ui.horizontal(|ui| {
        if app.busy() {
            ui.add(egui::Spinner::new().size(12.0));
            let what = if app.tenants.loading.is_some() {
                format!("listing tenants: {}", app.tenants.progress)
            } else if app.restore.running.is_some() {
                "restoring".to_owned()
            } else if app.executions_task.is_some() {
                "reading executions".to_owned()
            } else if app.tree_task.is_some() {
                "replaying execution".to_owned()
            } else {
                "loading restore points".to_owned()
            };
            ui.label(what);
            ui.separator();
        }
        if let Some(m) = &app.message {
            let dark = ui.visuals().dark_mode;
            let text = egui::RichText::new(&m.text);
            ui.label(if m.error { text.color(theme::error_color(dark)) } else { text });
            if ui.small_button("Dismiss").clicked() {
                commands.push(Command::DismissMessage);
            }
        } else if !app.busy() {
            ui.weak("Ready");
        }
    });
}
