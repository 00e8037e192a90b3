//! The eframe app: state of every screen, `logic` (background results, shortcuts, dropped
//! files), `ui` (draws the screens), and the commands views push, applied after drawing.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use chrono::{DateTime, Utc};
use egui::{Key, Modifiers};

use super::command::Command;
use super::dialogs::{DialogPurpose, FileDialogs};
use super::model::executions::ExecutionsModel;
use super::model::restore::{RestoreModel, describe_target};
use super::model::tenants::TenantsModel;
use super::model::timetravel::{StepRow, TimeTravel};
use super::options::{AppOptions, Gate};
use super::settings::{STORAGE_KEY, Settings};
use super::tasks::{LoadedTree, Restored, Running, TaskMsg, Tasks};
use super::{theme, views};
use crate::fleet::sources::SourceConfig;
use crate::format::error_chain;
use crate::litestream::catalog::{self, Times};
use crate::litestream::output::TempOutput;
use crate::litestream::{ProgressEvent, Unit, cache, plan::RestoreTarget};
use crate::obelisk::is_sqlite_file;
use crate::obelisk::{ExecutionFilter, ExecutionId, ObeliskDb};
use crate::replay::export::{ExportFile, export_tree, looks_like_export, write_atomically};
use crate::replay::{ReplaySource, ReplayTree};
use crate::rerun::Rerunner;
use crate::ui::model::fleet::FleetModel;
use crate::ui::model::rerun::{RerunModel, SourceOrigin};
use crate::ui::model::upgrade::UpgradeModel;

mod fleet;
mod rerun;
mod upgrade;

/// The main screens, in the order a user goes through them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Screen {
    /// Sources, tenants and the selected tenant's restore points.
    Fleet,
    /// Executions of the open database.
    Executions,
    /// One execution's steps, scrubber and inspector.
    TimeTravel,
    /// The verdicts of an upgrade check over the source's tenants.
    Upgrade,
    /// The source's fleet index: per-tenant triage counts and a search over every tenant.
    FleetIndex,
}

/// The database being looked at, and where it came from (for the breadcrumb).
#[derive(Debug, Clone)]
pub struct OpenedDb {
    /// The tenant's name, or the file name of a database opened directly.
    pub tenant: String,
    /// The restore point (`latest`, `TXID …`), or `file`.
    pub point: String,
    pub path: PathBuf,
}

/// A message in the status bar.
#[derive(Debug, Clone, PartialEq)]
pub struct Message {
    pub text: String,
    pub error: bool,
}

/// Filter fields that `/` focuses.
pub const FILTER_IDS: [&str; 3] = ["tenant-filter", "execution-id-filter", "step-filter"];

pub struct App {
    pub settings: Settings,
    pub screen: Screen,
    pub source: SourceConfig,
    pub tenants: TenantsModel,
    pub restore: RestoreModel,
    pub opened: Option<OpenedDb>,
    pub executions: Option<ExecutionsModel>,
    /// Loading the executions of `opened`.
    pub executions_task: Option<u64>,
    pub timetravel: Option<TimeTravel>,
    /// Loading an execution tree.
    pub tree_task: Option<u64>,
    /// Re-executing the open tree's workflows, for the source pane.
    pub rerun: Option<RerunModel>,
    /// Run this build instead of the recorded components (an execution opened from the
    /// upgrade check).
    pub rerun_component: Option<PathBuf>,
    /// Open this execution (at the step of this version) once the executions are listed.
    pending_open: Option<(ExecutionId, Option<u64>)>,
    /// The upgrade check screen.
    pub upgrade: Option<UpgradeModel>,
    /// The Fleet screen (the source's fleet index).
    pub fleet: Option<FleetModel>,
    rerunner: Option<Arc<Rerunner>>,
    /// Where compiled components are cached.
    component_cache: PathBuf,
    pub message: Option<Message>,
    /// The "add a source" forms.
    pub forms: views::sources::SourceForms,
    /// Exports written (paths), newest last.
    pub saved: Vec<String>,
    pub demo_dir: PathBuf,
    pub cache_dir: PathBuf,
    now: Option<DateTime<Utc>>,
    dialogs: Box<dyn FileDialogs>,
    restore_gate: Option<Gate>,
    rerun_gate: Option<Gate>,
    s3_credentials: Option<(String, String)>,
    tasks: Tasks,
    commands: Vec<Command>,
    /// `/` was pressed: the current screen's filter takes the focus this frame.
    pub focus_filter: bool,
    theme_applied: Option<super::theme::ThemeChoice>,
    /// Text to put on the clipboard at the end of the frame.
    copy: Option<String>,
    /// Dialogs to open at the end of the frame (they need the window).
    pending_dialogs: Vec<DialogPurpose>,
    /// The window title last set.
    pub title: String,
}

