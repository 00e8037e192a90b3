//! The fleet index: one local SQLite file per source with every tenant's executions (state,
//! function, result, times, the words of its error in an FTS5 table) and each tenant's backup
//! point, lag and problems, so that questions across a thousand tenants are one query.

use std::path::Path;

use chrono::{DateTime, Utc};
use rusqlite::{Connection, OptionalExtension, params};
use serde::Serialize;

/// Why the index cannot be used.
#[derive(Debug, thiserror::Error)]
#[error("fleet index {path}: {reason}")]
pub struct IndexError {
    pub path: String,
    pub reason: String,
}

/// One execution as indexed.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct IndexedExecution {
    pub tenant: String,
    pub execution_id: String,
    pub ffqn: String,
    /// `t_state` name: `pending_at`, `locked`, `blocked_by_join_set`, `finished`.
    pub state: String,
    /// `ok`, `err`, `failed: timed_out`, …; `None` while unfinished.
    pub result: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub finished_at: Option<DateTime<Utc>>,
    /// Blocked: when its lock expires; pending: when it is scheduled.
    pub state_until: Option<DateTime<Utc>>,
    pub incompatible_digest: Option<String>,
    /// The words of its error (failed or `err` results).
    pub error_text: Option<String>,
}

/// One tenant as indexed.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct IndexedTenant {
    pub name: String,
    /// The restore point scanned (`TXID 000000000000002f`, `generation … index …`).
    pub point: Option<String>,
    pub latest_at: Option<DateTime<Utc>>,
    pub scanned_at: DateTime<Utc>,
    pub error: Option<String>,
    pub problems: Vec<String>,
    pub executions: usize,
    /// The database read (the cached restore, or the file given).
    pub database: Option<String>,
}

/// Per-tenant counts for triage.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TenantCounts {
    pub tenant: IndexedTenant,
    /// Locked by an executor right now.
    pub running: usize,
    pub blocked: usize,
    /// Finished with a failure or an `err` since the time asked.
    pub failed_since: usize,
    /// Pending with an `incompatible_digest`, or blocked past its lock's expiry.
    pub stuck: usize,
}

/// What to look for (every field optional).
#[derive(Debug, Clone, Default)]
pub struct Search {
    pub state: Option<String>,
    pub ffqn_prefix: Option<String>,
    /// `ok`, `err`, `failed` (any failure) or `failed: KIND`.
    pub result: Option<String>,
    /// Updated (or finished) at or after.
    pub since: Option<DateTime<Utc>>,
    /// FTS5 words in the error text.
    pub text: Option<String>,
    pub limit: usize,
}

/// `<restore cache>/fleet/<name>-<hash>.sqlite`: the index of the source `key` (a folder, an
/// `s3://` prefix, a `litestream.yml`; local paths are made canonical) beside the restores it
/// reads, shared by the command line and the app.
pub fn index_path(cache_dir: &Path, key: &str) -> std::path::PathBuf {
    use std::hash::{Hash, Hasher};
    let canonical = Path::new(key).canonicalize().map(|p| p.display().to_string()).unwrap_or_else(|_| key.to_owned());
    let mut h = std::hash::DefaultHasher::new();
    canonical.hash(&mut h);
    let name: String = canonical
        .trim_end_matches('/')
        .rsplit('/')
        .next()
        .unwrap_or("fleet")
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() || c == '-' || c == '_' { c } else { '_' })
        .collect();
    cache_dir.join("fleet").join(format!("{name}-{:016x}.sqlite", h.finish()))
}

pub struct FleetIndex {
    conn: Connection,
    path: String,
}

/// Bumped when [`SCHEMA`] changes.
const SCHEMA_VERSION: i64 = 1;

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS tenants (
    name TEXT PRIMARY KEY, point TEXT, latest_at TEXT, scanned_at TEXT NOT NULL,
    error TEXT, problems TEXT NOT NULL, executions INTEGER NOT NULL, database TEXT);
CREATE TABLE IF NOT EXISTS executions (
    tenant TEXT NOT NULL, execution_id TEXT NOT NULL, ffqn TEXT NOT NULL, state TEXT NOT NULL,
    result TEXT, created_at TEXT NOT NULL, updated_at TEXT NOT NULL, finished_at TEXT,
    state_until TEXT, incompatible_digest TEXT, error_text TEXT,
    PRIMARY KEY (tenant, execution_id));
CREATE INDEX IF NOT EXISTS executions_updated ON executions (updated_at);
CREATE INDEX IF NOT EXISTS executions_state ON executions (state, updated_at);
CREATE INDEX IF NOT EXISTS executions_result ON executions (result, updated_at);
CREATE VIRTUAL TABLE IF NOT EXISTS error_words USING fts5(text, tenant UNINDEXED, execution_id UNINDEXED);
";

fn ts(t: &DateTime<Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Micros, true)
}

