//! Return values of finished executions (`Finished.retval`) and the summarized result kind
//! (`t_state.result_kind`).

use serde::{Deserialize, Serialize};

/// A value with its WIT type, as Obelisk stores return values: `{"type":"u32","value":11}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TypedValue {
    /// The WIT type, e.g. `u32`, `string`, `list<u8>`, `record { ... }`.
    #[serde(rename = "type")]
    pub wit_type: String,
    /// The value in Obelisk's JSON mapping (records as objects, variants as `{"case": v}`, ...).
    pub value: serde_json::Value,
}

string_enum! {
    /// Why an execution failed without returning a value.
    pub enum FailureKind {
        TimedOut => "timed_out",
        NondeterminismDetected => "nondeterminism_detected",
        OutOfFuel => "out_of_fuel",
        Cancelled => "cancelled",
        Uncategorized => "uncategorized",
    }
}

/// An execution failure: a trap, a timeout, a cancellation, nondeterminism.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ExecutionFailure {
    pub kind: FailureKind,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
}

/// What a finished execution returned: the payload of the function's WIT `result` (`ok`/`err`,
/// `None` for unit payloads) or an execution failure.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RetVal {
    Ok(Option<TypedValue>),
    Err(Option<TypedValue>),
    ExecutionFailure(ExecutionFailure),
}

impl RetVal {
    /// The summary kind, as `t_state.result_kind` records it.
    pub fn kind(&self) -> ResultKind {
        match self {
            RetVal::Ok(_) => ResultKind::Ok,
            RetVal::Err(_) => ResultKind::Err,
            RetVal::ExecutionFailure(f) => ResultKind::ExecutionFailure(f.kind.clone()),
        }
    }
}

/// How an execution finished, without the value.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ResultKind {
    /// Returned `ok`.
    Ok,
    /// Returned `err` (the function's own error).
    Err,
    /// Failed: timed out, cancelled, trapped, nondeterminism, out of fuel.
    ExecutionFailure(FailureKind),
    /// A `t_state.result_kind` text this version of Chronoscope does not know, verbatim.
    Other(String),
}

impl ResultKind {
    /// Reads `t_state.result_kind`: `"ok"`, `{"err":"error"}`, `{"err":{"execution_failure":"cancelled"}}`.
    pub fn from_state_json(text: &str) -> ResultKind {
        let value: serde_json::Value = match serde_json::from_str(text) {
            Ok(v) => v,
            Err(_) => return ResultKind::Other(text.to_owned()),
        };
        match &value {
            serde_json::Value::String(s) if s == "ok" => ResultKind::Ok,
            serde_json::Value::Object(o) if o.len() == 1 => match o.get("err") {
                Some(serde_json::Value::String(s)) if s == "error" => ResultKind::Err,
                Some(serde_json::Value::Object(e)) if e.len() == 1 => match e.get("execution_failure") {
                    Some(serde_json::Value::String(kind)) => {
                        ResultKind::ExecutionFailure(FailureKind::from(kind.as_str()))
                    }
                    _ => ResultKind::Other(text.to_owned()),
                },
                _ => ResultKind::Other(text.to_owned()),
            },
            _ => ResultKind::Other(text.to_owned()),
        }
    }

    /// A short label: `ok`, `err`, `cancelled`, `timed_out`, ...
    pub fn label(&self) -> &str {
        match self {
            ResultKind::Ok => "ok",
            ResultKind::Err => "err",
            ResultKind::ExecutionFailure(kind) => kind.as_str(),
            ResultKind::Other(text) => text,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn retval(json: &str) -> RetVal {
        serde_json::from_str(json).unwrap_or_else(|e| panic!("{json}: {e}"))
    }

    #[test]
    fn decodes_every_observed_retval() {
        let ok = retval(r#"{"ok":{"type":"u32","value":11}}"#);
        assert_eq!(ok, RetVal::Ok(Some(TypedValue { wit_type: "u32".into(), value: serde_json::json!(11) })));
        assert_eq!(retval(r#"{"ok":null}"#), RetVal::Ok(None));
        assert_eq!(retval(r#"{"err":{"type":"string","value":"boom"}}"#).kind(), ResultKind::Err);
        let cancelled = retval(r#"{"execution_failure":{"kind":"cancelled"}}"#);
        assert_eq!(cancelled.kind(), ResultKind::ExecutionFailure(FailureKind::Cancelled));
        let trap = retval(r#"{"execution_failure":{"kind":"uncategorized","reason":"workflow trap","detail":"bt"}}"#);
        let RetVal::ExecutionFailure(f) = trap else { panic!("failure") };
        assert_eq!((f.reason.as_deref(), f.detail.as_deref()), (Some("workflow trap"), Some("bt")));
        // Serializing gives back Obelisk's form.
        assert_eq!(
            serde_json::to_string(&cancelled).ok().as_deref(),
            Some(r#"{"execution_failure":{"kind":"cancelled"}}"#)
        );
    }

    #[test]
    fn reads_state_result_kinds() {
        assert_eq!(ResultKind::from_state_json(r#""ok""#), ResultKind::Ok);
        assert_eq!(ResultKind::from_state_json(r#"{"err":"error"}"#), ResultKind::Err);
        assert_eq!(
            ResultKind::from_state_json(r#"{"err":{"execution_failure":"timed_out"}}"#),
            ResultKind::ExecutionFailure(FailureKind::TimedOut)
        );
        assert_eq!(ResultKind::from_state_json("{bad"), ResultKind::Other("{bad".into()));
        assert_eq!(ResultKind::from_state_json(r#"{"err":{"execution_failure":"cancelled"}}"#).label(), "cancelled");
    }
}
