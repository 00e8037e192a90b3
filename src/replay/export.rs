//! Export: one JSON document with an execution tree's events, responses, logs and replayed
//! states, written atomically, and read back as a [`ReplaySource`](super::ReplaySource).
//!
//! The document (`format` = [`FORMAT`], `format_version` = [`FORMAT_VERSION`]):
//! `{format, format_version, chronoscope_version, exported_at, source{database, schema_version},
//! root, tree, executions: [{id, summary, events, responses, logs, steps, final_state, findings,
//! t_state_differences}]}`. `events` are `{version, created_at, event}` with the event in
//! Obelisk's JSON (`{"raw":{variant,json,error}}` for rows that were not decodable), `responses`
//! as `chronoscope events`/the model serialize them. Reading uses only `root`, `executions[].id`,
//! `events` and `responses`; the rest is for people and other tools, and replaying the imported
//! rows gives the same states as replaying the database.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::compare::compare_with_t_state;
use super::engine::Replay;
use super::error::ReplayError;
use super::finding::Finding;
use super::state::{Received, ReplayState, Waiting};
use super::tree::{ReplayTree, TreeNode};
use crate::obelisk::{
    AppLogEntry, DelayId, Event, ExecutionId, ExecutionState, ExecutionSummary, JoinSetId, JoinSetResponse, Lifecycle,
    LogEntry, ObeliskDb, RawEvent, ResponseKind, RetVal,
};

/// The `format` field of an export.
pub const FORMAT: &str = "chronoscope.replay-export";
/// The `format_version` this version writes and reads.
pub const FORMAT_VERSION: u32 = 1;

/// Where an export came from.
#[derive(Debug, Clone, Serialize)]
pub struct ExportSourceInfo {
    pub database: String,
    pub schema_version: Option<u32>,
}

/// One step's replayed state, compactly.
#[derive(Debug, Clone, Serialize)]
pub struct StepRecord {
    pub index: usize,
    pub at: DateTime<Utc>,
    pub version: Option<u64>,
    pub kind: String,
    pub detail: String,
    pub pending: Option<ExecutionState>,
    pub lifecycle: Lifecycle,
    pub received: Option<Received>,
    pub waiting: Option<Waiting>,
}

/// One execution of an export.
#[derive(Debug, Clone, Serialize)]
pub struct ExportedExecution {
    pub id: ExecutionId,
    /// Obelisk's own projection (`t_state`).
    pub summary: Option<ExecutionSummary>,
    pub events: Vec<LogEntry>,
    pub responses: Vec<JoinSetResponse>,
    /// Application logs and std streams (`t_log`).
    pub logs: Vec<AppLogEntry>,
    pub steps: Vec<StepRecord>,
    pub final_state: ReplayState,
    pub findings: Vec<Finding>,
    pub t_state_differences: Vec<Finding>,
}

/// A whole export document.
#[derive(Debug, Clone, Serialize)]
pub struct ExportDocument {
    pub format: &'static str,
    pub format_version: u32,
    pub chronoscope_version: &'static str,
    pub exported_at: DateTime<Utc>,
    pub source: ExportSourceInfo,
    pub root: ExecutionId,
    pub tree: TreeNode,
    pub executions: Vec<ExportedExecution>,
}

/// Builds the export of `root`'s tree (children to any depth, scheduled executions) from `db`.
pub fn export_tree(db: &ObeliskDb, root: &ExecutionId) -> Result<ExportDocument, ReplayError> {
    let source = super::source::ReplaySource::Database(db);
    let tree = ReplayTree::load(&source, root)?;
    let mut executions = Vec::new();
    for node in tree.nodes() {
        let Some(replay) = tree.replay(&node.id) else { continue };
        let summary = match db.execution_summary(&node.id) {
            Ok(s) => Some(s),
            Err(crate::obelisk::ObeliskError::ExecutionNotFound { .. }) => None,
            Err(e) => return Err(e.into()),
        };
        executions.push(exported(db, replay, summary)?);
    }
    Ok(ExportDocument {
        format: FORMAT,
        format_version: FORMAT_VERSION,
        chronoscope_version: env!("CARGO_PKG_VERSION"),
        exported_at: Utc::now(),
        source: ExportSourceInfo { database: db.path().display().to_string(), schema_version: db.schema().version },
        root: root.clone(),
        tree: tree.root().clone(),
        executions,
    })
}

