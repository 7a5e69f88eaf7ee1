use std::process::ExitCode;

fn main() -> ExitCode {
    match report::cli::run() {
        Ok(code) => code,
        Err(err) if report::cli::is_broken_pipe(&err) => ExitCode::SUCCESS,
        Err(err) => {
            report::messages::error(&err);
            ExitCode::from(report::cli::EXIT_ERROR)
        }
    }
}
