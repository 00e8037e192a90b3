//! `chronoscope upgrade-check`: would this build of a workflow continue the in-flight
//! executions of every tenant? Exit 0 when all are compatible, 2 when any is not (or a tenant
//! could not be checked), 1 when the check itself cannot run (the component does not load).

use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::atomic::{AtomicU64, Ordering};

use anyhow::{Context, Result};

use super::args::S3Args;
use super::progress_bar::ProgressBar;
use crate::cancel::Cancel;
use crate::fleet::junit::junit_xml;
use crate::fleet::subjects::subjects_of;
use crate::fleet::upgrade::{CheckOptions, TenantVerdicts, Verdict, check_all};
use crate::litestream::{Progress, ProgressEvent, Unit};
use crate::rerun::{Compiled, Rerunner, default_cache_dir};

/// The options of `upgrade-check`.
pub struct UpgradeCmd {
    pub source: String,
    pub s3: S3Args,
    pub component: PathBuf,
    pub all: bool,
    pub json: bool,
    pub junit: Option<PathBuf>,
    pub parallel: usize,
    pub fuel: u64,
    pub no_progress: bool,
}

pub fn upgrade_check(cmd: &UpgradeCmd, cancel: &Cancel) -> Result<ExitCode> {
    let rerunner = Rerunner::new(Some(default_cache_dir()))?;
    let candidate = rerunner.prepare_file(&cmd.component)?;
    if candidate.compiled == Compiled::Fresh {
        eprintln!("compiled {} ({}) in {:.0?}", cmd.component.display(), candidate.digest, candidate.took);
    }
    let bar = ProgressBar::new(!(cmd.json || cmd.no_progress) && std::io::stderr().is_terminal());
    let subjects = subjects_of(&cmd.source, &cmd.s3.options(), &bar, cancel)?;
    bar.report(ProgressEvent::Phase {
        name: "checking",
        total: Some(subjects.len() as u64),
        unit: Unit::Items("tenants"),
    });
    let options = CheckOptions {
        all: cmd.all,
        parallel: cmd.parallel,
        cache_dir: crate::litestream::cache::default_dir(),
        fuel: cmd.fuel,
    };
    let done = AtomicU64::new(0);
    let on_done = |_: usize, _: &TenantVerdicts| {
        let n = done.fetch_add(1, Ordering::Relaxed) + 1;
        bar.report(ProgressEvent::Advance { done: n });
    };
    let results = check_all(&rerunner, &candidate, &subjects, &options, &on_done, cancel);
    bar.finish();
    if cancel.is_cancelled() {
        anyhow::bail!("cancelled");
    }
    if let Some(path) = &cmd.junit {
        write_atomically(path, &junit_xml(&results, &cmd.component.display().to_string()))?;
    }
    if cmd.json {
        super::json_out::print_json(&results)?;
    } else {
        print_table(&results);
    }
    let executions: usize = results.iter().map(|t| t.executions.len()).sum();
    let count = |v: Verdict| results.iter().map(|t| t.count(v)).sum::<usize>();
    let failed = results.iter().filter(|t| t.error.is_some()).count();
    eprintln!(
        "{} tenants, {executions} executions: {} compatible, {} nondeterministic, {} trapped, {} errors; {failed} tenants not checked",
        results.len(),
        count(Verdict::Compatible),
        count(Verdict::Nondeterministic),
        count(Verdict::Trapped),
        count(Verdict::Error),
    );
    Ok(if results.iter().all(TenantVerdicts::all_compatible) { ExitCode::SUCCESS } else { ExitCode::from(2) })
}

fn print_table(results: &[TenantVerdicts]) {
    let width = results.iter().map(|t| t.tenant.chars().count()).max().unwrap_or(6).max(6);
    println!("{:<width$}  {:<44} {:<34} {:<20} {:<16} WHERE", "TENANT", "EXECUTION", "FUNCTION", "STATE", "VERDICT");
    for t in results {
        if let Some(e) = &t.error {
            println!("{:<width$}  {:<44} {:<34} {:<20} {:<16} {e}", t.tenant, "-", "-", "-", "error");
            continue;
        }
        if t.executions.is_empty() {
            println!("{:<width$}  {:<44} {:<34} {:<20} {:<16} no execution to check", t.tenant, "-", "-", "-", "-");
        }
        for e in &t.executions {
            // The detail names the version and the source line already.
            let detail = &e.detail;
            println!(
                "{:<width$}  {:<44} {:<34} {:<20} {:<16} {detail}",
                t.tenant,
                e.execution_id.to_string(),
                e.ffqn,
                e.state,
                e.verdict.as_str()
            );
        }
    }
}

/// Write `text` to a temp file beside `path`, flushed, then renamed over `path`.
fn write_atomically(path: &std::path::Path, text: &str) -> Result<()> {
    use std::io::Write;
    let dir = path.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(std::path::Path::new("."));
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_else(|| "junit.xml".into());
    let temp = dir.join(format!(".{name}.tmp-{}", std::process::id()));
    let written = (|| -> std::io::Result<()> {
        let mut file = std::fs::File::create(&temp)?;
        file.write_all(text.as_bytes())?;
        file.sync_all()?;
        std::fs::rename(&temp, path)
    })();
    if written.is_err() {
        let _ = std::fs::remove_file(&temp);
    }
    written.with_context(|| format!("cannot write {}", path.display()))
}
