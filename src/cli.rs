//! The command-line interface: headless twins of the app's features, for scripts and CI.

use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Mutex;
use std::time::Instant;

use anyhow::{Context, Result, anyhow, bail};
use chrono::{DateTime, Utc};
use clap::{Args, Parser, Subcommand};

use crate::format::{bytes, time};
use crate::litestream::catalog::{self, Catalog, Times};
use crate::litestream::plan::{self, RestoreTarget};
use crate::litestream::restore::{self, IntegrityCheck, RestoreOptions};
use crate::litestream::v3::AgeIdentities;
use crate::litestream::{Cancel, Progress, ProgressEvent, RestoreError, tenants, verify};
use crate::storage::litestream_config::replicas_for_db;
use crate::storage::{ReplicaAddress, ReplicaStore, S3Options, parse_address};

/// Chronoscope: browse, verify and restore Litestream backups of SQLite databases.
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
        #[arg(short, long)]
        output: PathBuf,
        /// Restore the state as of this time (RFC 3339).
        #[arg(long, conflicts_with_all = ["txid", "generation"])]
        timestamp: Option<String>,
        /// v0.5: restore up to this transaction (hexadecimal, as Litestream prints it).
        #[arg(long, conflicts_with = "generation")]
        txid: Option<String>,
        /// v0.3: restore this generation.
        #[arg(long)]
        generation: Option<String>,
        /// v0.3: stop at this WAL index (hexadecimal; needs --generation).
        #[arg(long, requires = "generation")]
        index: Option<String>,
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
}

/// S3 connection options.
#[derive(Args, Debug, Clone, Default)]
pub struct S3Args {
    /// S3-compatible endpoint URL (e.g. http://127.0.0.1:9000).
    #[arg(long)]
    pub endpoint: Option<String>,
    #[arg(long)]
    pub region: Option<String>,
    /// Path-style addressing (needed by most S3-compatible servers).
    #[arg(long)]
    pub force_path_style: bool,
    /// AWS profile for credentials and region.
    #[arg(long)]
    pub profile: Option<String>,
}

impl S3Args {
    fn options(&self) -> S3Options {
        S3Options { endpoint: self.endpoint.clone(), region: self.region.clone(), force_path_style: self.force_path_style, profile: self.profile.clone() }
    }
}

/// Which replica to read.
#[derive(Args, Debug, Clone)]
pub struct ReplicaArgs {
    /// Replica address (folder, file:///path, s3://bucket/path), or with --config the database path.
    pub replica: String,
    /// Read the replica from this litestream.yml (REPLICA is then the database path).
    #[arg(long)]
    pub config: Option<PathBuf>,
    /// With --config: the replica's name when the database has several.
    #[arg(long = "replica-name")]
    pub replica_name: Option<String>,
    #[command(flatten)]
    pub s3: S3Args,
    /// age identity file for encrypted v0.3 replicas.
    #[arg(long)]
    pub age_identity: Option<PathBuf>,
}

/// A replica opened from the command line.
struct Opened {
    store: Box<dyn ReplicaStore>,
    age: AgeIdentities,
}

impl ReplicaArgs {
    fn open(&self) -> Result<Opened> {
        let (address, mut age) = match &self.config {
            Some(config) => {
                let mut replicas = replicas_for_db(config, Path::new(&self.replica), self.replica_name.as_deref())?;
                if replicas.len() > 1 {
                    let names: Vec<_> = replicas.iter().map(|r| r.name.clone()).collect();
                    bail!("{} has {} replicas ({}): choose one with --replica-name", self.replica, names.len(), names.join(", "));
                }
                let r = replicas.remove(0);
                let mut address = r.address;
                if let ReplicaAddress::S3(loc) = &mut address {
                    let o = self.s3.options();
                    loc.endpoint = o.endpoint.or(loc.endpoint.take());
                    loc.region = o.region.or(loc.region.take());
                    loc.force_path_style |= o.force_path_style;
                    loc.profile = o.profile;
                }
                (address, AgeIdentities::from_strings(&r.age_identities)?)
            }
            None => (parse_address(&self.replica, &self.s3.options())?, AgeIdentities::none()),
        };
        if let Some(path) = &self.age_identity {
            age = AgeIdentities::from_file(path)?;
        }
        Ok(Opened { store: address.open()?, age })
    }
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
            eprintln!("error: {}", one_line(&e));
            if cancelled { ExitCode::from(130) } else { ExitCode::FAILURE }
        }
    }
}

