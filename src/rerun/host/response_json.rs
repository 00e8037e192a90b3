//! What the JSON functions of `workflow-support` (`join-next`, `call-json`, `get-result-json`)
//! hand the guest for a response: `result<option<string>, option<string>>`, the child's `ok` or
//! `err` payload as JSON text (`"2"`, `"\"approved\""`), `ok(none)` for a fired delay,
//! `err(none)` for a cancelled delay or a child that failed without a value.

use crate::obelisk::{ResponseKind, RetVal};

/// The guest's view of a response.
pub type JsonResult = Result<Option<String>, Option<String>>;

/// A child's return value as the JSON functions give it.
pub fn retval_json(retval: &RetVal) -> JsonResult {
    let text = |v: &Option<crate::obelisk::TypedValue>| v.as_ref().map(|t| t.value.to_string());
    match retval {
        RetVal::Ok(v) => Ok(text(v)),
        RetVal::Err(v) => Err(text(v)),
        RetVal::ExecutionFailure(_) => Err(None),
    }
}

/// A response as the JSON functions give it; `Err` names what the database lacks.
pub fn response_json(kind: &ResponseKind) -> Result<JsonResult, String> {
    match kind {
        ResponseKind::ChildExecutionFinished { result: Some(retval), .. } => Ok(retval_json(retval)),
        ResponseKind::ChildExecutionFinished { child_execution_id, finished_version, result: None } => Err(format!(
            "the result of {child_execution_id} (its `finished` event, version {finished_version}) is not in the database"
        )),
        ResponseKind::DelayFinished { success: true, .. } => Ok(Ok(None)),
        ResponseKind::DelayFinished { success: false, .. } => Ok(Err(None)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn child_results_are_json_text_as_the_demo_logged_them() {
        // wf.concurrent logged `child ok Some("2")`, wf.with-stub `Ok(Some("\"approved by workflow\""))`.
        let ok: RetVal = serde_json::from_str(r#"{"ok":{"type":"u32","value":2}}"#).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(retval_json(&ok), Ok(Some("2".into())));
        let s: RetVal = serde_json::from_str(r#"{"ok":{"type":"string","value":"approved by workflow"}}"#)
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(retval_json(&s), Ok(Some("\"approved by workflow\"".into())));
        let err: RetVal =
            serde_json::from_str(r#"{"err":{"type":"string","value":"boom"}}"#).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(retval_json(&err), Err(Some("\"boom\"".into())));
        let delay = |success| ResponseKind::DelayFinished {
            delay_id: "Delay_01M86G6PE09WW43FVD6HR4HBJJ.g:1_1".parse().unwrap_or_else(|e| panic!("{e}")),
            success,
        };
        // wf.concurrent logged `delay join-next: Ok(Ok(None))`.
        assert_eq!(response_json(&delay(true)), Ok(Ok(None)));
        assert_eq!(response_json(&delay(false)), Ok(Err(None)));
    }
}
