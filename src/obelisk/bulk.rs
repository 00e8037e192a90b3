//! Reading every execution's log and responses in a few range queries (whole-database replay),
//! instead of two queries per execution.

use super::db::{ObeliskDb, text};
use super::error::ObeliskError;
use super::event::Event;
use super::execution_log::LogEntry;
use super::ids::ExecutionId;
use super::responses::{JoinSetResponse, RESPONSE_COLUMNS, ResponseRow, response_row};

/// A slice `[from, to)` of the execution-ID space (`None` = unbounded), in SQLite's text order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct IdRange {
    pub from: Option<String>,
    pub to: Option<String>,
    /// How many `t_state` rows the range held when it was cut (0 when not counted).
    pub executions: usize,
}

impl IdRange {
    /// `WHERE` conditions on `column` with parameters `?1`/`?2`, and the parameters.
    pub(super) fn condition(&self, column: &str) -> (String, Vec<String>) {
        let mut conditions = vec!["1".to_owned()];
        let mut params = Vec::new();
        if let Some(from) = &self.from {
            params.push(from.clone());
            conditions.push(format!("{column} >= ?{}", params.len()));
        }
        if let Some(to) = &self.to {
            params.push(to.clone());
            conditions.push(format!("{column} < ?{}", params.len()));
        }
        (conditions.join(" AND "), params)
    }
}

/// One execution's log (by version) and responses (in arrival order).
#[derive(Debug, Clone, PartialEq)]
pub struct ExecutionRows {
    pub id: ExecutionId,
    pub log: Vec<LogEntry>,
    pub responses: Vec<JoinSetResponse>,
}

/// What [`ObeliskDb::visit_range`] hands over, in execution-ID order: each execution with its
/// responses, then its log entries by version.
#[derive(Debug)]
pub enum RangeItem {
    Execution { id: ExecutionId, responses: Vec<JoinSetResponse> },
    Entry(LogEntry),
}

/// One execution's responses with its ID as SQLite orders it.
struct ResponseGroup {
    id_text: String,
    id: ExecutionId,
    responses: Vec<JoinSetResponse>,
}

impl ObeliskDb {
    /// Ranges of whole executions with about `max_rows` log rows each (counted from
    /// `t_state.corresponding_version`), together covering every execution ID.
    pub fn execution_ranges(&self, max_rows: u64) -> Result<Vec<IdRange>, ObeliskError> {
        // Read in table order (a scan, no index lookups) and sorted here: Rust orders strings
        // byte by byte, as SQLite's BINARY collation does.
        let mut rows: Vec<(String, i64)> = self.query(
            "SELECT execution_id, corresponding_version FROM t_state",
            [],
            "listing executions by ID",
            |r| Ok((r.get(0)?, r.get(1)?)),
        )?;
        rows.sort_unstable();
        let mut ranges = Vec::new();
        let mut current = IdRange::default();
        let mut in_current = 0u64;
        for (id, version) in rows {
            let count = u64::try_from(version).unwrap_or(0) + 1;
            if in_current > 0 && in_current + count > max_rows {
                current.to = Some(id.clone());
                ranges.push(std::mem::replace(&mut current, IdRange { from: Some(id), to: None, executions: 0 }));
                in_current = 0;
            }
            in_current += count;
            current.executions += 1;
        }
        ranges.push(current);
        Ok(ranges)
    }

    /// Logs and responses of every execution with log rows or responses in `range`, ordered by
    /// ID (two queries).
    pub fn load_range(&self, range: &IdRange) -> Result<Vec<ExecutionRows>, ObeliskError> {
        let mut out: Vec<ExecutionRows> = Vec::new();
        self.visit_range(range, |item| match item {
            RangeItem::Execution { id, responses } => out.push(ExecutionRows { id, log: Vec::new(), responses }),
            RangeItem::Entry(entry) => {
                if let Some(last) = out.last_mut() {
                    last.log.push(entry);
                }
            }
        })?;
        Ok(out)
    }

