//! Litestream v0.3.13 replicates a fresh database (file replica, then moto S3) over two
//! generations (stop, TRUNCATE checkpoint behind its back, restart) while the workload writer
//! runs; chronoscope must restore what `litestream restore` restores (latest,
//! `-generation G [-index HEX]`, timestamps), byte for byte.

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;

use chrono::{DateTime, SecondsFormat, TimeDelta, Utc};

use crate::support::cli::{self, assert_same_restore};
use crate::support::moto::{self, Moto};
use crate::support::tools;
use crate::support::writer::{self, Replicator, Writer};

const BUCKET: &str = "interop3";

/// One object of a v0.3 replica: `generations/<G>/snapshots/<IDX>.snapshot.lz4` or
/// `generations/<G>/wal/<IDX>_<OFF>.wal.lz4`, with its restore-point time (mtime / LastModified).
#[derive(Debug, Clone)]
struct Object {
    generation: String,
    snapshot: bool,
    index: u32,
    time: DateTime<Utc>,
}

/// Parses the part of a key after `generations/`.
fn parse(rel: &str, time: DateTime<Utc>) -> Option<Object> {
    let mut parts = rel.split('/');
    let (generation, kind, name) = (parts.next()?, parts.next()?, parts.next()?);
    let snapshot = match kind {
        "snapshots" => true,
        "wal" => false,
        _ => return None,
    };
    let index = name.split(['.', '_']).next()?;
    Some(Object { generation: generation.to_string(), snapshot, index: u32::from_str_radix(index, 16).ok()?, time })
}

fn generations(objects: &[Object]) -> BTreeMap<String, Vec<Object>> {
    let mut g: BTreeMap<String, Vec<Object>> = BTreeMap::new();
    for o in objects {
        g.entry(o.generation.clone()).or_default().push(o.clone());
    }
    g
}

fn config(db: &Path, replica_yaml: &str) -> String {
    format!(
        "dbs:
  - path: {}
    min-checkpoint-page-count: 10
    checkpoint-interval: 1s
    replicas:
{replica_yaml}",
        db.display()
    )
}

/// Two generations: steps with Litestream running, then it is stopped, the writer commits and
/// truncates the WAL behind its back, and Litestream (restarted) starts generation 2.
fn replicate(dir: &Path, replica_yaml: &str, list: &dyn Fn() -> Vec<Object>) -> Writer {
    let db = dir.join("db.sqlite");
    let mut w = Writer::create(&db);
    let cfg = dir.join("litestream.yml");
    std::fs::write(&cfg, config(&db, replica_yaml)).expect("write config");
    let (v3, log) = (tools::litestream_v3(), dir.join("litestream.log"));
    let snapshots_in =
        |n: usize| move || generations(&list()).values().filter(|g| g.iter().any(|o| o.snapshot)).count() >= n;

    let mut ls = Replicator::start(&v3, &cfg, &log);
    ls.wait_until("first snapshot", Duration::from_secs(60), snapshots_in(1));
    w.run(14);
    ls.stop();

    w.step();
    w.checkpoint_truncate();

    let mut ls = Replicator::start(&v3, &cfg, &log);
    ls.wait_until("second generation", Duration::from_secs(60), snapshots_in(2));
    w.run(12);
    ls.stop();
    w
}

#[derive(Clone, Debug)]
enum Point {
    Latest,
    Generation(String, Option<u32>),
    /// With the generation it falls into.
    Timestamp(DateTime<Utc>, Option<String>),
}

impl Point {
    /// (litestream flags, chronoscope flags, label)
    fn flags(&self) -> (Vec<String>, Vec<String>, String) {
        match self {
            Point::Latest => (vec![], vec![], "latest".into()),
            Point::Generation(g, None) => {
                (vec!["-generation".into(), g.clone()], vec!["--generation".into(), g.clone()], format!("gen {g}"))
            }
            Point::Generation(g, Some(i)) => {
                let i = format!("{i:08x}");
                (
                    vec!["-generation".into(), g.clone(), "-index".into(), i.clone()],
                    vec!["--generation".into(), g.clone(), "--index".into(), i.clone()],
                    format!("gen {g} index {i}"),
                )
            }
            Point::Timestamp(ts, _) => {
                // To the nanosecond: object times (file mtimes) are that precise.
                let ts = ts.to_rfc3339_opts(SecondsFormat::AutoSi, true);
                (vec!["-timestamp".into(), ts.clone()], vec!["--timestamp".into(), ts.clone()], format!("ts {ts}"))
            }
        }
    }
}

