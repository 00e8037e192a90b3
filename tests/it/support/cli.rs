//! Running the programs under test: the `chronoscope` binary, the real Litestream binaries,
//! and the `sqlite3` CLI for `.dump` comparisons.

use std::ffi::OsStr;
use std::path::Path;
use std::process::{Command, Output, Stdio};

use super::{moto, tools};

/// `chronoscope ARGS…` with test S3 credentials in its environment.
pub fn chronoscope<I, S>(args: I) -> Output
where
    I: IntoIterator<Item = S>,
    S: AsRef<OsStr>,
{
    run(chronoscope_cmd().args(args))
}

/// The `chronoscope` command with test S3 credentials (`AWS_*`), ready for more args/env.
pub fn chronoscope_cmd() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_chronoscope"));
    isolated_aws_env(&mut cmd);
    cmd.env("AWS_ACCESS_KEY_ID", moto::ACCESS_KEY).env("AWS_SECRET_ACCESS_KEY", moto::SECRET_KEY);
    cmd.stdin(Stdio::null());
    cmd
}

/// A Litestream command (`bin` = `tools::litestream_v5()` or `_v3()`) with test S3 credentials
/// and without `AWS_CA_BUNDLE` (v0.5.17 refuses to build its S3 client when it is set).
pub fn litestream_cmd(bin: &Path) -> Command {
    let mut cmd = Command::new(bin);
    isolated_aws_env(&mut cmd);
    cmd.env("AWS_ACCESS_KEY_ID", moto::ACCESS_KEY).env("AWS_SECRET_ACCESS_KEY", moto::SECRET_KEY);
    cmd.env_remove("AWS_CA_BUNDLE").stdin(Stdio::null());
    cmd
}

pub fn litestream<I, S>(bin: &Path, args: I) -> Output
where
    I: IntoIterator<Item = S>,
    S: AsRef<OsStr>,
{
    run(litestream_cmd(bin).args(args))
}

/// No credentials, profile or endpoint from the machine leak into a child process.
fn isolated_aws_env(cmd: &mut Command) {
    for var in [
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
        "AWS_SESSION_TOKEN",
        "AWS_PROFILE",
        "AWS_DEFAULT_PROFILE",
        "AWS_ENDPOINT_URL",
        "AWS_ENDPOINT_URL_S3",
        "LITESTREAM_ACCESS_KEY_ID",
        "LITESTREAM_SECRET_ACCESS_KEY",
        "LITESTREAM_CONFIG",
    ] {
        cmd.env_remove(var);
    }
    cmd.env("AWS_REGION", moto::REGION)
        .env("AWS_CONFIG_FILE", "/nonexistent/chronoscope-test/aws-config")
        .env("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent/chronoscope-test/aws-credentials")
        .env("AWS_EC2_METADATA_DISABLED", "true");
}

fn run(cmd: &mut Command) -> Output {
    cmd.output().unwrap_or_else(|e| panic!("cannot run {cmd:?}: {e}"))
}

/// Exit status and stderr, for assertion messages.
pub fn describe(out: &Output) -> String {
    format!(
        "{}; stderr: {}; stdout: {}",
        out.status,
        String::from_utf8_lossy(&out.stderr).trim(),
        truncate(&String::from_utf8_lossy(&out.stdout), 2000)
    )
}

fn truncate(s: &str, max: usize) -> &str {
    match s.char_indices().nth(max) {
        Some((i, _)) => &s[..i],
        None => s,
    }
}

/// Parses a command's stdout as JSON (panics with the output otherwise).
pub fn stdout_json(out: &Output) -> serde_json::Value {
    assert!(out.status.success(), "command failed: {}", describe(out));
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("stdout is not JSON ({e}): {}", describe(out)))
}

/// `sqlite3 .dump` of a database, opened read-only and immutable (a restored file is in WAL mode;
/// nothing may be written next to it).
pub fn sqlite_dump(db: &Path) -> String {
    let uri = format!("file:{}?immutable=1", uri_escape(&db.to_string_lossy()));
    let out = Command::new(tools::sqlite3())
        .arg("-readonly")
        .arg(&uri)
        .arg(".dump")
        .stdin(Stdio::null())
        .output()
        .expect("run sqlite3");
    assert!(out.status.success(), "sqlite3 {uri} .dump: {}", describe(&out));
    assert!(out.stderr.is_empty(), "sqlite3 {uri} .dump warned: {}", describe(&out));
    String::from_utf8(out.stdout).expect("dump is UTF-8")
}

fn uri_escape(path: &str) -> String {
    path.replace('%', "%25").replace('?', "%3f").replace('#', "%23")
}

/// Restores once with Litestream (`restore -o A LS_ARGS…`) and once with chronoscope
/// (`restore CS_ARGS… -o B --no-progress`) and requires the same outcome. When both succeed the
/// files must be byte-identical with equal `.dump`s; when both fail chronoscope must print one
/// `error: …` line and leave no output file. Returns `A` when they succeeded.
pub fn assert_same_restore(
    litestream_bin: &Path,
    ls_args: &[String],
    cs_args: &[String],
    out_dir: &Path,
    label: &str,
) -> Option<std::path::PathBuf> {
    match same_restore(litestream_bin, ls_args, cs_args, out_dir, label) {
        Same::Restored(a) => Some(a),
        Same::Failed | Same::Torn(_) => None,
    }
}

