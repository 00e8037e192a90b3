//! Restores of the committed fixtures (real replicas written by real Litestream binaries while
//! real Obelisk servers or a writer ran), checked against what the producing machine recorded
//! with the real `litestream restore` (`*.expected.json`, `*.timeline.jsonl`).

use std::path::{Path, PathBuf};

use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::support::cli::{assert_cli_error, chronoscope, describe, sqlite_dump, stdout_json};
use crate::support::fixtures::extract;

/// `<repo>/tests/fixtures`.
pub fn fixtures() -> PathBuf {
    crate::support::repo().join("tests/fixtures")
}

fn expected(tenant_json: &str) -> Value {
    let p = fixtures().join("fleet").join(tenant_json);
    serde_json::from_str(&std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))).unwrap()
}

/// What the fixture README records of an Obelisk database: counts and the log digest.
#[derive(Debug, PartialEq)]
struct LogDigest {
    executions: i64,
    finished: i64,
    log_rows: i64,
    sha256_log: String,
}

fn log_digest(db: &Path) -> LogDigest {
    let uri = format!("file:{}?immutable=1", db.display());
    let conn = rusqlite::Connection::open_with_flags(
        &uri,
        rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY | rusqlite::OpenFlags::SQLITE_OPEN_URI,
    )
    .unwrap();
    let count = |sql: &str| conn.query_row(sql, [], |r| r.get::<_, i64>(0)).unwrap();
    let mut hasher = Sha256::new();
    let mut stmt = conn.prepare("SELECT execution_id, version, json_value FROM t_execution_log ORDER BY 1, 2").unwrap();
    let mut rows = stmt.query([]).unwrap();
    while let Some(r) = rows.next().unwrap() {
        let (id, version, json): (String, i64, String) = (r.get(0).unwrap(), r.get(1).unwrap(), r.get(2).unwrap());
        hasher.update(format!("{id}|{version}|{json}\n").as_bytes());
    }
    LogDigest {
        executions: count("SELECT count(*) FROM t_state"),
        finished: count("SELECT count(*) FROM t_state WHERE state = 'finished'"),
        log_rows: count("SELECT count(*) FROM t_execution_log"),
        sha256_log: format!("{:x}", hasher.finalize()),
    }
}

fn expected_digest(v: &Value) -> LogDigest {
    LogDigest {
        executions: v["executions"].as_i64().unwrap(),
        finished: v["finished"].as_i64().unwrap(),
        log_rows: v["log_rows"].as_i64().unwrap(),
        sha256_log: v["sha256_log"].as_str().unwrap().to_string(),
    }
}

fn restore_ok(args: &[&str]) -> std::process::Output {
    let out = chronoscope(args);
    assert!(out.status.success(), "chronoscope {args:?}: {}", describe(&out));
    out
}

fn sha256_hex(s: &str) -> String {
    format!("{:x}", Sha256::digest(s.as_bytes()))
}

fn check_tenant(replica: &Path, expected_json: &str) {
    let exp = expected(expected_json);
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("out.db");
    restore_ok(&["restore", replica.to_str().unwrap(), "-o", out.to_str().unwrap(), "--no-progress"]);
    assert_eq!(log_digest(&out), expected_digest(&exp), "{expected_json}");
    // The dump of the real `litestream restore` output, recorded with sqlite3 3.40.1.
    assert_eq!(sha256_hex(&sqlite_dump(&out)), exp["sha256_dump"].as_str().unwrap(), "{expected_json}: .dump differs");
    let meta = std::fs::metadata(&out).unwrap();
    assert_eq!(meta.len(), exp["restored_db"]["size_bytes"].as_u64().unwrap());
}

#[test]
fn fleet_v05_tenants_restore_to_the_recorded_state() {
    for tenant in ["tenant-alpha", "tenant-beta", "tenant-zeta"] {
        check_tenant(&fixtures().join("fleet/v0.5").join(tenant), &format!("v0.5/{tenant}.expected.json"));
    }
}

#[test]
fn fleet_v03_tenant_restores_to_the_recorded_state() {
    let dir = extract(&fixtures().join("fleet/v0.3/tenant-gamma.replica.tar.gz"));
    let replica = find_replica_root(dir.path());
    check_tenant(&replica, "v0.3/tenant-gamma.expected.json");
}

