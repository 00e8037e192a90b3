//! Any interface the component imports that is not Obelisk's or WASI's: each of its functions
//! is a direct child call (spec §3.1.3): `JoinSetCreate(o:<n>-<fn>)`, `ChildExecutionRequest`
//! with the params as JSON, `JoinNext` with the requested FFQN; the child's recorded return value
//! is converted from its typed JSON into the WIT type the guest expects.

use wasmtime::StoreContextMut;
use wasmtime::component::types::ComponentFunc;
use wasmtime::component::{Linker, Type, Val};

use super::{HostState, begin};
use crate::obelisk::{Ffqn, ResponseKind, RetVal};
use crate::rerun::join_sets::Member;
use crate::rerun::keys::Key;
use crate::rerun::matcher::Stop;
use crate::rerun::values::{from_json, to_json};

/// Links function `function` of `interface` as a child call.
pub fn add_function(linker: &mut Linker<HostState>, interface: &str, function: &str) -> wasmtime::Result<()> {
    let ffqn: Ffqn = format!("{interface}.{function}").parse().map_err(wasmtime::Error::msg)?;
    let name = ffqn.to_string();
    linker.instance(interface)?.func_new(function, move |mut store, ty: ComponentFunc, params, results| {
        let source = begin(&mut store)?;
        direct_call(&mut store, &name, &ffqn, &ty, params, results, &source)
    })
}

fn direct_call(
    store: &mut StoreContextMut<'_, HostState>,
    call: &str,
    ffqn: &Ffqn,
    ty: &ComponentFunc,
    params: &[Val],
    results: &mut [Val],
    source: &Option<crate::rerun::source::SourceLine>,
) -> wasmtime::Result<()> {
    let state = store.data_mut();
    let params = match params.iter().map(to_json).collect::<Result<Vec<_>, _>>() {
        Ok(p) => p,
        Err(e) => return Err(state.halt(Stop::Unsupported(format!("params of {ffqn}: {e}")), source.clone())),
    };
    let join_set_id = state.matcher.join_sets.next_one_off(ffqn.function());
    let index = state.matcher.join_sets.open(join_set_id.clone());
    let child = state.matcher.join_sets.next_child_id(&state.matcher.execution_id, index);
    let keys = vec![
        Key::JoinSetCreate { join_set_id: join_set_id.clone() },
        Key::ChildExecutionRequest {
            join_set_id: join_set_id.clone(),
            child_execution_id: child.clone(),
            target_ffqn: ffqn.clone(),
            params,
        },
        Key::JoinNext { join_set_id: join_set_id.clone(), requested_ffqn: Some(ffqn.clone()), closing: false },
    ];
    let versions = state.expect(call, keys, source)?;
    state.matcher.join_sets.get_mut(index).members.push(Member::Child { id: child.clone(), ffqn: ffqn.clone() });
    let Some(response) = state.matcher.take_response(&join_set_id) else {
        let stop =
            Stop::Blocked { version: versions[2], join_set_id, closing: false, waiting_for: vec![child.to_string()] };
        return Err(state.halt(stop, source.clone()));
    };
    let set = state.matcher.join_sets.get_mut(index);
    set.awaited += 1;
    set.closed = true;
    state.received(serde_json::to_value(&response).unwrap_or_default());
    let retval = match response {
        ResponseKind::ChildExecutionFinished { result: Some(retval), .. } => retval,
        other => {
            let reason = format!("the response to the direct call {ffqn} is not the child's result: {other:?}");
            return Err(state.halt(Stop::Unsupported(reason), source.clone()));
        }
    };
    let result_ty = ty.results().next();
    match (typed(result_ty.as_ref(), &retval), results.first_mut()) {
        (Ok(Some(val)), Some(slot)) => *slot = val,
        (Ok(None), _) => {}
        (Ok(Some(_)), None) => {}
        (Err(reason), _) => {
            let reason = format!("the result of {child} for the direct call {ffqn}: {reason}");
            return Err(state.halt(Stop::Unsupported(reason), source.clone()));
        }
    }
    Ok(())
}

/// The guest's value for a child's recorded return value, of the function's result type.
fn typed(ty: Option<&Type>, retval: &RetVal) -> Result<Option<Val>, String> {
    let Some(ty) = ty else { return Ok(None) };
    let payload = |t: Option<Type>, v: &Option<crate::obelisk::TypedValue>| -> Result<Option<Box<Val>>, String> {
        match (t, v) {
            (Some(t), Some(v)) => from_json(&t, &v.value).map(|v| Some(Box::new(v))).map_err(|e| e.to_string()),
            (None, None) => Ok(None),
            (Some(_), None) => Err("the recorded value is missing its payload".into()),
            (None, Some(_)) => Err("the recorded value has a payload the type does not".into()),
        }
    };
    match (ty, retval) {
        (Type::Result(r), RetVal::Ok(v)) => Ok(Some(Val::Result(Ok(payload(r.ok(), v)?)))),
        (Type::Result(r), RetVal::Err(v)) => Ok(Some(Val::Result(Err(payload(r.err(), v)?)))),
        (_, RetVal::Ok(Some(v))) => from_json(ty, &v.value).map(Some).map_err(|e| e.to_string()),
        (_, RetVal::ExecutionFailure(f)) => Err(format!(
            "the child failed ({}{}): a direct call cannot return an execution failure to the guest",
            f.kind.as_str(),
            f.reason.as_ref().map(|r| format!(": {r}")).unwrap_or_default()
        )),
        (_, other) => Err(format!("{other:?} does not fit the function's result type")),
    }
}
