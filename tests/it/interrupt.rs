//! Ctrl-C during a restore whose downloads hang: the real CLI process gets SIGINT while an S3
//! GET is stuck (a loopback proxy in front of moto holds the LTX downloads), and must leave
//! neither the output nor its temp file behind.

use std::io::{Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::path::Path;
use std::process::{Child, ExitStatus};
use std::time::{Duration, Instant};

use crate::restore_fixtures::fixtures;
use crate::s3_fleet::upload_v5;
use crate::support::cli::chronoscope_cmd;
use crate::support::moto::Moto;

/// A TCP proxy to `upstream` that forwards everything except requests for `.ltx` objects: those
/// connections are held open and never answered, like a stalled network.
fn stalling_proxy(upstream: u16) -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for client in listener.incoming().flatten() {
            std::thread::spawn(move || relay(client, upstream));
        }
    });
    port
}

fn relay(mut client: TcpStream, upstream: u16) {
    let Ok(mut server) = TcpStream::connect(("127.0.0.1", upstream)) else { return };
    let (mut from_server, mut to_client) = (server.try_clone().unwrap(), client.try_clone().unwrap());
    std::thread::spawn(move || {
        let _ = std::io::copy(&mut from_server, &mut to_client);
        let _ = to_client.shutdown(Shutdown::Write);
    });
    let mut buf = [0u8; 16 * 1024];
    loop {
        let n = match client.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => n,
        };
        let text = String::from_utf8_lossy(&buf[..n]);
        let stalls = text.lines().any(|l| l.starts_with("GET /") && l.contains(".ltx") && !l.contains("list-type"));
        if stalls {
            // Hold the connection (the client keeps waiting for a response that never comes).
            std::thread::sleep(Duration::from_secs(600));
            break;
        }
        if server.write_all(&buf[..n]).is_err() {
            break;
        }
    }
    let _ = server.shutdown(Shutdown::Write);
}

fn wait_for(what: &str, timeout: Duration, mut done: impl FnMut() -> bool) {
    let started = Instant::now();
    while !done() {
        assert!(started.elapsed() < timeout, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn wait_exit(child: &mut Child, timeout: Duration) -> Option<ExitStatus> {
    let started = Instant::now();
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return Some(status);
        }
        if started.elapsed() > timeout {
            return None;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn interrupt(child: &Child) {
    // SAFETY: sending a signal to our own child process.
    let rc = unsafe { libc::kill(child.id() as libc::pid_t, libc::SIGINT) };
    assert_eq!(rc, 0, "kill(SIGINT)");
}

fn entries(dir: &Path) -> Vec<String> {
    std::fs::read_dir(dir).unwrap().flatten().map(|e| e.file_name().to_string_lossy().into_owned()).collect()
}

/// Starts `chronoscope restore` against the stalling proxy and waits until it is stuck in a
/// download with its temp output created.
fn stuck_restore(moto: &Moto, out_dir: &Path) -> Child {
    let proxy = stalling_proxy(moto.port);
    let endpoint = format!("http://127.0.0.1:{proxy}");
    let out = out_dir.join("restored.sqlite");
    let mut cmd = chronoscope_cmd();
    cmd.args(["restore", "s3://stall/tenant-zeta", "-o"])
        .arg(&out)
        .args(["--endpoint", &endpoint, "--force-path-style", "--region", "us-east-1"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped());
    let mut child = cmd.spawn().unwrap();
    wait_for("the temp output", Duration::from_secs(60), || {
        if let Some(status) = child.try_wait().unwrap() {
            panic!("restore ended before stalling: {status}");
        }
        entries(out_dir).iter().any(|n| n.ends_with(".tmp"))
    });
    child
}

fn moto_with_zeta() -> Moto {
    let moto = Moto::start();
    moto.create_bucket("stall");
    upload_v5(&moto, "stall", "tenant-zeta", &fixtures().join("fleet/v0.5/tenant-zeta"));
    moto
}

#[test]
fn ctrl_c_during_a_stalled_download_leaves_nothing() {
    let moto = moto_with_zeta();
    let dir = tempfile::tempdir().unwrap();
    let mut child = stuck_restore(&moto, dir.path());
    interrupt(&child);
    let status = wait_exit(&mut child, Duration::from_secs(30)).expect("one Ctrl-C ends a stalled restore");
    let mut stderr = String::new();
    child.stderr.take().unwrap().read_to_string(&mut stderr).unwrap();
    assert_eq!(status.code(), Some(130), "{stderr}");
    assert!(stderr.contains("cancel"), "{stderr}");
    assert_eq!(entries(dir.path()), Vec::<String>::new(), "no output, no temp file, no spill folder");
}

#[test]
fn second_ctrl_c_exits_at_once_and_removes_the_temp_output() {
    let moto = moto_with_zeta();
    let dir = tempfile::tempdir().unwrap();
    let mut child = stuck_restore(&moto, dir.path());
    interrupt(&child);
    std::thread::sleep(Duration::from_millis(5));
    interrupt(&child);
    let status = wait_exit(&mut child, Duration::from_secs(30)).expect("a second Ctrl-C exits");
    assert_eq!(status.code(), Some(130));
    assert_eq!(entries(dir.path()), Vec::<String>::new(), "no output, no temp file, no spill folder");
}
