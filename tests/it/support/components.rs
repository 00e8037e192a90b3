//! Test components made from the real `demo_workflow` stored in the 0.41.5 demo database:
//! the stored build itself and variants edited with the real `wasm-tools` (printed, patched,
//! parsed back), each written once per test process into a scratch folder.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;

use chronoscope::obelisk::{ContentDigest, ObeliskDb};

use super::cli::describe;
use super::tools;
use crate::restore_fixtures::fixtures;

/// The digest of the stored `demo_workflow` component.
pub const DIGEST: &str = "sha256:e99b5fd8360e28b70bb33ac86afb368fc2482a02cdbf490624a88f571df96b5a";

/// The real 0.41.5 demo database.
pub fn demo() -> PathBuf {
    fixtures().join("obelisk/0.41.5/demo.sqlite")
}

fn scratch() -> &'static Path {
    static DIR: OnceLock<tempfile::TempDir> = OnceLock::new();
    DIR.get_or_init(|| tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"))).path()
}

pub fn wasm_tools(args: &[&str]) -> Output {
    let out = Command::new(tools::wasm_tools()).args(args).output().unwrap_or_else(|e| panic!("{e}"));
    assert!(out.status.success(), "wasm-tools {args:?}: {}", describe(&out));
    out
}

/// The demo's stored `demo_workflow` component, written to the scratch folder.
pub fn stored_component() -> &'static Path {
    static P: OnceLock<PathBuf> = OnceLock::new();
    P.get_or_init(|| {
        let db = ObeliskDb::open(demo()).unwrap_or_else(|e| panic!("{e}"));
        let digest: ContentDigest = DIGEST.parse().unwrap_or_else(|e| panic!("{e}"));
        let bytes = db.stored_file(&digest).unwrap_or_else(|e| panic!("{e}")).unwrap_or_else(|| panic!("stored"));
        let path = scratch().join("demo_workflow.wasm");
        std::fs::write(&path, bytes).unwrap_or_else(|e| panic!("{e}"));
        path
    })
}

/// `wasm-tools print` of the stored component (`-p`: with binary offsets).
pub fn printed(offsets: bool) -> String {
    let path = stored_component().to_str().unwrap_or_default().to_owned();
    let args: &[&str] = if offsets { &["print", "-p", &path] } else { &["print", &path] };
    String::from_utf8(wasm_tools(args).stdout).unwrap_or_else(|e| panic!("{e}"))
}

/// The lines of the body of the core function whose name contains `marker`.
pub fn function_body<'a>(lines: &'a [&'a str], marker: &str) -> std::ops::Range<usize> {
    let start =
        lines.iter().position(|l| l.contains("(func ") && l.contains(marker)).unwrap_or_else(|| panic!("{marker}"));
    let end = lines[start + 1..].iter().position(|l| l.contains("(func ")).map_or(lines.len(), |n| start + 1 + n);
    start + 1..end
}

/// `wf.sleepy` calling `random_u64(0, 2000)` instead of `(0, 1000)`: the `i64.const 1000`
/// patched in place (same length, so the DWARF line table still fits).
pub fn sleepy_variant() -> &'static Path {
    static P: OnceLock<PathBuf> = OnceLock::new();
    P.get_or_init(|| {
        let text = printed(true);
        let lines: Vec<&str> = text.lines().collect();
        let body = function_body(&lines, "Guest$GT$6sleepy");
        let line =
            lines[body].iter().find(|l| l.trim_end().ends_with("i64.const 1000")).unwrap_or_else(|| panic!("const"));
        let offset = line.trim_start_matches("(;@").split(|c: char| c.is_whitespace() || c == ';').next().unwrap_or("");
        let offset = usize::from_str_radix(offset, 16).unwrap_or_else(|e| panic!("{line}: {e}"));
        let mut bytes = std::fs::read(stored_component()).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(bytes[offset..offset + 3], [0x42, 0xe8, 0x07], "i64.const 1000 at {offset:#x}");
        bytes[offset + 1..offset + 3].copy_from_slice(&[0xd0, 0x0f]); // 2000
        let path = scratch().join("sleepy-2000.wasm");
        std::fs::write(&path, bytes).unwrap_or_else(|e| panic!("{e}"));
        wasm_tools(&["validate", path.to_str().unwrap_or_default()]);
        path
    })
}

/// `wasm-tools parse` of `text`, into the scratch folder as `name`.
pub fn parse(text: &str, name: &str) -> PathBuf {
    let wat = scratch().join(format!("{name}.wat"));
    let wasm = scratch().join(format!("{name}.wasm"));
    std::fs::write(&wat, text).unwrap_or_else(|e| panic!("{e}"));
    wasm_tools(&["parse", wat.to_str().unwrap_or_default(), "-o", wasm.to_str().unwrap_or_default()]);
    wasm
}

/// `wf.serial` computing `add(x, 2)` instead of `add(x, 1)`: printed, edited, parsed back.
pub fn serial_variant() -> &'static Path {
    static P: OnceLock<PathBuf> = OnceLock::new();
    P.get_or_init(|| {
        let text = printed(false);
        let mut lines: Vec<String> = text.lines().map(str::to_owned).collect();
        let borrowed: Vec<&str> = text.lines().collect();
        let body = function_body(&borrowed, "Guest$GT$6serial");
        // The one `i32.const 1` of the body: the literal of the second `ops::add`.
        let ones: Vec<usize> = body.filter(|&i| borrowed[i].trim() == "i32.const 1").collect();
        assert_eq!(ones.len(), 1, "one `i32.const 1` in serial");
        lines[ones[0]] = lines[ones[0]].replace("i32.const 1", "i32.const 2");
        parse(&lines.join("\n"), "serial-plus-2")
    })
}
