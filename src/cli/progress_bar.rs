//! A terminal progress bar fed by [`ProgressEvent`]s.

use std::io::Write;
use std::sync::Mutex;
use std::time::Instant;

use crate::litestream::{Progress, ProgressEvent, Unit};

/// A progress bar on stderr (only drawn on a terminal).
pub struct ProgressBar {
    enabled: bool,
    state: Mutex<BarState>,
}

struct BarState {
    phase: &'static str,
    total: Option<u64>,
    unit: Unit,
    started: Instant,
    last_draw: Option<Instant>,
}

impl ProgressBar {
    /// A bar drawn only when `enabled` (callers pass whether stderr is a terminal).
    pub fn new(enabled: bool) -> Self {
        ProgressBar {
            enabled,
            state: Mutex::new(BarState {
                phase: "",
                total: None,
                unit: Unit::Bytes,
                started: Instant::now(),
                last_draw: None,
            }),
        }
    }

    /// Erase the bar.
    pub fn finish(&self) {
        if self.enabled {
            eprint!("\r\x1b[2K");
            let _ = std::io::stderr().flush();
        }
    }
}

impl Progress for ProgressBar {
    fn report(&self, event: ProgressEvent) {
        if !self.enabled {
            return;
        }
        let mut s = self.state.lock().unwrap_or_else(|p| p.into_inner());
        match event {
            ProgressEvent::Phase { name, total, unit } => {
                s.phase = name;
                s.total = total;
                s.unit = unit;
                s.started = Instant::now();
                eprint!("\r\x1b[2K{name}…");
            }
            ProgressEvent::Advance { done } => {
                if s.last_draw.is_some_and(|t| t.elapsed().as_millis() < 100) {
                    return;
                }
                s.last_draw = Some(Instant::now());
                let rate = s.unit.format_rate(done as f64 / s.started.elapsed().as_secs_f64().max(0.001));
                let mut line = match s.total {
                    Some(total) if total > 0 => {
                        let frac = (done as f64 / total as f64).min(1.0);
                        let filled = (frac * 30.0) as usize;
                        format!(
                            "{} [{}{}] {:>3.0}% {} / {}",
                            s.phase,
                            "#".repeat(filled),
                            " ".repeat(30 - filled),
                            frac * 100.0,
                            s.unit.format(done),
                            s.unit.format(total),
                        )
                    }
                    _ => format!("{} {}", s.phase, s.unit.format(done)),
                };
                if let Some(rate) = rate {
                    line.push(' ');
                    line.push_str(&rate);
                }
                eprint!("\r\x1b[2K{line}");
            }
            ProgressEvent::Note(_) => {}
        }
        let _ = std::io::stderr().flush();
    }
}
