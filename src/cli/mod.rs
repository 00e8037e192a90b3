//! The command-line interface: headless twins of the app's features, for scripts and CI.
//!
//! One file per group of commands; this file holds the command tree and the dispatch.

mod args;
mod backup_cmds;
mod cache_cmds;
mod db_cmds;
mod fleet_cmd;
mod json_out;
mod progress_bar;
mod replay_cmds;
mod replay_text;
mod rerun_cmd;
mod upgrade_cmd;

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, Result, anyhow};
use chrono::{DateTime, Utc};
use clap::{Parser, Subcommand};

use crate::litestream::{Cancel, RestoreError};
pub use args::{DbArgs, ReplicaArgs, S3Args, TargetArgs};

/// Chronoscope: browse, verify and restore Litestream backups of SQLite databases, and step
/// through the durable-workflow executions stored in them.
#[derive(Parser, Debug)]
#[command(name = "chronoscope", version, about, long_about = None)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// List a replica's restore points: levels or generations, TXID and time ranges, problems.
    Backups {
        #[command(flatten)]
        replica: ReplicaArgs,
        #[arg(long)]
        json: bool,
    },
    /// Find every replica (tenant) below an S3 prefix or a folder.
    Tenants {
        /// `s3://bucket/prefix`, a folder, or `file:///path`.
        location: String,
        #[command(flatten)]
        s3: S3Args,
        #[arg(long)]
        json: bool,
        /// Parallel listing requests.
        #[arg(long, default_value_t = 16)]
        concurrency: usize,
    },
    /// Restore a replica into a verified SQLite file.
    Restore {
        #[command(flatten)]
        replica: ReplicaArgs,
        /// Output database file (written to a temp file first, renamed after verification).
        #[arg(short, long, required_unless_present_any = ["cache", "dry_run", "fetch_only"], conflicts_with = "cache")]
        output: Option<PathBuf>,
        /// Restore into the restore cache instead (the latest point is refreshed incrementally:
        /// only the LTX files above the cached TXID are read) and print the cached file's path.
        #[arg(long)]
        cache: bool,
        #[command(flatten)]
        target: TargetArgs,
        /// Print the plan and do nothing.
        #[arg(long)]
        dry_run: bool,
        /// Machine-readable output.
        #[arg(long)]
        json: bool,
        /// Replace OUTPUT if it exists.
        #[arg(long)]
        overwrite: bool,
        /// Use `PRAGMA quick_check` instead of the full `integrity_check`.
        #[arg(long)]
        quick_check: bool,
        /// Parallel downloads.
        #[arg(long, default_value_t = 8)]
        concurrency: usize,
        #[arg(long)]
        no_progress: bool,
        /// Download the objects the restore would read, with the same client and concurrency,
        /// and discard them; nothing is written (the floor `scripts/bench-restore.sh` prints).
        #[arg(long, hide = true, conflicts_with_all = ["cache", "dry_run"])]
        fetch_only: bool,
    },
    /// Read every object of a replica and check every checksum and the chain.
    Verify {
        #[command(flatten)]
        replica: ReplicaArgs,
        #[arg(long)]
        json: bool,
        #[arg(long, default_value_t = 8)]
        concurrency: usize,
        #[arg(long)]
        no_progress: bool,
    },
    /// List the executions of an Obelisk database (a SQLite file, or a replica restored first).
    Executions {
        #[command(flatten)]
        db: DbArgs,
        /// pending, locked, blocked, finished, unfinished, paused, cancelling, ok, err, failed.
        #[arg(long)]
        status: Option<String>,
        /// Only functions whose FFQN starts with this.
        #[arg(long)]
        ffqn: Option<String>,
        /// Only executions whose ID starts with this.
        #[arg(long)]
        id: Option<String>,
        #[arg(long)]
        json: bool,
    },
    /// Show an execution's log with decoded events.
    Events {
        #[command(flatten)]
        db: DbArgs,
        /// `E_…` (top-level or derived child ID).
        execution_id: String,
        #[arg(long)]
        json: bool,
    },
    /// Replay an execution and show its state at a step: pending state, join sets, children,
    /// delays, retries and what the workflow received. DB may also be a file from `export`.
    Replay {
        #[command(flatten)]
        db: DbArgs,
        /// `E_…`; optional for an export file (its root execution).
        execution_id: Option<String>,
        /// 0-based step (log events with responses interleaved); default: the last.
        #[arg(long)]
        step: Option<usize>,
        #[arg(long)]
        json: bool,
    },
    /// Replay every execution and compare with Obelisk's own state (`t_state`); exit 1 on findings.
    Check {
        #[command(flatten)]
        db: DbArgs,
        #[arg(long)]
        json: bool,
    },
    /// Re-execute workflow executions with their own WASM component (stored in the database
    /// since Obelisk 0.39), or with another build, against their recorded logs: finished,
    /// trapped, blocked, pending or nondeterministic, with source lines. Exit 0 when every
    /// execution agrees with its log, 2 when any does not, 1 on errors.
    Rerun {
        #[command(flatten)]
        db: DbArgs,
        /// `E_…` IDs; none: every workflow execution.
        execution_ids: Vec<String>,
        /// Run this component (`.wasm`) instead of the recorded one: would this build replay?
        #[arg(long)]
        component: Option<PathBuf>,
        /// Read source lines from this folder when the database does not store them.
        #[arg(long = "source", value_name = "DIR")]
        source_dir: Option<PathBuf>,
        /// Fuel (≈ WebAssembly instructions) per execution before it is stopped as looping.
        #[arg(long, default_value_t = 2_000_000_000)]
        fuel: u64,
        #[arg(long)]
        json: bool,
    },
    /// Before a deploy: re-execute the unfinished workflow executions of every tenant of SOURCE
    /// against a candidate build and report per tenant and execution: compatible,
    /// nondeterministic (where, recorded vs produced), trapped, or error. Exit 0 when all are
    /// compatible, 2 when any is not or a tenant could not be checked, 1 when the check cannot run.
    UpgradeCheck {
        /// A database, a replica folder, an `s3://` prefix, a `litestream.yml`, or a folder of
        /// tenant replicas.
        source: String,
        #[command(flatten)]
        s3: S3Args,
        /// The candidate build of the workflow component (`.wasm`).
        #[arg(long)]
        component: PathBuf,
        /// Check every workflow execution the candidate exports the function of, finished ones too.
        #[arg(long)]
        all: bool,
        #[arg(long)]
        json: bool,
        /// Also write a JUnit XML report (one test case per execution) to this file.
        #[arg(long, value_name = "FILE")]
        junit: Option<PathBuf>,
        /// Tenants checked at once.
        #[arg(long, default_value_t = 4)]
        parallel: usize,
        /// Fuel (≈ WebAssembly instructions) per execution before it is stopped as looping.
        #[arg(long, default_value_t = 2_000_000_000)]
        fuel: u64,
        /// No progress bar.
        #[arg(long)]
        no_progress: bool,
    },
    /// One index over every tenant of a source: `scan` refreshes each tenant's cached restore
    /// (incrementally) and reads its executions; `search` queries them.
    Fleet {
        #[command(subcommand)]
        action: FleetAction,
    },
    /// The restore cache (`~/.cache/chronoscope/restores`): list its databases, remove some,
    /// or collect the unused ones.
    Cache {
        #[command(subcommand)]
        action: CacheAction,
    },
    /// Write an execution with its children (events, responses, logs, replayed states) as one
    /// JSON document, which `replay` and the app open again.
    Export {
        #[command(flatten)]
        db: DbArgs,
        execution_id: String,
        /// The JSON file to write (atomically).
        #[arg(short, long)]
        output: PathBuf,
        /// Print a machine-readable summary.
        #[arg(long)]
        json: bool,
    },
}

