//! The app's side of re-execution: when an execution tree of a database opens, its workflow
//! executions are re-executed in the background ([`RerunJob`]); when the job ends, the source
//! files its reports name are read by a second task (from the database, or from a folder the
//! user picked). Nothing here runs on the UI thread but polling two atomics per frame.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;

use super::App;
use crate::obelisk::{ComponentType, ContentDigest, ExecutionId, ObeliskDb};
use crate::rerun::{Report, RerunJob, RerunRequest, Rerunner, RunOptions, SourceFiles};
use crate::ui::model::rerun::{RerunModel, SourceOrigin};
use crate::ui::tasks::TaskMsg;

impl App {
    /// Re-execute the workflow executions of the open tree (a database's, not an export's).
    pub(super) fn start_rerun(&mut self) {
        if let Some(old) = &mut self.rerun {
            old.cancel();
        }
        self.rerun = None;
        let (Some(opened), Some(tt)) = (&self.opened, &self.timetravel) else { return };
        if opened.point == "export" {
            return;
        }
        let kinds: HashMap<&ExecutionId, &ComponentType> = self
            .executions
            .as_ref()
            .map(|e| e.all().iter().map(|s| (&s.id, &s.component_type)).collect())
            .unwrap_or_default();
        let ids: Vec<ExecutionId> = tt
            .loaded
            .tree
            .nodes()
            .into_iter()
            .filter(|n| !n.missing && kinds.get(&n.id).is_none_or(|k| **k == ComponentType::Workflow))
            .map(|n| n.id.clone())
            .collect();
        let db = opened.path.clone();
        if ids.is_empty() {
            self.rerun = Some(RerunModel::new(db, ids, None));
            return;
        }
        let rerunner = match self.rerunner() {
            Ok(r) => r,
            Err(e) => {
                let mut model = RerunModel::new(db, ids, None);
                model.error = Some(e);
                self.rerun = Some(model);
                return;
            }
        };
        let request = RerunRequest {
            db: db.clone(),
            ids: ids.clone(),
            component: self.rerun_component.clone(),
            fuel: RunOptions::default().fuel,
        };
        let gate = self.rerun_gate.clone();
        let job = RerunJob::spawn_after(rerunner, request, move |cancel| {
            if let Some(g) = gate {
                g.wait_unless(|| cancel.is_cancelled());
            }
        });
        let mut model = RerunModel::new(db, ids, Some(job));
        model.candidate = self.rerun_component.clone();
        self.rerun = Some(model);
    }

    /// The engine, made on first use and kept (compiled components stay prepared).
    pub(super) fn rerunner(&mut self) -> Result<Arc<Rerunner>, String> {
        if let Some(r) = &self.rerunner {
            return Ok(r.clone());
        }
        let r = Arc::new(Rerunner::new(Some(self.component_cache.clone())).map_err(|e| e.to_string())?);
        self.rerunner = Some(r.clone());
        Ok(r)
    }

    /// Called every frame: takes the job's progress, and its reports when it ends.
    pub(super) fn poll_rerun(&mut self) {
        let Some(model) = &mut self.rerun else { return };
        if model.poll() {
            let origin = model.origin.clone();
            self.load_source_files(origin);
        }
    }

    /// Read the source files the reports name, from `origin`.
    pub(super) fn load_source_files(&mut self, origin: SourceOrigin) {
        let Some(model) = &mut self.rerun else { return };
        let reports: Vec<Report> = model.reports.values().filter_map(|r| r.as_ref().ok().cloned()).collect();
        if reports.is_empty() {
            return;
        }
        let task = self.tasks.next_id();
        model.files_task = Some(task);
        model.origin = origin.clone();
        let db = model.db.clone();
        // A candidate build's source is not stored: fall back to the recorded component's.
        let recorded: HashMap<ExecutionId, ContentDigest> = self
            .executions
            .as_ref()
            .map(|e| e.all().iter().map(|s| (s.id.clone(), s.component_digest)).collect())
            .unwrap_or_default();
        self.tasks.spawn("sources", move |sink| {
            let result = (|| -> Result<HashMap<String, Arc<str>>, String> {
                let db = ObeliskDb::open(&db).map_err(|e| e.to_string())?;
                let dir: Option<PathBuf> = match &origin {
                    SourceOrigin::Database => None,
                    SourceOrigin::Folder(d) => Some(d.clone()),
                };
                let files = SourceFiles::new(&db, dir.as_deref());
                let mut out = HashMap::new();
                for r in &reports {
                    let mut found = files.files_of(r);
                    if found.is_empty()
                        && let Some(digest) = recorded.get(&r.execution_id)
                    {
                        let mut recorded_build = r.clone();
                        recorded_build.component_digest = *digest;
                        found = files.files_of(&recorded_build);
                    }
                    out.extend(found);
                }
                Ok(out)
            })();
            sink.send(TaskMsg::SourceFiles { task, result });
        });
    }

    /// Apply the files a [`TaskMsg::SourceFiles`] brought.
    pub(super) fn source_files_arrived(&mut self, task: u64, result: Result<HashMap<String, Arc<str>>, String>) {
        let Some(model) = &mut self.rerun else { return };
        if model.files_task != Some(task) {
            return;
        }
        model.files_task = None;
        match result {
            Ok(files) if files.is_empty() && model.origin != SourceOrigin::Database => {
                let folder = match &model.origin {
                    SourceOrigin::Folder(d) => d.display().to_string(),
                    SourceOrigin::Database => String::new(),
                };
                self.set_error(format!("no source file of the workflow found under {folder}"));
            }
            Ok(files) => model.files = files,
            Err(e) => self.set_error(format!("cannot read the workflow's source: {e}")),
        }
    }
}
