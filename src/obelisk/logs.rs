//! Logs and std stream output of execution runs (`t_log`): a leveled message, or a chunk of
//! stdout/stderr, tied to the run (`Locked.run_id`) that wrote it.

use chrono::{DateTime, Utc};
use serde::{Serialize, Serializer};

use super::db::ObeliskDb;
use super::error::ObeliskError;
use super::ids::{ExecutionId, RunId};

/// Level of a log message (`t_log.level`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum LogLevel {
    Trace,
    Debug,
    Info,
    Warn,
    Error,
    /// A level number this version of Chronoscope does not know.
    Other(i64),
}

impl LogLevel {
    fn from_db(n: i64) -> LogLevel {
        match n {
            1 => LogLevel::Trace,
            2 => LogLevel::Debug,
            3 => LogLevel::Info,
            4 => LogLevel::Warn,
            5 => LogLevel::Error,
            other => LogLevel::Other(other),
        }
    }
}

/// Which std stream a chunk came from (`t_log.stream_type`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum StreamType {
    Stdout,
    Stderr,
    /// A stream number this version of Chronoscope does not know.
    Other(i64),
}

impl StreamType {
    fn from_db(n: i64) -> StreamType {
        match n {
            1 => StreamType::Stdout,
            2 => StreamType::Stderr,
            other => StreamType::Other(other),
        }
    }
}

/// What a `t_log` row holds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum LogContent {
    /// A message logged through the log interface.
    Message { level: LogLevel, message: String },
    /// Raw bytes written to stdout/stderr (shown as text, invalid UTF-8 replaced).
    Stream {
        stream: StreamType,
        #[serde(serialize_with = "lossy_text")]
        payload: Vec<u8>,
    },
}

fn lossy_text<S: Serializer>(bytes: &[u8], s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&String::from_utf8_lossy(bytes))
}

/// One `t_log` row.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AppLogEntry {
    /// Row ID: the order logs were written.
    pub id: i64,
    pub execution_id: ExecutionId,
    pub run_id: RunId,
    pub created_at: DateTime<Utc>,
    #[serde(flatten)]
    pub content: LogContent,
}

impl AppLogEntry {
    /// The message, or the stream chunk as text.
    pub fn text(&self) -> std::borrow::Cow<'_, str> {
        match &self.content {
            LogContent::Message { message, .. } => message.into(),
            LogContent::Stream { payload, .. } => String::from_utf8_lossy(payload),
        }
    }
}

type LogRow = (i64, String, String, String, Option<i64>, Option<String>, Option<i64>, Option<Vec<u8>>);

impl ObeliskDb {
    /// Logs of the execution (and of its derived executions when `include_derived`), in write order.
    pub fn app_logs(&self, id: &ExecutionId, include_derived: bool) -> Result<Vec<AppLogEntry>, ObeliskError> {
        let text = id.to_string();
        let children = include_derived.then(|| format!("{text}."));
        let rows: Vec<LogRow> = self.query(
            "SELECT id, execution_id, run_id, created_at, level, message, stream_type, payload FROM t_log
             WHERE execution_id = ?1 OR (?2 IS NOT NULL AND substr(execution_id, 1, length(?2)) = ?2)
             ORDER BY id",
            (&text, &children),
            format_args!("reading the logs of {id}"),
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?, r.get(5)?, r.get(6)?, r.get(7)?)),
        )?;
        rows.into_iter()
            .map(|(row_id, execution_id, run_id, created_at, level, message, stream, payload)| {
                let at = format!("t_log id {row_id}");
                let content = match (level, stream) {
                    (Some(level), _) => {
                        LogContent::Message { level: LogLevel::from_db(level), message: message.unwrap_or_default() }
                    }
                    (None, Some(stream)) => {
                        LogContent::Stream { stream: StreamType::from_db(stream), payload: payload.unwrap_or_default() }
                    }
                    (None, None) => return Err(self.data_error(format_args!("{at}: neither level nor stream_type"))),
                };
                Ok(AppLogEntry {
                    id: row_id,
                    execution_id: self.parse(&execution_id, &at)?,
                    run_id: self.parse(&run_id, &at)?,
                    created_at: self.time(&created_at, &at)?,
                    content,
                })
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::obelisk::test_support::{FIXTURE_0_38_3, FIXTURE_0_41_5, open, parse};

    #[test]
    fn logs_of_a_workflow_and_its_children() {
        let db = open(FIXTURE_0_38_3);
        let id: ExecutionId = parse("E_01M86DPD8S6AQS1Q3F0RH83MR5");
        let own = db.app_logs(&id, false).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(own.iter().map(|l| l.text()).collect::<Vec<_>>(), ["serial(1,2) start", "serial result 4"]);
        assert!(own.iter().all(|l| matches!(l.content, LogContent::Message { level: LogLevel::Info, .. })));
        assert_eq!(own[0].run_id.to_string(), "Run_01M86DPD8V8G3HH3TJ16V0RAT4");

        let all = db.app_logs(&id, true).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(all.len(), 6);
        let child = &all[1];
        assert_eq!(child.execution_id.to_string(), "E_01M86DPD8S6AQS1Q3F0RH83MR5.o:1-add_1");
        assert!(matches!(child.content, LogContent::Stream { stream: StreamType::Stdout, .. }));
        assert_eq!(child.text(), "add(1, 2) called\n");
        assert!(matches!(all[2].content, LogContent::Stream { stream: StreamType::Stderr, .. }));
        let json = serde_json::to_value(child).unwrap_or_default();
        assert_eq!(
            (json["type"].as_str(), json["stream"].as_str(), json["payload"].as_str()),
            (Some("stream"), Some("stdout"), Some("add(1, 2) called\n"))
        );
    }

    #[test]
    fn every_log_row_reads() {
        for (version, expected) in [(FIXTURE_0_38_3, 69), (FIXTURE_0_41_5, 55)] {
            let db = open(version);
            let tops =
                db.list_executions(&crate::obelisk::ExecutionFilter { top_level_only: true, ..Default::default() });
            let total: usize = tops
                .unwrap_or_else(|e| panic!("{e}"))
                .iter()
                .map(|e| db.app_logs(&e.id, true).map(|l| l.len()).unwrap_or_else(|e| panic!("{e}")))
                .sum();
            assert_eq!(total, expected, "{version}");
        }
    }
}
