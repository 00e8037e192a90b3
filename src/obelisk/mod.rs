//! The Obelisk execution-log model: read an Obelisk SQLite database (read-only, any schema from
//! 0.38 to 0.42) into typed executions, events, responses, logs, backtraces and deployments.
//!
//! - [`ObeliskDb::open`] opens and detects the [`Schema`]; unknown versions open with warnings.
//! - [`ObeliskDb::list_executions`] → [`ExecutionSummary`]; [`ObeliskDb::execution_log`] →
//!   [`LogEntry`] with a typed [`Event`] (or [`Event::Raw`]); [`ObeliskDb::responses`] in arrival
//!   order; [`ObeliskDb::app_logs`], [`ObeliskDb::pending_delays`], [`ObeliskDb::backtraces`],
//!   [`ObeliskDb::deployments`], [`ObeliskDb::component_metadata`].
//! - Identifiers ([`ExecutionId`], [`JoinSetId`], [`DelayId`], ...) parse and display Obelisk's text.
//!
//! Written from `shared/specs/obelisk-database.md` and real databases; no Obelisk code is used.

#[macro_use]
mod macros;

mod backtraces;
mod bulk;
mod component;
mod db;
mod delays;
mod deployments;
pub mod describe;
mod error;
mod event;
mod execution_log;
mod executions;
mod failures;
mod files;
mod history;
mod ids;
mod logs;
mod responses;
mod retval;
mod schema;
mod time;

#[cfg(test)]
pub(crate) mod test_support;

pub use backtraces::{Backtrace, ComponentSource, Frame, FrameSymbol, find_source};
pub use bulk::{ExecutionRows, IdRange, RangeItem};
pub use component::{ComponentId, ComponentType, ContentDigest};
pub use db::{ObeliskDb, is_sqlite_file};
pub use delays::PendingDelay;
pub use deployments::{
    ComponentMetadata, Deployment, DeploymentComponent, DeploymentConfig, DeploymentStatus, FunctionMetadata,
    ParameterType, WitOrigin,
};
pub use error::{IdError, ObeliskError};
pub use event::{
    ComponentUpgradeFinished, Created, Event, Finished, HttpClientTrace, HttpRequestTrace, HttpResponseTrace, Locked,
    RawEvent, RetryConfig, TemporarilyFailed, TemporarilyTimedOut, Unlocked, UpgradeOutcome, UpgradeReason,
};
pub use execution_log::LogEntry;
pub use executions::{ExecutionFilter, ExecutionState, ExecutionSummary, LastLock, Lifecycle, StatusFilter};
pub use history::{
    HistoryEvent, JoinNextTryOutcome, JoinSetRequest, Params, PersistKind, PersistedValue, RejectedParams,
    RequestResult, ScheduleAt,
};
pub use ids::{
    ChildSegment, DelayId, DeploymentId, ExecutionId, ExecutorId, Ffqn, JoinSetId, JoinSetKind, RunId, Ulid,
};
pub use logs::{AppLogEntry, LogContent, LogLevel, StreamType};
pub use responses::{JoinSetResponse, ResponseKind};
pub use retval::{ExecutionFailure, FailureKind, ResultKind, RetVal, TypedValue};
pub use schema::{NEWEST_KNOWN_VERSION, RELEASES, Schema, SchemaSupport};
pub use time::parse_db_time;
#[cfg(test)]
mod fuzz_tests;
