//! Value conversion between Obelisk's JSON (spec §2.4: untyped params, typed return values) and
//! the component model's dynamic [`Val`]s, guided by the WIT [`Type`] the guest expects.
//!
//! Mapping (Obelisk's `val-json`): records → objects keyed by field name; enum cases and
//! payload-less variant cases → strings with `-` written `_`; a variant case with a payload →
//! `{"case": payload}`; option → `null` or the inner value; result → `{"ok": v}` / `{"err": v}`
//! (`null` for a unit payload); lists, tuples and flags → arrays; integers (u64/s64 too) → numbers.

use serde_json::{Map, Number, Value as Json};
use wasmtime::component::{Type, Val};

/// A value that does not fit the type, or a type that has no JSON form. `path` locates the
/// offending part, e.g. `$.ok.items[2]`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{path}: {reason}")]
pub struct ValueError {
    pub path: String,
    pub reason: String,
}

fn fail<T>(path: &str, reason: impl Into<String>) -> Result<T, ValueError> {
    Err(ValueError { path: path.to_owned(), reason: reason.into() })
}

/// A case or enum name as Obelisk writes it (`a-b` → `a_b`).
fn case_json(name: &str) -> String {
    name.replace('-', "_")
}

/// The JSON form of a value the guest produced (params of a child call, a return value).
pub fn to_json(val: &Val) -> Result<Json, ValueError> {
    to_json_at(val, "$")
}

fn to_json_at(val: &Val, path: &str) -> Result<Json, ValueError> {
    Ok(match val {
        Val::Bool(b) => Json::Bool(*b),
        Val::S8(v) => Json::from(*v),
        Val::U8(v) => Json::from(*v),
        Val::S16(v) => Json::from(*v),
        Val::U16(v) => Json::from(*v),
        Val::S32(v) => Json::from(*v),
        Val::U32(v) => Json::from(*v),
        Val::S64(v) => Json::from(*v),
        Val::U64(v) => Json::from(*v),
        Val::Float32(v) => float(f64::from(*v), path)?,
        Val::Float64(v) => float(*v, path)?,
        Val::Char(c) => Json::String(c.to_string()),
        Val::String(s) => Json::String(s.clone()),
        Val::List(items) | Val::Tuple(items) | Val::FixedLengthList(items) => Json::Array(
            items.iter().enumerate().map(|(i, v)| to_json_at(v, &format!("{path}[{i}]"))).collect::<Result<_, _>>()?,
        ),
        Val::Record(fields) => {
            let mut map = Map::new();
            for (name, v) in fields {
                map.insert(name.clone(), to_json_at(v, &format!("{path}.{name}"))?);
            }
            Json::Object(map)
        }
        Val::Variant(case, None) | Val::Enum(case) => Json::String(case_json(case)),
        Val::Variant(case, Some(payload)) => {
            let key = case_json(case);
            let inner = to_json_at(payload, &format!("{path}.{key}"))?;
            Json::Object(Map::from_iter([(key, inner)]))
        }
        Val::Option(None) => Json::Null,
        Val::Option(Some(v)) => to_json_at(v, path)?,
        Val::Result(r) => {
            let (key, payload) = match r {
                Ok(p) => ("ok", p),
                Err(p) => ("err", p),
            };
            let inner = match payload {
                Some(v) => to_json_at(v, &format!("{path}.{key}"))?,
                None => Json::Null,
            };
            Json::Object(Map::from_iter([(key.to_owned(), inner)]))
        }
        Val::Flags(names) => Json::Array(names.iter().map(|n| Json::String(n.clone())).collect()),
        Val::Map(entries) => Json::Array(
            entries
                .iter()
                .enumerate()
                .map(|(i, (k, v))| {
                    let at = format!("{path}[{i}]");
                    Ok(Json::Array(vec![to_json_at(k, &at)?, to_json_at(v, &at)?]))
                })
                .collect::<Result<_, ValueError>>()?,
        ),
        Val::Resource(_) | Val::Future(_) | Val::Stream(_) | Val::ErrorContext(_) => {
            return fail(path, "resources, futures and streams have no JSON form");
        }
    })
}

fn float(v: f64, path: &str) -> Result<Json, ValueError> {
    match Number::from_f64(v) {
        Some(n) => Ok(Json::Number(n)),
        None => fail(path, format!("{v} has no JSON form")),
    }
}

/// The [`Val`] of type `ty` that `json` holds (a recorded param, a child's or a workflow's
/// recorded return value).
pub fn from_json(ty: &Type, json: &Json) -> Result<Val, ValueError> {
    from_json_at(ty, json, "$")
}

