//! `leomodem profiles`: the built-in waveform profiles.

use crate::error::Result;
use crate::profile::Profile;
use clap::Args;

/// Arguments of `leomodem profiles`.
#[derive(Debug, Args)]
pub struct ProfilesArgs {
    /// Print this profile (built-in name or TOML file) as TOML, the format of user profile files.
    #[arg(long, value_name = "NAME|FILE")]
    pub show: Option<String>,
}

/// Runs `leomodem profiles`.
pub fn run(args: ProfilesArgs) -> Result<()> {
    if let Some(name) = &args.show {
        if name == crate::dvbs2::PROFILE {
            print!("{}", crate::dvbs2::FAMILY_HELP);
            return Ok(());
        }
        let p = Profile::load(name)?;
        print!("{}", p.to_toml());
        return Ok(());
    }
    for p in Profile::builtins() {
        let rs = p.rs.map_or("no RS".to_string(), |r| {
            format!(
                "RS(255,{}) {:?} I={}",
                255 - 2 * r.e as usize,
                r.basis,
                r.interleave
            )
        });
        println!(
            "{:<24} {:<5} conv {:<12} {:<32} CADU {:>5} B  {}",
            p.name,
            p.modulation.name(),
            format!(
                "{} {}",
                crate::profile::conv_name(p.conv),
                if p.conv.is_some() {
                    p.conv_rate.to_string()
                } else {
                    String::new()
                }
            ),
            rs,
            p.cadu_len(),
            p.description
        );
    }
    println!(
        "{:<24} {}",
        crate::dvbs2::PROFILE,
        crate::dvbs2::FAMILY_SUMMARY
    );
    Ok(())
}
