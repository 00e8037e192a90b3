//! Test helpers: the real replicas from `shared/fixtures`, extracted with `tar` (which keeps the
//! mtimes that are v0.3's restore-point times).

use std::path::{Path, PathBuf};
use std::process::Command;

use chrono::DateTime;

use crate::storage::{LocalStore, ObjectInfo, ReplicaStore};

/// The age identity of `fx3b/litestream.yml`.
pub(crate) const AGE_KEY: &str = "AGE-SECRET-KEY-1LV00NLKC2FKE2707JF9YE3FN53FGKQLN4CCW8SNTKDWWS875RFUQSVCVLL";

const SHARED: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../shared/fixtures");

/// A temporary folder holding extracted fixtures.
pub(crate) struct Fixture {
    dir: tempfile::TempDir,
}

impl Fixture {
    /// `fx3`, `fx3b` (from `litestream/writer-replicas.tar.gz`) or `tenant-gamma` (fleet v0.3).
    pub fn extract(which: &str) -> Fixture {
        let dir = tempfile::tempdir().expect("tempdir");
        let (archive, member) = match which {
            "tenant-gamma" => ("fleet/v0.3/tenant-gamma.replica.tar.gz", "tenant-gamma"),
            other => ("litestream/writer-replicas.tar.gz", other),
        };
        let archive = Path::new(SHARED).join(archive);
        let status = Command::new("tar")
            .arg("xzf")
            .arg(&archive)
            .arg("-C")
            .arg(dir.path())
            .arg(member)
            .status()
            .expect("run tar");
        assert!(status.success(), "tar xzf {} {member}", archive.display());
        Fixture { dir }
    }

    pub fn path(&self, rel: &str) -> PathBuf {
        self.dir.path().join(rel)
    }

    /// The store listing of the replica at `rel`.
    pub fn listing(&self, rel: &str) -> Vec<ObjectInfo> {
        LocalStore::new(self.path(rel)).list("").expect("list")
    }
}

/// A listed object at `secs` after the epoch.
pub(crate) fn obj(key: &str, secs: i64) -> ObjectInfo {
    ObjectInfo { key: key.to_string(), size: 100, modified: DateTime::from_timestamp(secs, 0).unwrap_or_default() }
}

/// Copy the replica at `src` to `dst` with every object age-encrypted to [`AGE_KEY`] (as
/// Litestream's `age.recipients` does), keeping mtimes.
pub(crate) fn encrypt_tree(src: &Path, dst: &Path) {
    use std::str::FromStr;
    let identity = age::x25519::Identity::from_str(AGE_KEY).expect("key");
    let recipient = identity.to_public();
    for entry in walk(src) {
        let rel = entry.strip_prefix(src).expect("under src");
        let out = dst.join(rel);
        std::fs::create_dir_all(out.parent().expect("parent")).expect("mkdir");
        let plain = std::fs::read(&entry).expect("read");
        let encryptor =
            age::Encryptor::with_recipients(std::iter::once(&recipient as &dyn age::Recipient)).expect("recipients");
        let mut encrypted = Vec::new();
        let mut writer = encryptor.wrap_output(&mut encrypted).expect("wrap");
        std::io::Write::write_all(&mut writer, &plain).expect("encrypt");
        writer.finish().expect("finish");
        std::fs::write(&out, &encrypted).expect("write");
        let mtime = std::fs::metadata(&entry).and_then(|m| m.modified()).expect("mtime");
        std::fs::File::options().write(true).open(&out).and_then(|f| f.set_modified(mtime)).expect("set mtime");
    }
}

fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).expect("read_dir") {
        let path = entry.expect("entry").path();
        if path.is_dir() { files.extend(walk(&path)) } else { files.push(path) }
    }
    files
}

/// Row count of table `t` and `PRAGMA integrity_check` of a restored database (opened immutable).
pub(crate) fn rows_and_integrity(db: &Path, table: &str) -> (i64, String) {
    let uri = format!("file:{}?immutable=1", db.display());
    let flags = rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY | rusqlite::OpenFlags::SQLITE_OPEN_URI;
    let conn = rusqlite::Connection::open_with_flags(uri, flags).expect("open restored db");
    let rows = conn.query_row(&format!("SELECT count(*) FROM {table}"), [], |r| r.get(0)).expect("count");
    let check = conn.query_row("PRAGMA integrity_check", [], |r| r.get(0)).expect("integrity_check");
    (rows, check)
}
