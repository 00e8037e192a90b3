//! The breadcrumb `tenant › restore point › execution › … › step`: each part navigates back,
//! and the whole line can be copied.

use crate::ui::app::App;
use crate::ui::command::Command;

pub fn ui(app: &App, ui: &mut egui::Ui, commands: &mut Vec<Command>) {
    let parts = app.breadcrumb();
    ui.horizontal_wrapped(|ui| {
        ui.spacing_mut().item_spacing.x = 4.0;
        if parts.is_empty() {
            ui.weak(format!("{} · {}", app.source.kind(), app.source.short_label())).on_hover_text(app.source.label());
            return;
        }
        let n = parts.len();
        for (i, (text, go)) in parts.into_iter().enumerate() {
            if i > 0 {
                ui.weak("›");
            }
            match go {
                Some(command) if i + 1 < n => {
                    if ui.link(&text).clicked() {
                        commands.push(command);
                    }
                }
                _ => {
                    ui.strong(text);
                }
            }
        }
        ui.add_space(8.0);
        if ui.small_button("Copy").on_hover_text("Copy the breadcrumb").clicked() {
            commands.push(Command::CopyBreadcrumb);
        }
    });
}
