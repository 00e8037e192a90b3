//! A replica in an S3 (or S3-compatible) bucket, through `aws-sdk-s3`. Read-only: only List, Get
//! and Head requests are ever made.

use std::collections::BTreeMap;
use std::io::Read;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use aws_sdk_s3::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};
use aws_sdk_s3::primitives::ByteStream;
use chrono::{DateTime, Utc};

use super::{ObjectInfo, ReplicaStore, StoreError};
use crate::cancel::Cancel;

/// Where a replica lives in S3 and how to reach it.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct S3Location {
    pub bucket: String,
    /// Key prefix of the replica, without leading or trailing `/` (may be empty).
    pub path: String,
    /// Custom endpoint (`http://127.0.0.1:9000`); AWS when `None`.
    pub endpoint: Option<String>,
    pub region: Option<String>,
    pub force_path_style: bool,
    /// Named profile of `~/.aws/config` to take credentials and region from.
    pub profile: Option<String>,
    /// Static credentials (from a Litestream config or `LITESTREAM_*` variables). Never persisted.
    #[serde(skip)]
    pub credentials: Option<(String, String)>,
}

impl S3Location {
    /// `s3://bucket/path` as Litestream users write it.
    pub fn url(&self) -> String {
        if self.path.is_empty() {
            format!("s3://{}", self.bucket)
        } else {
            format!("s3://{}/{}", self.bucket, self.path)
        }
    }
}

/// The innermost cause of an error (e.g. `Connection refused (os error 111)`), which is what a
/// person needs to read; the SDK's full context is long and repetitive.
fn root_cause(err: &(dyn std::error::Error + 'static)) -> String {
    let mut cause = err;
    while let Some(next) = cause.source() {
        cause = next;
    }
    cause.to_string()
}

/// Attempts per request (the first and its retries): throttling, 5xx answers, timeouts and
/// responses cut short are retried with exponential backoff.
const ATTEMPTS: u32 = 5;

/// What a person needs of a failed request: the server's status and code, or what was wrong
/// with the response, and that it was retried when it was; the SDK's own text is a debug dump.
fn failure_detail<E, R>(err: &SdkError<E, R>, status: Option<u16>, code: Option<&str>) -> String
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
    R: std::fmt::Debug + 'static,
{
    let retried = format!("after {ATTEMPTS} attempts");
    match (err, status) {
        (SdkError::ServiceError(e), Some(status)) => {
            let code = code.unwrap_or("no error code");
            let message = e.err().message().map(|m| format!(": {m}")).unwrap_or_default();
            let again = if status == 429 || status >= 500 { format!(" {retried}") } else { String::new() };
            format!("HTTP {status} {code}{message}{again}")
        }
        (SdkError::ResponseError(_), _) => format!("the response was cut short ({}) {retried}", root_cause(err)),
        _ => DisplayErrorContext(err).to_string(),
    }
}

/// How long a request may wait for its response before it is retried (and, after the retries,
/// fails naming the object): `CHRONOSCOPE_S3_TIMEOUT` seconds, 60 by default.
fn read_timeout() -> Duration {
    let secs = std::env::var("CHRONOSCOPE_S3_TIMEOUT").ok().and_then(|v| v.parse::<f64>().ok());
    Duration::from_secs_f64(secs.filter(|s| *s > 0.0 && s.is_finite()).unwrap_or(60.0))
}

/// One tokio runtime for all S3 work of the process; callers stay synchronous.
pub fn runtime() -> &'static tokio::runtime::Runtime {
    static RT: OnceLock<tokio::runtime::Runtime> = OnceLock::new();
    RT.get_or_init(|| {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("chronoscope-s3")
            .enable_all()
            .build()
            .expect("cannot start the tokio runtime")
    })
}

