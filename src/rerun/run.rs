//! Re-executing one execution: instantiate the prepared component in a fresh sandboxed store,
//! call the exported function with the recorded params, close what the function left open, and
//! turn how it ended into a [`Report`].

use wasmtime::component::{Func, Type, Val};
use wasmtime::{Store, StoreContextMut, Trap, UpdateDeadline, WasmBacktrace};

use super::engine::{Prepared, Rerunner};
use super::error::RerunError;
use super::host::{HostState, join_set};
use super::input::ExecutionInput;
use super::matcher::{Matcher, Stop};
use super::outcome::{Blocked, Nondeterminism, OutcomeKind, Pending, Report};
use super::source::SourceLine;
use super::values::{from_json, to_json, type_name};
use crate::cancel::Cancel;
use crate::obelisk::{FailureKind, RetVal, TypedValue};

/// Limits of one re-execution.
#[derive(Debug, Clone)]
pub struct RunOptions {
    /// Fuel (≈ wasm instructions) before the guest is stopped as looping.
    pub fuel: u64,
    pub cancel: Cancel,
}

impl Default for RunOptions {
    fn default() -> Self {
        RunOptions { fuel: 2_000_000_000, cancel: Cancel::new() }
    }
}

/// Re-executes `input` with `prepared`.
pub fn rerun(
    rerunner: &Rerunner,
    prepared: &Prepared,
    input: &ExecutionInput,
    options: &RunOptions,
) -> Result<Report, RerunError> {
    let what = |reason: String| RerunError::Component { what: prepared.what.clone(), reason };
    let matcher = Matcher::new(input.id.clone(), input.history.clone(), input.responses.clone());
    let mut store =
        Store::new(rerunner.engine(), HostState::new(matcher, prepared.glue.clone(), options.cancel.clone()));
    store.limiter(|state| &mut state.limits);
    store.set_fuel(options.fuel).map_err(|e| what(format!("{e:#}")))?;
    // wasmtime may cap the fuel it accepts: measure from what it holds.
    let fuel_at_start = store.get_fuel().unwrap_or(options.fuel);
    store.set_epoch_deadline(1);
    store.epoch_deadline_callback(|mut ctx: StoreContextMut<'_, HostState>| {
        if ctx.data().cancel.is_cancelled() {
            Err(ctx.data_mut().halt(Stop::Cancelled, None))
        } else {
            Ok(UpdateDeadline::Continue(1))
        }
    });
    let instance = prepared.pre.instantiate(&mut store).map_err(|e| what(format!("instantiating: {e:#}")))?;
    let func = find_export(prepared, &instance, &mut store, input)?;
    let signature = func.ty(&store);
    let param_types: Vec<Type> = signature.params().map(|(_, t)| t).collect();
    let result_type: Option<Type> = signature.results().next();
    let export_error = |reason: String| RerunError::Export { what: format!("{} of {}", input.ffqn, input.id), reason };
    if param_types.len() != input.params.len() {
        return Err(export_error(format!(
            "the function takes {} params, the execution was created with {}",
            param_types.len(),
            input.params.len()
        )));
    }
    let params = param_types
        .iter()
        .zip(&input.params)
        .map(|(t, v)| from_json(t, v))
        .collect::<Result<Vec<Val>, _>>()
        .map_err(|e| export_error(format!("params: {e}")))?;
    let mut results = vec![Val::Bool(false); usize::from(result_type.is_some())];
    let called = func.call(&mut store, &params, &mut results);
    let called = called.and_then(|()| close_open_sets(store.data_mut()));
    let fuel_used = fuel_at_start.saturating_sub(store.get_fuel().unwrap_or(0));
    let state = store.into_data();
    Ok(conclude(state, input, prepared, called, result_type.as_ref(), results.pop(), fuel_used))
}

fn find_export(
    prepared: &Prepared,
    instance: &wasmtime::component::Instance,
    store: &mut Store<HostState>,
    input: &ExecutionInput,
) -> Result<Func, RerunError> {
    let missing = |reason: String| RerunError::Export { what: prepared.what.clone(), reason };
    let interface = input.ffqn.interface();
    let interface_index = prepared
        .component
        .get_export_index(None, interface)
        .ok_or_else(|| missing(format!("does not export `{interface}` (needed by {} of {})", input.ffqn, input.id)))?;
    let function = prepared
        .component
        .get_export_index(Some(&interface_index), input.ffqn.function())
        .ok_or_else(|| missing(format!("`{interface}` has no function `{}`", input.ffqn.function())))?;
    instance.get_func(store, function).ok_or_else(|| missing(format!("`{}` is not a function", input.ffqn)))
}

