//! Litestream v0.5.17 replicates a fresh database (file replica, then moto S3) while the
//! workload writer runs; chronoscope must restore exactly what `litestream restore` restores
//! (latest, TXIDs, timestamps), byte for byte, and plan the same files as `restore -dry-run -json`.

use std::fmt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use chrono::{DateTime, SecondsFormat, TimeDelta, Utc};

use crate::support::cli::{self, assert_same_restore};
use crate::support::moto::{self, Moto};
use crate::support::tools;
use crate::support::writer::{self, Replicator, Writer};

const STEPS: usize = 30;
const BUCKET: &str = "interop5";

fn config(db: &Path, replica_yaml: &str) -> String {
    format!(
        "levels:
  - interval: 2s
  - interval: 6s
snapshot:
  interval: 10s
  retention: 1h
l0-retention: 1h
dbs:
  - path: {}
    min-checkpoint-page-count: 10
    checkpoint-interval: 1s
    replica:
{replica_yaml}",
        db.display()
    )
}

/// A replica written by Litestream v0.5.17 while the writer ran its steps.
struct Run {
    dir: tempfile::TempDir,
    writer: Writer,
    config: PathBuf,
}

fn replicate(dir: tempfile::TempDir, replica_yaml: &str, first_ltx: impl FnMut() -> bool) -> Run {
    let db = dir.path().join("db.sqlite");
    let mut writer = Writer::create(&db);
    let config_path = dir.path().join("litestream.yml");
    std::fs::write(&config_path, config(&db, replica_yaml)).expect("write config");
    let mut ls = Replicator::start(&tools::litestream_v5(), &config_path, &dir.path().join("litestream.log"));
    ls.wait_until("first LTX file", Duration::from_secs(60), first_ltx);
    writer.run(STEPS);
    ls.stop();
    Run { dir, writer, config: config_path }
}

#[derive(Clone, Copy, Debug)]
enum Point {
    Latest,
    Txid(u64),
    Timestamp(DateTime<Utc>),
}

impl fmt::Display for Point {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Point::Latest => write!(f, "latest"),
            Point::Txid(t) => write!(f, "txid {t:016x}"),
            Point::Timestamp(ts) => write!(f, "timestamp {}", rfc3339(*ts)),
        }
    }
}

impl Point {
    /// (litestream flags, chronoscope flags)
    fn flags(&self) -> (Vec<String>, Vec<String>) {
        let (name, value) = match self {
            Point::Latest => return (vec![], vec![]),
            Point::Txid(t) => ("txid", format!("{t:016x}")),
            Point::Timestamp(ts) => ("timestamp", rfc3339(*ts)),
        };
        (vec![format!("-{name}"), value.clone()], vec![format!("--{name}"), value])
    }

    /// Contents of `t` that a restore to this point may legitimately have.
    fn allowed_hashes(&self, w: &Writer) -> Vec<u64> {
        match self {
            Point::Latest => vec![w.last().hash],
            Point::Txid(_) => w.all_hashes(),
            // Files strictly before ts only hold commits made before ts (slack: clock reads).
            Point::Timestamp(ts) => w.hashes_before(*ts + TimeDelta::milliseconds(50)),
        }
    }
}

fn rfc3339(ts: DateTime<Utc>) -> String {
    ts.to_rfc3339_opts(SecondsFormat::Millis, true)
}

/// How each tool addresses the replica.
struct Replica {
    /// Litestream's positional target for latest/TXID restores (a replica URL).
    litestream: Vec<String>,
    /// … for timestamp restores (S3: `-config CFG DB`, which takes times from the
    /// `litestream-timestamp` metadata instead of checking them against 1 s `LastModified`s).
    litestream_ts: Vec<String>,
    /// chronoscope's `REPLICA [--endpoint …]`.
    chronoscope: Vec<String>,
}

