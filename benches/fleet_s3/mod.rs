//! The fleet benchmark's S3 half: the same 1,000 tenants uploaded to a real S3 server (moto on
//! 127.0.0.1), listed, scanned, rescanned after 10 tenants changed and searched through it.
//! Floors: the same listing with the same SDK client (every object of the bucket, paginated),
//! and the same scan of the on-disk fleet (printed by the caller).

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use aws_sdk_s3::primitives::ByteStream;

use super::common::measured;
use super::moto::{Moto, runtime};

/// Every file under `dir`.
fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
    for e in std::fs::read_dir(dir).unwrap().flatten() {
        if e.file_type().unwrap().is_dir() { walk(&e.path(), out) } else { out.push(e.path()) }
    }
}

/// The objects a tenant folder becomes in S3, as Litestream lays them out: v0.5 LTX files as
/// `PREFIX/LEVEL(4 hex)/NAME` with their header time as `litestream-timestamp`, v0.3 as is.
fn objects_of(tenant: &Path, prefix: &str) -> Vec<(String, PathBuf, Option<String>)> {
    let mut files = Vec::new();
    walk(tenant, &mut files);
    files
        .into_iter()
        .map(|f| {
            let rel = f.strip_prefix(tenant).unwrap().to_str().unwrap().to_owned();
            match rel.strip_prefix("ltx/") {
                Some(ltx) => {
                    let (level, name) = ltx.split_once('/').unwrap();
                    let level: u8 = level.parse().unwrap();
                    let header = std::fs::read(&f).unwrap();
                    let ms = u64::from_be_bytes(header[32..40].try_into().unwrap()) as i64;
                    let ts = chrono::DateTime::from_timestamp_millis(ms)
                        .unwrap()
                        .to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
                    (format!("{prefix}/{level:04x}/{name}"), f, Some(ts))
                }
                None => (format!("{prefix}/{rel}"), f, None),
            }
        })
        .collect()
}

/// Upload `objects` to `bucket`, 32 requests in flight.
fn upload(moto: &Moto, bucket: &str, objects: &[(String, PathBuf, Option<String>)]) {
    let client = moto.client();
    runtime().block_on(async {
        for chunk in objects.chunks(32) {
            let mut puts = tokio::task::JoinSet::new();
            for (key, path, ts) in chunk {
                let meta = ts.as_ref().map(|t| HashMap::from([("litestream-timestamp".to_owned(), t.clone())]));
                let body = ByteStream::from(std::fs::read(path).unwrap());
                let request = client.put_object().bucket(bucket).key(key).body(body).set_metadata(meta);
                let what = format!("put s3://{bucket}/{key}");
                puts.spawn(async move { request.send().await.map(|_| ()).map_err(|e| format!("{what}: {e:?}")) });
            }
            while let Some(done) = puts.join_next().await {
                done.expect("put task").unwrap_or_else(|e| panic!("{e}"));
            }
        }
    });
}

/// List every `tenants/<name>/` prefix once with the SDK client, 8 requests in flight.
fn list_each_prefix(moto: &Moto, tenants: &[String]) -> Duration {
    let client = moto.client();
    let t = Instant::now();
    runtime().block_on(async {
        for chunk in tenants.chunks(8) {
            let mut lists = tokio::task::JoinSet::new();
            for name in chunk {
                let request = client.list_objects_v2().bucket("fleet").prefix(format!("tenants/{name}/"));
                lists.spawn(async move { request.send().await.map(|_| ()).map_err(|e| format!("{e:?}")) });
            }
            while let Some(done) = lists.join_next().await {
                done.expect("list task").unwrap_or_else(|e| panic!("{e}"));
            }
        }
    });
    t.elapsed()
}

/// Figures of the S3 half, one table row each.
pub struct S3Figures {
    pub objects: usize,
    pub upload: Duration,
    pub list_floor: Duration,
    /// One listing of every tenant's prefix, 8 in flight (what a scan needs at least).
    pub prefix_floor: Duration,
    pub rows: Vec<(String, Duration, f64, &'static str)>,
}

/// Upload the fleet folder `fleet` (tenant folders) as `s3://fleet/tenants/<tenant>`, then
/// measure the release binary `bin` on it. `changed` are 10 tenant folders whose newer files
/// arrive (from `newer`, a complete replica) before the last rescan.
pub fn measure(bin: &Path, fleet: &Path, cache: &Path, changed: &[PathBuf], newer: &Path) -> S3Figures {
    let moto = Moto::start();
    moto.create_bucket("fleet");
    let mut objects = Vec::new();
    for t in std::fs::read_dir(fleet).unwrap().flatten() {
        let name = t.file_name().to_string_lossy().into_owned();
        objects.extend(objects_of(&t.path(), &format!("tenants/{name}")));
    }
    let t = Instant::now();
    upload(&moto, "fleet", &objects);
    let upload_time = t.elapsed();

    let t = Instant::now();
    let listed = moto.list("fleet", "tenants/").len();
    let list_floor = t.elapsed();
    assert_eq!(listed, objects.len(), "every object is listed");
    let tenants: Vec<String> =
        std::fs::read_dir(fleet).unwrap().flatten().map(|t| t.file_name().to_string_lossy().into_owned()).collect();
    let prefix_floor = list_each_prefix(&moto, &tenants);

    let source = "s3://fleet/tenants".to_owned();
    let s3 = ["--endpoint", moto.endpoint.as_str(), "--force-path-style", "--region", "us-east-1"];
    // `fleet search` reads the local index only: no S3 options.
    let args = |a: &[&str]| {
        let s3: &[&str] = if a[..2] == ["fleet", "search"] { &[] } else { &s3 };
        a.iter().chain(s3).map(|s| s.to_string()).collect::<Vec<_>>()
    };
    let creds = [
        ("XDG_CACHE_HOME", cache),
        ("AWS_ACCESS_KEY_ID", Path::new("test")),
        ("AWS_SECRET_ACCESS_KEY", Path::new("test")),
        ("AWS_CONFIG_FILE", Path::new("/dev/null")),
        ("AWS_SHARED_CREDENTIALS_FILE", Path::new("/dev/null")),
    ];
    let mut rows = Vec::new();
    let mut row = |label: &str, a: &[&str], target: &'static str| {
        let (d, rss) = measured(bin, &args(a), &creds);
        rows.push((label.to_owned(), d, rss, target));
    };
    row("`tenants` (list and summarise every tenant)", &["tenants", &source, "--json"], "< 5 s");
    row("first `fleet scan` (restore and read every tenant)", &["fleet", "scan", &source, "--json"], "-");
    row("rescan, nothing changed", &["fleet", "scan", &source, "--json"], "-");
    let mut newer_objects = Vec::new();
    for c in changed {
        let name = c.file_name().unwrap().to_string_lossy().into_owned();
        let have: Vec<String> = objects_of(c, &format!("tenants/{name}")).into_iter().map(|(k, _, _)| k).collect();
        let all = objects_of(newer, &format!("tenants/{name}"));
        newer_objects.extend(all.into_iter().filter(|(k, _, _)| !have.contains(k)));
    }
    upload(&moto, "fleet", &newer_objects);
    row("rescan, 10 tenants changed", &["fleet", "scan", &source, "--json"], "< 10 s");
    row("`fleet search --result failed`", &["fleet", "search", &source, "--json", "--result", "failed"], "< 100 ms");
    row(
        "`fleet search --text unreachable`",
        &["fleet", "search", &source, "--json", "--text", "unreachable"],
        "< 100 ms",
    );
    S3Figures { objects: objects.len(), upload: upload_time, list_floor, prefix_floor, rows }
}