/// Parse and run the command line; the process exit code.
pub fn run() -> ExitCode {
    let cli = Cli::parse();
    let Some(command) = cli.command else {
        return run_demo();
    };
    match run_command(command) {
        Ok(code) => code,
        Err(e) => {
            let cancelled = e.downcast_ref::<RestoreError>().is_some_and(|e| matches!(e, RestoreError::Cancelled));
            eprintln!("error: {}", crate::format::error_chain(&e));
            if cancelled { ExitCode::from(130) } else { ExitCode::FAILURE }
        }
    }
}

/// With no command: show the bundled demo fleet.
fn run_demo() -> ExitCode {
    let demo = demo_dir();
    println!(
        "Chronoscope {} — no command given; showing the bundled demo fleet in {}\n",
        env!("CARGO_PKG_VERSION"),
        demo.display()
    );
    let command =
        Command::Tenants { location: demo.display().to_string(), s3: S3Args::default(), json: false, concurrency: 4 };
    let code = run_command(command).unwrap_or_else(|e| {
        eprintln!("error: {}", crate::format::error_chain(&e));
        ExitCode::FAILURE
    });
    println!("\nTry: chronoscope backups {}/tenant-alpha", demo.display());
    println!("     chronoscope restore {}/tenant-alpha -o /tmp/alpha.db", demo.display());
    println!("     chronoscope executions {}/tenant-alpha", demo.display());
    println!("     chronoscope --help");
    code
}