fn exported(
    db: &ObeliskDb,
    replay: &Replay,
    summary: Option<ExecutionSummary>,
) -> Result<ExportedExecution, ReplayError> {
    let mut events = Vec::new();
    let mut responses = Vec::new();
    for step in replay.steps() {
        match step {
            super::step::Step::Event(e) => events.push(e.clone()),
            super::step::Step::Response(r) => responses.push(r.clone()),
        }
    }
    let mut steps = Vec::with_capacity(replay.len());
    replay.for_each_state(|state| {
        let index = state.steps_applied.saturating_sub(1);
        let Some(step) = replay.step(index) else { return };
        steps.push(StepRecord {
            index,
            at: step.at(),
            version: step.version(),
            kind: step.kind(),
            detail: step.detail(),
            pending: state.pending.clone(),
            lifecycle: state.lifecycle.clone(),
            received: state.received.clone(),
            waiting: state.waiting.clone(),
        });
    });
    let t_state_differences =
        summary.as_ref().map(|s| compare_with_t_state(replay.final_state(), s)).unwrap_or_default();
    Ok(ExportedExecution {
        id: replay.execution_id().clone(),
        summary,
        events,
        responses,
        logs: db.app_logs(replay.execution_id(), false)?,
        steps,
        final_state: replay.final_state().clone(),
        findings: replay.findings().to_vec(),
        t_state_differences,
    })
}

/// Writes `doc` to `path` atomically: a temp file in the same folder, flushed, then renamed.
pub fn write_atomically(doc: &ExportDocument, path: &Path) -> Result<u64, ReplayError> {
    let io = |e: std::io::Error| ReplayError::Io { path: path.display().to_string(), reason: e.to_string() };
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_else(|| "export.json".into());
    let temp = dir.join(format!(".{name}.tmp-{}", std::process::id()));
    let written = (|| -> Result<u64, ReplayError> {
        let file = std::fs::File::create(&temp).map_err(io)?;
        let mut out = std::io::BufWriter::new(file);
        serde_json::to_writer_pretty(&mut out, doc)
            .map_err(|e| ReplayError::Io { path: path.display().to_string(), reason: e.to_string() })?;
        out.write_all(b"\n").map_err(io)?;
        let file = out.into_inner().map_err(|e| io(e.into_error()))?;
        file.sync_all().map_err(io)?;
        let len = file.metadata().map_err(io)?.len();
        std::fs::rename(&temp, path).map_err(io)?;
        Ok(len)
    })();
    if written.is_err() {
        let _ = std::fs::remove_file(&temp);
    }
    written
}

/// True when `path` looks like an export: a `.json` name, or a file starting with `{`.
pub fn looks_like_export(path: &Path) -> bool {
    if !path.is_file() {
        return false;
    }
    if path.extension().is_some_and(|e| e.eq_ignore_ascii_case("json")) {
        return true;
    }
    let mut head = [0u8; 64];
    let read = std::fs::File::open(path).and_then(|mut f| std::io::Read::read(&mut f, &mut head)).unwrap_or(0);
    head[..read].iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'{')
}

#[derive(Deserialize)]
struct ImportedDocument {
    format: String,
    format_version: u32,
    root: ExecutionId,
    executions: Vec<ImportedExecution>,
}

#[derive(Deserialize)]
struct ImportedExecution {
    id: ExecutionId,
    events: Vec<ImportedEvent>,
    #[serde(default)]
    responses: Vec<ImportedResponse>,
}

#[derive(Deserialize)]
struct ImportedEvent {
    version: u64,
    created_at: DateTime<Utc>,
    event: serde_json::Value,
}

