//! Restore points of the selected tenant: a timeline per v0.5 level (one mark per LTX file;
//! clicking one picks its TXID) or per v0.3 generation, the restorable range, and the restore
//! controls (latest, a time, a TXID, a v0.3 generation or one of its WAL indexes) with progress, speed and Cancel.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use egui::{Color32, Sense, Stroke, pos2, vec2};

use crate::litestream::catalog::{Catalog, LtxFile};
use crate::litestream::ltx::format_txid;
use crate::litestream::plan::RestoreTarget;
use crate::litestream::v3::Generation;
use crate::ui::app::App;
use crate::ui::command::Command;
use crate::ui::model::restore::{parse_index, parse_time, parse_txid};
use crate::ui::theme;

pub fn ui(app: &mut App, ui: &mut egui::Ui, commands: &mut Vec<Command>) {
    let Some(row) = app.tenants.selected_row() else { return };
    let name = row.name.clone();
    let dark = ui.visuals().dark_mode;
    let location = row.store.describe();
    ui.horizontal(|ui| {
        super::heading(ui, &format!("Restore points of {name}"));
        ui.weak(format!("{} objects, {}", row.tenant.objects, crate::format::bytes(row.tenant.bytes)))
            .on_hover_text(location);
    });
    let catalog = match &app.restore.catalog {
        None => {
            ui.horizontal(|ui| {
                ui.add(egui::Spinner::new());
                ui.label("Reading the replica's catalog…");
            });
            return;
        }
        Some(Err(e)) => {
            ui.colored_label(theme::error_color(dark), format!("Cannot read the replica: {e}"));
            return;
        }
        Some(Ok(c)) => c.clone(),
    };
    controls(app, ui, &catalog, commands);
    ui.separator();
    egui::ScrollArea::vertical().id_salt("restore-points-scroll").show(ui, |ui| {
        if let Some(r) = &catalog.restorable {
            let txid = r.latest_txid.as_deref().map(|t| format!(" (TXID {t})")).unwrap_or_default();
            ui.label(format!(
                "Restorable from {} to {}{txid}",
                crate::format::time(r.earliest),
                crate::format::time(r.latest)
            ));
        }
        for p in &catalog.problems {
            ui.colored_label(theme::warn_color(dark), format!("Problem: {p}"));
        }
        if let Some(v5) = &catalog.v5 {
            let picked = parse_txid(&app.restore.txid).ok();
            if let Some(txid) = levels_timeline(ui, &v5.files, &v5.levels, picked, dark) {
                app.restore.txid = format_txid(txid);
            }
        }
        if let Some(v3) = &catalog.v3 {
            ui.label(format!("v0.3: {} generations", v3.generations.len()));
            let busy = app.restore.running.is_some();
            for g in &v3.generations {
                generation_row(ui, g, &mut app.restore.indexes, busy, dark, commands);
            }
        }
    });
}

/// A v0.3 generation: its objects, WAL indexes and time range, a button restoring its newest
/// state, and a WAL index field (hexadecimal) with a button restoring up to that index.
fn generation_row(
    ui: &mut egui::Ui,
    g: &Generation,
    indexes: &mut HashMap<String, String>,
    busy: bool,
    dark: bool,
    commands: &mut Vec<Command>,
) {
    let all = g.snapshots.iter().map(|s| s.index).chain(g.segments.iter().map(|s| s.index));
    let range = all.clone().min().zip(all.max());
    ui.horizontal_wrapped(|ui| {
        ui.monospace(&g.id);
        let range = range.map(|(lo, hi)| format!(", WAL indexes {lo:08x}–{hi:08x}")).unwrap_or_default();
        ui.label(format!(
            "{} snapshots, {} WAL segments{range}, from {} to {}",
            g.snapshots.len(),
            g.segments.len(),
            crate::format::time(g.created_at),
            crate::format::time(g.updated_at)
        ));
        for p in &g.problems {
            ui.colored_label(theme::warn_color(dark), p);
        }
    });
    ui.horizontal(|ui| {
        if ui.add_enabled(!busy, egui::Button::new(format!("Restore generation {}", g.id))).clicked() {
            commands.push(Command::Restore(RestoreTarget::Generation { id: g.id.clone(), index: None }));
        }
        ui.separator();
        let field = indexes.entry(g.id.clone()).or_default();
        super::labelled_field(ui, "WAL index", field, &format!("restore-index-{}", g.id), 90.0)
            .on_hover_text("Hexadecimal, as in the WAL segment names");
        let index = parse_index(field);
        let button = egui::Button::new(format!("Restore {} at index", g.id));
        let r = ui.add_enabled(!busy && index.is_ok(), button);
        let r = match (&index, field.trim().is_empty()) {
            (Err(e), false) => r.on_disabled_hover_text(e),
            _ => r,
        };
        if r.clicked()
            && let Ok(i) = index
        {
            commands.push(Command::Restore(RestoreTarget::Generation { id: g.id.clone(), index: Some(i) }));
        }
    });
}

