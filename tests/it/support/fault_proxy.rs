//! A fault-injecting HTTP proxy for S3 tests: loopback only, one request per connection
//! (`Connection: close` both ways), between chronoscope and a real S3 server (moto). Each
//! request is matched against the rules in order; the first that matches and has turns left
//! decides what happens, otherwise the request is forwarded as is. It records every request
//! (method, target, `Range`) so tests can check what the client did and that nothing was
//! written.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// What to do to a matching request.
#[derive(Debug, Clone)]
pub enum Fault {
    /// Forward it, then send only the response's headers and the first `after` body bytes, and
    /// close the connection.
    CutBody { after: usize },
    /// Answer with this status and an S3 error body (`SlowDown`, `InternalError`, `AccessDenied`)
    /// without forwarding.
    Status { status: u16, code: &'static str },
    /// Read the request and never answer (the connection stays open until the proxy stops).
    Stall,
}

/// A fault for requests whose target (path and query) contains `matches`, `times` times
/// (`usize::MAX`: always).
#[derive(Debug, Clone)]
pub struct Rule {
    pub matches: String,
    pub fault: Fault,
    pub times: usize,
}

impl Rule {
    pub fn new(matches: &str, fault: Fault, times: usize) -> Rule {
        Rule { matches: matches.to_owned(), fault, times }
    }
}

/// One request the proxy saw.
#[derive(Debug, Clone)]
pub struct Seen {
    pub method: String,
    pub target: String,
    pub range: Option<String>,
    /// The fault applied, if any.
    pub fault: Option<String>,
}

/// The running proxy; stopped on drop.
pub struct FaultProxy {
    /// `http://127.0.0.1:PORT`
    pub endpoint: String,
    seen: Arc<Mutex<Vec<Seen>>>,
    stop: Arc<AtomicBool>,
    port: u16,
}

struct State {
    upstream: String,
    rules: Mutex<Vec<Rule>>,
    seen: Arc<Mutex<Vec<Seen>>>,
    stop: Arc<AtomicBool>,
}

impl FaultProxy {
    /// A proxy in front of `upstream` (`127.0.0.1:PORT`) applying `rules`.
    pub fn start(upstream_port: u16, rules: Vec<Rule>) -> FaultProxy {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind the proxy");
        let port = listener.local_addr().expect("proxy address").port();
        let seen = Arc::new(Mutex::new(Vec::new()));
        let stop = Arc::new(AtomicBool::new(false));
        let state = Arc::new(State {
            upstream: format!("127.0.0.1:{upstream_port}"),
            rules: Mutex::new(rules),
            seen: seen.clone(),
            stop: stop.clone(),
        });
        std::thread::spawn(move || {
            for conn in listener.incoming() {
                if state.stop.load(Ordering::SeqCst) {
                    break;
                }
                let Ok(conn) = conn else { continue };
                let state = state.clone();
                std::thread::spawn(move || {
                    let _ = serve(&state, conn);
                });
            }
        });
        FaultProxy { endpoint: format!("http://127.0.0.1:{port}"), seen, stop, port }
    }

    /// Every request seen so far.
    pub fn seen(&self) -> Vec<Seen> {
        self.seen.lock().unwrap().clone()
    }
}

impl Drop for FaultProxy {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        // Wake the accept loop so it sees the stop.
        let _ = TcpStream::connect(("127.0.0.1", self.port));
    }
}

/// A request or response head: the first line and the header lines, as received.
struct Head {
    first: String,
    headers: Vec<(String, String)>,
}

impl Head {
    fn read(r: &mut impl BufRead) -> std::io::Result<Option<Head>> {
        let mut first = String::new();
        if r.read_line(&mut first)? == 0 {
            return Ok(None);
        }
        let mut headers = Vec::new();
        loop {
            let mut line = String::new();
            r.read_line(&mut line)?;
            let line = line.trim_end();
            if line.is_empty() {
                break;
            }
            if let Some((k, v)) = line.split_once(':') {
                headers.push((k.trim().to_owned(), v.trim().to_owned()));
            }
        }
        Ok(Some(Head { first: first.trim_end().to_owned(), headers }))
    }

    fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }

    /// The head with `Connection: close`, ready to send.
    fn bytes(&self) -> Vec<u8> {
        let mut out = format!("{}\r\n", self.first);
        for (k, v) in &self.headers {
            if !k.eq_ignore_ascii_case("connection") && !k.eq_ignore_ascii_case("keep-alive") {
                out.push_str(&format!("{k}: {v}\r\n"));
            }
        }
        out.push_str("Connection: close\r\n\r\n");
        out.into_bytes()
    }
}

fn serve(state: &State, client: TcpStream) -> std::io::Result<()> {
    client.set_read_timeout(Some(Duration::from_secs(30)))?;
    let mut reader = BufReader::new(client.try_clone()?);
    let Some(request) = Head::read(&mut reader)? else { return Ok(()) };
    let body_len: usize = request.header("content-length").and_then(|v| v.parse().ok()).unwrap_or(0);
    let mut body = vec![0u8; body_len];
    reader.read_exact(&mut body)?;
    let mut parts = request.first.split(' ');
    let (method, target) = (parts.next().unwrap_or("").to_owned(), parts.next().unwrap_or("").to_owned());
    let fault = {
        let mut rules = state.rules.lock().unwrap();
        rules.iter_mut().find(|r| r.times > 0 && target.contains(&r.matches)).map(|r| {
            r.times = r.times.saturating_sub(1);
            r.fault.clone()
        })
    };
    state.seen.lock().unwrap().push(Seen {
        method,
        target,
        range: request.header("range").map(str::to_owned),
        fault: fault.as_ref().map(|f| format!("{f:?}")),
    });
    let mut client = client;
    match fault {
        Some(Fault::Status { status, code }) => {
            let body = format!(
                "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>{code}</Code><Message>injected by the test proxy</Message></Error>"
            );
            let head = format!(
                "HTTP/1.1 {status} {code}\r\nContent-Type: application/xml\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                body.len()
            );
            client.write_all(head.as_bytes())?;
            client.write_all(body.as_bytes())?;
        }
        Some(Fault::Stall) => {
            while !state.stop.load(Ordering::SeqCst) {
                std::thread::sleep(Duration::from_millis(50));
            }
        }
        other => {
            let mut upstream = TcpStream::connect(&state.upstream)?;
            upstream.write_all(&request.bytes())?;
            upstream.write_all(&body)?;
            let mut up = BufReader::new(upstream);
            let Some(response) = Head::read(&mut up)? else { return Ok(()) };
            let mut rest = Vec::new();
            let status = response.first.split(' ').nth(1).unwrap_or("");
            let no_body = request.first.starts_with("HEAD ") || status == "204" || status == "304";
            match response.header("content-length").and_then(|v| v.parse::<usize>().ok()) {
                _ if no_body => {}
                Some(n) => {
                    rest.resize(n, 0);
                    up.read_exact(&mut rest)?;
                }
                None => {
                    up.read_to_end(&mut rest)?;
                }
            }
            client.write_all(&response.bytes())?;
            match other {
                Some(Fault::CutBody { after }) => client.write_all(&rest[..after.min(rest.len())])?,
                _ => client.write_all(&rest)?,
            }
        }
    }
    client.flush()?;
    let _ = client.shutdown(Shutdown::Both);
    Ok(())
}