/// Latest; each generation alone and at each of its WAL indexes; and every restore-point time of
/// a generation's objects exactly, 1 ms before and after it, and halfway to the next (so a
/// boundary bug fails every run, whatever the comparison: `<` or `<=`), and one before everything.
fn points(objects: &[Object]) -> Vec<Point> {
    let gens = generations(objects);
    assert!(gens.len() >= 2, "expected 2 generations, got {:?}", gens.keys());
    let mut p = vec![Point::Latest];
    for (g, objs) in &gens {
        p.push(Point::Generation(g.clone(), None));
        let mut indexes: Vec<u32> = objs.iter().filter(|o| !o.snapshot).map(|o| o.index).collect();
        indexes.sort();
        indexes.dedup();
        assert!(indexes.len() >= 3, "generation {g} has only WAL indexes {indexes:?}");
        p.extend(indexes.into_iter().map(|i| Point::Generation(g.clone(), Some(i))));

        let mut times: Vec<DateTime<Utc>> = objs.iter().map(|o| o.time).collect();
        times.sort();
        times.dedup();
        assert!(times.len() >= 4, "generation {g}: too few distinct object times {times:?}");
        let ms = TimeDelta::milliseconds(1);
        let mut at: Vec<DateTime<Utc>> = times.iter().flat_map(|&t| [t - ms, t, t + ms]).collect();
        at.extend(times.windows(2).map(|w| w[0] + (w[1] - w[0]) / 2));
        at.sort();
        at.dedup();
        p.extend(at.into_iter().map(|ts| Point::Timestamp(ts, Some(g.clone()))));
    }
    let first = objects.iter().map(|o| o.time).min().expect("objects");
    p.push(Point::Timestamp(first - TimeDelta::seconds(5), None));
    p
}

/// Restores every point with both tools; content must be a state the writer committed (before
/// the timestamp, up to the time resolution). Returns how many restores succeeded.
fn check_points(
    w: &Writer,
    out_dir: &Path,
    litestream_target: &[String],
    chronoscope_target: &[String],
    points: &[Point],
    resolution: TimeDelta,
    latest_generation: &str,
) -> usize {
    let v3 = tools::litestream_v3();
    let mut ok = 0;
    for (n, point) in points.iter().enumerate() {
        let (ls_flags, cs_flags, what) = point.flags();
        let label = format!("{n:03} {what}");
        let ls_args: Vec<String> = ls_flags.into_iter().chain(litestream_target.iter().cloned()).collect();
        let cs_args: Vec<String> = chronoscope_target.iter().cloned().chain(cs_flags).collect();
        let restored = assert_same_restore(&v3, &ls_args, &cs_args, out_dir, &label);
        check_plan(&cs_args, point, restored.is_some(), latest_generation, out_dir, &label);
        let Some(restored) = restored else { continue };
        let (rows, hash) = writer::content(&restored);
        let allowed = match point {
            Point::Latest => vec![w.last().hash],
            Point::Timestamp(ts, _) => w.hashes_before(*ts + resolution + TimeDelta::milliseconds(50)),
            Point::Generation(..) => w.all_hashes(),
        };
        assert!(
            allowed.contains(&hash),
            "[{label}] restored table t ({rows} rows) is not a state the writer committed then"
        );
        std::fs::remove_file(&restored).expect("rm");
        ok += 1;
    }
    eprintln!("{}: {} points, {ok} restores matched", out_dir.display(), points.len());
    ok
}

