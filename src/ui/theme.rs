//! Dark and light themes: egui's visuals plus the few colors the custom views paint with.

use egui::Color32;
use serde::{Deserialize, Serialize};

/// The theme the user picked.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ThemeChoice {
    #[default]
    Dark,
    Light,
}

impl ThemeChoice {
    pub fn egui(self) -> egui::Theme {
        match self {
            ThemeChoice::Dark => egui::Theme::Dark,
            ThemeChoice::Light => egui::Theme::Light,
        }
    }
}

/// Apply the theme to the context (fonts stay egui's bundled ones: no system fonts).
pub fn apply(ctx: &egui::Context, choice: ThemeChoice) {
    ctx.set_theme(choice.egui());
}

/// Categories of steps, colored the same in the event table and on the scrubber.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum StepColor {
    /// created, finished
    Lifecycle,
    /// locked, unlocked
    Lock,
    /// join set create/request/next
    JoinSet,
    /// a response arriving
    Response,
    /// temporarily failed / timed out
    Failure,
    /// persist, schedule, stub, other history events
    Other,
}

impl StepColor {
    /// The color for this category in the given theme.
    pub fn color(self, dark: bool) -> Color32 {
        let (d, l) = match self {
            StepColor::Lifecycle => (Color32::from_rgb(120, 200, 255), Color32::from_rgb(20, 100, 190)),
            StepColor::Lock => (Color32::from_rgb(150, 150, 150), Color32::from_rgb(110, 110, 110)),
            StepColor::JoinSet => (Color32::from_rgb(190, 150, 255), Color32::from_rgb(110, 60, 190)),
            StepColor::Response => (Color32::from_rgb(110, 220, 130), Color32::from_rgb(20, 140, 50)),
            StepColor::Failure => (Color32::from_rgb(255, 110, 100), Color32::from_rgb(200, 40, 30)),
            StepColor::Other => (Color32::from_rgb(230, 200, 110), Color32::from_rgb(160, 120, 0)),
        };
        if dark { d } else { l }
    }

    /// The category of a step kind as `Step::kind` names it.
    pub fn of_kind(kind: &str) -> StepColor {
        match kind {
            "created" | "finished" => StepColor::Lifecycle,
            "locked" | "unlocked" | "paused" | "unpaused" => StepColor::Lock,
            "response" => StepColor::Response,
            "temporarily_failed" | "temporarily_timed_out" => StepColor::Failure,
            k if k.starts_with("join_") => StepColor::JoinSet,
            _ => StepColor::Other,
        }
    }
}

/// Color of error text.
pub fn error_color(dark: bool) -> Color32 {
    if dark { Color32::from_rgb(255, 120, 110) } else { Color32::from_rgb(180, 30, 20) }
}

/// Color of warnings (problems, findings).
pub fn warn_color(dark: bool) -> Color32 {
    if dark { Color32::from_rgb(240, 190, 90) } else { Color32::from_rgb(150, 100, 0) }
}

/// Color of good news (a re-execution that agrees with its log).
pub fn ok_color(dark: bool) -> Color32 {
    StepColor::Response.color(dark)
}

/// Background of the highlighted source line.
pub fn highlight_color(dark: bool) -> Color32 {
    if dark {
        Color32::from_rgba_unmultiplied(90, 140, 255, 60)
    } else {
        Color32::from_rgba_unmultiplied(60, 110, 230, 45)
    }
}
