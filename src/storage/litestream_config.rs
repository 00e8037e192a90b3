//! Reading the user's own `litestream.yml`: the v0.3 `replicas:` list and the v0.5 `replica:`
//! form, with `$VAR`/`${VAR}` expansion as Litestream does by default.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use super::{ReplicaAddress, S3Location, S3Options, StoreError, parse_address};

/// One replica of one database in a Litestream config.
#[derive(Debug, Clone)]
pub struct ConfiguredReplica {
    /// `name:` (v0.3 lists) or the replica type.
    pub name: String,
    pub address: ReplicaAddress,
    /// age identities (`AGE-SECRET-KEY-1…`) for encrypted v0.3 replicas.
    pub age_identities: Vec<String>,
}

/// One `dbs:` entry.
#[derive(Debug, Clone)]
pub struct ConfiguredDb {
    pub path: PathBuf,
    pub replicas: Vec<ConfiguredReplica>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "kebab-case")]
struct RawConfig {
    #[serde(default)]
    dbs: Vec<RawDb>,
    access_key_id: Option<String>,
    secret_access_key: Option<String>,
}

#[derive(Deserialize)]
struct RawDb {
    path: String,
    replica: Option<RawReplica>,
    #[serde(default)]
    replicas: Vec<RawReplica>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "kebab-case")]
struct RawReplica {
    name: Option<String>,
    #[serde(rename = "type")]
    kind: Option<String>,
    url: Option<String>,
    path: Option<String>,
    bucket: Option<String>,
    endpoint: Option<String>,
    region: Option<String>,
    force_path_style: Option<bool>,
    access_key_id: Option<String>,
    secret_access_key: Option<String>,
    age: Option<RawAge>,
}

#[derive(Deserialize, Default)]
struct RawAge {
    #[serde(default)]
    identities: Vec<String>,
}

/// Expand `$VAR` and `${VAR}` from the environment (unset variables become empty), as Go's
/// `os.ExpandEnv` does.
pub fn expand_env(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        if c != '$' {
            out.push(c);
            continue;
        }
        let rest = &s[i + 1..];
        let (name, used) = if let Some(inner) = rest.strip_prefix('{') {
            match inner.find('}') {
                Some(end) => (&inner[..end], end + 2),
                None => {
                    out.push(c);
                    continue;
                }
            }
        } else {
            let end = rest.find(|ch: char| !(ch.is_ascii_alphanumeric() || ch == '_')).unwrap_or(rest.len());
            (&rest[..end], end)
        };
        if used == 0 {
            out.push(c);
            continue;
        }
        out.push_str(&std::env::var(name).unwrap_or_default());
        for _ in 0..rest[..used].chars().count() {
            chars.next();
        }
    }
    out
}

/// Parse a Litestream config file.
pub fn load_config(config: &Path) -> Result<Vec<ConfiguredDb>, StoreError> {
    let text = std::fs::read_to_string(config).map_err(|e| StoreError::io(config.display().to_string(), e))?;
    parse_config(&expand_env(&text))
        .map_err(|reason| StoreError::BadAddress { address: config.display().to_string(), reason })
}

fn parse_config(text: &str) -> Result<Vec<ConfiguredDb>, String> {
    let raw: RawConfig = serde_yaml::from_str(text).map_err(|e| format!("not a valid Litestream config: {e}"))?;
    let global_creds = raw.access_key_id.clone().zip(raw.secret_access_key.clone());
    let mut dbs = Vec::new();
    for db in raw.dbs {
        let mut replicas = Vec::new();
        for (i, r) in db.replica.into_iter().chain(db.replicas).enumerate() {
            replicas.push(convert(r, i, global_creds.clone())?);
        }
        dbs.push(ConfiguredDb { path: PathBuf::from(db.path), replicas });
    }
    Ok(dbs)
}

