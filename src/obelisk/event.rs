//! Execution-log events (`t_execution_log.json_value`), typed for every variant Obelisk writes.
//! Decoding never fails: a row we cannot read is kept as [`Event::Raw`] with its JSON text.

use std::collections::BTreeMap;
use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::component::{ComponentId, ContentDigest};
use super::history::{HistoryEvent, Params};
use super::ids::{DeploymentId, ExecutionId, ExecutorId, Ffqn, JoinSetId, RunId};
use super::retval::RetVal;

/// Version 0 of every execution.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Created {
    pub ffqn: Ffqn,
    pub params: Params,
    /// The parent execution and its join set, for derived (child) executions.
    #[serde(default)]
    pub parent: Option<(ExecutionId, JoinSetId)>,
    pub scheduled_at: DateTime<Utc>,
    pub component_id: ComponentId,
    #[serde(default)]
    pub deployment_id: Option<DeploymentId>,
    /// Free-form metadata, e.g. tracing links.
    #[serde(default)]
    pub metadata: BTreeMap<String, serde_json::Value>,
    /// The workflow whose `Schedule` event created this top-level execution.
    #[serde(default)]
    pub scheduled_by: Option<ExecutionId>,
    /// 0.42+.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_persisted_value_size_bytes: Option<u64>,
}

/// Retry policy in force for the run (`max_retries: None` = retry forever, as for workflows).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RetryConfig {
    #[serde(default)]
    pub max_retries: Option<u32>,
    pub retry_exp_backoff: Duration,
}

/// An executor took the execution (a new run), or extended its lock (same executor and run).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Locked {
    pub component_id: ComponentId,
    pub executor_id: ExecutorId,
    #[serde(default)]
    pub deployment_id: Option<DeploymentId>,
    pub run_id: RunId,
    pub lock_expires_at: DateTime<Utc>,
    #[serde(default)]
    pub retry_config: Option<RetryConfig>,
}

/// The lock was released early (`made progress`, `auto-upgrade failed`, ...).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Unlocked {
    pub backoff_expires_at: DateTime<Utc>,
    #[serde(default)]
    pub reason: String,
}

/// An HTTP request an activity made; kept as JSON when its shape is not the one we know.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum HttpClientTrace {
    Known { req: HttpRequestTrace, resp: Option<HttpResponseTrace> },
    Other(serde_json::Value),
}

/// The request half of an [`HttpClientTrace`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HttpRequestTrace {
    pub sent_at: DateTime<Utc>,
    pub uri: String,
    pub method: String,
}

/// The response half of an [`HttpClientTrace`]: a status code or an error text.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HttpResponseTrace {
    pub finished_at: DateTime<Utc>,
    pub status: Result<u16, String>,
}

/// An attempt failed and will be retried after `backoff_expires_at`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TemporarilyFailed {
    pub backoff_expires_at: DateTime<Utc>,
    #[serde(default)]
    pub reason: String,
    /// For activities returning `err`: the JSON of the error value with its type.
    #[serde(default)]
    pub detail: Option<String>,
    #[serde(default)]
    pub http_client_traces: Option<Vec<HttpClientTrace>>,
}

/// An attempt timed out and will be retried after `backoff_expires_at`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TemporarilyTimedOut {
    pub backoff_expires_at: DateTime<Utc>,
    #[serde(default)]
    pub http_client_traces: Option<Vec<HttpClientTrace>>,
}

/// The terminal event.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Finished {
    pub retval: RetVal,
    #[serde(default)]
    pub http_client_traces: Option<Vec<HttpClientTrace>>,
}

/// Why a component upgrade was attempted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum UpgradeReason {
    /// Auto-upgrade after a redeploy (`locking_strategy = "auto"`).
    Auto,
    /// `execution upgrade` (`force` = `--skip-determinism-check`).
    Manual {
        #[serde(default)]
        force: bool,
    },
}

/// Result of replaying an execution against a new component digest.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum UpgradeOutcome {
    Success {
        reason: UpgradeReason,
    },
    /// E.g. `nondeterminism detected`; `t_state.incompatible_digest` is set.
    Failed {
        reason: String,
    },
}

/// A component upgrade (switch of digest and deployment) was attempted.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ComponentUpgradeFinished {
    pub component_digest: ContentDigest,
    pub deployment_id: DeploymentId,
    pub outcome: UpgradeOutcome,
}

