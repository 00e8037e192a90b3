//! The text of the workflow's source files, for the lines re-execution names: stored with the
//! component in the database (`t_component_source` → `t_file`, matched by DWARF path or suffix),
//! or read from a folder the user gives (the longest suffix of the DWARF path under it).

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use super::{Report, SourceLine};
use crate::obelisk::{ComponentSource, ContentDigest, ObeliskDb, find_source};

/// Resolves DWARF file paths to source text, caching what each component stores.
pub struct SourceFiles<'a> {
    db: &'a ObeliskDb,
    dir: Option<PathBuf>,
    stored: Mutex<HashMap<ContentDigest, Arc<Vec<ComponentSource>>>>,
}

impl<'a> SourceFiles<'a> {
    /// Sources stored in `db`, or (when `dir` is given) the files under `dir`.
    pub fn new(db: &'a ObeliskDb, dir: Option<&Path>) -> SourceFiles<'a> {
        SourceFiles { db, dir: dir.map(Path::to_path_buf), stored: Mutex::default() }
    }

    /// The whole text of `file` (a DWARF path) of the component with `digest`.
    pub fn file(&self, digest: &ContentDigest, file: &str) -> Option<String> {
        if let Some(dir) = &self.dir {
            return read_by_suffix(dir, file);
        }
        let sources = {
            let mut stored = self.stored.lock().unwrap_or_else(|p| p.into_inner());
            stored
                .entry(*digest)
                .or_insert_with(|| Arc::new(self.db.component_sources(digest).unwrap_or_default()))
                .clone()
        };
        find_source(&sources, file).map(|s| s.content.clone())
    }

    /// The text of line `at`, trimmed.
    pub fn line(&self, digest: &ContentDigest, at: &SourceLine) -> Option<String> {
        let text = self.file(digest, &at.file)?;
        text.lines().nth(at.line.checked_sub(1)? as usize).map(|l| l.trim().to_owned())
    }

    /// The text of every file `report` names (steps, logs, trap frames, where it stopped),
    /// keyed by DWARF path; files that cannot be found are left out.
    pub fn files_of(&self, report: &Report) -> HashMap<String, Arc<str>> {
        let mut out = HashMap::new();
        for file in files_named(report) {
            if let Some(text) = self.file(&report.component_digest, &file) {
                out.insert(file, Arc::from(text));
            }
        }
        out
    }
}

/// Every DWARF file path a report names.
fn files_named(report: &Report) -> Vec<String> {
    let mut files: Vec<String> = Vec::new();
    let mut add = |s: Option<&SourceLine>| {
        if let Some(s) = s
            && !files.contains(&s.file)
        {
            files.push(s.file.clone());
        }
    };
    report.steps.iter().for_each(|s| add(s.source.as_ref()));
    report.logs.iter().for_each(|l| add(l.source.as_ref()));
    add(report.trap.as_ref().and_then(|t| t.source.as_ref()));
    add(report.nondeterminism.as_ref().and_then(|n| n.source.as_ref()));
    add(report.blocked.as_ref().and_then(|b| b.source.as_ref()));
    add(report.pending.as_ref().and_then(|p| p.source.as_ref()));
    let user_frames = report.trap.iter().flat_map(|t| &t.frames).filter(|f| f.user_code);
    for file in user_frames.filter_map(|f| f.file.clone()) {
        if !files.contains(&file) {
            files.push(file);
        }
    }
    files
}

/// The file under `dir` whose path is the longest suffix of the DWARF path `file`.
pub fn read_by_suffix(dir: &Path, file: &str) -> Option<String> {
    let parts: Vec<&str> = file.split('/').filter(|p| !p.is_empty() && *p != "..").collect();
    (0..parts.len()).find_map(|skip| std::fs::read_to_string(dir.join(parts[skip..].join("/"))).ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_folder_is_searched_by_the_longest_suffix_of_the_dwarf_path() {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        std::fs::create_dir_all(dir.path().join("src")).unwrap_or_else(|e| panic!("{e}"));
        std::fs::write(dir.path().join("src/lib.rs"), "fn a() {}\n").unwrap_or_else(|e| panic!("{e}"));
        std::fs::write(dir.path().join("lib.rs"), "wrong\n").unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(read_by_suffix(dir.path(), "/build/wf/src/lib.rs").as_deref(), Some("fn a() {}\n"));
        assert_eq!(read_by_suffix(dir.path(), "/build/wf/other.rs"), None);
        // `..` never climbs out of the folder.
        assert_eq!(read_by_suffix(dir.path(), "../../etc/hostname"), None);
    }
}
