//! WASM backtraces of workflow host calls (`t_execution_backtrace` → `t_wasm_backtrace`) and the
//! source files stored for a component (`t_component_source` → `t_source_file` before 0.39.4,
//! → the content-addressed `t_file` after).

use rusqlite::types::Value;
use serde::{Deserialize, Serialize};

use super::component::{ComponentId, ContentDigest};
use super::db::ObeliskDb;
use super::error::ObeliskError;
use super::ids::ExecutionId;

/// A source location of a frame.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FrameSymbol {
    #[serde(default)]
    pub func_name: Option<String>,
    #[serde(default)]
    pub file: Option<String>,
    #[serde(default)]
    pub line: Option<u32>,
    #[serde(default)]
    pub col: Option<u32>,
}

/// One stack frame, innermost first; inlined functions appear as several symbols.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Frame {
    pub module: String,
    pub func_name: String,
    #[serde(default)]
    pub symbols: Vec<FrameSymbol>,
}

/// The backtrace shared by the events of versions `[version_min_including, version_max_excluding)`
/// (one host call's batch, e.g. JoinSetCreate + DelayRequest + JoinNext of a `sleep`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Backtrace {
    pub version_min_including: u64,
    pub version_max_excluding: u64,
    pub component_id: ComponentId,
    pub frames: Vec<Frame>,
}

impl Backtrace {
    /// True when the range covers `version`.
    pub fn covers(&self, version: u64) -> bool {
        (self.version_min_including..self.version_max_excluding).contains(&version)
    }
}

#[derive(Deserialize)]
struct WasmBacktrace {
    frames: Vec<Frame>,
}

/// A source file stored for a component, matched to frames by `frame_key`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ComponentSource {
    /// The exact frame file path, or a `/`-prefixed suffix when `is_suffix`.
    pub frame_key: String,
    pub is_suffix: bool,
    pub content: String,
}

/// The source for a frame's `file`: an exact key first, else the longest matching suffix.
pub fn find_source<'a>(sources: &'a [ComponentSource], file: &str) -> Option<&'a ComponentSource> {
    sources.iter().find(|s| !s.is_suffix && s.frame_key == file).or_else(|| {
        sources.iter().filter(|s| s.is_suffix && file.ends_with(&s.frame_key)).max_by_key(|s| s.frame_key.len())
    })
}

impl ObeliskDb {
    /// The execution's backtraces by version range (often empty in 0.41+, which captures them lazily).
    pub fn backtraces(&self, id: &ExecutionId) -> Result<Vec<Backtrace>, ObeliskError> {
        if !self.schema().has_table("t_execution_backtrace") || !self.schema().has_table("t_wasm_backtrace") {
            return Ok(Vec::new());
        }
        let rows: Vec<(i64, i64, String, String)> = self.query(
            "SELECT b.version_min_including, b.version_max_excluding, b.component_id, w.wasm_backtrace
             FROM t_execution_backtrace b JOIN t_wasm_backtrace w ON w.backtrace_hash = b.backtrace_hash
             WHERE b.execution_id = ?1 ORDER BY b.version_min_including",
            [id.to_string()],
            format_args!("reading the backtraces of {id}"),
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
        )?;
        rows.into_iter()
            .map(|(min, max, component_id, backtrace)| {
                let at = format!("t_execution_backtrace {id} [{min}, {max})");
                let component_id: ComponentId = serde_json::from_str(&component_id)
                    .map_err(|e| self.data_error(format_args!("{at}: component_id: {e}")))?;
                let backtrace: WasmBacktrace = serde_json::from_str(&backtrace)
                    .map_err(|e| self.data_error(format_args!("{at}: wasm_backtrace: {e}")))?;
                Ok(Backtrace {
                    version_min_including: self.unsigned(min, &at)?,
                    version_max_excluding: self.unsigned(max, &at)?,
                    component_id,
                    frames: backtrace.frames,
                })
            })
            .collect()
    }

