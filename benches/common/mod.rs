//! Bench data built from the real Obelisk 0.41.5 fixture: copies of its executions with
//! re-keyed IDs, shared by the benchmarks (`#[path]`-included); and running the release binary
//! as a measured child process (time and peak RSS).

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use chronoscope::obelisk::Ulid;
use rusqlite::types::Value;
use rusqlite::{Connection, params_from_iter};

pub const FIXTURE: &str = "tests/fixtures/obelisk/0.41.5/demo.sqlite";
/// Tables copied: what whole-database replay and re-execution read.
pub const TABLES: [&str; 4] = ["t_execution_log", "t_state", "t_join_set_response", "t_delay"];
const CROCKFORD: &[u8] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";

pub fn env_usize(name: &str, default: usize) -> usize {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

pub fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

pub fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

pub fn ms(d: Duration) -> String {
    format!("{:.1} ms", d.as_secs_f64() * 1000.0)
}

pub fn us(d: Duration) -> String {
    format!("{:.1} µs", d.as_secs_f64() * 1e6)
}

/// A ULID keeping `root`'s timestamp (first 10 characters) with `n` as its random part.
pub fn rekeyed(root: &str, n: u64) -> String {
    let mut random = [b'0'; 16];
    let mut v = n;
    for c in random.iter_mut().rev() {
        *c = CROCKFORD[(v % 32) as usize];
        v /= 32;
    }
    format!("{}{}", &root[..10], std::str::from_utf8(&random).unwrap_or_default())
}

/// Column names of `table` that can be inserted (no generated columns, no AUTOINCREMENT id).
pub fn columns(conn: &Connection, table: &str) -> Vec<String> {
    let mut stmt = conn.prepare(&format!("PRAGMA table_info({table})")).unwrap();
    let names: Vec<String> = stmt.query_map([], |r| r.get::<_, String>(1)).unwrap().flatten().collect();
    names.into_iter().filter(|c| !(table == "t_join_set_response" && c == "id")).collect()
}

pub fn rows(conn: &Connection, table: &str, cols: &[String], order: &str) -> Vec<Vec<Value>> {
    let sql = format!("SELECT {} FROM {table} ORDER BY {order}", cols.join(", "));
    let mut stmt = conn.prepare(&sql).unwrap();
    let n = cols.len();
    stmt.query_map([], |r| (0..n).map(|i| r.get::<_, Value>(i)).collect()).unwrap().flatten().collect()
}

pub fn insert_sql(table: &str, cols: &[String]) -> String {
    let marks: Vec<String> = (1..=cols.len()).map(|i| format!("?{i}")).collect();
    format!("INSERT INTO {table} ({}) VALUES ({})", cols.join(", "), marks.join(", "))
}

/// A fresh copy of the fixture with the tables in `empty` emptied.
pub fn start_from_fixture(path: &Path, empty: &[&str]) -> Connection {
    let _ = std::fs::remove_file(path);
    std::fs::copy(repo().join(FIXTURE), path).unwrap();
    let conn = Connection::open(path).unwrap();
    conn.pragma_update(None, "journal_mode", "DELETE").unwrap();
    conn.pragma_update(None, "synchronous", "OFF").unwrap();
    for t in empty {
        conn.execute(&format!("DELETE FROM {t}"), []).unwrap();
    }
    conn
}

/// A persisted generated execution ID (`"kind":{"type":"execution_id"}`) re-keyed like the
/// text around it, so a copied `wf.parent` still schedules the IDs its persist events hold.
fn rekey_persisted_ids(json: &str, map: &[(&str, String)]) -> Option<String> {
    if !json.contains(r#""type":"persist""#) || !json.contains(r#""type":"execution_id""#) {
        return None;
    }
    let mut value: serde_json::Value = serde_json::from_str(json).ok()?;
    let bytes = value.pointer_mut("/history_event/event/value")?;
    let raw: Vec<u8> = serde_json::from_value(bytes.clone()).ok()?;
    let old = Ulid::from_bytes(raw.try_into().ok()?).to_string();
    let new = map.iter().find(|(o, _)| *o == old)?.1.clone();
    *bytes = serde_json::to_value(Ulid::parse(&new).ok()?.to_bytes()).ok()?;
    serde_json::to_string(&value).ok()
}

/// Every execution of the fixture copied (`copies` times, or until `min_rows` log rows), each
/// root ULID replaced in every text column and in persisted generated IDs, so children, delays,
/// responses and scheduled executions stay linked and re-execution still matches.
/// A fixture table: its name, columns and rows.
type Table = (&'static str, Vec<String>, Vec<Vec<Value>>);

pub fn build_copies(path: &Path, min_rows: usize, copies: Option<usize>) {
    let source = Connection::open(repo().join(FIXTURE)).unwrap();
    let roots: Vec<String> = {
        let mut stmt = source.prepare("SELECT DISTINCT substr(execution_id, 3, 26) FROM t_state").unwrap();
        stmt.query_map([], |r| r.get(0)).unwrap().flatten().collect()
    };
    let tables: Vec<Table> = TABLES
        .iter()
        .map(|t| {
            let cols = columns(&source, t);
            let order = if *t == "t_join_set_response" { "id" } else { "rowid" };
            let data = rows(&source, t, &cols, order);
            (*t, cols, data)
        })
        .collect();
    let per_copy = tables[0].2.len();
    let copies = copies.unwrap_or_else(|| min_rows.div_ceil(per_copy));
    eprintln!("bench: building {} ({copies} copies of {per_copy} log rows, {} roots)", path.display(), roots.len());
    let mut conn = start_from_fixture(path, &TABLES);
    let tx = conn.transaction().unwrap();
    for (table, cols, data) in &tables {
        let mut stmt = tx.prepare(&insert_sql(table, cols)).unwrap();
        for copy in 0..copies {
            let map: Vec<(&str, String)> = roots
                .iter()
                .enumerate()
                .map(|(i, r)| (r.as_str(), rekeyed(r, (copy * roots.len() + i) as u64)))
                .collect();
            for row in data {
                let values = row.iter().map(|v| match v {
                    Value::Text(s) => {
                        let mut s = rekey_persisted_ids(s, &map).unwrap_or_else(|| s.clone());
                        for (old, new) in &map {
                            if s.contains(old) {
                                s = s.replace(old, new);
                            }
                        }
                        Value::Text(s)
                    }
                    other => other.clone(),
                });
                stmt.execute(params_from_iter(values)).unwrap();
            }
        }
    }
    tx.commit().unwrap();
}

// --- Running the release binary as a measured child process -----------------------------

/// Runs `cmd`; its wall time, and the largest peak RSS of any child this process waited for
/// (`RUSAGE_CHILDREN`): called once per fresh process, that is `cmd`'s own.
pub fn run(cmd: &mut Command) -> (Duration, f64, std::process::Output) {
    let t = Instant::now();
    let out = cmd.output().expect("run");
    let took = t.elapsed();
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    unsafe { libc::getrusage(libc::RUSAGE_CHILDREN, &mut usage) };
    (took, usage.ru_maxrss as f64 / 1024.0, out)
}

/// `bin args…` run by a fresh copy of this bench (`--measure`), so that its peak RSS is its
/// own; wall time and peak RSS in MB.
pub fn measured(bin: &Path, args: &[String], env: &[(&str, &Path)]) -> (Duration, f64) {
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

/// When this bench process was started by [`measured`] (`--measure BIN ARGS…`): run the
/// command, print its peak RSS, exit with its status. Call first thing in `main`.
pub fn measuring_child() {
    let mut args = std::env::args().skip(1).filter(|a| a != "--bench");
    if args.next().as_deref() != Some("--measure") {
        return;
    }
    let bin = args.next().expect("a program");
    let rest: Vec<String> = args.collect();
    let (_, rss, out) = run(std::process::Command::new(&bin).args(&rest));
    eprint!("{}", String::from_utf8_lossy(&out.stderr));
    // Only the figure on stdout (the command's own output is not needed here).
    println!("peak_rss_mb={rss:.1}");
    std::process::exit(out.status.code().unwrap_or(1));
}

/// `cp -a FROM TO`.
pub fn copy_dir(from: &Path, to: &Path) {
    let st = Command::new("cp").arg("-a").arg(from).arg(to).status().expect("cp");
    assert!(st.success(), "cp -a {}", from.display());
}

/// The v0.3 fixture replica (tenant gamma) extracted into a temp folder; the folder and the
/// replica's root in it.
pub fn gamma_replica() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().expect("temp dir");
    let tarball = repo().join("tests/fixtures/fleet/v0.3/tenant-gamma.replica.tar.gz");
    let st = Command::new("tar").arg("xzf").arg(&tarball).arg("-C").arg(dir.path()).status().expect("tar");
    assert!(st.success(), "tar xzf {}", tarball.display());
    let root = std::fs::read_dir(dir.path()).unwrap().flatten().next().expect("the replica").path();
    (dir, root)
}