impl App {
    pub fn new(cc: &eframe::CreationContext<'_>, options: AppOptions) -> App {
        let settings = options
            .settings
            .or_else(|| cc.storage.and_then(|s| eframe::get_value::<Settings>(s, STORAGE_KEY)))
            .unwrap_or_default();
        let demo = SourceConfig::Demo { path: options.demo_dir.clone() };
        let source = settings.selected.clone().unwrap_or_else(|| demo.clone());
        let mut app = App {
            settings,
            screen: Screen::Fleet,
            source: source.clone(),
            tenants: TenantsModel::default(),
            restore: RestoreModel::default(),
            opened: None,
            executions: None,
            executions_task: None,
            timetravel: None,
            tree_task: None,
            rerun: None,
            rerun_component: None,
            title: String::new(),
            pending_open: None,
            upgrade: None,
            fleet: None,
            rerunner: None,
            component_cache: options.component_cache,
            message: None,
            forms: Default::default(),
            saved: Vec::new(),
            demo_dir: options.demo_dir,
            cache_dir: options.cache_dir,
            now: options.now,
            dialogs: options.dialogs,
            restore_gate: options.restore_gate,
            rerun_gate: options.rerun_gate,
            s3_credentials: options.s3_credentials,
            tasks: Tasks::new(cc.egui_ctx.clone()),
            commands: Vec::new(),
            focus_filter: false,
            theme_applied: None,
            copy: None,
            pending_dialogs: Vec::new(),
        };
        match options.open {
            Some(arg) => app.open_argument(&arg),
            None => app.select_source(source),
        }
        app
    }

    /// "Now", for ages (fixed in tests).
    pub fn now(&self) -> DateTime<Utc> {
        self.now.unwrap_or_else(Utc::now)
    }

    /// The bundled demo source.
    pub fn demo_source(&self) -> SourceConfig {
        SourceConfig::Demo { path: self.demo_dir.clone() }
    }

    /// True while any background work is running.
    pub fn busy(&self) -> bool {
        self.tenants.loading.is_some()
            || self.restore.catalog_task.is_some() && self.restore.catalog.is_none()
            || self.restore.running.is_some()
            || self.executions_task.is_some()
            || self.tree_task.is_some()
            || self.rerun.as_ref().is_some_and(|r| r.running() || r.files_task.is_some())
            || self.fleet.as_ref().is_some_and(|f| f.task.is_some())
            || self.upgrade.as_ref().is_some_and(|u| u.running())
    }

    /// Queue a command (applied after the current frame; tests use this too).
    pub fn push(&mut self, command: Command) {
        self.commands.push(command);
    }

    /// `tenant › restore point › execution › … › step n/m`, each part with where it leads.
    pub fn breadcrumb(&self) -> Vec<(String, Option<Command>)> {
        let mut parts = Vec::new();
        match &self.opened {
            Some(o) => {
                parts.push((o.tenant.clone(), Some(Command::Show(Screen::Fleet))));
                let back = self.executions.is_some().then_some(Command::Show(Screen::Executions));
                parts.push((o.point.clone(), back));
            }
            None => {
                if let Some(t) = self.tenants.selected_row() {
                    parts.push((t.name.clone(), Some(Command::Show(Screen::Fleet))));
                }
            }
        }
        if self.screen == Screen::TimeTravel
            && let Some(tt) = &self.timetravel
        {
            for (depth, c) in tt.stack().iter().enumerate() {
                parts.push((c.id.to_string(), Some(Command::StepOutTo(depth))));
            }
            parts.push((format!("step {}/{}", tt.current().step, tt.len().saturating_sub(1)), None));
        }
        parts
    }

    /// The breadcrumb as one copyable line.
    pub fn breadcrumb_text(&self) -> String {
        self.breadcrumb().into_iter().map(|(t, _)| t).collect::<Vec<_>>().join(" › ")
    }

