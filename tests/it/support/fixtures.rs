//! Shared fixtures (`<repo>/../shared/fixtures`): extracted with `tar` (keeps mtimes, which are
//! v0.3 restore-point times) and uploaded to a real S3 server with their user metadata.

use std::path::{Path, PathBuf};
use std::process::Command;

use super::moto::Moto;

/// `<repo>/../shared`
pub fn shared() -> PathBuf {
    let p = super::repo().join("../shared");
    p.canonicalize().unwrap_or_else(|e| panic!("shared dir {}: {e}", p.display()))
}

/// `tar xzf TARBALL` into a fresh temp dir.
pub fn extract(tarball: &Path) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("temp dir");
    let out = Command::new("tar").arg("xzf").arg(tarball).arg("-C").arg(dir.path()).output().expect("run tar");
    assert!(out.status.success(), "tar xzf {} failed: {}", tarball.display(), String::from_utf8_lossy(&out.stderr));
    dir
}

/// The buckets of `s3dump.tar.gz`: v0.3.13 under `ls3/db`, v0.5.17 under `ls5/db`, and v0.5.17
/// with an empty path in `ls5e` (keys begin with `/`).
pub const S3DUMP_BUCKETS: [&str; 3] = ["ls3", "ls5", "ls5e"];

/// Creates the buckets and uploads every object of `s3dump.tar.gz` with its user metadata
/// (`objects.json`: `"<bucket>/<key>" → {LastModified, Size, Metadata}`; on disk a key that
/// begins with `/` lives under `<bucket>/__leading_slash__/`). Returns the number of objects.
pub fn upload_s3dump(moto: &Moto) -> usize {
    let dir = extract(&shared().join("fixtures/litestream/s3dump.tar.gz"));
    let root = dir.path().join("s3dump");
    let index: serde_json::Map<String, serde_json::Value> =
        serde_json::from_slice(&std::fs::read(root.join("objects.json")).expect("read objects.json"))
            .expect("parse objects.json");
    for bucket in S3DUMP_BUCKETS {
        moto.create_bucket(bucket);
    }
    for (name, info) in &index {
        let (bucket, key) = name.split_once('/').expect("objects.json name = bucket/key");
        let file = match key.strip_prefix('/') {
            Some(rest) => root.join(bucket).join("__leading_slash__").join(rest),
            None => root.join(bucket).join(key),
        };
        let bytes = std::fs::read(&file).unwrap_or_else(|e| panic!("{}: {e}", file.display()));
        assert_eq!(Some(bytes.len() as u64), info["Size"].as_u64(), "size of {name}");
        let metadata: Vec<(String, String)> = info["Metadata"]
            .as_object()
            .map(|m| m.iter().map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_string())).collect())
            .unwrap_or_default();
        moto.put(bucket, key, bytes, &metadata);
    }
    index.len()
}
