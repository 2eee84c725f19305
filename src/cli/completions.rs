//! `leomodem completions SHELL` and `leomodem man`: shell completions and manual pages
//! generated from the command-line definition.

use super::Cli;
use crate::error::{Error, Result};
use clap::{Args, CommandFactory};
use clap_complete::Shell;
use std::io::Write;
use std::path::{Path, PathBuf};

/// Arguments of `leomodem completions`.
#[derive(Debug, Args)]
pub struct CompletionsArgs {
    /// Shell: bash | zsh | fish | powershell | elvish. Example: `leomodem completions bash > /etc/bash_completion.d/leomodem`.
    #[arg(value_enum, value_name = "SHELL")]
    pub shell: Shell,
}

/// Arguments of `leomodem man`.
#[derive(Debug, Args)]
pub struct ManArgs {
    /// Write one page per command (leomodem.1, leomodem-rx.1, …) into this directory instead of the main page to standard output.
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
}

/// The completion script for `shell`.
pub fn completion_script(shell: Shell) -> Vec<u8> {
    let mut cmd = Cli::command();
    let mut buf = Vec::with_capacity(64 * 1024);
    clap_complete::generate(shell, &mut cmd, "leomodem", &mut buf);
    buf
}

/// The main manual page (roff).
pub fn main_page() -> Result<Vec<u8>> {
    let mut buf = Vec::with_capacity(16 * 1024);
    clap_mangen::Man::new(Cli::command())
        .render(&mut buf)
        .map_err(|e| Error::io("man page", e))?;
    Ok(buf)
}

/// Writes `leomodem.1` and one `leomodem-<command>.1` per subcommand (recursively) into
/// `dir`, created if needed; returns the paths.
pub fn write_man_pages(dir: &Path) -> Result<Vec<PathBuf>> {
    std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
    let mut cmd = Cli::command().disable_help_subcommand(true);
    cmd.build();
    let mut out = Vec::new();
    fn walk(cmd: &clap::Command, dir: &Path, out: &mut Vec<PathBuf>) -> Result<()> {
        for sub in cmd.get_subcommands().filter(|s| !s.is_hide_set()) {
            walk(sub, dir, out)?;
        }
        let man = clap_mangen::Man::new(cmd.clone());
        let path = dir.join(man.get_filename());
        let mut buf = Vec::with_capacity(16 * 1024);
        man.render(&mut buf).map_err(|e| Error::io(&path, e))?;
        std::fs::write(&path, buf).map_err(|e| Error::io(&path, e))?;
        out.push(path);
        Ok(())
    }
    walk(&cmd, dir, &mut out)?;
    Ok(out)
}

fn to_stdout(bytes: &[u8]) -> Result<()> {
    let mut o = std::io::stdout().lock();
    match o.write_all(bytes).and_then(|_| o.flush()) {
        Ok(()) => Ok(()),
        // `leomodem completions bash | head`: not an error.
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        Err(e) => Err(Error::io("standard output", e)),
    }
}

/// Runs `leomodem completions`.
pub fn run(args: CompletionsArgs) -> Result<()> {
    to_stdout(&completion_script(args.shell))
}

/// Runs `leomodem man`.
pub fn run_man(args: ManArgs) -> Result<()> {
    match &args.out {
        Some(dir) => {
            let pages = write_man_pages(dir)?;
            log::info!("wrote {} manual pages to {}", pages.len(), dir.display());
            Ok(())
        }
        None => to_stdout(&main_page()?),
    }
}