/// The implicit close at function return (spec §3.1.7), in creation order.
fn close_open_sets(state: &mut HostState) -> wasmtime::Result<()> {
    let open: Vec<usize> = state.matcher.join_sets.open_sets().collect();
    for index in open {
        join_set::close(state, index, "[function return]", &None)?;
    }
    Ok(())
}

/// The return value in Obelisk's form: a `result`'s payload with its type.
fn retval_of(ty: Option<&Type>, val: Option<&Val>) -> Option<RetVal> {
    let typed = |t: Option<Type>, v: &Option<Box<Val>>| match (t, v) {
        (Some(t), Some(v)) => to_json(v).ok().map(|value| Some(TypedValue { wit_type: type_name(&t), value })),
        _ => Some(None),
    };
    match (ty, val) {
        (None, _) | (_, None) => Some(RetVal::Ok(None)),
        (Some(Type::Result(r)), Some(Val::Result(Ok(v)))) => typed(r.ok(), v).map(RetVal::Ok),
        (Some(Type::Result(r)), Some(Val::Result(Err(v)))) => typed(r.err(), v).map(RetVal::Err),
        (Some(t), Some(v)) => {
            to_json(v).ok().map(|value| RetVal::Ok(Some(TypedValue { wit_type: type_name(t), value })))
        }
    }
}

/// True when the recorded value, read with the function's type, is the produced one.
fn same_retval(ty: Option<&Type>, recorded: &RetVal, produced: Option<&Val>) -> bool {
    let payload = |t: Option<Type>, r: &Option<TypedValue>, p: &Option<Box<Val>>| match (t, r, p) {
        (Some(t), Some(r), Some(p)) => from_json(&t, &r.value).is_ok_and(|v| &v == p.as_ref()),
        (None, None, None) => true,
        _ => false,
    };
    match (ty, recorded, produced) {
        (None, RetVal::Ok(None), _) => true,
        (Some(Type::Result(r)), RetVal::Ok(rv), Some(Val::Result(Ok(p)))) => payload(r.ok(), rv, p),
        (Some(Type::Result(r)), RetVal::Err(rv), Some(Val::Result(Err(p)))) => payload(r.err(), rv, p),
        (Some(t), RetVal::Ok(Some(rv)), Some(p)) if !matches!(t, Type::Result(_)) => {
            from_json(t, &rv.value).is_ok_and(|v| &v == p)
        }
        _ => false,
    }
}

fn is_recorded_trap(retval: &RetVal) -> bool {
    matches!(retval, RetVal::ExecutionFailure(f) if f.kind == FailureKind::Uncategorized
        && f.reason.as_deref().is_some_and(|r| r.contains("trap")))
}

