//! `chronoscope fleet scan|search`: one index over every tenant of a source.

use std::io::IsTerminal;
use std::process::ExitCode;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use anyhow::Result;

use super::args::S3Args;
use super::parse_time;
use super::progress_bar::ProgressBar;
use crate::cancel::Cancel;
use crate::fleet::index::{FleetIndex, Search, index_path};
use crate::fleet::scan::{TenantScan, scan};
use crate::fleet::subjects::subjects_of;
use crate::litestream::{Progress, ProgressEvent, Unit};

/// `fleet scan`.
pub fn fleet_scan(source: &str, s3: &S3Args, parallel: usize, json: bool, cancel: &Cancel) -> Result<ExitCode> {
    let started = Instant::now();
    let bar = ProgressBar::new(!json && std::io::stderr().is_terminal());
    let subjects = subjects_of(source, &s3.options(), &bar, cancel)?;
    let listed = started.elapsed();
    let path = index_path(&crate::litestream::cache::default_dir(), source);
    let index = Mutex::new(FleetIndex::open(&path)?);
    bar.report(ProgressEvent::Phase {
        name: "scanning",
        total: Some(subjects.len() as u64),
        unit: Unit::Items("tenants"),
    });
    let done = AtomicU64::new(0);
    let on_done = |_: usize, _: &TenantScan| {
        bar.report(ProgressEvent::Advance { done: done.fetch_add(1, Ordering::Relaxed) + 1 });
    };
    let results = scan(&subjects, &index, &crate::litestream::cache::default_dir(), parallel, &on_done, cancel)?;
    bar.finish();
    if cancel.is_cancelled() {
        anyhow::bail!("cancelled");
    }
    let count = |f: fn(&TenantScan) -> bool| results.iter().filter(|r| f(r)).count();
    let scanned = count(|r| matches!(r, TenantScan::Scanned { .. }));
    let unchanged = count(|r| matches!(r, TenantScan::Unchanged));
    let failed = count(|r| matches!(r, TenantScan::Failed { .. }));
    if json {
        let tenants: Vec<serde_json::Value> =
            subjects.iter().zip(&results).map(|(s, r)| serde_json::json!({ "tenant": s.name, "scan": r })).collect();
        println!(
            "{}",
            serde_json::to_string_pretty(&serde_json::json!({
                "index": path, "tenants": tenants, "scanned": scanned, "unchanged": unchanged, "failed": failed,
                "listing_seconds": listed.as_secs_f64(), "seconds": started.elapsed().as_secs_f64(),
            }))?
        );
    } else {
        for (s, r) in subjects.iter().zip(&results) {
            if let TenantScan::Failed { error } = r {
                println!("{}: {error}", s.name);
            }
        }
        println!(
            "{} tenants: {scanned} scanned, {unchanged} unchanged, {failed} failed in {:.2} s; index {}",
            subjects.len(),
            started.elapsed().as_secs_f64(),
            path.display()
        );
    }
    Ok(if failed > 0 { ExitCode::from(2) } else { ExitCode::SUCCESS })
}

/// The filters of `fleet search`.
pub struct SearchCmd {
    pub state: Option<String>,
    pub ffqn: Option<String>,
    pub result: Option<String>,
    pub since: Option<String>,
    pub text: Option<String>,
    pub limit: usize,
    pub json: bool,
}

/// `fleet search`.
pub fn fleet_search(source: &str, cmd: &SearchCmd) -> Result<ExitCode> {
    let path = index_path(&crate::litestream::cache::default_dir(), source);
    if !path.is_file() {
        anyhow::bail!("{source}: not scanned yet (run `chronoscope fleet scan {source}` first)");
    }
    let index = FleetIndex::open(&path)?;
    let q = Search {
        state: cmd.state.clone(),
        ffqn_prefix: cmd.ffqn.clone(),
        result: cmd.result.clone(),
        since: cmd.since.as_deref().map(parse_time).transpose()?,
        text: cmd.text.clone(),
        limit: cmd.limit,
    };
    let hits = index.search(&q)?;
    if cmd.json {
        super::json_out::print_json(&hits)?;
        return Ok(ExitCode::SUCCESS);
    }
    let width = hits.iter().map(|h| h.tenant.chars().count()).max().unwrap_or(6).max(6);
    println!("{:<width$}  {:<44} {:<20} {:<34} {:<26} UPDATED", "TENANT", "EXECUTION", "STATE", "FUNCTION", "RESULT");
    for h in &hits {
        let when = h.finished_at.unwrap_or(h.updated_at);
        println!(
            "{:<width$}  {:<44} {:<20} {:<34} {:<26} {}",
            h.tenant,
            h.execution_id,
            h.state,
            h.ffqn,
            h.result.as_deref().unwrap_or("-"),
            crate::format::time(when)
        );
    }
    eprintln!("{} executions", hits.len());
    Ok(ExitCode::SUCCESS)
}
