use std::process::ExitCode;

fn main() -> ExitCode {
    match report::cli::run() {
        Ok(code) => code,
        Err(err) => {
            eprintln!("error: {err}");
            for cause in err.chain().skip(1) {
                eprintln!("  caused by: {cause}");
            }
            ExitCode::from(report::cli::EXIT_ERROR)
        }
    }
}