/// chronoscope's v0.3 dry-run plan succeeds exactly when the restore does and names the
/// generation the restore must use.
fn check_plan(
    cs_args: &[String],
    point: &Point,
    restorable: bool,
    latest_generation: &str,
    out_dir: &Path,
    label: &str,
) {
    let want = match point {
        Point::Latest => Some(latest_generation),
        Point::Generation(g, _) => Some(g.as_str()),
        Point::Timestamp(_, g) => g.as_deref(),
    };
    let out = out_dir.join("plan.db");
    let out_path = out.display().to_string();
    let cs_args: Vec<&str> = cs_args.iter().map(String::as_str).collect();
    let o = cli::chronoscope(
        [&["restore"][..], &cs_args, &["-o", &out_path, "--dry-run", "--json", "--no-progress"]].concat(),
    );
    if !restorable {
        // A dry run only plans: a restore refused at verification (a torn v0.3 time cut) plans.
        if !o.status.success() {
            cli::assert_cli_error(&o, &out, &[]);
        }
        return;
    }
    let plan = cli::stdout_json(&o);
    assert_eq!(plan["format"], "v0.3", "[{label}] {plan}");
    assert_eq!(plan["generation"].as_str(), want, "[{label}] {plan}");
    assert!(!out.exists(), "[{label}] dry run wrote {}", out.display());
}

/// The generation v0.3.13 restores by default: the one with the newest object.
fn latest_generation(objects: &[Object]) -> String {
    objects.iter().max_by_key(|o| o.time).expect("objects").generation.clone()
}

fn mtime(p: &Path) -> DateTime<Utc> {
    std::fs::metadata(p).and_then(|m| m.modified()).expect("mtime").into()
}

/// The objects of a v0.3 file replica, with their mtimes.
fn list_file_replica(replica: &Path) -> Vec<Object> {
    let mut out = Vec::new();
    for g in std::fs::read_dir(replica.join("generations")).into_iter().flatten().flatten() {
        for kind in ["snapshots", "wal"] {
            for f in std::fs::read_dir(g.path().join(kind)).into_iter().flatten().flatten() {
                let rel = format!("{}/{kind}/{}", g.file_name().to_string_lossy(), f.file_name().to_string_lossy());
                out.extend(parse(&rel, mtime(&f.path())));
            }
        }
    }
    out
}

#[test]
fn v3_file_replica_restores_match_litestream() {
    let dir = tempfile::tempdir().expect("tmp");
    let replica = dir.path().join("replica");
    let list = || list_file_replica(&replica);
    let yaml = format!(
        "      - name: file\n        type: file\n        path: {}\n        sync-interval: 250ms\n        snapshot-interval: 3s\n",
        replica.display()
    );
    let w = replicate(dir.path(), &yaml, &list);

    let objects = list();
    let resolution = TimeDelta::zero(); // mtimes
    let points = points(&objects);
    let out_dir = dir.path().join("restores");
    std::fs::create_dir_all(&out_dir).expect("mkdir");
    let url = format!("file://{}", replica.display());
    let ok = check_points(
        &w,
        &out_dir,
        &[url],
        &[replica.display().to_string()],
        &points,
        resolution,
        &latest_generation(&objects),
    );
    assert!(ok * 10 >= points.len() * 8, "only {ok} of {} restores succeeded", points.len());
}

#[test]
fn v3_s3_replica_restores_match_litestream() {
    let moto = Moto::start();
    moto.create_bucket(BUCKET);
    let dir = tempfile::tempdir().expect("tmp");
    let list = || -> Vec<Object> {
        moto.list(BUCKET, "db/generations/")
            .into_iter()
            .filter_map(|o| parse(o.key.strip_prefix("db/generations/")?, o.last_modified))
            .collect()
    };
    let yaml = format!(
        "      - name: s3\n        type: s3\n        bucket: {BUCKET}\n        path: db\n        endpoint: {}\n        region: us-east-1\n        force-path-style: true\n        sync-interval: 250ms\n        snapshot-interval: 3s\n",
        moto.endpoint
    );
    let w = replicate(dir.path(), &yaml, &list);

    let objects = list();
    let resolution = TimeDelta::seconds(1); // LastModified
    let points = points(&objects);
    let out_dir = dir.path().join("restores");
    std::fs::create_dir_all(&out_dir).expect("mkdir");
    let cfg = dir.path().join("litestream.yml");
    let litestream_target = ["-config".into(), cfg.display().to_string(), w.path.display().to_string()];
    let chronoscope_target = [
        format!("s3://{BUCKET}/db"),
        "--endpoint".into(),
        moto.endpoint.clone(),
        "--region".into(),
        moto::REGION.into(),
        "--force-path-style".into(),
    ];
    let ok = check_points(
        &w,
        &out_dir,
        &litestream_target,
        &chronoscope_target,
        &points,
        resolution,
        &latest_generation(&objects),
    );
    assert!(ok * 10 >= points.len() * 8, "only {ok} of {} restores succeeded", points.len());

    // Litestream's own URL form for a loopback S3 (`BUCKET.localhost:PORT`) gives the same bytes.
    let url = format!("s3://{BUCKET}.localhost:{}/db", moto.port);
    let restored = assert_same_restore(&tools::litestream_v3(), &[url], &chronoscope_target, &out_dir, "url latest")
        .expect("latest restore succeeds");
    assert_eq!(writer::content(&restored).1, w.last().hash);
}

