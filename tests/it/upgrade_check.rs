//! `chronoscope upgrade-check` over a real fleet folder: tenant zeta's real v0.5 replica, the
//! 0.41.5 demo database replicated by real Litestream v0.5.17 and v0.3.13, and a copy of zeta
//! with a damaged LTX file. The stored `demo_workflow` build is compatible with every unfinished
//! execution; our changed build is nondeterministic exactly where it diverges; the damaged
//! tenant is reported and the others are still checked; the JUnit report reads back in a real
//! JUnit parser (`junitparser`) with one test case per execution.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;
use std::time::Duration;

use serde_json::Value;

use crate::restore_fixtures::fixtures;
use crate::s3_fleet::upload_v5;
use crate::support::cli::{chronoscope_cmd, describe, litestream};
use crate::support::components::{demo, sleepy_variant, stored_component};
use crate::support::moto::Moto;
use crate::support::tools;
use crate::support::writer::Replicator;

/// wf.sleepy of the demo: blocked at its sleep; the changed build diverges at v2.
pub const DEMO_SLEEPY: &str = "E_01M86G6XQMQ81M6EPHN9VQCK02";

pub struct Fleet {
    _dir: tempfile::TempDir,
    /// The folder of tenant replicas.
    pub root: PathBuf,
    /// Each tenant's database as real Litestream restores it (the oracle's input).
    pub restored: BTreeMap<String, PathBuf>,
    /// XDG_CACHE_HOME for chronoscope (restore and compile caches).
    cache: PathBuf,
}

fn copy_dir(from: &Path, to: &Path) {
    let out = Command::new("cp").arg("-a").arg(from).arg(to).output().unwrap();
    assert!(out.status.success(), "cp -a {}: {}", from.display(), describe(&out));
}

/// Replicate a copy of the 0.41.5 demo with `bin` into the file replica `replica`, until
/// `ready(replica)`, then stop Litestream (SIGTERM: its final sync).
fn replicate_demo(bin: &Path, work: &Path, name: &str, replica: &Path, ready: impl Fn(&Path) -> bool) {
    let db = work.join(format!("{name}.sqlite"));
    std::fs::copy(demo(), &db).unwrap();
    let config = work.join(format!("{name}.yml"));
    let replica_yaml = format!("      - type: file\n        path: {}\n", replica.display());
    let v5 = bin == tools::litestream_v5();
    let text = if v5 {
        format!(
            "dbs:\n  - path: {}\n    replica:\n{}",
            db.display(),
            replica_yaml.replace("      - type", "        type")
        )
    } else {
        format!("dbs:\n  - path: {}\n    replicas:\n{replica_yaml}", db.display())
    };
    std::fs::write(&config, text).unwrap();
    let mut ls = Replicator::start(bin, &config, &work.join(format!("{name}.log")));
    ls.wait_until("the replica", Duration::from_secs(60), || ready(replica));
    // One more sync interval, so the newest state is replicated too.
    std::thread::sleep(Duration::from_secs(2));
    ls.stop();
}

fn has_files(dir: &Path, suffix: &str) -> bool {
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).into_iter().flatten().flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else if p.to_string_lossy().ends_with(suffix) {
                return true;
            }
        }
    }
    false
}

/// `litestream restore -o OUT REPLICA` with `bin`.
fn litestream_restore(bin: &Path, replica: &Path, out: &Path) {
    let o = litestream(bin, ["restore", "-o", out.to_str().unwrap(), &format!("file://{}", replica.display())]);
    assert!(o.status.success(), "litestream restore {}: {}", replica.display(), describe(&o));
}

/// The fleet folder (built once per test process): `damaged-v5`, `demo-v3`, `demo-v5`, `zeta-v5`.
pub fn fleet() -> &'static Fleet {
    static F: OnceLock<Fleet> = OnceLock::new();
    F.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("fleet");
        let work = dir.path().join("work");
        std::fs::create_dir_all(&root).unwrap();
        std::fs::create_dir_all(&work).unwrap();
        let (v5, v3) = (tools::litestream_v5(), tools::litestream_v3());
        copy_dir(&fixtures().join("fleet/v0.5/tenant-zeta"), &root.join("zeta-v5"));
        replicate_demo(&v5, &work, "demo-v5", &root.join("demo-v5"), |r| has_files(r, ".ltx"));
        replicate_demo(&v3, &work, "demo-v3", &root.join("demo-v3"), |r| {
            has_files(r, ".snapshot.lz4") && has_files(r, ".wal.lz4")
        });
        // zeta with its L9 snapshot damaged (one byte in the middle flipped).
        copy_dir(&fixtures().join("fleet/v0.5/tenant-zeta"), &root.join("damaged-v5"));
        let l9 = std::fs::read_dir(root.join("damaged-v5/ltx/9")).unwrap().flatten().next().unwrap().path();
        let mut bytes = std::fs::read(&l9).unwrap();
        let mid = bytes.len() / 2;
        bytes[mid] ^= 0x55;
        std::fs::write(&l9, bytes).unwrap();

        let mut restored = BTreeMap::new();
        for (tenant, bin) in [("zeta-v5", &v5), ("demo-v5", &v5), ("demo-v3", &v3)] {
            let out = work.join(format!("{tenant}.restored.sqlite"));
            litestream_restore(bin, &root.join(tenant), &out);
            restored.insert(tenant.to_owned(), out);
        }
        let cache = dir.path().join("cache");
        Fleet { _dir: dir, root, restored, cache }
    })
}

