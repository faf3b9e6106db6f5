use std::process::ExitCode;

use clap::Parser;
use credsweep::cli::{self, Cli};

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli::run(cli) {
        Ok(code) => ExitCode::from(code as u8),
        Err(e) => {
            eprintln!("credsweep: error: {e:#}");
            ExitCode::from(cli::EXIT_ERROR as u8)
        }
    }
}
