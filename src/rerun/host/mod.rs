//! The host a workflow component runs in: one file per WIT interface (as wasmtime's own WASI
//! host is laid out), all sharing [`HostState`], the store's data.
//!
//! - [`log`]: `obelisk:log/log@1.0.0`, captured, never written anywhere.
//! - [`types`], [`join_set`]: `obelisk:types/*@5.0.0` and the `join-set` resource.
//! - [`workflow_support`]: `obelisk:workflow/workflow-support@6.0.0`, every call matched
//!   against the log by the [`Matcher`].
//! - [`activity`]: any other interface: each function is a direct child call.
//! - [`wasi`]: WASI p2 `cli` and `io` only: no environment, no arguments, empty stdin,
//!   stdout/stderr kept in memory; no clocks, random, filesystem or sockets are linked.

pub mod activity;
pub mod join_set;
pub mod log;
mod response_json;
pub mod types;
pub mod wasi;
pub mod workflow_support;

use wasmtime::component::ResourceTable;
use wasmtime::{StoreContextMut, StoreLimits, StoreLimitsBuilder, WasmBacktrace};
use wasmtime_wasi::p2::pipe::MemoryOutputPipe;
use wasmtime_wasi::{WasiCtx, WasiCtxView, WasiView};

use super::keys::Key;
use super::matcher::{Matcher, Stop};
use super::outcome::{GuestLog, Step};
use super::source::{GlueFilter, SourceLine};
use crate::cancel::Cancel;

/// Guest output kept per stream; more is cut (the guest sees a full pipe).
const MAX_OUTPUT: usize = 1 << 20;
/// Linear memory a guest may grow to.
const MAX_MEMORY: usize = 256 << 20;

/// The error a host function returns to unwind the guest when the host stops it; the reason is
/// in [`HostState::stop`].
#[derive(Debug)]
pub struct Stopped;

impl std::fmt::Display for Stopped {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("re-execution stopped by the host")
    }
}

impl std::error::Error for Stopped {}

/// Everything one re-execution keeps while the guest runs.
pub struct HostState {
    pub matcher: Matcher,
    /// Why the host stopped the guest, and where in the guest's source.
    pub stop: Option<(Stop, Option<SourceLine>)>,
    /// Every matched event, with the line that produced it.
    pub steps: Vec<Step>,
    /// The guest's `obelisk:log` calls.
    pub logs: Vec<GuestLog>,
    pub glue: GlueFilter,
    pub cancel: Cancel,
    pub stdout: MemoryOutputPipe,
    pub stderr: MemoryOutputPipe,
    pub limits: StoreLimits,
    wasi: WasiCtx,
    table: ResourceTable,
}

impl HostState {
    pub fn new(matcher: Matcher, glue: GlueFilter, cancel: Cancel) -> HostState {
        let stdout = MemoryOutputPipe::new(MAX_OUTPUT);
        let stderr = MemoryOutputPipe::new(MAX_OUTPUT);
        // No env, args, preopens or network: the builder's defaults, with captured output.
        let wasi = wasmtime_wasi::WasiCtxBuilder::new().stdout(stdout.clone()).stderr(stderr.clone()).build();
        HostState {
            matcher,
            stop: None,
            steps: Vec::new(),
            logs: Vec::new(),
            glue,
            cancel,
            stdout,
            stderr,
            limits: StoreLimitsBuilder::new().memory_size(MAX_MEMORY).instances(64).build(),
            wasi,
            table: ResourceTable::new(),
        }
    }

    /// Stops the guest: records why and where, and returns the error that unwinds it.
    pub fn halt(&mut self, stop: Stop, source: Option<SourceLine>) -> wasmtime::Error {
        if self.stop.is_none() {
            self.stop = Some((stop, source));
        }
        wasmtime::Error::new(Stopped)
    }

    /// Matches `keys` for the host call `call`; records a step per matched event.
    pub fn expect(&mut self, call: &str, keys: Vec<Key>, source: &Option<SourceLine>) -> wasmtime::Result<Vec<u64>> {
        let types: Vec<&'static str> = keys.iter().map(Key::type_name).collect();
        match self.matcher.expect(keys) {
            Ok(versions) => {
                let (stdout_len, stderr_len) = (self.stdout.contents().len(), self.stderr.contents().len());
                for (version, event_type) in versions.iter().zip(types) {
                    self.steps.push(Step {
                        version: *version,
                        event_type: event_type.to_owned(),
                        call: call.to_owned(),
                        source: source.clone(),
                        received: None,
                        stdout_len,
                        stderr_len,
                    });
                }
                Ok(versions)
            }
            Err(stop) => Err(self.halt(stop, source.clone())),
        }
    }

    /// Notes on the last step what the guest received from it.
    pub fn received(&mut self, value: serde_json::Value) {
        if let Some(step) = self.steps.last_mut() {
            step.received = Some(value);
        }
    }

    /// Stops with [`Stop::Cancelled`] when the user cancelled.
    pub fn check_cancel(&mut self) -> wasmtime::Result<()> {
        if self.cancel.is_cancelled() { Err(self.halt(Stop::Cancelled, None)) } else { Ok(()) }
    }
}

/// Starts a host call: checks for cancel and finds the guest line that made it.
pub fn begin(store: &mut StoreContextMut<'_, HostState>) -> wasmtime::Result<Option<SourceLine>> {
    store.data_mut().check_cancel()?;
    let backtrace = WasmBacktrace::force_capture(&*store);
    Ok(store.data().glue.innermost(&backtrace))
}

impl WasiView for HostState {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView { ctx: &mut self.wasi, table: &mut self.table }
    }
}