/// The folder containing `generations/` inside an extracted tarball.
pub fn find_replica_root(dir: &Path) -> PathBuf {
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        if d.join("generations").is_dir() || d.join("ltx").is_dir() {
            return d;
        }
        for e in std::fs::read_dir(&d).unwrap() {
            let e = e.unwrap();
            if e.file_type().unwrap().is_dir() {
                stack.push(e.path());
            }
        }
    }
    panic!("no replica under {}", dir.display())
}

#[test]
fn latest_plans_match_litestream_dry_run() {
    for tenant in ["tenant-alpha", "tenant-beta", "tenant-zeta"] {
        let exp = expected(&format!("v0.5/{tenant}.expected.json"));
        let replica = fixtures().join("fleet/v0.5").join(tenant);
        let out = restore_ok(&["restore", replica.to_str().unwrap(), "-o", "/nonexistent/x.db", "--dry-run", "--json"]);
        let plan = stdout_json(&out);
        let ours: Vec<(u64, String, u64)> = plan["files"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| {
                let name = f["key"].as_str().unwrap().rsplit('/').next().unwrap().to_string();
                (f["level"].as_u64().unwrap(), name, f["size"].as_u64().unwrap())
            })
            .collect();
        let theirs: Vec<(u64, String, u64)> = exp["final"]["latest_restore_plan"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| {
                (f["level"].as_u64().unwrap(), f["name"].as_str().unwrap().to_string(), f["size"].as_u64().unwrap())
            })
            .collect();
        assert_eq!(ours, theirs, "{tenant}");
        assert_eq!(plan["txid"].as_str().unwrap(), exp["final"]["max_txid"].as_str().unwrap(), "{tenant}");
    }
}

/// A private copy of a fleet tenant with the file times it was produced with (from
/// `MANIFEST.tsv`): Litestream's file client takes restore-point times from mtimes.
pub fn fleet_copy(tenant: &str) -> (tempfile::TempDir, PathBuf) {
    let tmp = tempfile::tempdir().unwrap();
    let dest = tmp.path().join(tenant.rsplit('/').next().unwrap());
    copy_dir(&fixtures().join("fleet").join(tenant), &dest);
    let manifest = std::fs::read_to_string(fixtures().join("fleet/MANIFEST.tsv")).unwrap();
    let prefix = format!("fleet/{tenant}/");
    let mut restored = 0;
    for line in manifest.lines().skip(1) {
        let cols: Vec<&str> = line.split('\t').collect();
        let Some(rel) = cols[0].strip_prefix(&prefix) else { continue };
        let ns: u64 = cols[3].parse().unwrap();
        let t = std::time::UNIX_EPOCH + std::time::Duration::from_nanos(ns);
        std::fs::File::options().write(true).open(dest.join(rel)).unwrap().set_modified(t).unwrap();
        restored += 1;
    }
    assert!(restored > 10, "MANIFEST.tsv lists {restored} files of {tenant}");
    (tmp, dest)
}

