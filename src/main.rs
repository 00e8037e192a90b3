fn main() -> std::process::ExitCode {
    // Behave like other command-line tools when the reader of our output goes away (`| head`).
    // SAFETY: restoring the default disposition of SIGPIPE at start-up, before any threads.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
    chronoscope::cli::run()
}
