//! Responses to a workflow's join sets (`t_join_set_response`): finished children (with their
//! result, read from the child's `Finished` event) and fired or cancelled delays, in arrival order.

use chrono::{DateTime, Utc};
use serde::Serialize;

use super::db::ObeliskDb;
use super::error::ObeliskError;
use super::event::Event;
use super::ids::{DelayId, ExecutionId, JoinSetId};
use super::retval::RetVal;

/// What arrived.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ResponseKind {
    /// A child execution finished; `result` is `None` when the child's `Finished` row is gone
    /// (retention) or unreadable.
    ChildExecutionFinished { child_execution_id: ExecutionId, finished_version: u64, result: Option<RetVal> },
    /// A delay fired (`success`) or was cancelled (`!success`).
    DelayFinished { delay_id: DelayId, success: bool },
}

/// One response to a join set of the execution.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct JoinSetResponse {
    /// Global row ID (AUTOINCREMENT): arrival order across the whole database.
    pub id: i64,
    /// 1-based position among this execution's responses (0.39.5+, `None` before).
    pub seq: Option<u64>,
    pub created_at: DateTime<Utc>,
    pub join_set_id: JoinSetId,
    #[serde(flatten)]
    pub kind: ResponseKind,
}

impl JoinSetResponse {
    /// The API cursor: `seq` in 0.39.5+, the row ID before.
    pub fn cursor(&self) -> i64 {
        self.seq.and_then(|s| i64::try_from(s).ok()).unwrap_or(self.id)
    }
}

/// One response row: `r.id, seq, created_at, join_set_id, delay_id, delay_success,
/// child_execution_id, finished_version`, and the child's `Finished` row (`variant, json_value`).
pub(super) type ResponseRow = (
    i64,
    Option<i64>,
    String,
    String,
    Option<String>,
    Option<i64>,
    Option<String>,
    Option<i64>,
    Option<String>,
    Option<String>,
);

/// The columns of a [`ResponseRow`] and the join that finds the child's `Finished` row
/// (`{seq}` is `r.seq`, or `NULL` before 0.39.5).
pub(super) const RESPONSE_COLUMNS: &str = "r.id, {seq}, r.created_at, r.join_set_id, r.delay_id, r.delay_success,
        r.child_execution_id, r.finished_version, l.variant, l.json_value
     FROM t_join_set_response r
     LEFT JOIN t_execution_log l ON l.execution_id = r.child_execution_id AND l.version = r.finished_version";

/// Reads a [`ResponseRow`] from columns `first..first + 10`.
pub(super) fn response_row(r: &rusqlite::Row<'_>, first: usize) -> rusqlite::Result<ResponseRow> {
    Ok((
        r.get(first)?,
        r.get(first + 1)?,
        r.get(first + 2)?,
        r.get(first + 3)?,
        r.get(first + 4)?,
        r.get(first + 5)?,
        r.get(first + 6)?,
        r.get(first + 7)?,
        r.get(first + 8)?,
        r.get(first + 9)?,
    ))
}

impl ObeliskDb {
    /// The execution's responses in arrival order (`seq`, else `id`); the replay hands them out
    /// per join set in this order.
    pub fn responses(&self, id: &ExecutionId) -> Result<Vec<JoinSetResponse>, ObeliskError> {
        let has_seq = self.schema().has_column("t_join_set_response", "seq");
        let sql = format!(
            "SELECT {columns} WHERE r.execution_id = ?1 ORDER BY {order}",
            columns = RESPONSE_COLUMNS.replace("{seq}", if has_seq { "r.seq" } else { "NULL" }),
            order = if has_seq { "r.seq, r.id" } else { "r.id" },
        );
        let rows: Vec<ResponseRow> =
            self.query(&sql, [id.to_string()], format_args!("reading the responses of {id}"), |r| response_row(r, 0))?;
        rows.into_iter().map(|row| self.response(row)).collect()
    }

