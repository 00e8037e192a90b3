//! Listing executions: one [`ExecutionSummary`] per `t_state` row, with filters.

use std::str::FromStr;

use chrono::{DateTime, Utc};
use rusqlite::Row;
use serde::Serialize;

use super::bulk::IdRange;
use super::component::{ComponentType, ContentDigest};
use super::db::{ObeliskDb, optional_text, text};
use super::error::ObeliskError;
use super::event::Event;
use super::ids::{DeploymentId, ExecutionId, ExecutorId, Ffqn, JoinSetId, RunId};
use super::retval::ResultKind;

/// Where an execution stands (`t_state.state` with `pending_expires_finished` and friends).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum ExecutionState {
    /// Waiting to be locked at `scheduled_at` (new, retrying after backoff, or unblocked).
    PendingAt { scheduled_at: DateTime<Utc> },
    /// An executor runs it until `lock_expires_at`.
    Locked { executor_id: Option<ExecutorId>, run_id: Option<RunId>, lock_expires_at: DateTime<Utc> },
    /// A workflow waits for a response in `join_set_id`; its lock (and warm instance) lasts until `lock_expires_at`.
    BlockedByJoinSet { join_set_id: Option<JoinSetId>, lock_expires_at: DateTime<Utc>, closing: bool },
    /// Terminal.
    Finished { finished_at: DateTime<Utc> },
    /// A state this version of Chronoscope does not know.
    Other { state: String, at: DateTime<Utc> },
}

impl ExecutionState {
    /// The `t_state.state` text.
    pub fn name(&self) -> &str {
        match self {
            ExecutionState::PendingAt { .. } => "pending_at",
            ExecutionState::Locked { .. } => "locked",
            ExecutionState::BlockedByJoinSet { .. } => "blocked_by_join_set",
            ExecutionState::Finished { .. } => "finished",
            ExecutionState::Other { state, .. } => state,
        }
    }
}

string_enum! {
    /// Pause/cancel overlay on the state (`t_state.lifecycle` in 0.39.5+, `is_paused` before).
    pub enum Lifecycle {
        Active => "active",
        Paused => "paused",
        /// Cancellation requested, not yet finished (0.39.5+).
        Cancelling => "cancelling",
    }
}

/// The last lock holder, kept in `t_state` after the lock ends.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LastLock {
    pub executor_id: ExecutorId,
    pub run_id: RunId,
}

/// One execution as listed (from `t_state`, plus counts and times from its log).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ExecutionSummary {
    pub id: ExecutionId,
    /// The parent of a derived (child) execution.
    pub parent_id: Option<ExecutionId>,
    pub is_top_level: bool,
    /// For top-level executions created by a workflow's `Schedule`.
    pub scheduled_by: Option<ExecutionId>,
    pub ffqn: Ffqn,
    pub component_type: ComponentType,
    pub component_digest: ContentDigest,
    pub deployment_id: DeploymentId,
    pub state: ExecutionState,
    pub lifecycle: Lifecycle,
    /// Set when finished.
    pub result_kind: Option<ResultKind>,
    pub created_at: DateTime<Utc>,
    pub first_scheduled_at: DateTime<Utc>,
    /// `t_state.updated_at` (whole seconds).
    pub updated_at: DateTime<Utc>,
    /// Time of the newest log row.
    pub last_event_at: Option<DateTime<Utc>>,
    /// Version of the newest log row (`t_state.corresponding_version`).
    pub version: u64,
    /// Number of log rows.
    pub event_count: u64,
    /// Number of `Locked` events (runs and lock extensions).
    pub lock_count: u64,
    /// Failed or timed-out attempts so far (`intermittent_event_count`).
    pub intermittent_failures: u64,
    pub last_lock: Option<LastLock>,
    /// A digest this execution failed to upgrade to (auto-upgrade found nondeterminism).
    pub incompatible_digest: Option<ContentDigest>,
    /// 0.42+: the execution was deleted by retention (its rows may be gone).
    pub tombstoned: bool,
}

impl ExecutionSummary {
    /// True when paused (the state is kept, nothing runs).
    pub fn is_paused(&self) -> bool {
        self.lifecycle == Lifecycle::Paused
    }

    /// True for `finished`.
    pub fn is_finished(&self) -> bool {
        matches!(self.state, ExecutionState::Finished { .. })
    }
}

