//! Timestamps as Obelisk stores them in TEXT columns.

use chrono::{DateTime, NaiveDateTime, Utc};

/// Parses a timestamp column: rusqlite's chrono form `2026-11-24 09:20:27.084821360+00:00`,
/// SQL `CURRENT_TIMESTAMP` (`2026-11-24 09:20:22`, UTC, no fraction) or RFC 3339.
pub fn parse_db_time(text: &str) -> Option<DateTime<Utc>> {
    if let Ok(t) = DateTime::parse_from_str(text, "%Y-%m-%d %H:%M:%S%.f%:z") {
        return Some(t.with_timezone(&Utc));
    }
    if let Ok(t) = DateTime::parse_from_rfc3339(text) {
        return Some(t.with_timezone(&Utc));
    }
    NaiveDateTime::parse_from_str(text, "%Y-%m-%d %H:%M:%S%.f").ok().map(|t| t.and_utc())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_every_stored_form() {
        let nanos = parse_db_time("2026-11-24 09:20:27.084821360+00:00").map(|t| t.to_rfc3339());
        assert_eq!(nanos.as_deref(), Some("2026-11-24T09:20:27.084821360+00:00"));
        let plain = parse_db_time("2026-11-24 09:20:22").map(|t| t.to_rfc3339());
        assert_eq!(plain.as_deref(), Some("2026-11-24T09:20:22+00:00"));
        let rfc = parse_db_time("2026-11-24T09:20:12.825875752Z").map(|t| t.timestamp());
        assert_eq!(rfc, parse_db_time("2026-11-24 09:20:12").map(|t| t.timestamp()));
        let offset = parse_db_time("2026-11-24 10:20:22+01:00").map(|t| t.to_rfc3339());
        assert_eq!(offset.as_deref(), Some("2026-11-24T09:20:22+00:00"));
        assert_eq!(parse_db_time("yesterday"), None);
    }
}
