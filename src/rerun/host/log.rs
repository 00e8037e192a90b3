//! `obelisk:log/log@1.0.0`: the guest's log calls, kept in order with the step they follow and
//! the line that made them (Obelisk writes them to `t_log`; a re-execution writes nothing).

use wasmtime::StoreContextMut;
use wasmtime::component::Linker;

use super::{HostState, begin};
use crate::rerun::outcome::GuestLog;

pub const INTERFACE: &str = "obelisk:log/log@1.0.0";

/// The log levels of the interface, as `t_log.level` names them.
const LEVELS: [&str; 5] = ["trace", "debug", "info", "warn", "error"];

pub fn add_to_linker(linker: &mut Linker<HostState>) -> wasmtime::Result<()> {
    let mut instance = linker.instance(INTERFACE)?;
    for level in LEVELS {
        instance.func_wrap(level, move |mut store: StoreContextMut<'_, HostState>, (message,): (String,)| {
            let source = begin(&mut store)?;
            let state = store.data_mut();
            let after_version = state.steps.last().map(|s| s.version);
            state.logs.push(GuestLog { level: level.to_owned(), message, after_version, source });
            Ok(())
        })?;
    }
    Ok(())
}
