//! Timestamps as Obelisk stores them in TEXT columns.

use chrono::{DateTime, NaiveDateTime, Utc};

/// Parses a timestamp column: rusqlite's chrono form `2026-11-24 09:20:27.084821360+00:00`,
/// SQL `CURRENT_TIMESTAMP` (`2026-11-24 09:20:22`, UTC, no fraction) or RFC 3339.
pub fn parse_db_time(text: &str) -> Option<DateTime<Utc>> {
    if let Some(t) = parse_utc_fast(text) {
        return Some(t);
    }
    if let Ok(t) = DateTime::parse_from_str(text, "%Y-%m-%d %H:%M:%S%.f%:z") {
        return Some(t.with_timezone(&Utc));
    }
    if let Ok(t) = DateTime::parse_from_rfc3339(text) {
        return Some(t.with_timezone(&Utc));
    }
    NaiveDateTime::parse_from_str(text, "%Y-%m-%d %H:%M:%S%.f").ok().map(|t| t.and_utc())
}

/// The form Obelisk writes for almost every row, `YYYY-MM-DD HH:MM:SS[.fraction]+00:00`, parsed
/// without a format string (whole-database replay reads millions of them).
fn parse_utc_fast(text: &str) -> Option<DateTime<Utc>> {
    let b = text.as_bytes();
    let body = text.strip_suffix("+00:00")?.as_bytes();
    if body.len() < 19 || b[4] != b'-' || b[7] != b'-' || b[10] != b' ' || b[13] != b':' || b[16] != b':' {
        return None;
    }
    let num = |range: std::ops::Range<usize>| -> Option<u32> {
        body[range].iter().try_fold(0u32, |acc, &c| c.is_ascii_digit().then(|| acc * 10 + u32::from(c - b'0')))
    };
    let nanos = match &body[19..] {
        [] => 0,
        [b'.', digits @ ..] if !digits.is_empty() && digits.len() <= 9 => {
            let value = num(20..body.len())?;
            value * 10u32.pow(9 - digits.len() as u32)
        }
        _ => return None,
    };
    let date = chrono::NaiveDate::from_ymd_opt(i32::try_from(num(0..4)?).ok()?, num(5..7)?, num(8..10)?)?;
    let time = chrono::NaiveTime::from_hms_nano_opt(num(11..13)?, num(14..16)?, num(17..19)?, nanos)?;
    Some(date.and_time(time).and_utc())
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
        // The fast path agrees with chrono's parser on every fraction length, and rejects junk.
        for text in [
            "2026-11-24 09:20:27+00:00",
            "2026-11-24 09:20:27.5+00:00",
            "2026-11-24 09:20:27.084821+00:00",
            "2026-11-24 09:20:27.084821360+00:00",
            "2024-02-29 23:59:59.999999999+00:00",
        ] {
            let slow = DateTime::parse_from_str(text, "%Y-%m-%d %H:%M:%S%.f%:z").map(|t| t.with_timezone(&Utc)).ok();
            assert_eq!(parse_utc_fast(text), slow, "{text}");
        }
        for bad in [
            "2026-11-24 09:20:27.+00:00",
            "2026-13-24 09:20:27+00:00",
            "2026-11-24 09:2x:27+00:00",
            "2026-11-24 09:20:27.0848213601+00:00",
            "2026-11-24T09:20:27+00:00",
        ] {
            assert_eq!(parse_utc_fast(bad), None, "{bad}");
        }
    }
}