fn convert(r: RawReplica, index: usize, global_creds: Option<(String, String)>) -> Result<ConfiguredReplica, String> {
    let kind = r.kind.clone().unwrap_or_else(|| {
        if r.url.as_deref().is_some_and(|u| u.starts_with("s3://")) || r.bucket.is_some() {
            "s3".into()
        } else {
            "file".into()
        }
    });
    let name = r.name.clone().unwrap_or_else(|| if index == 0 { kind.clone() } else { format!("{kind}{index}") });
    let creds = r.access_key_id.clone().zip(r.secret_access_key.clone()).or(global_creds);
    let mut address = match (&r.url, kind.as_str()) {
        (Some(url), _) => parse_address(url, &S3Options::default()).map_err(|e| e.to_string())?,
        (None, "file") => ReplicaAddress::Local(PathBuf::from(r.path.clone().ok_or("file replica without `path`")?)),
        (None, "s3") => ReplicaAddress::S3(S3Location {
            bucket: r.bucket.clone().ok_or("s3 replica without `bucket`")?,
            path: r.path.clone().unwrap_or_default().trim_matches('/').to_string(),
            ..Default::default()
        }),
        (None, other) => return Err(format!("replica type `{other}` is not supported (file and s3 are)")),
    };
    if let ReplicaAddress::S3(loc) = &mut address {
        if r.endpoint.is_some() {
            loc.endpoint = r.endpoint.clone();
        }
        if r.region.is_some() {
            loc.region = r.region.clone();
        }
        if let Some(f) = r.force_path_style {
            loc.force_path_style = f;
        }
        loc.credentials = creds;
    }
    let age_identities = r.age.map(|a| a.identities).unwrap_or_default();
    Ok(ConfiguredReplica { name, address, age_identities })
}

/// The replicas configured for `db_path` (compared after making both absolute), optionally only
/// the one named `replica`.
pub fn replicas_for_db(
    config: &Path,
    db_path: &Path,
    replica: Option<&str>,
) -> Result<Vec<ConfiguredReplica>, StoreError> {
    let dbs = load_config(config)?;
    let want = std::path::absolute(db_path).unwrap_or_else(|_| db_path.to_path_buf());
    let known: BTreeMap<PathBuf, ConfiguredDb> =
        dbs.into_iter().map(|db| (std::path::absolute(&db.path).unwrap_or_else(|_| db.path.clone()), db)).collect();
    let Some(db) = known.get(&want) else {
        let listed: Vec<String> = known.keys().map(|p| p.display().to_string()).collect();
        return Err(StoreError::BadAddress {
            address: db_path.display().to_string(),
            reason: format!("not in {} (it lists: {})", config.display(), listed.join(", ")),
        });
    };
    let replicas: Vec<ConfiguredReplica> =
        db.replicas.iter().filter(|r| replica.is_none_or(|n| r.name == n)).cloned().collect();
    if replicas.is_empty() {
        return Err(StoreError::BadAddress {
            address: db_path.display().to_string(),
            reason: match replica {
                Some(n) => format!("no replica named `{n}` in {}", config.display()),
                None => format!("no replica configured in {}", config.display()),
            },
        });
    }
    Ok(replicas)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expands_variables() {
        // SAFETY: single-threaded use of a unique variable name in this test.
        unsafe { std::env::set_var("CHRONOSCOPE_TEST_BUCKET", "bk") };
        assert_eq!(expand_env("a ${CHRONOSCOPE_TEST_BUCKET} $CHRONOSCOPE_TEST_BUCKET/x $"), "a bk bk/x $");
        assert_eq!(expand_env("${CHRONOSCOPE_UNSET_VAR_X}-"), "-");
    }

    #[test]
    fn reads_v3_list_and_v5_single_replica() {
        let v3 = "dbs:\n  - path: /d/db.sqlite\n    replicas:\n      - name: file\n        type: file\n        path: /r\n      - name: s3\n        type: s3\n        bucket: ls3\n        path: db\n        endpoint: http://127.0.0.1:5055\n        region: us-east-1\n        force-path-style: true\n        age:\n          identities: [AGE-SECRET-KEY-1X]\n";
        let dbs = parse_config(v3).unwrap();
        assert_eq!(dbs[0].replicas.len(), 2);
        assert_eq!(dbs[0].replicas[0].address, ReplicaAddress::Local("/r".into()));
        match &dbs[0].replicas[1].address {
            ReplicaAddress::S3(l) => {
                assert_eq!((l.bucket.as_str(), l.path.as_str(), l.force_path_style), ("ls3", "db", true));
                assert_eq!(l.endpoint.as_deref(), Some("http://127.0.0.1:5055"));
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(dbs[0].replicas[1].age_identities, vec!["AGE-SECRET-KEY-1X".to_string()]);

        let v5 = "levels:\n  - interval: 5s\ndbs:\n  - path: /d/db.sqlite\n    replica:\n      url: s3://b/p?endpoint=http://h:1&forcePathStyle=true\n";
        let dbs = parse_config(v5).unwrap();
        match &dbs[0].replicas[0].address {
            ReplicaAddress::S3(l) => {
                assert_eq!((l.bucket.as_str(), l.path.as_str(), l.endpoint.as_deref()), ("b", "p", Some("http://h:1")))
            }
            other => panic!("{other:?}"),
        }
    }
}