/// What `--status` selects.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum StatusFilter {
    /// `pending_at` (includes paused pending ones).
    Pending,
    Locked,
    /// `blocked_by_join_set`.
    Blocked,
    Finished,
    /// Anything not finished.
    Unfinished,
    Paused,
    Cancelling,
    /// Finished with `ok`.
    Ok,
    /// Finished with `err`.
    Err,
    /// Finished with an execution failure (timeout, cancel, trap, ...).
    Failed,
}

impl StatusFilter {
    /// Every accepted spelling, for help texts.
    pub const NAMES: &'static [&'static str] =
        &["pending", "locked", "blocked", "finished", "unfinished", "paused", "cancelling", "ok", "err", "failed"];

    /// True when the execution matches.
    pub fn matches(self, e: &ExecutionSummary) -> bool {
        match self {
            StatusFilter::Pending => matches!(e.state, ExecutionState::PendingAt { .. }),
            StatusFilter::Locked => matches!(e.state, ExecutionState::Locked { .. }),
            StatusFilter::Blocked => matches!(e.state, ExecutionState::BlockedByJoinSet { .. }),
            StatusFilter::Finished => e.is_finished(),
            StatusFilter::Unfinished => !e.is_finished(),
            StatusFilter::Paused => e.lifecycle == Lifecycle::Paused,
            StatusFilter::Cancelling => e.lifecycle == Lifecycle::Cancelling,
            StatusFilter::Ok => e.result_kind == Some(ResultKind::Ok),
            StatusFilter::Err => e.result_kind == Some(ResultKind::Err),
            StatusFilter::Failed => matches!(e.result_kind, Some(ResultKind::ExecutionFailure(_))),
        }
    }
}

impl FromStr for StatusFilter {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        Ok(match s {
            "pending" | "pending_at" => StatusFilter::Pending,
            "locked" => StatusFilter::Locked,
            "blocked" | "blocked_by_join_set" => StatusFilter::Blocked,
            "finished" => StatusFilter::Finished,
            "unfinished" => StatusFilter::Unfinished,
            "paused" => StatusFilter::Paused,
            "cancelling" => StatusFilter::Cancelling,
            "ok" => StatusFilter::Ok,
            "err" | "error" => StatusFilter::Err,
            "failed" | "execution_failure" => StatusFilter::Failed,
            other => {
                return Err(format!("unknown status `{other}` (expected one of: {})", StatusFilter::NAMES.join(", ")));
            }
        })
    }
}

/// Which executions [`ObeliskDb::list_executions`] returns. The default lists all.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ExecutionFilter {
    pub status: Option<StatusFilter>,
    /// Keep executions whose FFQN starts with this text.
    pub ffqn_prefix: Option<String>,
    /// Keep executions whose ID starts with this text (`E_01M8...`, or `E_<id>.` for the children).
    pub id_prefix: Option<String>,
    /// Leave out derived (child) executions.
    pub top_level_only: bool,
    /// At most this many, after filtering.
    pub limit: Option<usize>,
}

/// Plain column values of one `t_state` row, borrowed from the SQLite row.
struct StateRow<'r> {
    id: &'r str,
    is_top_level: i64,
    version: i64,
    ffqn: &'r str,
    created_at: &'r str,
    digest: &'r [u8],
    component_type: &'r str,
    first_scheduled_at: &'r str,
    deployment_id: &'r str,
    is_paused: Option<i64>,
    lifecycle: Option<&'r str>,
    pending_expires_finished: &'r str,
    state: &'r str,
    updated_at: &'r str,
    intermittent: i64,
    executor_id: Option<&'r str>,
    run_id: Option<&'r str>,
    join_set_id: Option<&'r str>,
    join_set_closing: Option<i64>,
    result_kind: Option<&'r str>,
    incompatible_digest: Option<&'r [u8]>,
    tombstoned: Option<i64>,
    event_count: i64,
    last_event_at: Option<&'r str>,
    lock_count: i64,
    created_variant: Option<&'r str>,
    created_json: Option<&'r str>,
}

