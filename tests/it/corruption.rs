//! Bad input never passes silently: each corruption gives a one-line error naming the object and
//! the reason, a non-zero exit, and no output file.

use std::path::{Path, PathBuf};

use crate::restore_fixtures::{copy_dir, fixtures};
use crate::support::cli::{assert_cli_error, chronoscope, describe, stdout_json};
use crate::support::fixtures::extract;

/// A private copy of tenant-alpha and the key of the last file of its latest restore plan.
fn alpha_copy() -> (tempfile::TempDir, PathBuf, String) {
    let tmp = tempfile::tempdir().unwrap();
    let replica = tmp.path().join("alpha");
    copy_dir(&fixtures().join("fleet/v0.5/tenant-alpha"), &replica);
    let plan = stdout_json(&chronoscope([
        "restore",
        replica.to_str().unwrap(),
        "-o",
        "/nonexistent/x",
        "--dry-run",
        "--json",
    ]));
    let key = plan["files"].as_array().unwrap().last().unwrap()["key"].as_str().unwrap().to_string();
    (tmp, replica, key)
}

fn restore_fails(replica: &Path, extra: &[&str], mentions: &[&str]) {
    let out = replica.parent().unwrap().join("restored.db");
    let mut args = vec!["restore", replica.to_str().unwrap(), "-o", out.to_str().unwrap(), "--no-progress"];
    args.extend_from_slice(extra);
    let r = chronoscope(&args);
    assert_cli_error(&r, &out, mentions);
    let leftovers: Vec<_> = std::fs::read_dir(replica.parent().unwrap())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.contains("restored") || n.contains("chronoscope"))
        .collect();
    assert!(leftovers.is_empty(), "temp files left behind: {leftovers:?}");
}

fn verify_reports(replica: &Path, key: &str, reason: &str) {
    let r = chronoscope(["verify", replica.to_str().unwrap(), "--json"]);
    assert_eq!(r.status.code(), Some(2), "verify should exit 2: {}", describe(&r));
    let report: serde_json::Value = serde_json::from_slice(&r.stdout).expect("verify --json prints JSON");
    let problems = report["problems"].as_array().unwrap().clone();
    assert!(
        problems.iter().any(|p| p.as_str().unwrap().contains(key) && p.as_str().unwrap().contains(reason)),
        "verify should name {key} ({reason}): {problems:?}"
    );
}

fn modify(path: &Path, f: impl FnOnce(&mut Vec<u8>)) {
    let mut bytes = std::fs::read(path).unwrap();
    f(&mut bytes);
    std::fs::write(path, bytes).unwrap();
}

#[test]
fn flipped_byte_in_an_ltx_file_fails_the_checksum() {
    let (_tmp, replica, key) = alpha_copy();
    // Byte 64 is the WAL salt: covered by the file checksum but by no structural check.
    modify(&replica.join(&key), |b| b[64] ^= 0x55);
    restore_fails(&replica, &[], &[&key, "checksum mismatch"]);
    verify_reports(&replica, &key, "checksum mismatch");
}

#[test]
fn flipped_byte_in_page_data_is_caught() {
    let (_tmp, replica, key) = alpha_copy();
    // Inside the first page's compressed bytes (header 100 + page header 6 + size 4).
    modify(&replica.join(&key), |b| b[112] ^= 0xff);
    restore_fails(&replica, &[], &[&key]);
    verify_reports(&replica, &key, &key);
}

#[test]
fn truncated_ltx_file_is_reported() {
    let (_tmp, replica, key) = alpha_copy();
    modify(&replica.join(&key), |b| b.truncate(b.len() - 40));
    restore_fails(&replica, &[], &[&key, "truncated"]);
    verify_reports(&replica, &key, "truncated");
}

#[test]
fn missing_ltx_file_breaks_the_chain_but_earlier_points_restore() {
    let tmp = tempfile::tempdir().unwrap();
    let replica = tmp.path().join("l0only");
    std::fs::create_dir_all(replica.join("ltx")).unwrap();
    copy_dir(&fixtures().join("fleet/v0.5/tenant-alpha/ltx/0"), &replica.join("ltx/0"));
    std::fs::remove_file(replica.join("ltx/0/0000000000000010-0000000000000010.ltx")).unwrap();
    restore_fails(&replica, &[], &["non-contiguous", "000000000000000f", "0000000000000011"]);
    let r = chronoscope(["backups", replica.to_str().unwrap(), "--json"]);
    let problems = stdout_json(&r)["problems"].to_string();
    assert!(problems.contains("0000000000000010-0000000000000010"), "{problems}");
    // Below the gap the chain is intact.
    let out = tmp.path().join("ok.db");
    let r =
        chronoscope(["restore", replica.to_str().unwrap(), "-o", out.to_str().unwrap(), "--txid", "000000000000000f"]);
    assert!(r.status.success(), "{}", describe(&r));
    verify_reports(&replica, "0000000000000010", "gap");
}

#[test]
fn timestamp_outside_the_restorable_range_is_refused() {
    let replica = fixtures().join("fleet/v0.5/tenant-alpha");
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("x.db");
    let r = chronoscope([
        "restore",
        replica.to_str().unwrap(),
        "-o",
        out.to_str().unwrap(),
        "--timestamp",
        "2020-01-01T00:00:00Z",
    ]);
    assert_cli_error(&r, &out, &["outside the restorable range"]);
    // After the newest file: the newest state, as Litestream v0.5.17 restores it, with a note.
    let r = chronoscope([
        "restore",
        replica.to_str().unwrap(),
        "-o",
        out.to_str().unwrap(),
        "--timestamp",
        "2030-01-01T00:00:00Z",
    ]);
    assert!(r.status.success(), "{}", describe(&r));
    let stderr = String::from_utf8_lossy(&r.stderr);
    assert!(
        stderr.contains("is after the newest file of the backup") && stderr.contains("000000000000002f"),
        "{stderr}"
    );
    let out = tmp.path().join("y.db");
    let r =
        chronoscope(["restore", replica.to_str().unwrap(), "-o", out.to_str().unwrap(), "--timestamp", "yesterday"]);
    assert_cli_error(&r, &out, &["invalid timestamp `yesterday`"]);
}

