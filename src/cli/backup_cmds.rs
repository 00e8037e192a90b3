//! The backup commands: `backups`, `tenants`, `restore`, `verify`.

use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Result;
use chrono::Utc;

use super::args::{ReplicaArgs, S3Args, TargetArgs};
use super::progress_bar::ProgressBar;
use crate::format::{bytes, time};
use crate::litestream::catalog::{self, Catalog, Times};
use crate::litestream::plan::{self, RestoreTarget};
use crate::litestream::progress::NoProgress;
use crate::litestream::restore::{self, IntegrityCheck, RestoreOptions};
use crate::litestream::{Cancel, fetch, tenants, verify};
use crate::storage::parse_address;

/// `chronoscope backups`.
pub fn backups(replica: &ReplicaArgs, json: bool, cancel: &Cancel) -> Result<ExitCode> {
    let opened = replica.open(cancel)?;
    let catalog = catalog::load(opened.store.as_ref(), Times::Precise)?;
    if json {
        super::json_out::print_json(&catalog)?;
    } else {
        print_catalog(&catalog);
    }
    Ok(ExitCode::SUCCESS)
}

/// `chronoscope tenants`.
pub fn tenants(location: &str, s3: &S3Args, json: bool, concurrency: usize, cancel: &Cancel) -> Result<ExitCode> {
    let store = parse_address(location, &s3.options())?.open_cancellable(cancel)?;
    let found = tenants::discover(store.as_ref(), concurrency, &NoProgress, cancel)?;
    if json {
        super::json_out::print_json(&found)?;
    } else {
        print_tenants(&store.describe(), &found);
    }
    Ok(ExitCode::SUCCESS)
}

/// Options of `chronoscope restore` besides the replica and the target.
pub struct RestoreCmd {
    pub output: Option<PathBuf>,
    pub dry_run: bool,
    pub json: bool,
    pub overwrite: bool,
    pub quick_check: bool,
    pub concurrency: usize,
    pub no_progress: bool,
    /// Download and discard (a benchmark's floor).
    pub fetch_only: bool,
}

/// `chronoscope restore`.
pub fn restore(replica: &ReplicaArgs, target: &TargetArgs, cmd: &RestoreCmd, cancel: &Cancel) -> Result<ExitCode> {
    let target = target.target()?;
    let opened = replica.open(cancel)?;
    let times =
        if matches!(target, RestoreTarget::Timestamp(_)) || cmd.dry_run { Times::Precise } else { Times::Listing };
    let catalog = catalog::load(opened.store.as_ref(), times)?;
    let plan = plan::plan(&catalog, &target)?;
    let past_the_end = plan::past_the_end(&catalog, &plan, &target);
    if cmd.dry_run {
        if cmd.json {
            super::json_out::print_json(&plan)?;
        } else {
            println!("would restore {} ({} objects, {})", plan.describe(), plan.objects(), bytes(plan.bytes()));
        }
        if let Some(note) = &past_the_end {
            eprintln!("note: {note}");
        }
        return Ok(ExitCode::SUCCESS);
    }
    if cmd.fetch_only {
        let started = std::time::Instant::now();
        let store = opened.store.cancellable(cancel);
        let read = fetch::discard_all(store.as_ref(), &plan.keys(), cmd.concurrency, cancel)?;
        let secs = started.elapsed().as_secs_f64();
        println!("fetched and discarded {} objects, {read} bytes ({}) in {secs:.2}s", plan.objects(), bytes(read));
        return Ok(ExitCode::SUCCESS);
    }
    let Some(output) = cmd.output.clone() else { anyhow::bail!("restore needs -o OUTPUT (or --cache)") };
    let opts = RestoreOptions {
        output,
        overwrite: cmd.overwrite,
        concurrency: cmd.concurrency,
        age: opened.age,
        integrity: if cmd.quick_check { IntegrityCheck::Quick } else { IntegrityCheck::Full },
    };
    let bar = ProgressBar::new(!(cmd.json || cmd.no_progress) && std::io::stderr().is_terminal());
    let report = restore::execute(opened.store.as_ref(), &plan, &opts, &bar, cancel);
    bar.finish();
    let report = report?;
    if cmd.json {
        super::json_out::print_json(&report)?;
    } else {
        println!(
            "restored {} to {}: {} pages of {} bytes, {} read in {:.2}s, integrity {}",
            report.point,
            report.output.display(),
            report.page_count,
            report.page_size,
            bytes(report.bytes_read),
            report.elapsed.as_secs_f64(),
            report.integrity
        );
    }
    if let Some(note) = &past_the_end {
        eprintln!("note: {note}");
    }
    Ok(ExitCode::SUCCESS)
}

