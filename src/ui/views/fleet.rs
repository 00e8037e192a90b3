//! The Fleet screen: every tenant of the source from its fleet index, with triage counts
//! (running, blocked, failed in the last hours, stuck), backup lag and health; a scan with
//! progress and cancel; a search over all tenants' executions whose hits open in time travel.

use std::path::PathBuf;

use egui_extras::{Column, TableBuilder};

use crate::ui::app::App;
use crate::ui::command::Command;
use crate::ui::model::tenants::age;
use crate::ui::theme;

const STATES: [(&str, &str); 5] = [
    ("", "any state"),
    ("pending_at", "pending"),
    ("locked", "running"),
    ("blocked_by_join_set", "blocked"),
    ("finished", "finished"),
];
const RESULTS: [(&str, &str); 4] = [("", "any result"), ("ok", "ok"), ("err", "err"), ("failed", "failed")];

pub fn ui(app: &mut App, ui: &mut egui::Ui, commands: &mut Vec<Command>) {
    let now = app.now();
    let dark = ui.visuals().dark_mode;
    let source = app.source.short_label();
    let Some(model) = &mut app.fleet else { return };
    ui.horizontal(|ui| {
        super::heading(ui, &format!("Fleet of {source}"));
        match &model.scan {
            Some((done, total, _)) => {
                ui.spinner();
                ui.label(format!("scanning {done} of {total} tenants…"));
                if ui.button("Cancel").clicked() {
                    commands.push(Command::CancelFleetScan);
                }
            }
            None => {
                let hint = "Refresh every tenant's cached restore (only what is new) and index its executions";
                if ui.button("Scan").on_hover_text(hint).clicked() {
                    commands.push(Command::ScanFleet);
                }
                if model.task.is_some() {
                    ui.spinner();
                }
            }
        }
        if let Some(at) = model.loaded_at {
            ui.weak(format!("{} tenants indexed", model.counts.len())).on_hover_text(format!(
                "{}\nread {}",
                model.index.display(),
                crate::format::time(at)
            ));
        }
    });
    if let Some(e) = &model.error {
        ui.colored_label(theme::error_color(dark), e);
    }
    if model.counts.is_empty() && model.task.is_none() {
        ui.label("Not scanned yet: Scan reads every tenant into the index.");
        return;
    }
    ui.horizontal(|ui| {
        ui.label("Failed and stuck within the last");
        let mut hours = model.hours;
        if ui.add(egui::DragValue::new(&mut hours).range(1..=24 * 365).suffix(" h")).changed() {
            model.hours = hours;
            commands.push(Command::SearchFleet);
        }
    });
    let height = ui.text_style_height(&egui::TextStyle::Body) + 6.0;
    ui.push_id("fleet-tenants", |ui| {
        ui.style_mut().wrap_mode = Some(egui::TextWrapMode::Truncate);
        TableBuilder::new(ui)
            .striped(true)
            .max_scroll_height(240.0)
            .column(Column::auto().at_least(120.0))
            .column(Column::auto().at_least(190.0))
            .columns(Column::auto().at_least(70.0), 6)
            .column(Column::remainder())
            .header(height, |mut h| {
                for name in
                    ["Tenant", "Point", "Backup lag", "Executions", "Running", "Blocked", "Failed", "Stuck", "Health"]
                {
                    h.col(|ui| {
                        ui.strong(name);
                    });
                }
            })
            .body(|body| {
                body.rows(height, model.counts.len(), |mut r| {
                    let c = &model.counts[r.index()];
                    let t = &c.tenant;
                    r.col(|ui| {
                        ui.label(&t.name);
                    });
                    r.col(|ui| {
                        ui.label(t.point.as_deref().unwrap_or("-"));
                    });
                    r.col(|ui| {
                        ui.label(age(t.latest_at, now));
                    });
                    r.col(|ui| {
                        ui.label(t.executions.to_string());
                    });
                    for (n, warn) in [(c.running, false), (c.blocked, false), (c.failed_since, true), (c.stuck, true)] {
                        r.col(|ui| {
                            if warn && n > 0 {
                                ui.colored_label(theme::error_color(dark), n.to_string());
                            } else {
                                ui.label(n.to_string());
                            }
                        });
                    }
                    r.col(|ui| match (&t.error, t.problems.is_empty()) {
                        (Some(e), _) => {
                            ui.colored_label(theme::error_color(dark), e);
                        }
                        (None, false) => {
                            ui.colored_label(theme::warn_color(dark), t.problems.join("; "));
                        }
                        (None, true) => {
                            ui.colored_label(theme::ok_color(dark), "ok");
                        }
                    });
                });
            });
    });
    ui.separator();
    search_ui(model, ui, commands);
}

