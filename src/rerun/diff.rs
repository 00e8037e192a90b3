//! The fields where a recorded event and the event the code produced differ (a nondeterminism,
//! shown side by side): leaf paths such as `kind.max_inclusive`, each with both values.

use serde::Serialize;
use serde_json::Value;

/// One differing field; `None` where a side does not have it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FieldDiff {
    /// Dotted path, array items as `[i]` (empty for the whole value).
    pub path: String,
    pub recorded: Option<Value>,
    pub produced: Option<Value>,
}

/// The differing leaf fields of `recorded` and `produced`, in path order.
pub fn field_diff(recorded: &Value, produced: &Value) -> Vec<FieldDiff> {
    let mut out = Vec::new();
    walk("", Some(recorded), Some(produced), &mut out);
    out
}

fn walk(path: &str, a: Option<&Value>, b: Option<&Value>, out: &mut Vec<FieldDiff>) {
    match (a, b) {
        (Some(Value::Object(x)), Some(Value::Object(y))) => {
            let mut keys: Vec<&String> = x.keys().chain(y.keys()).collect();
            keys.sort();
            keys.dedup();
            for k in keys {
                walk(&join(path, k), x.get(k), y.get(k), out);
            }
        }
        (Some(Value::Array(x)), Some(Value::Array(y))) if x.len() == y.len() => {
            for (i, (p, q)) in x.iter().zip(y).enumerate() {
                walk(&format!("{path}[{i}]"), Some(p), Some(q), out);
            }
        }
        (a, b) if a != b => out.push(FieldDiff { path: path.to_owned(), recorded: a.cloned(), produced: b.cloned() }),
        _ => {}
    }
}

fn join(path: &str, key: &str) -> String {
    if path.is_empty() { key.to_owned() } else { format!("{path}.{key}") }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn a_changed_random_range_differs_in_its_bound_and_the_value_only_the_log_has() {
        // The two sides of the `sleepy` nondeterminism the CLI prints (README).
        let recorded = json!({"kind":{"max_inclusive":999,"min":0,"type":"random_u64"},"type":"persist","value":[0,0,0,0,0,0,2,181]});
        let produced = json!({"kind":{"max_inclusive":1999,"min":0,"type":"random_u64"},"type":"persist"});
        let d = field_diff(&recorded, &produced);
        assert_eq!(
            d,
            vec![
                FieldDiff {
                    path: "kind.max_inclusive".into(),
                    recorded: Some(json!(999)),
                    produced: Some(json!(1999))
                },
                FieldDiff { path: "value".into(), recorded: Some(json!([0, 0, 0, 0, 0, 0, 2, 181])), produced: None },
            ]
        );
    }

    #[test]
    fn arrays_of_the_same_length_differ_per_item_and_equal_values_not_at_all() {
        let a = json!({"params":[1,2],"ffqn":"demo:activity/ops.add"});
        let b = json!({"params":[2,2],"ffqn":"demo:activity/ops.add"});
        assert_eq!(field_diff(&a, &b).iter().map(|d| d.path.as_str()).collect::<Vec<_>>(), ["params[0]"]);
        assert!(field_diff(&a, &a).is_empty());
        let c = json!({"params":[1]});
        assert_eq!(field_diff(&a, &c)[1].path, "params", "a different length is one difference");
    }
}