/// Dry-run plans and restores of every point must agree. Returns how many restores succeeded.
fn check_points(run: &Run, replica: &Replica, points: &[Point]) -> usize {
    let v5 = tools::litestream_v5();
    let out_dir = run.dir.path().join("restores");
    std::fs::create_dir_all(&out_dir).expect("mkdir");
    let mut succeeded = 0;
    for (n, point) in points.iter().enumerate() {
        let label = format!("{n:03} {point}");
        let (ls_flags, cs_flags) = point.flags();
        let target = match point {
            Point::Timestamp(_) => &replica.litestream_ts,
            _ => &replica.litestream,
        };
        let ls_args: Vec<String> = ls_flags.iter().chain(target).cloned().collect();
        let cs_args: Vec<String> = replica.chronoscope.iter().chain(&cs_flags).cloned().collect();

        check_plan(&v5, &ls_args, &cs_args, &out_dir, &label);
        if let Some(restored) = assert_same_restore(&v5, &ls_args, &cs_args, &out_dir, &label) {
            let (rows, hash) = writer::content(&restored);
            assert!(
                point.allowed_hashes(&run.writer).contains(&hash),
                "[{label}] restored table t ({rows} rows) is not a state the writer committed at that point"
            );
            std::fs::remove_file(&restored).expect("rm");
            succeeded += 1;
        }
    }
    eprintln!("{}: {} points, {succeeded} restores matched", run.dir.path().display(), points.len());
    succeeded
}

/// `litestream restore -dry-run -json` vs `chronoscope restore --dry-run --json`: same outcome,
/// same files (level, min, max, size), and neither writes the output.
fn check_plan(v5: &Path, ls_args: &[String], cs_args: &[String], out_dir: &Path, label: &str) {
    let (a, b) = (out_dir.join("plan-litestream.db"), out_dir.join("plan-chronoscope.db"));
    let (a_path, b_path) = (a.display().to_string(), b.display().to_string());
    let (ls_args, cs_args): (Vec<&str>, Vec<&str>) =
        (ls_args.iter().map(String::as_str).collect(), cs_args.iter().map(String::as_str).collect());
    let ls = cli::litestream(v5, [&["restore", "-dry-run", "-json", "-o", &a_path][..], &ls_args].concat());
    let cs = cli::chronoscope(
        [&["restore"][..], &cs_args, &["-o", &b_path, "--dry-run", "--json", "--no-progress"]].concat(),
    );
    assert_eq!(
        cs.status.success(),
        ls.status.success(),
        "[{label}] dry-run outcome differs\n  litestream: {}\n  chronoscope: {}",
        cli::describe(&ls),
        cli::describe(&cs)
    );
    assert!(!a.exists() && !b.exists(), "[{label}] a dry run wrote its output file");
    if !ls.status.success() {
        cli::assert_cli_error(&cs, &b, &[]);
        return;
    }
    let (lp, cp) = (cli::stdout_json(&ls), cli::stdout_json(&cs));
    assert_eq!(cp["format"], "v0.5", "[{label}] chronoscope plan: {cp}");
    assert_eq!(plan_files(&cp), plan_files(&lp), "[{label}] plans differ");
}

/// (level, min_txid, max_txid, size) of every file of a plan, in plan order.
fn plan_files(plan: &serde_json::Value) -> Vec<(u64, String, String, u64)> {
    let files = plan["files"].as_array().unwrap_or_else(|| panic!("plan without files: {plan}"));
    assert!(!files.is_empty(), "empty plan: {plan}");
    files
        .iter()
        .map(|f| {
            let s = |k: &str| f[k].as_str().unwrap_or_else(|| panic!("{k} in {f}")).to_string();
            let n = |k: &str| f[k].as_u64().unwrap_or_else(|| panic!("{k} in {f}"));
            (n("level"), s("min_txid"), s("max_txid"), n("size"))
        })
        .collect()
}

/// TXIDs of the level-0 files (`%016x-%016x.ltx`, min = max) with their timestamps.
fn parse_l0(names_and_times: impl IntoIterator<Item = (String, DateTime<Utc>)>) -> Vec<(u64, DateTime<Utc>)> {
    let mut out: Vec<(u64, DateTime<Utc>)> = names_and_times
        .into_iter()
        .map(|(name, t)| {
            let (min, max) = name.strip_suffix(".ltx").and_then(|s| s.split_once('-')).expect("LTX name");
            assert_eq!(min, max, "L0 file {name}");
            (u64::from_str_radix(min, 16).expect("hex TXID"), t)
        })
        .collect();
    out.sort();
    out
}