fn search_ui(model: &mut crate::ui::model::fleet::FleetModel, ui: &mut egui::Ui, commands: &mut Vec<Command>) {
    let mut go = false;
    ui.horizontal(|ui| {
        super::heading(ui, "Search every tenant");
        let f = &mut model.fields;
        let label = |v: &str, list: &[(&str, &'static str)]| list.iter().find(|(k, _)| *k == v).map_or("?", |(_, l)| l);
        egui::ComboBox::from_id_salt("fleet-state").selected_text(label(&f.state, &STATES)).show_ui(ui, |ui| {
            for (k, l) in STATES {
                go |= ui.selectable_value(&mut f.state, k.to_owned(), l).clicked();
            }
        });
        egui::ComboBox::from_id_salt("fleet-result").selected_text(label(&f.result, &RESULTS)).show_ui(ui, |ui| {
            for (k, l) in RESULTS {
                go |= ui.selectable_value(&mut f.result, k.to_owned(), l).clicked();
            }
        });
        let enter = |r: egui::Response| r.lost_focus() && r.ctx.input(|i| i.key_pressed(egui::Key::Enter));
        go |= enter(super::labelled_field(ui, "Function prefix", &mut f.ffqn, "fleet-ffqn", 180.0));
        go |= enter(super::labelled_field(ui, "Error words", &mut f.text, "fleet-text", 180.0));
        go |= ui.button("Search").clicked();
        ui.weak(format!("{} executions", model.hits.len()));
    });
    if go {
        commands.push(Command::SearchFleet);
    }
    let height = ui.text_style_height(&egui::TextStyle::Body) + 6.0;
    let database = |tenant: &str| {
        model.counts.iter().find(|c| c.tenant.name == tenant).and_then(|c| c.tenant.database.clone()).map(PathBuf::from)
    };
    ui.push_id("fleet-hits", |ui| {
        ui.style_mut().wrap_mode = Some(egui::TextWrapMode::Truncate);
        TableBuilder::new(ui)
            .striped(true)
            .column(Column::auto().at_least(120.0))
            .column(Column::auto().at_least(300.0))
            .column(Column::auto().at_least(130.0))
            .column(Column::auto().at_least(220.0))
            .column(Column::auto().at_least(160.0))
            .column(Column::remainder())
            .header(height, |mut h| {
                for name in ["Tenant", "Execution", "State", "Function", "Result", "Finished / updated"] {
                    h.col(|ui| {
                        ui.strong(name);
                    });
                }
            })
            .body(|body| {
                body.rows(height, model.hits.len(), |mut r| {
                    let hit = &model.hits[r.index()];
                    r.col(|ui| {
                        ui.label(&hit.tenant);
                    });
                    r.col(|ui| {
                        let link = ui.link(&hit.execution_id);
                        let link = match &hit.error_text {
                            Some(t) => link.on_hover_text(t.chars().take(400).collect::<String>()),
                            None => link,
                        };
                        if link.clicked()
                            && let (Some(db), Ok(id)) = (database(&hit.tenant), hit.execution_id.parse())
                        {
                            commands.push(Command::OpenIndexed {
                                tenant: hit.tenant.clone(),
                                database: db,
                                execution: id,
                            });
                        }
                    });
                    r.col(|ui| {
                        ui.label(&hit.state);
                    });
                    r.col(|ui| {
                        ui.label(&hit.ffqn);
                    });
                    r.col(|ui| {
                        ui.label(hit.result.as_deref().unwrap_or("-"));
                    });
                    r.col(|ui| {
                        ui.label(crate::format::time(hit.finished_at.unwrap_or(hit.updated_at)));
                    });
                });
            });
    });
}
