//! Deterministic keys: what one host call of the workflow claims the log recorded (spec §3.1.3),
//! and whether a recorded history event is that claim.

use std::fmt;

use serde::Serialize;

use crate::obelisk::{
    DelayId, ExecutionId, Ffqn, HistoryEvent, JoinSetId, JoinSetRequest, Params, PersistKind, ScheduleAt,
};

/// One event a host call produces, before it is compared with the log.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Key {
    /// `join-set-create*`, or the one-off set of a direct call or `sleep`.
    JoinSetCreate { join_set_id: JoinSetId },
    /// A child execution submitted into a join set (direct calls, `submit-json`, `call-json`).
    ChildExecutionRequest {
        join_set_id: JoinSetId,
        child_execution_id: ExecutionId,
        target_ffqn: Ffqn,
        params: Vec<serde_json::Value>,
    },
    /// A timer (`sleep`, `submit-delay`); `expires_at` is taken from the log.
    DelayRequest { join_set_id: JoinSetId, delay_id: DelayId, schedule_at: ScheduleAt },
    /// A blocking wait; `requested_ffqn` for direct calls, `closing` when the set is closed.
    JoinNext { join_set_id: JoinSetId, requested_ffqn: Option<Ffqn>, closing: bool },
    /// A blocking wait on a set whose requests were all awaited.
    JoinNextTooMany { join_set_id: JoinSetId, requested_ffqn: Option<Ffqn> },
    /// `join-next-try`: the outcome is whatever the log recorded.
    JoinNextTry { join_set_id: JoinSetId },
    /// A nondeterministic value (`random-*`, `execution-id-generate`): the kind records the range.
    Persist { kind: PersistKind },
    /// `schedule-json`: a new top-level execution.
    Schedule { execution_id: ExecutionId, schedule_at: ScheduleAt },
    /// `stub-json`: the workflow wrote a stub child's result. Obelisk records only a hash of
    /// it, in an encoding the spec does not give, so the target is matched here and the value
    /// is compared with the child's recorded `Finished` by the host.
    Stub { target_execution_id: ExecutionId, result_json: serde_json::Value },
}

impl Key {
    /// The history event type this key stands for (`join_next`, `persist`, ...).
    pub fn type_name(&self) -> &'static str {
        match self {
            Key::JoinSetCreate { .. } => "join_set_create",
            Key::ChildExecutionRequest { .. } | Key::DelayRequest { .. } => "join_set_request",
            Key::JoinNext { .. } => "join_next",
            Key::JoinNextTooMany { .. } => "join_next_too_many",
            Key::JoinNextTry { .. } => "join_next_try",
            Key::Persist { .. } => "persist",
            Key::Schedule { .. } => "schedule",
            Key::Stub { .. } => "stub",
        }
    }

    /// True when `event` is what this key claims, compared the way Obelisk's replay compares
    /// them: IDs, targets, params, schedules and persist kinds; never times the log decided.
    pub fn matches(&self, event: &HistoryEvent) -> bool {
        use HistoryEvent as H;
        match (self, event) {
            (Key::JoinSetCreate { join_set_id }, H::JoinSetCreate { join_set_id: r }) => join_set_id == r,
            (
                Key::ChildExecutionRequest { join_set_id, child_execution_id, target_ffqn, params },
                H::JoinSetRequest {
                    join_set_id: rjs,
                    request:
                        JoinSetRequest::ChildExecutionRequest {
                            child_execution_id: rid, target_ffqn: rf, params: rp, ..
                        },
                },
            ) => {
                join_set_id == rjs
                    && child_execution_id == rid
                    && target_ffqn == rf
                    // Params too large to store (0.42) cannot be compared; the rest of the key still is.
                    && match rp {
                        Params::Values(values) => values == params,
                        Params::Rejected { .. } => true,
                    }
            }
            (
                Key::DelayRequest { join_set_id, delay_id, schedule_at },
                H::JoinSetRequest {
                    join_set_id: rjs,
                    request: JoinSetRequest::DelayRequest { delay_id: rid, schedule_at: rs, .. },
                },
            ) => join_set_id == rjs && delay_id == rid && schedule_at == rs,
            (
                Key::JoinNext { join_set_id, requested_ffqn, closing },
                H::JoinNext { join_set_id: rjs, requested_ffqn: rf, closing: rc, .. },
            ) => join_set_id == rjs && requested_ffqn == rf && closing == rc,
            (
                Key::JoinNextTooMany { join_set_id, requested_ffqn },
                H::JoinNextTooMany { join_set_id: rjs, requested_ffqn: rf },
            ) => join_set_id == rjs && requested_ffqn == rf,
            (Key::JoinNextTry { join_set_id }, H::JoinNextTry { join_set_id: rjs, .. }) => join_set_id == rjs,
            (Key::Persist { kind }, H::Persist { kind: rk, .. }) => kind == rk,
            (Key::Schedule { execution_id, schedule_at }, H::Schedule { execution_id: rid, schedule_at: rs, .. }) => {
                execution_id == rid && schedule_at == rs
            }
            (Key::Stub { target_execution_id, .. }, H::Stub { target_execution_id: rid, .. }) => {
                target_execution_id == rid
            }
            _ => false,
        }
    }
}

