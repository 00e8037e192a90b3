//! Fleet benchmark (not a test; it prints figures): `cargo bench --bench fleet`.
//!
//! A fleet folder of `BENCH_FLEET_TENANTS` (1,000) tenants, copies of the real v0.5 fixture
//! replicas (zeta, beta, and alpha seen at TXID 0x20) and of the v0.3 one (gamma), measured with
//! the release binary (time and peak RSS of each run):
//! 1. listing every tenant (`chronoscope tenants`), beside `find` over the same folder (the floor);
//! 2. the first `fleet scan` (every tenant restored into an empty cache and read);
//! 3. a rescan after 10 tenants changed (alpha copies whose newer LTX files arrived);
//! 4. searches over the index (`fleet search`, process start included);
//! 5. with `BENCH_FLEET_S3=1` (the default), the same fleet uploaded to moto on 127.0.0.1 and
//!    steps 1–4 again through S3, beside the SDK client's own listing of the bucket (the floor).
//!
//! Targets on this machine: listing < 5 s, rescan with 10 changed < 10 s, search < 100 ms, peak
//! RSS ≤ 256 MB.

#[path = "common/mod.rs"]
mod common;
#[path = "fleet_s3/mod.rs"]
mod s3;
// The tests' moto server and tool lookup (`tools` resolves through `repo` here).
#[allow(dead_code)]
#[path = "../tests/it/support/moto.rs"]
mod moto;
#[allow(dead_code)]
#[path = "../tests/it/support/tools.rs"]
mod tools;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use common::{copy_dir, env_usize, measured, repo};

/// Copy `alpha` keeping only LTX files up to TXID `max`.
fn alpha_until(alpha: &Path, to: &Path, max_txid: u64) {
    copy_dir(alpha, to);
    for level in std::fs::read_dir(to.join("ltx")).unwrap().flatten() {
        for f in std::fs::read_dir(level.path()).unwrap().flatten() {
            let name = f.file_name().to_string_lossy().into_owned();
            let max = u64::from_str_radix(name.trim_end_matches(".ltx").split_once('-').unwrap().1, 16).unwrap();
            if max > max_txid {
                std::fs::remove_file(f.path()).unwrap();
            }
        }
    }
}

fn main() {
    common::measuring_child();
    let n = env_usize("BENCH_FLEET_TENANTS", 1000);
    let work = tempfile::tempdir().expect("temp dir");
    let fleet = work.path().join("fleet");
    std::fs::create_dir_all(&fleet).unwrap();
    let fixtures = repo().join("tests/fixtures/fleet");
    let (_gamma, gamma_dir) = common::gamma_replica();
    let alpha = fixtures.join("v0.5/tenant-alpha");
    let t = Instant::now();
    let mut alphas = Vec::new();
    for i in 0..n {
        let to = fleet.join(format!("tenant-{i:04}"));
        match i % 4 {
            0 => copy_dir(&fixtures.join("v0.5/tenant-zeta"), &to),
            1 => copy_dir(&fixtures.join("v0.5/tenant-beta"), &to),
            2 => {
                alpha_until(&alpha, &to, 0x20);
                alphas.push(to);
            }
            _ => copy_dir(&gamma_dir, &to),
        }
    }
    eprintln!("built {n} tenants in {:.1} s", t.elapsed().as_secs_f64());

    let bin = PathBuf::from(env!("CARGO_BIN_EXE_chronoscope"));
    let cache = work.path().join("cache");
    let env = [("XDG_CACHE_HOME", cache.as_path())];
    let root = fleet.display().to_string();
    let args = |a: &[&str]| a.iter().map(|s| s.to_string()).collect::<Vec<_>>();

    let t = Instant::now();
    let found = Command::new("find").arg(&fleet).args(["-type", "f"]).output().unwrap();
    let floor = t.elapsed();
    let objects = String::from_utf8_lossy(&found.stdout).lines().count();
    let (list, list_rss) = measured(&bin, &args(&["tenants", &root, "--json"]), &env);
    let (scan, scan_rss) = measured(&bin, &args(&["fleet", "scan", &root, "--json"]), &env);
    let (same, same_rss) = measured(&bin, &args(&["fleet", "scan", &root, "--json"]), &env);
    for a in alphas.iter().take(10) {
        std::fs::remove_dir_all(a).unwrap();
        copy_dir(&alpha, a);
    }
    let (rescan, rescan_rss) = measured(&bin, &args(&["fleet", "scan", &root, "--json"]), &env);
    // The S3 copy is uploaded as the fleet is now; `changed` get the rest of alpha before its last rescan.
    let s3 = (env_usize("BENCH_FLEET_S3", 1) == 1).then(|| {
        let changed: Vec<PathBuf> = alphas.iter().skip(10).take(10).cloned().collect();
        s3::measure(&bin, &fleet, &work.path().join("cache-s3"), &changed, &alpha)
    });
    let searches: [&[&str]; 4] = [
        &["--result", "failed"],
        &["--state", "blocked_by_join_set"],
        &["--text", "unreachable"],
        &["--ffqn", "demo:workflow/wf.serial", "--since", "2026-11-24T00:00:00Z"],
    ];
    let mut search_times = Vec::new();
    let mut search_rss = 0f64;
    for s in searches {
        // As a user runs it: the newest 1,000 matches (the default limit).
        let mut a = vec!["fleet", "search", &root, "--json"];
        a.extend_from_slice(s);
        let (d, rss) = measured(&bin, &args(&a), &env);
        search_times.push(d);
        search_rss = search_rss.max(rss);
    }
    let ms = |d: Duration| format!("{:.0} ms", d.as_secs_f64() * 1000.0);
    println!(
        "fleet benchmark: {n} tenants ({objects} objects on disk: v0.5 zeta/beta/alpha and v0.3 gamma copies), release build"
    );
    println!("| run | time | peak RSS | target |");
    println!("|---|---|---|---|");
    println!("| floor: `find` over the fleet folder | {} | - | - |", ms(floor));
    println!("| `tenants` (list and summarise every tenant) | {} | {list_rss:.0} MB | < 5 s |", ms(list));
    println!("| first `fleet scan` (restore and read every tenant) | {} | {scan_rss:.0} MB | - |", ms(scan));
    println!("| rescan, nothing changed | {} | {same_rss:.0} MB | - |", ms(same));
    println!("| rescan, 10 tenants changed | {} | {rescan_rss:.0} MB | < 10 s |", ms(rescan));
    for (s, d) in searches.iter().zip(&search_times) {
        println!("| `fleet search {}` | {} | {search_rss:.0} MB | < 100 ms |", s.join(" "), ms(*d));
    }
    if let Some(f) = s3 {
        println!();
        println!(
            "through S3 (moto on 127.0.0.1, {} objects uploaded in {:.0} s; 10 alpha tenants get their newer files before the last rescan):",
            f.objects,
            f.upload.as_secs_f64()
        );
        println!("| run | time | peak RSS | target |");
        println!("|---|---|---|---|");
        println!("| floor: the SDK client lists the bucket (paginated) | {} | - | - |", ms(f.list_floor));
        println!(
            "| floor: the SDK client lists each tenant's prefix once, 8 in flight | {} | - | - |",
            ms(f.prefix_floor)
        );
        for (label, d, rss, target) in f.rows {
            println!("| {label} | {} | {rss:.0} MB | {target} |", ms(d));
        }
    }
}
