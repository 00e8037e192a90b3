//! The words of every unsuccessful result, for searching errors across tenants: the `err`
//! value or the execution failure's kind, reason and detail of each `Finished` event, read in
//! one query.

use std::collections::HashMap;

use serde_json::Value;

use super::db::ObeliskDb;
use super::error::ObeliskError;
use super::ids::ExecutionId;

impl ObeliskDb {
    /// Execution → the text of its result, for executions that finished without `ok`.
    pub fn failure_texts(&self) -> Result<HashMap<ExecutionId, String>, ObeliskError> {
        let rows: Vec<(String, String)> = self.query(
            "SELECT execution_id, json_value FROM t_execution_log WHERE variant = 'finished'",
            [],
            "reading the results of finished executions",
            |r| Ok((r.get(0)?, r.get(1)?)),
        )?;
        let mut out = HashMap::new();
        for (id, json) in rows {
            let Ok(v) = serde_json::from_str::<Value>(&json) else { continue };
            let retval = &v["finished"]["retval"];
            if retval.get("ok").is_some() || retval.is_null() {
                continue;
            }
            let mut words = Vec::new();
            strings(retval, &mut words);
            if let Ok(id) = id.parse() {
                out.insert(id, words.join(" "));
            }
        }
        Ok(out)
    }
}

/// Every string (and key of a one-entry object, such as `err`) in `v`, in order.
fn strings(v: &Value, out: &mut Vec<String>) {
    match v {
        Value::String(s) => out.push(s.clone()),
        Value::Array(a) => a.iter().for_each(|x| strings(x, out)),
        Value::Object(m) => {
            for (k, x) in m {
                if m.len() == 1 {
                    out.push(k.clone());
                }
                strings(x, out);
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use crate::obelisk::test_support::{FIXTURE_0_41_5, open};

    #[test]
    fn failed_and_err_results_have_their_words() {
        let db = open(FIXTURE_0_41_5);
        let texts = db.failure_texts().unwrap();
        let panicky = &texts[&"E_01M86G6PK39G1R9KFM2F4BW3T9".parse().unwrap()];
        for word in ["execution_failure", "uncategorized", "unreachable"] {
            assert!(panicky.contains(word), "{word} in {panicky}");
        }
        let failing = &texts[&"E_01M86G6PGVSQPKW54M870CZJBC".parse().unwrap()];
        assert_eq!(failing, "err string boom");
        assert!(!texts.contains_key(&"E_01M86G6PD8CH6MWG9CWFCJT438".parse().unwrap()), "ok results are left out");
    }
}