/// Litestream v0.3.13 encrypts the replica with age (identities and recipients in its config);
/// chronoscope restores it from the same `litestream.yml` (`--config`, identities read from it)
/// and from the folder with `--age-identity FILE`, like `litestream restore` does.
#[test]
fn v3_age_encrypted_replica_restores_match_litestream() {
    use age::secrecy::ExposeSecret;

    let dir = tempfile::tempdir().expect("tmp");
    let replica = dir.path().join("replica");
    let identity = age::x25519::Identity::generate();
    let secret = identity.to_string().expose_secret().to_string();
    let recipient = identity.to_public().to_string();
    let identity_file = dir.path().join("age-identity.txt");
    std::fs::write(&identity_file, format!("# test key\n{secret}\n")).expect("write identity");
    let list = || list_file_replica(&replica);
    let yaml = format!(
        "      - name: file\n        type: file\n        path: {}\n        sync-interval: 250ms\n        snapshot-interval: 3s\n        age:\n          identities:\n            - {secret}\n          recipients:\n            - {recipient}\n",
        replica.display()
    );
    let w = replicate(dir.path(), &yaml, &list);

    // The objects really are age files (not LZ4 frames).
    let objects = list();
    let some_snapshot = std::fs::read_dir(replica.join("generations"))
        .expect("generations")
        .flatten()
        .flat_map(|g| std::fs::read_dir(g.path().join("snapshots")).into_iter().flatten().flatten())
        .next()
        .expect("a snapshot");
    let head = std::fs::read(some_snapshot.path()).expect("read snapshot");
    assert!(head.starts_with(b"age-encryption.org/v1"), "{} is not an age file", some_snapshot.path().display());

    let resolution = TimeDelta::zero(); // mtimes
    let points = points(&objects);
    let cfg = dir.path().join("litestream.yml");
    let db = w.path.display().to_string();
    let litestream_target = ["-config".to_string(), cfg.display().to_string(), db.clone()];
    for (name, chronoscope_target) in [
        ("config", vec!["--config".to_string(), cfg.display().to_string(), db.clone()]),
        (
            "identity-file",
            vec![replica.display().to_string(), "--age-identity".into(), identity_file.display().to_string()],
        ),
    ] {
        let out_dir = dir.path().join(format!("restores-{name}"));
        std::fs::create_dir_all(&out_dir).expect("mkdir");
        let ok = check_points(
            &w,
            &out_dir,
            &litestream_target,
            &chronoscope_target,
            &points,
            resolution,
            &latest_generation(&objects),
        );
        assert!(ok * 10 >= points.len() * 8, "{name}: only {ok} of {} restores succeeded", points.len());
    }
    // Without the identity, the replica cannot be read, and the error says why.
    let out = dir.path().join("no-key.sqlite");
    let o = cli::chronoscope([
        "restore",
        &replica.display().to_string(),
        "-o",
        &out.display().to_string(),
        "--no-progress",
    ]);
    cli::assert_cli_error(&o, &out, &["age"]);
}

