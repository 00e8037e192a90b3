//! `executions` and `events` on the real Obelisk databases: plain files, and replicas restored
//! into the cache on the way (one command from a backup to an execution's log).

use crate::restore_fixtures::fixtures;
use crate::support::cli::{chronoscope_cmd, describe};

fn run_json(cache: &std::path::Path, args: &[&str]) -> serde_json::Value {
    let out = chronoscope_cmd().env("XDG_CACHE_HOME", cache).args(args).output().unwrap();
    assert!(out.status.success(), "{args:?}: {}", describe(&out));
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{args:?}: not JSON ({e}): {}", describe(&out)))
}

#[test]
fn executions_of_fixture_databases_match_their_readmes() {
    let cache = tempfile::tempdir().unwrap();
    for (db, total, finished) in [("obelisk/0.38.3/demo.sqlite", 38, 36), ("obelisk/0.41.5/demo.sqlite", 33, 30)] {
        let path = fixtures().join(db);
        let all = run_json(cache.path(), &["executions", path.to_str().unwrap(), "--json"]);
        assert_eq!(all.as_array().unwrap().len(), total, "{db}");
        let fin = run_json(cache.path(), &["executions", path.to_str().unwrap(), "--status", "finished", "--json"]);
        assert_eq!(fin.as_array().unwrap().len(), finished, "{db}");
        let adds = run_json(
            cache.path(),
            &["executions", path.to_str().unwrap(), "--ffqn", "demo:activity/ops.add", "--json"],
        );
        assert!(adds.as_array().unwrap().iter().all(|e| e["ffqn"] == "demo:activity/ops.add"), "{db}");
        assert!(!adds.as_array().unwrap().is_empty());
    }
}

#[test]
fn events_show_the_decoded_log_of_a_known_execution() {
    let cache = tempfile::tempdir().unwrap();
    let db = fixtures().join("obelisk/0.38.3/demo.sqlite");
    // The activity that timed out twice and then for good (fixture README).
    let log = run_json(cache.path(), &["events", db.to_str().unwrap(), "E_01M86DQRQF1QQ35AA3GJGQ90MT", "--json"]);
    let kinds: Vec<String> = log
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            e["event"]
                .as_object()
                .map(|o| o.keys().next().unwrap().clone())
                .unwrap_or_else(|| e["event"].as_str().unwrap().to_string())
        })
        .collect();
    assert_eq!(kinds.iter().filter(|k| *k == "temporarily_timed_out").count(), 2, "{kinds:?}");
    assert_eq!(kinds.last().unwrap(), "finished");
    assert_eq!(
        log.as_array().unwrap().last().unwrap()["event"]["finished"]["retval"]["execution_failure"]["kind"],
        "timed_out"
    );

    let human =
        chronoscope_cmd().args(["events", db.to_str().unwrap(), "E_01M86DQRQF1QQ35AA3GJGQ90MT"]).output().unwrap();
    let text = String::from_utf8_lossy(&human.stdout);
    assert!(text.contains("temporarily_timed_out") && text.contains("failed: timed_out"), "{text}");

    let bad = chronoscope_cmd().args(["events", db.to_str().unwrap(), "E_NOT_AN_ID"]).output().unwrap();
    assert!(
        !bad.status.success() && String::from_utf8_lossy(&bad.stderr).contains("E_NOT_AN_ID"),
        "{}",
        describe(&bad)
    );
}

#[test]
fn a_replica_is_restored_into_the_cache_once_and_then_read() {
    let cache = tempfile::tempdir().unwrap();
    let replica = fixtures().join("fleet/v0.5/tenant-alpha");
    let unfinished =
        run_json(cache.path(), &["executions", replica.to_str().unwrap(), "--status", "unfinished", "--json"]);
    let ids: Vec<&str> = unfinished.as_array().unwrap().iter().map(|e| e["id"].as_str().unwrap()).collect();
    // The executions the fleet README says were left unfinished.
    for id in ["E_01M86FG82TCCDBH2CBC8Y84C9M", "E_01M86FG84T7PTZM61B89XPESRM", "E_01M86FG85BQ3G39CNYZJGPVAD3"] {
        assert!(ids.contains(&id), "{id} not in {ids:?}");
    }
    // The restored databases (beside them: their manifests and lock files).
    let databases = |dir: &std::path::Path| -> Vec<std::fs::DirEntry> {
        let entries = std::fs::read_dir(dir).unwrap().flatten();
        entries.filter(|e| e.file_name().to_string_lossy().ends_with(".db")).collect()
    };
    let cached = databases(&cache.path().join("chronoscope/restores"));
    assert_eq!(cached.len(), 1, "one restore in the cache");
    let before = cached[0].metadata().unwrap().modified().unwrap();
    // A point in time is another cache entry; the latest one is reused.
    let at_txid =
        run_json(cache.path(), &["executions", replica.to_str().unwrap(), "--txid", "0000000000000010", "--json"]);
    assert!(at_txid.as_array().unwrap().len() < 61);
    let latest = run_json(cache.path(), &["executions", replica.to_str().unwrap(), "--json"]);
    assert_eq!(latest.as_array().unwrap().len(), 61);
    assert_eq!(databases(&cache.path().join("chronoscope/restores")).len(), 2);
    assert_eq!(cached[0].metadata().unwrap().modified().unwrap(), before, "the cached restore was reused");
}
