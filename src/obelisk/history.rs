//! History events: what a workflow did (`{"history_event":{"event":{"type":...}}}`), the part of
//! the log a replay matches against the workflow's host calls.

use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::ids::{DelayId, ExecutionId, Ffqn, JoinSetId, Ulid};

/// Parameters of a call: a plain JSON array without types (types are in the component's
/// metadata). 0.42 may store `{"rejected":{"encoded_size_at_least":N}}` for oversized params.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Params {
    Values(Vec<serde_json::Value>),
    Rejected { rejected: RejectedParams },
}

/// Why params were not stored (0.42+).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RejectedParams {
    pub encoded_size_at_least: u64,
}

/// Outcome of a request, serde's `Result` form: `{"Ok":null}` or `{"Err":...}`.
pub type RequestResult = Result<(), serde_json::Value>;

fn request_ok() -> RequestResult {
    Ok(())
}

/// When a scheduled execution or delay should run: `"now"`, `{"at":ts}` or `{"in":{secs,nanos}}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ScheduleAt {
    Now,
    At(DateTime<Utc>),
    In(Duration),
}

/// What a `Persist` event recorded.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum PersistKind {
    /// `random-u64(min, max)`: 8 bytes big-endian.
    RandomU64 { min: u64, max_inclusive: u64 },
    /// `random-string(min, max)`: UTF-8 bytes.
    RandomString { min_length: u64, max_length_exclusive: u64 },
    /// `execution-id-generate`: the 16-byte ULID of the generated ID.
    ExecutionId,
}

/// A persisted value decoded according to its kind.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(untagged)]
pub enum PersistedValue {
    U64(u64),
    String(String),
    ExecutionId(ExecutionId),
}

/// A request added to a join set.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum JoinSetRequest {
    /// A timer; `expires_at` is computed when first recorded and taken from history on replay.
    DelayRequest {
        delay_id: DelayId,
        expires_at: DateTime<Utc>,
        schedule_at: ScheduleAt,
        /// Set by `execution advance --pause-delays`.
        #[serde(default)]
        paused: bool,
    },
    /// A child execution (its ID is derived from the parent's and the join set).
    ChildExecutionRequest {
        child_execution_id: ExecutionId,
        target_ffqn: Ffqn,
        params: Params,
        /// 0.42+: hash of the params when they are not stored in full.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        params_hash: Option<String>,
        #[serde(default = "request_ok")]
        result: RequestResult,
    },
}

string_enum! {
    /// Outcome of a non-blocking `join-next-try`.
    pub enum JoinNextTryOutcome {
        /// A response was there and was consumed.
        Found => "found",
        /// Requests are outstanding, no response yet.
        Pending => "pending",
        /// Every request's response was already consumed.
        AllProcessed => "all_processed",
    }
}

/// One thing a workflow did, recorded so a replay can check determinism and skip side effects.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum HistoryEvent {
    /// A recorded nondeterministic value (random number or string, generated execution ID).
    Persist {
        /// The value; 0.42+ may store only `value_hash`.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        value: Option<Vec<u8>>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        value_hash: Option<String>,
        kind: PersistKind,
    },
    /// A join set was opened.
    JoinSetCreate { join_set_id: JoinSetId },
    /// A child execution or delay was added to a join set.
    JoinSetRequest { join_set_id: JoinSetId, request: JoinSetRequest },
    /// A blocking wait for the next response of a join set (`closing` when the set is being closed).
    JoinNext {
        join_set_id: JoinSetId,
        run_expires_at: DateTime<Utc>,
        #[serde(default)]
        requested_ffqn: Option<Ffqn>,
        #[serde(default)]
        closing: bool,
    },
    /// A non-blocking check for the next response.
    JoinNextTry { join_set_id: JoinSetId, outcome: JoinNextTryOutcome },
    /// A `JoinNext` with no request left to wait for.
    JoinNextTooMany {
        join_set_id: JoinSetId,
        #[serde(default)]
        requested_ffqn: Option<Ffqn>,
    },
    /// A new top-level execution was scheduled (its `Created` has `scheduled_by`).
    Schedule {
        execution_id: ExecutionId,
        schedule_at: ScheduleAt,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        params_hash: Option<String>,
        #[serde(default = "request_ok")]
        result: RequestResult,
    },
    /// The workflow wrote the result of a stub-activity child itself.
    Stub {
        target_execution_id: ExecutionId,
        /// `01` + SHA-256 hex of the stubbed return value.
        retval_hash: String,
        #[serde(default = "request_ok")]
        result: RequestResult,
    },
}

