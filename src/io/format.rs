//! Sample encodings: how one complex sample is laid out in bytes and scaled to `Complex32`.
//!
//! Every complex format stores I then Q, little-endian where it matters. Integer formats
//! map to floating point by a fixed scale so that full scale is about ±1.0:
//!
//! | format   | bytes | decode                            | SigMF `core:datatype` |
//! |----------|-------|-----------------------------------|-----------------------|
//! | cf32     | 8     | as stored                         | `cf32_le`             |
//! | cs16     | 4     | `n / 32768`                       | `ci16_le`             |
//! | cu8      | 2     | `(n − 127.5) / 127.5`             | `cu8`                 |
//! | cs8      | 2     | `n / 128`                         | `ci8`                 |
//! | wav      | 4     | `n / 32768` (after header)        | (`ci16_le` payload)   |
//! | wav-mono | 2     | `n / 32768 + 0i` (after header)   | (`ri16_le` payload)   |
//!
//! The wav rows are what leomodem writes; reading takes any WAV the `io::wav` module reads
//! (8-bit unsigned to 32-bit integer PCM, 32/64-bit float, RF64), each scaled to full
//! scale ±1, and reports [`SampleFormat::Wav`] or [`SampleFormat::WavMono`] by its channels.
//!
//! wav-mono is the one real format: a 1-channel 16-bit PCM WAV, such as a receiver's
//! SSB/FM audio with the carrier at an audio frequency. It decodes to samples with a zero
//! imaginary part, and encoding keeps only the real part.
//!
//! cs8 uses `/128` rather than `/127`: a power-of-two scale like cs16, so −128 decodes to
//! exactly −1.0, every code is an exact binary fraction, and cs8 → cs16 is exact (`n·256`).
//! The price is that +1.0 is not representable (the largest value is 127/128).
//!
//! cu8 (RTL-SDR) has no code for zero: `(n − 127.5)/127.5` is symmetric, so 0.0 encodes
//! as 128 and decodes as 0.5/127.5.

use crate::error::{Error, Result};
use num_complex::Complex32;
use std::fmt;
use std::path::Path;
use std::str::FromStr;

/// How the samples of an IQ capture are encoded.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum SampleFormat {
    /// Complex `f32`, little-endian, I then Q (SigMF `cf32_le`; GNU Radio `.cfile`).
    Cf32,
    /// Complex `i16`, little-endian, I then Q, value `n / 32768` (SigMF `ci16_le`).
    Cs16,
    /// Complex `u8`, I then Q, value `(n − 127.5) / 127.5` (RTL-SDR; SigMF `cu8`).
    Cu8,
    /// Complex `i8`, I then Q, value `n / 128` (HackRF; SigMF `ci8`).
    Cs8,
    /// RIFF WAV, 2 channels: I left, Q right. Written as 16-bit PCM (value `n / 32768`);
    /// read in any encoding `io::wav` knows.
    Wav,
    /// RIFF WAV, 1 channel (or 2 identical ones): a real signal (audio), value `x + 0i`.
    /// Written as 16-bit PCM (value `n / 32768 + 0i`); read in any encoding `io::wav` knows.
    ///
    /// Writing keeps only the real part of each sample and drops the imaginary part, so
    /// the caller must give a real signal: for example `√2 · Re(x(t)·e^{j2πf_c t})`, a
    /// complex baseband `x` shifted up to an audio carrier `f_c` (the `√2` keeps the
    /// power of `x`). Never chosen from a file extension (`.wav` means [`Wav`]); reading
    /// any 1-channel WAV reports this format.
    ///
    /// [`Wav`]: SampleFormat::Wav
    WavMono,
}

impl SampleFormat {
    /// All formats, in the order they are listed in messages.
    pub const ALL: [SampleFormat; 6] = [
        SampleFormat::Cf32,
        SampleFormat::Cs16,
        SampleFormat::Cu8,
        SampleFormat::Cs8,
        SampleFormat::Wav,
        SampleFormat::WavMono,
    ];

    /// Bytes per sample as stored (one I and one Q; one real value for
    /// [`SampleFormat::WavMono`]), not counting any file header.
    pub fn bytes_per_sample(self) -> usize {
        match self {
            SampleFormat::Cf32 => 8,
            SampleFormat::Cs16 | SampleFormat::Wav => 4,
            SampleFormat::Cu8 | SampleFormat::Cs8 | SampleFormat::WavMono => 2,
        }
    }