    /// Source files stored for the component with this digest (empty when none were configured).
    pub fn component_sources(&self, digest: &ContentDigest) -> Result<Vec<ComponentSource>, ObeliskError> {
        let s = self.schema();
        let join = if s.has_column("t_component_source", "digest") && s.has_table("t_file") {
            "JOIN t_file f ON f.digest = cs.digest"
        } else if s.has_column("t_component_source", "content_hash") && s.has_table("t_source_file") {
            "JOIN t_source_file f ON f.content_hash = cs.content_hash"
        } else {
            return Ok(Vec::new());
        };
        let sql = format!(
            "SELECT cs.frame_key, cs.is_suffix, f.content FROM t_component_source cs {join}
             WHERE cs.component_digest = ?1 ORDER BY cs.frame_key, cs.is_suffix"
        );
        self.query(&sql, [digest.0.as_slice()], format_args!("reading the sources of {digest}"), |r| {
            let content = match r.get::<_, Value>(2)? {
                Value::Text(text) => text,
                Value::Blob(bytes) => String::from_utf8_lossy(&bytes).into_owned(),
                _ => String::new(),
            };
            Ok(ComponentSource { frame_key: r.get(0)?, is_suffix: r.get::<_, i64>(1)? != 0, content })
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::obelisk::test_support::{FIXTURE_0_38_3, FIXTURE_0_41_5, open, parse};

    #[test]
    fn backtraces_and_sources_0_38_3() {
        let db = open(FIXTURE_0_38_3);
        let id: ExecutionId = parse("E_01M86DPD8S6AQS1Q3F0RH83MR5");
        let bts = db.backtraces(&id).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            bts.iter().map(|b| (b.version_min_including, b.version_max_excluding)).collect::<Vec<_>>(),
            [(2, 5), (5, 8)]
        );
        assert!(bts[0].covers(4) && !bts[0].covers(5));
        // The inlined `add` (lib.rs:10) called from `serial` at lib.rs:22:17.
        let in_lib: Vec<_> = bts[0]
            .frames
            .iter()
            .flat_map(|f| &f.symbols)
            .filter(|s| s.file.as_deref().is_some_and(|f| f.ends_with("/src/lib.rs")))
            .collect();
        assert_eq!(
            in_lib.iter().take(2).map(|s| (s.line, s.col)).collect::<Vec<_>>(),
            [(Some(10), Some(1)), (Some(22), Some(17))]
        );
        let symbol = in_lib[1];

        let sources = db.component_sources(&bts[0].component_id.component_digest).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(sources.len(), 1);
        let file = symbol.file.as_deref().unwrap_or_default();
        let source = find_source(&sources, file).unwrap_or_else(|| panic!("source of {file}"));
        assert_eq!((source.frame_key.as_str(), source.is_suffix, source.content.len()), ("/src/lib.rs", true, 4580));
        assert!(find_source(&sources, "/elsewhere/main.rs").is_none());

        let total: usize = db
            .list_executions(&Default::default())
            .unwrap_or_else(|e| panic!("{e}"))
            .iter()
            .map(|e| db.backtraces(&e.id).map(|b| b.len()).unwrap_or_else(|e| panic!("{e}")))
            .sum();
        assert_eq!(total, 42);
    }

    #[test]
    fn sources_in_the_file_store_0_41_5() {
        let db = open(FIXTURE_0_41_5);
        assert!(db.backtraces(&parse("E_01M86G6PD8CH6MWG9CWFCJT438")).is_ok_and(|b| b.is_empty()));
        let digest: ContentDigest = parse("sha256:e99b5fd8360e28b70bb33ac86afb368fc2482a02cdbf490624a88f571df96b5a");
        let sources = db.component_sources(&digest).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(sources.len(), 1);
        assert_eq!(sources[0].content.len(), 4347);
        assert!(find_source(&sources, "/tmp/x/workflow/src/lib.rs").is_some());
    }
}
