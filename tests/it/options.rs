//! Replica addressing through the user's own `litestream.yml`, mixed v0.3 + v0.5 roots, and
//! cancellation through the library API (the same path the CLI's Ctrl-C and the GUI's Cancel use).

use std::path::Path;

use chronoscope::litestream::catalog::{self, Times};
use chronoscope::litestream::plan::RestoreTarget;
use chronoscope::litestream::restore::{self, RestoreOptions};
use chronoscope::litestream::{Cancel, ProgressEvent, RestoreError};
use chronoscope::storage::LocalStore;

use crate::restore_fixtures::{copy_dir, fixtures};
use crate::support::cli::{assert_cli_error, chronoscope_cmd, describe, stdout_json};
use crate::support::fixtures::extract;

fn count_rows(db: &Path) -> i64 {
    let conn = rusqlite::Connection::open_with_flags(
        format!("file:{}?immutable=1", db.display()),
        rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY | rusqlite::OpenFlags::SQLITE_OPEN_URI,
    )
    .unwrap();
    conn.query_row("SELECT count(*) FROM t", [], |r| r.get(0)).unwrap()
}

fn last_logged_rows(log: &Path) -> i64 {
    let text = std::fs::read_to_string(log).unwrap();
    let last: serde_json::Value = serde_json::from_str(text.lines().last().unwrap()).unwrap();
    last["rows"].as_i64().unwrap()
}

#[test]
fn config_file_replicas_v05_single_and_v03_list_with_env_expansion() {
    let dir = extract(&fixtures().join("litestream/writer-replicas.tar.gz"));
    let root = dir.path();
    let config = root.join("litestream.yml");
    std::fs::write(
        &config,
        "dbs:\n  - path: /srv/app/db5.sqlite\n    replica:\n      type: file\n      path: ${FIXTURE_ROOT}/fx5f/replica\n  - path: /srv/app/db3.sqlite\n    replicas:\n      - name: primary\n        type: file\n        path: $FIXTURE_ROOT/fx3/replica\n      - name: other\n        path: /nonexistent\n",
    )
    .unwrap();
    let run = |args: &[&str]| chronoscope_cmd().env("FIXTURE_ROOT", root).args(args).output().unwrap();

    let out5 = root.join("v5.db");
    let r =
        run(&["restore", "--config", config.to_str().unwrap(), "/srv/app/db5.sqlite", "-o", out5.to_str().unwrap()]);
    assert!(r.status.success(), "{}", describe(&r));
    assert_eq!(count_rows(&out5), last_logged_rows(&root.join("fx5f/log.jsonl")));

    // Two replicas configured: the user must choose, by name.
    let out3 = root.join("v3.db");
    let r =
        run(&["restore", "--config", config.to_str().unwrap(), "/srv/app/db3.sqlite", "-o", out3.to_str().unwrap()]);
    assert_cli_error(&r, &out3, &["--replica-name", "primary", "other"]);
    let r = run(&[
        "restore",
        "--config",
        config.to_str().unwrap(),
        "/srv/app/db3.sqlite",
        "--replica-name",
        "primary",
        "-o",
        out3.to_str().unwrap(),
    ]);
    assert!(r.status.success(), "{}", describe(&r));
    assert_eq!(count_rows(&out3), last_logged_rows(&root.join("fx3/log.jsonl")));

    let r = run(&["backups", "--config", config.to_str().unwrap(), "/srv/app/unknown.sqlite"]);
    assert!(!r.status.success());
    assert!(
        String::from_utf8_lossy(&r.stderr).contains("/srv/app/db5.sqlite"),
        "lists the configured databases: {}",
        describe(&r)
    );
}

#[test]
fn mixed_root_lists_both_formats_and_restores_the_newer_by_default() {
    let dir = extract(&fixtures().join("litestream/writer-replicas.tar.gz"));
    let root = dir.path();
    let mixed = root.join("mixed");
    copy_dir(&root.join("fx3/replica/generations"), &mixed.join("generations"));
    copy_dir(&root.join("fx5f/replica/ltx"), &mixed.join("ltx"));

    let r = chronoscope_cmd().args(["backups", mixed.to_str().unwrap(), "--json"]).output().unwrap();
    let cat = stdout_json(&r);
    assert_eq!(cat["format"]["mixed"]["newer"], "v0.5", "{cat}");
    assert_eq!(cat["v3"]["generations"].as_array().unwrap().len(), 2);
    assert!(cat["v5"]["levels"].as_array().unwrap().len() >= 3);

    // Latest: the v0.5 data, written after the v0.3 data.
    let latest = root.join("latest.db");
    let r =
        chronoscope_cmd().args(["restore", mixed.to_str().unwrap(), "-o", latest.to_str().unwrap()]).output().unwrap();
    assert!(r.status.success(), "{}", describe(&r));
    assert_eq!(count_rows(&latest), last_logged_rows(&root.join("fx5f/log.jsonl")));

    // A generation selects the v0.3 data, and a time only v0.3 covers falls back to it.
    let newest = cat["v3"]["generations"]
        .as_array()
        .unwrap()
        .iter()
        .max_by_key(|g| g["updated_at"].as_str().unwrap().to_string())
        .unwrap();
    let generation = newest["id"].as_str().unwrap().to_string();
    let g = root.join("gen.db");
    let r = chronoscope_cmd()
        .args(["restore", mixed.to_str().unwrap(), "-o", g.to_str().unwrap(), "--generation", &generation])
        .output()
        .unwrap();
    assert!(r.status.success(), "{}", describe(&r));
    assert_eq!(count_rows(&g), last_logged_rows(&root.join("fx3/log.jsonl")));
    let t = root.join("time.db");
    let r = chronoscope_cmd()
        .args(["restore", mixed.to_str().unwrap(), "-o", t.to_str().unwrap(), "--timestamp", "2026-11-24T09:18:05.5Z"])
        .output()
        .unwrap();
    assert!(r.status.success(), "{}", describe(&r));
    assert_eq!(count_rows(&t), 617, "the v0.3 state at 09:18:05.5 (same as litestream v0.3.13)");
}

#[test]
fn cancelled_restore_leaves_nothing_behind() {
    let dir = extract(&fixtures().join("litestream/writer-replicas.tar.gz"));
    for replica in ["fx3b/replica", "fx5f/replica"] {
        let store = LocalStore::new(dir.path().join(replica));
        let catalog = catalog::load(&store, Times::Listing).unwrap();
        let out_dir = dir.path().join(format!("out-{}", replica.replace('/', "-")));
        std::fs::create_dir_all(&out_dir).unwrap();
        let opts = RestoreOptions::new(out_dir.join("restored.db"));
        let cancel = Cancel::new();
        let events = std::sync::Mutex::new(Vec::new());
        // Cancel as soon as the first progress arrives, as a Cancel button or Ctrl-C would.
        let progress = |e: ProgressEvent| {
            if matches!(e, ProgressEvent::Advance { .. }) {
                cancel.cancel();
            }
            events.lock().unwrap().push(e);
        };
        let r = restore::restore(&store, &catalog, &RestoreTarget::Latest, &opts, &progress, &cancel);
        assert!(matches!(r, Err(RestoreError::Cancelled)), "{replica}: {r:?}");
        assert!(
            events.lock().unwrap().iter().any(|e| matches!(e, ProgressEvent::Advance { .. })),
            "{replica}: no progress reported"
        );
        let left: Vec<_> = std::fs::read_dir(&out_dir).unwrap().map(|e| e.unwrap().file_name()).collect();
        assert!(left.is_empty(), "{replica}: left {left:?}");
    }
}
