//! `obelisk:types/join-set@5.0.0`: the `join-set` resource. Its representation is the set's
//! index in [`crate::rerun::join_sets::JoinSets`]; dropping it closes the set (spec §3.1.7):
//! every request not awaited yet gets a closing `JoinNext`, matched against the log.

use wasmtime::StoreContextMut;
use wasmtime::component::{Linker, ResourceType};

use super::{HostState, begin};
use crate::rerun::keys::Key;
use crate::rerun::matcher::Stop;

pub const INTERFACE: &str = "obelisk:types/join-set@5.0.0";

/// The host side of a `join-set` handle.
pub struct JoinSetHandle;

pub fn add_to_linker(linker: &mut Linker<HostState>) -> wasmtime::Result<()> {
    linker.instance(INTERFACE)?.resource(
        "join-set",
        ResourceType::host::<JoinSetHandle>(),
        |mut store: StoreContextMut<'_, HostState>, rep: u32| {
            let source = begin(&mut store)?;
            close(store.data_mut(), rep as usize, "[resource-drop]join-set", &source)
        },
    )
}

/// Closes set `index`: one closing `JoinNext` per unawaited request, each consuming the next
/// response of the set (cancelled activities and delays answer too).
pub fn close(
    state: &mut HostState,
    index: usize,
    call: &str,
    source: &Option<crate::rerun::source::SourceLine>,
) -> wasmtime::Result<()> {
    let set = state.matcher.join_sets.get(index);
    if set.closed {
        return Ok(());
    }
    let join_set_id = set.id.clone();
    while let Some(member) = state.matcher.join_sets.get(index).unawaited().first().cloned() {
        let key = Key::JoinNext { join_set_id: join_set_id.clone(), requested_ffqn: None, closing: true };
        let version = state.expect(call, vec![key], source)?[0];
        let Some(response) = state.matcher.take_response(&join_set_id) else {
            let waiting_for = state.matcher.join_sets.get(index).unawaited().iter().map(|m| m.id_text()).collect();
            let stop = Stop::Blocked { version, join_set_id, closing: true, waiting_for };
            return Err(state.halt(stop, source.clone()));
        };
        state.matcher.join_sets.get_mut(index).awaited += 1;
        state.received(serde_json::json!({ "closed": member.id_text(), "response": response }));
    }
    state.matcher.join_sets.get_mut(index).closed = true;
    Ok(())
}
