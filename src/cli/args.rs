//! Command-line arguments shared by several commands: replica addresses and S3 options.

use std::path::{Path, PathBuf};

use anyhow::{Result, bail};
use clap::Args;

use super::{parse_hex, parse_time};
use crate::litestream::Cancel;
use crate::litestream::plan::RestoreTarget;

use crate::litestream::v3::AgeIdentities;
use crate::storage::litestream_config::replicas_for_db;
use crate::storage::{ReplicaAddress, ReplicaStore, S3Options, parse_address};

/// S3 connection options.
#[derive(Args, Debug, Clone, Default)]
pub struct S3Args {
    /// S3-compatible endpoint URL (e.g. http://127.0.0.1:9000).
    #[arg(long)]
    pub endpoint: Option<String>,
    #[arg(long)]
    pub region: Option<String>,
    /// Path-style addressing (needed by most S3-compatible servers).
    #[arg(long)]
    pub force_path_style: bool,
    /// AWS profile for credentials and region.
    #[arg(long)]
    pub profile: Option<String>,
}

impl S3Args {
    pub fn options(&self) -> S3Options {
        S3Options {
            endpoint: self.endpoint.clone(),
            region: self.region.clone(),
            force_path_style: self.force_path_style,
            profile: self.profile.clone(),
        }
    }
}

/// Which replica to read.
#[derive(Args, Debug, Clone)]
pub struct ReplicaArgs {
    /// Replica address (folder, file:///path, s3://bucket/path), or with --config the database
    /// path. Database commands also take a plain SQLite file here.
    #[arg(value_name = "REPLICA")]
    pub replica: String,
    /// Read the replica from this litestream.yml (REPLICA is then the database path).
    #[arg(long)]
    pub config: Option<PathBuf>,
    /// With --config: the replica's name when the database has several.
    #[arg(long = "replica-name")]
    pub replica_name: Option<String>,
    #[command(flatten)]
    pub s3: S3Args,
    /// age identity file for encrypted v0.3 replicas.
    #[arg(long)]
    pub age_identity: Option<PathBuf>,
}

/// A replica opened from the command line.
pub struct Opened {
    pub store: Box<dyn ReplicaStore>,
    pub age: AgeIdentities,
}

impl ReplicaArgs {
    /// Resolve the address (or the `--config` entry) and open a read-only store.
    pub fn open(&self, cancel: &Cancel) -> Result<Opened> {
        let (address, mut age) = match &self.config {
            Some(config) => {
                let mut replicas = replicas_for_db(config, Path::new(&self.replica), self.replica_name.as_deref())?;
                if replicas.len() > 1 {
                    let names: Vec<_> = replicas.iter().map(|r| r.name.clone()).collect();
                    bail!(
                        "{} has {} replicas ({}): choose one with --replica-name",
                        self.replica,
                        names.len(),
                        names.join(", ")
                    );
                }
                let r = replicas.remove(0);
                let mut address = r.address;
                if let ReplicaAddress::S3(loc) = &mut address {
                    let o = self.s3.options();
                    loc.endpoint = o.endpoint.or(loc.endpoint.take());
                    loc.region = o.region.or(loc.region.take());
                    loc.force_path_style |= o.force_path_style;
                    loc.profile = o.profile;
                }
                (address, AgeIdentities::from_strings(&r.age_identities)?)
            }
            None => (parse_address(&self.replica, &self.s3.options())?, AgeIdentities::none()),
        };
        if let Some(path) = &self.age_identity {
            age = AgeIdentities::from_file(path)?;
        }
        Ok(Opened { store: address.open_cancellable(cancel)?, age })
    }
}

/// Which point of a replica's history to restore.
#[derive(Args, Debug, Clone, Default)]
pub struct TargetArgs {
    /// Restore the state as of this time (RFC 3339).
    #[arg(long, conflicts_with_all = ["txid", "generation"])]
    pub timestamp: Option<String>,
    /// v0.5: restore up to this transaction (hexadecimal, as Litestream prints it).
    #[arg(long, conflicts_with = "generation")]
    pub txid: Option<String>,
    /// v0.3: restore this generation.
    #[arg(long)]
    pub generation: Option<String>,
    /// v0.3: stop at this WAL index (hexadecimal; needs --generation).
    #[arg(long, requires = "generation")]
    pub index: Option<String>,
}

impl TargetArgs {
    /// The restore target these flags name (latest when none is given).
    pub fn target(&self) -> Result<RestoreTarget> {
        Ok(match (&self.timestamp, &self.txid, &self.generation) {
            (Some(ts), _, _) => RestoreTarget::Timestamp(parse_time(ts)?),
            (_, Some(t), _) => RestoreTarget::Txid(parse_hex(t, "TXID")?),
            (_, _, Some(g)) => RestoreTarget::Generation {
                id: g.clone(),
                index: self.index.as_deref().map(|i| parse_hex(i, "WAL index")).transpose()?,
            },
            _ => RestoreTarget::Latest,
        })
    }
}

/// A database to read: a local SQLite file, or a replica (with restore flags) that is restored
/// into the cache first.
#[derive(Args, Debug, Clone)]
pub struct DbArgs {
    #[command(flatten)]
    pub source: ReplicaArgs,
    #[command(flatten)]
    pub target: TargetArgs,
}
