//! How the app starts: what to open, where restores are cached, which file dialogs to use, and
//! the seams tests use (a fixed clock, a held restore).

use std::path::PathBuf;
use std::sync::{Arc, Condvar, Mutex};

use chrono::{DateTime, Utc};

use super::dialogs::{FileDialogs, RfdDialogs};
use super::settings::Settings;

/// Start-up options of the [`super::App`].
pub struct AppOptions {
    /// A SQLite file, a replica address (folder, `s3://…`) or a `litestream.yml` to open.
    pub open: Option<String>,
    /// The bundled demo fleet.
    pub demo_dir: PathBuf,
    /// Where restored databases are kept.
    pub cache_dir: PathBuf,
    /// Where compiled workflow components are kept.
    pub component_cache: PathBuf,
    /// File dialogs (rfd in the app; scripted in tests).
    pub dialogs: Box<dyn FileDialogs>,
    /// Settings to start with instead of the remembered ones (tests).
    pub settings: Option<Settings>,
    /// "Now" for ages, fixed in tests so screenshots do not change with the clock.
    pub now: Option<DateTime<Utc>>,
    /// When set, a restore waits at its first progress report until the gate opens or the
    /// restore is cancelled (tests cancel a running restore deterministically).
    pub restore_gate: Option<Gate>,
    /// When set, a re-execution waits before it starts until the gate opens or it is cancelled.
    pub rerun_gate: Option<Gate>,
    /// S3 access key and secret to use instead of the environment (tests; never saved).
    pub s3_credentials: Option<(String, String)>,
}

impl Default for AppOptions {
    fn default() -> Self {
        AppOptions {
            open: None,
            demo_dir: crate::cli::demo_dir(),
            cache_dir: crate::litestream::cache::default_dir(),
            component_cache: crate::rerun::default_cache_dir(),
            dialogs: Box::new(RfdDialogs),
            settings: None,
            now: None,
            restore_gate: None,
            rerun_gate: None,
            s3_credentials: None,
        }
    }
}

/// A gate a background task waits at until it is opened.
#[derive(Clone, Default)]
pub struct Gate(Arc<(Mutex<bool>, Condvar)>);

impl Gate {
    /// A closed gate.
    pub fn new() -> Gate {
        Gate::default()
    }

    /// Let every waiter through, now and later.
    pub fn open(&self) {
        let (lock, cv) = &*self.0;
        *lock.lock().unwrap_or_else(|e| e.into_inner()) = true;
        cv.notify_all();
    }

    /// Wait until the gate is open or `stop()` returns true (checked every 20 ms).
    pub fn wait_unless(&self, stop: impl Fn() -> bool) {
        let (lock, cv) = &*self.0;
        let mut open = lock.lock().unwrap_or_else(|e| e.into_inner());
        while !*open && !stop() {
            open = match cv.wait_timeout(open, std::time::Duration::from_millis(20)) {
                Ok((guard, _)) => guard,
                Err(e) => e.into_inner().0,
            };
        }
    }
}