fn parse_ts(s: Option<String>) -> Option<DateTime<Utc>> {
    s.and_then(|s| DateTime::parse_from_rfc3339(&s).ok()).map(|t| t.with_timezone(&Utc))
}

impl FleetIndex {
    /// Open (or create) the index at `path`.
    pub fn open(path: &Path) -> Result<FleetIndex, IndexError> {
        let err = |e: &dyn std::fmt::Display| IndexError { path: path.display().to_string(), reason: e.to_string() };
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(|e| err(&e))?;
        }
        let conn = Connection::open(path).map_err(|e| err(&e))?;
        conn.pragma_update(None, "journal_mode", "WAL").map_err(|e| err(&e))?;
        // The index is derived data: one of another layout is rebuilt by the next scan.
        let version: i64 = conn.pragma_query_value(None, "user_version", |r| r.get(0)).map_err(|e| err(&e))?;
        if version != SCHEMA_VERSION {
            conn.execute_batch(
                "DROP TABLE IF EXISTS tenants; DROP TABLE IF EXISTS executions; DROP TABLE IF EXISTS error_words;",
            )
            .map_err(|e| err(&e))?;
            conn.pragma_update(None, "user_version", SCHEMA_VERSION).map_err(|e| err(&e))?;
        }
        conn.execute_batch(SCHEMA).map_err(|e| err(&e))?;
        Ok(FleetIndex { conn, path: path.display().to_string() })
    }

    fn err(&self, e: impl std::fmt::Display) -> IndexError {
        IndexError { path: self.path.clone(), reason: e.to_string() }
    }

    /// The point a tenant was last scanned at.
    pub fn tenant_point(&self, name: &str) -> Result<Option<String>, IndexError> {
        self.conn
            .query_row("SELECT point FROM tenants WHERE name = ?1 AND error IS NULL", [name], |r| r.get(0))
            .optional()
            .map(Option::flatten)
            .map_err(|e| self.err(e))
    }

    /// Replace everything about `tenant` (one transaction: readers see the old or the new).
    pub fn replace_tenant(
        &mut self,
        tenant: &IndexedTenant,
        executions: &[IndexedExecution],
    ) -> Result<(), IndexError> {
        let path = self.path.clone();
        let err = |e: rusqlite::Error| IndexError { path: path.clone(), reason: e.to_string() };
        let tx = self.conn.transaction().map_err(err)?;
        let run = |tx: &rusqlite::Transaction<'_>| -> rusqlite::Result<()> {
            tx.execute("DELETE FROM executions WHERE tenant = ?1", [&tenant.name])?;
            tx.execute("DELETE FROM error_words WHERE tenant = ?1", [&tenant.name])?;
            tx.execute(
                "INSERT OR REPLACE INTO tenants VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
                params![
                    tenant.name,
                    tenant.point,
                    tenant.latest_at.as_ref().map(ts),
                    ts(&tenant.scanned_at),
                    tenant.error,
                    serde_json::to_string(&tenant.problems).unwrap_or_default(),
                    executions.len() as i64,
                    tenant.database
                ],
            )?;
            let mut ins = tx.prepare("INSERT INTO executions VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)")?;
            let mut words = tx.prepare("INSERT INTO error_words (text, tenant, execution_id) VALUES (?1, ?2, ?3)")?;
            for e in executions {
                ins.execute(params![
                    e.tenant,
                    e.execution_id,
                    e.ffqn,
                    e.state,
                    e.result,
                    ts(&e.created_at),
                    ts(&e.updated_at),
                    e.finished_at.as_ref().map(ts),
                    e.state_until.as_ref().map(ts),
                    e.incompatible_digest,
                    e.error_text
                ])?;
                if let Some(text) = &e.error_text {
                    words.execute(params![text, e.tenant, e.execution_id])?;
                }
            }
            Ok(())
        };
        run(&tx).map_err(err)?;
        tx.commit().map_err(err)
    }

    /// Forget tenants no longer in the source.
    pub fn retain_tenants(&mut self, names: &[String]) -> Result<usize, IndexError> {
        let known: Vec<String> = self.tenants()?.into_iter().map(|t| t.name).collect();
        let mut removed = 0;
        for gone in known.iter().filter(|n| !names.contains(n)) {
            self.replace_tenant(
                &IndexedTenant {
                    name: gone.clone(),
                    point: None,
                    latest_at: None,
                    scanned_at: Utc::now(),
                    error: None,
                    problems: vec![],
                    executions: 0,
                    database: None,
                },
                &[],
            )?;
            self.conn.execute("DELETE FROM tenants WHERE name = ?1", [gone]).map_err(|e| self.err(e))?;
            removed += 1;
        }
        Ok(removed)
    }

    pub fn tenants(&self) -> Result<Vec<IndexedTenant>, IndexError> {
        let mut stmt = self
            .conn
            .prepare(
                "SELECT name, point, latest_at, scanned_at, error, problems, executions, database FROM tenants ORDER BY name",
            )
            .map_err(|e| self.err(e))?;
        let rows = stmt
            .query_map([], |r| {
                Ok(IndexedTenant {
                    name: r.get(0)?,
                    point: r.get(1)?,
                    latest_at: parse_ts(r.get(2)?),
                    scanned_at: parse_ts(r.get(3)?).unwrap_or_default(),
                    error: r.get(4)?,
                    problems: serde_json::from_str(&r.get::<_, String>(5)?).unwrap_or_default(),
                    executions: r.get::<_, i64>(6)? as usize,
                    database: r.get(7)?,
                })
            })
            .map_err(|e| self.err(e))?;
        rows.collect::<rusqlite::Result<_>>().map_err(|e| self.err(e))
    }

    /// Every tenant with its triage counts: failures since `since`, stuck as of `now`.
    pub fn tenant_counts(&self, since: DateTime<Utc>, now: DateTime<Utc>) -> Result<Vec<TenantCounts>, IndexError> {
        let mut stmt = self
            .conn
            .prepare(
                "SELECT tenant,
                        sum(state = 'locked'),
                        sum(state = 'blocked_by_join_set'),
                        sum(state = 'finished' AND result != 'ok' AND coalesce(finished_at, updated_at) >= ?1),
                        sum((state = 'pending_at' AND incompatible_digest IS NOT NULL)
                            OR (state = 'blocked_by_join_set' AND state_until < ?2))
                 FROM executions GROUP BY tenant",
            )
            .map_err(|e| self.err(e))?;
        let counts: std::collections::HashMap<String, [usize; 4]> = stmt
            .query_map(params![ts(&since), ts(&now)], |r| {
                let n = |i| r.get::<_, Option<i64>>(i).map(|v| v.unwrap_or(0) as usize);
                Ok((r.get(0)?, [n(1)?, n(2)?, n(3)?, n(4)?]))
            })
            .map_err(|e| self.err(e))?
            .collect::<rusqlite::Result<_>>()
            .map_err(|e| self.err(e))?;
        Ok(self
            .tenants()?
            .into_iter()
            .map(|t| {
                let [running, blocked, failed_since, stuck] = counts.get(&t.name).copied().unwrap_or_default();
                TenantCounts { tenant: t, running, blocked, failed_since, stuck }
            })
            .collect())
    }

    /// Executions matching `q`, most recently updated first.
    pub fn search(&self, q: &Search) -> Result<Vec<IndexedExecution>, IndexError> {
        let mut sql = String::from(
            "SELECT e.tenant, e.execution_id, e.ffqn, e.state, e.result, e.created_at, e.updated_at, e.finished_at,
                    e.state_until, e.incompatible_digest, e.error_text FROM executions e WHERE 1",
        );
        let mut args: Vec<String> = Vec::new();
        let mut arg = |sql: &mut String, clause: &str, v: String| {
            args.push(v);
            sql.push_str(&clause.replace('?', &format!("?{}", args.len())));
        };
        if let Some(s) = &q.state {
            arg(&mut sql, " AND e.state = ?", s.clone());
        }
        if let Some(f) = &q.ffqn_prefix {
            let escaped = f.replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_");
            arg(&mut sql, " AND e.ffqn LIKE ? ESCAPE '\\'", format!("{escaped}%"));
        }
        match q.result.as_deref() {
            None => {}
            Some("failed") => sql.push_str(" AND e.result LIKE 'failed%'"),
            Some(r) => arg(&mut sql, " AND e.result = ?", r.to_owned()),
        }
        if let Some(t) = &q.since {
            arg(&mut sql, " AND max(e.updated_at, coalesce(e.finished_at, '')) >= ?", ts(t));
        }
        if let Some(words) = &q.text {
            arg(
                &mut sql,
                " AND (e.tenant, e.execution_id) IN (SELECT tenant, execution_id FROM error_words WHERE error_words MATCH ?)",
                words.clone(),
            );
        }
        sql.push_str(&format!(" ORDER BY e.updated_at DESC, e.tenant, e.execution_id LIMIT {}", q.limit.max(1)));
        let mut stmt = self.conn.prepare(&sql).map_err(|e| self.err(e))?;
        let rows = stmt
            .query_map(rusqlite::params_from_iter(args.iter()), |r| {
                Ok(IndexedExecution {
                    tenant: r.get(0)?,
                    execution_id: r.get(1)?,
                    ffqn: r.get(2)?,
                    state: r.get(3)?,
                    result: r.get(4)?,
                    created_at: parse_ts(r.get(5)?).unwrap_or_default(),
                    updated_at: parse_ts(r.get(6)?).unwrap_or_default(),
                    finished_at: parse_ts(r.get(7)?),
                    state_until: parse_ts(r.get(8)?),
                    incompatible_digest: r.get(9)?,
                    error_text: r.get(10)?,
                })
            })
            .map_err(|e| self.err(e))?;
        rows.collect::<rusqlite::Result<_>>().map_err(|e| self.err(e))
    }
}
