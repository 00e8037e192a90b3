//! Loading one execution's full event log (`t_execution_log`) as typed [`LogEntry`] rows.

use chrono::{DateTime, Utc};
use serde::Serialize;

use super::db::{ObeliskDb, text};
use super::error::ObeliskError;
use super::event::Event;
use super::ids::ExecutionId;

/// One row of an execution's log.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LogEntry {
    /// 0 = `Created`, +1 per event, contiguous.
    pub version: u64,
    /// When the event was appended.
    pub created_at: DateTime<Utc>,
    /// The typed event, or [`Event::Raw`] when it cannot be decoded.
    pub event: Event,
}

impl ObeliskDb {
    /// The execution's events ordered by version. An unknown ID is an error.
    pub fn execution_log(&self, id: &ExecutionId) -> Result<Vec<LogEntry>, ObeliskError> {
        let mut log = Vec::with_capacity(self.log_len(id)?);
        self.visit_execution_log(id, |entry| log.push(entry))?;
        if log.is_empty() {
            return Err(self.not_found(id));
        }
        Ok(log)
    }

    /// The number of log rows of an execution (0 for an unknown ID).
    pub fn log_len(&self, id: &ExecutionId) -> Result<usize, ObeliskError> {
        let count: Vec<i64> = self.query(
            "SELECT count(*) FROM t_execution_log WHERE execution_id = ?1",
            [id.to_string()],
            format_args!("counting the log rows of {id}"),
            |r| r.get(0),
        )?;
        Ok(count.first().map_or(0, |&n| usize::try_from(n).unwrap_or(0)))
    }