fn from_json_at(ty: &Type, json: &Json, path: &str) -> Result<Val, ValueError> {
    let wrong =
        || ValueError { path: path.to_owned(), reason: format!("expected {}, found {}", type_name(ty), short(json)) };
    Ok(match ty {
        Type::Bool => Val::Bool(json.as_bool().ok_or_else(wrong)?),
        Type::S8 => Val::S8(int(json, path, ty)?),
        Type::U8 => Val::U8(int(json, path, ty)?),
        Type::S16 => Val::S16(int(json, path, ty)?),
        Type::U16 => Val::U16(int(json, path, ty)?),
        Type::S32 => Val::S32(int(json, path, ty)?),
        Type::U32 => Val::U32(int(json, path, ty)?),
        Type::S64 => Val::S64(int(json, path, ty)?),
        Type::U64 => Val::U64(int(json, path, ty)?),
        Type::Float32 => Val::Float32(json.as_f64().ok_or_else(wrong)? as f32),
        Type::Float64 => Val::Float64(json.as_f64().ok_or_else(wrong)?),
        Type::Char => {
            let s = json.as_str().ok_or_else(wrong)?;
            let mut chars = s.chars();
            match (chars.next(), chars.next()) {
                (Some(c), None) => Val::Char(c),
                _ => return Err(wrong()),
            }
        }
        Type::String => Val::String(json.as_str().ok_or_else(wrong)?.to_owned()),
        Type::List(list) => {
            let items = json.as_array().ok_or_else(wrong)?;
            let inner = list.ty();
            Val::List(
                items
                    .iter()
                    .enumerate()
                    .map(|(i, v)| from_json_at(&inner, v, &format!("{path}[{i}]")))
                    .collect::<Result<_, _>>()?,
            )
        }
        Type::FixedLengthList(list) => {
            let items = json.as_array().ok_or_else(wrong)?;
            if items.len() != list.len() as usize {
                return fail(path, format!("expected {} items, found {}", list.len(), items.len()));
            }
            let inner = list.ty();
            Val::FixedLengthList(
                items
                    .iter()
                    .enumerate()
                    .map(|(i, v)| from_json_at(&inner, v, &format!("{path}[{i}]")))
                    .collect::<Result<_, _>>()?,
            )
        }
        Type::Tuple(tuple) => {
            let items = json.as_array().ok_or_else(wrong)?;
            if items.len() != tuple.types().len() {
                return fail(path, format!("expected {} items, found {}", tuple.types().len(), items.len()));
            }
            Val::Tuple(
                tuple
                    .types()
                    .zip(items)
                    .enumerate()
                    .map(|(i, (t, v))| from_json_at(&t, v, &format!("{path}[{i}]")))
                    .collect::<Result<_, _>>()?,
            )
        }
        Type::Record(record) => {
            let object = json.as_object().ok_or_else(wrong)?;
            let mut fields = Vec::new();
            for field in record.fields() {
                let at = format!("{path}.{}", field.name);
                // A missing optional field reads as `none`.
                let v = object.get(field.name).unwrap_or(&Json::Null);
                fields.push((field.name.to_owned(), from_json_at(&field.ty, v, &at)?));
            }
            if let Some(extra) = object.keys().find(|k| !record.fields().any(|f| f.name == k.as_str())) {
                return fail(path, format!("unknown field `{extra}` for {}", type_name(ty)));
            }
            Val::Record(fields)
        }
        Type::Variant(variant) => {
            let (name, payload) = tagged(json).ok_or_else(wrong)?;
            let Some(case) = variant.cases().find(|c| case_json(c.name) == name || c.name == name) else {
                return fail(path, format!("no case `{name}` in {}", type_name(ty)));
            };
            let payload = match (case.ty, payload) {
                (None, None | Some(Json::Null)) => None,
                (Some(t), Some(p)) => Some(Box::new(from_json_at(&t, p, &format!("{path}.{name}"))?)),
                (Some(_), None) => return fail(path, format!("case `{name}` needs a payload")),
                (None, Some(_)) => return fail(path, format!("case `{name}` has no payload")),
            };
            Val::Variant(case.name.to_owned(), payload)
        }
        Type::Enum(e) => {
            let s = json.as_str().ok_or_else(wrong)?;
            let Some(name) = e.names().find(|n| case_json(n) == s || *n == s) else {
                return fail(path, format!("no case `{s}` in {}", type_name(ty)));
            };
            Val::Enum(name.to_owned())
        }
        Type::Option(option) => match json {
            Json::Null => Val::Option(None),
            v => Val::Option(Some(Box::new(from_json_at(&option.ty(), v, path)?))),
        },
        Type::Result(result) => {
            let object = json.as_object().filter(|o| o.len() == 1).ok_or_else(wrong)?;
            let (key, payload) = object.iter().next().ok_or_else(wrong)?;
            let payload_ty = match key.as_str() {
                "ok" => result.ok(),
                "err" => result.err(),
                _ => return Err(wrong()),
            };
            let at = format!("{path}.{key}");
            let inner = match (payload_ty, payload) {
                (None, Json::Null) => None,
                (None, _) => return fail(&at, "expected no payload"),
                (Some(t), p) => Some(Box::new(from_json_at(&t, p, &at)?)),
            };
            Val::Result(if key == "ok" { Ok(inner) } else { Err(inner) })
        }
        Type::Flags(flags) => {
            let items = json.as_array().ok_or_else(wrong)?;
            let mut names = Vec::new();
            for item in items {
                let s = item.as_str().ok_or_else(wrong)?;
                let Some(name) = flags.names().find(|n| *n == s || case_json(n) == s) else {
                    return fail(path, format!("no flag `{s}` in {}", type_name(ty)));
                };
                names.push(name.to_owned());
            }
            Val::Flags(names)
        }
        Type::Map(_) | Type::Own(_) | Type::Borrow(_) | Type::Future(_) | Type::Stream(_) | Type::ErrorContext => {
            return fail(path, format!("{} values have no JSON form", type_name(ty)));
        }
    })
}

