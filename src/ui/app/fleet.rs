//! The app's side of the fleet index: scan the source's tenants into it in the background
//! (progress, cancel), run searches on a worker (SQLite is never read on the UI thread), and
//! open a hit's execution in time travel.

use std::path::PathBuf;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

use chrono::{Duration, Utc};

use super::{App, OpenedDb, Screen};
use crate::fleet::index::{FleetIndex, Search, index_path};
use crate::fleet::scan::{TenantScan, scan};
use crate::fleet::sources::SourceConfig;
use crate::fleet::subjects::Subject;
use crate::litestream::{Cancel, ProgressEvent};
use crate::obelisk::ExecutionId;
use crate::ui::model::fleet::{FleetData, FleetModel};
use crate::ui::tasks::TaskMsg;

/// Tenants scanned at once by the app.
const PARALLEL: usize = 4;

/// The key of a source's index (what `chronoscope fleet scan` takes).
fn source_key(source: &SourceConfig) -> String {
    match source {
        SourceConfig::Demo { path } | SourceConfig::Local { path } | SourceConfig::LitestreamConfig { path } => {
            path.display().to_string()
        }
        SourceConfig::S3 { url, .. } => url.clone(),
    }
}

impl App {
    /// Show the Fleet screen of the current source, loading its index when there is one.
    pub(super) fn show_fleet(&mut self) {
        let index = index_path(&self.cache_dir, &source_key(&self.source));
        if self.fleet.as_ref().is_none_or(|f| f.index != index) {
            self.fleet = Some(FleetModel::new(index.clone()));
            if index.is_file() {
                self.search_fleet();
            }
        }
        self.screen = Screen::FleetIndex;
    }

    /// Scan every tenant of the source into its index.
    pub(super) fn scan_fleet(&mut self) {
        let rows = self.tenants.rows().to_vec();
        let Some(model) = &mut self.fleet else { return };
        if model.scan.is_some() {
            return;
        }
        let task = self.tasks.next_id();
        let cancel = Cancel::new();
        model.task = Some(task);
        model.scan = Some((0, rows.len(), cancel.clone()));
        let (index, query, hours) = (model.index.clone(), model.search(), model.hours);
        let now = self.now();
        let cache_dir = self.cache_dir.clone();
        self.tasks.spawn("fleet-scan", move |sink| {
            let result = (|| -> Result<FleetData, String> {
                let names: Vec<String> = rows.iter().map(|r| r.name.clone()).collect();
                let subjects: Vec<Subject> = rows.into_iter().map(Subject::from).collect();
                let idx = Mutex::new(FleetIndex::open(&index).map_err(|e| e.to_string())?);
                let done = AtomicU64::new(0);
                let on_done = |_: usize, _: &TenantScan| {
                    let n = done.fetch_add(1, Ordering::Relaxed) + 1;
                    sink.send(TaskMsg::Progress { task, event: ProgressEvent::Advance { done: n } });
                };
                let results =
                    scan(&subjects, &idx, &cache_dir, PARALLEL, &on_done, &cancel).map_err(|e| e.to_string())?;
                if cancel.is_cancelled() {
                    return Err("scan cancelled".into());
                }
                let failed = names
                    .into_iter()
                    .zip(results)
                    .filter_map(|(n, r)| match r {
                        TenantScan::Failed { error } => Some((n, error)),
                        _ => None,
                    })
                    .collect();
                let idx = idx.into_inner().unwrap_or_else(|p| p.into_inner());
                load(&idx, &query, hours, now, failed)
            })();
            sink.send(TaskMsg::Fleet { task, result });
        });
    }

    /// Run the model's search (and recount the tenants) on a worker.
    pub(super) fn search_fleet(&mut self) {
        let Some(model) = &mut self.fleet else { return };
        if model.scan.is_some() {
            return;
        }
        let task = self.tasks.next_id();
        model.task = Some(task);
        let (index, query, hours) = (model.index.clone(), model.search(), model.hours);
        let now = self.now();
        self.tasks.spawn("fleet-search", move |sink| {
            let result = FleetIndex::open(&index)
                .map_err(|e| e.to_string())
                .and_then(|idx| load(&idx, &query, hours, now, vec![]));
            sink.send(TaskMsg::Fleet { task, result });
        });
    }

    pub(super) fn fleet_progress(&mut self, task: u64, event: &ProgressEvent) -> bool {
        let Some(model) = &mut self.fleet else { return false };
        match (&mut model.scan, event) {
            (Some((done, _, _)), ProgressEvent::Advance { done: n }) if model.task == Some(task) => {
                *done = *n as usize;
                true
            }
            _ => false,
        }
    }

    pub(super) fn fleet_arrived(&mut self, task: u64, result: Result<FleetData, String>) {
        if let Some(model) = &mut self.fleet
            && model.task == Some(task)
        {
            model.arrived(result);
        }
    }

    /// Open `execution` of `tenant` (indexed from `database`) in time travel.
    pub(super) fn open_indexed(&mut self, tenant: String, database: PathBuf, execution: ExecutionId) {
        self.rerun_component = None;
        self.open_database(OpenedDb { tenant, point: "latest".into(), path: database });
        self.pending_open = Some((execution, None));
    }
}

/// Counts over the `hours` before `now`, and the hits of `query`.
fn load(
    idx: &FleetIndex,
    query: &Search,
    hours: u32,
    now: chrono::DateTime<Utc>,
    failed: Vec<(String, String)>,
) -> Result<FleetData, String> {
    let counts = idx.tenant_counts(now - Duration::hours(i64::from(hours)), now).map_err(|e| e.to_string())?;
    let hits = idx.search(query).map_err(|e| e.to_string())?;
    Ok(FleetData { counts, hits, failed })
}
