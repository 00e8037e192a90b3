//! The desktop app: sources → tenants → restore points → executions → time travel.
//!
//! Built on egui/eframe 0.37. The core (`storage`, `litestream`, `obelisk`, `replay`) knows
//! nothing of egui; this module draws its state and sends it work:
//!
//! - [`app`]: the [`App`] (`eframe::App`): `logic` drains background results and handles
//!   shortcuts, `ui` draws the views, which push [`command::Command`]s applied after drawing.
//! - [`tasks`]: background work on worker threads; results come back over a channel with a
//!   repaint request. No I/O, decoding or SQLite work runs on the UI thread.
//! - [`model`]: the UI-side models with cached derived data (filtered tables, replay cursor).
//! - [`views`]: one file per view, each drawing a model and pushing commands.
//! - [`dialogs`]: file dialogs behind a trait, so tests inject paths.
//! - [`settings`]: what is remembered between runs (sources, recent files, theme; never secrets).

pub mod app;
pub mod command;
pub mod dialogs;
pub mod model;
pub mod options;
pub mod settings;
pub mod tasks;
pub mod theme;
pub mod views;
mod x11_focus;

pub use app::{App, Screen};
pub use options::AppOptions;

/// True when a graphical display is available (X11 or Wayland).
pub fn display_available() -> bool {
    ["DISPLAY", "WAYLAND_DISPLAY"].iter().any(|v| std::env::var_os(v).is_some_and(|s| !s.is_empty()))
}

/// Open the app window and run until it is closed. `open` is a SQLite file, a replica address
/// or a `litestream.yml` to open at start (the bundled demo or the remembered sources otherwise).
pub fn run(open: Option<String>) -> anyhow::Result<()> {
    let native = eframe::NativeOptions {
        viewport: egui::ViewportBuilder::default()
            .with_title("Chronoscope")
            .with_app_id("chronoscope")
            .with_inner_size([1280.0, 800.0])
            .with_min_inner_size([720.0, 480.0])
            .with_drag_and_drop(true),
        persist_window: true,
        ..Default::default()
    };
    let options = AppOptions { open, ..AppOptions::default() };
    eframe::run_native("chronoscope", native, Box::new(move |cc| Ok(Box::new(App::new(cc, options)))))
        .map_err(|e| anyhow::anyhow!("cannot open the window: {e}"))
}
