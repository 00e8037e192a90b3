//! Schema detection: the Obelisk schema version (`max(version)` of `refinery_schema_history`),
//! the release that wrote it, and which tables and columns exist (queries adapt to the columns,
//! so unknown versions are read best effort).

use std::collections::{BTreeMap, BTreeSet};

use rusqlite::Connection;
use serde::Serialize;

use super::error::ObeliskError;

/// Schema versions written by Obelisk releases (intermediate versions exist only in development builds).
pub const RELEASES: &[(u32, &str)] = &[
    (2, "0.38.0-0.38.2"),
    (3, "0.38.3"),
    (10, "0.39.3"),
    (11, "0.39.4"),
    (13, "0.39.5-0.41.0"),
    (17, "0.41.1-0.41.5"),
    (24, "0.42.0-rc.4"),
];

/// The newest schema version whose layout is known.
pub const NEWEST_KNOWN_VERSION: u32 = 24;

/// Tables and columns every reader needs; a file without them is not (a readable) Obelisk database.
const REQUIRED: &[(&str, &[&str])] = &[
    ("t_execution_log", &["execution_id", "created_at", "json_value", "version", "variant"]),
    (
        "t_state",
        &[
            "execution_id",
            "is_top_level",
            "corresponding_version",
            "ffqn",
            "created_at",
            "component_id_input_digest",
            "component_type",
            "first_scheduled_at",
            "deployment_id",
            "pending_expires_finished",
            "state",
            "updated_at",
            "intermittent_event_count",
        ],
    ),
];

/// How well this crate knows the database's layout.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SchemaSupport {
    /// Version 1..=24: every migration is described in the spec.
    Known,
    /// Newer than [`NEWEST_KNOWN_VERSION`]: read best effort.
    Newer,
    /// Before refinery (Obelisk < 0.38, `t_metadata`) or an empty history: read best effort.
    Unversioned,
}

/// The detected schema of an Obelisk database.
#[derive(Debug, Clone, Serialize)]
pub struct Schema {
    /// `max(version)` of `refinery_schema_history`; `None` before 0.38.
    pub version: Option<u32>,
    /// The Obelisk release(s) that write this version, when it is a released one.
    pub release: Option<&'static str>,
    pub support: SchemaSupport,
    #[serde(skip)]
    tables: BTreeMap<String, BTreeSet<String>>,
}

