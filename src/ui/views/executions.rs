//! The executions table: virtual rows (only visible rows are laid out), children folded under
//! their parents, filters by state, function prefix and ID prefix.

use egui_extras::{Column, TableBuilder};

use crate::obelisk::{StatusFilter, describe};
use crate::ui::app::App;
use crate::ui::command::Command;
use crate::ui::model::executions::ExecFilter;
use crate::ui::theme;

const STATUSES: [(&str, StatusFilter); 10] = [
    ("pending", StatusFilter::Pending),
    ("locked", StatusFilter::Locked),
    ("blocked", StatusFilter::Blocked),
    ("finished", StatusFilter::Finished),
    ("unfinished", StatusFilter::Unfinished),
    ("paused", StatusFilter::Paused),
    ("cancelling", StatusFilter::Cancelling),
    ("ok", StatusFilter::Ok),
    ("err", StatusFilter::Err),
    ("failed", StatusFilter::Failed),
];

/// Room taken by a fold button, kept free on rows without children so IDs line up.
const TOGGLE_WIDTH: f32 = 36.0;

pub fn ui(app: &mut App, ui: &mut egui::Ui, commands: &mut Vec<Command>) {
    let focus = app.focus_filter;
    let opening = app.tree_task.is_some();
    let Some(model) = &mut app.executions else {
        if let Some(o) = &app.opened {
            ui.horizontal(|ui| {
                ui.add(egui::Spinner::new());
                ui.label(format!("Reading executions of {}…", o.path.display()));
            });
        } else {
            ui.label("Restore a tenant or open a database to see its executions.");
        }
        return;
    };
    let mut filter: ExecFilter = model.filter().clone();
    ui.horizontal_wrapped(|ui| {
        super::heading(ui, "Executions");
        ui.add_space(8.0);
        let label = STATUSES.iter().find(|(_, s)| Some(*s) == filter.status).map_or("any", |(n, _)| n);
        egui::ComboBox::from_label("State").selected_text(label).show_ui(ui, |ui| {
            ui.selectable_value(&mut filter.status, None, "any");
            for (name, s) in STATUSES {
                ui.selectable_value(&mut filter.status, Some(s), name);
            }
        });
        super::labelled_field(ui, "Function prefix", &mut filter.ffqn, "execution-ffqn-filter", 160.0);
        let r = super::labelled_field(ui, "ID prefix", &mut filter.id, "execution-id-filter", 160.0);
        if focus {
            r.request_focus();
        }
        if ui.button("Expand all").clicked() {
            model.expand_all();
        }
        ui.weak(format!("{} shown of {}", model.view().len(), model.all().len()));
        if opening {
            ui.add(egui::Spinner::new());
            ui.label("replaying…");
        }
    });
    model.set_filter(filter);
    let dark = ui.visuals().dark_mode;
    let mut toggle = None;
    let selected = model.selected.clone();
    let view = model.view();
    TableBuilder::new(ui)
        .id_salt("executions")
        .striped(true)
        .resizable(true)
        .cell_layout(egui::Layout::left_to_right(egui::Align::Center))
        .column(Column::initial(330.0).at_least(120.0).clip(true))
        .column(Column::initial(230.0).clip(true))
        .column(Column::initial(150.0).clip(true))
        .column(Column::initial(120.0).clip(true))
        .column(Column::initial(180.0))
        .column(Column::initial(180.0))
        .column(Column::remainder().at_least(60.0))
        .header(22.0, |mut h| {
            for name in ["ID", "Function", "State", "Result", "Created", "Last event", "Attempts"] {
                h.col(|ui| {
                    ui.strong(name);
                });
            }
        })
        .body(|body| {
            body.rows(20.0, view.len(), |mut row| {
                let r = view[row.index()];
                let e = model.get(r.index);
                row.set_selected(selected.as_ref() == Some(&e.id));
                row.col(|ui| {
                    ui.add_space(r.depth as f32 * 14.0);
                    if r.children > 0 {
                        let open = model.is_expanded(&e.id);
                        let text = if open { "⏷" } else { "⏵" };
                        let hint =
                            if open { "Hide children".to_owned() } else { format!("Show {} children", r.children) };
                        if ui.small_button(text).on_hover_text(hint).clicked() {
                            toggle = Some(e.id.clone());
                        }
                    } else {
                        ui.add_space(TOGGLE_WIDTH);
                    }
                    if ui.link(e.id.to_string()).on_hover_text("Open in time travel").clicked() {
                        commands.push(Command::OpenExecution(e.id.clone()));
                    }
                });
                row.col(|ui| {
                    ui.label(e.ffqn.to_string());
                });
                row.col(|ui| {
                    let mut state = describe::state(&e.state);
                    if e.is_paused() {
                        state.push_str(" (paused)");
                    }
                    ui.label(state);
                });
                row.col(|ui| {
                    let result = e.result_kind.as_ref().map(describe::result_kind).unwrap_or_else(|| "-".into());
                    if result == "ok" || result == "-" {
                        ui.label(result);
                    } else {
                        ui.colored_label(theme::error_color(dark), result);
                    }
                });
                row.col(|ui| {
                    ui.label(crate::format::time(e.created_at));
                });
                row.col(|ui| {
                    ui.label(e.last_event_at.map(crate::format::time).unwrap_or_else(|| "-".into()));
                });
                row.col(|ui| {
                    let failures = if e.intermittent_failures > 0 {
                        format!(", {} failed", e.intermittent_failures)
                    } else {
                        String::new()
                    };
                    ui.label(format!("{} runs{failures}", e.lock_count));
                });
            });
        });
    if let Some(id) = toggle {
        model.toggle(&id);
    }
}