/// Latest; every TXID, and one past the last; every writer step time + 3 ms; and every L0
/// timestamp exactly (excluded: files are taken strictly before), 1 ms before and after it, and
/// halfway to the next, so a boundary bug fails every run.
fn points(run: &Run, l0: &[(u64, DateTime<Utc>)]) -> Vec<Point> {
    let max = l0.last().expect("L0 files").0;
    let mut p = vec![Point::Latest];
    p.extend((1..=max + 1).map(Point::Txid));
    p.extend(run.writer.steps.iter().map(|s| Point::Timestamp(s.time + TimeDelta::milliseconds(3))));
    let mut times: Vec<DateTime<Utc>> = l0.iter().map(|(_, t)| *t).collect();
    times.sort();
    times.dedup();
    let last_time = *times.last().expect("L0");
    let ms = TimeDelta::milliseconds(1);
    let mut at: Vec<DateTime<Utc>> = times.iter().flat_map(|&t| [t - ms, t, t + ms]).collect();
    at.extend(times.windows(2).map(|w| w[0] + (w[1] - w[0]) / 2));
    at.sort();
    at.dedup();
    // A restore URL rejects times after the newest file ("timestamp does not exist").
    p.extend(at.into_iter().filter(|t| *t <= last_time).map(Point::Timestamp));
    p
}

fn assert_replica_is_rich(l0: &[(u64, DateTime<Utc>)], levels: &[u32]) {
    assert!(l0.len() >= 20, "only {} L0 files: the workload did not produce enough syncs", l0.len());
    for want in [1, 2, 9] {
        assert!(levels.contains(&want), "no level {want} files (levels {levels:?})");
    }
}

#[test]
fn v5_file_replica_restores_match_litestream() {
    let dir = tempfile::tempdir().expect("tmp");
    let replica = dir.path().join("replica");
    let l0_dir = replica.join("ltx/0");
    let yaml = format!("      type: file\n      path: {}\n      sync-interval: 250ms\n", replica.display());
    let run = replicate(dir, &yaml, || l0_dir.join("0000000000000001-0000000000000001.ltx").exists());

    // The file replica's restore-point time is the mtime (= LTX header timestamp, ms).
    let l0 = parse_l0(std::fs::read_dir(&l0_dir).expect("ltx/0").map(|e| {
        let e = e.expect("entry");
        let mtime: DateTime<Utc> = e.metadata().and_then(|m| m.modified()).expect("mtime").into();
        (e.file_name().to_string_lossy().into_owned(), mtime)
    }));
    let levels: Vec<u32> = std::fs::read_dir(replica.join("ltx"))
        .expect("ltx")
        .map(|e| e.expect("entry").file_name().to_string_lossy().parse().expect("level dir"))
        .collect();
    assert_replica_is_rich(&l0, &levels);

    let url = format!("file://{}", replica.display());
    let r = Replica {
        litestream: vec![url.clone()],
        litestream_ts: vec![url],
        chronoscope: vec![replica.display().to_string()],
    };
    let points = points(&run, &l0);
    let ok = check_points(&run, &r, &points);
    assert!(ok >= l0.len() / 3 + 20, "only {ok} of {} restores succeeded", points.len());

    // The `file://` form of the replica argument restores the same bytes.
    let (ls, cs) = (vec![format!("file://{}", replica.display())], vec![format!("file://{}", replica.display())]);
    let restored = assert_same_restore(&tools::litestream_v5(), &ls, &cs, run.dir.path(), "file url latest")
        .expect("latest restore succeeds");
    assert_eq!(writer::content(&restored).1, run.writer.last().hash);
}