/// The replica of `tests/fixtures/litestream/v3-torn-snapshot.tar.gz` (recorded with Litestream
/// v0.3.13, `sync-interval: 2s`, `snapshot-interval: 1s`, a reader holding checkpoints back):
/// snapshot 00000002 was uploaded at 05:54:35.036734784, before the segments of WAL index 1 and 2
/// it was taken after (35.040734784 and 35.044594339). Its objects get their storage times back
/// from `objects.json` (exact to the nanosecond), whatever `tar` kept.
fn torn_snapshot_replica() -> (tempfile::TempDir, std::path::PathBuf, Vec<(DateTime<Utc>, u64)>) {
    use crate::restore_fixtures::fixtures;
    use crate::support::fixtures::extract;

    let dir = extract(&fixtures().join("litestream/v3-torn-snapshot.tar.gz"));
    let root = dir.path().join("v3-torn-snapshot");
    let replica = root.join("replica");
    let manifest: serde_json::Map<String, serde_json::Value> =
        serde_json::from_slice(&std::fs::read(root.join("objects.json")).expect("read objects.json"))
            .expect("parse objects.json");
    for (key, info) in &manifest {
        let path = replica.join(key);
        let time = DateTime::parse_from_rfc3339(info["modified"].as_str().expect("modified")).expect("time").to_utc();
        let file = std::fs::File::options().write(true).open(&path).unwrap_or_else(|e| panic!("{key}: {e}"));
        file.set_modified(time.into()).expect("set mtime");
        assert_eq!(Some(file.metadata().expect("metadata").len()), info["size"].as_u64(), "size of {key}");
        assert_eq!(mtime(&path), time, "mtime of {key}");
    }
    assert_eq!(list_file_replica(&replica).len(), manifest.len(), "objects.json lists every object");
    // The writer's commits (`step, time after the commit, rows, hash`), after an empty table.
    let steps = std::fs::read_to_string(root.join("steps.tsv")).expect("read steps.tsv");
    let mut committed = vec![(DateTime::<Utc>::MIN_UTC, 0xcbf2_9ce4_8422_2325)];
    for line in steps.lines().filter(|l| !l.trim().is_empty()) {
        let f: Vec<&str> = line.split('\t').collect();
        let time = DateTime::parse_from_rfc3339(f[1]).expect("step time").to_utc();
        committed.push((time, f[3].parse().expect("step hash")));
    }
    (dir, replica, committed)
}