/// Restore buttons and fields, or the running restore's progress.
fn controls(app: &mut App, ui: &mut egui::Ui, catalog: &Catalog, commands: &mut Vec<Command>) {
    let dark = ui.visuals().dark_mode;
    if app.restore.running.is_some() {
        let r = &app.restore;
        let text = r.progress_text();
        ui.horizontal(|ui| {
            let bar = match r.fraction() {
                Some(f) => egui::ProgressBar::new(f).text(text).show_percentage(),
                None => egui::ProgressBar::new(0.0).text(text).animate(true),
            };
            ui.add_sized([360.0, 18.0], bar);
            if ui.button("Cancel").on_hover_text("Cancel the restore").clicked() {
                commands.push(Command::CancelRestore);
            }
        });
        return;
    }
    ui.horizontal_wrapped(|ui| {
        if ui.button("Restore latest").clicked() {
            commands.push(Command::Restore(RestoreTarget::Latest));
        }
        ui.separator();
        if catalog.v5.is_some() {
            super::labelled_field(ui, "TXID", &mut app.restore.txid, "restore-txid", 130.0);
            let txid = parse_txid(&app.restore.txid);
            if ui.add_enabled(txid.is_ok(), egui::Button::new("Restore TXID")).clicked()
                && let Ok(t) = txid
            {
                commands.push(Command::Restore(RestoreTarget::Txid(t)));
            }
            ui.separator();
        }
        super::labelled_field(ui, "Time", &mut app.restore.time, "restore-time", 190.0);
        let time = parse_time(&app.restore.time);
        if ui.add_enabled(time.is_ok(), egui::Button::new("Restore at time")).clicked()
            && let Ok(t) = time
        {
            commands.push(Command::Restore(RestoreTarget::Timestamp(t)));
        }
    });
    if let Some(e) = &app.restore.error {
        ui.colored_label(theme::error_color(dark), format!("Restore failed: {e}"));
    }
}

/// One strip per level with a mark per LTX file; returns the TXID of a clicked mark.
fn levels_timeline(
    ui: &mut egui::Ui,
    files: &[LtxFile],
    levels: &[crate::litestream::catalog::LevelSummary],
    picked: Option<u64>,
    dark: bool,
) -> Option<u64> {
    let (Some(t0), Some(t1)) = (files.iter().map(|f| f.timestamp).min(), files.iter().map(|f| f.timestamp).max())
    else {
        return None;
    };
    let span = (t1 - t0).num_milliseconds().max(1) as f32;
    let mut clicked = None;
    let label_w = 250.0;
    for level in levels {
        ui.horizontal(|ui| {
            let what = if level.level == 9 { "snapshots".to_owned() } else { format!("level {}", level.level) };
            ui.add_sized(
                [label_w, 18.0],
                egui::Label::new(format!(
                    "{what}: {} files, TXID {:x}–{:x}",
                    level.files, level.min_txid, level.max_txid
                ))
                .truncate(),
            )
            .on_hover_text(format!("TXID {}–{}", format_txid(level.min_txid), format_txid(level.max_txid)));
            let width = (ui.available_width() - 8.0).max(100.0);
            let (resp, painter) = ui.allocate_painter(vec2(width, 18.0), Sense::click());
            let rect = resp.rect;
            painter.rect_filled(rect, 2.0, ui.visuals().extreme_bg_color);
            let x_of = |t: DateTime<Utc>| {
                rect.left() + 3.0 + (rect.width() - 6.0) * ((t - t0).num_milliseconds() as f32 / span)
            };
            let color =
                if level.level == 9 { theme::StepColor::Lifecycle } else { theme::StepColor::JoinSet }.color(dark);
            let in_level: Vec<&LtxFile> = files.iter().filter(|f| f.level == level.level).collect();
            for f in &in_level {
                let x = x_of(f.timestamp);
                let c = if picked == Some(f.max_txid) { Color32::WHITE } else { color };
                painter.line_segment([pos2(x, rect.top() + 2.0), pos2(x, rect.bottom() - 2.0)], Stroke::new(2.0, c));
            }
            let nearest = resp.hover_pos().and_then(|p| {
                in_level
                    .iter()
                    .min_by(|a, b| (x_of(a.timestamp) - p.x).abs().total_cmp(&(x_of(b.timestamp) - p.x).abs()))
                    .copied()
            });
            if let Some(f) = nearest {
                let x = x_of(f.timestamp);
                painter.line_segment(
                    [pos2(x, rect.top()), pos2(x, rect.bottom())],
                    Stroke::new(3.0, ui.visuals().strong_text_color()),
                );
                if resp.clicked() {
                    clicked = Some(f.max_txid);
                }
                resp.on_hover_text(format!(
                    "TXID {}–{} · {} · {}\nclick to pick TXID {}",
                    format_txid(f.min_txid),
                    format_txid(f.max_txid),
                    crate::format::time(f.timestamp),
                    crate::format::bytes(f.size),
                    format_txid(f.max_txid)
                ));
            }
        });
    }
    ui.horizontal(|ui| {
        ui.add_space(label_w + ui.spacing().item_spacing.x);
        ui.weak(crate::format::time(t0));
        ui.with_layout(egui::Layout::right_to_left(egui::Align::Center), |ui| {
            ui.add_space(8.0);
            ui.weak(crate::format::time(t1));
        });
    });
    clicked
}
