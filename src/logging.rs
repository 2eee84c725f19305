//! Diagnostics through the `log` facade, printed to stderr by `env_logger`.
//!
//! The level comes from the global `-q`/`-v` flags: `-q` errors only, default
//! warnings, `-v` info, `-vv` debug, `-vvv` trace. `RUST_LOG` adds filters in the usual
//! syntax on top (`RUST_LOG=leomodem::plot=debug`, or a bare level for everything).
//! Lines read `warning: …` (with the module on `-vv`) and never mix with a progress
//! bar (see [`crate::progress::suspend`]). Command reports that are the output of a
//! command stay on plain `eprintln!`; this is for diagnostics.

use log::{LevelFilter, Log, Metadata, Record};
use std::io::Write;

/// The level the flags ask for.
pub fn level_for(verbose: u8, quiet: bool) -> LevelFilter {
    if quiet {
        return LevelFilter::Error;
    }
    match verbose {
        0 => LevelFilter::Warn,
        1 => LevelFilter::Info,
        2 => LevelFilter::Debug,
        _ => LevelFilter::Trace,
    }
}

/// Hides the progress bar while a record is written.
struct Logger(env_logger::Logger);

impl Log for Logger {
    fn enabled(&self, m: &Metadata<'_>) -> bool {
        self.0.enabled(m)
    }
    fn log(&self, r: &Record<'_>) {
        if self.0.matches(r) {
            crate::progress::suspend(|| self.0.log(r));
        }
    }
    fn flush(&self) {
        self.0.flush();
    }
}

/// Installs the logger for the flags and `filters` (`RUST_LOG` syntax, e.g. from the
/// environment). Returns `false` if a logger was already installed (then nothing
/// changes).
pub fn init_with(verbose: u8, quiet: bool, filters: Option<&str>) -> bool {
    let level = level_for(verbose, quiet);
    let with_target = level >= LevelFilter::Debug;
    let mut b = env_logger::Builder::new();
    b.filter_level(level)
        .target(env_logger::Target::Stderr)
        .format(move |buf, r| {
            let lvl = match r.level() {
                log::Level::Error => "error",
                log::Level::Warn => "warning",
                log::Level::Info => "info",
                log::Level::Debug => "debug",
                log::Level::Trace => "trace",
            };
            if with_target {
                writeln!(buf, "{lvl} [{}]: {}", r.target(), r.args())
            } else {
                writeln!(buf, "{lvl}: {}", r.args())
            }
        });
    if let Some(f) = filters.filter(|f| !f.trim().is_empty()) {
        b.parse_filters(f);
    }
    let logger = b.build();
    let max = logger.filter();
    if log::set_boxed_logger(Box::new(Logger(logger))).is_err() {
        return false;
    }
    log::set_max_level(max);
    true
}

/// [`init_with`] the flags and the `RUST_LOG` environment variable.
pub fn init(verbose: u8, quiet: bool) -> bool {
    let env = std::env::var("RUST_LOG").ok();
    init_with(verbose, quiet, env.as_deref())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_map_to_levels() {
        assert_eq!(level_for(0, true), LevelFilter::Error);
        assert_eq!(level_for(3, true), LevelFilter::Error);
        assert_eq!(level_for(0, false), LevelFilter::Warn);
        assert_eq!(level_for(1, false), LevelFilter::Info);
        assert_eq!(level_for(2, false), LevelFilter::Debug);
        assert_eq!(level_for(9, false), LevelFilter::Trace);
    }

    #[test]
    fn installs_once() {
        let first = init_with(1, false, Some("leomodem=debug"));
        assert!(
            !init_with(0, false, None),
            "a second logger must be refused"
        );
        if first {
            assert_eq!(log::max_level(), LevelFilter::Debug);
        }
    }
}
