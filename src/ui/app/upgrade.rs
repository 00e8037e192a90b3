//! The app's side of the upgrade check: start it over the current source's tenants with a
//! candidate `.wasm`, poll it each frame, and open a checked execution in time travel,
//! re-executed with the candidate, at the step where it stops agreeing with its log.

use std::path::PathBuf;

use super::{App, OpenedDb, Screen};
use crate::fleet::job::UpgradeJob;
use crate::fleet::subjects::Subject;
use crate::fleet::upgrade::CheckOptions;
use crate::rerun::RunOptions;
use crate::ui::model::upgrade::UpgradeModel;

/// Tenants checked at once by the app.
const PARALLEL: usize = 4;

impl App {
    /// Check every tenant of the current source against `component`.
    pub(super) fn start_upgrade_check(&mut self, component: PathBuf) {
        if let Some(old) = &mut self.upgrade {
            old.cancel();
        }
        let rows = self.tenants.rows().to_vec();
        if rows.is_empty() {
            self.set_error("the source has no tenants to check");
            return;
        }
        let rerunner = match self.rerunner() {
            Ok(r) => r,
            Err(e) => return self.set_error(e),
        };
        let names = rows.iter().map(|r| r.name.clone()).collect();
        let subjects: Vec<Subject> = rows.into_iter().map(Subject::from).collect();
        let options = CheckOptions {
            all: false,
            parallel: PARALLEL,
            cache_dir: self.cache_dir.clone(),
            fuel: RunOptions::default().fuel,
        };
        let job = UpgradeJob::spawn(rerunner, component.clone(), subjects, options);
        self.upgrade = Some(UpgradeModel::new(component, names, job));
        self.screen = Screen::Upgrade;
    }

    pub(super) fn poll_upgrade(&mut self) {
        if let Some(m) = &mut self.upgrade {
            m.poll();
        }
    }

    /// Open execution `execution` of checked tenant `tenant`, re-executed with the candidate.
    pub(super) fn open_checked(&mut self, tenant: usize, execution: usize) {
        let Some(model) = &self.upgrade else { return };
        let Some(t) = model.results.get(tenant).and_then(Option::as_ref) else { return };
        let (Some(path), Some(e)) = (t.database.clone(), t.executions.get(execution)) else { return };
        let (name, id, version) = (t.tenant.clone(), e.execution_id.clone(), e.version);
        let component = model.component.clone();
        self.open_database(OpenedDb { tenant: name, point: "latest".into(), path });
        self.rerun_component = Some(component);
        self.pending_open = Some((id, version));
    }
}
