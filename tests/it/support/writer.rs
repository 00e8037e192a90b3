//! A workload writer and a running `litestream replicate`.
//!
//! [`Writer`] owns a fresh SQLite database in WAL mode with table
//! `t (id INTEGER PRIMARY KEY, v TEXT, b BLOB)` and performs steps (small and large inserts
//! with multi-page blobs, updates, deletes, `VACUUM`, growth past a few MB). Each step is ONE
//! transaction, so every committed state of `t` is a recorded [`Step`] (time, rows, hash).
//! [`Replicator`] runs `litestream replicate -config CFG` as a child process and stops it with
//! SIGTERM (Litestream then does its final sync).

use std::path::{Path, PathBuf};
use std::process::{Child, Command};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use rusqlite::{Connection, OpenFlags, params};

use super::cli;

#[derive(Debug, Clone)]
pub struct Step {
    pub index: usize,
    pub label: &'static str,
    /// Taken right before the commit: Litestream may read the commit's WAL frames (and time its
    /// file) before `COMMIT` returns, since the writer's fsync comes after the frames are written;
    /// on a loaded machine that gap was over 50 ms, so a time taken after the commit was late.
    /// (`create` is timed after its commit: Litestream starts only once the writer exists.)
    pub time: DateTime<Utc>,
    pub rows: i64,
    pub hash: u64,
}

pub struct Writer {
    pub path: PathBuf,
    conn: Connection,
    rng: u64,
    pub steps: Vec<Step>,
}

impl Writer {
    /// Creates the database (must not exist) and records step 0 (empty table).
    pub fn create(path: &Path) -> Writer {
        assert!(!path.exists(), "{} already exists", path.display());
        let conn = Connection::open(path).expect("create db");
        conn.busy_timeout(Duration::from_secs(30)).expect("busy_timeout");
        let mode: String = conn.query_row("PRAGMA journal_mode=WAL", [], |r| r.get(0)).expect("WAL mode");
        assert_eq!(mode, "wal");
        conn.execute_batch("CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT, b BLOB);").expect("create table");
        let mut w = Writer { path: path.to_path_buf(), conn, rng: 0x9E37_79B9_7F4A_7C15, steps: Vec::new() };
        w.record("create", Utc::now());
        w
    }

    /// Runs `n` more steps with pauses of 0.3–0.7 s after each one (Litestream syncs in between).
    pub fn run(&mut self, n: usize) {
        for _ in 0..n {
            self.step();
            std::thread::sleep(Duration::from_millis(300 + self.next() % 400));
        }
    }

    /// Performs the next step of the schedule as one transaction and records it.
    pub fn step(&mut self) -> &Step {
        let i = self.steps.len();
        let label = match i {
            _ if i.is_multiple_of(10) => "vacuum",
            _ if i.is_multiple_of(7) => "grow",
            _ if i.is_multiple_of(5) => "delete",
            _ if i.is_multiple_of(3) => "update",
            _ if i.is_multiple_of(2) => "insert-large",
            _ => "insert-small",
        };
        if label == "vacuum" {
            let time = Utc::now();
            self.conn.execute_batch("VACUUM").expect("VACUUM");
            return self.record(label, time);
        }
        let tx = self.conn.transaction().expect("begin");
        match label {
            // 6 rows of 200 KB: the database grows past a few MB over the run.
            "grow" => {
                for _ in 0..6 {
                    let b = bytes(&mut self.rng, 200 * 1024);
                    tx.execute("INSERT INTO t (v, b) VALUES (?1, ?2)", params![format!("grow {i}"), b])
                        .expect("insert");
                }
            }
            "delete" => {
                tx.execute("DELETE FROM t WHERE id % 3 = ?1", params![(i / 5 % 3) as i64]).expect("delete");
            }
            "update" => {
                tx.execute("UPDATE t SET v = v || ?1 WHERE id % 4 = ?2", params![format!(" u{i}"), (i % 4) as i64])
                    .expect("update");
                let b = bytes(&mut self.rng, 12 * 1024);
                tx.execute("UPDATE t SET b = ?1 WHERE id = (SELECT max(id) FROM t)", params![b]).expect("update blob");
            }
            // One row with a multi-page (overflow) blob of 10–50 KB.
            "insert-large" => {
                let len = 10 * 1024 + (next(&mut self.rng) % (40 * 1024)) as usize;
                let b = bytes(&mut self.rng, len);
                tx.execute("INSERT INTO t (v, b) VALUES (?1, ?2)", params![format!("large {i}"), b]).expect("insert");
            }
            _ => {
                for k in 0..20 {
                    let b = bytes(&mut self.rng, 16);
                    tx.execute("INSERT INTO t (v, b) VALUES (?1, ?2)", params![format!("small {i}.{k}"), b])
                        .expect("insert");
                }
            }
        }
        let time = Utc::now();
        tx.commit().expect("commit");
        self.record(label, time)
    }

    /// `PRAGMA wal_checkpoint(TRUNCATE)` on the writer's connection (behind Litestream's back when
    /// it is stopped: v0.3 then starts a new generation).
    pub fn checkpoint_truncate(&self) {
        let (busy, _, _): (i64, i64, i64) = self
            .conn
            .query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
            .expect("checkpoint");
        assert_eq!(busy, 0, "wal_checkpoint(TRUNCATE) was blocked");
    }

