//! What a component imports, read from the component itself (`component_type().imports()`), and
//! the linker that implements exactly that: Obelisk's interfaces at the versions we implement,
//! WASI `cli`/`io`, and every other interface as child calls. Anything else is refused before
//! the guest runs, naming the import.

use wasmtime::Engine;
use wasmtime::component::types::ComponentItem;
use wasmtime::component::{Component, Linker};

use super::error::RerunError;
use super::host::{self, HostState};

/// How the host implements one import.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ImportKind {
    /// `obelisk:*` at a version implemented in [`host`].
    Obelisk,
    /// `wasi:cli/*` or `wasi:io/*` 0.2.x.
    Wasi,
    /// Any other interface: its functions are child executions.
    Activity { functions: Vec<String> },
}

/// One import of the component.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Import {
    pub name: String,
    pub kind: ImportKind,
}

/// Obelisk interfaces implemented here, exactly.
const OBELISK: [&str; 5] = [
    host::log::INTERFACE,
    host::types::TIME,
    host::types::EXECUTION,
    host::join_set::INTERFACE,
    host::workflow_support::INTERFACE,
];

/// Reads and checks the component's imports; `what` names the component in errors.
pub fn imports(engine: &Engine, component: &Component, what: &str) -> Result<Vec<Import>, RerunError> {
    let unsupported = |import: &str, reason: String| RerunError::UnsupportedImport {
        what: what.to_owned(),
        import: import.to_owned(),
        reason,
    };
    let ty = component.component_type();
    let mut out = Vec::new();
    for (name, item) in ty.imports(engine) {
        let kind = if name.starts_with("obelisk:") {
            if !OBELISK.contains(&name) {
                return Err(unsupported(
                    name,
                    format!("this Obelisk interface version is not implemented (implemented: {})", OBELISK.join(", ")),
                ));
            }
            ImportKind::Obelisk
        } else if let Some(rest) = name.strip_prefix("wasi:") {
            let (iface, version) = rest.split_once('@').unwrap_or((rest, ""));
            let known = host::wasi::INTERFACES.contains(&format!("wasi:{iface}").as_str());
            if !known || !version.starts_with("0.2.") {
                return Err(unsupported(
                    name,
                    "a workflow runs deterministically: only WASI 0.2 cli and io are provided (no clocks, random, \
                     filesystem or sockets)"
                        .into(),
                ));
            }
            ImportKind::Wasi
        } else if name.contains("-obelisk-") {
            return Err(unsupported(
                name,
                "Obelisk's generated extension interfaces (-obelisk-ext, -obelisk-schedule, -obelisk-stub) are not \
                 implemented; workflow-support@6.0.0 (submit-json, join-next, schedule-json, stub-json) is"
                    .into(),
            ));
        } else {
            let ComponentItem::ComponentInstance(instance) = item.ty else {
                return Err(unsupported(name, "only interfaces can be imported".into()));
            };
            let mut functions = Vec::new();
            for (function, item) in instance.exports(engine) {
                match item.ty {
                    ComponentItem::ComponentFunc(_) => functions.push(function.to_owned()),
                    ComponentItem::Type(_) => {}
                    _ => {
                        return Err(unsupported(
                            name,
                            format!("`{function}` is not a function: activity interfaces may only have functions"),
                        ));
                    }
                }
            }
            ImportKind::Activity { functions }
        };
        out.push(Import { name: name.to_owned(), kind });
    }
    Ok(out)
}

/// A linker with every import of `imports` implemented.
pub fn linker(engine: &Engine, imports: &[Import], what: &str) -> Result<Linker<HostState>, RerunError> {
    let fail = |e: wasmtime::Error| RerunError::Component {
        what: what.to_owned(),
        reason: format!("linking the host: {e:#}"),
    };
    let mut linker = Linker::new(engine);
    host::types::add_to_linker(&mut linker).map_err(fail)?;
    host::join_set::add_to_linker(&mut linker).map_err(fail)?;
    host::log::add_to_linker(&mut linker).map_err(fail)?;
    host::workflow_support::add_to_linker(&mut linker).map_err(fail)?;
    host::wasi::add_to_linker(&mut linker).map_err(fail)?;
    for import in imports {
        if let ImportKind::Activity { functions } = &import.kind {
            for function in functions {
                host::activity::add_function(&mut linker, &import.name, function).map_err(fail)?;
            }
        }
    }
    Ok(linker)
}