#[test]
fn v5_s3_replica_restores_match_litestream() {
    let moto = Moto::start();
    moto.create_bucket(BUCKET);
    let dir = tempfile::tempdir().expect("tmp");
    let yaml = format!(
        "      type: s3\n      bucket: {BUCKET}\n      path: db\n      endpoint: {}\n      region: us-east-1\n      force-path-style: true\n      sync-interval: 250ms\n",
        moto.endpoint
    );
    let run = replicate(dir, &yaml, || !moto.list(BUCKET, "db/0000/").is_empty());

    // S3 restore-point time = the `litestream-timestamp` metadata (ms); LastModified has 1 s.
    let objects = moto.list(BUCKET, "db/");
    let l0 = parse_l0(objects.iter().filter_map(|o| o.key.strip_prefix("db/0000/")).map(|name| {
        let meta = moto.metadata(BUCKET, &format!("db/0000/{name}"));
        let ts =
            meta.get("litestream-timestamp").unwrap_or_else(|| panic!("no litestream-timestamp on {name}: {meta:?}"));
        (name.to_string(), DateTime::parse_from_rfc3339(ts).expect("RFC3339").with_timezone(&Utc))
    }));
    let mut levels: Vec<u32> = objects
        .iter()
        .map(|o| u32::from_str_radix(o.key.split('/').nth(1).expect("db/<level>/…"), 16).expect("%04x level"))
        .collect();
    levels.dedup();
    assert_replica_is_rich(&l0, &levels);

    let url = format!("s3://{BUCKET}/db?endpoint={}&region={}&forcePathStyle=true", moto.endpoint, moto::REGION);
    let chronoscope_s3 = |replica: &str| -> Vec<String> {
        [replica, "--endpoint", &moto.endpoint, "--region", moto::REGION, "--force-path-style"]
            .map(String::from)
            .to_vec()
    };
    let r = Replica {
        litestream: vec![url.clone()],
        litestream_ts: vec!["-config".into(), run.config.display().to_string(), run.writer.path.display().to_string()],
        chronoscope: chronoscope_s3(&format!("s3://{BUCKET}/db")),
    };
    let points = points(&run, &l0);
    let ok = check_points(&run, &r, &points);
    assert!(ok >= l0.len() / 3 + 20, "only {ok} of {} restores succeeded", points.len());

    // Credentials from LITESTREAM_ACCESS_KEY_ID / LITESTREAM_SECRET_ACCESS_KEY only.
    let out = run.dir.path().join("litestream-env-creds.db");
    let o = cli::chronoscope_cmd()
        .env_remove("AWS_ACCESS_KEY_ID")
        .env_remove("AWS_SECRET_ACCESS_KEY")
        .env("LITESTREAM_ACCESS_KEY_ID", moto::ACCESS_KEY)
        .env("LITESTREAM_SECRET_ACCESS_KEY", moto::SECRET_KEY)
        .arg("restore")
        .args(chronoscope_s3(&format!("s3://{BUCKET}/db")))
        .arg("-o")
        .arg(&out)
        .arg("--no-progress")
        .output()
        .expect("run chronoscope");
    assert!(o.status.success(), "restore with LITESTREAM_* credentials: {}", cli::describe(&o));
    let reference = run.dir.path().join("litestream-env-creds-reference.db");
    let l = cli::litestream_cmd(&tools::litestream_v5())
        .env_remove("AWS_ACCESS_KEY_ID")
        .env_remove("AWS_SECRET_ACCESS_KEY")
        .env("LITESTREAM_ACCESS_KEY_ID", moto::ACCESS_KEY)
        .env("LITESTREAM_SECRET_ACCESS_KEY", moto::SECRET_KEY)
        .args(["restore", "-o"])
        .arg(&reference)
        .arg(&url)
        .output()
        .expect("run litestream");
    assert!(l.status.success(), "litestream with LITESTREAM_* credentials: {}", cli::describe(&l));
    assert!(
        std::fs::read(&out).unwrap() == std::fs::read(&reference).unwrap(),
        "LITESTREAM_* credential restore differs"
    );
    assert_eq!(writer::content(&out).1, run.writer.last().hash);
}