#[test]
fn deleted_middle_wal_segment_is_an_error_not_stale_data() {
    // Litestream v0.3.13 itself restores stale data silently here (spec §4); we must not.
    let dir = extract(&fixtures().join("litestream/writer-replicas.tar.gz"));
    let replica = dir.path().join("fx3/replica");
    let generation = std::fs::read_dir(replica.join("generations")).unwrap().flatten().map(|e| e.path()).max().unwrap();
    let mut by_index: std::collections::BTreeMap<String, Vec<String>> = Default::default();
    for e in std::fs::read_dir(generation.join("wal")).unwrap().flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        let (index, _) = name.split_once('_').unwrap();
        by_index.entry(index.to_string()).or_default().push(name);
    }
    let (index, mut names) = by_index.into_iter().rev().find(|(_, v)| v.len() >= 3).expect("an index with 3 segments");
    names.sort();
    std::fs::remove_file(generation.join("wal").join(&names[1])).unwrap();
    let gen_id = generation.file_name().unwrap().to_string_lossy().into_owned();
    restore_fails(&replica, &["--generation", &gen_id, "--index", &index], &["missing", &index]);
    let r = chronoscope(["verify", replica.to_str().unwrap(), "--json"]);
    assert_eq!(r.status.code(), Some(2), "{}", describe(&r));
}

#[test]
fn unrecognised_folder_is_not_a_replica() {
    let tmp = tempfile::tempdir().unwrap();
    let replica = tmp.path().join("junk");
    std::fs::create_dir_all(replica.join("stuff")).unwrap();
    std::fs::write(replica.join("stuff/file.txt"), "hello").unwrap();
    restore_fails(&replica, &[], &["no Litestream replica found"]);
}

/// The age twin of fx3b: every object of the real v0.3.13 replica encrypted as v0.3.13 does
/// (`age(lz4 frame)`) to the recipient of `fx3b/litestream.yml`. (The shared tarball lacks the
/// `replica-age/` folder its README mentions; interop_v3 also has Litestream write one.)
fn age_twin(fx3b: &Path) -> (PathBuf, String) {
    let cfg = std::fs::read_to_string(fx3b.join("litestream.yml")).unwrap();
    let find = |prefix: &str| {
        cfg.lines()
            .map(str::trim)
            .find_map(|l| l.strip_prefix("- ").filter(|k| k.starts_with(prefix)).map(str::to_owned))
            .unwrap()
    };
    let (identity, recipient) = (find("AGE-SECRET-KEY-"), find("age1"));
    let recipient: age::x25519::Recipient = recipient.parse().unwrap();
    let twin = fx3b.join("replica-age-twin");
    for entry in walk(&fx3b.join("replica")) {
        let rel = entry.strip_prefix(fx3b.join("replica")).unwrap();
        let dest = twin.join(rel);
        std::fs::create_dir_all(dest.parent().unwrap()).unwrap();
        let plain = std::fs::read(&entry).unwrap();
        let encryptor = age::Encryptor::with_recipients(std::iter::once(&recipient as &dyn age::Recipient)).unwrap();
        let mut out = Vec::new();
        let mut w = encryptor.wrap_output(&mut out).unwrap();
        std::io::Write::write_all(&mut w, &plain).unwrap();
        w.finish().unwrap();
        std::fs::write(&dest, out).unwrap();
        let mtime = std::fs::metadata(&entry).unwrap().modified().unwrap();
        std::fs::File::options().write(true).open(&dest).unwrap().set_modified(mtime).unwrap();
    }
    (twin, identity)
}

fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    for e in std::fs::read_dir(dir).unwrap().flatten() {
        if e.file_type().unwrap().is_dir() { files.extend(walk(&e.path())) } else { files.push(e.path()) }
    }
    files
}

#[test]
fn age_encrypted_replica_needs_the_right_identity() {
    let dir = extract(&fixtures().join("litestream/writer-replicas.tar.gz"));
    let (replica, key) = age_twin(&dir.path().join("fx3b"));
    // Without an identity, and with a freshly generated wrong one.
    restore_fails(&replica, &[], &["age"]);
    let wrong = dir.path().join("wrong.key");
    {
        use age::secrecy::ExposeSecret;
        let id = age::x25519::Identity::generate();
        std::fs::write(&wrong, format!("{}\n", id.to_string().expose_secret())).unwrap();
    }
    restore_fails(&replica, &["--age-identity", wrong.to_str().unwrap()], &["decrypt"]);
    let right = dir.path().join("right.key");
    std::fs::write(&right, format!("# test identity\n{key}\n")).unwrap();
    let out = dir.path().join("age.db");
    let r = chronoscope([
        "restore",
        replica.to_str().unwrap(),
        "-o",
        out.to_str().unwrap(),
        "--age-identity",
        right.to_str().unwrap(),
    ]);
    assert!(r.status.success(), "{}", describe(&r));
    let plain = dir.path().join("plain.db");
    let r = chronoscope(["restore", dir.path().join("fx3b/replica").to_str().unwrap(), "-o", plain.to_str().unwrap()]);
    assert!(r.status.success(), "{}", describe(&r));
    assert_eq!(
        std::fs::read(&out).unwrap(),
        std::fs::read(&plain).unwrap(),
        "encrypted and plain twins restore the same bytes"
    );
}
