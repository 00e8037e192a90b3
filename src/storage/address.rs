//! Replica addresses as Litestream users write them: a folder, `file:///path`, `s3://bucket/path`
//! (with options), the `s3://bucket.host:port/path` forms Litestream accepts, or an entry of the
//! user's own `litestream.yml`.

use std::path::PathBuf;

use super::{LocalStore, ReplicaStore, S3Location, S3Store, StoreError};
use crate::cancel::Cancel;

/// Where a replica (or a fleet of tenant replicas) lives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReplicaAddress {
    Local(PathBuf),
    S3(S3Location),
}

/// S3 connection options given on the command line (or in the GUI's source form).
#[derive(Debug, Clone, Default)]
pub struct S3Options {
    pub endpoint: Option<String>,
    pub region: Option<String>,
    pub force_path_style: bool,
    pub profile: Option<String>,
}

impl ReplicaAddress {
    /// Open a read-only store for this address.
    pub fn open(&self) -> Result<Box<dyn ReplicaStore>, StoreError> {
        self.open_cancellable(&Cancel::new())
    }

    /// Open a read-only store whose network calls give up (with [`StoreError::Cancelled`]) as
    /// soon as `cancel` is set, even when a request hangs.
    pub fn open_cancellable(&self, cancel: &Cancel) -> Result<Box<dyn ReplicaStore>, StoreError> {
        match self {
            ReplicaAddress::Local(path) => Ok(Box::new(LocalStore::new(path))),
            ReplicaAddress::S3(loc) => Ok(Box::new(S3Store::connect(loc.clone(), cancel.clone())?)),
        }
    }

    /// A short display form (`s3://bucket/path` or the folder).
    pub fn display(&self) -> String {
        match self {
            ReplicaAddress::Local(p) => p.display().to_string(),
            ReplicaAddress::S3(loc) => loc.url(),
        }
    }

    /// The last path component, a natural tenant name.
    pub fn name(&self) -> String {
        let s = match self {
            ReplicaAddress::Local(p) => p.display().to_string(),
            ReplicaAddress::S3(loc) => {
                if loc.path.is_empty() {
                    loc.bucket.clone()
                } else {
                    loc.path.clone()
                }
            }
        };
        s.trim_end_matches('/').rsplit('/').next().unwrap_or_default().to_string()
    }
}

/// Parse a replica address. Options given explicitly override what the address implies.
pub fn parse_address(address: &str, opts: &S3Options) -> Result<ReplicaAddress, StoreError> {
    let bad = |reason: &str| StoreError::BadAddress { address: address.to_string(), reason: reason.to_string() };
    if let Some(rest) = address.strip_prefix("file://") {
        if rest.is_empty() {
            return Err(bad("empty path"));
        }
        return Ok(ReplicaAddress::Local(PathBuf::from(rest)));
    }
    if let Some(rest) = address.strip_prefix("s3://") {
        let (rest, query) = rest.split_once('?').unwrap_or((rest, ""));
        let (host, path) = rest.split_once('/').unwrap_or((rest, ""));
        if host.is_empty() {
            return Err(bad("missing bucket name"));
        }
        let mut loc = parse_host(host);
        loc.path = path.trim_matches('/').to_string();
        for pair in query.split('&').filter(|p| !p.is_empty()) {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            match k {
                "endpoint" => loc.endpoint = Some(v.to_string()),
                "region" => loc.region = Some(v.to_string()),
                "forcePathStyle" => loc.force_path_style = v == "true",
                _ => return Err(bad(&format!("unknown query parameter `{k}`"))),
            }
        }
        if let Some(e) = &opts.endpoint {
            loc.endpoint = Some(e.clone());
        }
        if let Some(r) = &opts.region {
            loc.region = Some(r.clone());
        }
        loc.force_path_style |= opts.force_path_style;
        loc.profile = opts.profile.clone();
        if loc.bucket.is_empty() {
            return Err(bad("missing bucket name"));
        }
        return Ok(ReplicaAddress::S3(loc));
    }
    if let Some((scheme, _)) = address.split_once("://") {
        return Err(bad(&format!("unsupported scheme `{scheme}` (use a folder, file:// or s3://)")));
    }
    Ok(ReplicaAddress::Local(PathBuf::from(address)))
}

