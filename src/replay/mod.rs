//! The replay engine: folds an execution's log, with its join-set responses interleaved in
//! arrival order, into a [`ReplayState`] for every step, and checks the recorded history against
//! Obelisk's replay rules (spec §3.1, §3.3). No WASM is run: the fold is what the log and the
//! responses say, as Obelisk's own bookkeeping reads them.
//!
//! - [`Replay::new`] → steps, findings, final state, checkpoints; [`Replay::state_at`] for any step.
//! - [`StateAtStep`]: one step's state folded as the rows are read (no steps kept).
//! - [`check_database`]: every execution of a database replayed and compared with `t_state`.
//! - [`ReplayTree`]: an execution with its children (any depth) and scheduled executions, and
//!   each child's span of the parent's steps.
//! - [`export`]: one JSON document with a tree's events, responses, logs and replayed states,
//!   which [`ReplaySource`] opens again like a database.
//!
//! Written from `shared/specs/obelisk-database.md` and real databases; no Obelisk code is used.

mod check;
mod check_links;
mod compare;
mod engine;
mod error;
pub mod export;
mod finding;
mod fold;
mod fold_as_read;
mod join_sets;
mod lookup;
mod shared_vec;
mod source;
mod state;
mod state_at;
mod step;
mod tree;

pub use check::{CheckReport, check_database};
pub use compare::compare_with_t_state;
pub use engine::{DEFAULT_CHECKPOINT_INTERVAL, Replay};
pub use error::ReplayError;
pub use finding::{Finding, FindingKind};
pub use lookup::Lookup;
pub use shared_vec::SharedVec;
pub use source::ReplaySource;
pub use state::{
    Arrival, Attempts, Await, AwaitKind, ChildState, DelayState, JoinSetState, JoinSetStatus, PersistedRecord,
    Received, ReplayState, Request, RequestTarget, ScheduledExecution, UpgradeRecord, Waiting,
};
pub use state_at::StateAtStep;
pub use step::{Interleaving, Step, interleave};
pub use tree::{ChildSpan, ReplayTree, TreeNode, TreeRelation};