    pub fn last(&self) -> &Step {
        self.steps.last().expect("steps")
    }

    /// Steps recorded strictly before `ts` (candidates for a point-in-time restore at `ts`).
    pub fn hashes_before(&self, ts: DateTime<Utc>) -> Vec<u64> {
        self.steps.iter().filter(|s| s.time < ts).map(|s| s.hash).collect()
    }

    pub fn all_hashes(&self) -> Vec<u64> {
        self.steps.iter().map(|s| s.hash).collect()
    }

    fn record(&mut self, label: &'static str, time: DateTime<Utc>) -> &Step {
        let (rows, hash) = content_of(&self.conn);
        self.steps.push(Step { index: self.steps.len(), label, time, rows, hash });
        self.last()
    }

    fn next(&mut self) -> u64 {
        next(&mut self.rng)
    }
}

/// (rows, hash) of table `t` of a database file, opened read-only and immutable.
pub fn content(db: &Path) -> (i64, u64) {
    let uri = format!("file:{}?immutable=1", db.display());
    let conn = Connection::open_with_flags(&uri, OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_URI)
        .unwrap_or_else(|e| panic!("open {uri}: {e}"));
    content_of(&conn)
}

/// Row count and FNV-1a 64 over `(id, v, b)` of every row of `t` in id order.
fn content_of(conn: &Connection) -> (i64, u64) {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    let mut feed = |bytes: &[u8]| {
        for b in (bytes.len() as u64).to_le_bytes().iter().chain(bytes) {
            h = (h ^ u64::from(*b)).wrapping_mul(0x0100_0000_01b3);
        }
    };
    let mut stmt = conn.prepare("SELECT id, v, b FROM t ORDER BY id").expect("select");
    let mut rows = stmt.query([]).expect("query");
    let mut n = 0;
    while let Some(r) = rows.next().expect("row") {
        let id: i64 = r.get(0).expect("id");
        let v: Option<String> = r.get(1).expect("v");
        let b: Option<Vec<u8>> = r.get(2).expect("b");
        feed(&id.to_le_bytes());
        feed(v.unwrap_or_default().as_bytes());
        feed(&b.unwrap_or_default());
        n += 1;
    }
    (n, h)
}

fn next(state: &mut u64) -> u64 {
    // xorshift64*
    let mut x = *state;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    *state = x;
    x.wrapping_mul(0x2545_F491_4F6C_DD1D)
}

/// Half random, half repetitive bytes (LZ4 finds something to compress, pages still differ).
fn bytes(state: &mut u64, len: usize) -> Vec<u8> {
    let mut v = Vec::with_capacity(len + 8);
    while v.len() < len {
        let x = next(state);
        v.extend_from_slice(&x.to_le_bytes());
        v.extend_from_slice(&[(x & 0xff) as u8; 8]);
    }
    v.truncate(len);
    v
}

/// A running `litestream replicate -config CFG`, its output in `log`. Dropping it kills it.
pub struct Replicator {
    child: Option<Child>,
    pub log: PathBuf,
}

impl Replicator {
    pub fn start(litestream: &Path, config: &Path, log: &Path) -> Replicator {
        let file = std::fs::OpenOptions::new().create(true).append(true).open(log).expect("log file");
        let child = cli::litestream_cmd(litestream)
            .arg("replicate")
            .arg("-config")
            .arg(config)
            .stdout(file.try_clone().expect("log"))
            .stderr(file)
            .spawn()
            .unwrap_or_else(|e| panic!("spawn {}: {e}", litestream.display()));
        Replicator { child: Some(child), log: log.to_path_buf() }
    }

    /// Waits until `ready()` (e.g. the first LTX file or snapshot exists) while the process lives.
    pub fn wait_until(&mut self, what: &str, timeout: Duration, mut ready: impl FnMut() -> bool) {
        let start = Instant::now();
        loop {
            if ready() {
                return;
            }
            if let Some(status) = self.child.as_mut().and_then(|c| c.try_wait().ok().flatten()) {
                panic!("litestream exited ({status}) before {what}:\n{}", self.log_text());
            }
            assert!(start.elapsed() < timeout, "no {what} after {timeout:?}:\n{}", self.log_text());
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// SIGTERM (`kill -TERM PID`) and wait for the exit after Litestream's final sync.
    pub fn stop(mut self) {
        let mut child = self.child.take().expect("running");
        if let Ok(Some(status)) = child.try_wait() {
            panic!("litestream had already exited ({status}):\n{}", self.log_text());
        }
        let kill = Command::new("kill").arg("-TERM").arg(child.id().to_string()).status().expect("run kill");
        assert!(kill.success(), "kill -TERM {} failed", child.id());
        let start = Instant::now();
        loop {
            if let Some(status) = child.try_wait().expect("wait") {
                // v0.3.13 exits 1 after its final sync ("error closing db: … context canceled").
                let log = self.log_text();
                assert!(
                    status.success() || log.contains("litestream shut down"),
                    "litestream exited with {status}:\n{log}"
                );
                break;
            }
            if start.elapsed() > Duration::from_secs(60) {
                let _ = child.kill();
                let _ = child.wait();
                panic!("litestream did not stop within 60 s of SIGTERM:\n{}", self.log_text());
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    pub fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

impl Drop for Replicator {
    fn drop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}