    /// Whether the samples are stored in a RIFF WAV file ([`SampleFormat::Wav`] or
    /// [`SampleFormat::WavMono`]): a header carries the sample rate and no SigMF meta is
    /// written.
    pub fn is_wav(self) -> bool {
        matches!(self, SampleFormat::Wav | SampleFormat::WavMono)
    }

    /// Whether the format stores a real signal (only [`SampleFormat::WavMono`]): decoded
    /// samples have a zero imaginary part and encoding drops it.
    pub fn is_real(self) -> bool {
        self == SampleFormat::WavMono
    }

    /// The SigMF `core:datatype` of the sample payload. For [`SampleFormat::Wav`] this is
    /// `ci16_le` and for [`SampleFormat::WavMono`] `ri16_le`, the encoding of the samples
    /// after the RIFF header (a WAV file itself is not a conforming SigMF dataset).
    pub fn sigmf_datatype(self) -> &'static str {
        match self {
            SampleFormat::Cf32 => "cf32_le",
            SampleFormat::Cs16 | SampleFormat::Wav => "ci16_le",
            SampleFormat::Cu8 => "cu8",
            SampleFormat::Cs8 => "ci8",
            SampleFormat::WavMono => "ri16_le",
        }
    }

    /// The format a SigMF `core:datatype` names, if leomodem reads it (`cf32_le`, `ci16_le`,
    /// `cu8`, `ci8`). Never returns [`SampleFormat::Wav`] or [`SampleFormat::WavMono`].
    pub fn from_sigmf_datatype(datatype: &str) -> Option<SampleFormat> {
        match datatype {
            "cf32_le" => Some(SampleFormat::Cf32),
            "ci16_le" => Some(SampleFormat::Cs16),
            "cu8" | "cu8_le" => Some(SampleFormat::Cu8),
            "ci8" | "ci8_le" => Some(SampleFormat::Cs8),
            _ => None,
        }
    }

    /// The format a file extension implies: `.cf32` (also `.cfile`), `.cs16`, `.cu8`,
    /// `.cs8`, `.wav` (always [`SampleFormat::Wav`]; [`SampleFormat::WavMono`] is only
    /// chosen explicitly), case-insensitive. `None` for `.raw`, `.iq` and anything else.
    pub fn from_extension(path: &Path) -> Option<SampleFormat> {
        let ext = path.extension()?.to_str()?.to_ascii_lowercase();
        match ext.as_str() {
            "cf32" | "cfile" => Some(SampleFormat::Cf32),
            "cs16" => Some(SampleFormat::Cs16),
            "cu8" => Some(SampleFormat::Cu8),
            "cs8" => Some(SampleFormat::Cs8),
            "wav" => Some(SampleFormat::Wav),
            _ => None,
        }
    }

    /// The size of one quantisation step in decoded units (0 for cf32): `1/32768` for
    /// cs16, wav and wav-mono, `1/127.5` for cu8, `1/128` for cs8. Rounding on encode errs
    /// by at most half a step for values inside the representable range.
    pub fn step(self) -> f32 {
        match self {
            SampleFormat::Cf32 => 0.0,
            SampleFormat::Cs16 | SampleFormat::Wav | SampleFormat::WavMono => 1.0 / 32768.0,
            SampleFormat::Cu8 => 1.0 / 127.5,
            SampleFormat::Cs8 => 1.0 / 128.0,
        }
    }

    /// Decodes whole samples from `bytes` (the sample payload, no header) and appends
    /// them to `out`; a trailing partial sample is ignored. Non-finite cf32 samples (NaN
    /// or ±Inf in I or Q) are replaced by 0 + 0i; returns how many were replaced (always 0
    /// for the integer formats). [`SampleFormat::WavMono`] gives `n / 32768 + 0i`.
    pub fn decode(self, bytes: &[u8], out: &mut Vec<Complex32>) -> u64 {
        match self {
            SampleFormat::Cf32 => {
                // Branch-free (a select and a count), so that the loop vectorises.
                let start = out.len();
                out.resize(start + bytes.len() / 8, Complex32::new(0.0, 0.0));
                let mut bad = 0u64;
                for (d, b) in out[start..].iter_mut().zip(bytes.chunks_exact(8)) {
                    let i = f32::from_le_bytes([b[0], b[1], b[2], b[3]]);
                    let q = f32::from_le_bytes([b[4], b[5], b[6], b[7]]);
                    let ok = i.is_finite() & q.is_finite();
                    bad += u64::from(!ok);
                    *d = if ok {
                        Complex32::new(i, q)
                    } else {
                        Complex32::new(0.0, 0.0)
                    };
                }
                bad
            }
            SampleFormat::Cs16 | SampleFormat::Wav => {
                const K: f32 = 1.0 / 32768.0;
                out.extend(bytes.chunks_exact(4).map(|b| {
                    Complex32::new(
                        i16::from_le_bytes([b[0], b[1]]) as f32 * K,
                        i16::from_le_bytes([b[2], b[3]]) as f32 * K,
                    )
                }));
                0
            }
            SampleFormat::WavMono => {
                const K: f32 = 1.0 / 32768.0;
                out.extend(
                    bytes
                        .chunks_exact(2)
                        .map(|b| Complex32::new(i16::from_le_bytes([b[0], b[1]]) as f32 * K, 0.0)),
                );
                0
            }
            SampleFormat::Cu8 => {
                const K: f32 = 1.0 / 127.5;
                out.extend(
                    bytes.chunks_exact(2).map(|b| {
                        Complex32::new((b[0] as f32 - 127.5) * K, (b[1] as f32 - 127.5) * K)
                    }),
                );
                0
            }
            SampleFormat::Cs8 => {
                const K: f32 = 1.0 / 128.0;
                out.extend(
                    bytes
                        .chunks_exact(2)
                        .map(|b| Complex32::new(b[0] as i8 as f32 * K, b[1] as i8 as f32 * K)),
                );
                0
            }
        }
    }

    /// Encodes `samples` and appends the bytes to `out` (no header). Integer formats round
    /// to the nearest code and saturate; returns how many samples had I or Q outside the
    /// representable range or not finite (a NaN component encodes as the code nearest 0).
    /// cf32 stores values unchanged, NaN included, and never reports clipping.
    /// [`SampleFormat::WavMono`] encodes only the real part: the imaginary part is
    /// dropped, neither stored nor checked, and only the real part counts as clipped.
    pub fn encode(self, samples: &[Complex32], out: &mut Vec<u8>) -> u64 {
        out.reserve(samples.len() * self.bytes_per_sample());
        let mut clipped = 0u64;
        match self {
            SampleFormat::Cf32 => {
                for s in samples {
                    out.extend_from_slice(&s.re.to_le_bytes());
                    out.extend_from_slice(&s.im.to_le_bytes());
                }
            }
            SampleFormat::Cs16 | SampleFormat::Wav => {
                for s in samples {
                    let (i, ci) = quantise(s.re * 32768.0, -32768.0, 32767.0, 0.0);
                    let (q, cq) = quantise(s.im * 32768.0, -32768.0, 32767.0, 0.0);
                    clipped += u64::from(ci || cq);
                    out.extend_from_slice(&(i as i16).to_le_bytes());
                    out.extend_from_slice(&(q as i16).to_le_bytes());
                }
            }
            SampleFormat::WavMono => {
                for s in samples {
                    let (v, c) = quantise(s.re * 32768.0, -32768.0, 32767.0, 0.0);
                    clipped += u64::from(c);
                    out.extend_from_slice(&(v as i16).to_le_bytes());
                }
            }
            SampleFormat::Cu8 => {
                for s in samples {
                    let (i, ci) = quantise(s.re * 127.5 + 127.5, 0.0, 255.0, 128.0);
                    let (q, cq) = quantise(s.im * 127.5 + 127.5, 0.0, 255.0, 128.0);
                    clipped += u64::from(ci || cq);
                    out.push(i as u8);
                    out.push(q as u8);
                }
            }
            SampleFormat::Cs8 => {
                for s in samples {
                    let (i, ci) = quantise(s.re * 128.0, -128.0, 127.0, 0.0);
                    let (q, cq) = quantise(s.im * 128.0, -128.0, 127.0, 0.0);
                    clipped += u64::from(ci || cq);
                    out.push(i as i8 as u8);
                    out.push(q as i8 as u8);
                }
            }
        }
        clipped
    }

    /// The list shown in messages: `cf32|cs16|cu8|cs8|wav|wav-mono`.
    pub fn choices() -> &'static str {
        "cf32|cs16|cu8|cs8|wav|wav-mono"
    }
}

