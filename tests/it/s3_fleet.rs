//! A fleet in a real S3 server (moto on loopback): the fixture tenants uploaded the way
//! Litestream lays them out in S3 (`<path>/<level %04x>/…` with `litestream-timestamp`
//! metadata for v0.5, `generations/…` for v0.3), discovered with `tenants` and restored.

use std::path::Path;

use crate::restore_fixtures::fixtures;
use crate::support::cli::{chronoscope, chronoscope_cmd, describe, sqlite_dump, stdout_json};
use crate::support::fixtures::extract;
use crate::support::moto::Moto;

fn walk(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    for e in std::fs::read_dir(dir).unwrap().flatten() {
        if e.file_type().unwrap().is_dir() { walk(&e.path(), out) } else { out.push(e.path()) }
    }
}

/// Upload a v0.5 file replica under `prefix` in S3 layout, with the metadata Litestream writes.
pub fn upload_v5(moto: &Moto, bucket: &str, prefix: &str, replica: &Path) -> usize {
    let mut files = Vec::new();
    walk(&replica.join("ltx"), &mut files);
    for f in &files {
        let level: u8 = f.parent().unwrap().file_name().unwrap().to_str().unwrap().parse().unwrap();
        let name = f.file_name().unwrap().to_str().unwrap();
        let bytes = std::fs::read(f).unwrap();
        let ms = u64::from_be_bytes(bytes[32..40].try_into().unwrap()) as i64;
        let ts =
            chrono::DateTime::from_timestamp_millis(ms).unwrap().to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
        moto.put(bucket, &format!("{prefix}/{level:04x}/{name}"), bytes, &[("litestream-timestamp".into(), ts)]);
    }
    files.len()
}

fn upload_plain(moto: &Moto, bucket: &str, prefix: &str, root: &Path) {
    let mut files = Vec::new();
    walk(root, &mut files);
    for f in files {
        let rel = f.strip_prefix(root).unwrap().to_str().unwrap().to_string();
        moto.put(bucket, &format!("{prefix}/{rel}"), std::fs::read(&f).unwrap(), &[]);
    }
}

#[test]
fn s3_fleet_tenants_are_discovered_and_restored() {
    let moto = Moto::start();
    moto.create_bucket("fleet");
    let mut uploaded = 0;
    for t in ["tenant-alpha", "tenant-beta", "tenant-zeta"] {
        uploaded += upload_v5(&moto, "fleet", &format!("prod/eu/{t}"), &fixtures().join("fleet/v0.5").join(t));
    }
    let gamma = extract(&fixtures().join("fleet/v0.3/tenant-gamma.replica.tar.gz"));
    let gamma_root = std::fs::read_dir(gamma.path()).unwrap().flatten().map(|e| e.path()).find(|p| p.is_dir()).unwrap();
    let gamma_root = if gamma_root.join("generations").is_dir() { gamma_root } else { gamma.path().to_path_buf() };
    upload_plain(&moto, "fleet", "prod/us/tenant-gamma", &gamma_root);
    assert!(uploaded > 100);

    let s3 = ["--endpoint", moto.endpoint.as_str(), "--force-path-style", "--region", "us-east-1"];
    let mut args = vec!["tenants", "s3://fleet/prod", "--json"];
    args.extend(s3);
    let found = chronoscope(&args);
    let found = stdout_json(&found);
    let rows: Vec<(String, String, Option<String>)> = found
        .as_array()
        .unwrap()
        .iter()
        .map(|t| {
            (
                t["path"].as_str().unwrap().into(),
                t["format"].as_str().unwrap().into(),
                t["latest_txid"].as_str().map(str::to_owned),
            )
        })
        .collect();
    assert_eq!(
        rows,
        vec![
            ("eu/tenant-alpha".into(), "v0.5".into(), Some("000000000000002f".into())),
            ("eu/tenant-beta".into(), "v0.5".into(), Some("0000000000000050".into())),
            ("eu/tenant-zeta".into(), "v0.5".into(), Some("0000000000000019".into())),
            ("us/tenant-gamma".into(), "v0.3".into(), None),
        ]
    );
    // v0.5 times come from the metadata (the header time), not from the upload's LastModified.
    let alpha = &found[0];
    assert_eq!(alpha["latest"].as_str().unwrap(), "2026-11-24T09:52:17.572Z", "{alpha}");

    let tmp = tempfile::tempdir().unwrap();
    for (path, expected) in [("eu/tenant-zeta", "v0.5/tenant-zeta"), ("us/tenant-gamma", "v0.3/tenant-gamma")] {
        let out = tmp.path().join(format!("{}.db", path.replace('/', "-")));
        let url = format!("s3://fleet/prod/{path}");
        let mut args = vec!["restore", url.as_str(), "-o", out.to_str().unwrap(), "--no-progress"];
        args.extend(s3);
        let r = chronoscope(&args);
        assert!(r.status.success(), "{}", describe(&r));
        let exp: serde_json::Value = serde_json::from_str(
            &std::fs::read_to_string(fixtures().join(format!("fleet/{expected}.expected.json"))).unwrap(),
        )
        .unwrap();
        use sha2::Digest;
        let dump = format!("{:x}", sha2::Sha256::digest(sqlite_dump(&out).as_bytes()));
        assert_eq!(dump, exp["sha256_dump"].as_str().unwrap(), "{path}: .dump differs from Litestream's restore");
    }
}

