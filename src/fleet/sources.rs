//! Sources of tenants: the bundled demo, a local folder of replicas, an S3 prefix, or the
//! replicas of a `litestream.yml`. A source is what the settings remember (no secrets); opening
//! it (network, disk) happens on a worker thread.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::{Context, Result};
use serde::{Deserialize, Serialize};

use crate::litestream::tenants::{self, Tenant};
use crate::litestream::v3::AgeIdentities;
use crate::litestream::{Cancel, Progress};
use crate::storage::litestream_config::load_config;
use crate::storage::{ReplicaAddress, ReplicaStore, S3Options, parse_address};

/// Parallel listing requests while discovering tenants.
const DISCOVERY_CONCURRENCY: usize = 8;

/// Where tenants are found. Remembered in the settings: never holds credentials.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum SourceConfig {
    /// The demo replicas shipped with the app.
    Demo { path: PathBuf },
    /// A folder holding one replica or many (one per tenant).
    Local { path: PathBuf },
    /// An S3 prefix (`s3://bucket/prefix`) with connection options; credentials come from the
    /// environment or the profile.
    S3 {
        url: String,
        #[serde(default)]
        endpoint: Option<String>,
        #[serde(default)]
        region: Option<String>,
        #[serde(default)]
        path_style: bool,
        #[serde(default)]
        profile: Option<String>,
    },
    /// Every replica of a `litestream.yml`.
    LitestreamConfig { path: PathBuf },
}

impl SourceConfig {
    /// A source for a command-line argument or a dropped path: a `litestream.yml`, a folder or
    /// an `s3://` address (SQLite files are opened as databases, not as sources).
    pub fn from_argument(arg: &str) -> SourceConfig {
        let path = Path::new(arg);
        if arg.starts_with("s3://") {
            SourceConfig::S3 { url: arg.to_owned(), endpoint: None, region: None, path_style: false, profile: None }
        } else if is_litestream_config(path) {
            SourceConfig::LitestreamConfig { path: path.to_path_buf() }
        } else {
            let path = arg.strip_prefix("file://").map(PathBuf::from).unwrap_or_else(|| path.to_path_buf());
            SourceConfig::Local { path }
        }
    }

    /// Short name shown in the sources list.
    pub fn label(&self) -> String {
        match self {
            SourceConfig::Demo { .. } => "Demo fleet".to_owned(),
            SourceConfig::Local { path } => path.display().to_string(),
            SourceConfig::S3 { url, endpoint, .. } => match endpoint {
                Some(e) => format!("{url} ({e})"),
                None => url.clone(),
            },
            SourceConfig::LitestreamConfig { path } => path.display().to_string(),
        }
    }

    /// The label without the folders above a local source (they are in [`SourceConfig::label`]).
    pub fn short_label(&self) -> String {
        match self {
            SourceConfig::Local { path } | SourceConfig::LitestreamConfig { path } => {
                path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_else(|| self.label())
            }
            _ => self.label(),
        }
    }

    /// The kind in one word.
    pub fn kind(&self) -> &'static str {
        match self {
            SourceConfig::Demo { .. } => "demo",
            SourceConfig::Local { .. } => "folder",
            SourceConfig::S3 { .. } => "S3",
            SourceConfig::LitestreamConfig { .. } => "litestream.yml",
        }
    }

    /// Find and summarise every tenant of the source (blocking: call on a worker thread).
    /// `credentials` (access key, secret) are used for S3 when given, instead of the
    /// environment (held in memory only).
    pub fn discover(
        &self,
        credentials: Option<&(String, String)>,
        progress: &dyn Progress,
        cancel: &Cancel,
    ) -> Result<Vec<TenantRow>> {
        match self {
            SourceConfig::LitestreamConfig { path } => discover_config(path, credentials, progress, cancel),
            _ => {
                let mut address = self.address()?;
                with_credentials(&mut address, credentials);
                let store = address.open_cancellable(cancel)?;
                let found = tenants::discover(store.as_ref(), DISCOVERY_CONCURRENCY, progress, cancel)?;
                Ok(found
                    .into_iter()
                    .map(|tenant| {
                        let name = if tenant.path.is_empty() { address.name() } else { tenant.name().to_owned() };
                        let child: Arc<dyn ReplicaStore> = Arc::from(store.child(&tenant.path));
                        TenantRow { name, store: child, age: AgeIdentities::none(), tenant }
                    })
                    .collect())
            }
        }
    }

    /// The replica address of a folder or S3 source.
    fn address(&self) -> Result<ReplicaAddress> {
        Ok(match self {
            SourceConfig::Demo { path } | SourceConfig::Local { path } => ReplicaAddress::Local(path.clone()),
            SourceConfig::S3 { url, endpoint, region, path_style, profile } => {
                let opts = S3Options {
                    endpoint: endpoint.clone(),
                    region: region.clone(),
                    force_path_style: *path_style,
                    profile: profile.clone(),
                };
                parse_address(url, &opts)?
            }
            SourceConfig::LitestreamConfig { path } => {
                anyhow::bail!("{} is a config file, not a replica", path.display())
            }
        })
    }
}

/// A tenant found under a source: its summary and an open store for its replica.
#[derive(Clone)]
pub struct TenantRow {
    pub name: String,
    pub store: Arc<dyn ReplicaStore>,
    pub age: AgeIdentities,
    pub tenant: Tenant,
}

/// Does `path` look like a Litestream configuration file?
pub fn is_litestream_config(path: &Path) -> bool {
    path.is_file() && path.extension().is_some_and(|e| e == "yml" || e == "yaml")
}

/// One tenant per replica of each database in the config.
fn discover_config(
    config: &Path,
    credentials: Option<&(String, String)>,
    progress: &dyn Progress,
    cancel: &Cancel,
) -> Result<Vec<TenantRow>> {
    let dbs = load_config(config)?;
    let mut rows = Vec::new();
    for db in dbs {
        let db_name = db.path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        let several = db.replicas.len() > 1;
        for mut replica in db.replicas {
            cancel.check()?;
            with_credentials(&mut replica.address, credentials);
            let store = replica.address.open_cancellable(cancel)?;
            let found = tenants::discover(store.as_ref(), DISCOVERY_CONCURRENCY, progress, cancel)
                .with_context(|| format!("replica {} of {}", replica.address.display(), db.path.display()))?;
            let age = AgeIdentities::from_strings(&replica.age_identities)?;
            let store: Arc<dyn ReplicaStore> = Arc::from(store);
            if let Some(tenant) = found.into_iter().find(|t| t.path.is_empty()) {
                let name = if several { format!("{db_name} ({})", replica.name) } else { db_name.clone() };
                rows.push(TenantRow { name, store, age, tenant });
            }
        }
    }
    Ok(rows)
}

/// Use `credentials` for an S3 address that has none of its own.
fn with_credentials(address: &mut ReplicaAddress, credentials: Option<&(String, String)>) {
    if let (ReplicaAddress::S3(loc), Some(c)) = (address, credentials)
        && loc.credentials.is_none()
    {
        loc.credentials = Some(c.clone());
    }
}