    /// Hands the execution's events to `visit` in version order, each decoded as it is read from
    /// borrowed column text (a long log is never held twice); returns how many there were.
    pub fn visit_execution_log(
        &self,
        id: &ExecutionId,
        mut visit: impl FnMut(LogEntry),
    ) -> Result<usize, ObeliskError> {
        let mut count = 0;
        self.for_each_row(
            "SELECT version, created_at, variant, json_value FROM t_execution_log WHERE execution_id = ?1 ORDER BY version",
            [id.to_string()],
            format_args!("reading the log of {id}"),
            |r| {
                let version: i64 = r.get(0)?;
                let (created_at, variant, json) = (text(r, 1)?, text(r, 2)?, text(r, 3)?);
                Ok((|| {
                    let at = format_args!("t_execution_log {id} v{version}");
                    visit(LogEntry {
                        version: self.unsigned(version, at)?,
                        created_at: self.time(created_at, at)?,
                        event: Event::decode(variant, json),
                    });
                    count += 1;
                    Ok(true)
                })())
            },
        )?;
        Ok(count)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::obelisk::event::{UpgradeOutcome, UpgradeReason};
    use crate::obelisk::executions::ExecutionFilter;
    use crate::obelisk::history::{HistoryEvent, JoinNextTryOutcome, JoinSetRequest, PersistedValue};
    use crate::obelisk::retval::{FailureKind, ResultKind, RetVal};
    use crate::obelisk::test_support::{FIXTURE_0_38_3, FIXTURE_0_41_5, open, parse};

    /// Every row of the fixture decodes into a typed event; returns (rows, history types seen).
    fn decode_all(version: &str) -> (usize, std::collections::BTreeMap<String, usize>) {
        let db = open(version);
        let mut rows = 0;
        let mut kinds = std::collections::BTreeMap::new();
        for e in db.list_executions(&ExecutionFilter::default()).unwrap_or_else(|e| panic!("{e}")) {
            let log = db.execution_log(&e.id).unwrap_or_else(|e| panic!("{e}"));
            for (i, entry) in log.iter().enumerate() {
                assert!(!entry.event.is_raw(), "{} v{}: {:?}", e.id, entry.version, entry.event);
                assert_eq!(entry.version, i as u64, "{}: versions are contiguous", e.id);
                let kind = match entry.event.history() {
                    Some(h) => h.type_name().to_owned(),
                    None => entry.event.variant().to_owned(),
                };
                *kinds.entry(kind).or_default() += 1;
            }
            assert!(matches!(log.first().map(|l| &l.event), Some(Event::Created(_))), "{}", e.id);
            // The last event agrees with t_state.
            let last = log.last().map(|l| &l.event);
            match (&e.result_kind, last) {
                (Some(kind), Some(Event::Finished(f))) => assert_eq!(&f.retval.kind(), kind, "{}", e.id),
                (None, Some(event)) => assert!(!matches!(event, Event::Finished(_)), "{}", e.id),
                other => panic!("{}: {other:?}", e.id),
            }
            rows += log.len();
        }
        (rows, kinds)
    }

    #[test]
    fn every_0_38_3_row_is_typed() {
        let (rows, kinds) = decode_all(FIXTURE_0_38_3);
        assert_eq!(rows, 212);
        let expected = [
            ("component_upgrade_finished", 3),
            ("created", 38),
            ("finished", 36),
            ("join_next", 22),
            ("join_next_try", 1),
            ("join_set_create", 19),
            ("join_set_request", 22),
            ("persist", 7),
            ("schedule", 2),
            ("stub", 1),
            ("locked", 48),
            ("paused", 2),
            ("temporarily_failed", 4),
            ("temporarily_timed_out", 2),
            ("unlocked", 3),
            ("unpaused", 2),
        ];
        assert_eq!(kinds, expected.iter().map(|(k, n)| (k.to_string(), *n)).collect());
    }

    #[test]
    fn every_0_41_5_row_is_typed() {
        let (rows, kinds) = decode_all(FIXTURE_0_41_5);
        assert_eq!(rows, 177);
        let expected = [
            ("cancellation_requested", 2),
            ("created", 33),
            ("finished", 30),
            ("join_next", 20),
            ("join_next_try", 1),
            ("join_set_create", 17),
            ("join_set_request", 20),
            ("persist", 8),
            ("schedule", 2),
            ("stub", 1),
            ("locked", 37),
            ("paused", 1),
            ("temporarily_failed", 2),
            ("temporarily_timed_out", 2),
            ("unpaused", 1),
        ];
        assert_eq!(kinds, expected.iter().map(|(k, n)| (k.to_string(), *n)).collect());
    }

    fn log(version: &str, id: &str) -> Vec<LogEntry> {
        open(version).execution_log(&parse(id)).unwrap_or_else(|e| panic!("{e}"))
    }

    fn finished_kind(entries: &[LogEntry]) -> Option<ResultKind> {
        match entries.last().map(|l| &l.event) {
            Some(Event::Finished(f)) => Some(f.retval.kind()),
            _ => None,
        }
    }

    #[test]
    fn named_0_38_3_executions() {
        // ops.slow twice timed out, then finished timed_out.
        let slow = log(FIXTURE_0_38_3, "E_01M86DQRQF1QQ35AA3GJGQ90MT");
        assert_eq!(slow.len(), 7);
        assert_eq!(slow.iter().filter(|l| matches!(l.event, Event::TemporarilyTimedOut(_))).count(), 2);
        assert_eq!(finished_kind(&slow), Some(ResultKind::ExecutionFailure(FailureKind::TimedOut)));

        // The failing activity retried twice, then returned err "boom".
        let fail = log(FIXTURE_0_38_3, "E_01M86DPJ5BPCP71S3G8V6JMMX9.o:1-fail_1");
        let failed: Vec<_> = fail
            .iter()
            .filter_map(|l| if let Event::TemporarilyFailed(f) = &l.event { Some(f) } else { None })
            .collect();
        assert_eq!(failed.len(), 2);
        assert_eq!(failed[0].reason, "activity returned error");
        assert_eq!(failed[0].detail.as_deref(), Some(r#"{"type":"string","value":"boom"}"#));
        assert!(
            matches!(fail.last().map(|l| &l.event), Some(Event::Finished(f)) if matches!(&f.retval, RetVal::Err(Some(v)) if v.value == "boom"))
        );

        // wait-for-human after the redeploy: upgrade failed, unlocked, still pending.
        let human = log(FIXTURE_0_38_3, "E_01M86DXF0J48Q9K6CEVPPJQAM3");
        assert_eq!(human.len(), 8);
        let Event::ComponentUpgradeFinished(upgrade) = &human[6].event else { panic!("{:?}", human[6]) };
        assert_eq!(upgrade.outcome, UpgradeOutcome::Failed { reason: "nondeterminism detected".into() });
        assert!(matches!(&human[7].event, Event::Unlocked(u) if u.reason == "auto-upgrade failed"));
        assert_eq!(finished_kind(&human), None);

        // Serial paused at creation, unpaused, upgraded with success, then finished ok.
        let serial = log(FIXTURE_0_38_3, "E_01M86DXF34ECW02REQFDSBTVJF");
        assert_eq!(serial.len(), 13);
        assert_eq!(serial[1].event, Event::Paused);
        assert!(serial.iter().any(|l| matches!(&l.event, Event::ComponentUpgradeFinished(u) if u.outcome == UpgradeOutcome::Success { reason: UpgradeReason::Auto })));
        assert_eq!(finished_kind(&serial), Some(ResultKind::Ok));

        // Panicky workflow: a trap.
        let panicky = log(FIXTURE_0_38_3, "E_01M86DPMFE2VD89HQ6MN3ZP4JD");
        let Some(Event::Finished(f)) = panicky.last().map(|l| &l.event) else { panic!("{panicky:?}") };
        let RetVal::ExecutionFailure(failure) = &f.retval else { panic!("{f:?}") };
        assert_eq!(failure.kind, FailureKind::Uncategorized);
        assert!(failure.reason.as_deref().is_some_and(|r| r.starts_with("workflow trap")), "{failure:?}");

        // Concurrent: a generated join set with a delay, join_next_try pending, and a closing join_next.
        let concurrent = log(FIXTURE_0_38_3, "E_01M86DPFFDGMT7EW7PF6ESA2Z2");
        let history: Vec<_> = concurrent.iter().filter_map(|l| l.event.history()).collect();
        assert!(
            history.iter().any(|h| matches!(h, HistoryEvent::JoinNextTry { outcome: JoinNextTryOutcome::Pending, .. }))
        );
        assert!(history.iter().any(|h| matches!(h, HistoryEvent::JoinNext { closing: true, .. })));
        assert!(history.iter().any(|h| matches!(h, HistoryEvent::JoinSetRequest { request: JoinSetRequest::DelayRequest { delay_id, .. }, .. } if delay_id.to_string() == "Delay_01M86DPFFDGMT7EW7PF6ESA2Z2.g:1_0")));

        // Parent: persisted execution ID = the ID of the next schedule.
        let parent = log(FIXTURE_0_38_3, "E_01M86DPHYBHG0F8N9P5CGKM7AF");
        let history: Vec<_> = parent.iter().filter_map(|l| l.event.history()).collect();
        let generated = history.iter().find_map(|h| match h.persisted_value() {
            Some(PersistedValue::ExecutionId(id)) => Some(id),
            _ => None,
        });
        let scheduled: Vec<_> = history
            .iter()
            .filter_map(|h| {
                if let HistoryEvent::Schedule { execution_id, .. } = h { Some(execution_id.clone()) } else { None }
            })
            .collect();
        assert_eq!(scheduled.len(), 2);
        assert_eq!(generated.as_ref(), scheduled.first());

        // Stub child: Created + Finished, never Locked.
        let stubbed = log(FIXTURE_0_38_3, "E_01M86DPJW576A5HHQNEAZ4NWYF.n:stubbed_1");
        assert_eq!(stubbed.iter().map(|l| l.event.variant()).collect::<Vec<_>>(), ["created", "finished"]);
    }

    #[test]
    fn named_0_41_5_executions() {
        // Cancelled activity: cancellation_requested then finished cancelled.
        let cancelled = log(FIXTURE_0_41_5, "E_01M86G6PMRH3E8S2J00V53T7S5");
        assert_eq!(
            cancelled.iter().map(|l| l.event.variant()).collect::<Vec<_>>(),
            ["created", "locked", "cancellation_requested", "finished"]
        );
        assert_eq!(finished_kind(&cancelled), Some(ResultKind::ExecutionFailure(FailureKind::Cancelled)));

        // Sleepy whose delay was cancelled: the workflow returned err.
        assert_eq!(finished_kind(&log(FIXTURE_0_41_5, "E_01M86G6PPM480ZRXH0KWJAS7HB")), Some(ResultKind::Err));
        // Shell exec failed to parse its output.
        assert_eq!(
            finished_kind(&log(FIXTURE_0_41_5, "E_01M86G6PKV084KDYN01J23FDHA")),
            Some(ResultKind::ExecutionFailure(FailureKind::Uncategorized))
        );

        // Blocked wait-for-human: last event is the join_next on o:1-approve.
        let human = log(FIXTURE_0_41_5, "E_01M86G6XPHN1SMYRMJX3CK1RDJ");
        assert_eq!(human.len(), 5);
        let Some(HistoryEvent::JoinNext { join_set_id, requested_ffqn, closing: false, .. }) = human[4].event.history()
        else {
            panic!("{:?}", human[4])
        };
        assert_eq!(join_set_id.to_string(), "o:1-approve");
        assert_eq!(requested_ffqn.as_ref().map(ToString::to_string).as_deref(), Some("demo:stub/approval.approve"));
        // Its pending stub child has only Created, with the parent link.
        let child = log(FIXTURE_0_41_5, "E_01M86G6XPHN1SMYRMJX3CK1RDJ.o:1-approve_1");
        let [LogEntry { event: Event::Created(created), .. }] = child.as_slice() else { panic!("{child:?}") };
        assert_eq!(
            created.parent.as_ref().map(|(p, js)| format!("{p} {js}")).as_deref(),
            Some("E_01M86G6XPHN1SMYRMJX3CK1RDJ o:1-approve")
        );

        // Paused at submission, unpaused, finished ok.
        let serial = log(FIXTURE_0_41_5, "E_01M86G6PQCFAQN6N8AKWY2ZYDA");
        assert_eq!((&serial[1].event, serial.len()), (&Event::Paused, 11));
        assert_eq!(finished_kind(&serial), Some(ResultKind::Ok));
    }

    #[test]
    fn unknown_execution_is_an_error() {
        let db = open(FIXTURE_0_38_3);
        let err =
            db.execution_log(&parse("E_00000000000000000000000000")).err().map(|e| e.to_string()).unwrap_or_default();
        assert!(err.ends_with("demo.sqlite: no execution `E_00000000000000000000000000`"), "{err}");
    }
}