/// A raw row we could not decode, kept verbatim so it is shown rather than dropped.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RawEvent {
    /// The row's `variant` column.
    pub variant: String,
    /// The row's `json_value` text.
    pub json: String,
    /// Why decoding failed.
    pub error: String,
}

/// One execution-log event (`ExecutionRequest` in Obelisk). Serializes as Obelisk does
/// (externally tagged, snake case; `Raw` as `{"raw":{...}}`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Event {
    /// Boxed, as `Locked`: the largest variants, kept out of every event's size.
    Created(Box<Created>),
    Locked(Box<Locked>),
    Unlocked(Unlocked),
    TemporarilyFailed(TemporarilyFailed),
    TemporarilyTimedOut(TemporarilyTimedOut),
    Finished(Finished),
    HistoryEvent {
        event: HistoryEvent,
    },
    Paused,
    Unpaused,
    /// 0.39.5+.
    CancellationRequested,
    ComponentUpgradeFinished(ComponentUpgradeFinished),
    /// Not decodable by this version of Chronoscope.
    #[serde(skip_deserializing)]
    Raw(RawEvent),
}

impl Event {
    /// Decodes a `t_execution_log` row from its `variant` and `json_value` columns. Unknown
    /// variants, malformed JSON and a `variant` that disagrees with the JSON give [`Event::Raw`].
    pub fn decode(variant: &str, json: &str) -> Event {
        let raw = |error: String| Event::Raw(RawEvent { variant: variant.to_owned(), json: json.to_owned(), error });
        match serde_json::from_str::<Event>(json) {
            Ok(event) if event.variant() == variant => event,
            Ok(event) => raw(format!("the variant column says `{variant}`, the JSON holds `{}`", event.variant())),
            Err(e) => raw(e.to_string()),
        }
    }

    /// The `variant` column value for this event (`raw` rows keep theirs).
    pub fn variant(&self) -> &str {
        match self {
            Event::Created(_) => "created",
            Event::Locked(_) => "locked",
            Event::Unlocked(_) => "unlocked",
            Event::TemporarilyFailed(_) => "temporarily_failed",
            Event::TemporarilyTimedOut(_) => "temporarily_timed_out",
            Event::Finished(_) => "finished",
            Event::HistoryEvent { .. } => "history_event",
            Event::Paused => "paused",
            Event::Unpaused => "unpaused",
            Event::CancellationRequested => "cancellation_requested",
            Event::ComponentUpgradeFinished(_) => "component_upgrade_finished",
            Event::Raw(raw) => &raw.variant,
        }
    }

    /// The history event, for `history_event` rows.
    pub fn history(&self) -> Option<&HistoryEvent> {
        match self {
            Event::HistoryEvent { event } => Some(event),
            _ => None,
        }
    }

    /// The join set the event belongs to: a child's `Created.parent` or a history event's.
    pub fn join_set_id(&self) -> Option<&JoinSetId> {
        match self {
            Event::Created(c) => c.parent.as_ref().map(|(_, js)| js),
            Event::HistoryEvent { event } => event.join_set_id(),
            _ => None,
        }
    }

