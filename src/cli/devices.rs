//! `leomodem devices`: the SDR devices SoapySDR finds, or one device described.

use crate::error::{Error, Result};
use crate::io::soapy::{self, ChannelDesc, DeviceDescription, DeviceListing, RangeDesc};
use clap::Args;
use std::fmt::Write;

/// Arguments of `leomodem devices`.
#[derive(Debug, Args)]
pub struct DevicesArgs {
    /// Describe this device (SoapySDR arguments, e.g. driver=rtlsdr) instead of listing all.
    #[arg(long, value_name = "ARGS")]
    pub device: Option<String>,
    /// Print JSON instead of text.
    #[arg(long)]
    pub json: bool,
}

/// Runs `leomodem devices`: prints the list or the description.
pub fn run(args: DevicesArgs) -> Result<()> {
    print!("{}", render(&args)?);
    Ok(())
}

/// What `leomodem devices` prints.
pub fn render(args: &DevicesArgs) -> Result<String> {
    if !soapy::sdr_support() {
        let opt = if args.device.is_some() {
            "--device"
        } else {
            "devices"
        };
        return Err(soapy::no_sdr_support(opt));
    }
    match &args.device {
        None => {
            let list = soapy::list_devices("")?;
            if args.json {
                json(&list)
            } else {
                Ok(list_text(&list))
            }
        }
        Some(a) => {
            let d = soapy::describe_device(a)?;
            if args.json {
                json(&d)
            } else {
                Ok(describe_text(&d))
            }
        }
    }
}

fn json<T: serde::Serialize>(v: &T) -> Result<String> {
    serde_json::to_string_pretty(v)
        .map(|s| s + "\n")
        .map_err(|e| Error::config("--json", e.to_string()))
}

/// The device list as text ("no SDR devices found" when empty).
pub fn list_text(list: &[DeviceListing]) -> String {
    if list.is_empty() {
        return "no SDR devices found\n".into();
    }
    let mut s = format!(
        "{} SDR device{} found:\n",
        list.len(),
        if list.len() == 1 { "" } else { "s" }
    );
    for d in list {
        let _ = writeln!(
            s,
            "  {}  driver={}  serial={}\n      --device {}",
            d.label,
            d.driver,
            d.serial.as_deref().unwrap_or("-"),
            d.device_arg
        );
    }
    s
}

fn fmt_range(r: &RangeDesc, f: impl Fn(f64) -> String) -> String {
    let step = if r.step > 0.0 {
        format!(" (step {})", f(r.step))
    } else {
        String::new()
    };
    if r.min == r.max {
        f(r.min)
    } else {
        format!("{} to {}{step}", f(r.min), f(r.max))
    }
}

/// A value in Hz with a unit, without trailing zeros: `2.4 MHz`, `500 kHz`.
fn hz(v: f64) -> String {
    let a = v.abs();
    let (x, unit) = if a >= 1e9 {
        (v / 1e9, "GHz")
    } else if a >= 1e6 {
        (v / 1e6, "MHz")
    } else if a >= 1e3 {
        (v / 1e3, "kHz")
    } else {
        (v, "Hz")
    };
    let mut n = format!("{x:.6}");
    while n.contains('.') && (n.ends_with('0') || n.ends_with('.')) {
        n.pop();
    }
    format!("{n} {unit}")
}

fn fmt_ranges(v: &[RangeDesc], f: impl Fn(f64) -> String + Copy) -> String {
    if v.is_empty() {
        return "(not given)".into();
    }
    v.iter()
        .map(|r| fmt_range(r, f))
        .collect::<Vec<_>>()
        .join(", ")
}

fn rate(v: f64) -> String {
    hz(v).replace("Hz", "S/s")
}

/// A gain range: `0 to 40 dB (step 1)`.
fn db_range(r: &RangeDesc) -> String {
    let step = if r.step > 0.0 {
        format!(" (step {})", r.step)
    } else {
        String::new()
    };
    if r.min == r.max {
        format!("{} dB", r.min)
    } else {
        format!("{} to {} dB{step}", r.min, r.max)
    }
}

fn channel_text(s: &mut String, way: &str, c: &ChannelDesc) {
    let _ = writeln!(s, "{way} channel {}:", c.channel);
    let _ = writeln!(s, "  antennas:      {}", c.antennas.join(", "));
    let gain = c.gain.map_or("(not given)".into(), |g| db_range(&g));
    let agc = if c.agc {
        ", automatic gain available"
    } else {
        ""
    };
    let _ = writeln!(s, "  gain:          {gain}{agc}");
    for g in &c.gain_elements {
        let _ = writeln!(s, "    {:<12} {}", g.name, db_range(&g.range));
    }
    let _ = writeln!(s, "  sample rates:  {}", fmt_ranges(&c.sample_rates, rate));
    let _ = writeln!(s, "  bandwidths:    {}", fmt_ranges(&c.bandwidths, hz));
    let _ = writeln!(s, "  frequency:     {}", fmt_ranges(&c.frequency, hz));
    let native = match (&c.native_format, c.native_full_scale) {
        (Some(f), Some(fs)) => format!(" (native {f}, full scale {fs})"),
        (Some(f), None) => format!(" (native {f})"),
        _ => String::new(),
    };
    let _ = writeln!(
        s,
        "  formats:       {}{native}",
        c.stream_formats.join(", ")
    );
    if let Some(fd) = c.full_duplex {
        let _ = writeln!(s, "  full duplex:   {}", if fd { "yes" } else { "no" });
    }
}

/// One device described as text.
pub fn describe_text(d: &DeviceDescription) -> String {
    let mut s = format!("device {}\n", d.args);
    let _ = writeln!(s, "  driver:        {}", d.driver);
    let _ = writeln!(s, "  hardware:      {}", d.hardware);
    for (k, v) in &d.hardware_info {
        let _ = writeln!(s, "    {k}: {v}");
    }
    if let Some(t) = d.hardware_time {
        let _ = writeln!(s, "  hardware time: {}", if t { "yes" } else { "no" });
    }
    let _ = writeln!(s, "  channels:      {} RX, {} TX", d.rx.len(), d.tx.len());
    for c in &d.rx {
        channel_text(&mut s, "RX", c);
    }
    for c in &d.tx {
        channel_text(&mut s, "TX", c);
    }
    s
}
