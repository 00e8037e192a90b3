//! The tenants table: name, format, latest restore point and its age, size, objects, problems;
//! sortable by clicking a header, filtered by name.

use egui_extras::{Column, TableBuilder};

use crate::ui::app::App;
use crate::ui::command::Command;
use crate::ui::dialogs::DialogPurpose;
use crate::ui::model::tenants::{TenantSort, age, format_name};
use crate::ui::theme;

pub fn ui(app: &mut App, ui: &mut egui::Ui, commands: &mut Vec<Command>) {
    ui.horizontal(|ui| {
        super::heading(ui, &format!("Tenants of {}", app.source.label()));
        ui.add_space(12.0);
        let mut filter = app.tenants.filter().to_owned();
        let r = super::labelled_field(ui, "Filter tenants", &mut filter, "tenant-filter", 160.0);
        if app.focus_filter {
            r.request_focus();
        }
        app.tenants.set_filter(&filter);
        ui.weak(format!("{} of {}", app.tenants.view().len(), app.tenants.rows().len()));
        ui.add_space(12.0);
        let can = app.tenants.loading.is_none() && !app.tenants.rows().is_empty();
        let hint = "Re-execute every tenant's unfinished workflow executions against a candidate build (.wasm)";
        if ui.add_enabled(can, egui::Button::new("Upgrade check…")).on_hover_text(hint).clicked() {
            commands.push(Command::Dialog(DialogPurpose::UpgradeComponent));
        }
    });
    if let Some(run) = &app.tenants.loading {
        ui.horizontal(|ui| {
            ui.add(egui::Spinner::new());
            ui.label(format!(
                "Looking for replicas… {} ({:.1} s)",
                app.tenants.progress,
                run.started.elapsed().as_secs_f32()
            ));
        });
        return;
    }
    if let Some(e) = &app.tenants.error {
        ui.colored_label(theme::error_color(ui.visuals().dark_mode), format!("Cannot list tenants: {e}"));
        return;
    }
    if app.tenants.rows().is_empty() {
        ui.label("No Litestream replicas found under this source.");
        return;
    }
    let now = app.now();
    let dark = ui.visuals().dark_mode;
    let sort = app.tenants.sort();
    let mut sort_click = None;
    let header = |ui: &mut egui::Ui, name: &str, key: TenantSort, sort_click: &mut Option<TenantSort>| {
        let arrow = match sort {
            Some((k, true)) if k == key => " ⬆",
            Some((k, false)) if k == key => " ⬇",
            _ => "",
        };
        if ui
            .add(egui::Button::new(egui::RichText::new(format!("{name}{arrow}")).strong()).frame(false))
            .on_hover_text("Sort")
            .clicked()
        {
            *sort_click = Some(key);
        }
    };
    let view = app.tenants.view().to_vec();
    let selected = app.tenants.selected;
    TableBuilder::new(ui)
        .id_salt("tenants")
        .striped(true)
        .resizable(true)
        .cell_layout(egui::Layout::left_to_right(egui::Align::Center))
        .column(Column::initial(180.0).at_least(80.0))
        .column(Column::initial(70.0))
        .column(Column::initial(240.0))
        .column(Column::initial(60.0))
        .column(Column::initial(80.0))
        .column(Column::initial(70.0))
        .column(Column::remainder().at_least(80.0))
        .header(22.0, |mut h| {
            h.col(|ui| header(ui, "Tenant", TenantSort::Name, &mut sort_click));
            h.col(|ui| header(ui, "Format", TenantSort::Format, &mut sort_click));
            h.col(|ui| header(ui, "Latest restore point", TenantSort::Latest, &mut sort_click));
            h.col(|ui| header(ui, "Age", TenantSort::Age, &mut sort_click));
            h.col(|ui| header(ui, "Size", TenantSort::Size, &mut sort_click));
            h.col(|ui| header(ui, "Objects", TenantSort::Objects, &mut sort_click));
            h.col(|ui| header(ui, "Problems", TenantSort::Problems, &mut sort_click));
        })
        .body(|body| {
            body.rows(22.0, view.len(), |mut row| {
                let index = view[row.index()];
                let Some(r) = app.tenants.row(index) else { return };
                let t = &r.tenant;
                row.set_selected(selected == Some(index));
                row.col(|ui| {
                    if ui.selectable_label(selected == Some(index), &r.name).clicked() {
                        commands.push(Command::SelectTenant(index));
                    }
                });
                row.col(|ui| {
                    ui.label(format_name(&t.format));
                });
                row.col(|ui| {
                    let time = t.latest.map(crate::format::time).unwrap_or_else(|| "-".into());
                    match &t.latest_txid {
                        Some(txid) => ui.label(format!("{time} · TXID {txid}")),
                        None => ui.label(time),
                    };
                });
                row.col(|ui| {
                    ui.label(age(t.latest, now)).on_hover_text("How far behind the backup may be");
                });
                row.col(|ui| {
                    ui.label(crate::format::bytes(t.bytes));
                });
                row.col(|ui| {
                    ui.label(t.objects.to_string());
                });
                row.col(|ui| {
                    if t.problems.is_empty() {
                        ui.weak("none");
                    } else {
                        ui.colored_label(theme::warn_color(dark), t.problems.join("; "));
                    }
                });
            });
        });
    if let Some(key) = sort_click {
        app.tenants.sort_by(key);
    }
}