fn conclude(
    state: HostState,
    input: &ExecutionInput,
    prepared: &Prepared,
    called: wasmtime::Result<()>,
    result_type: Option<&Type>,
    result: Option<Val>,
    fuel_used: u64,
) -> Report {
    let (matched, total) = state.matcher.progress();
    let recorded_retval = input.finished.as_ref().map(|(_, r)| r.clone());
    let retval = if called.is_ok() { retval_of(result_type, result.as_ref()) } else { None };
    let mut report = Report {
        execution_id: input.id.clone(),
        ffqn: input.ffqn.clone(),
        component_digest: prepared.digest,
        outcome: OutcomeKind::Finished,
        consistent: false,
        matched,
        total,
        retval: retval.clone(),
        recorded_retval: recorded_retval.clone(),
        logs: state.logs.clone(),
        stdout: String::from_utf8_lossy(&state.stdout.contents()).into_owned(),
        stderr: String::from_utf8_lossy(&state.stderr.contents()).into_owned(),
        steps: state.steps.clone(),
        trap: None,
        nondeterminism: None,
        blocked: None,
        pending: None,
        fuel_used,
    };
    let finished_version = input.finished.as_ref().map(|(v, _)| *v);
    let recorded_json = |r: &Option<RetVal>| serde_json::to_value(r).unwrap_or_default();
    match (called, state.stop) {
        (_, Some((Stop::Cancelled, _))) => report.outcome = OutcomeKind::Cancelled,
        (_, Some((Stop::Nondeterministic { recorded, produced }, source))) => {
            report.outcome = OutcomeKind::Nondeterministic;
            report.nondeterminism = Some(Nondeterminism {
                version: recorded.version,
                message: format!("key does not match event stored at version {}: key: {produced}", recorded.version),
                recorded: serde_json::to_value(&recorded.event).unwrap_or_default(),
                produced: serde_json::to_value(&produced).unwrap_or_default(),
                source,
            });
        }
        (_, Some((Stop::Pending { would_append }, source))) => match finished_version {
            // The log finished without the events the code wants to append.
            Some(version) => {
                report.outcome = OutcomeKind::Nondeterministic;
                let first = &would_append[0];
                report.nondeterminism = Some(Nondeterminism {
                    version,
                    message: format!("the log finished at version {version}; the code goes on with {first}"),
                    recorded: recorded_json(&recorded_retval),
                    produced: serde_json::to_value(first).unwrap_or_default(),
                    source,
                });
            }
            None => {
                report.outcome = OutcomeKind::Pending;
                report.consistent = true;
                report.pending = Some(Pending { would_append, would_finish: None, source });
            }
        },
        (_, Some((Stop::Blocked { version, join_set_id, closing, waiting_for }, source))) => {
            report.outcome = OutcomeKind::Blocked;
            report.consistent = finished_version.is_none();
            report.blocked = Some(Blocked { version, join_set_id, closing, waiting_for, source });
        }
        (_, Some((Stop::Unsupported(reason), source))) => {
            report.outcome = OutcomeKind::Trapped;
            report.trap = Some(super::outcome::Trap { reason: format!("host: {reason}"), frames: Vec::new(), source });
        }
        (Err(error), None) => {
            report.outcome = OutcomeKind::Trapped;
            let reason = match error.downcast_ref::<Trap>() {
                Some(Trap::OutOfFuel) => format!("{} (fuel limit {}: a loop?)", Trap::OutOfFuel, fuel_used),
                Some(trap) => trap.to_string(),
                None => format!("{error:#}"),
            };
            let (frames, source) = match error.downcast_ref::<WasmBacktrace>() {
                Some(bt) => (prepared.glue.frames(bt), prepared.glue.innermost(bt)),
                None => (Vec::new(), None),
            };
            report.consistent =
                recorded_retval.as_ref().is_some_and(is_recorded_trap) && state.matcher.first_unprocessed().is_none();
            report.trap = Some(super::outcome::Trap { reason, frames, source });
        }
        (Ok(()), None) => finish(&mut report, &state.matcher, input, result_type, result.as_ref(), retval),
    }
    report
}

/// The function returned: every recorded event must have been produced, and the return value
/// must be the recorded one.
fn finish(
    report: &mut Report,
    matcher: &Matcher,
    input: &ExecutionInput,
    ty: Option<&Type>,
    result: Option<&Val>,
    retval: Option<RetVal>,
) {
    let none: Option<SourceLine> = None;
    if let Some(unprocessed) = matcher.first_unprocessed() {
        report.outcome = OutcomeKind::Nondeterministic;
        report.nondeterminism = Some(Nondeterminism {
            version: unprocessed.version,
            message: format!(
                "found unprocessed request stored at version {}: event: {}",
                unprocessed.version,
                unprocessed.event.type_name()
            ),
            recorded: serde_json::to_value(&unprocessed.event).unwrap_or_default(),
            produced: serde_json::Value::Null,
            source: none,
        });
        return;
    }
    match &input.finished {
        Some((_, recorded)) if same_retval(ty, recorded, result) => {
            report.outcome = OutcomeKind::Finished;
            report.consistent = true;
        }
        Some((version, recorded)) => {
            report.outcome = OutcomeKind::Nondeterministic;
            report.nondeterminism = Some(Nondeterminism {
                version: *version,
                message: format!("the function returned another value than the one recorded at version {version}"),
                recorded: serde_json::to_value(recorded).unwrap_or_default(),
                produced: serde_json::to_value(&retval).unwrap_or_default(),
                source: None,
            });
        }
        None => {
            report.outcome = OutcomeKind::Pending;
            report.consistent = true;
            report.pending = Some(Pending { would_append: Vec::new(), would_finish: retval, source: None });
        }
    }
}
