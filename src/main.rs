use std::process::ExitCode;

use clap::Parser;
use credsweep::cli::{self, Cli};
use credsweep::term;

fn main() -> ExitCode {
    install_panic_hook();
    let cli = Cli::parse();
    match cli::run(cli) {
        Ok(code) => ExitCode::from(code as u8),
        Err(e) => {
            // Errors may quote repository paths and names: escaped, and written without
            // panicking when stderr is a closed pipe.
            term::eprint_line(format_args!(
                "credsweep: error: {}",
                term::escape_lines(&format!("{e:#}"))
            ));
            ExitCode::from(cli::EXIT_ERROR as u8)
        }
    }
}

/// A panic is a bug, and its message may hold what was being scanned (a slice of a file, a
/// secret in a failed assertion). The hook prints where it happened and nothing of the payload,
/// and exits at once with status 2, from whichever thread panicked, so a scan that lost a worker
/// can never report itself complete.
fn install_panic_hook() {
    std::panic::set_hook(Box::new(|info| {
        let at = info
            .location()
            .map(|l| format!(" at {}:{}", l.file(), l.line()))
            .unwrap_or_default();
        // Not eprintln!: a panic while panicking (stderr a closed pipe) would abort.
        term::eprint_line(format_args!(
            "credsweep: internal error{at}: this is a bug, please report it \
             (the message is withheld: it may contain scanned data)"
        ));
        std::process::exit(cli::EXIT_ERROR);
    }));
    // A way for tests to check the hook: a panic whose message is the variable's value.
    if let Some(msg) = std::env::var_os("CREDSWEEP_TEST_PANIC") {
        panic!("{}", msg.to_string_lossy());
    }
}
