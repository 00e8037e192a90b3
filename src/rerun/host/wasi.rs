//! WASI p2 for a workflow: `wasi:cli` (environment, exit, stdio, terminals) and `wasi:io`
//! (error, poll, streams), from `wasmtime-wasi`, over a context with nothing in it: no
//! environment variables or arguments, empty stdin, stdout/stderr in memory. Clocks, random,
//! filesystem and sockets are deliberately not linked: a component importing them is refused
//! as unsupported before it runs (see [`crate::rerun::imports`]).

use wasmtime::component::{HasData, Linker, ResourceTable};
use wasmtime_wasi::WasiView;
use wasmtime_wasi::cli::{WasiCli, WasiCliView};
use wasmtime_wasi::p2::bindings::{cli, sync};

use super::HostState;

/// The interfaces linked here, without versions (any `0.2.x` the guest names).
pub const INTERFACES: [&str; 13] = [
    "wasi:cli/environment",
    "wasi:cli/exit",
    "wasi:cli/stdin",
    "wasi:cli/stdout",
    "wasi:cli/stderr",
    "wasi:cli/terminal-input",
    "wasi:cli/terminal-output",
    "wasi:cli/terminal-stdin",
    "wasi:cli/terminal-stdout",
    "wasi:cli/terminal-stderr",
    "wasi:io/error",
    "wasi:io/poll",
    "wasi:io/streams",
];

/// The host data `wasi:io` works on: the resource table.
struct Io;

impl HasData for Io {
    type Data<'a> = &'a mut ResourceTable;
}

fn table(state: &mut HostState) -> &mut ResourceTable {
    state.ctx().table
}

pub fn add_to_linker(linker: &mut Linker<HostState>) -> wasmtime::Result<()> {
    let l = linker;
    let view = <HostState as WasiCliView>::cli;
    cli::exit::add_to_linker::<HostState, WasiCli>(l, view)?;
    cli::environment::add_to_linker::<HostState, WasiCli>(l, view)?;
    cli::stdin::add_to_linker::<HostState, WasiCli>(l, view)?;
    cli::stdout::add_to_linker::<HostState, WasiCli>(l, view)?;
    cli::stderr::add_to_linker::<HostState, WasiCli>(l, view)?;
    cli::terminal_input::add_to_linker::<HostState, WasiCli>(l, view)?;
    cli::terminal_output::add_to_linker::<HostState, WasiCli>(l, view)?;
    cli::terminal_stdin::add_to_linker::<HostState, WasiCli>(l, view)?;
    cli::terminal_stdout::add_to_linker::<HostState, WasiCli>(l, view)?;
    cli::terminal_stderr::add_to_linker::<HostState, WasiCli>(l, view)?;
    sync::io::error::add_to_linker::<HostState, Io>(l, table)?;
    sync::io::poll::add_to_linker::<HostState, Io>(l, table)?;
    sync::io::streams::add_to_linker::<HostState, Io>(l, table)?;
    Ok(())
}
