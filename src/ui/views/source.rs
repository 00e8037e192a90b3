//! The source pane: the workflow's source (stored in the database, or from a folder the user
//! picks) with the line that produced the cursor's event highlighted and scrolled into view,
//! Rust colouring from `egui_extras`; above it, how the re-execution went (compiling, progress
//! with cancel, the outcome, or why there is none).

use egui_extras::syntax_highlighting::{CodeTheme, highlight};

use crate::rerun::{OutcomeKind, Report, SourceLine, short_path};
use crate::ui::command::Command;
use crate::ui::dialogs::DialogPurpose;
use crate::ui::model::rerun::{RerunModel, SourceOrigin};
use crate::ui::model::timetravel::TimeTravel;
use crate::ui::theme;

/// What the pane shows for the cursor: a line, and why.
pub struct Shown<'a> {
    pub line: Option<SourceLine>,
    /// `call at line` / `trap` / `pinned`, or why there is no line.
    pub note: String,
    pub report: Option<&'a Report>,
}

/// The line for the cursor's step of `tt` in `model`.
pub fn shown<'a>(tt: &TimeTravel, model: &'a RerunModel) -> Shown<'a> {
    let id = &tt.current().id;
    let step = tt.current().step;
    let report = match model.report(id) {
        Some(Ok(r)) => r,
        // The status line above says why.
        Some(Err(_)) => return Shown { line: None, note: String::new(), report: None },
        None => {
            let note = if model.ids.contains(id) { "" } else { "not a workflow execution: nothing to re-execute" };
            return Shown { line: None, note: note.into(), report: None };
        }
    };
    if let Some((at, line)) = &model.pinned
        && *at == step
    {
        return Shown { line: Some(line.clone()), note: "pinned".into(), report: Some(report) };
    }
    let version = RerunModel::cursor_version(tt);
    if RerunModel::stop_reached(report, version)
        && let Some(line) = RerunModel::stop_line(report)
    {
        return Shown { line: Some(line.clone()), note: report.outcome.as_str().to_owned(), report: Some(report) };
    }
    match RerunModel::step_at(report, version) {
        Some(s) if s.source.is_some() => {
            let note = if Some(s.version) == version { s.call.clone() } else { format!("{} (v{})", s.call, s.version) };
            Shown { line: s.source.clone(), note, report: Some(report) }
        }
        _ => Shown { line: None, note: "not made by the workflow's code".into(), report: Some(report) },
    }
}

/// True when the cursor's execution has a report with source lines (the pane shows code).
pub fn has_code(tt: &TimeTravel, model: &RerunModel) -> bool {
    matches!(model.report(&tt.current().id), Some(Ok(r)) if r.steps.iter().any(|s| s.source.is_some()) || r.trap.is_some())
}

pub fn ui(tt: &TimeTravel, model: &mut RerunModel, ui: &mut egui::Ui, commands: &mut Vec<Command>) {
    let dark = ui.visuals().dark_mode;
    ui.horizontal(|ui| {
        status(tt, model, ui, commands, dark);
        ui.with_layout(egui::Layout::right_to_left(egui::Align::Center), |ui| {
            let hint = "Read the workflow's source from a folder instead of the database";
            if ui.small_button("Source folder…").on_hover_text(hint).clicked() {
                commands.push(Command::Dialog(DialogPurpose::SourceFolder));
            }
            if let SourceOrigin::Folder(dir) = &model.origin {
                ui.weak(format!("source from {}", dir.display()));
            }
            if let Some(c) = &model.candidate {
                let name = c.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
                ui.weak(format!("re-executed with {name}")).on_hover_text(format!(
                    "{}\nThe source shown is the recorded build's when the candidate's is not stored.",
                    c.display()
                ));
            }
        });
    });
    let shown = shown(tt, model);
    let file =
        shown.line.as_ref().map(|l| l.file.clone()).or_else(|| {
            shown.report.and_then(|r| r.steps.iter().find_map(|s| s.source.as_ref().map(|l| l.file.clone())))
        });
    ui.horizontal(|ui| match &shown.line {
        Some(l) => {
            let text = model.file(&l.file).and_then(|t| t.lines().nth(l.line as usize - 1)).unwrap_or("").trim();
            ui.strong(format!("{}:{}", short_path(&l.file), l.line)).on_hover_text(&l.file);
            ui.weak(&shown.note);
            ui.monospace(text);
        }
        None => {
            ui.weak(&shown.note);
        }
    });
    let Some(file) = file else { return };
    let Some(text) = model.file(&file).cloned() else {
        ui.horizontal(|ui| {
            let why = if model.files_task.is_some() {
                "reading the source…"
            } else {
                "the source is not stored in the database"
            };
            ui.label(format!("{}: {why}", short_path(&file)));
            if ui.button("Choose source folder…").clicked() {
                commands.push(Command::Dialog(DialogPurpose::SourceFolder));
            }
        });
        return;
    };
    let line = shown.line.as_ref().filter(|l| l.file == file).map(|l| l.line);
    let key = line.map(|l| (file.clone(), l));
    let scroll = key.is_some() && model.scrolled_to != key;
    if scroll {
        model.scrolled_to = key;
    }
    code(ui, &text, line, scroll, dark);
}

