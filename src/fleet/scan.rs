//! `fleet scan`: bring every tenant's cached restore up to date (incrementally) and read its
//! executions into the fleet index. Tenants run in parallel (bounded); a tenant whose backup
//! did not move since the last scan is not read again; a damaged tenant is recorded with its
//! error and the others go on.

use std::sync::Mutex;
use std::time::SystemTime;

use chrono::{DateTime, Utc};
use serde::Serialize;

use super::index::{FleetIndex, IndexError, IndexedExecution, IndexedTenant};
use super::subjects::{Subject, SubjectOrigin};
use crate::cancel::Cancel;
use crate::litestream::RestoreError;
use crate::litestream::cache::refresh::{CacheOutcome, refresh_latest};
use crate::litestream::progress::NoProgress;
use crate::obelisk::describe::result_kind;
use crate::obelisk::{ExecutionFilter, ExecutionState, ObeliskDb, ObeliskError};
use crate::parallel;

/// How one tenant's scan went.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case", tag = "outcome")]
pub enum TenantScan {
    /// Its backup did not move: the index already holds it.
    Unchanged,
    /// Restored (or refreshed) and read.
    Scanned { executions: usize, restore: String },
    /// It could not be restored or read (recorded in the index with the error).
    Failed { error: String },
}

#[derive(Debug, thiserror::Error)]
enum ScanError {
    #[error("restore failed: {0}")]
    Restore(#[from] RestoreError),
    #[error("{0}")]
    Database(#[from] ObeliskError),
    #[error("{0}")]
    Index(#[from] IndexError),
}

/// Scan `subjects` into `index`, `parallel` at a time, restoring into `cache_dir`;
/// `done(i, scan)` as each ends. Results in `subjects` order.
pub fn scan(
    subjects: &[Subject],
    index: &Mutex<FleetIndex>,
    cache_dir: &std::path::Path,
    parallel: usize,
    done: &(dyn Fn(usize, &TenantScan) + Sync),
    cancel: &Cancel,
) -> Result<Vec<TenantScan>, IndexError> {
    let names: Vec<String> = subjects.iter().map(|s| s.name.clone()).collect();
    lock(index).retain_tenants(&names)?;
    let indexed: Vec<(usize, &Subject)> = subjects.iter().enumerate().collect();
    let results = parallel::map(&indexed, parallel.max(1), |(i, subject)| {
        let r = match scan_one(subject, index, cache_dir, cancel) {
            Ok(r) => r,
            Err(e) => {
                let error = e.to_string();
                let tenant = tenant_row(subject, None, Some(error.clone()), 0, None);
                let _ = lock(index).replace_tenant(&tenant, &[]);
                TenantScan::Failed { error }
            }
        };
        done(*i, &r);
        r
    });
    Ok(results)
}

fn lock(index: &Mutex<FleetIndex>) -> std::sync::MutexGuard<'_, FleetIndex> {
    index.lock().unwrap_or_else(|p| p.into_inner())
}

fn tenant_row(
    subject: &Subject,
    point: Option<String>,
    error: Option<String>,
    executions: usize,
    database: Option<String>,
) -> IndexedTenant {
    IndexedTenant {
        name: subject.name.clone(),
        point,
        latest_at: subject.latest,
        scanned_at: Utc::now(),
        error,
        problems: subject.problems.clone(),
        executions,
        database,
    }
}

fn scan_one(
    subject: &Subject,
    index: &Mutex<FleetIndex>,
    cache_dir: &std::path::Path,
    cancel: &Cancel,
) -> Result<TenantScan, ScanError> {
    cancel.check()?;
    let (path, point, how) = match &subject.origin {
        SubjectOrigin::Replica { store, age } => {
            let r = refresh_latest(store.as_ref(), age, cache_dir, &NoProgress, cancel)?;
            let how = match r.outcome {
                CacheOutcome::UpToDate => "up to date".to_owned(),
                CacheOutcome::Restored => "restored".to_owned(),
                CacheOutcome::Refreshed { files, .. } => {
                    format!("refreshed with {files} {}", r.manifest.point.objects())
                }
            };
            (r.path, r.manifest.point.describe(), how)
        }
        SubjectOrigin::Database(path) => {
            let modified = std::fs::metadata(path).and_then(|m| m.modified()).unwrap_or(SystemTime::UNIX_EPOCH);
            let point = format!("file modified {}", crate::format::time(DateTime::<Utc>::from(modified)));
            (path.clone(), point, "read as it is".to_owned())
        }
    };
    if lock(index).tenant_point(&subject.name)?.as_deref() == Some(point.as_str()) {
        return Ok(TenantScan::Unchanged);
    }
    let db = ObeliskDb::open(&path)?;
    let summaries = db.list_executions(&ExecutionFilter::default())?;
    let texts = db.failure_texts()?;
    let rows: Vec<IndexedExecution> = summaries
        .iter()
        .map(|e| {
            let (finished_at, state_until) = match &e.state {
                ExecutionState::Finished { finished_at } => (Some(*finished_at), None),
                ExecutionState::PendingAt { scheduled_at } => (None, Some(*scheduled_at)),
                ExecutionState::Locked { lock_expires_at, .. }
                | ExecutionState::BlockedByJoinSet { lock_expires_at, .. } => (None, Some(*lock_expires_at)),
                ExecutionState::Other { .. } => (None, None),
            };
            IndexedExecution {
                tenant: subject.name.clone(),
                execution_id: e.id.to_string(),
                ffqn: e.ffqn.to_string(),
                state: e.state.name().to_owned(),
                result: e.result_kind.as_ref().map(result_kind),
                created_at: e.created_at,
                updated_at: e.updated_at,
                finished_at,
                state_until,
                incompatible_digest: e.incompatible_digest.map(|d| d.to_string()),
                error_text: texts.get(&e.id).cloned(),
            }
        })
        .collect();
    let database = Some(path.display().to_string());
    lock(index).replace_tenant(&tenant_row(subject, Some(point), None, rows.len(), database), &rows)?;
    Ok(TenantScan::Scanned { executions: rows.len(), restore: how })
}
