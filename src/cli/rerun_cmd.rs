//! `chronoscope rerun`: re-execute workflow executions with their own component (or another
//! build) and report how each ends. Exit 0 when every execution agrees with its log, 2 when any
//! does not, 1 on errors.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::Result;

use super::args::DbArgs;
use super::db_cmds::open_db;
use crate::litestream::Cancel;
use crate::obelisk::ExecutionId;
use crate::rerun::{
    Compiled, OutcomeKind, Prepared, Report, RerunError, Rerunner, RunOptions, SourceFiles, SourceLine,
    default_cache_dir, rerun_database, short_path,
};

/// The options of `rerun`.
pub struct RerunCmd {
    pub execution_ids: Vec<String>,
    pub component: Option<PathBuf>,
    pub source_dir: Option<PathBuf>,
    pub json: bool,
    pub fuel: u64,
}

pub fn rerun(db: &DbArgs, cmd: &RerunCmd, cancel: &Cancel) -> Result<ExitCode> {
    let odb = open_db(db, cancel)?;
    let ids = cmd
        .execution_ids
        .iter()
        .map(|s| s.parse::<ExecutionId>().map_err(anyhow::Error::from))
        .collect::<Result<Vec<_>>>()?;
    let rerunner = Rerunner::new(Some(default_cache_dir()))?;
    let component = cmd.component.as_deref().map(|p| prepare(&rerunner, p)).transpose()?;
    let options = RunOptions { fuel: cmd.fuel, cancel: cancel.clone() };
    let results = rerun_database(&rerunner, &odb, &ids, component.as_ref(), &options)?;
    if cancel.is_cancelled() {
        anyhow::bail!("cancelled");
    }
    let errors = results.iter().filter(|(_, r)| r.is_err()).count();
    let inconsistent = results.iter().filter(|(_, r)| r.as_ref().is_ok_and(|r| !r.consistent)).count();
    if cmd.json {
        print_json(&results)?;
    } else {
        let sources = SourceFiles::new(&odb, cmd.source_dir.as_deref());
        print_table(&results, &sources);
        eprintln!(
            "{} executions: {} consistent, {inconsistent} not, {errors} errors",
            results.len(),
            results.len() - errors - inconsistent
        );
    }
    Ok(if errors > 0 {
        ExitCode::from(1)
    } else if inconsistent > 0 {
        ExitCode::from(2)
    } else {
        ExitCode::SUCCESS
    })
}

fn prepare(rerunner: &Rerunner, path: &Path) -> Result<Arc<Prepared>> {
    let prepared = rerunner.prepare_file(path)?;
    if prepared.compiled == Compiled::Fresh {
        eprintln!("compiled {} ({}) in {:.0?}", path.display(), prepared.digest, prepared.took);
    }
    Ok(prepared)
}

fn print_json(results: &[(ExecutionId, Result<Report, RerunError>)]) -> Result<()> {
    let items: Vec<serde_json::Value> = results
        .iter()
        .map(|(id, r)| match r {
            Ok(report) => serde_json::to_value(report).unwrap_or_default(),
            Err(e) => serde_json::json!({ "execution_id": id, "outcome": "error", "error": e.to_string() }),
        })
        .collect();
    super::json_out::print_json(&items)?;
    Ok(())
}

fn print_table(results: &[(ExecutionId, Result<Report, RerunError>)], sources: &SourceFiles<'_>) {
    println!("{:<44} {:<34} {:<16} {:>7}  WHERE", "EXECUTION", "FUNCTION", "OUTCOME", "EVENTS");
    for (id, result) in results {
        let report = match result {
            Ok(r) => r,
            Err(e) => {
                println!("{:<44} {:<34} {:<16} {:>7}  {e}", id.to_string(), "", "error", "");
                continue;
            }
        };
        let outcome = if report.consistent || report.outcome == OutcomeKind::Nondeterministic {
            report.outcome.as_str().to_owned()
        } else {
            format!("{} (!)", report.outcome.as_str())
        };
        let events = format!("{}/{}", report.matched, report.total);
        println!(
            "{:<44} {:<34} {outcome:<16} {events:>7}  {}",
            id.to_string(),
            report.ffqn.to_string(),
            report.where_text()
        );
        for line in details(report, sources) {
            println!("    {line}");
        }
    }
}

/// Lines under a row that did not simply finish: the trap, the two sides of a nondeterminism,
/// what a blocked execution waits for, what a pending one would append.
fn details(report: &Report, sources: &SourceFiles<'_>) -> Vec<String> {
    let digest = &report.component_digest;
    let code = |at: &Option<SourceLine>| {
        at.as_ref()
            .and_then(|s| sources.line(digest, s).map(|text| format!("{}:{}  {text}", short_path(&s.file), s.line)))
    };
    let mut out = Vec::new();
    if let Some(trap) = &report.trap {
        out.push(format!("trap: {}", trap.reason));
        out.extend(code(&trap.source));
    }
    if let Some(n) = &report.nondeterminism {
        out.push(n.message.clone());
        out.push(format!("recorded: {}", n.recorded));
        out.push(format!("produced: {}", n.produced));
        out.extend(code(&n.source));
    }
    if let Some(b) = &report.blocked {
        out.push(format!("waits for: {}", b.waiting_for.join(", ")));
        out.extend(code(&b.source));
    }
    if let Some(p) = &report.pending {
        for key in &p.would_append {
            out.push(format!("would append: {key}"));
        }
        if let Some(retval) = &p.would_finish {
            out.push(format!("would finish: {}", serde_json::to_string(retval).unwrap_or_default()));
        }
        out.extend(code(&p.source));
    }
    if !report.consistent
        && report.outcome == OutcomeKind::Trapped
        && let Some(recorded) = &report.recorded_retval
    {
        out.push(format!("recorded: {}", serde_json::to_string(recorded).unwrap_or_default()));
    }
    out
}
