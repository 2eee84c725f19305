//! RIFF WAV headers: 2 channels of 16-bit PCM for IQ (I left, Q right), or 1 channel of
//! 16-bit PCM for a real signal (a receiver's audio). `WAVE_FORMAT_EXTENSIBLE` headers
//! whose sub-format is PCM are read like plain PCM.
//!
//! Reading walks the chunks (`fmt `, then `data`; others such as `LIST` are skipped)
//! without loading the file. A `data` size of `0xFFFFFFFF` or one running past the end of
//! the file (a recording whose header was never patched) means "to the end of the file".
//! Writing puts a 44-byte canonical header with those placeholder sizes and patches them
//! when the writer finishes.

use super::reader::read_up_to;
use crate::error::{Error, Result};
use std::io::{Read, Seek, SeekFrom};
use std::path::Path;

/// What a WAV header says about the samples.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct WavInfo {
    /// Frames per second from the `fmt ` chunk.
    pub sample_rate: u32,
    /// Byte offset of the first sample.
    pub data_offset: u64,
    /// Number of whole frames (one sample per channel each).
    pub num_samples: u64,
    /// 2 for IQ, 1 for a real (audio) signal.
    pub channels: u16,
}

fn u16_at(b: &[u8], i: usize) -> u16 {
    u16::from_le_bytes([b[i], b[i + 1]])
}

fn u32_at(b: &[u8], i: usize) -> u32 {
    u32::from_le_bytes([b[i], b[i + 1], b[i + 2], b[i + 3]])
}

fn format_tag_name(tag: u16) -> &'static str {
    match tag {
        1 => "PCM",
        3 => "IEEE float",
        6 => "A-law",
        7 => "µ-law",
        0x11 => "IMA ADPCM",
        0x55 => "MP3",
        _ => "unknown",
    }
}

/// Parses the header of the WAV file `r` (`file_len` bytes long; `path` for messages)
/// and leaves the stream positioned anywhere.
pub(crate) fn read_header<R: Read + Seek>(
    r: &mut R,
    file_len: u64,
    path: &Path,
) -> Result<WavInfo> {
    let bad = |reason: String| Error::format(path, reason);
    let io = |e| Error::io(path, e);
    if file_len == 0 {
        return Err(bad("file is empty (expected a WAV file)".into()));
    }
    r.seek(SeekFrom::Start(0)).map_err(io)?;
    let mut riff = [0u8; 12];
    let n = read_up_to(r, &mut riff).map_err(io)?;
    if n < 12 {
        return Err(bad(format!(
            "broken WAV header: {file_len} bytes is too short for a RIFF header"
        )));
    }
    match &riff[0..4] {
        b"RIFF" => {}
        b"RF64" => return Err(bad("RF64 (64-bit) WAV is not supported; use SigMF".into())),
        b"RIFX" => return Err(bad("big-endian RIFX WAV is not supported".into())),
        _ => {
            return Err(bad(
                "broken WAV header: not a RIFF file (no `RIFF` tag)".into()
            ))
        }
    }
    if &riff[8..12] != b"WAVE" {
        return Err(bad(
            "broken WAV header: RIFF file is not of type WAVE".into()
        ));
    }
    let mut pos = 12u64;
    // (format tag, channels, sample rate, block align, bits per sample)
    let mut fmt: Option<(u16, u16, u32, u16, u16)> = None;
    loop {
        let mut ch = [0u8; 8];
        let n = read_up_to(r, &mut ch).map_err(io)?;
        if n < 8 {
            return Err(bad(if fmt.is_none() {
                "broken WAV header: no `fmt ` chunk".into()
            } else {
                "broken WAV header: no `data` chunk".into()
            }));
        }
        let id = [ch[0], ch[1], ch[2], ch[3]];
        let size = u32_at(&ch, 4) as u64;
        pos += 8;
        match &id {
            b"fmt " => {
                if size < 16 {
                    return Err(bad(format!(
                        "broken WAV header: `fmt ` chunk of {size} bytes (at least 16 needed)"
                    )));
                }
                let mut f = [0u8; 40];
                let want = size.min(40) as usize;
                if read_up_to(r, &mut f[..want]).map_err(io)? < want {
                    return Err(bad(
                        "broken WAV header: file ends inside `fmt ` chunk".into()
                    ));
                }
                let mut tag = u16_at(&f, 0);
                if tag == 0xFFFE && want >= 26 {
                    // WAVE_FORMAT_EXTENSIBLE: the real tag starts the sub-format GUID.
                    tag = u16_at(&f, 24);
                }
                fmt = Some((
                    tag,
                    u16_at(&f, 2),
                    u32_at(&f, 4),
                    u16_at(&f, 12),
                    u16_at(&f, 14),
                ));
                pos += want as u64;
                let skip = size - want as u64 + (size & 1);
                pos += skip;
                r.seek(SeekFrom::Start(pos)).map_err(io)?;
            }
            b"data" => {
                let Some((tag, channels, rate, align, bits)) = fmt else {
                    return Err(bad(
                        "broken WAV header: `data` chunk comes before the `fmt ` chunk".into(),
                    ));
                };
                const READS: &str = "leomodem reads 16-bit PCM WAV with 2 channels \
                                     (IQ: I left, Q right) or 1 (real audio)";
                if tag != 1 {
                    return Err(bad(format!(
                        "WAV sample format is {} (format tag {tag}), not PCM 16-bit; {READS}",
                        format_tag_name(tag)
                    )));
                }
                if bits != 16 {
                    return Err(bad(format!(
                        "WAV has {bits}-bit samples, not PCM 16-bit; {READS}"
                    )));
                }
                if channels != 1 && channels != 2 {
                    return Err(bad(format!("WAV has {channels} channels; {READS}")));
                }
                let frame = u64::from(channels) * 2;
                if u64::from(align) != frame {
                    return Err(bad(format!(
                        "broken WAV header: block align {align}, expected {frame} for \
                         {channels} × 16-bit"
                    )));
                }
                let what = if channels == 2 { "IQ" } else { "audio" };
                let available = file_len.saturating_sub(pos);
                let bytes = if size == 0xFFFF_FFFF || size > available {
                    // Unpatched or truncated: take the whole frames present.
                    available - available % frame
                } else {
                    if !size.is_multiple_of(frame) {
                        return Err(bad(format!(
                            "WAV data chunk of {size} bytes is not a whole number of \
                             {what} frames ({frame} bytes each)"
                        )));
                    }
                    size
                };
                if bytes == 0 {
                    return Err(bad("WAV holds no samples (empty data chunk)".into()));
                }
                return Ok(WavInfo {
                    sample_rate: rate,
                    data_offset: pos,
                    num_samples: bytes / frame,
                    channels,
                });
            }
            _ => {
                pos += size + (size & 1);
                if pos > file_len {
                    return Err(bad(format!(
                        "broken WAV header: chunk `{}` runs past the end of the file \
                         before any `data` chunk",
                        String::from_utf8_lossy(&id)
                    )));
                }
                r.seek(SeekFrom::Start(pos)).map_err(io)?;
            }
        }
    }
}