impl<'r> StateRow<'r> {
    /// Reads the columns of the `state_rows_with` query.
    fn read(r: &'r Row<'_>) -> rusqlite::Result<StateRow<'r>> {
        Ok(StateRow {
            id: text(r, 0)?,
            is_top_level: r.get(1)?,
            version: r.get(2)?,
            ffqn: text(r, 3)?,
            created_at: text(r, 4)?,
            digest: r.get_ref(5)?.as_blob()?,
            component_type: text(r, 6)?,
            first_scheduled_at: text(r, 7)?,
            deployment_id: text(r, 8)?,
            is_paused: r.get(9)?,
            lifecycle: optional_text(r, 10)?,
            pending_expires_finished: text(r, 11)?,
            state: text(r, 12)?,
            updated_at: text(r, 13)?,
            intermittent: r.get(14)?,
            executor_id: optional_text(r, 15)?,
            run_id: optional_text(r, 16)?,
            join_set_id: optional_text(r, 17)?,
            join_set_closing: r.get(18)?,
            result_kind: optional_text(r, 19)?,
            // NULL, or absent in older layouts.
            incompatible_digest: r.get_ref(20)?.as_blob_or_null()?,
            tombstoned: r.get(21)?,
            event_count: r.get(22)?,
            last_event_at: optional_text(r, 23)?,
            lock_count: r.get(24)?,
            created_variant: optional_text(r, 25)?,
            created_json: optional_text(r, 26)?,
        })
    }
}

impl ObeliskDb {
    /// Executions matching `filter`, oldest first (by `created_at`, then ID).
    pub fn list_executions(&self, filter: &ExecutionFilter) -> Result<Vec<ExecutionSummary>, ObeliskError> {
        let mut out = Vec::new();
        self.summaries_with(
            "(?1 IS NULL OR substr(s.execution_id, 1, length(?1)) = ?1) \
             AND (?2 IS NULL OR substr(s.ffqn, 1, length(?2)) = ?2) AND (?3 = 0 OR s.is_top_level = 1)",
            (&filter.id_prefix, &filter.ffqn_prefix, filter.top_level_only),
            RowDetail::Full,
            |summary| {
                if filter.status.is_none_or(|s| s.matches(&summary)) {
                    out.push(summary);
                }
                filter.limit.is_none_or(|limit| out.len() < limit)
            },
        )?;
        Ok(out)
    }

    /// One execution's summary.
    pub fn execution_summary(&self, id: &ExecutionId) -> Result<ExecutionSummary, ObeliskError> {
        let mut found = None;
        self.summaries_with("s.execution_id = ?1", [id.to_string()], RowDetail::Full, |summary| {
            found = Some(summary);
            false
        })?;
        found.ok_or_else(|| self.not_found(id))
    }

    /// The `t_state` projection of every execution in `range`, without what needs the log
    /// (`event_count`, `lock_count` are 0, `last_event_at` and `scheduled_by` are `None`): what
    /// whole-database checks compare with.
    pub fn t_state_summaries(&self, range: &IdRange) -> Result<Vec<ExecutionSummary>, ObeliskError> {
        let (condition, params) = range.condition("s.execution_id");
        let mut out = Vec::new();
        self.summaries_with(&condition, rusqlite::params_from_iter(&params), RowDetail::StateOnly, |summary| {
            out.push(summary);
            true
        })?;
        Ok(out)
    }