/// The ways a user names a bucket and its credentials: Litestream's `s3://bucket.localhost:PORT/path`
/// form (no `--endpoint`), an AWS profile from the shared credentials file (`--profile`), and
/// `LITESTREAM_ACCESS_KEY_ID`/`LITESTREAM_SECRET_ACCESS_KEY`; without any credentials the error
/// says what to set.
#[test]
fn s3_address_forms_and_credential_sources() {
    let moto = Moto::start();
    moto.create_bucket("forms");
    upload_v5(&moto, "forms", "eu/tenant-zeta", &fixtures().join("fleet/v0.5/tenant-zeta"));
    let tmp = tempfile::tempdir().unwrap();
    let credentials = tmp.path().join("credentials");
    std::fs::write(
        &credentials,
        format!(
            "[incident]\naws_access_key_id = {}\naws_secret_access_key = {}\n",
            crate::support::moto::ACCESS_KEY,
            crate::support::moto::SECRET_KEY
        ),
    )
    .unwrap();
    let latest = |out: &std::process::Output| -> String {
        let catalog = stdout_json(out);
        catalog["restorable"]["latest_txid"].as_str().unwrap_or_default().to_owned()
    };

    // Litestream's host:port form, with the usual credentials.
    let url = format!("s3://forms.localhost:{}/eu/tenant-zeta", moto.port);
    let out = chronoscope(["backups", url.as_str(), "--json"]);
    assert!(out.status.success(), "{}", describe(&out));
    assert!(latest(&out).contains("0000000000000019"), "{}", describe(&out));

    let endpoint = ["--endpoint", moto.endpoint.as_str(), "--force-path-style"];
    let without_keys = || {
        let mut cmd = chronoscope_cmd();
        cmd.env_remove("AWS_ACCESS_KEY_ID").env_remove("AWS_SECRET_ACCESS_KEY");
        cmd.args(["backups", "s3://forms/eu/tenant-zeta", "--json"]).args(endpoint);
        cmd
    };
    // A named profile from the shared credentials file.
    let out = without_keys().env("AWS_SHARED_CREDENTIALS_FILE", &credentials).args(["--profile", "incident"]).output();
    let out = out.unwrap();
    assert!(out.status.success(), "{}", describe(&out));
    assert!(latest(&out).contains("0000000000000019"), "{}", describe(&out));
    // Litestream's own variables.
    let out = without_keys()
        .env("LITESTREAM_ACCESS_KEY_ID", crate::support::moto::ACCESS_KEY)
        .env("LITESTREAM_SECRET_ACCESS_KEY", crate::support::moto::SECRET_KEY)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", describe(&out));
    // Nothing: a one-line error naming what to set, non-zero exit.
    let out = without_keys().output().unwrap();
    assert!(!out.status.success(), "{}", describe(&out));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("s3://forms/eu/tenant-zeta") && err.contains("LITESTREAM_ACCESS_KEY_ID"), "{err}");
}

/// A bucket with more tenants than one listing page (S3 returns at most 1000 prefixes per
/// page): every tenant is found.
#[test]
fn tenants_beyond_one_listing_page_are_all_found() {
    let moto = Moto::start();
    moto.create_bucket("big");
    let snapshot = fixtures().join("fleet/v0.5/tenant-zeta/ltx/9/0000000000000001-0000000000000001.ltx");
    let bytes = std::fs::read(&snapshot).unwrap();
    let ts = chrono::DateTime::from_timestamp_millis(u64::from_be_bytes(bytes[32..40].try_into().unwrap()) as i64)
        .unwrap()
        .to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
    const TENANTS: usize = 1005;
    let keys: Vec<String> =
        (0..TENANTS).map(|i| format!("agents/agent-{i:04}/0009/0000000000000001-0000000000000001.ltx")).collect();
    // Discovery reads listings only: the objects hold just the snapshot's LTX header.
    moto.put_many("big", &keys, &bytes[..100], &[("litestream-timestamp".into(), ts)]);
    let out = chronoscope([
        "tenants",
        "s3://big/agents",
        "--json",
        "--endpoint",
        moto.endpoint.as_str(),
        "--force-path-style",
        "--concurrency",
        "16",
    ]);
    assert!(out.status.success(), "{}", describe(&out));
    let found = stdout_json(&out);
    let paths: Vec<&str> = found.as_array().unwrap().iter().map(|t| t["path"].as_str().unwrap()).collect();
    assert_eq!(paths.len(), TENANTS);
    assert_eq!((paths[0], paths[TENANTS - 1]), ("agent-0000", "agent-1004"));
    assert!(found.as_array().unwrap().iter().all(|t| t["format"] == "v0.5" && t["objects"] == 1), "{found}");
}