    fn open_argument(&mut self, arg: &str) {
        let path = Path::new(arg);
        if path.is_file() && (is_sqlite_file(path) || looks_like_export(path)) {
            self.select_source(self.demo_source());
            self.open_file(path.to_path_buf());
        } else {
            let source = SourceConfig::from_argument(arg);
            self.settings.add_source(&source);
            self.select_source(source);
        }
    }

    fn select_source(&mut self, source: SourceConfig) {
        if let Some(old) = self.tenants.loading.take() {
            old.cancel.cancel();
        }
        self.settings.selected = (!matches!(source, SourceConfig::Demo { .. })).then(|| source.clone());
        self.source = source.clone();
        self.tenants.clear();
        self.restore = RestoreModel::default();
        let running = Running::new(self.tasks.next_id());
        let (task, cancel) = (running.id, running.cancel.clone());
        self.tenants.loading = Some(running);
        self.tenants.progress = "listing".into();
        let credentials = self.s3_credentials.clone();
        self.tasks.spawn("tenants", move |sink| {
            let progress = sink.progress(task);
            let result = source.discover(credentials.as_ref(), &progress, &cancel).map_err(|e| error_chain(&e));
            sink.send(TaskMsg::Tenants { task, result });
        });
    }

    fn select_tenant(&mut self, index: usize) {
        let Some(row) = self.tenants.row(index).cloned() else { return };
        if self.tenants.selected == Some(index) && self.restore.catalog.is_some() {
            return;
        }
        if let Some(r) = self.restore.running.take() {
            r.cancel.cancel();
        }
        self.tenants.selected = Some(index);
        let task = self.tasks.next_id();
        self.restore.reset(task);
        self.tasks.spawn("catalog", move |sink| {
            let result = catalog::load(row.store.as_ref(), Times::Precise).map_err(|e| e.to_string());
            sink.send(TaskMsg::Catalog { task, result });
        });
    }

    fn start_restore(&mut self, target: RestoreTarget) {
        let Some(row) = self.tenants.selected_row().cloned() else {
            self.set_error("select a tenant first");
            return;
        };
        if self.restore.running.is_some() {
            return;
        }
        let running = Running::new(self.tasks.next_id());
        let (task, cancel) = (running.id, running.cancel.clone());
        self.restore.running = Some(running);
        self.restore.target = Some(target.clone());
        self.restore.error = None;
        self.restore.phase = "planning".into();
        self.restore.done = 0;
        self.restore.total = None;
        self.restore.unit = Unit::Bytes;
        self.restore.phase_started = None;
        let dir = self.cache_dir.clone();
        let gate = self.restore_gate.clone();
        self.tasks.spawn("restore", move |sink| {
            let forward = sink.progress(task);
            let gated = |event: ProgressEvent| {
                if let Some(g) = &gate {
                    g.wait_unless(|| cancel.is_cancelled());
                }
                crate::litestream::Progress::report(&forward, event);
            };
            let result = std::fs::create_dir_all(&dir)
                .map_err(|e| format!("cannot create the cache folder {}: {e}", dir.display()))
                .and_then(|()| {
                    cache::restore_cached(row.store.as_ref(), &target, &row.age, &dir, &gated, &cancel)
                        .map_err(|e| e.to_string())
                })
                .map(|(path, fresh)| Restored { path, fresh });
            sink.send(TaskMsg::Restored { task, result });
        });
    }

    fn open_file(&mut self, path: PathBuf) {
        if looks_like_export(&path) && !is_sqlite_file(&path) {
            let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
            self.opened = Some(OpenedDb { tenant: name, point: "export".into(), path: path.clone() });
            self.executions = None;
            self.settings.add_recent(&path);
            let task = self.tasks.next_id();
            self.tree_task = Some(task);
            self.tasks.spawn("export", move |sink| {
                let result = (|| -> anyhow::Result<Box<LoadedTree>> {
                    let file = ExportFile::open(&path)?;
                    let tree = ReplayTree::load(&ReplaySource::Export(&file), file.root())?;
                    Ok(Box::new(loaded_tree(tree, HashMap::new())))
                })()
                .map_err(|e| error_chain(&e));
                sink.send(TaskMsg::Tree { task, result });
            });
            return;
        }
        let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        self.settings.add_recent(&path);
        self.rerun_component = None;
        self.open_database(OpenedDb { tenant: name, point: "file".into(), path });
    }