/// A variant in JSON: `"case"` or `{"case": payload}`.
fn tagged(json: &Json) -> Option<(&str, Option<&Json>)> {
    match json {
        Json::String(s) => Some((s, None)),
        Json::Object(o) if o.len() == 1 => o.iter().next().map(|(k, v)| (k.as_str(), Some(v))),
        _ => None,
    }
}

fn int<T: TryFrom<i64> + TryFrom<u64>>(json: &Json, path: &str, ty: &Type) -> Result<T, ValueError> {
    let fits = match json {
        Json::Number(n) => {
            n.as_u64().and_then(|v| T::try_from(v).ok()).or_else(|| n.as_i64().and_then(|v| T::try_from(v).ok()))
        }
        _ => None,
    };
    fits.map_or_else(|| fail(path, format!("expected {}, found {}", type_name(ty), short(json))), Ok)
}

fn short(json: &Json) -> String {
    let text = json.to_string();
    if text.len() > 60 { format!("{}…", &text[..text.floor_char_boundary(60)]) } else { text }
}

/// The WIT spelling of a type, as Obelisk writes it in `{"type": ...}` (e.g. `result<u32, string>`).
pub fn type_name(ty: &Type) -> String {
    match ty {
        Type::Bool => "bool".into(),
        Type::S8 => "s8".into(),
        Type::U8 => "u8".into(),
        Type::S16 => "s16".into(),
        Type::U16 => "u16".into(),
        Type::S32 => "s32".into(),
        Type::U32 => "u32".into(),
        Type::S64 => "s64".into(),
        Type::U64 => "u64".into(),
        Type::Float32 => "f32".into(),
        Type::Float64 => "f64".into(),
        Type::Char => "char".into(),
        Type::String => "string".into(),
        Type::List(l) => format!("list<{}>", type_name(&l.ty())),
        Type::FixedLengthList(l) => format!("list<{}, {}>", type_name(&l.ty()), l.len()),
        Type::Map(m) => format!("map<{}, {}>", type_name(&m.key()), type_name(&m.value())),
        Type::Tuple(t) => format!("tuple<{}>", t.types().map(|t| type_name(&t)).collect::<Vec<_>>().join(", ")),
        Type::Record(r) => format!(
            "record {{ {} }}",
            r.fields().map(|f| format!("{}: {}", f.name, type_name(&f.ty))).collect::<Vec<_>>().join(", ")
        ),
        Type::Variant(v) => format!(
            "variant {{ {} }}",
            v.cases()
                .map(|c| match c.ty {
                    Some(t) => format!("{}({})", c.name, type_name(&t)),
                    None => c.name.to_owned(),
                })
                .collect::<Vec<_>>()
                .join(", ")
        ),
        Type::Enum(e) => format!("enum {{ {} }}", e.names().collect::<Vec<_>>().join(", ")),
        Type::Flags(f) => format!("flags {{ {} }}", f.names().collect::<Vec<_>>().join(", ")),
        Type::Option(o) => format!("option<{}>", type_name(&o.ty())),
        Type::Result(r) => match (r.ok(), r.err()) {
            (None, None) => "result".into(),
            (Some(ok), None) => format!("result<{}>", type_name(&ok)),
            (None, Some(err)) => format!("result<_, {}>", type_name(&err)),
            (Some(ok), Some(err)) => format!("result<{}, {}>", type_name(&ok), type_name(&err)),
        },
        Type::Own(_) => "own<resource>".into(),
        Type::Borrow(_) => "borrow<resource>".into(),
        Type::Future(_) => "future".into(),
        Type::Stream(_) => "stream".into(),
        Type::ErrorContext => "error-context".into(),
    }
}
