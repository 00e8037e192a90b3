//! The upgrade check screen: which candidate build, progress over the tenants with cancel, the
//! totals, and a live table of verdicts (one row per execution); a click on an execution opens
//! it in time travel at the step where the candidate stops agreeing with the log.

use egui_extras::{Column, TableBuilder};

use crate::fleet::upgrade::Verdict;
use crate::ui::app::App;
use crate::ui::command::Command;
use crate::ui::model::upgrade::RowText;
use crate::ui::theme;

pub fn ui(app: &mut App, ui: &mut egui::Ui, commands: &mut Vec<Command>) {
    let dark = ui.visuals().dark_mode;
    let Some(model) = &mut app.upgrade else {
        ui.label("No upgrade check yet: pick a candidate build with “Upgrade check…” on the Tenants screen.");
        return;
    };
    ui.horizontal(|ui| {
        let name = model.component.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        super::heading(ui, &format!("Upgrade check of {name}"));
        ui.weak("against the unfinished workflow executions of every tenant")
            .on_hover_text(model.component.display().to_string());
        if model.running() {
            ui.spinner();
            if model.compiling {
                ui.label("compiling the candidate…");
            } else {
                ui.label(format!("checked {} of {} tenants", model.done(), model.names.len()));
            }
            if ui.button("Cancel").clicked() {
                commands.push(Command::CancelUpgradeCheck);
            }
        } else if model.cancelled {
            ui.weak(format!("cancelled after {} of {} tenants", model.done(), model.names.len()));
        }
    });
    if let Some(e) = &model.error {
        ui.colored_label(theme::error_color(dark), e);
        return;
    }
    ui.horizontal(|ui| {
        let counts = [
            (Verdict::Compatible, theme::ok_color(dark)),
            (Verdict::Nondeterministic, theme::error_color(dark)),
            (Verdict::Trapped, theme::warn_color(dark)),
            (Verdict::Error, theme::warn_color(dark)),
        ];
        for (v, color) in counts {
            ui.colored_label(color, format!("{} {}", model.count(v), v.as_str()));
        }
        let failed = model.tenant_errors();
        if failed > 0 {
            ui.colored_label(theme::error_color(dark), format!("{failed} tenants not checked"));
        }
        ui.add_space(12.0);
        let mut only = model.only_problems;
        if ui.checkbox(&mut only, "Only problems").changed() {
            model.set_only_problems(only);
        }
    });
    ui.separator();
    let rows = model.rows().to_vec();
    ui.style_mut().wrap_mode = Some(egui::TextWrapMode::Truncate);
    let height = ui.text_style_height(&egui::TextStyle::Body) + 6.0;
    TableBuilder::new(ui)
        .id_salt("upgrade-table")
        .striped(true)
        .column(Column::auto().at_least(110.0))
        .column(Column::auto().at_least(230.0))
        .column(Column::auto().at_least(200.0))
        .column(Column::auto().at_least(130.0))
        .column(Column::auto().at_least(120.0))
        .column(Column::remainder())
        .header(height, |mut h| {
            for name in ["Tenant", "Execution", "Function", "State", "Verdict", "Where"] {
                h.col(|ui| {
                    ui.strong(name);
                });
            }
        })
        .body(|body| {
            body.rows(height, rows.len(), |mut r| {
                let row = &rows[r.index()];
                r.col(|ui| {
                    ui.label(&row.tenant_name);
                });
                match &row.text {
                    RowText::Execution { id, ffqn, state, verdict, detail } => {
                        r.col(|ui| {
                            let hint = "Open in time travel at the step where it stops agreeing";
                            if ui.link(id.to_string()).on_hover_text(hint).clicked() {
                                commands.push(Command::OpenChecked {
                                    tenant: row.tenant,
                                    execution: row.execution.unwrap_or(0),
                                });
                            }
                        });
                        r.col(|ui| {
                            ui.label(ffqn);
                        });
                        r.col(|ui| {
                            ui.label(state);
                        });
                        r.col(|ui| {
                            let color = match verdict {
                                Verdict::Compatible => theme::ok_color(dark),
                                Verdict::Nondeterministic => theme::error_color(dark),
                                _ => theme::warn_color(dark),
                            };
                            ui.colored_label(color, verdict.as_str());
                        });
                        r.col(|ui| {
                            ui.label(detail);
                        });
                    }
                    other => {
                        let (verdict, text) = match other {
                            RowText::Waiting => ("", "waiting…".to_owned()),
                            RowText::TenantError(e) => ("error", e.clone()),
                            _ => ("", "no unfinished execution of this component".to_owned()),
                        };
                        for _ in 0..3 {
                            r.col(|ui| {
                                ui.weak("-");
                            });
                        }
                        r.col(|ui| {
                            ui.colored_label(theme::error_color(dark), verdict);
                        });
                        r.col(|ui| {
                            ui.weak(text);
                        });
                    }
                }
            });
        });
}