#[derive(Deserialize)]
struct ImportedResponse {
    id: i64,
    #[serde(default)]
    seq: Option<u64>,
    created_at: DateTime<Utc>,
    join_set_id: JoinSetId,
    #[serde(flatten)]
    kind: ImportedKind,
}

#[derive(Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
enum ImportedKind {
    ChildExecutionFinished { child_execution_id: ExecutionId, finished_version: u64, result: Option<RetVal> },
    DelayFinished { delay_id: DelayId, success: bool },
}

/// An export read back: each execution's log and responses.
#[derive(Debug, Clone)]
pub struct ExportFile {
    path: PathBuf,
    root: ExecutionId,
    executions: BTreeMap<ExecutionId, (Vec<LogEntry>, Vec<JoinSetResponse>)>,
}

impl ExportFile {
    /// Reads an export written by [`write_atomically`].
    pub fn open(path: &Path) -> Result<ExportFile, ReplayError> {
        let bad = |reason: String| ReplayError::BadExport { path: path.display().to_string(), reason };
        let text = std::fs::read(path)
            .map_err(|e| ReplayError::Io { path: path.display().to_string(), reason: e.to_string() })?;
        let doc: ImportedDocument = serde_json::from_slice(&text).map_err(|e| bad(e.to_string()))?;
        if doc.format != FORMAT {
            return Err(bad(format!("format `{}` (expected `{FORMAT}`)", doc.format)));
        }
        if doc.format_version != FORMAT_VERSION {
            return Err(bad(format!("format version {} (this version reads {FORMAT_VERSION})", doc.format_version)));
        }
        let executions = doc
            .executions
            .into_iter()
            .map(|e| {
                let log = e.events.into_iter().map(imported_event).collect();
                let responses = e.responses.into_iter().map(imported_response).collect();
                (e.id, (log, responses))
            })
            .collect();
        Ok(ExportFile { path: path.to_path_buf(), root: doc.root, executions })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The execution the export was made for.
    pub fn root(&self) -> &ExecutionId {
        &self.root
    }

    /// Every execution in the file.
    pub fn ids(&self) -> impl Iterator<Item = &ExecutionId> {
        self.executions.keys()
    }

    /// Replays one execution of the file.
    pub fn replay(&self, id: &ExecutionId) -> Result<Replay, ReplayError> {
        let (log, responses) = self.executions.get(id).ok_or_else(|| ReplayError::NotInExport {
            path: self.path.display().to_string(),
            id: id.to_string(),
            root: self.root.to_string(),
        })?;
        Ok(Replay::new(id.clone(), log.clone(), responses.clone()))
    }
}

/// An event as exported: Obelisk's JSON, or `{"raw":{variant,json,error}}`.
fn imported_event(e: ImportedEvent) -> LogEntry {
    let event = match &e.event {
        serde_json::Value::Object(map) if map.len() == 1 && map.contains_key("raw") => {
            let raw = &map["raw"];
            let text = |key: &str| raw.get(key).and_then(|v| v.as_str()).unwrap_or_default().to_owned();
            Event::Raw(RawEvent { variant: text("variant"), json: text("json"), error: text("error") })
        }
        other => {
            let variant = match other {
                serde_json::Value::String(s) => s.clone(),
                serde_json::Value::Object(map) if map.len() == 1 => map.keys().next().cloned().unwrap_or_default(),
                _ => String::new(),
            };
            Event::decode(&variant, &other.to_string())
        }
    };
    LogEntry { version: e.version, created_at: e.created_at, event }
}

fn imported_response(r: ImportedResponse) -> JoinSetResponse {
    let kind = match r.kind {
        ImportedKind::ChildExecutionFinished { child_execution_id, finished_version, result } => {
            ResponseKind::ChildExecutionFinished { child_execution_id, finished_version, result }
        }
        ImportedKind::DelayFinished { delay_id, success } => ResponseKind::DelayFinished { delay_id, success },
    };
    JoinSetResponse { id: r.id, seq: r.seq, created_at: r.created_at, join_set_id: r.join_set_id, kind }
}
