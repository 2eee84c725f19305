use clap::Parser;
use leomodem::cli::{run, Cli};

fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    let verbose = if cli.quiet { 0 } else { cli.verbose };
    leomodem::logging::init(verbose, cli.quiet);
    match run(cli) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            // One line by default; the chain of causes with -v (those not already in it).
            let top = e.to_string();
            eprintln!("error: {top}");
            if verbose > 0 {
                let mut source = std::error::Error::source(&e);
                while let Some(s) = source {
                    let text = s.to_string();
                    if !top.contains(&text) {
                        eprintln!("  caused by: {text}");
                    }
                    source = s.source();
                }
            }
            std::process::ExitCode::FAILURE
        }
    }
}
