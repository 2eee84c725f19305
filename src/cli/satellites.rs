//! `leomodem satellites`: the satellite catalogue (see [`crate::catalogue`]).

use crate::catalogue::{self, Satellite};
use crate::error::Result;
use clap::Args;

/// Arguments of `leomodem satellites`.
#[derive(Debug, Args)]
pub struct SatellitesArgs {
    /// Only satellites whose name, alias, NORAD id, modulation or framing contains this
    /// text (case, spaces and punctuation ignored), e.g. `funcube`, `43132`, `ao40`, `afsk`.
    #[arg(value_name = "TEXT")]
    pub text: Option<String>,
    /// Print one satellite (name, alias or NORAD id) as its catalogue TOML.
    #[arg(long, value_name = "NAME|NORAD", conflicts_with = "text")]
    pub show: Option<String>,
    /// One JSON object per satellite instead of the table.
    #[arg(long)]
    pub json: bool,
}

fn freq(t: &catalogue::Transmitter) -> String {
    t.frequency
        .map_or("-".to_string(), |f| format!("{:.4} MHz", f / 1e6))
}

fn print_table(sats: &[&Satellite]) {
    println!(
        "{:<24} {:>6}  {:<30} {:>13}  {:<6} {:>6}  framing",
        "satellite", "NORAD", "transmitter", "frequency", "mod", "baud"
    );
    for s in sats {
        for (i, t) in s.transmitters.iter().enumerate() {
            let (name, norad) = if i == 0 {
                (s.name.as_str(), s.norad.to_string())
            } else {
                ("", String::new())
            };
            println!(
                "{:<24} {:>6}  {:<30} {:>13}  {:<6} {:>6}  {}",
                name,
                norad,
                t.name,
                freq(t),
                t.modulation.name(),
                t.baud,
                t.framing
            );
        }
    }
}

/// Runs `leomodem satellites`.
pub fn run(args: SatellitesArgs) -> Result<()> {
    if let Some(q) = &args.show {
        let s = catalogue::find_for("--show", q)?;
        if args.json {
            println!("{}", serde_json::to_string(s).expect("serialisable"));
        } else {
            print!("{}", s.to_toml());
        }
        return Ok(());
    }
    let sats = catalogue::search(args.text.as_deref().unwrap_or(""));
    if args.json {
        for s in &sats {
            println!("{}", serde_json::to_string(s).expect("serialisable"));
        }
        return Ok(());
    }
    print_table(&sats);
    let tx: usize = sats.iter().map(|s| s.transmitters.len()).sum();
    eprintln!("{} satellites, {tx} transmitters", sats.len());
    Ok(())
}
