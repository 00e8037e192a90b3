//! What fleet-wide work (the upgrade check) runs over: every tenant of a source, or one
//! database file given directly.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::Result;
use chrono::{DateTime, Utc};

use crate::cancel::Cancel;
use crate::fleet::sources::{SourceConfig, TenantRow};
use crate::litestream::Progress;
use crate::litestream::v3::AgeIdentities;
use crate::obelisk::is_sqlite_file;
use crate::storage::{ReplicaStore, S3Options};

/// Where a subject's database comes from.
#[derive(Clone)]
pub enum SubjectOrigin {
    /// A SQLite file, read as it is.
    Database(PathBuf),
    /// A tenant's replica: its latest point is restored (through the restore cache).
    Replica { store: Arc<dyn ReplicaStore>, age: AgeIdentities },
}

/// One tenant (or database) to check.
#[derive(Clone)]
pub struct Subject {
    pub name: String,
    pub origin: SubjectOrigin,
    /// The newest restore point's time, from the listing.
    pub latest: Option<DateTime<Utc>>,
    /// What the listing found wrong with the replica.
    pub problems: Vec<String>,
}

impl From<TenantRow> for Subject {
    fn from(row: TenantRow) -> Subject {
        Subject {
            name: row.name,
            origin: SubjectOrigin::Replica { store: row.store, age: row.age },
            latest: row.tenant.latest,
            problems: row.tenant.problems,
        }
    }
}

/// The subjects of a command-line argument: a SQLite file is one subject; a folder, an `s3://`
/// prefix or a `litestream.yml` gives one per tenant replica found (`s3` holds the S3 options
/// of an `s3://` argument).
pub fn subjects_of(arg: &str, s3: &S3Options, progress: &dyn Progress, cancel: &Cancel) -> Result<Vec<Subject>> {
    let path = Path::new(arg.strip_prefix("file://").unwrap_or(arg));
    if path.is_file() && is_sqlite_file(path) {
        let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_else(|| arg.to_owned());
        let origin = SubjectOrigin::Database(path.to_path_buf());
        return Ok(vec![Subject { name, origin, latest: None, problems: Vec::new() }]);
    }
    let source = match SourceConfig::from_argument(arg) {
        SourceConfig::S3 { url, .. } => SourceConfig::S3 {
            url,
            endpoint: s3.endpoint.clone(),
            region: s3.region.clone(),
            path_style: s3.force_path_style,
            profile: s3.profile.clone(),
        },
        other => other,
    };
    let rows = source.discover(None, progress, cancel)?;
    if rows.is_empty() {
        anyhow::bail!("{arg}: no Litestream replica or SQLite database found");
    }
    Ok(rows.into_iter().map(Subject::from).collect())
}
