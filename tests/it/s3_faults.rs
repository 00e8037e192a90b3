//! S3 faults on a real network path: the objects real Litestream v0.5 wrote
//! (`shared/fixtures/litestream/s3dump.tar.gz`, bucket `ls5`, path `db`) in a real S3 server
//! (moto), and chronoscope reading them through a fault-injecting loopback proxy
//! (`support::fault_proxy`). A body cut midway resumes with a `Range` request and restores what
//! Litestream restores without the proxy; 503 SlowDown and 500 are retried, and when they do not
//! stop the error names the object; a stalled server times out; 403 and a listing cut short fail
//! in words. No output is left behind by a failure, and nothing is ever written to the bucket.

use std::path::Path;
use std::process::Output;
use std::time::{Duration, Instant};

use crate::support::cli::{self, assert_cli_error, describe};
use crate::support::fault_proxy::{Fault, FaultProxy, Rule, Seen};
use crate::support::fixtures;
use crate::support::moto::{self, Moto};
use crate::support::tools;

/// moto with the s3dump objects, and the key and size of the largest object a latest restore
/// of `ls5/db` reads (seen through a proxy without faults).
fn server() -> (Moto, String, usize) {
    let moto = Moto::start();
    fixtures::upload_s3dump(&moto);
    let dir = tempfile::tempdir().unwrap();
    let clean = FaultProxy::start(moto.port, Vec::new());
    let o = restore_through(&clean, &dir.path().join("clean.db"), "60");
    assert!(o.status.success(), "{}", describe(&o));
    let seen = clean.seen();
    let read = moto.list("ls5", "db/").into_iter().filter(|o| !requests_for(&seen, &o.key).is_empty());
    let largest = read.max_by_key(|o| o.size).unwrap_or_else(|| panic!("no object read: {seen:?}"));
    assert!(largest.size > 50_000, "the largest object read is big enough to cut: {largest:?}");
    (moto, largest.key, largest.size as usize)
}

/// `chronoscope restore s3://ls5/db -o OUT` through `proxy`, with `CHRONOSCOPE_S3_TIMEOUT=timeout`.
fn restore_through(proxy: &FaultProxy, out: &Path, timeout: &str) -> Output {
    let mut cmd = cli::chronoscope_cmd();
    cmd.env("CHRONOSCOPE_S3_TIMEOUT", timeout);
    cmd.args(["restore", "s3://ls5/db", "--no-progress", "-o"]).arg(out);
    cmd.args(["--endpoint", &proxy.endpoint, "--region", moto::REGION, "--force-path-style"]);
    cmd.output().expect("run chronoscope")
}

/// Litestream v0.5.17's own restore of `ls5/db`, straight from moto (no proxy).
fn litestream_restore(moto: &Moto, dir: &Path) -> Vec<u8> {
    let out = dir.join("litestream.db");
    let url = format!("s3://ls5/db?endpoint={}&region={}&forcePathStyle=true", moto.endpoint, moto::REGION);
    let o = cli::litestream(&tools::litestream_v5(), ["restore", "-o", &out.display().to_string(), &url]);
    assert!(o.status.success(), "litestream restore: {}", describe(&o));
    std::fs::read(out).expect("litestream output")
}

/// Requests for `key` (its path ends the request target, before any query).
fn requests_for<'a>(seen: &'a [Seen], key: &str) -> Vec<&'a Seen> {
    seen.iter().filter(|s| s.target.split('?').next().is_some_and(|p| p.ends_with(key))).collect()
}

/// Only reads reached the bucket.
fn assert_read_only(seen: &[Seen]) {
    assert!(!seen.is_empty(), "the proxy saw no request");
    let writes: Vec<&Seen> = seen.iter().filter(|s| !matches!(s.method.as_str(), "GET" | "HEAD")).collect();
    assert!(writes.is_empty(), "requests that write: {writes:?}");
}

#[test]
fn a_body_cut_midway_resumes_with_a_range_request_and_equals_litestream() {
    let (moto, key, size) = server();
    let dir = tempfile::tempdir().unwrap();
    let expected = litestream_restore(&moto, dir.path());
    let cut = size / 3;
    let proxy = FaultProxy::start(moto.port, vec![Rule::new(&key, Fault::CutBody { after: cut }, 1)]);
    let out = dir.path().join("chronoscope.db");
    let o = restore_through(&proxy, &out, "60");
    assert!(o.status.success(), "{}", describe(&o));
    assert!(std::fs::read(&out).unwrap() == expected, "the resumed restore differs from Litestream's");
    let seen = proxy.seen();
    let gets = requests_for(&seen, &key);
    assert!(gets.len() >= 2 && gets[0].fault.is_some(), "{gets:?}");
    // The resume asks for the rest only, from at most where the cut was.
    let resumed = gets[1].range.as_deref().unwrap_or_else(|| panic!("the second GET has a Range: {gets:?}"));
    let from: usize = resumed.trim_start_matches("bytes=").split('-').next().unwrap().parse().unwrap();
    assert!(from > 0 && from <= cut, "resumed at {from} for a cut at {cut}: {gets:?}");
    assert_read_only(&seen);
}

