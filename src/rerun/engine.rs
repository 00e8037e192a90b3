//! The wasmtime engine of re-execution and the components it has prepared: compiled once per
//! content digest, kept in memory and in the compile cache on disk (`<cache>/components/
//! <digest>.cwasm`, written to a temp file and renamed), checked for what they import, linked.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use sha2::{Digest, Sha256};
use wasmtime::component::{Component, InstancePre};
use wasmtime::{Config, Engine, OptLevel, WasmBacktraceDetails};

use super::error::RerunError;
use super::host::HostState;
use super::imports::{Import, imports, linker};
use super::source::GlueFilter;
use super::symbols::Symbolizer;
use crate::obelisk::ContentDigest;

/// `$XDG_CACHE_HOME/chronoscope/components` (beside the restore cache).
pub fn default_cache_dir() -> PathBuf {
    let restores = crate::litestream::cache::default_dir();
    restores.parent().map_or_else(|| restores.clone(), Path::to_path_buf).join("components")
}

/// How a component became ready.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Compiled {
    /// Compiled by Cranelift now.
    Fresh,
    /// Loaded from the compile cache on disk.
    FromDiskCache,
    /// Already prepared in this process.
    InMemory,
}

/// A component ready to instantiate.
pub struct Prepared {
    pub digest: ContentDigest,
    /// Where it came from, for messages (`demo.sqlite t_file sha256:…`, a file path).
    pub what: String,
    pub component: Component,
    pub imports: Vec<Import>,
    pub pre: InstancePre<HostState>,
    pub glue: GlueFilter,
    pub compiled: Compiled,
    /// Time to compile or load it.
    pub took: Duration,
}

/// The engine and its prepared components. Cheap to share; safe across threads.
pub struct Rerunner {
    engine: Engine,
    cache_dir: Option<PathBuf>,
    prepared: Mutex<HashMap<ContentDigest, Arc<Prepared>>>,
    /// Components being compiled or loaded right now (for progress displays).
    compiling: AtomicUsize,
}

impl Rerunner {
    /// An engine with fuel (a looping guest ends), epoch interruption (cancel), and DWARF
    /// backtraces; `cache_dir` keeps compiled components across runs (`None`: memory only).
    pub fn new(cache_dir: Option<PathBuf>) -> Result<Rerunner, RerunError> {
        let mut config = Config::new();
        config
            .wasm_component_model(true)
            .consume_fuel(true)
            .epoch_interruption(true)
            // Source lines come from our own symbolizer (wasmtime's re-reads the DWARF on
            // every capture); the address map gives each frame its offset in the wasm.
            .wasm_backtrace_details(WasmBacktraceDetails::Disable)
            .generate_address_map(true)
            .cranelift_opt_level(OptLevel::Speed)
            .parallel_compilation(true);
        let engine = Engine::new(&config)
            .map_err(|e| RerunError::Component { what: "wasmtime".into(), reason: format!("{e:#}") })?;
        start_epoch_ticker(&engine);
        Ok(Rerunner { engine, cache_dir, prepared: Mutex::new(HashMap::new()), compiling: AtomicUsize::new(0) })
    }

    pub fn engine(&self) -> &Engine {
        &self.engine
    }

    /// The functions `prepared` exports, as `namespace:package/interface.function`.
    pub fn exported_functions(&self, prepared: &Prepared) -> Vec<String> {
        use wasmtime::component::types::ComponentItem;
        let mut out = Vec::new();
        for (interface, item) in prepared.component.component_type().exports(&self.engine) {
            if let ComponentItem::ComponentInstance(instance) = item.ty {
                for (function, item) in instance.exports(&self.engine) {
                    if matches!(item.ty, ComponentItem::ComponentFunc(_)) {
                        out.push(format!("{interface}.{function}"));
                    }
                }
            }
        }
        out
    }

    /// True while a component is being compiled (or loaded from the cache).
    pub fn is_compiling(&self) -> bool {
        self.compiling.load(Ordering::Relaxed) > 0
    }

