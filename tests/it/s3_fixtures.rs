//! The S3 objects real Litestream runs wrote (`shared/fixtures/litestream/s3dump.tar.gz`),
//! uploaded with their metadata to a real S3 server (moto): chronoscope lists them and restores
//! exactly what the real Litestream binaries restore from the same objects. Plus S3 errors.

use std::path::Path;

use chrono::{DateTime, SecondsFormat, TimeDelta, Utc};

use crate::support::cli::{self, assert_same_restore};
use crate::support::fixtures;
use crate::support::moto::{self, Moto};
use crate::support::tools;

/// chronoscope's S3 options for this server.
fn s3_opts(moto: &Moto) -> Vec<String> {
    ["--endpoint", &moto.endpoint, "--region", moto::REGION, "--force-path-style"].map(String::from).to_vec()
}

/// Litestream v0.5 replica URL for this server (`path` may be empty).
fn v5_url(moto: &Moto, bucket: &str, path: &str) -> String {
    format!("s3://{bucket}/{path}?endpoint={}&region={}&forcePathStyle=true", moto.endpoint, moto::REGION)
}

fn with_s3<'a>(moto: &Moto, head: impl IntoIterator<Item = &'a str>) -> Vec<String> {
    head.into_iter().map(String::from).chain(s3_opts(moto)).collect()
}

/// `chronoscope backups REPLICA --json` succeeds and its JSON mentions every expected string.
fn assert_backups_mention(moto: &Moto, replica: &str, expected: &[String]) {
    let out = cli::chronoscope(with_s3(moto, ["backups", replica, "--json"]));
    let json = cli::stdout_json(&out);
    for want in expected {
        assert!(contains_string(&json, want), "`backups {replica} --json` does not mention {want}: {json}");
    }
}

fn contains_string(v: &serde_json::Value, want: &str) -> bool {
    match v {
        serde_json::Value::String(s) => s == want,
        serde_json::Value::Array(a) => a.iter().any(|x| contains_string(x, want)),
        serde_json::Value::Object(o) => o.values().any(|x| contains_string(x, want)),
        _ => false,
    }
}

/// (TXID, litestream-timestamp) of every level-0 object under `prefix` (e.g. `db/0000/`).
fn l0_files(moto: &Moto, bucket: &str, prefix: &str) -> Vec<(u64, DateTime<Utc>)> {
    let mut out: Vec<(u64, DateTime<Utc>)> = moto
        .list(bucket, prefix)
        .iter()
        .map(|o| {
            let name = o.key.strip_prefix(prefix).expect("prefix");
            let txid = u64::from_str_radix(&name[..16], 16).expect("hex TXID");
            let meta = moto.metadata(bucket, &o.key);
            let ts = meta.get("litestream-timestamp").unwrap_or_else(|| panic!("metadata of {}: {meta:?}", o.key));
            (txid, DateTime::parse_from_rfc3339(ts).expect("RFC3339").with_timezone(&Utc))
        })
        .collect();
    out.sort();
    out
}

