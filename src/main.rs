use std::process::ExitCode;

use clap::CommandFactory;

fn main() -> ExitCode {
    // Behave like other command-line tools when the reader of our output goes away (`| head`).
    // SAFETY: restoring the default disposition of SIGPIPE at start-up, before any threads.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
    match gui_request() {
        Some(open) if chronoscope::ui::display_available() => match chronoscope::ui::run(open) {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("error: {e:#}");
                ExitCode::FAILURE
            }
        },
        Some(None) => {
            eprintln!(
                "chronoscope: no display (DISPLAY and WAYLAND_DISPLAY are unset), so no window; showing the command-line demo instead.\n"
            );
            chronoscope::cli::run()
        }
        Some(Some(open)) => {
            eprintln!(
                "chronoscope: no display (DISPLAY and WAYLAND_DISPLAY are unset) to open {open} in; use the commands instead, e.g. `chronoscope executions {open}` (see --help)"
            );
            ExitCode::FAILURE
        }
        None => chronoscope::cli::run(),
    }
}

/// `Some(what to open)` when the command line asks for the app: no arguments, or one argument
/// that is neither a subcommand nor a flag (a SQLite file, a replica, a `litestream.yml`).
fn gui_request() -> Option<Option<String>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.as_slice() {
        [] => Some(None),
        [arg] if !arg.starts_with('-') && !is_subcommand(arg) => Some(Some(arg.clone())),
        _ => None,
    }
}

fn is_subcommand(name: &str) -> bool {
    let cli = chronoscope::cli::Cli::command();
    name == "help" || cli.get_subcommands().any(|c| c.get_name() == name || c.get_all_aliases().any(|a| a == name))
}

/// mimalloc: whole-database replay allocates millions of small values on several threads, where
/// it is markedly faster than the system allocator.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;
