//! `obelisk:types@5.0.0`: the records and variants of `time` and `execution` as Rust types the
//! component model lifts and lowers, and their conversions to the log's types. (The `join-set`
//! resource is in [`super::join_set`].) Field and case order follows the WIT.

use chrono::{DateTime, Utc};
use wasmtime::component::{ComponentType, Lift, Lower};

use crate::obelisk::ScheduleAt as LogScheduleAt;

pub const TIME: &str = "obelisk:types/time@5.0.0";
pub const EXECUTION: &str = "obelisk:types/execution@5.0.0";

/// `record datetime { seconds: u64, nanoseconds: u32 }`.
#[derive(ComponentType, Lift, Lower, Clone, Copy, Debug, PartialEq)]
#[component(record)]
pub struct Datetime {
    pub seconds: u64,
    pub nanoseconds: u32,
}

impl From<DateTime<Utc>> for Datetime {
    fn from(t: DateTime<Utc>) -> Self {
        Datetime { seconds: t.timestamp().max(0) as u64, nanoseconds: t.timestamp_subsec_nanos() }
    }
}

/// `variant duration`.
#[derive(ComponentType, Lift, Lower, Clone, Copy, Debug, PartialEq)]
#[component(variant)]
pub enum Duration {
    #[component(name = "milliseconds")]
    Milliseconds(u64),
    #[component(name = "seconds")]
    Seconds(u64),
    #[component(name = "minutes")]
    Minutes(u32),
    #[component(name = "hours")]
    Hours(u32),
    #[component(name = "days")]
    Days(u32),
}

impl From<Duration> for std::time::Duration {
    fn from(d: Duration) -> Self {
        match d {
            Duration::Milliseconds(ms) => std::time::Duration::from_millis(ms),
            Duration::Seconds(s) => std::time::Duration::from_secs(s),
            Duration::Minutes(m) => std::time::Duration::from_secs(u64::from(m) * 60),
            Duration::Hours(h) => std::time::Duration::from_secs(u64::from(h) * 3600),
            Duration::Days(d) => std::time::Duration::from_secs(u64::from(d) * 86_400),
        }
    }
}

/// `variant schedule-at { now, at(datetime), in(duration) }`.
#[derive(ComponentType, Lift, Lower, Clone, Copy, Debug, PartialEq)]
#[component(variant)]
pub enum ScheduleAt {
    #[component(name = "now")]
    Now,
    #[component(name = "at")]
    At(Datetime),
    #[component(name = "in")]
    In(Duration),
}

impl From<ScheduleAt> for LogScheduleAt {
    fn from(s: ScheduleAt) -> Self {
        match s {
            ScheduleAt::Now => LogScheduleAt::Now,
            ScheduleAt::At(t) => LogScheduleAt::At(
                DateTime::from_timestamp(t.seconds.min(i64::MAX as u64) as i64, t.nanoseconds).unwrap_or_default(),
            ),
            ScheduleAt::In(d) => LogScheduleAt::In(d.into()),
        }
    }
}

/// `record execution-id { id: string }`.
#[derive(ComponentType, Lift, Lower, Clone, Debug, PartialEq)]
#[component(record)]
pub struct ExecutionId {
    pub id: String,
}

/// `record function { interface-name: string, function-name: string }`.
#[derive(ComponentType, Lift, Lower, Clone, Debug, PartialEq)]
#[component(record)]
pub struct Function {
    #[component(name = "interface-name")]
    pub interface_name: String,
    #[component(name = "function-name")]
    pub function_name: String,
}

impl Function {
    /// `interface.function`, the FFQN text.
    pub fn ffqn_text(&self) -> String {
        format!("{}.{}", self.interface_name, self.function_name)
    }
}

/// `record delay-id { id: string }`.
#[derive(ComponentType, Lift, Lower, Clone, Debug, PartialEq)]
#[component(record)]
pub struct DelayId {
    pub id: String,
}

/// `variant schedule-json-error` (also what `call-json` returns on failure).
#[derive(ComponentType, Lift, Lower, Clone, Debug, PartialEq)]
#[component(variant)]
pub enum ScheduleJsonError {
    #[component(name = "ffqn-parsing-error")]
    FfqnParsingError(String),
    #[component(name = "function-not-found")]
    FunctionNotFound,
    #[component(name = "type-check-error")]
    TypeCheckError(String),
}

/// The interfaces of this file have only types; the linker still needs them as instances.
pub fn add_to_linker<T: 'static>(linker: &mut wasmtime::component::Linker<T>) -> wasmtime::Result<()> {
    linker.instance(TIME)?;
    linker.instance(EXECUTION)?;
    Ok(())
}
