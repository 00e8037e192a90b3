//! The Fleet screen's state: the source's fleet index (scanned in the background, with
//! progress and cancel), each tenant's triage counts, and the search fields with their hits.

use std::path::PathBuf;

use chrono::{DateTime, Utc};

use crate::fleet::index::{IndexedExecution, Search, TenantCounts};
use crate::litestream::Cancel;

/// What a search or a finished scan brings back.
pub struct FleetData {
    pub counts: Vec<TenantCounts>,
    pub hits: Vec<IndexedExecution>,
    /// Tenants that failed in the scan just finished (with why).
    pub failed: Vec<(String, String)>,
}

/// The search fields (as typed).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SearchFields {
    /// `""` = any.
    pub state: String,
    pub ffqn: String,
    /// `""` = any; `ok`, `err`, `failed`.
    pub result: String,
    pub text: String,
}

pub struct FleetModel {
    /// The index file of the source.
    pub index: PathBuf,
    /// The loading task (scan or search) whose answer is awaited.
    pub task: Option<u64>,
    /// A scan runs (the task is a scan): tenants done of total, and its cancel.
    pub scan: Option<(usize, usize, Cancel)>,
    pub counts: Vec<TenantCounts>,
    pub hits: Vec<IndexedExecution>,
    pub failed: Vec<(String, String)>,
    pub error: Option<String>,
    pub fields: SearchFields,
    /// "Failed since" and "stuck" are counted over this many hours back from now.
    pub hours: u32,
    /// When the data was loaded (counts are as of then).
    pub loaded_at: Option<DateTime<Utc>>,
}

impl FleetModel {
    pub fn new(index: PathBuf) -> FleetModel {
        FleetModel {
            index,
            task: None,
            scan: None,
            counts: Vec::new(),
            hits: Vec::new(),
            failed: Vec::new(),
            error: None,
            fields: SearchFields::default(),
            hours: 24,
            loaded_at: None,
        }
    }

    /// The index query of the fields.
    pub fn search(&self) -> Search {
        let some = |s: &str| Some(s.trim().to_owned()).filter(|s| !s.is_empty());
        Search {
            state: some(&self.fields.state),
            ffqn_prefix: some(&self.fields.ffqn),
            result: some(&self.fields.result),
            since: None,
            text: some(&self.fields.text),
            limit: 1000,
        }
    }

    pub fn arrived(&mut self, result: Result<FleetData, String>) {
        self.task = None;
        self.scan = None;
        match result {
            Ok(d) => {
                self.counts = d.counts;
                self.hits = d.hits;
                if !d.failed.is_empty() {
                    self.failed = d.failed;
                }
                self.error = None;
                self.loaded_at = Some(Utc::now());
            }
            Err(e) => self.error = Some(e),
        }
    }
}