    fn open_database(&mut self, opened: OpenedDb) {
        let path = opened.path.clone();
        self.opened = Some(opened);
        self.executions = None;
        self.timetravel = None;
        self.screen = Screen::Executions;
        let task = self.tasks.next_id();
        self.executions_task = Some(task);
        self.tasks.spawn("executions", move |sink| {
            let result = (|| -> anyhow::Result<_> {
                let db = ObeliskDb::open(&path)?;
                let list = db.list_executions(&ExecutionFilter::default())?;
                Ok((path, list))
            })()
            .map_err(|e| error_chain(&e));
            sink.send(TaskMsg::Executions { task, result });
        });
    }

    fn open_execution(&mut self, id: ExecutionId) {
        let Some(opened) = &self.opened else { return };
        let path = opened.path.clone();
        if let Some(ex) = &mut self.executions {
            ex.selected = Some(id.clone());
        }
        let task = self.tasks.next_id();
        self.tree_task = Some(task);
        self.tasks.spawn("replay", move |sink| {
            let result = (|| -> anyhow::Result<Box<LoadedTree>> {
                let db = ObeliskDb::open(&path)?;
                let tree = ReplayTree::load(&ReplaySource::Database(&db), &id)?;
                let mut logs = HashMap::new();
                for node in tree.nodes().into_iter().filter(|n| !n.missing) {
                    logs.insert(node.id.clone(), db.app_logs(&node.id, false)?);
                }
                Ok(Box::new(loaded_tree(tree, logs)))
            })()
            .map_err(|e| error_chain(&e));
            sink.send(TaskMsg::Tree { task, result });
        });
    }

    fn export(&mut self, purpose: DialogPurpose, path: PathBuf) {
        match purpose {
            DialogPurpose::ExportDatabase => {
                let Some(src) = self.opened.as_ref().map(|o| o.path.clone()) else { return };
                self.tasks.spawn("save-db", move |sink| {
                    let result = copy_atomically(&src, &path)
                        .map(|n| format!("saved the database ({}) to {}", crate::format::bytes(n), path.display()));
                    sink.send(TaskMsg::Saved { result });
                });
            }
            DialogPurpose::ExportExecution => {
                let (Some(db_path), Some(tt)) = (self.opened.as_ref().map(|o| o.path.clone()), &self.timetravel) else {
                    return;
                };
                let root = tt.loaded.tree.root().id.clone();
                self.tasks.spawn("export", move |sink| {
                    let result = (|| -> anyhow::Result<String> {
                        let db = ObeliskDb::open(&db_path)?;
                        let doc = export_tree(&db, &root)?;
                        let n = write_atomically(&doc, &path)?;
                        Ok(format!(
                            "exported {root} ({} executions, {}) to {}",
                            doc.executions.len(),
                            crate::format::bytes(n),
                            path.display()
                        ))
                    })()
                    .map_err(|e| error_chain(&e));
                    sink.send(TaskMsg::Saved { result });
                });
            }
            _ => {}
        }
    }

    fn set_error(&mut self, text: impl Into<String>) {
        self.message = Some(Message { text: text.into(), error: true });
    }

    fn set_info(&mut self, text: impl Into<String>) {
        self.message = Some(Message { text: text.into(), error: false });
    }

