//! What the app remembers between runs (eframe persistence): sources, recent files, theme.
//! Secrets are never part of it (S3 credentials come from the environment or a profile).

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::theme::ThemeChoice;
use crate::fleet::sources::SourceConfig;

/// Key of the settings in eframe's storage.
pub const STORAGE_KEY: &str = "chronoscope";

/// Recent files kept.
const MAX_RECENT: usize = 10;

/// The remembered settings. Every field has a default, so files from older versions load.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Settings {
    /// Sources the user added (the bundled demo is always listed and not stored).
    pub sources: Vec<SourceConfig>,
    /// The source shown last.
    pub selected: Option<SourceConfig>,
    /// SQLite files opened directly, newest first.
    pub recent_files: Vec<PathBuf>,
    pub theme: ThemeChoice,
}

impl Settings {
    /// Remember a source (once).
    pub fn add_source(&mut self, source: &SourceConfig) {
        if !matches!(source, SourceConfig::Demo { .. }) && !self.sources.contains(source) {
            self.sources.push(source.clone());
        }
    }

    /// Forget a source.
    pub fn remove_source(&mut self, source: &SourceConfig) {
        self.sources.retain(|s| s != source);
        if self.selected.as_ref() == Some(source) {
            self.selected = None;
        }
    }

    /// Put `path` first in the recent files.
    pub fn add_recent(&mut self, path: &Path) {
        self.recent_files.retain(|p| p != path);
        self.recent_files.insert(0, path.to_path_buf());
        self.recent_files.truncate(MAX_RECENT);
    }
}