/// The oracle: the workflow executions of `db` the candidate (which exports
/// `demo:workflow/wf`) re-executes — unfinished ones, or all with `all` — read with `sqlite3`.
pub fn expected_ids(db: &Path, all: bool) -> Vec<String> {
    let filter = if all { "" } else { "state != 'finished' AND " };
    let sql =
        format!("SELECT execution_id FROM t_state WHERE {filter}ffqn LIKE 'demo:workflow/wf.%' ORDER BY execution_id");
    let out = Command::new(tools::sqlite3()).arg(db).arg(sql).output().unwrap();
    assert!(out.status.success(), "{}", describe(&out));
    String::from_utf8(out.stdout).unwrap().lines().map(str::to_owned).collect()
}

fn upgrade_check(args: &[&str]) -> Output {
    chronoscope_cmd().env("XDG_CACHE_HOME", &fleet().cache).arg("upgrade-check").args(args).output().unwrap()
}

/// The JSON of a `--json` run, by tenant.
fn by_tenant(out: &Output) -> BTreeMap<String, Value> {
    let all: Vec<Value> = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}: {}", describe(out)));
    all.into_iter().map(|t| (t["tenant"].as_str().unwrap().to_owned(), t)).collect()
}

fn ids_of(tenant: &Value) -> Vec<String> {
    let mut ids: Vec<String> = tenant["executions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["execution_id"].as_str().unwrap().to_owned())
        .collect();
    ids.sort();
    ids
}

/// The JUnit file read by `junitparser`: (suite, case, result: ok / failure / error) per case,
/// and the root's totals.
fn junit_cases(path: &Path) -> (Vec<(String, String, String)>, Value) {
    let script = r#"
import json, sys
from junitparser import JUnitXml, Failure, Error
xml = JUnitXml.fromfile(sys.argv[1])
cases = []
for suite in xml:
    for case in suite:
        kinds = [("failure" if isinstance(r, Failure) else "error" if isinstance(r, Error) else "other") for r in case.result]
        cases.append([suite.name, case.name, kinds[0] if kinds else "ok"])
print(json.dumps({"cases": cases, "tests": xml.tests, "failures": xml.failures, "errors": xml.errors}))
"#;
    let out = Command::new(tools::python_with_junitparser()).arg("-c").arg(script).arg(path).output().unwrap();
    assert!(out.status.success(), "junitparser: {}", describe(&out));
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    let cases = v["cases"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| (c[0].as_str().unwrap().into(), c[1].as_str().unwrap().into(), c[2].as_str().unwrap().into()))
        .collect();
    (cases, v)
}

#[test]
fn the_stored_build_is_compatible_everywhere_and_a_damaged_backup_is_reported() {
    let f = fleet();
    let dir = tempfile::tempdir().unwrap();
    let junit = dir.path().join("report.xml");
    let component = stored_component().to_str().unwrap();
    let out = upgrade_check(&[
        f.root.to_str().unwrap(),
        "--component",
        component,
        "--json",
        "--junit",
        junit.to_str().unwrap(),
        "--parallel",
        "3",
    ]);
    // The damaged tenant is not compatible: exit 2; the others were all checked.
    assert_eq!(out.status.code(), Some(2), "{}", describe(&out));
    let tenants = by_tenant(&out);
    assert_eq!(tenants.keys().collect::<Vec<_>>(), ["damaged-v5", "demo-v3", "demo-v5", "zeta-v5"]);
    let damaged = &tenants["damaged-v5"];
    let error = damaged["error"].as_str().unwrap();
    assert!(error.contains("ltx/9/") && error.contains("checksum"), "{error}");
    assert_eq!(damaged["executions"], Value::Array(vec![]));
    let mut checked = 0;
    for (tenant, db) in &f.restored {
        let t = &tenants[tenant];
        assert_eq!(t["error"], Value::Null, "{tenant}: {t}");
        let expected = expected_ids(db, false);
        assert!(!expected.is_empty(), "{tenant} has unfinished workflow executions");
        assert_eq!(ids_of(t), expected, "{tenant}");
        for e in t["executions"].as_array().unwrap() {
            assert_eq!(e["verdict"], "compatible", "{tenant}: {e}");
        }
        checked += expected.len();
    }

    // The JUnit report: one case per execution, plus the damaged tenant's error.
    let (cases, totals) = junit_cases(&junit);
    assert_eq!(cases.len(), checked + 1, "{cases:?}");
    assert_eq!(
        (totals["tests"].as_u64(), totals["failures"].as_u64(), totals["errors"].as_u64()),
        (Some(checked as u64 + 1), Some(0), Some(1))
    );
    assert!(cases.contains(&("damaged-v5".into(), "restore and read".into(), "error".into())), "{cases:?}");
    for (tenant, db) in &f.restored {
        for id in expected_ids(db, false) {
            assert!(
                cases.iter().any(|(s, c, r)| s == tenant && c.starts_with(&id) && r == "ok"),
                "{tenant} {id}: {cases:?}"
            );
        }
    }
    // Nothing left beside the report.
    let names: Vec<_> = std::fs::read_dir(dir.path()).unwrap().flatten().map(|e| e.file_name()).collect();
    assert_eq!(names, ["report.xml"]);
}

#[test]
fn a_changed_build_is_nondeterministic_where_it_diverges() {
    let f = fleet();
    let dir = tempfile::tempdir().unwrap();
    let junit = dir.path().join("report.xml");
    let component = sleepy_variant().to_str().unwrap();
    let out = upgrade_check(&[
        f.root.to_str().unwrap(),
        "--component",
        component,
        "--json",
        "--junit",
        junit.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(2), "{}", describe(&out));
    let tenants = by_tenant(&out);
    for (tenant, db) in &f.restored {
        let t = &tenants[tenant];
        assert_eq!(ids_of(t), expected_ids(db, false), "{tenant}");
        for e in t["executions"].as_array().unwrap() {
            if e["ffqn"] == "demo:workflow/wf.sleepy" {
                // `random_u64(0, 2000)` where the log persisted a value of (0, 1000): at v2, line 56.
                assert_eq!(e["verdict"], "nondeterministic", "{tenant}: {e}");
                assert_eq!(e["version"], 2, "{e}");
                assert_eq!(e["source"]["line"], 56, "{e}");
                assert_eq!(e["recorded"]["kind"]["max_inclusive"], 999, "{e}");
                assert_eq!(e["produced"]["kind"]["max_inclusive"], 1999, "{e}");
            } else {
                assert_eq!(e["verdict"], "compatible", "{tenant}: {e}");
            }
        }
    }
    // The demo's blocked sleepy is in both demo replicas; zeta has none in flight.
    for tenant in ["demo-v5", "demo-v3"] {
        assert!(ids_of(&tenants[tenant]).contains(&DEMO_SLEEPY.to_owned()), "{tenant}");
    }
    let (cases, totals) = junit_cases(&junit);
    assert_eq!(totals["failures"].as_u64(), Some(2), "{cases:?}");
    let failed: Vec<_> = cases.iter().filter(|c| c.2 == "failure").map(|c| (c.0.as_str(), c.1.as_str())).collect();
    let name = format!("{DEMO_SLEEPY} demo:workflow/wf.sleepy");
    assert_eq!(failed, [("demo-v3", name.as_str()), ("demo-v5", name.as_str())]);

    // The table says where, in words.
    let out = upgrade_check(&[f.root.to_str().unwrap(), "--component", component]);
    assert_eq!(out.status.code(), Some(2));
    let text = String::from_utf8_lossy(&out.stdout);
    let row =
        text.lines().find(|l| l.starts_with("demo-v5") && l.contains(DEMO_SLEEPY)).unwrap_or_else(|| panic!("{text}"));
    assert!(row.contains("nondeterministic") && row.contains("src/lib.rs:56") && row.contains("v2"), "{row}");
    let summary = String::from_utf8_lossy(&out.stderr);
    assert!(summary.contains("2 nondeterministic") && summary.contains("1 tenants not checked"), "{summary}");
}

#[test]
fn all_checks_finished_executions_too_and_a_database_is_a_source() {
    let db = demo();
    let out =
        upgrade_check(&[db.to_str().unwrap(), "--component", stored_component().to_str().unwrap(), "--all", "--json"]);
    assert_eq!(out.status.code(), Some(0), "{}", describe(&out));
    let tenants = by_tenant(&out);
    let t = &tenants["demo.sqlite"];
    assert_eq!(ids_of(t), expected_ids(&db, true));
    let verdicts: Vec<&Value> = t["executions"].as_array().unwrap().iter().map(|e| &e["verdict"]).collect();
    assert!(verdicts.iter().all(|v| *v == "compatible"), "{verdicts:?}");
}

#[test]
fn a_tenant_prefix_in_s3_is_a_source() {
    let moto = Moto::start();
    moto.create_bucket("fleet");
    upload_v5(&moto, "fleet", "tenants/zeta", &fixtures().join("fleet/v0.5/tenant-zeta"));
    let out = upgrade_check(&[
        "s3://fleet/tenants",
        "--endpoint",
        &moto.endpoint,
        "--force-path-style",
        "--region",
        "us-east-1",
        "--component",
        stored_component().to_str().unwrap(),
        "--json",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", describe(&out));
    let tenants = by_tenant(&out);
    assert_eq!(ids_of(&tenants["zeta"]), expected_ids(&fleet().restored["zeta-v5"], false));
}

#[test]
fn a_file_that_is_not_a_component_is_an_error_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("notes.wasm");
    std::fs::write(&bad, b"not wasm at all").unwrap();
    let out = upgrade_check(&[fleet().root.to_str().unwrap(), "--component", bad.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1), "{}", describe(&out));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("notes.wasm") && err.contains("not a WebAssembly component"), "{err}");
}