/// How the two restores of [`same_restore`] agreed.
#[derive(Debug)]
pub enum Same {
    /// Both succeeded with the same bytes: Litestream's output file.
    Restored(std::path::PathBuf),
    /// Both failed.
    Failed,
    /// Litestream exited 0 with a database that fails `integrity_check` (its output is removed);
    /// chronoscope refused it with a verification error: its `error: …` line.
    Torn(String),
}

/// [`assert_same_restore`], telling a torn Litestream output from both failing.
pub fn same_restore(
    litestream_bin: &Path,
    ls_args: &[String],
    cs_args: &[String],
    out_dir: &Path,
    label: &str,
) -> Same {
    let tag: String = label.chars().map(|c| if c.is_ascii_alphanumeric() { c } else { '_' }).collect();
    let a = out_dir.join(format!("litestream-{tag}.db"));
    let b = out_dir.join(format!("chronoscope-{tag}.db"));
    let ls = run(litestream_cmd(litestream_bin).arg("restore").arg("-o").arg(&a).args(ls_args));
    let cs = run(chronoscope_cmd().arg("restore").args(cs_args).arg("-o").arg(&b).arg("--no-progress"));
    // Litestream v0.3.13 exits 0 with a malformed database when a restore time cuts the WAL
    // short of what its snapshot holds; chronoscope must refuse that with a verification error.
    if ls.status.success() && !cs.status.success() && !integrity_ok(&a) {
        assert_cli_error(&cs, &b, &["failed verification"]);
        std::fs::remove_file(&a).expect("remove litestream output");
        return Same::Torn(String::from_utf8_lossy(&cs.stderr).trim().to_string());
    }
    assert_eq!(
        cs.status.success(),
        ls.status.success(),
        "[{label}] litestream and chronoscope disagree on success\n  litestream {ls_args:?}: {}\n  chronoscope {cs_args:?}: {}",
        describe(&ls),
        describe(&cs)
    );
    if !ls.status.success() {
        assert_cli_error(&cs, &b, &[]);
        return Same::Failed;
    }
    let (bytes_a, bytes_b) =
        (std::fs::read(&a).expect("litestream output"), std::fs::read(&b).expect("chronoscope output"));
    let (dump_a, dump_b) = (sqlite_dump(&a), sqlite_dump(&b));
    assert!(dump_a == dump_b, "[{label}] .dump differs: {}", first_difference(&dump_a, &dump_b));
    assert!(
        bytes_a == bytes_b,
        "[{label}] restored files differ: {} ({} bytes) vs {} ({} bytes)",
        a.display(),
        bytes_a.len(),
        b.display(),
        bytes_b.len()
    );
    std::fs::remove_file(&b).expect("remove chronoscope output");
    Same::Restored(a)
}

/// Whether SQLite's `PRAGMA integrity_check` of `db` says `ok`.
fn integrity_ok(db: &Path) -> bool {
    let uri = format!("file:{}?immutable=1", db.display());
    let flags = rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY | rusqlite::OpenFlags::SQLITE_OPEN_URI;
    let check = rusqlite::Connection::open_with_flags(&uri, flags)
        .and_then(|c| c.query_row("PRAGMA integrity_check", [], |r| r.get::<_, String>(0)));
    check.is_ok_and(|v| v == "ok")
}

/// A failed chronoscope run: non-zero exit, exactly one `error: …` line on stderr mentioning
/// every string of `mentions`, and no `out` file (nor `out.tmp`) left behind.
pub fn assert_cli_error(out: &Output, out_file: &Path, mentions: &[&str]) {
    assert!(!out.status.success(), "expected a failure: {}", describe(out));
    let stderr = String::from_utf8_lossy(&out.stderr);
    let lines: Vec<&str> = stderr.lines().filter(|l| !l.trim().is_empty()).collect();
    assert!(
        lines.len() == 1 && lines[0].starts_with("error: "),
        "expected one `error: …` line on stderr: {}",
        describe(out)
    );
    for m in mentions {
        assert!(lines[0].contains(m), "error should mention {m:?}: {}", describe(out));
    }
    assert!(!out_file.exists(), "failed run left {} behind", out_file.display());
    let tmp = out_file.with_file_name(format!("{}.tmp", out_file.file_name().unwrap().to_string_lossy()));
    assert!(!tmp.exists(), "failed run left {} behind", tmp.display());
}

/// The first differing line of two texts (short, for assertion messages).
pub fn first_difference(a: &str, b: &str) -> String {
    let (mut la, mut lb) = (a.lines(), b.lines());
    for n in 1.. {
        match (la.next(), lb.next()) {
            (None, None) => return "no difference".into(),
            (x, y) if x == y => continue,
            (x, y) => {
                let cut = |l: Option<&str>| l.map(|l| truncate(l, 200).to_string()).unwrap_or("<end>".into());
                return format!("line {n}: {:?} vs {:?}", cut(x), cut(y));
            }
        }
    }
    unreachable!()
}