    /// Apply what the workers sent.
    fn drain_tasks(&mut self) {
        for msg in self.tasks.drain() {
            match msg {
                TaskMsg::Progress { task, event } => {
                    if self.fleet_progress(task, &event) {
                        continue;
                    }
                    if self.tenants.loading.as_ref().is_some_and(|r| r.id == task) {
                        match event {
                            ProgressEvent::Phase { name, .. } => self.tenants.progress = name.to_owned(),
                            ProgressEvent::Note(n) => self.tenants.progress = n,
                            ProgressEvent::Advance { .. } => {}
                        }
                    } else if self.restore.running.as_ref().is_some_and(|r| r.id == task) {
                        self.restore.progress(event);
                    }
                }
                TaskMsg::Tenants { task, result } => {
                    if self.tenants.loading.as_ref().is_some_and(|r| r.id == task) {
                        self.tenants.loading = None;
                        match result {
                            Ok(rows) => self.tenants.set_rows(rows),
                            Err(e) => self.tenants.error = Some(e),
                        }
                    }
                }
                TaskMsg::Catalog { task, result } => {
                    if self.restore.catalog_task == Some(task) {
                        if let Ok(Some(r)) = result.as_ref().map(|c| c.restorable.as_ref()) {
                            self.restore.time = crate::format::time(r.latest);
                            self.restore.txid = r.latest_txid.clone().unwrap_or_default();
                        }
                        self.restore.catalog = Some(result);
                    }
                }
                TaskMsg::Restored { task, result } => {
                    if self.restore.running.as_ref().is_some_and(|r| r.id == task) {
                        self.restore.running = None;
                        match result {
                            Ok(Restored { path, fresh }) => {
                                let tenant = self.tenants.selected_row().map(|r| r.name.clone()).unwrap_or_default();
                                let point = self.restore.target.as_ref().map(describe_target).unwrap_or_default();
                                let how = if fresh { "restored into the cache" } else { "opened from the cache" };
                                self.set_info(format!("{tenant} ({point}) {how}"));
                                self.rerun_component = None;
                                self.open_database(OpenedDb { tenant, point, path });
                            }
                            Err(e) => self.restore.error = Some(e),
                        }
                    }
                }
                TaskMsg::Executions { task, result } => {
                    if self.executions_task == Some(task) {
                        self.executions_task = None;
                        match result {
                            Ok((path, list)) => {
                                self.executions = Some(ExecutionsModel::new(path, list));
                                if let Some((id, _)) = &self.pending_open {
                                    self.open_execution(id.clone());
                                }
                            }
                            Err(e) => self.set_error(e),
                        }
                    }
                }
                TaskMsg::Tree { task, result } => {
                    if self.tree_task == Some(task) {
                        self.tree_task = None;
                        match result {
                            Ok(loaded) => {
                                self.timetravel = Some(TimeTravel::new(*loaded));
                                self.screen = Screen::TimeTravel;
                                if let (Some((_, Some(v))), Some(tt)) = (self.pending_open.take(), &mut self.timetravel)
                                    && let Some(step) = tt.rows().iter().position(|r| r.version == Some(v))
                                {
                                    tt.set_step(step);
                                }
                                self.start_rerun();
                            }
                            Err(e) => self.set_error(e),
                        }
                    }
                }
                TaskMsg::SourceFiles { task, result } => self.source_files_arrived(task, result),
                TaskMsg::Fleet { task, result } => self.fleet_arrived(task, result),
                TaskMsg::Saved { result } => match result {
                    Ok(text) => {
                        self.saved.push(text.clone());
                        self.set_info(text);
                    }
                    Err(e) => self.set_error(e),
                },
                TaskMsg::Dialog { purpose, path } => {
                    let Some(path) = path else { continue };
                    match purpose {
                        DialogPurpose::OpenDatabase => self.open_file(path),
                        DialogPurpose::AddFolder => self.push(Command::AddSource(SourceConfig::Local { path })),
                        DialogPurpose::ImportConfig => {
                            self.push(Command::AddSource(SourceConfig::LitestreamConfig { path }))
                        }
                        DialogPurpose::ExportDatabase | DialogPurpose::ExportExecution => self.export(purpose, path),
                        DialogPurpose::SourceFolder => self.load_source_files(SourceOrigin::Folder(path)),
                        DialogPurpose::UpgradeComponent => self.start_upgrade_check(path),
                    }
                }
            }
        }
    }

    /// Keyboard shortcuts (not while typing in a text field, except Ctrl+Q).
    fn shortcuts(&mut self, ctx: &egui::Context) {
        if ctx.input_mut(|i| i.consume_shortcut(&egui::KeyboardShortcut::new(Modifiers::COMMAND, Key::Q))) {
            ctx.send_viewport_cmd(egui::ViewportCommand::Close);
        }
        if ctx.text_edit_focused() {
            return;
        }
        let mut commands = Vec::new();
        ctx.input_mut(|i| {
            let mut key = |k: Key| i.consume_key(Modifiers::NONE, k);
            if key(Key::Slash) {
                commands.push(Command::FocusFilter);
            }
            if self.screen != Screen::TimeTravel {
                return;
            }
            // Every press counts, also several in one frame (key repeat, a fast typist, xdotool).
            let mut count = |k: Key| i.count_and_consume_key(Modifiers::NONE, k) as isize;
            let forward = count(Key::ArrowRight) + count(Key::J);
            let back = count(Key::ArrowLeft) + count(Key::K);
            if forward != back {
                commands.push(Command::StepBy(forward - back));
            }
            let mut key = |k: Key| i.consume_key(Modifiers::NONE, k);
            if key(Key::PageDown) {
                commands.push(Command::StepBy(PAGE));
            }
            if key(Key::PageUp) {
                commands.push(Command::StepBy(-PAGE));
            }
            if key(Key::Home) {
                commands.push(Command::StepFirst);
            }
            if key(Key::End) {
                commands.push(Command::StepLast);
            }
            if key(Key::Enter) {
                commands.push(Command::StepIntoCursor);
            }
            if key(Key::Backspace) {
                commands.push(Command::StepOut);
            }
        });
        for c in commands {
            self.apply(c);
        }
    }

