//! Property test (issue 11): Obelisk event JSON from the fixture databases' `t_execution_log`,
//! randomly damaged, decodes to a typed event of the row's variant that round-trips, or to a
//! `Raw` event keeping the row verbatim with a reason; never a panic.

use std::path::Path;

use proptest::prelude::*;

use super::event::Event;
use crate::fuzz_support::{mutation, runner};

const CASES: u32 = 512;

/// One `(variant, json_value)` row per variant of each fixture database.
fn rows() -> Vec<(String, String)> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/obelisk");
    let mut rows = Vec::new();
    for version in ["0.38.3", "0.41.5"] {
        let db = root.join(version).join("demo.sqlite");
        let uri = format!("file:{}?immutable=1", db.display());
        let flags = rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY | rusqlite::OpenFlags::SQLITE_OPEN_URI;
        let conn = rusqlite::Connection::open_with_flags(uri, flags).expect("open fixture");
        let sql = "SELECT variant, max(json_value) FROM t_execution_log GROUP BY variant";
        let mut stmt = conn.prepare(sql).expect("prepare");
        let found = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?))).expect("query");
        rows.extend(found.map(|r| r.expect("row")));
    }
    rows
}

#[test]
fn event_json_damaged() {
    let rows = rows();
    assert!(rows.len() >= 10, "{rows:?}");
    for (variant, json) in &rows {
        assert!(!Event::decode(variant, json).is_raw(), "intact {variant}: {json}");
    }
    let result = runner(CASES).run(&(0..rows.len(), mutation()), |(i, m)| {
        let (variant, json) = &rows[i];
        let damaged = String::from_utf8_lossy(&m.apply(json.as_bytes())).into_owned();
        match Event::decode(variant, &damaged) {
            Event::Raw(raw) => {
                prop_assert_eq!(&raw.variant, variant);
                prop_assert_eq!(&raw.json, &damaged);
                prop_assert!(!raw.error.is_empty());
            }
            event => {
                prop_assert_eq!(event.variant(), variant.as_str());
                let again = serde_json::to_string(&event).expect("serialize");
                prop_assert_eq!(Event::decode(variant, &again), event);
            }
        }
        Ok(())
    });
    if let Err(e) = result {
        panic!("{e}");
    }
}
