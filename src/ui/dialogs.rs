//! File dialogs behind a trait: rfd in the app (asynchronous, never blocking the UI thread),
//! scripted paths in tests.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Mutex;

/// What a dialog is for; decides its kind (open, save, folder) and filters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DialogPurpose {
    /// Open a SQLite database (or an export JSON) directly.
    OpenDatabase,
    /// Add a local folder of replicas as a source.
    AddFolder,
    /// Import a `litestream.yml`.
    ImportConfig,
    /// Save the restored database.
    ExportDatabase,
    /// Save the open execution's history as JSON.
    ExportExecution,
    /// Pick the folder of the workflow's source (when the database does not store it).
    SourceFolder,
    /// Pick the candidate build (`.wasm`) for an upgrade check of the source's tenants.
    UpgradeComponent,
}

/// Called with the chosen path (`None` when the user cancelled), from any thread.
pub type Reply = Box<dyn FnOnce(Option<PathBuf>) + Send>;

/// Shows file dialogs.
pub trait FileDialogs {
    /// Ask for a path; `reply` is called later (never blocks the caller). `suggested` is the
    /// proposed file name of a save dialog.
    fn request(&self, purpose: DialogPurpose, suggested: &str, frame: &eframe::Frame, reply: Reply);
}

/// Native dialogs through rfd: built on the UI thread (with the window as parent), awaited on
/// the tokio runtime.
pub struct RfdDialogs;

impl FileDialogs for RfdDialogs {
    fn request(&self, purpose: DialogPurpose, suggested: &str, frame: &eframe::Frame, reply: Reply) {
        let dialog = rfd::AsyncFileDialog::new().set_parent(frame);
        let runtime = crate::storage::runtime();
        let path = |h: Option<rfd::FileHandle>| h.map(|h| h.path().to_path_buf());
        match purpose {
            DialogPurpose::OpenDatabase => {
                let f = dialog
                    .set_title("Open a database")
                    .add_filter("SQLite or export", &["db", "sqlite", "sqlite3", "json"]);
                let f = f.add_filter("All files", &["*"]).pick_file();
                runtime.spawn(async move { reply(path(f.await)) });
            }
            DialogPurpose::AddFolder => {
                let f = dialog.set_title("Add a folder of replicas").pick_folder();
                runtime.spawn(async move { reply(path(f.await)) });
            }
            DialogPurpose::UpgradeComponent => {
                let f = dialog
                    .set_title("Candidate build of the workflow")
                    .add_filter("WebAssembly component", &["wasm"])
                    .add_filter("All files", &["*"])
                    .pick_file();
                runtime.spawn(async move { reply(path(f.await)) });
            }
            DialogPurpose::SourceFolder => {
                let f = dialog.set_title("The workflow's source folder").pick_folder();
                runtime.spawn(async move { reply(path(f.await)) });
            }
            DialogPurpose::ImportConfig => {
                let f = dialog
                    .set_title("Import litestream.yml")
                    .add_filter("Litestream config", &["yml", "yaml"])
                    .pick_file();
                runtime.spawn(async move { reply(path(f.await)) });
            }
            DialogPurpose::ExportDatabase => {
                let f = dialog
                    .set_title("Save the restored database")
                    .set_file_name(suggested)
                    .add_filter("SQLite", &["db"])
                    .save_file();
                runtime.spawn(async move { reply(path(f.await)) });
            }
            DialogPurpose::ExportExecution => {
                let f = dialog
                    .set_title("Export the execution as JSON")
                    .set_file_name(suggested)
                    .add_filter("JSON", &["json"])
                    .save_file();
                runtime.spawn(async move { reply(path(f.await)) });
            }
        }
    }
}

/// Dialogs that answer at once with paths set in advance (tests); `None` for anything else.
#[derive(Default)]
pub struct ScriptedDialogs {
    paths: Mutex<HashMap<DialogPurpose, PathBuf>>,
}

impl ScriptedDialogs {
    /// Answer `purpose` with `path` from now on.
    pub fn with(self, purpose: DialogPurpose, path: impl Into<PathBuf>) -> Self {
        self.paths.lock().unwrap_or_else(|e| e.into_inner()).insert(purpose, path.into());
        self
    }
}

impl FileDialogs for ScriptedDialogs {
    fn request(&self, purpose: DialogPurpose, _suggested: &str, _frame: &eframe::Frame, reply: Reply) {
        let path = self.paths.lock().unwrap_or_else(|e| e.into_inner()).get(&purpose).cloned();
        reply(path);
    }
}
