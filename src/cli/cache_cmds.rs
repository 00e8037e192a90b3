//! `chronoscope restore … --cache` and `chronoscope cache ls|rm|gc`.

use std::io::IsTerminal;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::Result;

use super::CacheAction;
use super::args::{ReplicaArgs, TargetArgs};
use super::progress_bar::ProgressBar;
use crate::format::bytes;
use crate::litestream::Cancel;
use crate::litestream::cache::refresh::{CacheOutcome, refresh_latest};
use crate::litestream::cache::{admin, default_dir, restore_cached};
use crate::litestream::plan::RestoreTarget;

/// Restore into the cache: the latest point refreshed incrementally, other points once.
pub fn restore_into_cache(
    replica: &ReplicaArgs,
    target: &TargetArgs,
    json: bool,
    no_progress: bool,
    cancel: &Cancel,
) -> Result<ExitCode> {
    let target = target.target()?;
    let opened = replica.open(cancel)?;
    let bar = ProgressBar::new(!(json || no_progress) && std::io::stderr().is_terminal());
    let dir = default_dir();
    if target != RestoreTarget::Latest {
        let r = restore_cached(opened.store.as_ref(), &target, &opened.age, &dir, &bar, cancel);
        bar.finish();
        let (path, fresh) = r?;
        let how = if fresh { "restored" } else { "already cached" };
        if json {
            println!("{}", serde_json::json!({ "path": path, "outcome": how }));
        } else {
            println!("{how}: {}", path.display());
        }
        return Ok(ExitCode::SUCCESS);
    }
    let r = refresh_latest(opened.store.as_ref(), &opened.age, &dir, &bar, cancel);
    bar.finish();
    let r = r?;
    let (outcome, files, read) = match r.outcome {
        CacheOutcome::UpToDate => ("up_to_date", 0, 0),
        CacheOutcome::Restored => ("restored", 0, 0),
        CacheOutcome::Refreshed { files, bytes } => ("refreshed", files, bytes),
    };
    if json {
        println!(
            "{}",
            serde_json::to_string_pretty(&serde_json::json!({
                "path": r.path, "outcome": outcome, "files": files, "bytes": read, "manifest": r.manifest,
            }))?
        );
    } else {
        let point = r.manifest.point.describe();
        match r.outcome {
            CacheOutcome::UpToDate => println!("up to date at {point}: {}", r.path.display()),
            CacheOutcome::Restored => println!("restored {point} in full: {}", r.path.display()),
            CacheOutcome::Refreshed { files, bytes: b } => {
                let what = r.manifest.point.objects();
                println!("refreshed to {point} with {files} {what} ({}): {}", bytes(b), r.path.display())
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// `chronoscope cache ls|rm|gc`.
pub fn cache(action: CacheAction) -> Result<ExitCode> {
    let dir = default_dir();
    match action {
        CacheAction::Ls { json } => {
            let entries = admin::list(&dir)?;
            if json {
                super::json_out::print_json(&entries)?;
                return Ok(ExitCode::SUCCESS);
            }
            println!("{:<60} {:>10}  {:<24} POINT", "FILE", "SIZE", "USED");
            for e in &entries {
                let name = e.path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
                let point = e.manifest.as_ref().map(|m| format!("{} {}", m.replica, m.point.describe()));
                println!(
                    "{name:<60} {:>10}  {:<24} {}",
                    bytes(e.bytes),
                    crate::format::time(e.used),
                    point.unwrap_or_else(|| "-".into())
                );
            }
            eprintln!(
                "{} cached databases, {} in {}",
                entries.len(),
                bytes(entries.iter().map(|e| e.bytes).sum()),
                dir.display()
            );
        }
        CacheAction::Rm { names, all } => {
            let entries = admin::list(&dir)?;
            let chosen: Vec<_> = if all {
                entries
            } else {
                let mut chosen = Vec::new();
                for n in &names {
                    let found = entries.iter().find(|e| {
                        e.path.to_string_lossy() == n.as_str()
                            || e.path.file_name().is_some_and(|f| f.to_string_lossy() == n.as_str())
                    });
                    match found {
                        Some(e) => chosen.push(e.clone()),
                        None => anyhow::bail!(
                            "{n}: not a cached database in {} (see `chronoscope cache ls`)",
                            dir.display()
                        ),
                    }
                }
                chosen
            };
            for e in &chosen {
                admin::remove(&e.path)?;
            }
            println!("removed {} cached databases ({})", chosen.len(), bytes(chosen.iter().map(|e| e.bytes).sum()));
        }
        CacheAction::Gc { unused_for } => {
            let r = admin::gc(&dir, Duration::from_secs(unused_for * 86_400))?;
            println!(
                "removed {} databases unused for {unused_for} days ({}) and {} leftovers of interrupted restores",
                r.removed.len(),
                bytes(r.bytes),
                r.leftovers
            );
        }
    }
    Ok(ExitCode::SUCCESS)
}