    /// Decodes a [`ResponseRow`]; errors name the response's row ID.
    pub(super) fn response(&self, row: ResponseRow) -> Result<JoinSetResponse, ObeliskError> {
        let (id, seq, created_at, join_set_id, delay_id, delay_success, child, finished_version, variant, json) = row;
        let at = format!("t_join_set_response id {id}");
        let kind = match (delay_id, child) {
            (Some(delay_id), None) => ResponseKind::DelayFinished {
                delay_id: self.parse(&delay_id, &at)?,
                success: delay_success.is_some_and(|s| s != 0),
            },
            (None, Some(child)) => {
                let result = match (variant, json) {
                    (Some(variant), Some(json)) => match Event::decode(&variant, &json) {
                        Event::Finished(f) => Some(f.retval),
                        _ => None,
                    },
                    _ => None,
                };
                let version =
                    finished_version.ok_or_else(|| self.data_error(format_args!("{at}: no finished_version")))?;
                ResponseKind::ChildExecutionFinished {
                    child_execution_id: self.parse(&child, &at)?,
                    finished_version: self.unsigned(version, &at)?,
                    result,
                }
            }
            _ => {
                return Err(self.data_error(format_args!("{at}: needs exactly one of delay_id and child_execution_id")));
            }
        };
        Ok(JoinSetResponse {
            id,
            seq: seq.map(|s| self.unsigned(s, &at)).transpose()?,
            created_at: self.time(&created_at, &at)?,
            join_set_id: self.parse(&join_set_id, &at)?,
            kind,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::obelisk::retval::{FailureKind, ResultKind};
    use crate::obelisk::test_support::{FIXTURE_0_38_3, FIXTURE_0_41_5, open, parse};

    fn summary(r: &JoinSetResponse) -> String {
        match &r.kind {
            ResponseKind::ChildExecutionFinished { child_execution_id, result, .. } => {
                let kind = result.as_ref().map(|r| r.kind().label().to_owned()).unwrap_or_default();
                format!("{} {child_execution_id} {kind}", r.join_set_id)
            }
            ResponseKind::DelayFinished { delay_id, success } => format!("{} {delay_id} {success}", r.join_set_id),
        }
    }

    #[test]
    fn responses_in_arrival_order_0_38_3() {
        let db = open(FIXTURE_0_38_3);
        let rs = db.responses(&parse("E_01M86DPFFDGMT7EW7PF6ESA2Z2")).unwrap_or_else(|e| panic!("{e}"));
        // batch_3 finished before batch_2: arrival order, not request order.
        assert_eq!(
            rs.iter().map(summary).collect::<Vec<_>>(),
            [
                "n:batch E_01M86DPFFDGMT7EW7PF6ESA2Z2.n:batch_1 ok",
                "n:batch E_01M86DPFFDGMT7EW7PF6ESA2Z2.n:batch_3 ok",
                "n:batch E_01M86DPFFDGMT7EW7PF6ESA2Z2.n:batch_2 ok",
                "g:1 Delay_01M86DPFFDGMT7EW7PF6ESA2Z2.g:1_0 true",
                "n:batch E_01M86DPFFDGMT7EW7PF6ESA2Z2.n:batch_4 cancelled",
            ]
        );
        assert_eq!(rs.iter().map(|r| r.cursor()).collect::<Vec<_>>(), [3, 4, 5, 6, 7]);
        assert!(rs.iter().all(|r| r.seq.is_none()));
        let ResponseKind::ChildExecutionFinished { result: Some(RetVal::Ok(Some(v))), finished_version, .. } =
            &rs[0].kind
        else {
            panic!("{:?}", rs[0])
        };
        assert_eq!((v.wit_type.as_str(), &v.value, *finished_version), ("u32", &serde_json::json!(0), 2));

        // A delay that did not fire (cancelled): success = false.
        let sleepy = db.responses(&parse("E_01M86DXF2S4T8Q63NBE0FX053H")).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            sleepy.iter().map(summary).collect::<Vec<_>>(),
            ["o:1-sleep Delay_01M86DXF2S4T8Q63NBE0FX053H.o:1-sleep_1 false"]
        );
        // No responses for an activity.
        assert!(db.responses(&parse("E_01M86DQRQF1QQ35AA3GJGQ90MT")).is_ok_and(|r| r.is_empty()));
        let total: usize = db
            .list_executions(&Default::default())
            .unwrap_or_else(|e| panic!("{e}"))
            .iter()
            .map(|e| db.responses(&e.id).map(|r| r.len()).unwrap_or_else(|e| panic!("{e}")))
            .sum();
        assert_eq!(total, 22);
    }

    #[test]
    fn responses_with_seq_0_41_5() {
        let db = open(FIXTURE_0_41_5);
        let rs = db.responses(&parse("E_01M86G6PE09WW43FVD6HR4HBJJ")).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(rs.iter().map(|r| r.cursor()).collect::<Vec<_>>(), [1, 2, 3, 4, 5]);
        assert_eq!(rs.iter().map(|r| r.id).collect::<Vec<_>>(), [3, 4, 5, 11, 12]);
        let last = rs.last().map(|r| &r.kind);
        assert!(
            matches!(last, Some(ResponseKind::ChildExecutionFinished { result: Some(r), finished_version: 3, .. }) if r.kind() == ResultKind::ExecutionFailure(FailureKind::Cancelled))
        );
        let json = serde_json::to_value(&rs[3]).unwrap_or_default();
        assert_eq!(json["type"], "delay_finished");
        assert_eq!(json["delay_id"], "Delay_01M86G6PE09WW43FVD6HR4HBJJ.g:1_1");
        assert_eq!(json["seq"], 4);
    }
}