#[test]
fn s3dump_v5_lists_and_restores_like_litestream() {
    let moto = Moto::start();
    assert_eq!(fixtures::upload_s3dump(&moto), 120);
    let tmp = tempfile::tempdir().expect("tmp");
    let v5 = tools::litestream_v5();

    // ls5/db: latest, every 5th TXID, and times from the `litestream-timestamp` metadata
    // (LastModified is the upload time here: only the metadata carries the real times).
    let l0 = l0_files(&moto, "ls5", "db/0000/");
    assert!(l0.len() >= 20, "ls5 has {} L0 files", l0.len());
    let max_txid = format!("{:016x}", l0.last().unwrap().0);
    assert_backups_mention(&moto, "s3://ls5/db", &[max_txid]);

    let cs = with_s3(&moto, ["s3://ls5/db"]);
    let latest = assert_same_restore(&v5, &[v5_url(&moto, "ls5", "db")], &cs, tmp.path(), "ls5 latest")
        .expect("ls5 latest restore succeeds");
    assert!(std::fs::metadata(&latest).unwrap().len() > 100_000, "ls5 restore is suspiciously small");
    for (txid, _) in l0.iter().step_by(5) {
        let (ls_args, cs_args) = (
            vec!["-txid".into(), format!("{txid:016x}"), v5_url(&moto, "ls5", "db")],
            [cs.clone(), vec!["--txid".into(), format!("{txid:016x}")]].concat(),
        );
        assert_same_restore(&v5, &ls_args, &cs_args, tmp.path(), &format!("ls5 txid {txid:x}"))
            .expect("TXID restore succeeds");
    }
    // `-config … DB` makes Litestream read the metadata times (a URL checks LastModified).
    let db = tmp.path().join("ls5.sqlite");
    let cfg = tmp.path().join("ls5.yml");
    std::fs::write(
        &cfg,
        format!(
            "dbs:\n  - path: {}\n    replica:\n      type: s3\n      bucket: ls5\n      path: db\n      endpoint: {}\n      region: us-east-1\n      force-path-style: true\n",
            db.display(),
            moto.endpoint
        ),
    )
    .expect("write config");
    let mut restored = 0;
    for (txid, ts) in l0.iter().skip(1).step_by(4) {
        for ts in [*ts, *ts + TimeDelta::milliseconds(1)] {
            let ts = ts.to_rfc3339_opts(SecondsFormat::Millis, true);
            let ls_args = vec![
                "-timestamp".into(),
                ts.clone(),
                "-config".into(),
                cfg.display().to_string(),
                db.display().to_string(),
            ];
            let cs_args = [cs.clone(), vec!["--timestamp".into(), ts.clone()]].concat();
            let label = format!("ls5 timestamp {ts} (L0 {txid:x})");
            restored += usize::from(assert_same_restore(&v5, &ls_args, &cs_args, tmp.path(), &label).is_some());
        }
    }
    assert!(restored >= l0.len() / 4, "only {restored} timestamp restores succeeded");

    // ls5e: v0.5 with an empty path, keys begin with `/`; chronoscope addresses it as `s3://ls5e`.
    let l0e = l0_files(&moto, "ls5e", "/0000/");
    assert!(!l0e.is_empty(), "ls5e has no /0000/ objects");
    assert_backups_mention(&moto, "s3://ls5e", &[format!("{:016x}", l0e.last().unwrap().0)]);
    let restored = assert_same_restore(
        &v5,
        &[v5_url(&moto, "ls5e", "")],
        &with_s3(&moto, ["s3://ls5e"]),
        tmp.path(),
        "ls5e latest",
    )
    .expect("ls5e latest restore succeeds");
    assert!(cli::sqlite_dump(&restored).contains("CREATE TABLE x(a);"), "ls5e restore lacks table x");
}

#[test]
fn s3dump_v3_lists_and_restores_like_litestream() {
    let moto = Moto::start();
    fixtures::upload_s3dump(&moto);
    let tmp = tempfile::tempdir().expect("tmp");
    let v3 = tools::litestream_v3();

    let keys: Vec<String> = moto.list("ls3", "db/generations/").into_iter().map(|o| o.key).collect();
    let mut generations: Vec<String> =
        keys.iter().map(|k| k.split('/').nth(2).expect("generation").to_string()).collect();
    generations.dedup();
    assert!(generations.len() >= 2, "ls3 generations: {generations:?}");
    assert_backups_mention(&moto, "s3://ls3/db", &generations);

    // v0.3.13's URL form for a loopback S3: `s3://BUCKET.localhost:PORT/path`.
    let url = format!("s3://ls3.localhost:{}/db", moto.port);
    let cs = with_s3(&moto, ["s3://ls3/db"]);
    assert_same_restore(&v3, std::slice::from_ref(&url), &cs, tmp.path(), "ls3 latest")
        .expect("ls3 latest restore succeeds");
    for g in &generations {
        let mut indexes: Vec<&str> = keys
            .iter()
            .filter(|k| k.contains(&format!("/{g}/wal/")))
            .map(|k| &k.rsplit('/').next().unwrap()[..8])
            .collect();
        indexes.dedup();
        let mut picks = vec![None, Some(indexes[0]), Some(indexes[indexes.len() / 2])];
        picks.dedup();
        for index in picks {
            let mut ls_args = vec!["-generation".into(), g.clone()];
            let mut cs_args = [cs.clone(), vec!["--generation".into(), g.clone()]].concat();
            if let Some(i) = index {
                ls_args.extend(["-index".into(), i.to_string()]);
                cs_args.extend(["--index".into(), i.to_string()]);
            }
            ls_args.push(url.clone());
            let label = format!("ls3 gen {g} index {index:?}");
            assert_same_restore(&v3, &ls_args, &cs_args, tmp.path(), &label).expect("generation restore succeeds");
        }
    }
}

