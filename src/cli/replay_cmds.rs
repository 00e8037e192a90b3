//! The replay commands: `replay` (the state at a step), `check` (whole-database replay against
//! `t_state`) and `export` (an execution tree as one JSON document that `replay` opens again).

use std::path::Path;
use std::process::ExitCode;

use anyhow::{Context, Result, anyhow};
use serde::Serialize;

use super::args::DbArgs;
use super::db_cmds::open_db;
use super::replay_text::print_state;
use crate::format::time;
use crate::litestream::Cancel;
use crate::obelisk::{ExecutionId, ExecutionSummary};
use crate::replay::export::{ExportFile, export_tree, looks_like_export, write_atomically};
use crate::replay::{Finding, ReplaySource, ReplayState, StateAtStep, Step, check_database, compare_with_t_state};

/// `chronoscope replay --json`: one step's replayed state.
#[derive(Serialize)]
struct ReplayOutput<'a> {
    source: String,
    execution_id: &'a ExecutionId,
    /// 0-based step index; `steps` in all.
    step: usize,
    steps: usize,
    events: usize,
    responses: usize,
    /// The step itself (a log event or a response arriving).
    at_step: &'a Step,
    state: &'a ReplayState,
    /// Replay-rule findings of the whole execution.
    findings: &'a [Finding],
    /// Differences between the final replayed state and `t_state` (database sources only).
    t_state_differences: Vec<Finding>,
}

/// `chronoscope replay`. A database's execution is folded as its rows are read, keeping only the
/// step asked for ([`StateAtStep::read`]); an export is opened whole, as it is one document.
pub fn replay(
    db: &DbArgs,
    execution_id: Option<&str>,
    step: Option<usize>,
    json: bool,
    cancel: &Cancel,
) -> Result<ExitCode> {
    let path = Path::new(&db.source.replica);
    let (source, id, at, summary) = if db.source.config.is_none() && looks_like_export(path) {
        let export = ExportFile::open(path)?;
        let id = match execution_id {
            Some(text) => parse_id(text)?,
            None => export.root().clone(),
        };
        let source = ReplaySource::Export(&export);
        let replay = source.replay(&id)?;
        if replay.is_empty() {
            return Err(anyhow!("{id} has no log rows in {}", source.describe()));
        }
        (source.describe(), id, StateAtStep::from_replay(&replay, step)?, None)
    } else {
        let text = execution_id
            .ok_or_else(|| anyhow!("an execution ID is needed (list them with `chronoscope executions`)"))?;
        let id = parse_id(text)?;
        let odb = open_db(db, cancel)?;
        let at = StateAtStep::read(&odb, &id, step)?;
        let summary = odb.execution_summary(&id)?;
        (ReplaySource::Database(&odb).describe(), id, at, Some(summary))
    };
    let differences = summary.as_ref().map(|s| compare_with_t_state(&at.final_state, s)).unwrap_or_default();
    let (index, last) = (at.index, at.steps - 1);
    if json {
        let out = ReplayOutput {
            source,
            execution_id: &id,
            step: index,
            steps: at.steps,
            events: at.events,
            responses: at.responses.len(),
            at_step: &at.step,
            state: &at.state,
            findings: &at.findings,
            t_state_differences: differences,
        };
        super::json_out::print_json(&out)?;
        return Ok(ExitCode::SUCCESS);
    }
    println!("{id}: step {index} of 0..={last} ({} events, {} responses) from {source}", at.events, at.responses.len());
    let version = at.step.version().map(|v| format!("v{v} ")).unwrap_or_default();
    println!("  at step: {version}{}  {} {}\n", time(at.step.at()), at.step.kind(), at.step.detail());
    print_state(|i| at.response(i), &at.state);
    if !at.findings.is_empty() || !differences.is_empty() {
        println!("\nfindings:");
        for f in at.findings.iter().chain(&differences) {
            let step = f.step.map(|s| format!("step {s}: ")).unwrap_or_default();
            println!("  {step}[{}] {}", f.kind, f.message);
        }
    } else if let Some(s) = &summary
        && index == last
    {
        println!("\nt_state agrees ({}, version {})", s.state.name(), s.version);
    }
    Ok(ExitCode::SUCCESS)
}

/// `chronoscope check`: exit 1 when there are findings.
pub fn check(db: &DbArgs, json: bool, cancel: &Cancel) -> Result<ExitCode> {
    let odb = open_db(db, cancel)?;
    let report = check_database(&odb)?;
    let code = if report.findings.is_empty() { ExitCode::SUCCESS } else { ExitCode::FAILURE };
    if json {
        super::json_out::print_json(&report)?;
        return Ok(code);
    }
    println!(
        "{}: replayed {} executions ({} events, {} responses) in {} ms (schema {})",
        report.database,
        report.executions,
        report.events,
        report.responses,
        report.elapsed_ms,
        report.schema_version.map_or("?".into(), |v| v.to_string())
    );
    if report.findings.is_empty() {
        println!("no findings: every execution's replay agrees with t_state and with the others");
        return Ok(code);
    }
    let counts: Vec<String> = report.counts().iter().map(|(k, n)| format!("{n} {k}")).collect();
    println!("{} findings: {}\n", report.findings.len(), counts.join(", "));
    for f in &report.findings {
        let step = f.step.map(|s| format!(" step {s}")).unwrap_or_default();
        println!("{f}{step}");
    }
    Ok(code)
}

/// `chronoscope export --json` summary.
#[derive(Serialize)]
struct ExportOutput<'a> {
    output: &'a Path,
    bytes: u64,
    root: &'a ExecutionId,
    executions: usize,
    events: usize,
    responses: usize,
    findings: usize,
}

/// `chronoscope export`.
pub fn export(db: &DbArgs, execution_id: &str, output: &Path, json: bool, cancel: &Cancel) -> Result<ExitCode> {
    let id = parse_id(execution_id)?;
    let odb = open_db(db, cancel)?;
    let doc = export_tree(&odb, &id)?;
    let root_summary = doc.executions.iter().find(|e| e.id == id).and_then(|e| e.summary.as_ref());
    let bytes = write_atomically(&doc, output).with_context(|| format!("cannot write {}", output.display()))?;
    let out = ExportOutput {
        output,
        bytes,
        root: &id,
        executions: doc.executions.len(),
        events: doc.executions.iter().map(|e| e.events.len()).sum(),
        responses: doc.executions.iter().map(|e| e.responses.len()).sum(),
        findings: doc.executions.iter().map(|e| e.findings.len() + e.t_state_differences.len()).sum(),
    };
    if json {
        super::json_out::print_json(&out)?;
    } else {
        println!(
            "exported {} ({}, {}) with {} executions, {} events, {} responses, {} findings to {} ({} bytes)",
            id,
            root_summary.map_or("?".to_owned(), |s| s.ffqn.to_string()),
            root_summary.map_or("?".to_owned(), describe_summary),
            out.executions,
            out.events,
            out.responses,
            out.findings,
            output.display(),
            bytes
        );
        println!("open it again with: chronoscope replay {}", output.display());
    }
    Ok(ExitCode::SUCCESS)
}

fn describe_summary(s: &ExecutionSummary) -> String {
    match &s.result_kind {
        Some(k) => crate::obelisk::describe::result_kind(k),
        None => s.state.name().to_owned(),
    }
}

fn parse_id(text: &str) -> Result<ExecutionId> {
    text.parse().with_context(|| format!("invalid execution ID `{text}`"))
}