impl HistoryEvent {
    /// The `type` tag, as in the generated `history_event_type` column.
    pub fn type_name(&self) -> &'static str {
        match self {
            HistoryEvent::Persist { .. } => "persist",
            HistoryEvent::JoinSetCreate { .. } => "join_set_create",
            HistoryEvent::JoinSetRequest { .. } => "join_set_request",
            HistoryEvent::JoinNext { .. } => "join_next",
            HistoryEvent::JoinNextTry { .. } => "join_next_try",
            HistoryEvent::JoinNextTooMany { .. } => "join_next_too_many",
            HistoryEvent::Schedule { .. } => "schedule",
            HistoryEvent::Stub { .. } => "stub",
        }
    }

    /// The join set the event is about, if any.
    pub fn join_set_id(&self) -> Option<&JoinSetId> {
        match self {
            HistoryEvent::JoinSetCreate { join_set_id }
            | HistoryEvent::JoinSetRequest { join_set_id, .. }
            | HistoryEvent::JoinNext { join_set_id, .. }
            | HistoryEvent::JoinNextTry { join_set_id, .. }
            | HistoryEvent::JoinNextTooMany { join_set_id, .. } => Some(join_set_id),
            HistoryEvent::Persist { .. } | HistoryEvent::Schedule { .. } | HistoryEvent::Stub { .. } => None,
        }
    }

    /// For `Persist`: the value decoded per its kind (`None` without a value or when it does not fit).
    pub fn persisted_value(&self) -> Option<PersistedValue> {
        let HistoryEvent::Persist { value: Some(bytes), kind, .. } = self else { return None };
        match kind {
            PersistKind::RandomU64 { .. } => {
                Some(PersistedValue::U64(u64::from_be_bytes(bytes.as_slice().try_into().ok()?)))
            }
            PersistKind::RandomString { .. } => String::from_utf8(bytes.clone()).ok().map(PersistedValue::String),
            PersistKind::ExecutionId => {
                let ulid = Ulid::from_bytes(bytes.as_slice().try_into().ok()?);
                Some(PersistedValue::ExecutionId(ExecutionId::top_level(ulid)))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(json: &str) -> HistoryEvent {
        serde_json::from_str(json).unwrap_or_else(|e| panic!("{json}: {e}"))
    }

    #[test]
    fn persisted_values_decode() {
        let u = event(
            r#"{"type":"persist","value":[0,0,0,0,0,0,2,89],"kind":{"type":"random_u64","min":0,"max_inclusive":999}}"#,
        );
        assert_eq!(u.persisted_value(), Some(PersistedValue::U64(601)));
        let s = event(
            r#"{"type":"persist","value":[105,115,87,105,118,115,105],"kind":{"type":"random_string","min_length":5,"max_length_exclusive":10}}"#,
        );
        assert_eq!(s.persisted_value(), Some(PersistedValue::String("isWivsi".into())));
        let e = event(
            r#"{"type":"persist","value":[1,162,12,219,71,203,240,46,180,89,123,197,160,239,87,112],"kind":{"type":"execution_id"}}"#,
        );
        let expected: ExecutionId = "E_01M86DPHYBY0QB8PBVRPGEYNVG".parse().unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(e.persisted_value(), Some(PersistedValue::ExecutionId(expected)));
        // 0.42: only a hash.
        let h = event(r#"{"type":"persist","value_hash":"01ab","kind":{"type":"execution_id"}}"#);
        assert_eq!(h.persisted_value(), None);
    }

    #[test]
    fn events_from_the_spec_and_code() {
        let too_many = event(r#"{"type":"join_next_too_many","join_set_id":"n:x","requested_ffqn":null}"#);
        assert_eq!(too_many.type_name(), "join_next_too_many");
        assert_eq!(too_many.join_set_id().map(ToString::to_string).as_deref(), Some("n:x"));
        let at = event(
            r#"{"type":"schedule","execution_id":"E_01M86DPHYBY0QB8PBVRPGEYNVG","schedule_at":{"at":"2026-11-24T09:20:27Z"},"result":{"Err":"function_not_found"}}"#,
        );
        let HistoryEvent::Schedule { schedule_at: ScheduleAt::At(_), result: Err(err), .. } = &at else {
            panic!("{at:?}")
        };
        assert_eq!(err, &serde_json::json!("function_not_found"));
        let delay = event(
            r#"{"type":"join_set_request","join_set_id":"g:1","request":{"type":"delay_request","delay_id":"Delay_01M86DPFFDGMT7EW7PF6ESA2Z2.g:1_0","expires_at":"2026-11-24T09:20:24.959234927Z","schedule_at":{"in":{"secs":0,"nanos":300000000}}}}"#,
        );
        let HistoryEvent::JoinSetRequest { request: JoinSetRequest::DelayRequest { schedule_at, paused, .. }, .. } =
            &delay
        else {
            panic!("{delay:?}")
        };
        assert_eq!((schedule_at, *paused), (&ScheduleAt::In(Duration::from_millis(300)), false));
        let rejected = event(
            r#"{"type":"join_set_request","join_set_id":"n:b","request":{"type":"child_execution_request","child_execution_id":"E_01M86DPHYBY0QB8PBVRPGEYNVG.n:b_1","target_ffqn":"a:b/c.d","params":{"rejected":{"encoded_size_at_least":9000}},"params_hash":"01ff","result":{"Ok":null}}}"#,
        );
        let HistoryEvent::JoinSetRequest { request: JoinSetRequest::ChildExecutionRequest { params, .. }, .. } =
            &rejected
        else {
            panic!("{rejected:?}")
        };
        assert_eq!(params, &Params::Rejected { rejected: RejectedParams { encoded_size_at_least: 9000 } });
        // Fields added by later versions are ignored.
        let newer = event(r#"{"type":"join_set_create","join_set_id":"n:x","closing_strategy":"complete"}"#);
        assert_eq!(newer.type_name(), "join_set_create");
    }
}
