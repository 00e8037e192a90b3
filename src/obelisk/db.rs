//! Opening an Obelisk database read-only, and the query helpers the other files use.

use std::fmt::Display;
use std::io::Read;
use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use rusqlite::{Connection, OpenFlags, Row};

use super::error::ObeliskError;
use super::schema::Schema;
use super::time::parse_db_time;

/// A read-only connection to an Obelisk SQLite database. Never migrates or writes: the file is
/// opened with `SQLITE_OPEN_READ_ONLY`, as `immutable=1` unless a `-wal` file sits beside it.
pub struct ObeliskDb {
    conn: Connection,
    path: PathBuf,
    display: String,
    schema: Schema,
    warnings: Vec<String>,
}

impl std::fmt::Debug for ObeliskDb {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ObeliskDb").field("path", &self.path).field("schema", &self.schema).finish_non_exhaustive()
    }
}

impl ObeliskDb {
    /// Opens `path` read-only and detects its schema. A file that is not SQLite, or an SQLite
    /// database without Obelisk's tables, is an error; an unknown or newer schema version opens
    /// with a warning (see [`ObeliskDb::warnings`]).
    pub fn open(path: impl AsRef<Path>) -> Result<ObeliskDb, ObeliskError> {
        let path = path.as_ref();
        let display = path.display().to_string();
        check_sqlite_header(path, &display)?;
        let mut warnings = Vec::new();
        let has_wal = std::fs::metadata(sidecar(path, "-wal")).is_ok_and(|m| m.len() > 0);
        let mut opened = None;
        if has_wal {
            // A live database (or a copy with its WAL): read the WAL too, without writing.
            match connect(path, &display, "mode=ro", &mut warnings) {
                Ok(found) => opened = Some(found),
                Err(e @ (ObeliskError::NotObelisk { .. } | ObeliskError::Unsupported { .. })) => return Err(e),
                Err(e) => warnings
                    .push(format!("{display}: cannot read its -wal file read-only ({e}); reading the main file only")),
            }
        }
        let (conn, schema) = match opened {
            Some(found) => found,
            None => connect(path, &display, "immutable=1", &mut warnings)?,
        };
        Ok(ObeliskDb { conn, path: path.to_owned(), display, schema, warnings })
    }

    /// The file this was opened from.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The detected schema.
    pub fn schema(&self) -> &Schema {
        &self.schema
    }

    /// Warnings to show the user (unknown schema version, WAL not readable), one line each.
    pub fn warnings(&self) -> &[String] {
        &self.warnings
    }

    fn sql_error(&self, context: impl Display) -> impl FnOnce(rusqlite::Error) -> ObeliskError {
        let (path, context) = (self.display.clone(), context.to_string());
        move |source| ObeliskError::Sqlite { path, context, source }
    }

    pub(crate) fn data_error(&self, reason: impl Display) -> ObeliskError {
        ObeliskError::Data { path: self.display.clone(), reason: reason.to_string() }
    }

    pub(crate) fn not_found(&self, id: impl Display) -> ObeliskError {
        ObeliskError::ExecutionNotFound { path: self.display.clone(), id: id.to_string() }
    }