    /// Prepares the component `bytes` whose digest is `digest` (verified here).
    pub fn prepare(&self, digest: ContentDigest, bytes: &[u8], what: &str) -> Result<Arc<Prepared>, RerunError> {
        if let Some(found) = self.prepared.lock().unwrap_or_else(|p| p.into_inner()).get(&digest) {
            return Ok(found.clone());
        }
        let actual = ContentDigest(Sha256::digest(bytes).into());
        if actual != digest {
            return Err(RerunError::ChecksumMismatch {
                what: what.to_owned(),
                expected: digest.to_string(),
                actual: actual.to_string(),
            });
        }
        check_header(bytes, what)?;
        let started = Instant::now();
        self.compiling.fetch_add(1, Ordering::Relaxed);
        let loaded = self.compile_or_load(&digest, bytes, what);
        self.compiling.fetch_sub(1, Ordering::Relaxed);
        let (component, compiled) = loaded?;
        let took = started.elapsed();
        let imports = imports(&self.engine, &component, what)?;
        let linker = linker(&self.engine, &imports, what)?;
        let pre = linker
            .instantiate_pre(&component)
            .map_err(|e| RerunError::Component { what: what.to_owned(), reason: format!("linking: {e:#}") })?;
        let symbols = Arc::new(Symbolizer::new(bytes.into()));
        let glue = GlueFilter::new(imports.iter().map(|i| i.name.as_str()), Some(symbols));
        let prepared =
            Arc::new(Prepared { digest, what: what.to_owned(), component, imports, pre, glue, compiled, took });
        self.prepared.lock().unwrap_or_else(|p| p.into_inner()).insert(digest, prepared.clone());
        Ok(prepared)
    }

    /// Prepares a component file (`--component`), its digest computed here.
    pub fn prepare_file(&self, path: &Path) -> Result<Arc<Prepared>, RerunError> {
        let what = path.display().to_string();
        let bytes = std::fs::read(path).map_err(|e| RerunError::Io { path: what.clone(), reason: e.to_string() })?;
        let digest = ContentDigest(Sha256::digest(&bytes).into());
        self.prepare(digest, &bytes, &what)
    }

    fn compile_or_load(
        &self,
        digest: &ContentDigest,
        bytes: &[u8],
        what: &str,
    ) -> Result<(Component, Compiled), RerunError> {
        let cached = self.cache_dir.as_ref().map(|d| d.join(format!("{}.cwasm", digest.hex())));
        if let Some(path) = cached.as_ref().filter(|p| p.is_file()) {
            // SAFETY: the file is one this engine serialized into the user's own cache folder;
            // wasmtime checks its header and engine compatibility, and a file it rejects is
            // recompiled below.
            if let Ok(component) = unsafe { Component::deserialize_file(&self.engine, path) } {
                return Ok((component, Compiled::FromDiskCache));
            }
        }
        let component = Component::new(&self.engine, bytes)
            .map_err(|e| RerunError::NotAComponent { what: what.to_owned(), reason: format!("{e:#}") })?;
        if let Some(path) = cached {
            // The cache is an optimisation: failing to write it is not an error.
            let _ = write_cache(&component, &path);
        }
        Ok((component, Compiled::Fresh))
    }
}

/// Advances the engine's epoch every few milliseconds, so a running guest checks for cancel;
/// the thread ends with the engine.
fn start_epoch_ticker(engine: &Engine) {
    let weak = engine.weak();
    let _ = std::thread::Builder::new().name("rerun-epoch".into()).spawn(move || {
        while let Some(engine) = weak.upgrade() {
            engine.increment_epoch();
            drop(engine);
            std::thread::sleep(Duration::from_millis(10));
        }
    });
}

/// A component starts with `\0asm` and layer 1 (`0d 00 01 00`); a core module has version 1.
fn check_header(bytes: &[u8], what: &str) -> Result<(), RerunError> {
    let reason = match bytes {
        [0, b'a', b's', b'm', 0x0d, 0x00, 0x01, 0x00, ..] => return Ok(()),
        [0, b'a', b's', b'm', 0x01, 0x00, 0x00, 0x00, ..] => {
            "this is a core WebAssembly module; Obelisk workflows are components (wasm32-wasip2)".to_owned()
        }
        [0, b'a', b's', b'm', ..] => "unknown WebAssembly version or layer".to_owned(),
        _ if bytes.len() < 8 => format!("only {} bytes", bytes.len()),
        _ => "no `\\0asm` header".to_owned(),
    };
    Err(RerunError::NotAComponent { what: what.to_owned(), reason })
}

fn write_cache(component: &Component, path: &Path) -> std::io::Result<()> {
    let bytes = component.serialize().map_err(std::io::Error::other)?;
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    // Unique per process and call: two threads may cache the same component at once.
    static WRITES: AtomicUsize = AtomicUsize::new(0);
    let n = WRITES.fetch_add(1, Ordering::Relaxed);
    let tmp = path.with_extension(format!("cwasm.{}.{n}.tmp", std::process::id()));
    std::fs::write(&tmp, bytes)?;
    std::fs::rename(&tmp, path)
}
