//! Background work: each task runs on its own worker thread (S3 requests go through the
//! storage's tokio runtime) and sends its progress and result over one channel, asking for a
//! repaint. The UI thread only drains the channel in `App::logic`.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::mpsc::{Receiver, Sender, channel};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::litestream::catalog::Catalog;
use crate::litestream::{Cancel, ProgressEvent};
use crate::obelisk::{AppLogEntry, ExecutionId, ExecutionSummary};
use crate::replay::ReplayTree;

use super::dialogs::DialogPurpose;
use super::model::timetravel::StepRow;
use crate::fleet::sources::TenantRow;

/// An execution tree loaded for time travel, with everything the views need precomputed.
pub struct LoadedTree {
    pub tree: ReplayTree,
    /// Logs of each execution of the tree, in write order.
    pub logs: HashMap<ExecutionId, Vec<AppLogEntry>>,
    /// Table rows of each execution's steps.
    pub rows: HashMap<ExecutionId, Arc<Vec<StepRow>>>,
}

/// A database restored (or found in the cache).
#[derive(Debug, Clone)]
pub struct Restored {
    pub path: PathBuf,
    /// Restored now (false: it was already in the cache).
    pub fresh: bool,
}

/// What workers send back. `task` is the id the work was started with: results of work the
/// user has moved on from are dropped.
pub enum TaskMsg {
    Progress {
        task: u64,
        event: ProgressEvent,
    },
    Tenants {
        task: u64,
        result: Result<Vec<TenantRow>, String>,
    },
    Catalog {
        task: u64,
        result: Result<Catalog, String>,
    },
    Restored {
        task: u64,
        result: Result<Restored, String>,
    },
    Executions {
        task: u64,
        result: Result<(PathBuf, Vec<ExecutionSummary>), String>,
    },
    Tree {
        task: u64,
        result: Result<Box<LoadedTree>, String>,
    },
    /// Source files of a re-execution, by DWARF path.
    SourceFiles {
        task: u64,
        result: Result<HashMap<String, Arc<str>>, String>,
    },
    /// The fleet index: a scan ended, or a search answered.
    Fleet {
        task: u64,
        result: Result<crate::ui::model::fleet::FleetData, String>,
    },
    /// A file was written (export); the message says what and where.
    Saved {
        result: Result<String, String>,
    },
    Dialog {
        purpose: DialogPurpose,
        path: Option<PathBuf>,
    },
}

/// Sends messages to the UI and wakes it up.
#[derive(Clone)]
pub struct Sink {
    tx: Sender<TaskMsg>,
    ctx: egui::Context,
}

impl Sink {
    pub fn send(&self, msg: TaskMsg) {
        let _ = self.tx.send(msg);
        self.ctx.request_repaint();
    }

    /// A progress sink for task `task` that forwards phases at once and advances at most every
    /// 50 ms (restores report per page batch).
    pub fn progress(&self, task: u64) -> impl crate::litestream::Progress + 'static {
        let sink = self.clone();
        let last = Mutex::new(Instant::now() - Duration::from_secs(1));
        move |event: ProgressEvent| {
            if let ProgressEvent::Advance { .. } = event {
                let mut last = last.lock().unwrap_or_else(|e| e.into_inner());
                if last.elapsed() < Duration::from_millis(50) {
                    return;
                }
                *last = Instant::now();
            }
            sink.send(TaskMsg::Progress { task, event });
        }
    }
}

/// The channel between workers and the UI, and the ids of tasks.
pub struct Tasks {
    sink: Sink,
    rx: Receiver<TaskMsg>,
    next: u64,
}

impl Tasks {
    pub fn new(ctx: egui::Context) -> Tasks {
        let (tx, rx) = channel();
        Tasks { sink: Sink { tx, ctx }, rx, next: 0 }
    }

    /// A fresh task id.
    pub fn next_id(&mut self) -> u64 {
        self.next += 1;
        self.next
    }

    /// A sender for dialog replies and other callbacks.
    pub fn sink(&self) -> Sink {
        self.sink.clone()
    }

    /// Run `work` on a worker thread.
    pub fn spawn(&self, name: &str, work: impl FnOnce(&Sink) + Send + 'static) {
        let sink = self.sink.clone();
        let spawned = std::thread::Builder::new().name(format!("chronoscope-{name}")).spawn(move || work(&sink));
        if let Err(e) = spawned {
            self.sink.send(TaskMsg::Saved { result: Err(format!("cannot start a worker thread: {e}")) });
        }
    }

    /// Everything received so far.
    pub fn drain(&self) -> Vec<TaskMsg> {
        self.rx.try_iter().collect()
    }
}

/// A running cancellable task.
#[derive(Clone)]
pub struct Running {
    pub id: u64,
    pub cancel: Cancel,
    pub started: Instant,
}

impl Running {
    pub fn new(id: u64) -> Running {
        Running { id, cancel: Cancel::new(), started: Instant::now() }
    }
}