/// Litestream's `ParseHost`: a bare bucket, or provider host forms such as
/// `bucket.localhost:9000`, `bucket.s3.us-west-2.amazonaws.com`, `bucket.fra1.digitaloceanspaces.com`.
fn parse_host(host_port: &str) -> S3Location {
    let (host, port) = match host_port.rsplit_once(':') {
        Some((h, p)) if p.chars().all(|c| c.is_ascii_digit()) && !p.is_empty() => (h, Some(p)),
        _ => (host_port, None),
    };
    let split = |suffix: &str| -> Option<(String, String)> {
        // "<bucket>.<middle><suffix>" → (bucket, middle); bucket optional.
        let head = host.strip_suffix(suffix)?;
        match head.rsplit_once('.') {
            Some((bucket, middle)) => Some((bucket.to_string(), middle.to_string())),
            None => Some((String::new(), head.to_string())),
        }
    };
    let mut loc = S3Location { force_path_style: true, ..Default::default() };
    let mut endpoint_host = None;
    let mut scheme = "https";
    if host == "localhost" || host.ends_with(".localhost") {
        loc.bucket = host.strip_suffix("localhost").unwrap_or_default().trim_end_matches('.').to_string();
        loc.region = Some("us-east-1".into());
        scheme = "http";
        endpoint_host = Some("localhost".to_string());
    } else if let Some((bucket, region)) =
        host.strip_suffix(".backblazeb2.com").and_then(|head| match head.strip_prefix("s3.") {
            Some(region) => Some((String::new(), region.to_string())),
            None => head.split_once(".s3.").map(|(b, r)| (b.to_string(), r.to_string())),
        })
    {
        endpoint_host = Some(format!("s3.{region}.backblazeb2.com"));
        loc.bucket = bucket;
        loc.region = Some(region);
    } else if host == "s3.filebase.com" || host.ends_with(".s3.filebase.com") {
        loc.bucket = host.strip_suffix("s3.filebase.com").unwrap_or_default().trim_end_matches('.').to_string();
        endpoint_host = Some("s3.filebase.com".into());
    } else if let Some((bucket, region)) = split(".digitaloceanspaces.com") {
        endpoint_host = Some(format!("{region}.digitaloceanspaces.com"));
        loc.bucket = bucket;
        loc.region = Some(region);
    } else if let Some((bucket, region)) = split(".linodeobjects.com") {
        endpoint_host = Some(format!("{region}.linodeobjects.com"));
        loc.bucket = bucket;
        loc.region = Some(region);
    } else if let Some(idx) =
        host.find(".s3.").or_else(|| host.find(".s3-")).filter(|_| host.ends_with(".amazonaws.com"))
    {
        // bucket.s3.amazonaws.com / bucket.s3.us-west-2.amazonaws.com / bucket.s3-us-west-2.amazonaws.com
        loc.bucket = host[..idx].to_string();
        let region = host[idx + 4..].trim_end_matches(".amazonaws.com").trim_start_matches('.');
        if !region.is_empty() && region != "amazonaws.com" {
            loc.region = Some(region.to_string());
        }
        loc.force_path_style = false;
    } else {
        loc.bucket = host.to_string();
        loc.force_path_style = false;
    }
    if let Some(h) = endpoint_host {
        let h = match port {
            Some(p) => format!("{h}:{p}"),
            None => h,
        };
        loc.endpoint = Some(format!("{scheme}://{h}"));
    }
    loc
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s3(addr: &str) -> S3Location {
        match parse_address(addr, &S3Options::default()).unwrap() {
            ReplicaAddress::S3(l) => l,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn folders_and_file_urls() {
        assert_eq!(parse_address("/tmp/r", &S3Options::default()).unwrap(), ReplicaAddress::Local("/tmp/r".into()));
        assert_eq!(
            parse_address("file:///tmp/r", &S3Options::default()).unwrap(),
            ReplicaAddress::Local("/tmp/r".into())
        );
        assert!(parse_address("gs://b/p", &S3Options::default()).is_err());
    }

    #[test]
    fn plain_bucket_and_path() {
        let l = s3("s3://bucket/a/b/");
        assert_eq!(
            (l.bucket.as_str(), l.path.as_str(), l.endpoint.clone(), l.force_path_style),
            ("bucket", "a/b", None, false)
        );
        assert_eq!(s3("s3://bucket").path, "");
    }

    #[test]
    fn localhost_form_is_path_style_http() {
        let l = s3("s3://ls3.localhost:5055/db");
        assert_eq!(l.bucket, "ls3");
        assert_eq!(l.endpoint.as_deref(), Some("http://localhost:5055"));
        assert!(l.force_path_style);
        assert_eq!(l.region.as_deref(), Some("us-east-1"));
    }

    #[test]
    fn provider_hosts() {
        let l = s3("s3://b.s3.us-west-2.amazonaws.com/x");
        assert_eq!((l.bucket.as_str(), l.region.as_deref()), ("b", Some("us-west-2")));
        let l = s3("s3://b.fra1.digitaloceanspaces.com/x");
        assert_eq!(l.endpoint.as_deref(), Some("https://fra1.digitaloceanspaces.com"));
        let l = s3("s3://b.s3.eu-central-003.backblazeb2.com/x");
        assert_eq!(l.endpoint.as_deref(), Some("https://s3.eu-central-003.backblazeb2.com"));
    }

    #[test]
    fn query_parameters_and_flags() {
        let l = s3("s3://b/db?endpoint=http://127.0.0.1:9000&region=r1&forcePathStyle=true");
        assert_eq!(l.endpoint.as_deref(), Some("http://127.0.0.1:9000"));
        assert!(l.force_path_style);
        let opts = S3Options { endpoint: Some("http://x:1".into()), force_path_style: true, ..Default::default() };
        match parse_address("s3://b/db", &opts).unwrap() {
            ReplicaAddress::S3(l) => {
                assert_eq!((l.endpoint.as_deref(), l.force_path_style), (Some("http://x:1"), true))
            }
            _ => unreachable!(),
        }
    }
}