/// A replica (or a prefix holding many tenants' replicas) in a bucket.
#[derive(Clone)]
pub struct S3Store {
    client: aws_sdk_s3::Client,
    location: Arc<S3Location>,
    /// Full key prefix: `path + "/"`, or empty when `path` is empty.
    prefix: String,
    /// Set by the user to abandon requests in flight.
    cancel: Cancel,
}

impl S3Store {
    /// Build a client for `location`, with credentials from (in order) the location, the
    /// `LITESTREAM_ACCESS_KEY_ID`/`LITESTREAM_SECRET_ACCESS_KEY` variables, then the standard AWS
    /// chain (environment, profiles, SSO, instance metadata).
    pub fn connect(location: S3Location, cancel: Cancel) -> Result<Self, StoreError> {
        let rt = runtime();
        let mut loader = aws_config::defaults(aws_config::BehaviorVersion::latest())
            .timeout_config(
                aws_config::timeout::TimeoutConfig::builder()
                    .connect_timeout(Duration::from_secs(5))
                    .read_timeout(read_timeout())
                    .build(),
            )
            .retry_config(aws_config::retry::RetryConfig::standard().with_max_attempts(ATTEMPTS));
        if let Some(profile) = &location.profile {
            loader = loader.profile_name(profile);
        }
        if let Some(region) = &location.region {
            loader = loader.region(aws_config::Region::new(region.clone()));
        }
        let static_creds = location.credentials.clone().or_else(|| {
            match (std::env::var("LITESTREAM_ACCESS_KEY_ID"), std::env::var("LITESTREAM_SECRET_ACCESS_KEY")) {
                (Ok(k), Ok(s)) if !k.is_empty() => Some((k, s)),
                _ => None,
            }
        });
        if let Some((key, secret)) = static_creds {
            loader = loader.credentials_provider(aws_sdk_s3::config::Credentials::new(
                key,
                secret,
                None,
                None,
                "chronoscope",
            ));
        }
        let shared = rt.block_on(async {
            tokio::select! {
                shared = loader.load() => Ok(shared),
                () = cancel.cancelled() => Err(StoreError::Cancelled),
            }
        })?;
        let mut builder = aws_sdk_s3::config::Builder::from(&shared).force_path_style(location.force_path_style);
        if shared.region().is_none() {
            builder = builder.region(aws_config::Region::new("us-east-1"));
        }
        if let Some(endpoint) = &location.endpoint {
            builder = builder.endpoint_url(endpoint);
        }
        let client = aws_sdk_s3::Client::from_conf(builder.build());
        let prefix = if location.path.is_empty() { String::new() } else { format!("{}/", location.path) };
        Ok(S3Store { client, location: Arc::new(location), prefix, cancel })
    }

    /// Runs a request on the shared runtime, abandoning it when the user cancels.
    fn block<T>(&self, request: impl Future<Output = Result<T, StoreError>>) -> Result<T, StoreError> {
        runtime().block_on(async {
            tokio::select! {
                result = request => result,
                () = self.cancel.cancelled() => Err(StoreError::Cancelled),
            }
        })
    }

    pub fn location(&self) -> &S3Location {
        &self.location
    }

    fn full_key(&self, key: &str) -> String {
        format!("{}{key}", self.prefix)
    }

    fn where_(&self, key: &str) -> String {
        let endpoint = self.location.endpoint.as_deref().unwrap_or("AWS");
        format!("s3://{}/{} ({endpoint})", self.location.bucket, self.full_key(key))
    }