    /// Hands every execution of `range` (with log rows or responses) to `visit` in ID order: the
    /// execution and its responses, then its log entries one by one, each decoded as it is read
    /// (a long log is never held here). Responses are read first, in one query.
    pub fn visit_range(&self, range: &IdRange, mut visit: impl FnMut(RangeItem)) -> Result<(), ObeliskError> {
        let mut groups = self.range_responses(range)?.into_iter().peekable();
        let mut current_text = String::new();
        let (condition, params) = range.condition("execution_id");
        self.for_each_row(
            &format!(
                "SELECT execution_id, version, created_at, variant, json_value FROM t_execution_log
                 WHERE {condition} ORDER BY execution_id, version"
            ),
            rusqlite::params_from_iter(&params),
            "reading execution logs",
            |r| {
                let id = text(r, 0)?;
                let version: i64 = r.get(1)?;
                let (created_at, variant, json) = (text(r, 2)?, text(r, 3)?, text(r, 4)?);
                Ok((|| {
                    if current_text.is_empty() || id != current_text.as_str() {
                        // Executions with responses and no log rows come in their place.
                        while let Some(group) = groups.next_if(|g| g.id_text.as_str() < id) {
                            visit(RangeItem::Execution { id: group.id, responses: group.responses });
                        }
                        let responses = groups.next_if(|g| g.id_text == id).map(|g| g.responses).unwrap_or_default();
                        id.clone_into(&mut current_text);
                        let id = self.parse(id, "t_execution_log.execution_id")?;
                        visit(RangeItem::Execution { id, responses });
                    }
                    let at = format_args!("t_execution_log {id} v{version}");
                    visit(RangeItem::Entry(LogEntry {
                        version: self.unsigned(version, at)?,
                        created_at: self.time(created_at, at)?,
                        event: Event::decode(variant, json),
                    }));
                    Ok(true)
                })())
            },
        )?;
        for group in groups {
            visit(RangeItem::Execution { id: group.id, responses: group.responses });
        }
        Ok(())
    }

    /// The responses of `range`, grouped by execution in ID order.
    fn range_responses(&self, range: &IdRange) -> Result<Vec<ResponseGroup>, ObeliskError> {
        let has_seq = self.schema().has_column("t_join_set_response", "seq");
        let (condition, params) = range.condition("r.execution_id");
        let sql = format!(
            "SELECT r.execution_id, {columns} WHERE {condition} ORDER BY r.execution_id, {order}",
            columns = RESPONSE_COLUMNS.replace("{seq}", if has_seq { "r.seq" } else { "NULL" }),
            order = if has_seq { "r.seq, r.id" } else { "r.id" },
        );
        // Each row is decoded as it is read: the rows are never held twice.
        let mut groups: Vec<ResponseGroup> = Vec::new();
        self.for_each_row(&sql, rusqlite::params_from_iter(&params), "reading join set responses", |r| {
            let owner = text(r, 0)?;
            let row: ResponseRow = response_row(r, 1)?;
            Ok((|| {
                let response = self.response(row)?;
                match groups.last_mut() {
                    Some(group) if group.id_text == owner => group.responses.push(response),
                    _ => {
                        let id = self.parse(owner, "t_join_set_response.execution_id")?;
                        groups.push(ResponseGroup { id_text: owner.to_owned(), id, responses: vec![response] });
                    }
                }
                Ok(true)
            })())
        })?;
        Ok(groups)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::obelisk::test_support::{FIXTURE_0_38_3, FIXTURE_0_41_5, open};

    #[test]
    fn ranges_load_the_same_rows_as_per_execution_queries() {
        for fixture in [FIXTURE_0_38_3, FIXTURE_0_41_5] {
            let db = open(fixture);
            let ranges = db.execution_ranges(40).unwrap_or_else(|e| panic!("{e}"));
            assert!(ranges.len() > 3, "{fixture}: {ranges:?}");
            assert_eq!((ranges[0].from.as_ref(), ranges.last().and_then(|r| r.to.as_ref())), (None, None));
            let mut loaded = Vec::new();
            for range in &ranges {
                loaded.extend(db.load_range(range).unwrap_or_else(|e| panic!("{e}")));
            }
            let all = db.list_executions(&Default::default()).unwrap_or_else(|e| panic!("{e}"));
            assert_eq!(loaded.len(), all.len(), "{fixture}");
            for rows in &loaded {
                assert_eq!(rows.log, db.execution_log(&rows.id).unwrap_or_else(|e| panic!("{e}")), "{}", rows.id);
                assert_eq!(rows.responses, db.responses(&rows.id).unwrap_or_else(|e| panic!("{e}")), "{}", rows.id);
            }
            let whole = db.load_range(&IdRange::default()).unwrap_or_else(|e| panic!("{e}"));
            assert_eq!(whole, loaded);
        }
    }
}