#[test]
fn slow_down_and_internal_errors_are_retried_and_then_name_the_object() {
    let (moto, key, _) = server();
    let dir = tempfile::tempdir().unwrap();
    let expected = litestream_restore(&moto, dir.path());
    // One 503 SlowDown, then one 500: retried with backoff, the restore is Litestream's.
    let rules = vec![
        Rule::new(&key, Fault::Status { status: 503, code: "SlowDown" }, 1),
        Rule::new(&key, Fault::Status { status: 500, code: "InternalError" }, 1),
    ];
    let proxy = FaultProxy::start(moto.port, rules);
    let out = dir.path().join("retried.db");
    let o = restore_through(&proxy, &out, "60");
    assert!(o.status.success(), "{}", describe(&o));
    assert!(std::fs::read(&out).unwrap() == expected, "the retried restore differs from Litestream's");
    let seen = proxy.seen();
    let gets = requests_for(&seen, &key);
    assert_eq!(gets.len(), 3, "two faults, then the object: {gets:?}");
    assert_read_only(&seen);

    // SlowDown that never stops: a few attempts, then an error naming the object and the code.
    let always = vec![Rule::new(&key, Fault::Status { status: 503, code: "SlowDown" }, usize::MAX)];
    let proxy = FaultProxy::start(moto.port, always);
    let out = dir.path().join("slow.db");
    let o = restore_through(&proxy, &out, "60");
    assert_cli_error(&o, &out, &[&key, "SlowDown"]);
    let attempts = requests_for(&proxy.seen(), &key).len();
    assert!((2..=10).contains(&attempts), "{attempts} attempts");
}

#[test]
fn a_stalled_server_times_out_naming_the_object() {
    let (moto, key, _) = server();
    let dir = tempfile::tempdir().unwrap();
    let proxy = FaultProxy::start(moto.port, vec![Rule::new(&key, Fault::Stall, usize::MAX)]);
    let out = dir.path().join("stalled.db");
    let started = Instant::now();
    let o = restore_through(&proxy, &out, "1");
    assert_cli_error(&o, &out, &[&key]);
    let stderr = String::from_utf8_lossy(&o.stderr).to_lowercase();
    assert!(stderr.contains("no response within 1 s"), "{}", describe(&o));
    // Each attempt waits 1 s (plus the retries' backoff), never the default 60 s.
    assert!(started.elapsed() < Duration::from_secs(50), "took {:?}", started.elapsed());
    assert_read_only(&proxy.seen());
}

#[test]
fn access_denied_and_a_listing_cut_short_fail_in_words() {
    let (moto, _, _) = server();
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("denied.db");
    let denied = FaultProxy::start(
        moto.port,
        vec![Rule::new("", Fault::Status { status: 403, code: "AccessDenied" }, usize::MAX)],
    );
    let o = restore_through(&denied, &out, "60");
    assert_cli_error(&o, &out, &["ls5", "AccessDenied"]);

    // A listing cut once is retried and restores what Litestream restores.
    let expected = litestream_restore(&moto, dir.path());
    let once = FaultProxy::start(moto.port, vec![Rule::new("list-type=2", Fault::CutBody { after: 300 }, 1)]);
    let out = dir.path().join("listed.db");
    let o = restore_through(&once, &out, "60");
    assert!(o.status.success(), "{}", describe(&o));
    assert!(std::fs::read(&out).unwrap() == expected, "the restore after a cut listing differs from Litestream's");
    assert_read_only(&once.seen());

    // Always cut: an error naming the listed location, nothing written.
    let always =
        FaultProxy::start(moto.port, vec![Rule::new("list-type=2", Fault::CutBody { after: 300 }, usize::MAX)]);
    let out = dir.path().join("cut.db");
    let o = restore_through(&always, &out, "60");
    assert_cli_error(&o, &out, &["ls5"]);
    let listings = always.seen().iter().filter(|s| s.target.contains("list-type=2")).count();
    assert!(listings >= 2, "the listing was retried: {listings}");
}