#[test]
fn point_in_time_restores_match_litestream_on_real_obelisk_tenants() {
    let litestream = crate::support::tools::litestream_v5();
    for tenant in ["v0.5/tenant-alpha", "v0.5/tenant-zeta"] {
        let (tmp, replica) = fleet_copy(tenant);
        let timeline: Vec<Value> =
            std::fs::read_to_string(fixtures().join("fleet").join(format!("{tenant}.timeline.jsonl")))
                .unwrap()
                .lines()
                .map(|l| serde_json::from_str(l).unwrap())
                .collect();
        let catalog = stdout_json(&restore_ok(&["backups", replica.to_str().unwrap(), "--json"]));
        let parse = |s: &str| chrono::DateTime::parse_from_rfc3339(s).unwrap();
        let (earliest, latest) = (
            parse(catalog["restorable"]["earliest"].as_str().unwrap()),
            parse(catalog["restorable"]["latest"].as_str().unwrap()),
        );
        // `restore -config … DB` (a restore URL first refuses times after the newest file's,
        // "timestamp does not exist", where the config form restores the newest state).
        let config = tmp.path().join("litestream.yml");
        let db = tmp.path().join("db/obelisk.sqlite");
        let yaml = format!(
            "dbs:\n  - path: {}\n    replica:\n      type: file\n      path: {}\n",
            db.display(),
            replica.display()
        );
        std::fs::write(&config, yaml).unwrap();
        let mut restored = 0;
        for (i, line) in timeline.iter().enumerate() {
            let utc = line["utc"].as_str().unwrap();
            let ls_args = ["-config".to_string(), config.display().to_string(), "-timestamp".into(), utc.into()];
            let Some(theirs) = crate::support::cli::assert_same_restore(
                &litestream,
                &[&ls_args[..], &[db.display().to_string()]].concat(),
                &[replica.display().to_string(), "--timestamp".into(), utc.into()],
                tmp.path(),
                &format!("{tenant} at {utc}"),
            ) else {
                // Both refused: only a time before the restorable range may be refused.
                assert!(parse(utc) <= earliest, "{tenant} at {utc} is after {earliest} (..{latest}) but was refused");
                continue;
            };
            // The live database passed through the restored state no later than this sample:
            // at least the previous sample's history (syncs are sub-second, samples 5 s apart),
            // at most this one's; equal counts mean equal content.
            let got = log_digest(&theirs);
            let prev_rows = if i == 0 { 0 } else { timeline[i - 1]["log_rows"].as_i64().unwrap() };
            assert!(
                prev_rows <= got.log_rows && got.log_rows <= line["log_rows"].as_i64().unwrap(),
                "{tenant} at {utc}: {got:?}"
            );
            for l in &timeline[..=i] {
                if l["log_rows"].as_i64() == Some(got.log_rows) {
                    assert_eq!(l["sha256_log"].as_str(), Some(got.sha256_log.as_str()), "{tenant} at {utc}");
                }
            }
            std::fs::remove_file(&theirs).unwrap();
            restored += 1;
        }
        assert!(restored * 2 > timeline.len(), "{tenant}: only {restored} of {} timestamps restorable", timeline.len());
    }
}

#[test]
fn every_txid_restores_and_history_only_grows() {
    let replica = fixtures().join("fleet/v0.5/tenant-alpha");
    let tmp = tempfile::tempdir().unwrap();
    let mut last_rows = -1;
    for txid in 1..=0x2fu64 {
        let out = tmp.path().join(format!("{txid}.db"));
        let hex = format!("{txid:016x}");
        restore_ok(&[
            "restore",
            replica.to_str().unwrap(),
            "-o",
            out.to_str().unwrap(),
            "--txid",
            &hex,
            "--no-progress",
        ]);
        let rows = if txid == 1 { 0 } else { log_digest(&out).log_rows };
        assert!(rows >= last_rows, "TXID {hex}: {rows} log rows after {last_rows}");
        last_rows = rows;
        std::fs::remove_file(&out).unwrap();
    }
    assert_eq!(last_rows, 328);
    let out = tmp.path().join("beyond.db");
    let r =
        chronoscope(["restore", replica.to_str().unwrap(), "-o", out.to_str().unwrap(), "--txid", "0000000000000030"]);
    assert_cli_error(&r, &out, &["0000000000000030", "not available"]);
}

#[test]
fn backups_lists_levels_and_restorable_range() {
    let replica = fixtures().join("fleet/v0.5/tenant-alpha");
    let cat = stdout_json(&restore_ok(&["backups", replica.to_str().unwrap(), "--json"]));
    assert_eq!(cat["format"], "v0.5");
    let levels: Vec<(u64, u64)> = cat["v5"]["levels"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| (l["level"].as_u64().unwrap(), l["files"].as_u64().unwrap()))
        .collect();
    assert_eq!(levels, vec![(0, 47), (1, 13), (2, 5), (9, 5)]);
    assert_eq!(cat["v5"]["max_txid"], "000000000000002f");
    assert_eq!(cat["restorable"]["latest_txid"], "000000000000002f");
    assert_eq!(cat["problems"].as_array().unwrap().len(), 0);
    // Times come from the LTX headers, not from the checkout's mtimes.
    let last = cat["v5"]["levels"][0]["last_time"].as_str().unwrap();
    assert!(last.starts_with("2026-11-24T"), "{last}");

    let human = restore_ok(&["backups", replica.to_str().unwrap()]);
    let text = String::from_utf8_lossy(&human.stdout);
    assert!(text.contains("latest TXID 000000000000002f") && text.contains("problems    none"), "{text}");
}

