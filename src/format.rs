//! Human-readable formatting of sizes, times, ages and errors, shared by the CLI and the UI.

use chrono::{DateTime, SecondsFormat, Utc};

/// `1.5 MB`-style sizes (powers of 1000, as storage consoles show them).
pub fn bytes(n: u64) -> String {
    const UNITS: [&str; 5] = ["B", "kB", "MB", "GB", "TB"];
    let mut v = n as f64;
    let mut unit = 0;
    while v >= 1000.0 && unit < UNITS.len() - 1 {
        v /= 1000.0;
        unit += 1;
    }
    if unit == 0 { format!("{n} B") } else { format!("{v:.1} {}", UNITS[unit]) }
}

/// RFC 3339 with milliseconds, UTC.
pub fn time(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Millis, true)
}

/// A coarse age such as `42s`, `5m`, `3h`, `12d`.
pub fn age(d: chrono::TimeDelta) -> String {
    let s = d.num_seconds();
    match s {
        s if s < 0 => "future".into(),
        s if s < 120 => format!("{s}s"),
        s if s < 7200 => format!("{}m", s / 60),
        s if s < 172_800 => format!("{}h", s / 3600),
        s => format!("{}d", s / 86400),
    }
}

/// An error and its causes on one line (causes already in the message are not repeated).
pub fn error_chain(e: &anyhow::Error) -> String {
    let mut msg = e.to_string();
    for cause in e.chain().skip(1) {
        let c = cause.to_string();
        if !msg.contains(&c) {
            msg.push_str(": ");
            msg.push_str(&c);
        }
    }
    msg.replace('\n', " ")
}

#[cfg(test)]
mod tests {
    #[test]
    fn sizes_and_ages() {
        assert_eq!(super::bytes(999), "999 B");
        assert_eq!(super::bytes(1_500_000), "1.5 MB");
        assert_eq!(super::age(chrono::TimeDelta::seconds(90)), "90s");
        assert_eq!(super::age(chrono::TimeDelta::seconds(4000)), "66m");
        assert_eq!(super::age(chrono::TimeDelta::days(3)), "3d");
    }
}