    /// Runs a query and maps each row with `map` (which reads plain column values).
    pub(crate) fn query<T>(
        &self,
        sql: &str,
        params: impl rusqlite::Params,
        context: impl Display,
        map: impl FnMut(&Row<'_>) -> rusqlite::Result<T>,
    ) -> Result<Vec<T>, ObeliskError> {
        let context = context.to_string();
        let mut stmt = self.conn.prepare(sql).map_err(self.sql_error(&context))?;
        let rows = stmt.query_map(params, map).map_err(self.sql_error(&context))?;
        rows.collect::<Result<Vec<T>, _>>().map_err(self.sql_error(&context))
    }

    /// Runs a query and hands each row to `visit` until it returns `Ok(false)`. SQLite errors
    /// (the outer result of `visit`) carry `context`; data errors (the inner one) stop the query.
    pub(crate) fn for_each_row(
        &self,
        sql: &str,
        params: impl rusqlite::Params,
        context: impl Display,
        mut visit: impl FnMut(&Row<'_>) -> rusqlite::Result<Result<bool, ObeliskError>>,
    ) -> Result<(), ObeliskError> {
        let context = context.to_string();
        let mut stmt = self.conn.prepare(sql).map_err(self.sql_error(&context))?;
        let mut rows = stmt.query(params).map_err(self.sql_error(&context))?;
        while let Some(row) = rows.next().map_err(self.sql_error(&context))? {
            if !visit(row).map_err(self.sql_error(&context))?? {
                break;
            }
        }
        Ok(())
    }

    /// Parses a timestamp column; `what` names the row and column for the error.
    pub(crate) fn time(&self, text: &str, what: impl Display) -> Result<DateTime<Utc>, ObeliskError> {
        parse_db_time(text).ok_or_else(|| self.data_error(format_args!("{what}: unreadable time `{text}`")))
    }

    /// Parses an identifier or other `FromStr` column; `what` names the row and column for the error.
    pub(crate) fn parse<T: std::str::FromStr>(&self, text: &str, what: impl Display) -> Result<T, ObeliskError>
    where
        T::Err: Display,
    {
        text.parse().map_err(|e| self.data_error(format_args!("{what}: {e}")))
    }

    /// A non-negative integer column.
    pub(crate) fn unsigned(&self, value: i64, what: impl Display) -> Result<u64, ObeliskError> {
        u64::try_from(value).map_err(|_| self.data_error(format_args!("{what}: negative value {value}")))
    }
}

/// Opens the URI `file:PATH?query` read-only and detects the schema.
fn connect(
    path: &Path,
    display: &str,
    query: &str,
    warnings: &mut Vec<String>,
) -> Result<(Connection, Schema), ObeliskError> {
    let uri = format!("file:{}?{query}", uri_path(path));
    let flags = OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_URI | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    let conn = Connection::open_with_flags(&uri, flags).map_err(|source| ObeliskError::Sqlite {
        path: display.to_owned(),
        context: "opening read-only".into(),
        source,
    })?;
    // No memory map and an 8 MB page cache per connection: whole-database replay reads every
    // row once, in order, so the OS's page cache serves it as well as a map would, and a map of
    // the whole file counted in the RSS of every connection (1.45 GB of a `check` of a 740 MB
    // database with two workers; with this it stays within the check's 128 MB bound).
    let _ = conn.pragma_update(None, "mmap_size", 0i64);
    let _ = conn.pragma_update(None, "cache_size", -2_048i64);
    let schema = Schema::detect(&conn, display, warnings)?;
    Ok((conn, schema))
}

fn sidecar(path: &Path, suffix: &str) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(suffix);
    PathBuf::from(name)
}

/// The path part of an SQLite `file:` URI: `?`, `#`, `%` and anything outside a plain set are
/// percent-encoded.
fn uri_path(path: &Path) -> String {
    let text = path.to_string_lossy();
    let mut out = String::with_capacity(text.len());
    for b in text.bytes() {
        if b.is_ascii_alphanumeric() || b"/-_.~+,=:@".contains(&b) {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// SQLite would accept some non-databases lazily (an empty file is an empty database); check the
/// 16-byte header first to give a clear error.
/// Does `path` start with the SQLite header (a database file, not a replica folder or JSON)?
pub fn is_sqlite_file(path: &Path) -> bool {
    let mut magic = [0u8; 16];
    std::fs::File::open(path).and_then(|mut f| f.read_exact(&mut magic)).is_ok() && &magic == b"SQLite format 3\0"
}

fn check_sqlite_header(path: &Path, display: &str) -> Result<(), ObeliskError> {
    let io = |e: std::io::Error| ObeliskError::Io { path: display.to_owned(), reason: e.to_string() };
    let meta = std::fs::metadata(path).map_err(io)?;
    if !meta.is_file() {
        return Err(ObeliskError::Io { path: display.to_owned(), reason: "not a regular file".into() });
    }
    let mut header = [0u8; 16];
    let mut file = std::fs::File::open(path).map_err(io)?;
    let mut read = 0;
    while read < header.len() {
        match file.read(&mut header[read..]).map_err(io)? {
            0 => break,
            n => read += n,
        }
    }
    if read == 0 {
        return Err(ObeliskError::NotSqlite { path: display.to_owned(), reason: "the file is empty".into() });
    }
    if read < header.len() || &header != b"SQLite format 3\0" {
        return Err(ObeliskError::NotSqlite { path: display.to_owned(), reason: "no `SQLite format 3` header".into() });
    }
    Ok(())
}

/// A TEXT column, borrowed from the row.
pub(super) fn text<'r>(r: &'r Row<'_>, index: usize) -> rusqlite::Result<&'r str> {
    Ok(r.get_ref(index)?.as_str()?)
}

/// A TEXT column that may be NULL, borrowed from the row.
pub(super) fn optional_text<'r>(r: &'r Row<'_>, index: usize) -> rusqlite::Result<Option<&'r str>> {
    Ok(r.get_ref(index)?.as_str_or_null()?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::obelisk::schema::SchemaSupport;
    use crate::obelisk::test_support::{FIXTURE_0_38_3, FIXTURE_0_41_5, fixture};

    #[test]
    fn plain_sqlite_file_is_not_obelisk() {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let path = dir.path().join("other.sqlite");
        let conn = Connection::open(&path).unwrap_or_else(|e| panic!("{e}"));
        conn.execute_batch("CREATE TABLE people (name TEXT);").unwrap_or_else(|e| panic!("{e}"));
        drop(conn);
        let err = ObeliskDb::open(&path).err().map(|e| e.to_string()).unwrap_or_default();
        assert_eq!(
            err,
            format!(
                "{}: not an Obelisk database: no refinery_schema_history, t_execution_log or t_state table",
                path.display()
            )
        );
    }

    #[test]
    fn non_sqlite_files_are_rejected() {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let text = dir.path().join("notes.txt");
        std::fs::write(&text, "just some text, long enough to fill a header").unwrap_or_else(|e| panic!("{e}"));
        let err = ObeliskDb::open(&text).err().map(|e| e.to_string()).unwrap_or_default();
        assert_eq!(err, format!("{}: not an SQLite database: no `SQLite format 3` header", text.display()));

        let empty = dir.path().join("empty.sqlite");
        std::fs::write(&empty, "").unwrap_or_else(|e| panic!("{e}"));
        let err = ObeliskDb::open(&empty).err().map(|e| e.to_string()).unwrap_or_default();
        assert_eq!(err, format!("{}: not an SQLite database: the file is empty", empty.display()));

        let missing = dir.path().join("missing.sqlite");
        assert!(matches!(ObeliskDb::open(&missing), Err(ObeliskError::Io { .. })));
        assert!(matches!(ObeliskDb::open(dir.path()), Err(ObeliskError::Io { .. })));
    }

    #[test]
    fn newer_schema_opens_with_a_warning() {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        // A name that needs URI escaping.
        let path = dir.path().join("future #1?.sqlite");
        std::fs::copy(fixture(FIXTURE_0_38_3), &path).unwrap_or_else(|e| panic!("{e}"));
        let conn = Connection::open(&path).unwrap_or_else(|e| panic!("{e}"));
        conn.execute_batch(
            "PRAGMA journal_mode=DELETE; INSERT INTO refinery_schema_history VALUES (99, 'future', '2030-01-01', '0');",
        )
        .unwrap_or_else(|e| panic!("{e}"));
        drop(conn);
        let db = ObeliskDb::open(&path).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!((db.schema().version, db.schema().support), (Some(99), SchemaSupport::Newer));
        assert_eq!(db.warnings().len(), 1);
        assert!(
            db.warnings()[0].contains("schema version 99 is newer than the newest known (24"),
            "{:?}",
            db.warnings()
        );
        // Best effort still reads everything.
        let all = db.list_executions(&Default::default()).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(all.len(), 38);
    }

    #[test]
    fn reads_a_live_wal() {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let path = dir.path().join("live.sqlite");
        // The 0.41.5 fixture's header says WAL mode; a writer keeps its WAL open while we read.
        std::fs::copy(fixture(FIXTURE_0_41_5), &path).unwrap_or_else(|e| panic!("{e}"));
        let writer = Connection::open(&path).unwrap_or_else(|e| panic!("{e}"));
        writer
            .execute_batch(
                "INSERT INTO refinery_schema_history VALUES (18, 'execution_tombstones', '2030-01-01', '0');",
            )
            .unwrap_or_else(|e| panic!("{e}"));
        assert!(sidecar(&path, "-wal").metadata().is_ok_and(|m| m.len() > 0));
        let db = ObeliskDb::open(&path).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(db.schema().version, Some(18), "the row committed to the WAL is visible");
        assert!(db.warnings().is_empty(), "{:?}", db.warnings());
        drop(writer);
    }

    #[test]
    fn opening_never_writes() {
        let path = fixture(FIXTURE_0_38_3);
        let before = std::fs::read(&path).unwrap_or_else(|e| panic!("{e}"));
        let db = ObeliskDb::open(&path).unwrap_or_else(|e| panic!("{e}"));
        assert!(db.conn.execute_batch("CREATE TABLE x (y)").is_err());
        drop(db);
        assert!(std::fs::read(&path).is_ok_and(|after| after == before));
        assert!(!sidecar(&path, "-wal").exists());
    }

    #[test]
    fn uri_paths_are_escaped() {
        assert_eq!(uri_path(Path::new("/tmp/a b/c?#%.db")), "/tmp/a%20b/c%3F%23%25.db");
    }
}