/// The bundled demo replicas (next to the executable's crate, or in the current directory).
pub fn demo_dir() -> PathBuf {
    let built_in = Path::new(env!("CARGO_MANIFEST_DIR")).join("assets/demo");
    if built_in.is_dir() { built_in } else { PathBuf::from("assets/demo") }
}

fn run_command(command: Command) -> Result<ExitCode> {
    let cancel = Cancel::new();
    {
        let cancel = cancel.clone();
        // Ctrl-C cancels the running work (the temp output is removed on the way out); a second
        // Ctrl-C, for work stuck in a network call, removes the temp outputs and exits at once.
        let _ = ctrlc::set_handler(move || {
            if cancel.is_cancelled() {
                crate::litestream::output::remove_live_temp_files();
                std::process::exit(130);
            }
            eprintln!("\ncancelling… (Ctrl-C again to quit at once)");
            cancel.cancel();
        });
    }
    match command {
        Command::Backups { replica, json } => backup_cmds::backups(&replica, json, &cancel),
        Command::Tenants { location, s3, json, concurrency } => {
            backup_cmds::tenants(&location, &s3, json, concurrency, &cancel)
        }
        Command::Restore {
            replica,
            output,
            cache,
            target,
            dry_run,
            json,
            overwrite,
            quick_check,
            concurrency,
            no_progress,
            fetch_only,
        } => {
            let opts = backup_cmds::RestoreCmd {
                output,
                dry_run,
                json,
                overwrite,
                quick_check,
                concurrency,
                no_progress,
                fetch_only,
            };
            if cache && !dry_run {
                cache_cmds::restore_into_cache(&replica, &target, json, no_progress, &cancel)
            } else {
                backup_cmds::restore(&replica, &target, &opts, &cancel)
            }
        }
        Command::Verify { replica, json, concurrency, no_progress } => {
            backup_cmds::verify(&replica, json, concurrency, no_progress, &cancel)
        }
        Command::Executions { db, status, ffqn, id, json } => {
            db_cmds::executions(&db, status.as_deref(), ffqn, id, json, &cancel)
        }
        Command::Events { db, execution_id, json } => db_cmds::events(&db, &execution_id, json, &cancel),
        Command::Replay { db, execution_id, step, json } => {
            replay_cmds::replay(&db, execution_id.as_deref(), step, json, &cancel)
        }
        Command::Check { db, json } => replay_cmds::check(&db, json, &cancel),
        Command::Export { db, execution_id, output, json } => {
            replay_cmds::export(&db, &execution_id, &output, json, &cancel)
        }
        Command::Cache { action } => cache_cmds::cache(action),
        Command::Fleet { action: FleetAction::Scan { source, s3, parallel, json } } => {
            fleet_cmd::fleet_scan(&source, &s3, parallel, json, &cancel)
        }
        Command::Fleet { action: FleetAction::Search { source, state, ffqn, result, since, text, limit, json } } => {
            let cmd = fleet_cmd::SearchCmd { state, ffqn, result, since, text, limit, json };
            fleet_cmd::fleet_search(&source, &cmd)
        }
        Command::UpgradeCheck { source, s3, component, all, json, junit, parallel, fuel, no_progress } => {
            let cmd = upgrade_cmd::UpgradeCmd { source, s3, component, all, json, junit, parallel, fuel, no_progress };
            upgrade_cmd::upgrade_check(&cmd, &cancel)
        }
        Command::Rerun { db, execution_ids, component, source_dir, fuel, json } => {
            let cmd = rerun_cmd::RerunCmd { execution_ids, component, source_dir, json, fuel };
            rerun_cmd::rerun(&db, &cmd, &cancel)
        }
    }
}

