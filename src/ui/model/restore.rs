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

    /// The progress line: phase, amount done of the total, and speed for bytes only
    /// (`restoring 12.0 MB of 40.0 MB · 6.0 MB/s`, `applying 3 WAL indexes of 9 WAL indexes`).
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
    parse_hex_field(s, "a WAL index")
}

/// Parse the TXID field.
pub fn parse_txid(s: &str) -> Result<u64, String> {
    parse_hex_field(s, "a TXID")
}

/// Up to 16 hexadecimal digits (an optional `0x` and surrounding spaces allowed).
fn parse_hex_field(s: &str, what: &str) -> Result<u64, String> {
    let digits = s.trim().trim_start_matches("0x");
    if digits.is_empty() || digits.len() > 16 {
        return Err(format!("`{s}` is not {what} (up to 16 hexadecimal digits)"));
    }
    u64::from_str_radix(digits, 16).map_err(|_| format!("`{s}` is not {what} (hexadecimal digits)"))
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    /// A model whose current phase began `secs` seconds ago.
    fn started(model: &mut RestoreModel, secs: u64) {
        model.phase_started = Instant::now().checked_sub(Duration::from_secs(secs));
    }

    #[test]
    fn bytes_show_amounts_of_the_total_and_a_speed() {
        let mut m = RestoreModel::default();
        m.progress(ProgressEvent::Phase { name: "restoring", total: Some(400_000_000), unit: Unit::Bytes });
        m.progress(ProgressEvent::Advance { done: 120_000_000 });
        // 120 MB in 20 s (and the few microseconds this test takes).
        started(&mut m, 20);
        assert_eq!(m.progress_text(), "restoring 120.0 MB of 400.0 MB · 6.0 MB/s");
        assert_eq!(m.fraction(), Some(0.3));
        m.progress(ProgressEvent::Advance { done: 999 });
        let text = m.progress_text();
        assert!(text.starts_with("restoring 999 B of 400.0 MB · ") && text.ends_with(" B/s"), "{text}");
    }

    #[test]
    fn items_are_counted_by_name_and_have_no_speed() {
        let mut m = RestoreModel::default();
        m.progress(ProgressEvent::Phase { name: "downloading", total: Some(2_500_000), unit: Unit::Bytes });
        m.progress(ProgressEvent::Advance { done: 2_500_000 });
        // A new phase starts from zero, in its own unit, with its own clock.
        m.progress(ProgressEvent::Phase { name: "applying", total: Some(9), unit: Unit::Items("WAL indexes") });
        assert_eq!((m.done, m.unit), (0, Unit::Items("WAL indexes")));
        m.progress(ProgressEvent::Advance { done: 3 });
        started(&mut m, 2);
        assert_eq!(m.progress_text(), "applying 3 WAL indexes of 9 WAL indexes");
        assert_eq!(m.fraction(), Some(1.0 / 3.0));
        m.progress(ProgressEvent::Note("00000003_00000000.wal.lz4".into()));
        assert_eq!(m.progress_text(), "applying 3 WAL indexes of 9 WAL indexes");
    }

    #[test]
    fn unknown_totals_and_fresh_phases() {
        let mut m = RestoreModel::default();
        m.progress(ProgressEvent::Phase { name: "verifying", total: None, unit: Unit::Bytes });
        m.progress(ProgressEvent::Advance { done: 4096 });
        // Just begun: no speed yet (it would be meaningless).
        assert_eq!(m.progress_text(), "verifying 4.1 kB");
        assert_eq!(m.fraction(), None);
        m.progress(ProgressEvent::Phase { name: "restoring", total: Some(0), unit: Unit::Bytes });
        assert_eq!(m.fraction(), None, "an empty total is not a fraction");
    }

    #[test]
    fn targets_and_fields() {
        assert_eq!(describe_target(&RestoreTarget::Latest), "latest");
        assert_eq!(describe_target(&RestoreTarget::Txid(0x1a)), "TXID 000000000000001a");
        let g = |index| RestoreTarget::Generation { id: "f565a8e8a76b1ef1".into(), index };
        assert_eq!(describe_target(&g(Some(10))), "generation f565a8e8a76b1ef1 @ 0000000a");
        assert_eq!(describe_target(&g(None)), "generation f565a8e8a76b1ef1");
        let t = parse_time("2026-11-24T09:51:17.908Z").unwrap();
        assert_eq!(describe_target(&RestoreTarget::Timestamp(t)), "at 2026-11-24T09:51:17.908Z");
        assert_eq!(parse_time("2026-11-24T10:51:17+01:00"), Ok(t - chrono::TimeDelta::milliseconds(908)));
        assert!(parse_time("yesterday").unwrap_err().contains("RFC 3339"));
        assert_eq!(parse_txid(" 0x1A "), Ok(0x1a));
        assert!(parse_txid("").is_err() && parse_txid("12345678901234567").is_err() && parse_txid("g").is_err());
        assert_eq!(parse_index("0000000a"), Ok(10));
        assert!(parse_index("zz").unwrap_err().contains("WAL index"));
    }
}