/// `chronoscope verify`: exit status 2 when problems were found.
pub fn verify(
    replica: &ReplicaArgs,
    json: bool,
    concurrency: usize,
    no_progress: bool,
    cancel: &Cancel,
) -> Result<ExitCode> {
    let opened = replica.open(cancel)?;
    let catalog = catalog::load(opened.store.as_ref(), Times::Precise)?;
    let bar = ProgressBar::new(!(json || no_progress) && std::io::stderr().is_terminal());
    let report = verify::verify(opened.store.as_ref(), &catalog, &opened.age, concurrency, &bar, cancel);
    bar.finish();
    let report = report?;
    if json {
        super::json_out::print_json(&report)?;
    } else {
        println!("{}: {} objects, {} checked", report.location, report.objects_checked, bytes(report.bytes_checked));
        if report.ok() {
            println!("ok: every checksum and the chain are intact");
        }
        for p in &report.problems {
            println!("problem: {p}");
        }
    }
    Ok(if report.ok() { ExitCode::SUCCESS } else { ExitCode::from(2) })
}

/// The human-readable catalog.
pub fn print_catalog(c: &Catalog) {
    let format = serde_json::to_value(c.format)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_else(|| format!("{:?}", c.format));
    println!("replica     {}", c.location);
    println!("format      {format}");
    println!("objects     {} ({})", c.objects, bytes(c.bytes));
    match &c.restorable {
        Some(r) => println!(
            "restorable  {} .. {}{}",
            time(r.earliest),
            time(r.latest),
            r.latest_txid.as_ref().map(|t| format!(" (latest TXID {t})")).unwrap_or_default()
        ),
        None => println!("restorable  nothing"),
    }
    if let Some(v5) = &c.v5 {
        println!(
            "\nLEVEL  FILES  TXIDS                              FIRST                     LAST                      BYTES"
        );
        for l in &v5.levels {
            println!(
                "{:<6} {:<6} {:016x}-{:016x}  {:<25} {:<25} {}",
                l.level,
                l.files,
                l.min_txid,
                l.max_txid,
                time(l.first_time),
                time(l.last_time),
                bytes(l.bytes)
            );
        }
    }
    if let Some(v3) = &c.v3 {
        println!(
            "\nGENERATION        SNAPSHOTS  WAL INDEXES        SEGMENTS  CREATED                   UPDATED                   BYTES"
        );
        for g in &v3.generations {
            let (lo, hi) = (g.segments.iter().map(|s| s.index).min(), g.segments.iter().map(|s| s.index).max());
            let indexes = match (lo, hi) {
                (Some(lo), Some(hi)) => format!("{lo:08x}-{hi:08x}"),
                _ => "-".into(),
            };
            let size: u64 =
                g.snapshots.iter().map(|s| s.size).sum::<u64>() + g.segments.iter().map(|s| s.size).sum::<u64>();
            println!(
                "{:<17} {:<10} {:<18} {:<9} {:<25} {:<25} {}",
                g.id,
                g.snapshots.len(),
                indexes,
                g.segments.len(),
                time(g.created_at),
                time(g.updated_at),
                bytes(size)
            );
        }
    }
    if c.problems.is_empty() {
        println!("\nproblems    none");
    } else {
        println!();
        for p in &c.problems {
            println!("problem: {p}");
        }
    }
}

/// The human-readable tenant table.
pub fn print_tenants(location: &str, found: &[tenants::Tenant]) {
    println!("{} replicas under {location}\n", found.len());
    println!(
        "{:<28} {:<6} {:<25} {:<10} {:<18} {:>8} {:>10}  PROBLEMS",
        "TENANT", "FORMAT", "LATEST", "AGE", "TXID", "OBJECTS", "SIZE"
    );
    let now = Utc::now();
    for t in found {
        let format = serde_json::to_value(t.format)
            .ok()
            .and_then(|v| v.as_str().map(str::to_owned))
            .unwrap_or_else(|| "mixed".into());
        println!(
            "{:<28} {:<6} {:<25} {:<10} {:<18} {:>8} {:>10}  {}",
            if t.path.is_empty() { "." } else { &t.path },
            format,
            t.latest.map(time).unwrap_or_else(|| "-".into()),
            t.latest.map(|l| crate::format::age(now - l)).unwrap_or_else(|| "-".into()),
            t.latest_txid.as_deref().unwrap_or("-"),
            t.objects,
            bytes(t.bytes),
            if t.problems.is_empty() { "none".to_string() } else { t.problems.len().to_string() }
        );
    }
}
