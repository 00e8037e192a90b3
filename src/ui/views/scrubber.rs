//! The scrubber: the execution's timeline with one mark per step, colored by kind (responses
//! arriving drawn as marks from the top), the cursor, and the spans of children. Click or drag
//! to move the cursor. Long logs are drawn per pixel column, not per step.

use egui::{Sense, Stroke, pos2, vec2};

use crate::ui::command::Command;
use crate::ui::model::timetravel::TimeTravel;
use crate::ui::theme::StepColor;

pub fn ui(tt: &TimeTravel, ui: &mut egui::Ui, commands: &mut Vec<Command>) {
    let rows = tt.rows();
    let n = rows.len();
    let dark = ui.visuals().dark_mode;
    let width = ui.available_width().max(100.0);
    let (resp, painter) = ui.allocate_painter(vec2(width, 34.0), Sense::click_and_drag());
    let rect = resp.rect.shrink2(vec2(6.0, 2.0));
    painter.rect_filled(resp.rect, 3.0, ui.visuals().extreme_bg_color);
    if n == 0 {
        return;
    }
    let x_of = |i: usize| if n == 1 { rect.center().x } else { rect.left() + rect.width() * i as f32 / (n - 1) as f32 };
    let step_at = |x: f32| {
        if n == 1 {
            0
        } else {
            (((x - rect.left()) / rect.width()) * (n - 1) as f32).round().clamp(0.0, (n - 1) as f32) as usize
        }
    };
    let mid = rect.center().y;
    // Child spans: from the request to the receipt, as bars under the marks.
    if let Some(node) = tt.node() {
        for c in node.children.iter().filter_map(|c| c.span.as_ref()) {
            let end = c.received_step.or(c.arrived_step).unwrap_or(n - 1);
            let y = rect.bottom() - 2.0;
            painter.line_segment(
                [pos2(x_of(c.requested_step), y), pos2(x_of(end.min(n - 1)), y)],
                Stroke::new(2.0, StepColor::JoinSet.color(dark).gamma_multiply(0.6)),
            );
        }
    }
    // One mark per step, or per pixel column when there are more steps than pixels.
    let columns = rect.width().max(1.0) as usize;
    let mut last_col = usize::MAX;
    for (i, r) in rows.iter().enumerate() {
        let x = x_of(i);
        let col = ((x - rect.left()) as usize).min(columns);
        if n > columns && col == last_col && r.color != StepColor::Response && r.color != StepColor::Failure {
            continue;
        }
        last_col = col;
        let color = r.color.color(dark);
        if r.color == StepColor::Response {
            painter.line_segment([pos2(x, rect.top()), pos2(x, mid)], Stroke::new(2.0, color));
        } else {
            painter.line_segment([pos2(x, mid - 7.0), pos2(x, mid + 9.0)], Stroke::new(1.5, color));
        }
    }
    let cx = x_of(tt.current().step);
    painter.line_segment(
        [pos2(cx, resp.rect.top()), pos2(cx, resp.rect.bottom())],
        Stroke::new(2.5, ui.visuals().strong_text_color()),
    );
    if let Some(p) = resp.interact_pointer_pos()
        && (resp.clicked() || resp.dragged())
    {
        commands.push(Command::SetStep(step_at(p.x)));
    }
    if let Some(p) = resp.hover_pos() {
        let i = step_at(p.x);
        resp.on_hover_text(format!("step {i}: {} {}", rows[i].kind, rows[i].detail));
    }
}