    /// Reads the `t_state` rows matching `condition` and hands each summary to `keep` until it
    /// returns false.
    fn summaries_with(
        &self,
        condition: &str,
        params: impl rusqlite::Params,
        detail: RowDetail,
        mut keep: impl FnMut(ExecutionSummary) -> bool,
    ) -> Result<(), ObeliskError> {
        let s = self.schema();
        let (log_details, order) = match detail {
            RowDetail::Full => (
                "(SELECT count(*) FROM t_execution_log l WHERE l.execution_id = s.execution_id),
                    (SELECT l.created_at FROM t_execution_log l WHERE l.execution_id = s.execution_id ORDER BY l.version DESC LIMIT 1),
                    (SELECT count(*) FROM t_execution_log l WHERE l.execution_id = s.execution_id AND l.variant = 'locked'),
                    c.variant, c.json_value
             FROM t_state s
             LEFT JOIN t_execution_log c ON c.execution_id = s.execution_id AND c.version = 0",
                "ORDER BY s.created_at, s.execution_id",
            ),
            RowDetail::StateOnly => ("0, NULL, 0, NULL, NULL FROM t_state s", ""),
        };
        let sql = format!(
            "SELECT s.execution_id, s.is_top_level, s.corresponding_version, s.ffqn, s.created_at,
                    s.component_id_input_digest, s.component_type, s.first_scheduled_at, s.deployment_id,
                    {is_paused}, {lifecycle}, s.pending_expires_finished, s.state, s.updated_at,
                    s.intermittent_event_count, {executor_id}, {run_id}, {join_set_id}, {join_set_closing},
                    {result_kind}, {incompatible_digest}, {tombstoned},
                    {log_details}
             WHERE {condition}
             {order}",
            is_paused = s.column_or_null("t_state", "s", "is_paused"),
            lifecycle = s.column_or_null("t_state", "s", "lifecycle"),
            executor_id = s.column_or_null("t_state", "s", "executor_id"),
            run_id = s.column_or_null("t_state", "s", "run_id"),
            join_set_id = s.column_or_null("t_state", "s", "join_set_id"),
            join_set_closing = s.column_or_null("t_state", "s", "join_set_closing"),
            result_kind = s.column_or_null("t_state", "s", "result_kind"),
            incompatible_digest = s.column_or_null("t_state", "s", "incompatible_digest"),
            tombstoned = s.column_or_null("t_state", "s", "tombstoned"),
        );
        self.for_each_row(&sql, params, "listing executions", |r| {
            let row = StateRow::read(r)?;
            Ok(self.summary(row).map(&mut keep))
        })
    }

    fn summary(&self, row: StateRow<'_>) -> Result<ExecutionSummary, ObeliskError> {
        let id: ExecutionId = self.parse(row.id, "t_state.execution_id")?;
        // Error contexts are only formatted when a column is unreadable.
        let at = |column: &'static str| RowColumn { id: &id, column };
        let pef = self.time(row.pending_expires_finished, at("pending_expires_finished"))?;
        let executor_id = row.executor_id.map(|t| self.parse::<ExecutorId>(t, at("executor_id"))).transpose()?;
        let run_id = row.run_id.map(|t| self.parse::<RunId>(t, at("run_id"))).transpose()?;
        let state = match row.state {
            "pending_at" => ExecutionState::PendingAt { scheduled_at: pef },
            "locked" => ExecutionState::Locked { executor_id, run_id, lock_expires_at: pef },
            "blocked_by_join_set" => ExecutionState::BlockedByJoinSet {
                join_set_id: row.join_set_id.map(|t| self.parse(t, at("join_set_id"))).transpose()?,
                lock_expires_at: pef,
                closing: row.join_set_closing.unwrap_or(0) != 0,
            },
            "finished" => ExecutionState::Finished { finished_at: pef },
            other => ExecutionState::Other { state: other.to_owned(), at: pef },
        };
        let lifecycle = match (row.lifecycle, row.is_paused) {
            (Some(text), _) => Lifecycle::from(text),
            (None, Some(paused)) if paused != 0 => Lifecycle::Paused,
            (None, _) => Lifecycle::Active,
        };
        let scheduled_by = match (row.created_variant, row.created_json) {
            (Some(variant), Some(json)) => match Event::decode(variant, json) {
                Event::Created(created) => created.scheduled_by,
                _ => None,
            },
            _ => None,
        };
        let digest = |blob: &[u8], column: &'static str| {
            ContentDigest::from_blob(blob).map_err(|e| self.data_error(format_args!("{}: {e}", at(column))))
        };
        Ok(ExecutionSummary {
            parent_id: id.parent(),
            is_top_level: row.is_top_level != 0,
            scheduled_by,
            ffqn: self.parse(row.ffqn, at("ffqn"))?,
            component_type: ComponentType::from(row.component_type),
            component_digest: digest(row.digest, "component_id_input_digest")?,
            deployment_id: self.parse(row.deployment_id, at("deployment_id"))?,
            state,
            lifecycle,
            result_kind: row.result_kind.map(ResultKind::from_state_json),
            created_at: self.time(row.created_at, at("created_at"))?,
            first_scheduled_at: self.time(row.first_scheduled_at, at("first_scheduled_at"))?,
            updated_at: self.time(row.updated_at, at("updated_at"))?,
            last_event_at: row.last_event_at.map(|t| self.time(t, at("last event time"))).transpose()?,
            version: self.unsigned(row.version, at("corresponding_version"))?,
            event_count: self.unsigned(row.event_count, at("event count"))?,
            lock_count: self.unsigned(row.lock_count, at("lock count"))?,
            intermittent_failures: self.unsigned(row.intermittent, at("intermittent_event_count"))?,
            last_lock: executor_id.zip(run_id).map(|(executor_id, run_id)| LastLock { executor_id, run_id }),
            incompatible_digest: row.incompatible_digest.map(|b| digest(b, "incompatible_digest")).transpose()?,
            tombstoned: row.tombstoned.unwrap_or(0) != 0,
            id,
        })
    }
}