    fn map_err<E>(&self, key: &str, err: SdkError<E, aws_sdk_s3::config::http::HttpResponse>) -> StoreError
    where
        E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
    {
        let status = err.raw_response().map(|r| r.status().as_u16());
        let code = err.code().map(str::to_owned);
        let location = self.where_(key);
        match &err {
            SdkError::DispatchFailure(_) | SdkError::TimeoutError(_) => {
                let full = DisplayErrorContext(&err).to_string();
                let timed_out = match &err {
                    SdkError::TimeoutError(_) => true,
                    SdkError::DispatchFailure(d) => d.is_timeout(),
                    _ => false,
                };
                let detail = match &err {
                    _ if timed_out => format!(
                        "no response within {} s, {ATTEMPTS} attempts; CHRONOSCOPE_S3_TIMEOUT sets the wait",
                        read_timeout().as_secs_f64()
                    ),
                    _ => root_cause(&err),
                };
                // "no credentials found in chain", "error loading credentials", "credentials provider ..."
                return if full.to_lowercase().contains("credential") {
                    StoreError::Credentials { location, detail }
                } else {
                    StoreError::Unreachable { location, detail }
                };
            }
            _ => {}
        }
        match (code.as_deref(), status) {
            (Some("NoSuchBucket"), _) => {
                StoreError::NotFound { key: format!("bucket `{}` at {location}", self.location.bucket) }
            }
            (Some("NoSuchKey" | "NotFound"), _) | (_, Some(404)) => StoreError::NotFound { key: location },
            (Some("AccessDenied" | "InvalidAccessKeyId" | "SignatureDoesNotMatch" | "ExpiredToken"), _)
            | (_, Some(401 | 403)) => {
                StoreError::AccessDenied { location, detail: code.unwrap_or_else(|| "HTTP 403".into()) }
            }
            _ => StoreError::Io { location, detail: failure_detail(&err, status, code.as_deref()) },
        }
    }

    async fn list_async(&self, prefix: &str, delimiter: bool) -> Result<(Vec<String>, Vec<ObjectInfo>), StoreError> {
        let full_prefix = self.full_key(prefix);
        let mut dirs = Vec::new();
        let mut files = Vec::new();
        let mut token = None;
        loop {
            let mut req = self.client.list_objects_v2().bucket(&self.location.bucket).prefix(&full_prefix);
            if delimiter {
                req = req.delimiter("/");
            }
            if let Some(t) = token.take() {
                req = req.continuation_token(t);
            }
            let out = req.send().await.map_err(|e| self.map_err(prefix, e))?;
            for cp in out.common_prefixes() {
                if let Some(p) = cp.prefix().and_then(|p| p.strip_prefix(&full_prefix)) {
                    dirs.push(p.trim_end_matches('/').to_string());
                }
            }
            for obj in out.contents() {
                let Some(key) = obj.key().and_then(|k| k.strip_prefix(&self.prefix)) else { continue };
                let modified = obj
                    .last_modified()
                    .and_then(|t| DateTime::<Utc>::from_timestamp(t.secs(), t.subsec_nanos()))
                    .unwrap_or_default();
                files.push(ObjectInfo { key: key.to_string(), size: obj.size().unwrap_or(0).max(0) as u64, modified });
            }
            match out.next_continuation_token() {
                Some(t) if out.is_truncated() == Some(true) => token = Some(t.to_string()),
                _ => break,
            }
        }
        files.sort_by(|a, b| a.key.cmp(&b.key));
        Ok((dirs, files))
    }

    async fn get_async(&self, key: &str, range: Option<(u64, Option<u64>)>) -> Result<ByteStream, StoreError> {
        let mut req = self.client.get_object().bucket(&self.location.bucket).key(self.full_key(key));
        match range {
            Some((start, Some(end))) => req = req.range(format!("bytes={start}-{end}")),
            Some((start, None)) => req = req.range(format!("bytes={start}-")),
            None => {}
        }
        let out = req.send().await.map_err(|e| self.map_err(key, e))?;
        Ok(out.body)
    }
}

impl ReplicaStore for S3Store {
    fn describe(&self) -> String {
        match &self.location.endpoint {
            Some(e) => format!("{} ({e})", self.location.url()),
            None => self.location.url(),
        }
    }

    fn list(&self, prefix: &str) -> Result<Vec<ObjectInfo>, StoreError> {
        self.block(self.list_async(prefix, false)).map(|(_, files)| files)
    }