    fn dropped_files(&mut self, ctx: &egui::Context) {
        let dropped: Vec<PathBuf> = ctx.input(|i| {
            i.raw.dropped_files.iter().map(|f| f.path().to_path_buf()).filter(|p| !p.as_os_str().is_empty()).collect()
        });
        for path in dropped {
            self.open_argument(&path.display().to_string());
        }
    }

    /// Apply one command.
    pub fn apply(&mut self, command: Command) {
        match command {
            Command::SelectSource(s) => self.select_source(s),
            Command::AddSource(s) => {
                self.settings.add_source(&s);
                self.screen = Screen::Fleet;
                self.select_source(s);
            }
            Command::RemoveSource(s) => {
                self.settings.remove_source(&s);
                if self.source == s {
                    self.select_source(self.demo_source());
                }
            }
            Command::Refresh => self.select_source(self.source.clone()),
            Command::SelectTenant(i) => self.select_tenant(i),
            Command::Restore(t) => self.start_restore(t),
            Command::CancelRestore => {
                if let Some(r) = &self.restore.running {
                    r.cancel.cancel();
                }
            }
            Command::OpenFile(p) => self.open_file(p),
            Command::OpenExecution(id) => self.open_execution(id),
            Command::Show(s) => self.screen = s,
            Command::SetStep(s) => self.with_tt(|tt| tt.set_step(s)),
            Command::StepBy(d) => self.with_tt(|tt| tt.step_by(d)),
            Command::StepFirst => self.with_tt(TimeTravel::step_first),
            Command::StepLast => self.with_tt(TimeTravel::step_last),
            Command::StepInto(id) => {
                if let Some(Err(e)) = self.timetravel.as_mut().map(|tt| tt.step_into(&id)) {
                    self.set_error(e);
                }
            }
            Command::StepIntoCursor => match self.timetravel.as_ref().and_then(TimeTravel::child_at_cursor) {
                Some(child) => self.apply(Command::StepInto(child)),
                None => self.set_info("no child execution at this step"),
            },
            Command::StepOut => self.with_tt(|tt| {
                tt.step_out();
            }),
            Command::StepOutTo(d) => self.with_tt(|tt| tt.step_out_to(d)),
            Command::CancelRerun => {
                if let Some(r) = &mut self.rerun {
                    r.cancel();
                }
            }
            Command::Rerun => self.start_rerun(),
            Command::ShowFleet => self.show_fleet(),
            Command::ScanFleet => self.scan_fleet(),
            Command::CancelFleetScan => {
                if let Some((_, _, cancel)) = self.fleet.as_ref().and_then(|f| f.scan.as_ref()) {
                    cancel.cancel();
                }
            }
            Command::SearchFleet => self.search_fleet(),
            Command::OpenIndexed { tenant, database, execution } => self.open_indexed(tenant, database, execution),
            Command::CancelUpgradeCheck => {
                if let Some(u) = &mut self.upgrade {
                    u.cancel();
                }
            }
            Command::OpenChecked { tenant, execution } => self.open_checked(tenant, execution),
            Command::ShowSource(line) => {
                if let (Some(r), Some(tt)) = (&mut self.rerun, &self.timetravel) {
                    r.pinned = Some((tt.current().step, line));
                }
            }
            Command::FocusFilter => self.focus_filter = true,
            Command::CopyBreadcrumb => {
                let text = self.breadcrumb_text();
                self.copy = Some(text.clone());
                self.set_info(format!("copied: {text}"));
            }
            Command::Dialog(purpose) => self.pending_dialogs.push(purpose),
            Command::SetTheme(t) => self.settings.theme = t,
            Command::DismissMessage => self.message = None,
        }
    }