/// How much of an execution's log a `t_state` listing reads.
#[derive(Clone, Copy)]
enum RowDetail {
    /// Event and lock counts, last event time, the `Created` event.
    Full,
    /// `t_state` alone.
    StateOnly,
}

/// `t_state <id> <column>`, for error messages.
struct RowColumn<'a> {
    id: &'a ExecutionId,
    column: &'static str,
}

impl std::fmt::Display for RowColumn<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "t_state {} {}", self.id, self.column)
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;
    use crate::obelisk::retval::FailureKind;
    use crate::obelisk::test_support::{FIXTURE_0_38_3, FIXTURE_0_41_5, open, parse};

    fn counts(list: &[ExecutionSummary]) -> BTreeMap<String, usize> {
        let mut out = BTreeMap::new();
        for e in list {
            let kind = e.result_kind.as_ref().map(|k| k.label().to_owned()).unwrap_or_default();
            *out.entry(format!("{}:{kind}", e.state.name())).or_default() += 1;
        }
        out
    }

    fn expect(pairs: &[(&str, usize)]) -> BTreeMap<String, usize> {
        pairs.iter().map(|(k, v)| (k.to_string(), *v)).collect()
    }

    #[test]
    fn counts_match_the_0_38_3_readme() {
        let db = open(FIXTURE_0_38_3);
        let all = db.list_executions(&ExecutionFilter::default()).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(all.len(), 38);
        assert_eq!(all.iter().filter(|e| e.is_top_level).count(), 20);
        assert_eq!(all.iter().filter(|e| e.is_finished()).count(), 36);
        assert_eq!(all.iter().map(|e| e.event_count).sum::<u64>(), 212);
        assert!(all.iter().all(|e| e.event_count == e.version + 1));
        assert_eq!(
            counts(&all),
            expect(&[
                ("finished:ok", 25),
                ("finished:err", 4),
                ("finished:cancelled", 2),
                ("finished:timed_out", 1),
                ("finished:uncategorized", 4),
                ("pending_at:", 2),
            ])
        );
        // Derived executions know their parent; scheduled ones their scheduler.
        for e in &all {
            assert_eq!(e.is_top_level, e.parent_id.is_none(), "{}", e.id);
        }
        let scheduled: Vec<_> =
            all.iter().filter_map(|e| Some((e.id.to_string(), e.scheduled_by.as_ref()?.to_string()))).collect();
        assert_eq!(
            scheduled,
            [
                ("E_01M86DPHYBY0QB8PBVRPGEYNVG".to_owned(), "E_01M86DPHYBHG0F8N9P5CGKM7AF".to_owned()),
                ("E_01M86DPHYBT57B6YY19KYND7FN".to_owned(), "E_01M86DPHYBHG0F8N9P5CGKM7AF".to_owned()),
            ]
        );
        // Nothing is paused at the end of the 0.38.3 run; the two pending ones failed to auto-upgrade.
        assert!(all.iter().all(|e| !e.is_paused()));
        let pending: Vec<_> = all.iter().filter(|e| !e.is_finished()).collect();
        let bad: ContentDigest = parse("sha256:9eb0ac8749794184dc5ac638a9f6e834adfdb7fe4d9d7e857cc631f91b3a9e5e");
        assert!(pending.iter().all(|e| e.incompatible_digest == Some(bad)));
        let timed_out = all.iter().find(|e| e.id.to_string() == "E_01M86DQRQF1QQ35AA3GJGQ90MT");
        assert_eq!(timed_out.map(|e| (e.intermittent_failures, e.lock_count)), Some((2, 3)));
    }

    #[test]
    fn counts_match_the_0_41_5_readme() {
        let db = open(FIXTURE_0_41_5);
        let all = db.list_executions(&ExecutionFilter::default()).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(all.len(), 33);
        assert_eq!(all.iter().filter(|e| e.is_top_level).count(), 17);
        assert_eq!(all.iter().filter(|e| e.is_finished()).count(), 30);
        assert_eq!(all.iter().map(|e| e.event_count).sum::<u64>(), 177);
        assert_eq!(
            counts(&all),
            expect(&[
                ("blocked_by_join_set:", 2),
                ("finished:ok", 22),
                ("finished:err", 3),
                ("finished:cancelled", 2),
                ("finished:timed_out", 1),
                ("finished:uncategorized", 2),
                ("pending_at:", 1),
            ])
        );
        let sleepy = db.execution_summary(&parse("E_01M86G6XQMQ81M6EPHN9VQCK02")).unwrap_or_else(|e| panic!("{e}"));
        let ExecutionState::BlockedByJoinSet { join_set_id, closing, .. } = &sleepy.state else { panic!("{sleepy:?}") };
        assert_eq!((join_set_id.as_ref().map(ToString::to_string).as_deref(), *closing), (Some("o:1-sleep"), false));
        assert_eq!(sleepy.lifecycle, Lifecycle::Active);
        assert!(sleepy.last_lock.is_some());
    }

    #[test]
    fn filters() {
        let db = open(FIXTURE_0_38_3);
        let list = |filter: ExecutionFilter| db.list_executions(&filter).unwrap_or_else(|e| panic!("{e}"));
        let status = |s: &str| ExecutionFilter { status: Some(parse(s)), ..Default::default() };
        assert_eq!(list(status("pending")).len(), 2);
        assert_eq!(list(status("unfinished")).len(), 2);
        assert_eq!(list(status("finished")).len(), 36);
        assert_eq!(list(status("ok")).len(), 25);
        assert_eq!(list(status("err")).len(), 4);
        assert_eq!(list(status("failed")).len(), 7);
        assert_eq!(list(status("blocked")).len(), 0);
        assert!("sleeping".parse::<StatusFilter>().is_err_and(|e| e.contains("expected one of")));

        let ffqn = list(ExecutionFilter { ffqn_prefix: Some("demo:workflow/wf.s".into()), ..Default::default() });
        assert_eq!(ffqn.len(), 6, "serial x3, sleepy x3");
        let tree =
            list(ExecutionFilter { id_prefix: Some("E_01M86DPHYBHG0F8N9P5CGKM7AF".into()), ..Default::default() });
        assert_eq!(tree.len(), 4, "parent, serial child, two grandchildren");
        assert_eq!(tree.iter().map(|e| e.id.depth()).max(), Some(2));
        let top = list(ExecutionFilter { top_level_only: true, limit: Some(5), ..Default::default() });
        assert_eq!(top.len(), 5);
        assert!(top.iter().all(|e| e.is_top_level));
        let failed = list(ExecutionFilter {
            status: Some(StatusFilter::Failed),
            ffqn_prefix: Some("demo:activity/ops.slow".into()),
            ..Default::default()
        });
        let kinds: Vec<_> = failed.iter().filter_map(|e| e.result_kind.clone()).collect();
        assert_eq!(
            kinds,
            [
                ResultKind::ExecutionFailure(FailureKind::Cancelled),
                ResultKind::ExecutionFailure(FailureKind::TimedOut),
                ResultKind::ExecutionFailure(FailureKind::Cancelled)
            ]
        );
        assert!(matches!(
            db.execution_summary(&parse("E_00000000000000000000000000")),
            Err(ObeliskError::ExecutionNotFound { .. })
        ));
    }

    #[test]
    fn summaries_serialize() {
        let db = open(FIXTURE_0_41_5);
        let e = db.execution_summary(&parse("E_01M86G6PMRH3E8S2J00V53T7S5")).unwrap_or_else(|e| panic!("{e}"));
        let json = serde_json::to_value(&e).unwrap_or_default();
        assert_eq!(json["id"], "E_01M86G6PMRH3E8S2J00V53T7S5");
        assert_eq!(json["state"]["status"], "finished");
        assert_eq!(json["result_kind"], serde_json::json!({"execution_failure": "cancelled"}));
        assert_eq!(json["lifecycle"], "active");
        assert_eq!(json["component_type"], "activity");
    }
}
