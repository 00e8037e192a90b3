//! Live timers (`t_delay`): a row exists while a delay is pending and is deleted when its response
//! is appended.

use chrono::{DateTime, Utc};
use serde::Serialize;

use super::db::ObeliskDb;
use super::error::ObeliskError;
use super::ids::{DelayId, ExecutionId, JoinSetId};

/// A delay that has not fired yet.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PendingDelay {
    pub execution_id: ExecutionId,
    pub join_set_id: JoinSetId,
    pub delay_id: DelayId,
    pub expires_at: DateTime<Utc>,
    /// Paused delays do not fire.
    pub is_paused: bool,
}

impl ObeliskDb {
    /// Pending delays of one execution, or of all when `id` is `None`, soonest first.
    pub fn pending_delays(&self, id: Option<&ExecutionId>) -> Result<Vec<PendingDelay>, ObeliskError> {
        let paused = self.schema().column_or_null("t_delay", "d", "is_paused");
        let sql = format!(
            "SELECT d.execution_id, d.join_set_id, d.delay_id, d.expires_at, {paused} FROM t_delay d
             WHERE ?1 IS NULL OR d.execution_id = ?1 ORDER BY d.expires_at, d.delay_id"
        );
        let rows: Vec<(String, String, String, String, Option<i64>)> =
            self.query(&sql, [id.map(ToString::to_string)], "reading t_delay", |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?))
            })?;
        rows.into_iter()
            .map(|(execution_id, join_set_id, delay_id, expires_at, paused)| {
                let at = format!("t_delay {delay_id}");
                Ok(PendingDelay {
                    execution_id: self.parse(&execution_id, &at)?,
                    join_set_id: self.parse(&join_set_id, &at)?,
                    delay_id: self.parse(&delay_id, &at)?,
                    expires_at: self.time(&expires_at, &at)?,
                    is_paused: paused.is_some_and(|p| p != 0),
                })
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use crate::obelisk::test_support::{FIXTURE_0_38_3, FIXTURE_0_41_5, open, parse};

    #[test]
    fn pending_delays() {
        assert!(open(FIXTURE_0_38_3).pending_delays(None).is_ok_and(|d| d.is_empty()));
        let db = open(FIXTURE_0_41_5);
        let all = db.pending_delays(None).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(all.len(), 1);
        let d = &all[0];
        assert_eq!(d.delay_id.to_string(), "Delay_01M86G6XQMQ81M6EPHN9VQCK02.o:1-sleep_1");
        assert_eq!(d.delay_id.owner(), &d.execution_id);
        assert_eq!(d.join_set_id.to_string(), "o:1-sleep");
        assert!(!d.is_paused);
        assert_eq!(d.expires_at.to_rfc3339(), "2026-11-24T10:14:20.611332658+00:00");
        let of = db.pending_delays(Some(&parse("E_01M86G6XQMQ81M6EPHN9VQCK02"))).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(of, all);
        assert!(db.pending_delays(Some(&parse("E_01M86G6PE09WW43FVD6HR4HBJJ"))).is_ok_and(|d| d.is_empty()));
    }
}