    fn list_dir(&self, prefix: &str) -> Result<(Vec<String>, Vec<ObjectInfo>), StoreError> {
        self.block(self.list_async(prefix, true))
    }

    fn metadata(&self, key: &str) -> Result<BTreeMap<String, String>, StoreError> {
        self.block(async {
            let out = self
                .client
                .head_object()
                .bucket(&self.location.bucket)
                .key(self.full_key(key))
                .send()
                .await
                .map_err(|e| self.map_err(key, e))?;
            Ok(out.metadata().cloned().unwrap_or_default().into_iter().collect())
        })
    }

    fn get_range(&self, key: &str, offset: u64, len: u64) -> Result<Vec<u8>, StoreError> {
        if len == 0 {
            return Ok(Vec::new());
        }
        self.block(async {
            let body = self.get_async(key, Some((offset, Some(offset + len - 1)))).await?;
            let data = body.collect().await.map_err(|e| StoreError::io(self.where_(key), e))?;
            Ok(data.into_bytes().to_vec())
        })
    }

    fn open(&self, key: &str) -> Result<Box<dyn Read + Send>, StoreError> {
        let body = self.block(self.get_async(key, None))?;
        Ok(Box::new(S3Reader {
            store: self.clone(),
            key: key.to_string(),
            body,
            chunk: Vec::new(),
            pos: 0,
            offset: 0,
            resumes: 0,
        }))
    }

    fn child(&self, sub: &str) -> Box<dyn ReplicaStore> {
        let mut location = (*self.location).clone();
        let sub = sub.trim_matches('/');
        location.path = match (location.path.is_empty(), sub.is_empty()) {
            (true, _) => sub.to_string(),
            (false, true) => location.path.clone(),
            (false, false) => format!("{}/{sub}", location.path),
        };
        let prefix = if location.path.is_empty() { String::new() } else { format!("{}/", location.path) };
        Box::new(S3Store {
            client: self.client.clone(),
            location: Arc::new(location),
            prefix,
            cancel: self.cancel.clone(),
        })
    }

    fn cancellable(&self, cancel: &Cancel) -> Box<dyn ReplicaStore> {
        Box::new(S3Store { cancel: cancel.clone(), ..self.clone() })
    }
}

/// Streams an object's body; when the connection fails mid-body it resumes with a ranged GET
/// from the last byte received (a few times), so long downloads survive transient faults.
struct S3Reader {
    store: S3Store,
    key: String,
    body: ByteStream,
    chunk: Vec<u8>,
    pos: usize,
    offset: u64,
    resumes: u32,
}

const MAX_RESUMES: u32 = 5;

impl Read for S3Reader {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        while self.pos >= self.chunk.len() {
            let next = self.store.block(async { Ok(self.body.next().await) });
            let next = match next {
                Ok(next) => next,
                Err(e) => return Err(std::io::Error::other(format!("{}: {e}", self.store.where_(&self.key)))),
            };
            match next {
                None => return Ok(0),
                Some(Ok(bytes)) => {
                    self.chunk.clear();
                    self.chunk.extend_from_slice(&bytes);
                    self.pos = 0;
                }
                Some(Err(e)) if self.resumes < MAX_RESUMES => {
                    self.resumes += 1;
                    std::thread::sleep(Duration::from_millis(200 << self.resumes));
                    let resumed = self.store.block(self.store.get_async(&self.key, Some((self.offset, None))));
                    match resumed {
                        Ok(body) => self.body = body,
                        Err(_) => return Err(std::io::Error::other(format!("{}: {e}", self.store.where_(&self.key)))),
                    }
                }
                Some(Err(e)) => return Err(std::io::Error::other(format!("{}: {e}", self.store.where_(&self.key)))),
            }
        }
        let n = buf.len().min(self.chunk.len() - self.pos);
        buf[..n].copy_from_slice(&self.chunk[self.pos..self.pos + n]);
        self.pos += n;
        self.offset += n as u64;
        Ok(n)
    }
}