#[test]
fn tenants_finds_every_replica_of_a_fleet_folder() {
    let dir = extract(&fixtures().join("fleet/v0.3/tenant-gamma.replica.tar.gz"));
    // A fleet folder: the three v0.5 tenants plus the v0.3 one.
    let fleet = tempfile::tempdir().unwrap();
    for t in ["tenant-alpha", "tenant-beta", "tenant-zeta"] {
        copy_dir(&fixtures().join("fleet/v0.5").join(t), &fleet.path().join("v05").join(t));
    }
    let gamma_src = find_replica_root(dir.path());
    let status = std::process::Command::new("cp")
        .arg("-a")
        .arg(&gamma_src)
        .arg(fleet.path().join("tenant-gamma"))
        .status()
        .unwrap();
    assert!(status.success());
    let found = stdout_json(&restore_ok(&["tenants", fleet.path().to_str().unwrap(), "--json"]));
    let rows: Vec<(String, String, Option<String>)> = found
        .as_array()
        .unwrap()
        .iter()
        .map(|t| {
            (
                t["path"].as_str().unwrap().to_string(),
                t["format"].as_str().unwrap().to_string(),
                t["latest_txid"].as_str().map(str::to_owned),
            )
        })
        .collect();
    assert_eq!(
        rows,
        vec![
            ("tenant-gamma".into(), "v0.3".into(), None),
            ("v05/tenant-alpha".into(), "v0.5".into(), Some("000000000000002f".into())),
            ("v05/tenant-beta".into(), "v0.5".into(), Some("0000000000000050".into())),
            ("v05/tenant-zeta".into(), "v0.5".into(), Some("0000000000000019".into())),
        ]
    );
    for t in found.as_array().unwrap() {
        assert!(t["objects"].as_u64().unwrap() > 10 && t["bytes"].as_u64().unwrap() > 10_000, "{t}");
        assert!(t["latest"].as_str().unwrap().starts_with("2026-11-24T"), "{t}");
    }
}

pub fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to.parent().unwrap()).unwrap();
    let status = std::process::Command::new("cp").arg("-a").arg(from).arg(to).status().unwrap();
    assert!(status.success(), "cp -a {} {}", from.display(), to.display());
}

#[test]
fn mixed_page_encodings_and_multi_level_replicas_restore_like_litestream_recorded() {
    // fx5old: written by v0.5.15 (one LZ4 frame per page) then v0.5.17 (size-prefixed blocks).
    let dir = extract(&fixtures().join("litestream/writer-replicas.tar.gz"));
    for fx in ["fx5old", "fx5f"] {
        let replica = dir.path().join(fx).join("replica");
        let log: Vec<Value> = std::fs::read_to_string(dir.path().join(fx).join("log.jsonl"))
            .unwrap()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        let out = dir.path().join(format!("{fx}.db"));
        restore_ok(&["restore", replica.to_str().unwrap(), "-o", out.to_str().unwrap(), "--no-progress"]);
        let conn = rusqlite::Connection::open_with_flags(
            format!("file:{}?immutable=1", out.display()),
            rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY | rusqlite::OpenFlags::SQLITE_OPEN_URI,
        )
        .unwrap();
        let rows: i64 = conn.query_row("SELECT count(*) FROM t", [], |r| r.get(0)).unwrap();
        assert_eq!(rows, log.last().unwrap()["rows"].as_i64().unwrap(), "{fx}");
        let verify = restore_ok(&["verify", replica.to_str().unwrap(), "--json"]);
        assert_eq!(stdout_json(&verify)["problems"].as_array().unwrap().len(), 0, "{fx}");
    }
}

