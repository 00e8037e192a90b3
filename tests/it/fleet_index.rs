//! `chronoscope fleet scan|search` over real tenant replicas: the fleet folder of
//! `upgrade_check` (zeta's v0.5 replica, the 0.41.5 demo replicated by Litestream v0.5 and
//! v0.3, a damaged tenant) answers searches exactly as SQL over each tenant's database restored
//! by Litestream itself; a rescan reads only the tenants whose backup moved, and forgets
//! tenants that left the source.

use std::collections::BTreeSet;
use std::path::Path;
use std::process::{Command, Output};

use serde_json::Value;

use crate::restore_fixtures::fixtures;
use crate::support::cli::{chronoscope_cmd, describe};
use crate::support::tools;
use crate::upgrade_check::fleet;

fn run(cache: &Path, args: &[&str]) -> Output {
    chronoscope_cmd().env("XDG_CACHE_HOME", cache).arg("fleet").args(args).output().unwrap()
}

fn json(out: &Output) -> Value {
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}: {}", describe(out)))
}

/// (tenant, execution) pairs of a `fleet search --json`.
fn hits(out: &Output) -> BTreeSet<(String, String)> {
    assert!(out.status.success(), "{}", describe(out));
    json(out)
        .as_array()
        .unwrap()
        .iter()
        .map(|h| (h["tenant"].as_str().unwrap().to_owned(), h["execution_id"].as_str().unwrap().to_owned()))
        .collect()
}

/// The oracle: `sql` (one column of execution IDs) over every tenant's database as Litestream
/// restored it.
fn expected(sql: &str) -> BTreeSet<(String, String)> {
    let mut out = BTreeSet::new();
    for (tenant, db) in &fleet().restored {
        let o = Command::new(tools::sqlite3()).arg(db).arg(sql).output().unwrap();
        assert!(o.status.success(), "{}", describe(&o));
        for id in String::from_utf8(o.stdout).unwrap().lines() {
            out.insert((tenant.clone(), id.to_owned()));
        }
    }
    out
}

#[test]
fn searches_across_tenants_match_sql_over_each_database() {
    let f = fleet();
    let cache = tempfile::tempdir().unwrap();
    let root = f.root.to_str().unwrap();
    let scan = run(cache.path(), &["scan", root, "--json", "--parallel", "3"]);
    assert_eq!(scan.status.code(), Some(2), "the damaged tenant fails: {}", describe(&scan));
    let report = json(&scan);
    assert_eq!((report["scanned"].as_u64(), report["failed"].as_u64()), (Some(3), Some(1)), "{report}");
    let damaged = report["tenants"].as_array().unwrap().iter().find(|t| t["tenant"] == "damaged-v5").unwrap();
    assert!(damaged["scan"]["error"].as_str().unwrap().contains("checksum"), "{damaged}");

    let search = |args: &[&str]| hits(&run(cache.path(), &[&["search", root, "--json"], args].concat()));
    assert_eq!(search(&[]), expected("SELECT execution_id FROM t_state"));
    assert_eq!(
        search(&["--state", "blocked_by_join_set"]),
        expected("SELECT execution_id FROM t_state WHERE state = 'blocked_by_join_set'")
    );
    assert_eq!(
        search(&["--ffqn", "demo:workflow/wf.seri"]),
        expected("SELECT execution_id FROM t_state WHERE ffqn LIKE 'demo:workflow/wf.seri%'")
    );
    let failed = search(&["--result", "failed"]);
    assert!(!failed.is_empty());
    assert_eq!(failed, expected("SELECT execution_id FROM t_state WHERE result_kind LIKE '%execution_failure%'"));
    let trapped = search(&["--text", "unreachable"]);
    assert!(!trapped.is_empty());
    assert_eq!(
        trapped,
        expected(
            "SELECT execution_id FROM t_execution_log WHERE variant = 'finished' AND json_value LIKE '%unreachable%'"
        )
    );
    // Finished (t_state.pending_expires_finished) or updated at or after 10:04:20.
    let recent = search(&["--since", "2026-11-24T10:04:20Z", "--state", "finished"]);
    assert!(!recent.is_empty());
    assert_eq!(
        recent,
        expected(
            "SELECT execution_id FROM t_state WHERE state = 'finished'
             AND max(updated_at, pending_expires_finished) >= '2026-11-24 10:04:20'"
        )
    );

    // The table names the tenant, the execution, its state, function and result.
    let text = run(cache.path(), &["search", root, "--text", "unreachable"]);
    let table = String::from_utf8_lossy(&text.stdout);
    let row = table.lines().find(|l| l.contains("wf.panicky")).unwrap_or_else(|| panic!("{table}"));
    assert!(row.contains("finished") && row.contains("failed: uncategorized"), "{row}");
}