/// Compiling, progress and cancel, the outcome, or why there is none.
fn status(tt: &TimeTravel, model: &RerunModel, ui: &mut egui::Ui, commands: &mut Vec<Command>, dark: bool) {
    {
        ui.strong("Re-execution");
        if model.running() {
            ui.spinner();
            let p = model.progress;
            if p.compiling {
                ui.label("compiling the workflow's component (first time only)…");
            } else {
                // Before the job counts them, the tree's workflow executions.
                let total = if p.total > 0 { p.total } else { model.ids.len() }.max(1);
                ui.label(format!("re-executing {} of {total}", (p.done + 1).min(total)));
            }
            if ui.button("Cancel").clicked() {
                commands.push(Command::CancelRerun);
            }
            return;
        }
        if let Some(e) = &model.error {
            ui.colored_label(theme::error_color(dark), e);
            return;
        }
        if model.cancelled && model.report(&tt.current().id).is_none() {
            ui.weak("cancelled");
            if ui.button("Re-execute").clicked() {
                commands.push(Command::Rerun);
            }
            return;
        }
        match model.report(&tt.current().id) {
            Some(Ok(r)) => {
                let color = match (r.consistent, r.outcome) {
                    (true, _) => theme::ok_color(dark),
                    (false, OutcomeKind::Nondeterministic) => theme::error_color(dark),
                    _ => theme::warn_color(dark),
                };
                ui.colored_label(color, r.outcome.as_str());
                ui.weak(format!("{}/{} events replayed", r.matched, r.total));
                if !r.consistent {
                    ui.colored_label(theme::warn_color(dark), "does not agree with the log");
                }
            }
            Some(Err(e)) => {
                ui.colored_label(theme::warn_color(dark), e);
            }
            None => {}
        }
    }
}

/// The code with line numbers, `line` (1-based) highlighted and, when `scroll`, centred.
fn code(ui: &mut egui::Ui, text: &str, line: Option<u32>, scroll: bool, dark: bool) {
    let theme = CodeTheme::from_style(ui.style());
    let mut job = highlight(ui.ctx(), ui.style(), &theme, text, "rs");
    job.wrap.max_width = f32::INFINITY;
    let font = egui::TextStyle::Monospace.resolve(ui.style());
    let count = text.lines().count().max(1);
    let numbers: String = (1..=count).map(|i| format!("{i:>4}\n")).collect();
    egui::ScrollArea::both().id_salt("source-scroll").auto_shrink([false, false]).show(ui, |ui| {
        let painter = ui.painter().clone();
        let numbers = painter.layout_no_wrap(numbers, font.clone(), ui.visuals().weak_text_color());
        let code = painter.layout_job(job);
        let gap = 12.0;
        let numbers_width = numbers.size().x;
        let size = egui::vec2(numbers.size().x + gap + code.size().x, numbers.size().y.max(code.size().y));
        let (rect, _) = ui.allocate_exact_size(size, egui::Sense::hover());
        if let Some(l) = line
            && let Some(row) = numbers.rows.get(l as usize - 1)
        {
            let r = row.rect().translate(rect.min.to_vec2());
            let band = egui::Rect::from_x_y_ranges(rect.x_range().union(ui.clip_rect().x_range()), r.y_range());
            painter.rect_filled(band, 0.0, theme::highlight_color(dark));
            if scroll {
                // Centre the line vertically; horizontally, back to the line numbers.
                let left = egui::Rect::from_x_y_ranges(rect.min.x..=rect.min.x + 1.0, r.y_range());
                ui.scroll_to_rect(left, Some(egui::Align::Center));
            }
        }
        painter.galley(rect.min, numbers, ui.visuals().weak_text_color());
        painter.galley(rect.min + egui::vec2(numbers_width + gap, 0.0), code, ui.visuals().text_color());
    });
}
