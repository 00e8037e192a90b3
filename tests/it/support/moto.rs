//! A real S3 server (moto) on 127.0.0.1, one per test that needs it, killed on drop;
//! plus a small synchronous `aws-sdk-s3` client over a shared tokio runtime.

use std::collections::HashMap;
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use aws_sdk_s3::config::{BehaviorVersion, Credentials, Region};
use aws_sdk_s3::primitives::ByteStream;

use super::tools;

pub const ACCESS_KEY: &str = "test";
pub const SECRET_KEY: &str = "test";
pub const REGION: &str = "us-east-1";

pub struct Moto {
    /// `http://127.0.0.1:PORT`
    pub endpoint: String,
    pub port: u16,
    child: Child,
    log: tempfile::NamedTempFile,
}

/// One object of a listing.
#[derive(Debug, Clone)]
pub struct Object {
    pub key: String,
    pub size: i64,
    pub last_modified: chrono::DateTime<chrono::Utc>,
}

pub fn runtime() -> &'static tokio::runtime::Runtime {
    static RT: OnceLock<tokio::runtime::Runtime> = OnceLock::new();
    RT.get_or_init(|| {
        tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().expect("tokio runtime")
    })
}

impl Moto {
    /// Starts `moto_server -H 127.0.0.1 -p PORT` on a free port and waits until it answers HTTP.
    pub fn start() -> Moto {
        let bin = tools::moto_server();
        let mut last_err = String::new();
        for _attempt in 0..3 {
            let port = free_port();
            let log = tempfile::NamedTempFile::new().expect("moto log file");
            let child = Command::new(&bin)
                .args(["-H", "127.0.0.1", "-p", &port.to_string()])
                .stdin(Stdio::null())
                .stdout(log.reopen().expect("moto log"))
                .stderr(log.reopen().expect("moto log"))
                .spawn()
                .unwrap_or_else(|e| panic!("cannot spawn {}: {e}", bin.display()));
            let mut moto = Moto { endpoint: format!("http://127.0.0.1:{port}"), port, child, log };
            match moto.wait_ready(Duration::from_secs(60)) {
                Ok(()) => return moto,
                Err(e) => last_err = e, // port taken in between, or slow start: retry (drop kills it)
            }
        }
        panic!("moto server did not start: {last_err}");
    }

    fn wait_ready(&mut self, timeout: Duration) -> Result<(), String> {
        let start = Instant::now();
        loop {
            if let Some(status) = self.child.try_wait().map_err(|e| e.to_string())? {
                return Err(format!("moto_server exited with {status}: {}", self.log_text()));
            }
            if http_get_ok(self.port) {
                return Ok(());
            }
            if start.elapsed() > timeout {
                return Err(format!("no HTTP answer within {timeout:?}: {}", self.log_text()));
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    pub fn log_text(&self) -> String {
        std::fs::read_to_string(self.log.path()).unwrap_or_default()
    }

    /// A client for this server: static credentials `test`/`test`, us-east-1, path-style.
    pub fn client(&self) -> aws_sdk_s3::Client {
        let conf = aws_sdk_s3::Config::builder()
            .behavior_version(BehaviorVersion::latest())
            .region(Region::new(REGION))
            .credentials_provider(Credentials::new(ACCESS_KEY, SECRET_KEY, None, None, "static"))
            .endpoint_url(&self.endpoint)
            .force_path_style(true)
            .build();
        aws_sdk_s3::Client::from_conf(conf)
    }

    pub fn create_bucket(&self, name: &str) {
        let client = self.client();
        runtime()
            .block_on(client.create_bucket().bucket(name).send())
            .unwrap_or_else(|e| panic!("create bucket {name}: {}", err_text(&e)));
    }

    pub fn put(&self, bucket: &str, key: &str, bytes: Vec<u8>, metadata: &[(String, String)]) {
        self.put_many(bucket, &[key.to_owned()], &bytes, metadata);
    }

    /// Puts many objects (same body and metadata) at once, 32 requests in flight.
    pub fn put_many(&self, bucket: &str, keys: &[String], bytes: &[u8], metadata: &[(String, String)]) {
        let client = self.client();
        let meta: HashMap<String, String> = metadata.iter().cloned().collect();
        runtime().block_on(async {
            for chunk in keys.chunks(32) {
                let mut puts = tokio::task::JoinSet::new();
                for key in chunk {
                    let request = client
                        .put_object()
                        .bucket(bucket)
                        .key(key)
                        .body(ByteStream::from(bytes.to_vec()))
                        .set_metadata((!meta.is_empty()).then(|| meta.clone()));
                    let what = format!("put s3://{bucket}/{key}");
                    puts.spawn(async move { request.send().await.map_err(|e| format!("{what}: {}", err_text(&e))) });
                }
                while let Some(done) = puts.join_next().await {
                    done.expect("put task").unwrap_or_else(|e| panic!("{e}"));
                }
            }
        });
    }

    /// Every object under `prefix`, in key order.
    pub fn list(&self, bucket: &str, prefix: &str) -> Vec<Object> {
        let client = self.client();
        runtime().block_on(async {
            let mut out = Vec::new();
            let mut pages = client.list_objects_v2().bucket(bucket).prefix(prefix).into_paginator().send();
            while let Some(page) = pages.next().await {
                let page = page.unwrap_or_else(|e| panic!("list s3://{bucket}/{prefix}: {}", err_text(&e)));
                for o in page.contents() {
                    let lm = o.last_modified().expect("LastModified");
                    out.push(Object {
                        key: o.key().unwrap_or_default().to_string(),
                        size: o.size().unwrap_or_default(),
                        last_modified: chrono::DateTime::from_timestamp(lm.secs(), lm.subsec_nanos())
                            .expect("LastModified in range"),
                    });
                }
            }
            out
        })
    }

    /// User metadata of one object (`x-amz-meta-*`, without the prefix).
    pub fn metadata(&self, bucket: &str, key: &str) -> HashMap<String, String> {
        let client = self.client();
        let head = runtime()
            .block_on(client.head_object().bucket(bucket).key(key).send())
            .unwrap_or_else(|e| panic!("head s3://{bucket}/{key}: {}", err_text(&e)));
        head.metadata().cloned().unwrap_or_default()
    }

    pub fn get(&self, bucket: &str, key: &str) -> Vec<u8> {
        let client = self.client();
        runtime().block_on(async {
            let o = client
                .get_object()
                .bucket(bucket)
                .key(key)
                .send()
                .await
                .unwrap_or_else(|e| panic!("get s3://{bucket}/{key}: {}", err_text(&e)));
            o.body.collect().await.expect("read body").into_bytes().to_vec()
        })
    }
}

impl Drop for Moto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A port that was free a moment ago (bind 127.0.0.1:0, read it, release it).
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).expect("bind 127.0.0.1:0").port()
}

/// `GET /` answered with any HTTP status line.
fn http_get_ok(port: u16) -> bool {
    let Ok(mut s) = TcpStream::connect(("127.0.0.1", port)) else { return false };
    let _ = s.set_read_timeout(Some(Duration::from_secs(5)));
    if s.write_all(b"GET / HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n").is_err() {
        return false;
    }
    let mut buf = [0u8; 12];
    s.read_exact(&mut buf).is_ok() && buf.starts_with(b"HTTP/")
}

fn err_text<E: std::error::Error>(e: &E) -> String {
    aws_sdk_s3::error::DisplayErrorContext(e).to_string()
}
