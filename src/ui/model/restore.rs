//! Restore points of the selected tenant and the restore in progress.

use chrono::{DateTime, Utc};

use crate::litestream::ProgressEvent;
use crate::litestream::catalog::Catalog;
use crate::litestream::plan::RestoreTarget;
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
    /// The restore running now.
    pub running: Option<Running>,
    pub target: Option<RestoreTarget>,
    pub phase: String,
    pub done: u64,
    pub total: Option<u64>,
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
            ProgressEvent::Phase { name, total } => {
                self.phase = name.to_owned();
                self.total = total;
                self.done = 0;
            }
            ProgressEvent::Advance { done } => self.done = done,
            ProgressEvent::Note(_) => {}
        }
    }

    /// Fraction done, when the total is known.
    pub fn fraction(&self) -> Option<f32> {
        self.total.filter(|&t| t > 0).map(|t| (self.done as f64 / t as f64).clamp(0.0, 1.0) as f32)
    }

    /// Bytes per second since the restore started.
    pub fn speed(&self) -> Option<f64> {
        let secs = self.running.as_ref()?.started.elapsed().as_secs_f64();
        (secs > 0.05).then(|| self.done as f64 / secs)
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

/// Parse the TXID field.
pub fn parse_txid(s: &str) -> Result<u64, String> {
    let digits = s.trim().trim_start_matches("0x");
    if digits.is_empty() || digits.len() > 16 {
        return Err(format!("`{s}` is not a TXID (up to 16 hexadecimal digits)"));
    }
    u64::from_str_radix(digits, 16).map_err(|_| format!("`{s}` is not a TXID (hexadecimal digits)"))
}
