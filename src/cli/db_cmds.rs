//! The database commands: `executions`, `events`. A DB argument is a local SQLite file, or a
//! replica address (with restore flags) that is restored into the cache first.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, Result};

use super::args::DbArgs;
use super::progress_bar::ProgressBar;
use crate::format::time;
use crate::litestream::{Cancel, cache};
use crate::obelisk::{ExecutionFilter, ExecutionId, ObeliskDb, describe, is_sqlite_file};

/// The local database file for `db`: the file itself, or a cached restore of the replica.
pub fn resolve_db(db: &DbArgs, cancel: &Cancel) -> Result<PathBuf> {
    let path = Path::new(&db.source.replica);
    if db.source.config.is_none() && path.is_file() {
        if is_sqlite_file(path) {
            return Ok(path.to_path_buf());
        }
        anyhow::bail!("{}: not a SQLite database", path.display());
    }
    let opened = db.source.open(cancel)?;
    let target = db.target.target()?;
    let bar = ProgressBar::new(std::io::stderr().is_terminal());
    let restored =
        cache::restore_cached(opened.store.as_ref(), &target, &opened.age, &cache::default_dir(), &bar, cancel);
    bar.finish();
    let (path, fresh) = restored?;
    if fresh {
        eprintln!("restored {} into {}", opened.store.describe(), path.display());
    }
    Ok(path)
}

/// Opens the Obelisk database behind `db` (restoring a replica first), printing its warnings.
pub fn open_db(db: &DbArgs, cancel: &Cancel) -> Result<ObeliskDb> {
    let path = resolve_db(db, cancel)?;
    let odb = ObeliskDb::open(&path)?;
    for w in odb.warnings() {
        eprintln!("warning: {w}");
    }
    Ok(odb)
}

/// `chronoscope executions`.
pub fn executions(
    db: &DbArgs,
    status: Option<&str>,
    ffqn: Option<String>,
    id: Option<String>,
    json: bool,
    cancel: &Cancel,
) -> Result<ExitCode> {
    let odb = open_db(db, cancel)?;
    let status = status.map(|s| s.parse()).transpose().map_err(|e| anyhow::anyhow!("--status: {e}"))?;
    let filter = ExecutionFilter { status, ffqn_prefix: ffqn, id_prefix: id, ..Default::default() };
    let list = odb.list_executions(&filter)?;
    if json {
        super::json_out::print_json(&list)?;
        return Ok(ExitCode::SUCCESS);
    }
    println!(
        "{} executions in {} (schema {})\n",
        list.len(),
        odb.path().display(),
        odb.schema().version.map_or("?".into(), |v| v.to_string())
    );
    println!("{:<52} {:<32} {:<24} {:<26} {:<24} {:>6}", "ID", "FUNCTION", "STATE", "RESULT", "CREATED", "EVENTS");
    for e in &list {
        let mut state = describe::state(&e.state);
        if e.is_paused() {
            state.push_str(" (paused)");
        }
        println!(
            "{:<52} {:<32} {:<24} {:<26} {:<24} {:>6}",
            e.id.to_string(),
            e.ffqn.to_string(),
            state,
            e.result_kind.as_ref().map(describe::result_kind).unwrap_or_else(|| "-".into()),
            time(e.created_at),
            e.event_count
        );
    }
    Ok(ExitCode::SUCCESS)
}

/// `chronoscope events`.
pub fn events(db: &DbArgs, execution_id: &str, json: bool, cancel: &Cancel) -> Result<ExitCode> {
    let odb = open_db(db, cancel)?;
    let id: ExecutionId = execution_id.parse().with_context(|| format!("invalid execution ID `{execution_id}`"))?;
    let log = odb.execution_log(&id)?;
    if json {
        super::json_out::print_json(&log)?;
        return Ok(ExitCode::SUCCESS);
    }
    println!("{id}: {} events\n", log.len());
    for entry in &log {
        println!(
            "v{:<4} {}  {:<26} {}",
            entry.version,
            time(entry.created_at),
            describe::event_kind(&entry.event),
            describe::event_detail(&entry.event)
        );
    }
    Ok(ExitCode::SUCCESS)
}