/// The error and its causes on one line (causes already in the message are not repeated).
fn one_line(e: &anyhow::Error) -> String {
    let mut msg = e.to_string();
    for cause in e.chain().skip(1) {
        let c = cause.to_string();
        if !msg.contains(&c) {
            msg.push_str(": ");
            msg.push_str(&c);
        }
    }
    msg.replace('\n', " ")
}

/// With no command: show the bundled demo fleet.
fn run_demo() -> ExitCode {
    let demo = demo_dir();
    println!("Chronoscope {} — no command given; showing the bundled demo fleet in {}\n", env!("CARGO_PKG_VERSION"), demo.display());
    let code = run_command(Command::Tenants { location: demo.display().to_string(), s3: S3Args::default(), json: false, concurrency: 4 })
        .unwrap_or_else(|e| {
            eprintln!("error: {}", one_line(&e));
            ExitCode::FAILURE
        });
    println!("\nTry: chronoscope backups {}/tenant-alpha", demo.display());
    println!("     chronoscope restore {}/tenant-alpha -o /tmp/alpha.db", demo.display());
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
        // Ctrl-C, for work stuck in a network call, exits at once.
        let _ = ctrlc::set_handler(move || {
            if cancel.is_cancelled() {
                std::process::exit(130);
            }
            eprintln!("\ncancelling… (Ctrl-C again to quit at once)");
            cancel.cancel();
        });
    }
    match command {
        Command::Backups { replica, json } => {
            let opened = replica.open()?;
            let catalog = catalog::load(opened.store.as_ref(), Times::Precise)?;
            if json {
                println!("{}", serde_json::to_string_pretty(&catalog)?);
            } else {
                print_catalog(&catalog);
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Tenants { location, s3, json, concurrency } => {
            let store = parse_address(&location, &s3.options())?.open()?;
            let found = tenants::discover(store.as_ref(), concurrency, &crate::litestream::progress::NoProgress, &cancel)?;
            if json {
                println!("{}", serde_json::to_string_pretty(&found)?);
            } else {
                print_tenants(&store.describe(), &found);
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Restore { replica, output, timestamp, txid, generation, index, dry_run, json, overwrite, quick_check, concurrency, no_progress } => {
            let target = match (timestamp, txid, generation) {
                (Some(ts), _, _) => RestoreTarget::Timestamp(parse_time(&ts)?),
                (_, Some(t), _) => RestoreTarget::Txid(parse_hex(&t, "TXID")?),
                (_, _, Some(g)) => RestoreTarget::Generation { id: g, index: index.map(|i| parse_hex(&i, "WAL index")).transpose()? },
                _ => RestoreTarget::Latest,
            };
            let opened = replica.open()?;
            let times = if matches!(target, RestoreTarget::Timestamp(_)) || dry_run { Times::Precise } else { Times::Listing };
            let catalog = catalog::load(opened.store.as_ref(), times)?;
            let plan = plan::plan(&catalog, &target)?;
            if dry_run {
                if json {
                    println!("{}", serde_json::to_string_pretty(&plan)?);
                } else {
                    println!("would restore {} ({} objects, {})", plan.describe(), plan.objects(), bytes(plan.bytes()));
                }
                return Ok(ExitCode::SUCCESS);
            }
            let opts = RestoreOptions {
                output,
                overwrite,
                concurrency,
                age: opened.age,
                integrity: if quick_check { IntegrityCheck::Quick } else { IntegrityCheck::Full },
            };
            let bar = ProgressBar::new(!(json || no_progress) && std::io::stderr().is_terminal());
            let report = restore::execute(opened.store.as_ref(), &plan, &opts, &bar, &cancel);
            bar.finish();
            let report = report?;
            if json {
                println!("{}", serde_json::to_string_pretty(&report)?);
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
            Ok(ExitCode::SUCCESS)
        }
        Command::Verify { replica, json, concurrency, no_progress } => {
            let opened = replica.open()?;
            let catalog = catalog::load(opened.store.as_ref(), Times::Precise)?;
            let bar = ProgressBar::new(!(json || no_progress) && std::io::stderr().is_terminal());
            let report = verify::verify(opened.store.as_ref(), &catalog, &opened.age, concurrency, &bar, &cancel);
            bar.finish();
            let report = report?;
            if json {
                println!("{}", serde_json::to_string_pretty(&report)?);
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
    }
}

fn parse_time(s: &str) -> Result<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(s).map(|t| t.with_timezone(&Utc)).with_context(|| format!("invalid timestamp `{s}` (expected RFC 3339, e.g. 2026-11-24T09:23:30.5Z)"))
}

fn parse_hex(s: &str, what: &str) -> Result<u64> {
    let digits = s.trim_start_matches("0x");
    if digits.is_empty() || digits.len() > 16 {
        return Err(anyhow!("invalid {what} `{s}`: expected up to 16 hexadecimal digits"));
    }
    u64::from_str_radix(digits, 16).map_err(|_| anyhow!("invalid {what} `{s}`: expected hexadecimal digits"))
}

fn print_catalog(c: &Catalog) {
    let format = serde_json::to_value(c.format).ok().and_then(|v| v.as_str().map(str::to_owned)).unwrap_or_else(|| format!("{:?}", c.format));
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
        println!("\nLEVEL  FILES  TXIDS                              FIRST                     LAST                      BYTES");
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
        println!("\nGENERATION        SNAPSHOTS  WAL INDEXES        SEGMENTS  CREATED                   UPDATED                   BYTES");
        for g in &v3.generations {
            let (lo, hi) = (g.segments.iter().map(|s| s.index).min(), g.segments.iter().map(|s| s.index).max());
            let indexes = match (lo, hi) {
                (Some(lo), Some(hi)) => format!("{lo:08x}-{hi:08x}"),
                _ => "-".into(),
            };
            let size: u64 = g.snapshots.iter().map(|s| s.size).sum::<u64>() + g.segments.iter().map(|s| s.size).sum::<u64>();
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

fn print_tenants(location: &str, found: &[tenants::Tenant]) {
    println!("{} replicas under {location}\n", found.len());
    println!("{:<28} {:<6} {:<25} {:<10} {:<18} {:>8} {:>10}  PROBLEMS", "TENANT", "FORMAT", "LATEST", "AGE", "TXID", "OBJECTS", "SIZE");
    let now = Utc::now();
    for t in found {
        let format = serde_json::to_value(t.format).ok().and_then(|v| v.as_str().map(str::to_owned)).unwrap_or_else(|| "mixed".into());
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

/// A progress bar on stderr (only drawn on a terminal).
struct ProgressBar {
    enabled: bool,
    state: Mutex<BarState>,
}

struct BarState {
    phase: &'static str,
    total: Option<u64>,
    started: Instant,
    last_draw: Option<Instant>,
}

impl ProgressBar {
    fn new(enabled: bool) -> Self {
        ProgressBar { enabled, state: Mutex::new(BarState { phase: "", total: None, started: Instant::now(), last_draw: None }) }
    }

    fn finish(&self) {
        if self.enabled {
            eprint!("\r\x1b[2K");
            let _ = std::io::stderr().flush();
        }
    }
}

impl Progress for ProgressBar {
    fn report(&self, event: ProgressEvent) {
        if !self.enabled {
            return;
        }
        let mut s = self.state.lock().unwrap_or_else(|p| p.into_inner());
        match event {
            ProgressEvent::Phase { name, total } => {
                s.phase = name;
                s.total = total;
                s.started = Instant::now();
                eprint!("\r\x1b[2K{name}…");
            }
            ProgressEvent::Advance { done } => {
                if s.last_draw.is_some_and(|t| t.elapsed().as_millis() < 100) {
                    return;
                }
                s.last_draw = Some(Instant::now());
                let speed = done as f64 / s.started.elapsed().as_secs_f64().max(0.001);
                let line = match s.total {
                    Some(total) if total > 0 => {
                        let frac = (done as f64 / total as f64).min(1.0);
                        let filled = (frac * 30.0) as usize;
                        format!(
                            "{} [{}{}] {:>3.0}% {} / {} {}/s",
                            s.phase,
                            "#".repeat(filled),
                            " ".repeat(30 - filled),
                            frac * 100.0,
                            bytes(done),
                            bytes(total),
                            bytes(speed as u64)
                        )
                    }
                    _ => format!("{} {}", s.phase, bytes(done)),
                };
                eprint!("\r\x1b[2K{line}");
            }
            ProgressEvent::Note(_) => {}
        }
        let _ = std::io::stderr().flush();
    }
}