impl Schema {
    /// Reads the schema; `Err` for a database that is not Obelisk's. Warnings (unknown version) are pushed.
    pub(crate) fn detect(conn: &Connection, path: &str, warnings: &mut Vec<String>) -> Result<Schema, ObeliskError> {
        let sql = |context: &str| {
            let (path, context) = (path.to_owned(), context.to_owned());
            move |source| ObeliskError::Sqlite { path, context, source }
        };
        let names: Vec<String> = conn
            .prepare("SELECT name FROM sqlite_schema WHERE type = 'table'")
            .and_then(|mut stmt| stmt.query_map([], |r| r.get(0))?.collect())
            .map_err(|source| match source.sqlite_error_code() {
                Some(rusqlite::ErrorCode::NotADatabase) => {
                    ObeliskError::NotSqlite { path: path.to_owned(), reason: source.to_string() }
                }
                _ => ObeliskError::Sqlite { path: path.to_owned(), context: "listing tables".into(), source },
            })?;
        let mut tables = BTreeMap::new();
        for name in names {
            let columns: BTreeSet<String> = conn
                .prepare("SELECT name FROM pragma_table_info(?1)")
                .and_then(|mut stmt| stmt.query_map([&name], |r| r.get(0))?.collect())
                .map_err(sql(&format!("listing the columns of {name}")))?;
            tables.insert(name, columns);
        }
        let mut schema = Schema { version: None, release: None, support: SchemaSupport::Known, tables };

        let missing: Vec<&str> = REQUIRED.iter().map(|(t, _)| *t).filter(|t| !schema.has_table(t)).collect();
        if !missing.is_empty() {
            let reason = if schema.has_table("refinery_schema_history") {
                format!("no {} table", missing.join(" or "))
            } else {
                format!("no refinery_schema_history, {} table", missing.join(" or "))
            };
            return Err(ObeliskError::NotObelisk { path: path.to_owned(), reason });
        }
        for (table, columns) in REQUIRED {
            if let Some(column) = columns.iter().find(|c| !schema.has_column(table, c)) {
                return Err(ObeliskError::Unsupported {
                    path: path.to_owned(),
                    reason: format!("{table} has no column {column}"),
                });
            }
        }

        if schema.has_table("refinery_schema_history") {
            let max: Option<i64> = conn
                .query_row("SELECT max(version) FROM refinery_schema_history", [], |r| r.get(0))
                .map_err(sql("reading refinery_schema_history"))?;
            schema.version = match max {
                None => None,
                Some(v) => Some(u32::try_from(v).map_err(|_| ObeliskError::Data {
                    path: path.to_owned(),
                    reason: format!("refinery_schema_history holds version {v}"),
                })?),
            };
        }
        match schema.version {
            Some(v) if v > NEWEST_KNOWN_VERSION => {
                schema.support = SchemaSupport::Newer;
                warnings.push(format!(
                    "{path}: schema version {v} is newer than the newest known ({NEWEST_KNOWN_VERSION}, Obelisk 0.42.0-rc.4); reading it best effort"
                ));
            }
            Some(v) => schema.release = RELEASES.iter().find(|(n, _)| *n == v).map(|(_, r)| *r),
            None => {
                schema.support = SchemaSupport::Unversioned;
                let legacy = if schema.has_table("t_metadata") {
                    conn.query_row("SELECT schema_version FROM t_metadata ORDER BY rowid DESC LIMIT 1", [], |r| {
                        r.get::<_, i64>(0)
                    })
                    .ok()
                } else {
                    None
                };
                warnings.push(match legacy {
                    Some(v) => format!(
                        "{path}: pre-0.38 Obelisk schema (t_metadata schema_version {v}); reading it best effort"
                    ),
                    None => format!("{path}: no schema version recorded; reading it best effort"),
                });
            }
        }
        Ok(schema)
    }

    /// True when the table exists.
    pub fn has_table(&self, table: &str) -> bool {
        self.tables.contains_key(table)
    }

    /// True when the table has the column.
    pub fn has_column(&self, table: &str, column: &str) -> bool {
        self.tables.get(table).is_some_and(|c| c.contains(column))
    }

    /// `column` when the table has it, otherwise `NULL` (so one query fits every layout).
    pub(crate) fn column_or_null(&self, table: &str, alias: &str, column: &str) -> String {
        if self.has_column(table, column) { format!("{alias}.{column}") } else { "NULL".to_owned() }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::obelisk::db::ObeliskDb;
    use crate::obelisk::test_support::{FIXTURE_0_38_3, FIXTURE_0_41_5, fixture};

    #[test]
    fn detects_both_fixture_versions() {
        let old = ObeliskDb::open(fixture(FIXTURE_0_38_3)).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(old.schema().version, Some(3));
        assert_eq!(old.schema().release, Some("0.38.3"));
        assert_eq!(old.schema().support, SchemaSupport::Known);
        assert!(old.schema().has_column("t_state", "is_paused"));
        assert!(!old.schema().has_column("t_join_set_response", "seq"));
        assert!(old.warnings().is_empty(), "{:?}", old.warnings());

        let new = ObeliskDb::open(fixture(FIXTURE_0_41_5)).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(new.schema().version, Some(17));
        assert_eq!(new.schema().release, Some("0.41.1-0.41.5"));
        assert!(new.schema().has_column("t_state", "lifecycle"));
        assert!(!new.schema().has_column("t_state", "is_paused"));
        assert!(new.schema().has_column("t_join_set_response", "seq"));
        assert!(new.schema().has_column("t_deployment", "deployment_toml"));
        assert!(new.warnings().is_empty(), "{:?}", new.warnings());
    }
}
