//! The `evalgate` binary: everything lives in the library; this only maps the outcome
//! to the process exit code.

fn main() -> std::process::ExitCode {
    std::process::ExitCode::from(evalgate::cli::main().code())
}