/// Issue 11: tenant-beta's newest file is a snapshot (`9/0000000000000001-0000000000000050`,
/// 09:54:00.296) written after its last L0 file (09:53:59.038). Litestream v0.5.17 restores the
/// newest state for any time after the backup's newest file (`restore -config … DB`; the URL form
/// first checks the time against the listing and refuses); chronoscope restores the same bytes
/// and says where the backup ends. Times after the first file's match too, and one at or before
/// it is refused by both, naming a range that reaches the snapshot.
#[test]
fn a_time_after_the_newest_snapshot_restores_the_newest_state_like_litestream() {
    use chrono::{DateTime, SecondsFormat, TimeDelta, Utc};

    use crate::support::cli::{Same, same_restore};

    let (tmp, replica) = fleet_copy("v0.5/tenant-beta");
    let mtime =
        |rel: &str| -> DateTime<Utc> { std::fs::metadata(replica.join(rel)).unwrap().modified().unwrap().into() };
    let (first, last_l0, newest) = (
        mtime("ltx/0/0000000000000001-0000000000000001.ltx"),
        mtime("ltx/0/0000000000000050-0000000000000050.ltx"),
        mtime("ltx/9/0000000000000001-0000000000000050.ltx"),
    );
    assert!(first < last_l0 && last_l0 < newest, "{first} {last_l0} {newest}");
    let config = tmp.path().join("litestream.yml");
    let db = tmp.path().join("db/obelisk.sqlite");
    std::fs::write(
        &config,
        format!(
            "dbs:\n  - path: {}\n    replica:\n      type: file\n      path: {}\n",
            db.display(),
            replica.display()
        ),
    )
    .unwrap();
    let litestream = crate::support::tools::litestream_v5();
    let restore = |ts: DateTime<Utc>| -> (Same, String) {
        let ts = ts.to_rfc3339_opts(SecondsFormat::Millis, true);
        let ls = [
            "-config".to_string(),
            config.display().to_string(),
            "-timestamp".into(),
            ts.clone(),
            db.display().to_string(),
        ];
        let cs = [replica.display().to_string(), "--timestamp".into(), ts.clone()];
        (same_restore(&litestream, &ls, &cs, tmp.path(), &format!("beta at {ts}")), ts)
    };
    let latest = tmp.path().join("latest.db");
    restore_ok(&["restore", replica.to_str().unwrap(), "-o", latest.to_str().unwrap(), "--no-progress"]);
    let latest = std::fs::read(&latest).unwrap();

    let ms = TimeDelta::milliseconds(1);
    for t in [newest + ms, newest + TimeDelta::seconds(3), newest + TimeDelta::hours(1), newest + TimeDelta::days(1000)]
    {
        let (same, ts) = restore(t);
        let Same::Restored(theirs) = same else { panic!("beta at {ts}: {same:?}") };
        assert!(std::fs::read(&theirs).unwrap() == latest, "beta at {ts}: not the newest state");
        std::fs::remove_file(&theirs).unwrap();
        // chronoscope says where the backup ends.
        let out = tmp.path().join("note.db");
        let o = restore_ok(&["restore", replica.to_str().unwrap(), "--timestamp", &ts, "-o", out.to_str().unwrap()]);
        let stderr = String::from_utf8_lossy(&o.stderr);
        assert!(
            stderr.contains(&format!(
                "note: {ts} is after the newest file of the backup (2026-11-24T09:54:00.296Z): the backup ends at TXID 0000000000000050"
            )),
            "{}",
            describe(&o)
        );
        std::fs::remove_file(&out).unwrap();
    }
    for t in [first + ms, last_l0 - ms, last_l0, last_l0 + ms, last_l0 + (newest - last_l0) / 2, newest] {
        let (same, ts) = restore(t);
        let Same::Restored(theirs) = same else { panic!("beta at {ts}: {same:?}") };
        std::fs::remove_file(&theirs).unwrap();
    }
    for t in [first, first - TimeDelta::seconds(3)] {
        let (same, ts) = restore(t);
        assert!(matches!(same, Same::Failed), "beta at {ts}: {same:?}");
        let out = tmp.path().join("early.db");
        let o = chronoscope(["restore", replica.to_str().unwrap(), "--timestamp", &ts, "-o", out.to_str().unwrap()]);
        assert_cli_error(&o, &out, &["outside the restorable range", "and up to 2026-11-24T09:54:00.296Z"]);
    }
}