#[test]
fn s3_errors_name_the_endpoint_and_the_bucket() {
    let tmp = tempfile::tempdir().expect("tmp");
    let out = tmp.path().join("out.db");

    // Nothing listens on this port.
    let closed = format!("http://127.0.0.1:{}", moto::free_port());
    let opts = ["--endpoint", closed.as_str(), "--region", moto::REGION, "--force-path-style"];
    for cmd in [
        &["restore", "s3://ls5/db", "-o", &out.display().to_string(), "--no-progress"][..],
        &["backups", "s3://ls5/db"][..],
    ] {
        let o = cli::chronoscope(cmd.iter().copied().chain(opts));
        cli::assert_cli_error(&o, &out, &[closed.trim_start_matches("http://")]);
    }

    // A bucket that does not exist on a live server.
    let moto = Moto::start();
    moto.create_bucket("present");
    for cmd in [
        &["restore", "s3://missing-bucket/db", "-o", &out.display().to_string(), "--no-progress"][..],
        &["backups", "s3://missing-bucket/db"][..],
    ] {
        let o = cli::chronoscope(cmd.iter().map(|s| s.to_string()).chain(s3_opts(&moto)));
        cli::assert_cli_error(&o, &out, &["missing-bucket"]);
    }
    assert_no_litestream_either(&moto, &out);
}

/// The same wrong bucket fails with the real Litestream too (the scenario is a real error).
fn assert_no_litestream_either(moto: &Moto, out: &Path) {
    let o = cli::litestream(
        &tools::litestream_v5(),
        ["restore", "-o", &out.display().to_string(), &v5_url(moto, "missing-bucket", "db")],
    );
    assert!(!o.status.success(), "litestream restored from a missing bucket: {}", cli::describe(&o));
    assert!(!out.exists());
}

/// The hidden `restore --fetch-only` (the GET floor of `scripts/bench-restore.sh`) downloads
/// exactly the objects and bytes the restore plan reads, v0.5 and v0.3, and writes nothing.
#[test]
fn fetch_only_downloads_what_the_restore_reads_and_writes_nothing() {
    let moto = Moto::start();
    fixtures::upload_s3dump(&moto);
    for replica in ["s3://ls5/db", "s3://ls3/db"] {
        let plan = cli::stdout_json(&cli::chronoscope(with_s3(&moto, ["restore", replica, "--dry-run", "--json"])));
        let sizes: Vec<u64> = match plan["format"].as_str() {
            Some("v0.5") => {
                plan["files"].as_array().expect("files").iter().map(|f| f["size"].as_u64().unwrap()).collect()
            }
            Some("v0.3") => std::iter::once(&plan["snapshot"])
                .chain(plan["segments"].as_array().expect("segments"))
                .map(|o| o["size"].as_u64().unwrap())
                .collect(),
            other => panic!("{replica}: plan format {other:?}: {plan}"),
        };
        assert!(sizes.len() > 1, "{replica}: {plan}");
        let cwd = tempfile::tempdir().expect("tmp");
        let out = cli::chronoscope_cmd()
            .current_dir(cwd.path())
            .args(with_s3(&moto, ["restore", replica, "--fetch-only"]))
            .output()
            .expect("run chronoscope");
        assert!(out.status.success(), "{replica}: {}", cli::describe(&out));
        let stdout = String::from_utf8_lossy(&out.stdout).to_string();
        let want = format!("fetched and discarded {} objects, {} bytes (", sizes.len(), sizes.iter().sum::<u64>());
        assert!(stdout.starts_with(&want), "{replica}: `{stdout}` does not start with `{want}`");
        let left: Vec<_> = std::fs::read_dir(cwd.path()).expect("read cwd").collect();
        assert!(left.is_empty(), "{replica}: --fetch-only wrote {left:?}");
    }
}