/// Issue 11, deterministically: at every object time t of the recorded generation, t ± 1 ms and
/// halfway between consecutive times, Litestream v0.3.13 and chronoscope restore the same bytes,
/// or both fail (before the first snapshot, after the last object), except between snapshot
/// 00000002's upload and its WAL's, where Litestream writes a malformed database and exits 0 and
/// chronoscope refuses with a verification error that says why (its plan's `cut_short`). Every
/// `-index` of the generation restores the same bytes too, each a state the writer committed.
#[test]
fn v3_recorded_snapshot_ahead_of_its_wal_restores_match_litestream() {
    use chronoscope::litestream::v3::{V3Target, catalog_from_listing, plan};
    use chronoscope::storage::{LocalStore, ReplicaStore};

    use crate::support::cli::{Same, same_restore};

    let started = std::time::Instant::now();
    let (dir, replica, committed) = torn_snapshot_replica();
    let objects = list_file_replica(&replica);
    let gens = generations(&objects);
    let (generation, objs) = gens.first_key_value().expect("a generation");
    assert_eq!(gens.len(), 1, "{:?}", gens.keys());
    let catalog = catalog_from_listing(&LocalStore::new(&replica).list("").expect("list")).expect("catalog");
    let out_dir = dir.path().join("restores");
    std::fs::create_dir_all(&out_dir).expect("mkdir");
    let (v3, url, folder) =
        (tools::litestream_v3(), format!("file://{}", replica.display()), replica.display().to_string());
    let committed_by = |t: DateTime<Utc>| -> Vec<u64> {
        committed.iter().filter(|(c, _)| *c <= t + TimeDelta::milliseconds(50)).map(|(_, h)| *h).collect()
    };
    let check_content = |restored: &Path, allowed: &[u64], label: &str| {
        let (rows, hash) = writer::content(restored);
        assert!(
            allowed.contains(&hash),
            "[{label}] restored table t ({rows} rows) is not a state the writer committed"
        );
        std::fs::remove_file(restored).expect("rm");
    };

    let mut times: Vec<DateTime<Utc>> = objs.iter().map(|o| o.time).collect();
    times.sort();
    times.dedup();
    let (first, last) = (times[0], times[times.len() - 1]);
    let ms = TimeDelta::milliseconds(1);
    let mut points: Vec<DateTime<Utc>> = times.iter().flat_map(|t| [*t - ms, *t, *t + ms]).collect();
    points.extend(times.windows(2).map(|w| w[0] + (w[1] - w[0]) / 2));
    points.sort();
    points.dedup();

    let (mut restored, mut failed, mut torn) = (0, 0, Vec::new());
    for t in &points {
        let ts = t.to_rfc3339_opts(SecondsFormat::Nanos, true);
        let label = format!("ts {ts}");
        let ls_args = vec!["-timestamp".to_string(), ts.clone(), url.clone()];
        let cs_args = vec![folder.clone(), "--timestamp".to_string(), ts.clone()];
        match same_restore(&v3, &ls_args, &cs_args, &out_dir, &label) {
            Same::Restored(a) => {
                check_content(&a, &committed_by(*t), &label);
                restored += 1;
            }
            Same::Failed => {
                assert!(*t < first || *t > last, "[{label}] both fail inside the generation [{first} .. {last}]");
                failed += 1;
            }
            Same::Torn(error) => {
                let p = plan(&catalog, &V3Target::Timestamp(*t)).unwrap_or_else(|e| panic!("[{label}] plan: {e}"));
                let why = p.cut_short().unwrap_or_else(|| panic!("[{label}] a torn restore's plan is not cut short"));
                assert!(error.contains(&why), "[{label}] the error should explain the cut ({why}): {error}");
                assert!(why.contains("restore a time before"), "{why}");
                torn.push((*t, p.snapshot.index));
            }
        }
    }
    eprintln!("{} points: {restored} restored, {failed} failed in both, torn at {torn:?}", points.len());
    // Torn exactly from snapshot 00000002's upload until WAL index 2's first segment's.
    let snapshot_2 = objs.iter().find(|o| o.snapshot && o.index == 2).expect("snapshot 2").time;
    let wal_2 = objs.iter().filter(|o| !o.snapshot && o.index == 2).map(|o| o.time).min().expect("WAL 2");
    let window: Vec<DateTime<Utc>> = points.iter().copied().filter(|t| snapshot_2 <= *t && *t < wal_2).collect();
    assert!(!torn.is_empty(), "no point hit the torn snapshot");
    assert_eq!(torn.iter().map(|(t, _)| *t).collect::<Vec<_>>(), window, "torn points");
    assert!(torn.iter().all(|(_, index)| *index == 2), "only snapshot 00000002 is ahead of its WAL: {torn:?}");
    assert!(failed >= 2 && restored >= points.len() - failed - torn.len(), "{restored} restored, {failed} failed");

    // Every WAL index of the generation, then the generation's and the replica's newest state.
    let mut indexes: Vec<u32> = objs.iter().filter(|o| !o.snapshot).map(|o| o.index).collect();
    indexes.sort();
    indexes.dedup();
    assert_eq!(indexes, [0, 1, 2, 3]);
    let all: Vec<u64> = committed.iter().map(|(_, h)| *h).collect();
    let mut targets: Vec<Point> = indexes.iter().map(|i| Point::Generation(generation.clone(), Some(*i))).collect();
    targets.extend([Point::Generation(generation.clone(), None), Point::Latest]);
    for point in targets {
        let (ls_flags, cs_flags, label) = point.flags();
        let ls_args: Vec<String> = ls_flags.into_iter().chain([url.clone()]).collect();
        let cs_args: Vec<String> = [folder.clone()].into_iter().chain(cs_flags).collect();
        match same_restore(&v3, &ls_args, &cs_args, &out_dir, &label) {
            Same::Restored(a) => check_content(&a, &all, &label),
            other => panic!("[{label}] expected both to restore: {other:?}"),
        }
    }
    eprintln!("took {:?}", started.elapsed());
}