/// What `chronoscope fleet` does.
#[derive(Debug, Subcommand)]
pub enum FleetAction {
    /// Refresh every tenant's cached restore and read its executions into the fleet index
    /// (tenants whose backup did not move are not read again). Exit 2 when a tenant failed.
    Scan {
        /// A folder of tenant replicas, an `s3://` prefix, a `litestream.yml`.
        source: String,
        #[command(flatten)]
        s3: S3Args,
        #[arg(long, default_value_t = 8)]
        parallel: usize,
        #[arg(long)]
        json: bool,
    },
    /// Executions across all tenants of a scanned source, most recently updated first.
    Search {
        source: String,
        /// `pending_at`, `locked`, `blocked_by_join_set`, `finished`.
        #[arg(long)]
        state: Option<String>,
        /// Function prefix (`demo:workflow/wf.`).
        #[arg(long)]
        ffqn: Option<String>,
        /// `ok`, `err`, `failed` (any failure) or `failed: KIND`.
        #[arg(long)]
        result: Option<String>,
        /// Updated or finished at or after this time (RFC 3339).
        #[arg(long)]
        since: Option<String>,
        /// Words of the error (SQLite FTS5 syntax: `trap AND panic`, `"exact phrase"`).
        #[arg(long)]
        text: Option<String>,
        #[arg(long, default_value_t = 1000)]
        limit: usize,
        #[arg(long)]
        json: bool,
    },
}

/// What `chronoscope cache` does.
#[derive(Debug, Subcommand)]
pub enum CacheAction {
    /// The cached databases, most recently used first: replica, point, size, last use.
    Ls {
        #[arg(long)]
        json: bool,
    },
    /// Remove cached databases (by file name or path), or all of them.
    Rm {
        names: Vec<String>,
        #[arg(long, conflicts_with = "names")]
        all: bool,
    },
    /// Remove the databases not used for DAYS days, and what interrupted restores left behind.
    Gc {
        #[arg(long, value_name = "DAYS", default_value_t = 7)]
        unused_for: u64,
    },
}

/// An RFC 3339 time from the command line.
pub fn parse_time(s: &str) -> Result<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(s)
        .map(|t| t.with_timezone(&Utc))
        .with_context(|| format!("invalid timestamp `{s}` (expected RFC 3339, e.g. 2026-11-24T09:23:30.5Z)"))
}

/// A hexadecimal number (TXID, WAL index) from the command line.
pub fn parse_hex(s: &str, what: &str) -> Result<u64> {
    let digits = s.trim_start_matches("0x");
    if digits.is_empty() || digits.len() > 16 {
        return Err(anyhow!("invalid {what} `{s}`: expected up to 16 hexadecimal digits"));
    }
    u64::from_str_radix(digits, 16).map_err(|_| anyhow!("invalid {what} `{s}`: expected hexadecimal digits"))
}
