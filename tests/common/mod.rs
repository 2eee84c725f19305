//! Helpers shared by the tests that run the `leomodem` binary.
#![allow(dead_code)] // each test crate uses a subset

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The binary under test.
pub fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_leomodem"))
}

/// `leomodem tx OUTPUT --profile PROFILE --frames-in FRAMES` at `symbol_rate` and
/// `sample_rate` (strings, as on a command line); returns its standard output.
pub fn tx_frames(
    output: &Path,
    profile: &str,
    frames_in: &Path,
    symbol_rate: &str,
    sample_rate: &str,
) -> String {
    ok(&[
        "tx",
        s(output),
        "--profile",
        profile,
        "--frames-in",
        s(frames_in),
        "--symbol-rate",
        symbol_rate,
        "--sample-rate",
        sample_rate,
    ])
}

/// `leomodem sim INPUT OUTPUT` adding only white noise: `--sample-rate`, `--symbol-rate`,
/// `--esn0` (dB), `--signal-power` and `--seed` as given (strings, as on a command line);
/// returns its standard output.
pub fn sim_awgn(
    input: &Path,
    output: &Path,
    sample_rate: &str,
    symbol_rate: &str,
    esn0_db: &str,
    signal_power: &str,
    seed: &str,
) -> String {
    ok(&[
        "sim",
        s(input),
        s(output),
        "--sample-rate",
        sample_rate,
        "--symbol-rate",
        symbol_rate,
        "--esn0",
        esn0_db,
        "--signal-power",
        signal_power,
        "--seed",
        seed,
    ])
}

/// Runs it; fails the test on any panic message in its output.
pub fn run(args: &[&str]) -> Output {
    let out = bin().args(args).output().expect("run leomodem");
    let stderr = String::from_utf8_lossy(&out.stderr);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(!stderr.contains("panicked"), "panic in {args:?}: {stderr}");
    assert!(!stdout.contains("panicked"), "panic in {args:?}: {stdout}");
    out
}

/// Runs it, expects success; returns stderr followed by stdout.
pub fn ok(args: &[&str]) -> String {
    let out = run(args);
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(out.status.success(), "{args:?} failed: {stderr}");
    stderr + &String::from_utf8_lossy(&out.stdout)
}

/// Runs it, expects failure; returns stderr.
pub fn fail(args: &[&str]) -> String {
    let out = run(args);
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(
        !out.status.success(),
        "{args:?} should have failed: {stderr}"
    );
    stderr
}

/// Fails, and stderr names every one of `needles` (the file or option, and what was wrong).
pub fn fail_with(args: &[&str], needles: &[&str]) -> String {
    let e = fail(args);
    for n in needles {
        assert!(e.contains(n), "{args:?}: stderr lacks {n:?}:\n{e}");
    }
    e
}

/// A path as the `&str` a command line takes.
pub fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// A temporary directory.
pub struct Dir(tempfile::TempDir);

impl Dir {
    /// A new empty directory.
    pub fn new() -> Self {
        Dir(tempfile::tempdir().unwrap())
    }
    /// A path inside it.
    pub fn p(&self, name: &str) -> PathBuf {
        self.0.path().join(name)
    }
    /// Writes a file inside it.
    pub fn write(&self, name: &str, data: impl AsRef<[u8]>) -> PathBuf {
        let p = self.p(name);
        std::fs::write(&p, data).unwrap();
        p
    }
}
