//! The upgrade check screen's state: the background [`UpgradeJob`], the verdicts that arrived,
//! and the table rows derived from them (one per execution, or one per tenant without any).

use std::path::PathBuf;

use crate::fleet::job::UpgradeJob;
use crate::fleet::upgrade::{TenantVerdicts, Verdict};
use crate::obelisk::ExecutionId;

/// One row of the verdicts table.
#[derive(Debug, Clone, PartialEq)]
pub struct UpgradeRow {
    pub tenant: usize,
    pub tenant_name: String,
    /// `None` for a tenant-level row (waiting, error, nothing to check).
    pub execution: Option<usize>,
    pub text: RowText,
}

/// What a row says.
#[derive(Debug, Clone, PartialEq)]
pub enum RowText {
    Waiting,
    TenantError(String),
    NothingToCheck,
    Execution { id: ExecutionId, ffqn: String, state: String, verdict: Verdict, detail: String },
}

pub struct UpgradeModel {
    pub component: PathBuf,
    pub names: Vec<String>,
    job: Option<UpgradeJob>,
    generation: usize,
    pub compiling: bool,
    pub error: Option<String>,
    pub cancelled: bool,
    pub results: Vec<Option<TenantVerdicts>>,
    /// Only rows that are not compatible.
    pub only_problems: bool,
    rows: Vec<UpgradeRow>,
}

impl UpgradeModel {
    pub fn new(component: PathBuf, names: Vec<String>, job: UpgradeJob) -> UpgradeModel {
        let results = vec![None; names.len()];
        let mut m = UpgradeModel {
            component,
            names,
            job: Some(job),
            generation: 0,
            compiling: true,
            error: None,
            cancelled: false,
            results,
            only_problems: false,
            rows: Vec::new(),
        };
        m.rebuild();
        m
    }

    pub fn running(&self) -> bool {
        self.job.is_some()
    }

    pub fn cancel(&mut self) {
        if let Some(job) = &self.job {
            job.cancel();
            self.cancelled = true;
        }
    }

    /// Called every frame: copies what arrived (only when something did).
    pub fn poll(&mut self) {
        let Some(job) = &self.job else { return };
        self.compiling = job.is_compiling();
        let finished = job.is_finished();
        if job.changed_since(self.generation) || finished {
            let state = job.state();
            self.generation = state.generation;
            self.results = state.results;
            self.error = state.error;
            self.rebuild();
        }
        if finished {
            self.job = None;
            self.compiling = false;
        }
    }

    /// How many tenants are checked.
    pub fn done(&self) -> usize {
        self.results.iter().filter(|r| r.is_some()).count()
    }

    /// Executions with `verdict`, over all checked tenants.
    pub fn count(&self, verdict: Verdict) -> usize {
        self.results.iter().flatten().map(|t| t.count(verdict)).sum()
    }

    /// Tenants that could not be checked.
    pub fn tenant_errors(&self) -> usize {
        self.results.iter().flatten().filter(|t| t.error.is_some()).count()
    }

    pub fn set_only_problems(&mut self, on: bool) {
        if self.only_problems != on {
            self.only_problems = on;
            self.rebuild();
        }
    }

    pub fn rows(&self) -> &[UpgradeRow] {
        &self.rows
    }

    /// The checked database and the verdict behind an execution row.
    pub fn target(&self, row: &UpgradeRow) -> Option<(&TenantVerdicts, usize)> {
        let t = self.results.get(row.tenant)?.as_ref()?;
        Some((t, row.execution?))
    }

    fn rebuild(&mut self) {
        let mut rows = Vec::new();
        for (i, name) in self.names.iter().enumerate() {
            let row = |execution, text| UpgradeRow { tenant: i, tenant_name: name.clone(), execution, text };
            match &self.results[i] {
                None => {
                    if !self.only_problems {
                        rows.push(row(None, RowText::Waiting));
                    }
                }
                Some(t) if t.error.is_some() => {
                    rows.push(row(None, RowText::TenantError(t.error.clone().unwrap_or_default())));
                }
                Some(t) if t.executions.is_empty() => {
                    if !self.only_problems {
                        rows.push(row(None, RowText::NothingToCheck));
                    }
                }
                Some(t) => {
                    for (j, e) in t.executions.iter().enumerate() {
                        if self.only_problems && e.verdict == Verdict::Compatible {
                            continue;
                        }
                        let text = RowText::Execution {
                            id: e.execution_id.clone(),
                            ffqn: e.ffqn.clone(),
                            state: e.state.clone(),
                            verdict: e.verdict,
                            detail: e.detail.clone(),
                        };
                        rows.push(row(Some(j), text));
                    }
                }
            }
        }
        self.rows = rows;
    }
}