/// A canonical 44-byte header for `channels` (1 or 2) of 16-bit PCM at `sample_rate` with
/// `data_len` bytes of samples (`None`: not yet known, written as `0xFFFFFFFF`).
pub(crate) fn header(sample_rate: u32, channels: u16, data_len: Option<u32>) -> [u8; 44] {
    let align = channels * 2;
    let mut h = [0u8; 44];
    let (riff_len, data_len) = match data_len {
        Some(n) => (n.saturating_add(36), n),
        None => (u32::MAX, u32::MAX),
    };
    h[0..4].copy_from_slice(b"RIFF");
    h[4..8].copy_from_slice(&riff_len.to_le_bytes());
    h[8..12].copy_from_slice(b"WAVE");
    h[12..16].copy_from_slice(b"fmt ");
    h[16..20].copy_from_slice(&16u32.to_le_bytes());
    h[20..22].copy_from_slice(&1u16.to_le_bytes()); // PCM
    h[22..24].copy_from_slice(&channels.to_le_bytes());
    h[24..28].copy_from_slice(&sample_rate.to_le_bytes());
    let byte_rate = sample_rate.saturating_mul(u32::from(align));
    h[28..32].copy_from_slice(&byte_rate.to_le_bytes());
    h[32..34].copy_from_slice(&align.to_le_bytes()); // block align
    h[34..36].copy_from_slice(&16u16.to_le_bytes()); // bits per sample
    h[36..40].copy_from_slice(b"data");
    h[40..44].copy_from_slice(&data_len.to_le_bytes());
    h
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Cursor;

    fn parse(bytes: &[u8]) -> Result<WavInfo> {
        read_header(
            &mut Cursor::new(bytes),
            bytes.len() as u64,
            Path::new("t.wav"),
        )
    }

    #[test]
    fn canonical_header_parses() {
        let mut f = header(48_000, 2, Some(8)).to_vec();
        f.extend_from_slice(&[0; 8]);
        let w = parse(&f).unwrap();
        assert_eq!(
            w,
            WavInfo {
                sample_rate: 48_000,
                data_offset: 44,
                num_samples: 2,
                channels: 2
            }
        );
    }

    #[test]
    fn unpatched_header_reads_to_end_and_skips_other_chunks() {
        let h = header(8_000, 2, None);
        let mut f = h[..36].to_vec();
        f.extend_from_slice(b"LIST\x03\0\0\0abc\0"); // odd size: one pad byte
        f.extend_from_slice(&h[36..]);
        f.extend_from_slice(&[1; 13]); // 3 whole frames + 1 stray byte
        let w = parse(&f).unwrap();
        assert_eq!(w.data_offset, 36 + 12 + 8);
        assert_eq!(w.num_samples, 3);
    }

    #[test]
    fn extensible_pcm_is_accepted() {
        let mut f = b"RIFF\0\0\0\0WAVEfmt \x28\0\0\0".to_vec();
        let mut fmt = [0u8; 40];
        fmt[0..2].copy_from_slice(&0xFFFEu16.to_le_bytes());
        fmt[2..4].copy_from_slice(&2u16.to_le_bytes());
        fmt[4..8].copy_from_slice(&1000u32.to_le_bytes());
        fmt[12..14].copy_from_slice(&4u16.to_le_bytes());
        fmt[14..16].copy_from_slice(&16u16.to_le_bytes());
        fmt[24..26].copy_from_slice(&1u16.to_le_bytes());
        f.extend_from_slice(&fmt);
        f.extend_from_slice(b"data\x04\0\0\0\0\0\0\0");
        assert_eq!(parse(&f).unwrap().num_samples, 1);
    }

    #[test]
    fn mono_headers_parse() {
        let mut f = header(11_025, 1, Some(6)).to_vec();
        f.extend_from_slice(&[0; 6]);
        assert_eq!(
            parse(&f).unwrap(),
            WavInfo {
                sample_rate: 11_025,
                data_offset: 44,
                num_samples: 3,
                channels: 1
            }
        );
        assert_eq!(u16_at(&f, 32), 2); // block align
        assert_eq!(u32_at(&f, 28), 22_050); // byte rate
                                            // Unpatched: whole 2-byte frames to the end of the file.
        let mut f = header(8_000, 1, None).to_vec();
        f.extend_from_slice(&[0; 5]);
        assert_eq!(parse(&f).unwrap().num_samples, 2);
        // Odd data size.
        let mut f = header(8_000, 1, Some(3)).to_vec();
        f.extend_from_slice(&[0; 3]);
        let e = parse(&f).unwrap_err().to_string();
        assert!(
            e.contains("not a whole number of audio frames (2 bytes each)"),
            "{e}"
        );
        // WAVE_FORMAT_EXTENSIBLE with 1 channel.
        let mut f = b"RIFF\0\0\0\0WAVEfmt \x28\0\0\0".to_vec();
        let mut fmt = [0u8; 40];
        fmt[0..2].copy_from_slice(&0xFFFEu16.to_le_bytes());
        fmt[2..4].copy_from_slice(&1u16.to_le_bytes());
        fmt[4..8].copy_from_slice(&44_100u32.to_le_bytes());
        fmt[12..14].copy_from_slice(&2u16.to_le_bytes());
        fmt[14..16].copy_from_slice(&16u16.to_le_bytes());
        fmt[24..26].copy_from_slice(&1u16.to_le_bytes());
        f.extend_from_slice(&fmt);
        f.extend_from_slice(b"data\x04\0\0\0\0\0\0\0");
        let w = parse(&f).unwrap();
        assert_eq!((w.channels, w.num_samples, w.sample_rate), (1, 2, 44_100));
    }

    #[test]
    fn broken_headers_are_named() {
        let good = {
            let mut f = header(1000, 2, Some(4)).to_vec();
            f.extend_from_slice(&[0; 4]);
            f
        };
        let cases: Vec<(Vec<u8>, &str)> = vec![
            (b"RIFF".to_vec(), "too short"),
            (b"JUNKJUNKJUNKJUNK".to_vec(), "not a RIFF file"),
            (b"RIFF\0\0\0\0AVI ".to_vec(), "not of type WAVE"),
            (good[..40].to_vec(), "no `data` chunk"),
            (
                {
                    let mut f = good.clone();
                    f[20] = 3;
                    f
                },
                "IEEE float",
            ),
            (
                {
                    let mut f = good.clone();
                    f[22] = 1; // mono, but block align still 4
                    f
                },
                "block align 4, expected 2",
            ),
            (
                {
                    let mut f = good.clone();
                    f[22] = 3;
                    f
                },
                "3 channels",
            ),
            (
                {
                    let mut f = good.clone();
                    f[34] = 24;
                    f
                },
                "24-bit",
            ),
            (
                {
                    let mut f = good.clone();
                    f[40] = 3;
                    f
                },
                "not a whole number",
            ),
            (good[..44].to_vec(), "no samples"),
        ];
        for (bytes, want) in cases {
            let e = parse(&bytes).unwrap_err().to_string();
            assert!(e.contains("t.wav") && e.contains(want), "{want}: {e}");
        }
    }
}