impl fmt::Display for Key {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Key::JoinSetCreate { join_set_id } => write!(f, "join_set_create {join_set_id}"),
            Key::ChildExecutionRequest { join_set_id, child_execution_id, target_ffqn, params } => {
                let params = serde_json::to_string(params).unwrap_or_default();
                write!(f, "child_execution_request {join_set_id} {child_execution_id} {target_ffqn}{params}")
            }
            Key::DelayRequest { join_set_id, delay_id, schedule_at } => {
                write!(f, "delay_request {join_set_id} {delay_id} {}", schedule_text(schedule_at))
            }
            Key::JoinNext { join_set_id, requested_ffqn, closing } => {
                write!(f, "join_next {join_set_id}")?;
                if let Some(ffqn) = requested_ffqn {
                    write!(f, " {ffqn}")?;
                }
                if *closing {
                    f.write_str(" (closing)")?;
                }
                Ok(())
            }
            Key::JoinNextTooMany { join_set_id, .. } => write!(f, "join_next_too_many {join_set_id}"),
            Key::JoinNextTry { join_set_id } => write!(f, "join_next_try {join_set_id}"),
            Key::Persist { kind } => match kind {
                PersistKind::RandomU64 { min, max_inclusive } => {
                    write!(f, "persist random_u64 {min}..={max_inclusive}")
                }
                PersistKind::RandomString { min_length, max_length_exclusive } => {
                    write!(f, "persist random_string length {min_length}..{max_length_exclusive}")
                }
                PersistKind::ExecutionId => f.write_str("persist execution_id"),
            },
            Key::Schedule { execution_id, schedule_at } => {
                write!(f, "schedule {execution_id} {}", schedule_text(schedule_at))
            }
            Key::Stub { target_execution_id, .. } => write!(f, "stub {target_execution_id}"),
        }
    }
}

/// `now`, `at 2026-…`, `in 1.5s`.
pub fn schedule_text(at: &ScheduleAt) -> String {
    match at {
        ScheduleAt::Now => "now".into(),
        ScheduleAt::At(t) => format!("at {}", t.to_rfc3339()),
        ScheduleAt::In(d) => format!("in {d:?}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse<T: std::str::FromStr>(s: &str) -> T
    where
        T::Err: fmt::Display,
    {
        s.parse().unwrap_or_else(|e| panic!("{s}: {e}"))
    }

    fn event(json: &str) -> HistoryEvent {
        serde_json::from_str(json).unwrap_or_else(|e| panic!("{json}: {e}"))
    }

    #[test]
    fn keys_match_recorded_events_from_the_0_41_5_demo() {
        let request = event(
            r#"{"type":"join_set_request","join_set_id":"o:1-add","request":{"type":"child_execution_request","child_execution_id":"E_01M86G6PD8CH6MWG9CWFCJT438.o:1-add_1","target_ffqn":"demo:activity/ops.add","params":[1,2],"result":{"Ok":null}}}"#,
        );
        let mut key = Key::ChildExecutionRequest {
            join_set_id: parse("o:1-add"),
            child_execution_id: parse("E_01M86G6PD8CH6MWG9CWFCJT438.o:1-add_1"),
            target_ffqn: parse("demo:activity/ops.add"),
            params: vec![1.into(), 2.into()],
        };
        assert!(key.matches(&request));
        if let Key::ChildExecutionRequest { params, .. } = &mut key {
            params[0] = 1001.into();
        }
        assert!(!key.matches(&request), "a changed param is a different event");

        let delay = event(
            r#"{"type":"join_set_request","join_set_id":"o:1-sleep","request":{"type":"delay_request","delay_id":"Delay_01M86G6PF12FCXTSFMF2TZGQWR.o:1-sleep_1","expires_at":"2026-11-24T10:04:14.676103121Z","schedule_at":{"in":{"secs":1,"nanos":500000000}},"paused":false}}"#,
        );
        let sleep = |ms| Key::DelayRequest {
            join_set_id: parse("o:1-sleep"),
            delay_id: parse("Delay_01M86G6PF12FCXTSFMF2TZGQWR.o:1-sleep_1"),
            schedule_at: ScheduleAt::In(std::time::Duration::from_millis(ms)),
        };
        assert!(sleep(1500).matches(&delay));
        assert!(!sleep(1501).matches(&delay));

        let persist = event(
            r#"{"type":"persist","value":[0,0,0,0,0,0,2,181],"kind":{"type":"random_u64","min":0,"max_inclusive":999}}"#,
        );
        assert!(Key::Persist { kind: PersistKind::RandomU64 { min: 0, max_inclusive: 999 } }.matches(&persist));
        assert!(!Key::Persist { kind: PersistKind::RandomU64 { min: 0, max_inclusive: 1999 } }.matches(&persist));
        assert!(!Key::Persist { kind: PersistKind::ExecutionId }.matches(&persist));

        let closing = event(
            r#"{"type":"join_next","join_set_id":"n:batch","run_expires_at":"2026-11-24T10:04:14.141445867Z","requested_ffqn":null,"closing":true}"#,
        );
        let join_next = |closing| Key::JoinNext { join_set_id: parse("n:batch"), requested_ffqn: None, closing };
        assert!(join_next(true).matches(&closing));
        assert!(!join_next(false).matches(&closing));
        assert_eq!(join_next(true).to_string(), "join_next n:batch (closing)");
    }
}