    /// True for rows that could not be decoded.
    pub fn is_raw(&self) -> bool {
        matches!(self, Event::Raw(_))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::obelisk::history::JoinSetRequest;
    use crate::obelisk::retval::{FailureKind, ResultKind};

    #[test]
    fn decodes_spec_examples() {
        let created = Event::decode(
            "created",
            r#"{"created":{"ffqn":"demo:activity/ops.add","params":[5,5],"parent":["E_01M86DPHYBHG0F8N9P5CGKM7AF.o:1-serial_1","o:1-add"],"scheduled_at":"2026-11-24T09:20:27.106892276Z","component_id":{"component_type":"activity","name":"demo_activity","component_digest":"sha256:36bb49bb28e067787a910f7e15c0105bb0a3bcc0050b27482cf386d48db9a511"},"deployment_id":"Dep_01M86DP41HEDZMJE90ZN0VEJ73","metadata":{},"scheduled_by":null}}"#,
        );
        let Event::Created(c) = &created else { panic!("{created:?}") };
        let (parent, js) = c.parent.as_ref().unwrap_or_else(|| panic!("parent"));
        assert_eq!(
            (parent.to_string().as_str(), js.to_string().as_str()),
            ("E_01M86DPHYBHG0F8N9P5CGKM7AF.o:1-serial_1", "o:1-add")
        );
        assert_eq!(created.join_set_id(), Some(js));

        let upgrade = Event::decode(
            "component_upgrade_finished",
            r#"{"component_upgrade_finished":{"component_digest":"sha256:9eb0ac8749794184dc5ac638a9f6e834adfdb7fe4d9d7e857cc631f91b3a9e5e","deployment_id":"Dep_01M86DZJD58V5W0Q7111QDYD0K","outcome":{"type":"success","reason":{"type":"manual","force":true}}}}"#,
        );
        let Event::ComponentUpgradeFinished(u) = &upgrade else { panic!("{upgrade:?}") };
        assert_eq!(u.outcome, UpgradeOutcome::Success { reason: UpgradeReason::Manual { force: true } });

        assert_eq!(Event::decode("paused", r#""paused""#), Event::Paused);
        assert_eq!(
            Event::decode("cancellation_requested", r#""cancellation_requested""#),
            Event::CancellationRequested
        );

        let finished = Event::decode(
            "finished",
            r#"{"finished":{"retval":{"execution_failure":{"kind":"timed_out"}},"http_client_traces":[]}}"#,
        );
        let Event::Finished(f) = &finished else { panic!("{finished:?}") };
        assert_eq!(f.retval.kind(), ResultKind::ExecutionFailure(FailureKind::TimedOut));

        let traced = Event::decode(
            "temporarily_timed_out",
            r#"{"temporarily_timed_out":{"backoff_expires_at":"2026-11-24T09:21:17.050119394Z","http_client_traces":[{"req":{"sent_at":"2026-11-24T09:21:16Z","uri":"http://x/","method":"GET"},"resp":{"finished_at":"2026-11-24T09:21:17Z","status":{"Ok":200}}},{"new":"shape"}]}}"#,
        );
        let Event::TemporarilyTimedOut(t) = &traced else { panic!("{traced:?}") };
        let traces = t.http_client_traces.as_deref().unwrap_or_default();
        assert!(matches!(&traces[0], HttpClientTrace::Known { resp: Some(r), .. } if r.status == Ok(200)));
        assert!(matches!(&traces[1], HttpClientTrace::Other(_)));
    }

    #[test]
    fn history_event_join_set() {
        let e = Event::decode(
            "history_event",
            r#"{"history_event":{"event":{"type":"join_set_request","join_set_id":"o:1-serial","request":{"type":"child_execution_request","child_execution_id":"E_01M86DPHYBHG0F8N9P5CGKM7AF.o:1-serial_1","target_ffqn":"demo:workflow/wf.serial","params":[5,5],"result":{"Ok":null}}}}}"#,
        );
        let Some(HistoryEvent::JoinSetRequest {
            request: JoinSetRequest::ChildExecutionRequest { result, .. }, ..
        }) = e.history()
        else {
            panic!("{e:?}")
        };
        assert_eq!(result, &Ok(()));
        assert_eq!(e.join_set_id().map(ToString::to_string).as_deref(), Some("o:1-serial"));
    }

    #[test]
    fn undecodable_rows_become_raw() {
        let cases = [
            ("teleported", r#"{"teleported":{"to":"mars"}}"#),
            ("teleported", r#""teleported""#),
            ("history_event", r#"{"history_event":{"event":{"type":"time_travel"}}}"#),
            ("created", r#"{"created":{"ffqn":"no-dots"#),
            ("created", ""),
            ("locked", r#""paused""#),
            ("created", r#"{"created":{"ffqn":"demo:workflow/wf.serial"}}"#),
        ];
        for (variant, json) in cases {
            let e = Event::decode(variant, json);
            let Event::Raw(raw) = &e else { panic!("{variant} {json}: decoded as {e:?}") };
            assert_eq!((raw.variant.as_str(), raw.json.as_str()), (variant, json));
            assert!(!raw.error.is_empty());
            assert_eq!(e.variant(), variant);
            let shown = serde_json::to_value(&e).unwrap_or_default();
            assert_eq!(shown["raw"]["json"], serde_json::json!(json));
        }
    }

    #[test]
    fn serializes_like_obelisk() {
        let json = r#"{"unlocked":{"backoff_expires_at":"2026-11-24T09:20:29.083733466Z","reason":"made progress"}}"#;
        let e = Event::decode("unlocked", json);
        assert_eq!(serde_json::to_string(&e).ok().as_deref(), Some(json));
        assert_eq!(serde_json::to_string(&Event::Unpaused).ok().as_deref(), Some(r#""unpaused""#));
    }
}