    /// Show a file dialog; its answer comes back as a task message.
    fn open_dialog(&mut self, purpose: DialogPurpose, frame: &eframe::Frame) {
        let suggested = match purpose {
            DialogPurpose::ExportDatabase => {
                let o = self.opened.as_ref();
                format!(
                    "{}.db",
                    o.map(|o| o.tenant.trim_end_matches(".db").to_owned()).unwrap_or_else(|| "database".into())
                )
            }
            DialogPurpose::ExportExecution => {
                let root = self.timetravel.as_ref().map(|tt| tt.loaded.tree.root().id.to_string()).unwrap_or_default();
                format!("{root}.json")
            }
            _ => String::new(),
        };
        let sink = self.tasks.sink();
        self.dialogs.request(
            purpose,
            &suggested,
            frame,
            Box::new(move |path| sink.send(TaskMsg::Dialog { purpose, path })),
        );
    }

    fn with_tt(&mut self, f: impl FnOnce(&mut TimeTravel)) {
        if let Some(tt) = &mut self.timetravel {
            f(tt);
        }
    }
}

/// Steps moved by PageUp/PageDown.
const PAGE: isize = 20;

/// Precompute the table rows of every execution of `tree`.
fn loaded_tree(tree: ReplayTree, logs: HashMap<ExecutionId, Vec<crate::obelisk::AppLogEntry>>) -> LoadedTree {
    let rows = tree
        .nodes()
        .into_iter()
        .filter_map(|n| tree.replay(&n.id).map(|r| (n.id.clone(), Arc::new(StepRow::build(r)))))
        .collect();
    LoadedTree { tree, logs, rows }
}

/// Copy `src` to `dst` through a temp file beside `dst` (the restore's [`TempOutput`]), synced,
/// then renamed; the temp file is removed on failure.
fn copy_atomically(src: &Path, dst: &Path) -> Result<u64, String> {
    let fail = |e: &dyn std::fmt::Display| format!("cannot save {}: {e}", dst.display());
    let mut out = TempOutput::create(dst, true).map_err(|e| fail(&e))?;
    let n = std::fs::File::open(src).and_then(|mut f| std::io::copy(&mut f, out.file())).map_err(|e| fail(&e))?;
    out.commit().map_err(|e| fail(&e))?;
    Ok(n)
}

impl eframe::App for App {
    fn logic(&mut self, ctx: &egui::Context, _frame: &mut eframe::Frame) {
        if self.theme_applied != Some(self.settings.theme) {
            theme::apply(ctx, self.settings.theme);
            self.theme_applied = Some(self.settings.theme);
        }
        self.drain_tasks();
        self.poll_rerun();
        self.poll_upgrade();
        for c in std::mem::take(&mut self.commands) {
            self.apply(c);
        }
        self.shortcuts(ctx);
        self.dropped_files(ctx);
        // The window title says where the user is (task bars, window lists, and tests that
        // drive the real window from outside read it).
        let title = match self.breadcrumb_text() {
            b if b.is_empty() => "Chronoscope".to_owned(),
            b => format!("Chronoscope — {b}"),
        };
        if title != self.title {
            ctx.send_viewport_cmd(egui::ViewportCommand::Title(title.clone()));
            self.title = title;
        }
    }

    fn ui(&mut self, ui: &mut egui::Ui, frame: &mut eframe::Frame) {
        if ui.ctx().input(|i| !i.focused && i.pointer.any_pressed()) {
            // No window manager focused us (see x11_focus); keys would be lost.
            let _ = super::x11_focus::take_focus(frame);
        }
        let mut commands = Vec::new();
        views::draw(self, ui, &mut commands);
        self.focus_filter = false;
        for c in commands {
            self.apply(c);
        }
        for purpose in std::mem::take(&mut self.pending_dialogs) {
            self.open_dialog(purpose, frame);
        }
        if let Some(c) = self.copy.take() {
            ui.ctx().copy_text(c);
        }
        if self.busy() {
            // Spinners and progress bars animate; results also request repaints themselves.
            ui.ctx().request_repaint_after(std::time::Duration::from_millis(100));
        }
    }

    fn save(&mut self, storage: &mut dyn eframe::Storage) {
        eframe::set_value(storage, STORAGE_KEY, &self.settings);
    }
}
