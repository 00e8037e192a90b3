use std::process::ExitCode;

use clap::CommandFactory;

fn main() -> ExitCode {
    // Behave like other command-line tools when the reader of our output goes away (`| head`).
    // SAFETY: restoring the default disposition of SIGPIPE at start-up, before any threads.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
    return_freed_memory();
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

/// mimalloc's defaults commit whole arenas up front and keep freed pages for 10 ms; with one
/// heap per thread (S3 runtime, download workers, 8 tenants at once in a fleet scan) that is
/// most of the peak RSS: an S3 restore of a 6 MB tenant peaked at 63 MB (26 MB without), a
/// fleet scan of 24 tenants at 194 MB (54 MB). Arenas are committed on demand (compiled in:
/// `.cargo/config.toml`); here freed pages go back to the OS at once.
fn return_freed_memory() {
    // From mimalloc v2's `mi_option_e` (libmimalloc-sys 0.1.49, c_src/mimalloc/v2/include/mimalloc.h).
    const PURGE_DELAY: i32 = 15;
    unsafe extern "C" {
        fn mi_option_set(option: i32, value: std::ffi::c_long);
    }
    if std::env::var_os("MIMALLOC_PURGE_DELAY").is_none() {
        // SAFETY: a plain option setter of the linked mimalloc, called before any other thread exists.
        unsafe { mi_option_set(PURGE_DELAY, 0) };
    }
}
