//! A Linux TUN device (layer 3, no packet-information header) opened through `/dev/net/tun`
//! with the `TUNSETIFF` ioctl (libc, no extra crate), configured with iproute2 (`ip`), the one
//! tool that sets IPv4 and IPv6 addresses alike. The interface is not persistent: closing the
//! descriptor (dropping [`Tun`], also on Ctrl-C) removes it with its addresses and routes.

use std::fs::File;
use std::io::{Read, Write};
use std::os::fd::AsRawFd;
use std::path::Path;
use std::process::Command;
use std::time::Duration;

use crate::error::{Error, Result};

const TUNSETIFF: libc::c_ulong = 0x4004_54CA; // _IOW('T', 202, int)
const IFF_TUN: libc::c_short = 0x0001;
const IFF_NO_PI: libc::c_short = 0x1000;

#[repr(C)]
struct IfReq {
    name: [libc::c_char; libc::IFNAMSIZ],
    flags: libc::c_short,
    _pad: [u8; 22],
}

/// An open TUN interface.
#[derive(Debug)]
pub struct Tun {
    file: File,
    name: String,
}

impl Tun {
    /// Creates (or attaches to) the TUN interface `name` (at most 15 bytes).
    pub fn open(name: &str) -> Result<Tun> {
        if name.is_empty()
            || name.len() >= libc::IFNAMSIZ
            || !name
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b))
        {
            return Err(Error::config(
                "--tun",
                format!("`{name}`: an interface name is 1 to 15 letters, digits, `-`, `_` or `.`"),
            ));
        }
        let path = Path::new("/dev/net/tun");
        let file = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .open(path)
            .map_err(|e| {
                Error::io(
                    path,
                    std::io::Error::new(
                        e.kind(),
                        format!("{e} (TUN needs the tun module and CAP_NET_ADMIN: run as root)"),
                    ),
                )
            })?;
        let mut req = IfReq {
            name: [0; libc::IFNAMSIZ],
            flags: IFF_TUN | IFF_NO_PI,
            _pad: [0; 22],
        };
        for (d, s) in req.name.iter_mut().zip(name.bytes()) {
            *d = s as libc::c_char;
        }
        // SAFETY: TUNSETIFF reads and writes a `struct ifreq` (40 bytes) we own.
        let r = unsafe { libc::ioctl(file.as_raw_fd(), TUNSETIFF as _, &mut req) };
        if r < 0 {
            let e = std::io::Error::last_os_error();
            return Err(Error::config(
                "--tun",
                format!("cannot create TUN interface `{name}`: {e} (needs CAP_NET_ADMIN)"),
            ));
        }
        Ok(Tun {
            file,
            name: name.to_string(),
        })
    }

    /// The interface name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Sets the MTU, adds each address (`CIDR`, IPv4 or IPv6; `peer` as `ADDR` for a
    /// point-to-point peer) and brings the interface up, with `ip`.
    pub fn configure(&self, mtu: usize, addresses: &[String], peers: &[String]) -> Result<()> {
        ip(&["link", "set", "dev", &self.name, "mtu", &mtu.to_string()])?;
        for a in addresses {
            let v6 = a.contains(':');
            let mut args = vec![if v6 { "-6" } else { "-4" }, "addr", "add", a.as_str()];
            if let Some(p) = peers.iter().find(|p| p.contains(':') == v6) {
                args.extend(["peer", p.as_str()]);
            }
            args.extend(["dev", &self.name]);
            if v6 {
                // No duplicate-address detection on a point-to-point tunnel: usable at once.
                args.push("nodad");
            }
            ip(&args)?;
        }
        ip(&["link", "set", "dev", &self.name, "up"])
    }

    /// Waits up to `timeout` for a packet; returns its length (0: none yet).
    pub fn read_timeout(&mut self, buf: &mut [u8], timeout: Duration) -> Result<usize> {
        let mut pfd = libc::pollfd {
            fd: self.file.as_raw_fd(),
            events: libc::POLLIN,
            revents: 0,
        };
        let ms = timeout.as_millis().min(i32::MAX as u128) as i32;
        // SAFETY: one pollfd we own.
        let r = unsafe { libc::poll(&mut pfd, 1, ms) };
        if r < 0 {
            let e = std::io::Error::last_os_error();
            if e.kind() == std::io::ErrorKind::Interrupted {
                return Ok(0);
            }
            return Err(self.err(e));
        }
        if r == 0 {
            return Ok(0);
        }
        match self.file.read(buf) {
            Ok(n) => Ok(n),
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => Ok(0),
            Err(e) => Err(self.err(e)),
        }
    }

    /// Writes one IP packet into the interface.
    pub fn write_packet(&self, packet: &[u8]) -> Result<()> {
        (&self.file)
            .write(packet)
            .map(|_| ())
            .map_err(|e| self.err(e))
    }

    /// A second handle on the same interface (for a writer thread).
    pub fn try_clone(&self) -> Result<Tun> {
        Ok(Tun {
            file: self.file.try_clone().map_err(|e| self.err(e))?,
            name: self.name.clone(),
        })
    }

    fn err(&self, e: std::io::Error) -> Error {
        Error::io(format!("TUN {}", self.name), e)
    }
}

fn ip(args: &[&str]) -> Result<()> {
    let out = Command::new("ip").args(args).output().map_err(|e| {
        Error::config(
            "--address",
            format!("cannot run `ip` (iproute2) to configure the TUN interface: {e}"),
        )
    })?;
    if !out.status.success() {
        return Err(Error::config(
            "--address",
            format!(
                "`ip {}` failed: {}",
                args.join(" "),
                String::from_utf8_lossy(&out.stderr).trim()
            ),
        ));
    }
    Ok(())
}