#[test]
fn a_rescan_reads_only_what_moved_and_forgets_what_left() {
    let dir = tempfile::tempdir().unwrap();
    let cache = dir.path().join("cache");
    let root = dir.path().join("fleet");
    std::fs::create_dir_all(&root).unwrap();
    let cp = |from: &Path, to: &Path| {
        let st = Command::new("cp").arg("-a").arg(from).arg(to).status().unwrap();
        assert!(st.success());
    };
    let alpha = fixtures().join("fleet/v0.5/tenant-alpha");
    cp(&fixtures().join("fleet/v0.5/tenant-zeta"), &root.join("zeta"));
    cp(&fixtures().join("fleet/v0.5/tenant-beta"), &root.join("beta"));
    // alpha as it was at TXID 0x20 (its newer LTX files not written yet).
    cp(&alpha, &root.join("alpha"));
    for level in std::fs::read_dir(root.join("alpha/ltx")).unwrap().flatten() {
        for f in std::fs::read_dir(level.path()).unwrap().flatten() {
            let name = f.file_name().to_string_lossy().into_owned();
            let max = u64::from_str_radix(name.trim_end_matches(".ltx").split_once('-').unwrap().1, 16).unwrap();
            if max > 0x20 {
                std::fs::remove_file(f.path()).unwrap();
            }
        }
    }
    let root_s = root.to_str().unwrap();
    let first = json(&run(&cache, &["scan", root_s, "--json"]));
    assert_eq!((first["scanned"].as_u64(), first["unchanged"].as_u64()), (Some(3), Some(0)), "{first}");
    let again = json(&run(&cache, &["scan", root_s, "--json"]));
    assert_eq!((again["scanned"].as_u64(), again["unchanged"].as_u64()), (Some(0), Some(3)), "{again}");

    // alpha's backup moves on (its newer files arrive), beta leaves the fleet.
    std::fs::remove_dir_all(root.join("alpha")).unwrap();
    cp(&alpha, &root.join("alpha"));
    std::fs::remove_dir_all(root.join("beta")).unwrap();
    let third = json(&run(&cache, &["scan", root_s, "--json"]));
    assert_eq!((third["scanned"].as_u64(), third["unchanged"].as_u64()), (Some(1), Some(1)), "{third}");
    let alpha_scan = third["tenants"].as_array().unwrap().iter().find(|t| t["tenant"] == "alpha").unwrap();
    assert_eq!(alpha_scan["scan"]["restore"], "refreshed with 3 LTX files", "{alpha_scan}");
    let all = hits(&run(&cache, &["search", root_s, "--json"]));
    let tenants: BTreeSet<&str> = all.iter().map(|(t, _)| t.as_str()).collect();
    assert_eq!(tenants, BTreeSet::from(["alpha", "zeta"]), "beta is forgotten");
    // alpha's executions are the newest backup's: as many as Litestream's own restore holds.
    let out = dir.path().join("alpha.db");
    let ls = crate::support::cli::litestream(
        &tools::litestream_v5(),
        ["restore", "-o", out.to_str().unwrap(), &format!("file://{}", root.join("alpha").display())],
    );
    assert!(ls.status.success(), "{}", describe(&ls));
    let o = Command::new(tools::sqlite3()).arg(&out).arg("SELECT count(*) FROM t_state").output().unwrap();
    let n: usize = String::from_utf8_lossy(&o.stdout).trim().parse().unwrap();
    assert_eq!(all.iter().filter(|(t, _)| t == "alpha").count(), n);
}

#[test]
fn an_s3_prefix_of_tenants_is_scanned_and_searched() {
    let moto = crate::support::moto::Moto::start();
    moto.create_bucket("fleet");
    for t in ["zeta", "alpha"] {
        crate::s3_fleet::upload_v5(
            &moto,
            "fleet",
            &format!("tenants/{t}"),
            &fixtures().join(format!("fleet/v0.5/tenant-{t}")),
        );
    }
    let cache = tempfile::tempdir().unwrap();
    let s3 = ["--endpoint", moto.endpoint.as_str(), "--force-path-style", "--region", "us-east-1"];
    let scan = run(cache.path(), &[&["scan", "s3://fleet/tenants", "--json"], &s3[..]].concat());
    assert!(scan.status.success(), "{}", describe(&scan));
    assert_eq!(json(&scan)["scanned"], 2);
    let blocked =
        hits(&run(cache.path(), &["search", "s3://fleet/tenants", "--json", "--state", "blocked_by_join_set"]));
    let tenants: BTreeSet<&str> = blocked.iter().map(|(t, _)| t.as_str()).collect();
    assert_eq!(tenants, BTreeSet::from(["alpha", "zeta"]));
    // Zeta's one blocked execution, as in its real replica's README.
    assert!(blocked.contains(&("zeta".to_owned(), "E_01M86GA438TFXA41ANMRYCPBPK".to_owned())), "{blocked:?}");
}
