//! Restore points of the selected tenant and the restore in progress.

use chrono::{DateTime, Utc};

use std::time::Instant;

use crate::litestream::catalog::Catalog;
use crate::litestream::plan::RestoreTarget;
use crate::litestream::{ProgressEvent, Unit};
use crate::ui::tasks::Running;

/// The restore-points panel.
#[derive(Default)]
pub struct RestoreModel {
    /// The catalog of the selected tenant (loaded in the background).
    pub catalog: Option<Result<Catalog, String>>,
    pub catalog_task: Option<u64>,
    /// TXID field (hexadecimal).
    pub txid: String,
    /// Time field (RFC 3339).
    pub time: String,
    /// WAL index field of each v0.3 generation (hexadecimal), by generation id.
    pub indexes: std::collections::HashMap<String, String>,
    /// The restore running now.
    pub running: Option<Running>,
    pub target: Option<RestoreTarget>,
    pub phase: String,
    pub done: u64,
    pub total: Option<u64>,
    /// What `done` and `total` count.
    pub unit: Unit,
    /// When the current phase began (speeds are per phase).
    pub phase_started: Option<Instant>,
    /// Why the last restore failed (or that it was cancelled), in words.
    pub error: Option<String>,
}

impl RestoreModel {
    /// A new tenant was selected.
    pub fn reset(&mut self, catalog_task: u64) {
        *self = RestoreModel { catalog_task: Some(catalog_task), ..RestoreModel::default() };
    }

    /// Fold a progress event of the running restore in.
    pub fn progress(&mut self, event: ProgressEvent) {
        match event {
            ProgressEvent::Phase { name, total, unit } => {
                self.phase = name.to_owned();
                self.total = total;
                self.unit = unit;
                self.done = 0;
                self.phase_started = Some(Instant::now());
            }
            ProgressEvent::Advance { done } => self.done = done,
            ProgressEvent::Note(_) => {}
        }
    }

    /// Fraction done, when the total is known.
    pub fn fraction(&self) -> Option<f32> {
        self.total.filter(|&t| t > 0).map(|t| (self.done as f64 / t as f64).clamp(0.0, 1.0) as f32)
    }

    /// The progress line: phase, amount done of the total, and speed (`restoring 12.0 MiB of
    /// 40.0 MiB · 8.0 MiB/s`, `applying 3 WAL indexes of 9 WAL indexes`).
    pub fn progress_text(&self) -> String {
        let mut text = format!("{} {}", self.phase, self.unit.format(self.done));
        if let Some(t) = self.total {
            text.push_str(&format!(" of {}", self.unit.format(t)));
        }
        let since = self.phase_started.or_else(|| self.running.as_ref().map(|r| r.started));
        let secs = since.map_or(0.0, |t| t.elapsed().as_secs_f64());
        if secs > 0.05
            && let Some(rate) = self.unit.format_rate(self.done as f64 / secs)
        {
            text.push_str(&format!(" · {rate}"));
        }
        text
    }
}

/// How a restore target reads in the breadcrumb.
pub fn describe_target(t: &RestoreTarget) -> String {
    match t {
        RestoreTarget::Latest => "latest".into(),
        RestoreTarget::Timestamp(ts) => format!("at {}", crate::format::time(*ts)),
        RestoreTarget::Txid(txid) => format!("TXID {}", crate::litestream::ltx::format_txid(*txid)),
        RestoreTarget::Generation { id, index } => match index {
            Some(i) => format!("generation {id} @ {i:08x}"),
            None => format!("generation {id}"),
        },
    }
}

/// Parse the time field.
pub fn parse_time(s: &str) -> Result<DateTime<Utc>, String> {
    DateTime::parse_from_rfc3339(s.trim())
        .map(|t| t.with_timezone(&Utc))
        .map_err(|_| format!("`{s}` is not a time (expected RFC 3339, e.g. 2026-11-24T09:52:00Z)"))
}

/// Parse a v0.3 WAL index field (hexadecimal, as in `00000005_00000000.wal.lz4`).
pub fn parse_index(s: &str) -> Result<u64, String> {
    let digits = s.trim().trim_start_matches("0x");
    if digits.is_empty() || digits.len() > 16 {
        return Err(format!("`{s}` is not a WAL index (up to 16 hexadecimal digits)"));
    }
    u64::from_str_radix(digits, 16).map_err(|_| format!("`{s}` is not a WAL index (hexadecimal digits)"))
}

/// Parse the TXID field.
pub fn parse_txid(s: &str) -> Result<u64, String> {
    let digits = s.trim().trim_start_matches("0x");
    if digits.is_empty() || digits.len() > 16 {
        return Err(format!("`{s}` is not a TXID (up to 16 hexadecimal digits)"));
    }
    u64::from_str_radix(digits, 16).map_err(|_| format!("`{s}` is not a TXID (hexadecimal digits)"))
}
