//! The `stockyard` binary.

fn main() -> std::process::ExitCode {
    stockyard_cli::main()
}
