fn main() -> std::process::ExitCode {
    chronoscope::cli::run()
}