/// Rounds `y` to an integer code in `[lo, hi]`; `true` when it had to saturate (or was NaN).
#[inline]
fn quantise(y: f32, lo: f32, hi: f32, nan_code: f32) -> (f32, bool) {
    let r = y.round();
    if r >= lo && r <= hi {
        (r, false)
    } else if r > hi {
        (hi, true)
    } else if r < lo {
        (lo, true)
    } else {
        (nan_code, true)
    }
}

impl fmt::Display for SampleFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            SampleFormat::Cf32 => "cf32",
            SampleFormat::Cs16 => "cs16",
            SampleFormat::Cu8 => "cu8",
            SampleFormat::Cs8 => "cs8",
            SampleFormat::Wav => "wav",
            SampleFormat::WavMono => "wav-mono",
        })
    }
}

impl FromStr for SampleFormat {
    type Err = Error;

    /// Accepts `cf32`, `cf32_le`, `cs16`, `cs16_le`, `ci16`, `ci16_le`, `cu8`, `cs8`, `ci8`,
    /// `wav`, `wav-mono`, `wav_mono`, `mono` (case-insensitive).
    fn from_str(s: &str) -> Result<Self> {
        match s.trim().to_ascii_lowercase().as_str() {
            "cf32" | "cf32_le" => Ok(SampleFormat::Cf32),
            "cs16" | "cs16_le" | "ci16" | "ci16_le" => Ok(SampleFormat::Cs16),
            "cu8" => Ok(SampleFormat::Cu8),
            "cs8" | "ci8" => Ok(SampleFormat::Cs8),
            "wav" => Ok(SampleFormat::Wav),
            "wav-mono" | "wav_mono" | "mono" => Ok(SampleFormat::WavMono),
            _ => Err(Error::config(
                "--format",
                format!(
                    "unknown sample format `{s}`; expected one of {}",
                    SampleFormat::choices()
                ),
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_parse_and_display() {
        for f in SampleFormat::ALL {
            assert_eq!(f.to_string().parse::<SampleFormat>().unwrap(), f);
        }
        for (s, f) in [
            ("cf32_le", SampleFormat::Cf32),
            ("CI16_LE", SampleFormat::Cs16),
            ("cs16_le", SampleFormat::Cs16),
            ("ci8", SampleFormat::Cs8),
            ("wav-mono", SampleFormat::WavMono),
            ("WAV_MONO", SampleFormat::WavMono),
            ("mono", SampleFormat::WavMono),
        ] {
            assert_eq!(s.parse::<SampleFormat>().unwrap(), f);
        }
        let e = "cf64".parse::<SampleFormat>().unwrap_err().to_string();
        assert!(e.contains("--format") && e.contains("cf64"), "{e}");
        for f in SampleFormat::ALL {
            assert!(
                SampleFormat::choices()
                    .split('|')
                    .any(|c| c == f.to_string()),
                "{f} missing from choices()"
            );
        }
        assert_eq!(
            SampleFormat::choices().split('|').count(),
            SampleFormat::ALL.len()
        );
    }

    #[test]
    fn wav_mono_is_real_16_bit() {
        let f = SampleFormat::WavMono;
        assert_eq!(f.bytes_per_sample(), 2);
        assert_eq!(f.sigmf_datatype(), "ri16_le");
        assert!(f.is_wav() && f.is_real());
        assert!(SampleFormat::Wav.is_wav() && !SampleFormat::Wav.is_real());
        assert_eq!(
            SampleFormat::from_extension(Path::new("x.wav")),
            Some(SampleFormat::Wav)
        );
        let mut out = Vec::new();
        f.decode(&[0x00, 0x80, 0xff, 0x7f, 0x01], &mut out); // trailing byte ignored
        assert_eq!(
            out,
            vec![
                Complex32::new(-1.0, 0.0),
                Complex32::new(32767.0 / 32768.0, 0.0)
            ]
        );
        let mut b = Vec::new();
        let s = [
            Complex32::new(0.5, 7.0),       // imaginary dropped, not counted
            Complex32::new(-2.0, 0.0),      // clipped
            Complex32::new(f32::NAN, 0.0),  // counted, encodes 0
            Complex32::new(0.25, f32::NAN), // imaginary NaN ignored
        ];
        assert_eq!(f.encode(&s, &mut b), 2);
        assert_eq!(b.len(), 8);
        out.clear();
        f.decode(&b, &mut out);
        assert_eq!(
            out,
            vec![
                Complex32::new(0.5, 0.0),
                Complex32::new(-1.0, 0.0),
                Complex32::new(0.0, 0.0),
                Complex32::new(0.25, 0.0)
            ]
        );
    }

    #[test]
    fn integer_codes_decode_to_documented_values() {
        let mut out = Vec::new();
        SampleFormat::Cu8.decode(&[0, 255, 127, 128], &mut out);
        assert_eq!(out[0], Complex32::new(-1.0, 1.0));
        assert_eq!(out[1].re, -0.5 / 127.5);
        assert_eq!(out[1].im, 0.5 / 127.5);
        out.clear();
        SampleFormat::Cs8.decode(&[0x80, 0x7f], &mut out);
        assert_eq!(out[0], Complex32::new(-1.0, 127.0 / 128.0));
        out.clear();
        SampleFormat::Cs16.decode(&[0x00, 0x80, 0xff, 0x7f], &mut out);
        assert_eq!(out[0], Complex32::new(-1.0, 32767.0 / 32768.0));
    }

    #[test]
    fn every_integer_code_round_trips_exactly() {
        for f in [SampleFormat::Cu8, SampleFormat::Cs8] {
            let bytes: Vec<u8> = (0..=255u8).flat_map(|b| [b, 255 - b]).collect();
            let mut s = Vec::new();
            f.decode(&bytes, &mut s);
            let mut back = Vec::new();
            assert_eq!(f.encode(&s, &mut back), 0);
            assert_eq!(back, bytes, "{f}");
        }
        let bytes: Vec<u8> = (i16::MIN..=i16::MAX)
            .step_by(7)
            .flat_map(|n| {
                let [a, b] = n.to_le_bytes();
                let [c, d] = (!n).to_le_bytes();
                [a, b, c, d]
            })
            .collect();
        let mut s = Vec::new();
        SampleFormat::Cs16.decode(&bytes, &mut s);
        let mut back = Vec::new();
        assert_eq!(SampleFormat::Cs16.encode(&s, &mut back), 0);
        assert_eq!(back, bytes);
    }

    #[test]
    fn clipping_and_nan_are_counted_and_saturate() {
        let s = [
            Complex32::new(2.0, 0.0),
            Complex32::new(0.0, -2.0),
            Complex32::new(f32::NAN, 0.0),
            Complex32::new(0.5, 0.5),
        ];
        for f in [SampleFormat::Cs16, SampleFormat::Cu8, SampleFormat::Cs8] {
            let mut b = Vec::new();
            assert_eq!(f.encode(&s, &mut b), 3, "{f}");
            let mut d = Vec::new();
            f.decode(&b, &mut d);
            assert!(d[0].re > 0.99 && d[1].im <= -0.99, "{f}: {d:?}");
            assert!(d[2].re.abs() <= f.step(), "{f}: NaN → {}", d[2].re);
        }
        let mut b = Vec::new();
        assert_eq!(SampleFormat::Cf32.encode(&s, &mut b), 0);
    }

    #[test]
    fn nonfinite_cf32_becomes_zero_and_is_counted() {
        let s = [
            Complex32::new(1.0, 2.0),
            Complex32::new(f32::NAN, 0.0),
            Complex32::new(0.0, f32::INFINITY),
        ];
        let mut b = Vec::new();
        SampleFormat::Cf32.encode(&s, &mut b);
        b.extend_from_slice(&[1, 2, 3]); // partial sample: ignored
        let mut d = Vec::new();
        assert_eq!(SampleFormat::Cf32.decode(&b, &mut d), 2);
        assert_eq!(
            d,
            vec![s[0], Complex32::new(0.0, 0.0), Complex32::new(0.0, 0.0)]
        );
    }

    #[test]
    fn extensions() {
        assert_eq!(
            SampleFormat::from_extension(Path::new("a/b.CU8")),
            Some(SampleFormat::Cu8)
        );
        assert_eq!(SampleFormat::from_extension(Path::new("b.raw")), None);
        assert_eq!(SampleFormat::from_extension(Path::new("b")), None);
    }
}
