//! Issue 15, WAV: every kind of WAV that SDR programs write, read back through the reader
//! `rx` uses (`CaptureReader`), sample for sample; chunk sizes never change what is read;
//! RF64/BW64, the `auxi` chunk, stereo with L = R; and a clear error (never a panic) for
//! every malformed or truncated file.
//!
//! Files are written with hound where hound writes that kind (8/16-bit plain PCM, 24/32-bit
//! PCM and 32-bit float as WAVE_FORMAT_EXTENSIBLE) and with hand-written headers for the rest
//! (plain 24/32-bit PCM and 32/64-bit float as SDR++ and others write them, 24-bit
//! left-justified in 4-byte containers, RF64/BW64 with `ds64`, `auxi`).

use leomodem::io::{CaptureReader, OpenOptions, SampleFormat, WavContainer};
use num_complex::Complex32;
use rand::{Rng, SeedableRng};
use rand_xoshiro::Xoshiro256PlusPlus;
use std::path::Path;

/// How samples are stored.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Enc {
    U8,
    I16,
    I24,
    /// 24 valid bits, left-justified in 4 bytes (extensible only).
    I24in4,
    I32,
    F32,
    F64,
}

impl Enc {
    /// Bytes per stored sample.
    fn bytes(self) -> u16 {
        match self {
            Enc::U8 => 1,
            Enc::I16 => 2,
            Enc::I24 => 3,
            Enc::I24in4 | Enc::I32 | Enc::F32 => 4,
            Enc::F64 => 8,
        }
    }
    /// Valid bits per sample.
    fn bits(self) -> u16 {
        match self {
            Enc::I24in4 => 24,
            e => e.bytes() * 8,
        }
    }
    fn tag(self) -> u16 {
        if matches!(self, Enc::F32 | Enc::F64) {
            3
        } else {
            1
        }
    }
    /// What `WavDetails::encoding` says.
    fn described(self) -> &'static str {
        match self {
            Enc::U8 => "8-bit unsigned PCM",
            Enc::I16 => "16-bit PCM",
            Enc::I24 => "24-bit PCM",
            Enc::I24in4 => "24-bit PCM in 4-byte containers",
            Enc::I32 => "32-bit PCM",
            Enc::F32 => "32-bit float",
            Enc::F64 => "64-bit float",
        }
    }
}

/// `n` frames of `channels` random values in `enc`: the bytes as stored, the values hound
/// writes (integers, or f32 bit patterns), and what they decode to (full scale ±1; mono has
/// a zero imaginary part). Full-scale extremes are included.
struct Data {
    bytes: Vec<u8>,
    ints: Vec<i32>,
    floats: Vec<f32>,
    want: Vec<Complex32>,
}

fn data(enc: Enc, channels: u16, n: usize, seed: u64) -> Data {
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(seed);
    let total = n * channels as usize;
    let (mut bytes, mut ints, mut floats, mut vals) = (vec![], vec![], vec![], vec![]);
    for k in 0..total {
        match enc {
            Enc::F32 => {
                // Float files are not limited to ±1.
                let v: f32 = rng.random_range(-1.5..1.5);
                bytes.extend_from_slice(&v.to_le_bytes());
                floats.push(v);
                vals.push(v);
            }
            Enc::F64 => {
                let v: f64 = rng.random_range(-1.5..1.5);
                bytes.extend_from_slice(&v.to_le_bytes());
                vals.push(v as f32);
            }
            _ => {
                let b = u32::from(enc.bits());
                let (lo, hi) = (-(1i64 << (b - 1)), (1i64 << (b - 1)) - 1);
                let v = match k {
                    0 => lo,
                    1 => hi,
                    2 => 0,
                    _ => rng.random_range(lo..=hi),
                };
                ints.push(v as i32);
                vals.push((v as f64 / (1i64 << (b - 1)) as f64) as f32);
                match enc {
                    Enc::U8 => bytes.push((v + 128) as u8),
                    Enc::I16 => bytes.extend_from_slice(&(v as i16).to_le_bytes()),
                    Enc::I24 => bytes.extend_from_slice(&(v as i32).to_le_bytes()[..3]),
                    Enc::I24in4 => bytes.extend_from_slice(&((v as i32) << 8).to_le_bytes()),
                    _ => bytes.extend_from_slice(&(v as i32).to_le_bytes()),
                }
            }
        }
    }
    let want = vals
        .chunks_exact(channels as usize)
        .map(|f| Complex32::new(f[0], if channels == 2 { f[1] } else { 0.0 }))
        .collect();
    Data {
        bytes,
        ints,
        floats,
        want,
    }
}

/// A `fmt ` chunk body: plain (16 bytes) or WAVE_FORMAT_EXTENSIBLE (40 bytes, the sample
/// type in its sub-format GUID).
fn fmt(enc: Enc, ext: bool, channels: u16, rate: u32) -> Vec<u8> {
    let align = channels * enc.bytes();
    let mut f = Vec::new();
    f.extend_from_slice(&(if ext { 0xFFFE } else { enc.tag() }).to_le_bytes());
    f.extend_from_slice(&channels.to_le_bytes());
    f.extend_from_slice(&rate.to_le_bytes());
    f.extend_from_slice(&(rate * u32::from(align)).to_le_bytes());
    f.extend_from_slice(&align.to_le_bytes());
    f.extend_from_slice(&(enc.bytes() * 8).to_le_bytes());
    if ext {
        f.extend_from_slice(&22u16.to_le_bytes());
        f.extend_from_slice(&enc.bits().to_le_bytes());
        f.extend_from_slice(&(if channels == 2 { 3u32 } else { 4 }).to_le_bytes());
        f.extend_from_slice(&guid(enc.tag()));
    }
    f
}

/// KSDATAFORMAT_SUBTYPE_* for a format tag: the tag, then 0000-0010-8000-00AA00389B71.
fn guid(tag: u16) -> [u8; 16] {
    let mut g = [
        0, 0, 0x00, 0x00, 0x00, 0x00, 0x10, 0x00, 0x80, 0x00, 0x00, 0xAA, 0x00, 0x38, 0x9B, 0x71,
    ];
    g[..2].copy_from_slice(&tag.to_le_bytes());
    g
}

fn chunk(id: &[u8; 4], body: &[u8]) -> Vec<u8> {
    let mut c = id.to_vec();
    c.extend_from_slice(&(body.len() as u32).to_le_bytes());
    c.extend_from_slice(body);
    if body.len() % 2 == 1 {
        c.push(0);
    }
    c
}

fn riff(chunks: &[Vec<u8>]) -> Vec<u8> {
    let body = chunks.concat();
    let mut f = b"RIFF".to_vec();
    f.extend_from_slice(&(4 + body.len() as u32).to_le_bytes());
    f.extend_from_slice(b"WAVE");
    f.extend_from_slice(&body);
    f
}

/// An RF64 (or BW64) file: `ds64` first (EBU Tech 3306 §3), the 32-bit RIFF and data sizes
/// set to 0xFFFFFFFF, `chunks` (fmt and others), then `data` holding `data` and then `tail`
/// (a chunk after the data, which the `ds64` data size must exclude).
fn rf64(kind: &[u8; 4], chunks: &[Vec<u8>], data: &[u8], tail: &[u8]) -> Vec<u8> {
    let rest = chunks.concat();
    let riff_size = (4 + 36 + rest.len() + 8 + data.len() + tail.len()) as u64;
    let mut ds = Vec::new();
    ds.extend_from_slice(&riff_size.to_le_bytes());
    ds.extend_from_slice(&(data.len() as u64).to_le_bytes());
    ds.extend_from_slice(&0u64.to_le_bytes()); // sample count (not used by WAVE)
    ds.extend_from_slice(&0u32.to_le_bytes()); // table length
    let mut f = kind.to_vec();
    f.extend_from_slice(&u32::MAX.to_le_bytes());
    f.extend_from_slice(b"WAVE");
    f.extend_from_slice(&chunk(b"ds64", &ds));
    f.extend_from_slice(&rest);
    f.extend_from_slice(b"data");
    f.extend_from_slice(&u32::MAX.to_le_bytes());
    f.extend_from_slice(data);
    f.extend_from_slice(tail);
    f
}

/// An `auxi` chunk body as SDR# and HDSDR write it (SpectraVue layout): start and stop
/// time as Windows SYSTEMTIMEs, then centre frequency, A/D rate, IF, and 28 more bytes.
fn auxi(start: [u16; 8], centre_hz: u32) -> Vec<u8> {
    let mut a = Vec::new();
    for v in start {
        a.extend_from_slice(&v.to_le_bytes());
    }
    for v in start {
        a.extend_from_slice(&v.to_le_bytes()); // stop time: same
    }
    a.extend_from_slice(&centre_hz.to_le_bytes());
    a.extend_from_slice(&2_048_000u32.to_le_bytes());
    a.extend_from_slice(&0u32.to_le_bytes());
    a.extend_from_slice(&[0; 28]);
    a
}

/// Tue 12 March 2024 13:14:15.250 as a SYSTEMTIME.
const START: [u16; 8] = [2024, 3, 2, 12, 13, 14, 15, 250];
const START_ISO: &str = "2024-03-12T13:14:15.250000000Z";

/// A hound-written file of `enc` (None if hound does not write that kind).
fn hound_file(path: &Path, enc: Enc, channels: u16, rate: u32, d: &Data) -> bool {
    let (bits, fmt) = match enc {
        Enc::U8 | Enc::I16 | Enc::I24 | Enc::I32 => (enc.bits(), hound::SampleFormat::Int),
        Enc::F32 => (32, hound::SampleFormat::Float),
        _ => return false,
    };
    let spec = hound::WavSpec {
        channels,
        sample_rate: rate,
        bits_per_sample: bits,
        sample_format: fmt,
    };
    let mut w = hound::WavWriter::create(path, spec).unwrap();
    if enc == Enc::F32 {
        d.floats.iter().for_each(|&v| w.write_sample(v).unwrap());
    } else {
        d.ints.iter().for_each(|&v| w.write_sample(v).unwrap());
    }
    w.finalize().unwrap();
    true
}

/// Reads everything with reads of the sizes in `chunks` (cycled), checking the counts.
fn read_with(r: &mut CaptureReader, chunks: &[usize]) -> Vec<Complex32> {
    let mut out = Vec::new();
    for k in 0.. {
        let max = chunks[k % chunks.len()];
        let before = out.len();
        let n = r.read(&mut out, max).unwrap();
        assert_eq!(out.len() - before, n);
        assert!(n <= max);
        if n == 0 {
            break;
        }
    }
    assert_eq!(r.samples_read(), out.len() as u64);
    out
}

/// Opens `path` as `rx` does and checks that every way of cutting the reads, and a second
/// pass after a rewind, gives exactly `want`.
fn check_reads(path: &Path, opts: &OpenOptions, want: &[Complex32], what: &str) -> CaptureReader {
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(7);
    let random: Vec<usize> = (0..64).map(|_| rng.random_range(1..300)).collect();
    let mut r = CaptureReader::open(path, opts).unwrap_or_else(|e| panic!("{what}: {e}"));
    for cuts in [&[1usize][..], &[3, 1000, 7], &random, &[1 << 20]] {
        let got = read_with(&mut r, cuts);
        assert_eq!(got.len(), want.len(), "{what}");
        let bad = got.iter().zip(want).position(|(a, b)| a != b);
        assert_eq!(bad, None, "{what}: first difference at sample {bad:?}");
        r.rewind().unwrap();
    }
    r
}

#[test]
fn every_encoding_reads_back_exactly_mono_and_stereo() {
    let dir = tempfile::tempdir().unwrap();
    let mut kinds = 0;
    for enc in [
        Enc::U8,
        Enc::I16,
        Enc::I24,
        Enc::I24in4,
        Enc::I32,
        Enc::F32,
        Enc::F64,
    ] {
        for channels in [1u16, 2] {
            let d = data(
                enc,
                channels,
                5003,
                u64::from(enc.bits()) + u64::from(channels),
            );
            // (writer, extensible)
            let mut files = Vec::new();
            let hp = dir.path().join(format!("hound-{enc:?}-{channels}.wav"));
            if hound_file(&hp, enc, channels, 96_000, &d) {
                files.push((hp, "hound", enc.bits() > 16));
            }
            for ext in [false, true] {
                if enc == Enc::I24in4 && !ext {
                    continue; // only extensible headers have valid bits
                }
                let p = dir
                    .path()
                    .join(format!("hand-{enc:?}-{channels}-{ext}.wav"));
                let f = riff(&[
                    chunk(b"fmt ", &fmt(enc, ext, channels, 96_000)),
                    chunk(b"LIST", b"INFOISFT\x05\0\0\0test\0"), // odd: padded
                    chunk(b"data", &d.bytes),
                ]);
                std::fs::write(&p, f).unwrap();
                files.push((p, "hand-written", ext));
            }
            for (path, by, ext) in files {
                let what = format!("{enc:?}, {channels} ch, {by}, extensible {ext}");
                let r = check_reads(&path, &OpenOptions::default(), &d.want, &what);
                let info = r.info();
                assert_eq!(info.sample_rate, 96_000.0, "{what}");
                assert_eq!(info.num_samples, Some(5003), "{what}");
                assert_eq!(info.real, channels == 1, "{what}");
                let fmt = if channels == 1 {
                    SampleFormat::WavMono
                } else {
                    SampleFormat::Wav
                };
                assert_eq!(info.format, fmt, "{what}");
                let w = r.wav().expect("WAV details");
                assert_eq!(w.encoding(), enc.described(), "{what}");
                assert_eq!(w.extensible, ext, "{what}");
                assert_eq!(w.container, WavContainer::Riff, "{what}");
                assert!(w.notes.is_empty(), "{what}: {:?}", w.notes);
                assert_eq!(r.integer_samples(), !matches!(enc, Enc::F32 | Enc::F64));
                kinds += 1;
            }
        }
    }
    assert_eq!(kinds, 2 * (5 + 6 + 7)); // hound, plain, extensible
}

#[test]
fn rf64_and_bw64_read_like_riff_and_auxi_gives_frequency_and_time() {
    let dir = tempfile::tempdir().unwrap();
    let d = data(Enc::F32, 2, 4001, 1);
    for kind in [b"RF64", b"BW64"] {
        let f = rf64(
            kind,
            &[
                chunk(b"fmt ", &fmt(Enc::F32, false, 2, 2_048_000)),
                chunk(b"JUNK", &[0; 27]),
                chunk(b"auxi", &auxi(START, 137_900_000)),
            ],
            &d.bytes,
            &chunk(b"LIST", b"INFOtail"), // after the data: not samples
        );
        let p = dir.path().join("big.wav");
        std::fs::write(&p, f).unwrap();
        let r = check_reads(&p, &OpenOptions::default(), &d.want, "RF64");
        let w = r.wav().unwrap();
        let want = if kind == b"RF64" {
            WavContainer::Rf64
        } else {
            WavContainer::Bw64
        };
        assert_eq!(w.container, want);
        assert!(w.notes.is_empty(), "{:?}", w.notes);
        let info = r.info();
        assert_eq!(info.center_freq, Some(137.9e6));
        assert_eq!(info.start_time.unwrap().to_iso8601(), START_ISO);
        assert_eq!(info.segments[0].frequency, Some(137.9e6));
        assert_eq!(w.auxi.as_ref().unwrap().adc_rate, Some(2_048_000));
    }

    // A plain RIFF file with `auxi` after the data, as some programs append it: the data
    // are read, the chunk after them is not (the header is read up to `data` only).
    let d16 = data(Enc::I16, 2, 100, 2);
    let p = dir.path().join("auxi.wav");
    std::fs::write(
        &p,
        riff(&[
            chunk(b"fmt ", &fmt(Enc::I16, false, 2, 48_000)),
            chunk(b"auxi", &auxi(START, 145_800_000)),
            chunk(b"data", &d16.bytes),
        ]),
    )
    .unwrap();
    let r = check_reads(&p, &OpenOptions::default(), &d16.want, "auxi");
    assert_eq!(r.info().center_freq, Some(145.8e6));
    // The options override what auxi says, as they override SigMF.
    let t = leomodem::Timestamp::parse_iso8601("2025-01-01T00:00:00Z", "t").unwrap();
    let opts = OpenOptions {
        center_freq: Some(100e6),
        start_time: Some(t),
        ..Default::default()
    };
    let r = CaptureReader::open(&p, &opts).unwrap();
    assert_eq!(r.info().center_freq, Some(100e6));
    assert_eq!(r.info().start_time, Some(t));
}

/// An RF64 file over 4 GiB (sparse: its data are zeros): the 64-bit size of `ds64` is the
/// one read, past what 32 bits can hold.
#[test]
fn rf64_over_4_gib_takes_its_size_from_ds64() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("huge.wav");
    let data_len: u64 = (5 << 30) + 8 * 3;
    let mut head = rf64(
        b"RF64",
        &[chunk(b"fmt ", &fmt(Enc::F32, false, 2, 10_000_000))],
        &[],
        &[],
    );
    let hl = head.len();
    // The ds64 data size: after `RF64`, size, `WAVE`, `ds64`, its size and the RIFF size.
    head[28..36].copy_from_slice(&data_len.to_le_bytes());
    std::fs::write(&p, &head).unwrap();
    let f = std::fs::OpenOptions::new().write(true).open(&p).unwrap();
    f.set_len(hl as u64 + data_len).unwrap();
    drop(f);
    let mut r = CaptureReader::open(&p, &OpenOptions::default()).unwrap();
    assert_eq!(r.info().num_samples, Some(data_len / 8));
    assert!(r.info().num_samples.unwrap() > u64::from(u32::MAX) / 8);
    let mut out = Vec::new();
    assert_eq!(r.read(&mut out, 1000).unwrap(), 1000);
    assert!(out.iter().all(|s| *s == Complex32::new(0.0, 0.0)));

    // A plain RIFF file over 4 GiB whose 32-bit data size wrapped (GNU Radio's WAV sink):
    // read to the end, with a note.
    let p = dir.path().join("wrapped.wav");
    let extra = 8 * 1000;
    let mut head = riff(&[
        chunk(b"fmt ", &fmt(Enc::F32, false, 2, 10_000_000)),
        chunk(b"data", &[]),
    ]);
    let hl = head.len();
    head[hl - 4..].copy_from_slice(&(extra as u32).to_le_bytes());
    std::fs::write(&p, &head).unwrap();
    let data_len = (1u64 << 32) + extra;
    let f = std::fs::OpenOptions::new().write(true).open(&p).unwrap();
    f.set_len(hl as u64 + data_len).unwrap();
    drop(f);
    let r = CaptureReader::open(&p, &OpenOptions::default()).unwrap();
    assert_eq!(r.info().num_samples, Some(data_len / 8));
    let w = r.wav().unwrap();
    assert!(
        w.notes.iter().any(|n| n.contains("wrapped")),
        "{:?}",
        w.notes
    );
}

#[test]
fn stereo_with_identical_channels_is_real_audio_unless_wav_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let mono = data(Enc::I16, 1, 3000, 3);
    let mut both = Vec::new();
    for s in mono.bytes.chunks_exact(2) {
        both.extend_from_slice(s);
        both.extend_from_slice(s);
    }
    let p = dir.path().join("lr.wav");
    std::fs::write(
        &p,
        riff(&[
            chunk(b"fmt ", &fmt(Enc::I16, false, 2, 48_000)),
            chunk(b"data", &both),
        ]),
    )
    .unwrap();
    let r = check_reads(&p, &OpenOptions::default(), &mono.want, "L = R");
    assert!(r.info().real);
    assert_eq!(r.info().format, SampleFormat::WavMono);
    let w = r.wav().unwrap();
    assert!(w.left_equals_right);
    assert!(
        w.notes.iter().any(|n| n.contains("identical")),
        "{:?}",
        w.notes
    );
    // `--format wav` reads it as IQ: I = Q.
    let iq: Vec<Complex32> = mono
        .want
        .iter()
        .map(|s| Complex32::new(s.re, s.re))
        .collect();
    let opts = OpenOptions {
        format: Some(SampleFormat::Wav),
        ..Default::default()
    };
    let r = check_reads(&p, &opts, &iq, "L = R as IQ");
    assert!(!r.info().real);
    // One differing sample anywhere in the probed frames makes it IQ.
    let mut one = both.clone();
    one[2 * 4 * 1234 + 2] ^= 1;
    std::fs::write(
        &p,
        riff(&[
            chunk(b"fmt ", &fmt(Enc::I16, false, 2, 48_000)),
            chunk(b"data", &one),
        ]),
    )
    .unwrap();
    let r = CaptureReader::open(&p, &OpenOptions::default()).unwrap();
    assert!(!r.info().real && !r.wav().unwrap().left_equals_right);
}

#[test]
fn nan_and_inf_in_float_wav_become_zero_and_are_counted() {
    let dir = tempfile::tempdir().unwrap();
    for enc in [Enc::F32, Enc::F64] {
        let mut d = data(enc, 2, 1000, 4);
        let w = enc.bytes() as usize;
        for (k, i) in [10usize, 11, 500, 1999].into_iter().enumerate() {
            let b = &mut d.bytes[i * w..(i + 1) * w];
            match (enc, k % 2) {
                (Enc::F32, 0) => b.copy_from_slice(&f32::NAN.to_le_bytes()),
                (Enc::F32, _) => b.copy_from_slice(&f32::NEG_INFINITY.to_le_bytes()),
                (_, 0) => b.copy_from_slice(&f64::NAN.to_le_bytes()),
                _ => b.copy_from_slice(&f64::INFINITY.to_le_bytes()),
            }
            let s = &mut d.want[i / 2];
            if i % 2 == 0 {
                s.re = 0.0;
            } else {
                s.im = 0.0;
            }
        }
        let p = dir.path().join("nan.wav");
        std::fs::write(
            &p,
            riff(&[
                chunk(b"fmt ", &fmt(enc, true, 2, 1000)),
                chunk(b"data", &d.bytes),
            ]),
        )
        .unwrap();
        let mut r = CaptureReader::open(&p, &OpenOptions::default()).unwrap();
        let got = read_with(&mut r, &[333]);
        assert_eq!(got, d.want, "{enc:?}");
        assert_eq!(r.nonfinite_count(), 4, "{enc:?}");
    }
}

fn open_err(path: &Path) -> String {
    CaptureReader::open(path, &OpenOptions::default())
        .unwrap_err()
        .to_string()
}

/// Every cut of a complete file (RF64, extensible float, auxi) inside its header is a clear
/// error naming the file; every cut inside the data reads the whole frames present, with a
/// note; none panics.
#[test]
fn truncated_files_fail_clearly_or_read_what_is_there() {
    let dir = tempfile::tempdir().unwrap();
    let d = data(Enc::F32, 2, 64, 5);
    let full = rf64(
        b"RF64",
        &[
            chunk(b"fmt ", &fmt(Enc::F32, true, 2, 1000)),
            chunk(b"auxi", &auxi(START, 1)),
        ],
        &d.bytes,
        &[],
    );
    let header = full.len() - d.bytes.len();
    let p = dir.path().join("cut.wav");
    for cut in 0..full.len() {
        std::fs::write(&p, &full[..cut]).unwrap();
        let r = CaptureReader::open(&p, &OpenOptions::default());
        let frames = (cut.saturating_sub(header)) / 8;
        if frames == 0 {
            let e = r.unwrap_err().to_string();
            assert!(e.contains("cut.wav"), "cut at {cut}: {e}");
            assert!(
                e.contains("broken WAV header") || e.contains("empty") || e.contains("no samples"),
                "cut at {cut}: {e}"
            );
        } else {
            let mut r = r.unwrap_or_else(|e| panic!("cut at {cut}: {e}"));
            assert!(r.wav().unwrap().notes[0].contains("truncated"));
            let got = read_with(&mut r, &[5]);
            assert_eq!(got, d.want[..frames], "cut at {cut}");
        }
    }
}

/// A file that shrinks while it is read ends in an error naming it, after the samples that
/// were there.
#[test]
fn file_shrinking_while_read_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    for enc in [Enc::I24, Enc::F64] {
        let d = data(enc, 2, 100_000, 6);
        let p = dir.path().join("shrink.wav");
        let f = riff(&[
            chunk(b"fmt ", &fmt(enc, false, 2, 1000)),
            chunk(b"data", &d.bytes),
        ]);
        std::fs::write(&p, &f).unwrap();
        let mut r = CaptureReader::open(&p, &OpenOptions::default()).unwrap();
        let mut out = Vec::new();
        r.read(&mut out, 10).unwrap();
        let keep = f.len() - d.bytes.len() + d.bytes.len() / 2;
        std::fs::OpenOptions::new()
            .write(true)
            .open(&p)
            .unwrap()
            .set_len(keep as u64)
            .unwrap();
        let e = loop {
            match r.read(&mut out, 4096) {
                Ok(0) => panic!("{enc:?}: read to the end of a shrunk file"),
                Ok(_) => {}
                Err(e) => break e.to_string(),
            }
        };
        assert!(
            e.contains("shrink.wav") && e.contains("truncated"),
            "{enc:?}: {e}"
        );
        // What was read is the samples that were there (at most what the buffer held).
        assert!(out.len() >= 10 && out.len() < 100_000);
        assert_eq!(out[..], d.want[..out.len()], "{enc:?}");
    }
}

/// Malformed headers: each gives an error naming the file and what is wrong.
#[test]
fn malformed_headers_are_named() {
    let dir = tempfile::tempdir().unwrap();
    let d = data(Enc::I16, 2, 8, 7);
    let good_fmt = fmt(Enc::I16, false, 2, 8000);
    let data_chunk = chunk(b"data", &d.bytes);
    let with_fmt = |f: Vec<u8>| riff(&[chunk(b"fmt ", &f), data_chunk.clone()]);
    let mut ext_adpcm = fmt(Enc::I16, true, 2, 8000);
    ext_adpcm[24..40].copy_from_slice(&guid(2));
    let mut f16 = fmt(Enc::F32, false, 2, 8000);
    f16[14..16].copy_from_slice(&16u16.to_le_bytes());
    f16[12..14].copy_from_slice(&4u16.to_le_bytes());
    let mut f24 = fmt(Enc::F32, false, 2, 8000);
    f24[14..16].copy_from_slice(&24u16.to_le_bytes());
    let mut valid_over = fmt(Enc::I24, true, 2, 8000);
    valid_over[18..20].copy_from_slice(&32u16.to_le_bytes());
    let mut cb_size = fmt(Enc::I24, true, 2, 8000);
    cb_size[16..18].copy_from_slice(&10u16.to_le_bytes());
    let mut odd_guid = fmt(Enc::I16, true, 2, 8000);
    odd_guid[39] ^= 0xFF; // PCM's tag, but not the KSDATAFORMAT GUID
    let mut rf_no_ds64 = riff(&[chunk(b"fmt ", &good_fmt)]);
    rf_no_ds64[0..4].copy_from_slice(b"RF64");
    rf_no_ds64.extend_from_slice(b"data\xff\xff\xff\xff");
    rf_no_ds64.extend_from_slice(&d.bytes);
    let mut short_ds64 = rf64(b"RF64", &[chunk(b"fmt ", &good_fmt)], &d.bytes, &[]);
    short_ds64[16..20].copy_from_slice(&8u32.to_le_bytes()); // ds64 of 8 bytes
    let cases: Vec<(Vec<u8>, &[&str])> = vec![
        (
            with_fmt(ext_adpcm),
            &["MS ADPCM", "format tag 2", "EXTENSIBLE", "leomodem reads"],
        ),
        (with_fmt(f16), &["16-bit float"]),
        (with_fmt(f24), &["24-bit float"]),
        (with_fmt(valid_over), &["block align 6, expected 8"]),
        (
            with_fmt(cb_size),
            &["`fmt ` chunk not readable", "EXTENSIBLE size"],
        ),
        (with_fmt(odd_guid), &["`fmt ` chunk not readable"]),
        (
            with_fmt(good_fmt[..14].to_vec()),
            &["`fmt ` chunk of 14 bytes"],
        ),
        (
            riff(&[data_chunk.clone(), chunk(b"fmt ", &good_fmt)]),
            &["`data` chunk comes before the `fmt ` chunk"],
        ),
        (
            riff(std::slice::from_ref(&data_chunk)),
            &["before the `fmt `"],
        ),
        (riff(&[chunk(b"fmt ", &good_fmt)]), &["no `data` chunk"]),
        (rf_no_ds64, &["RF64 file without a `ds64` chunk"]),
        (short_ds64, &["`ds64` chunk of 8 bytes"]),
        (
            {
                let mut f = riff(&[chunk(b"fmt ", &good_fmt)]);
                f.extend_from_slice(b"JUNK\x00\x00\x01\x00abc"); // 64 KiB chunk, file ends
                f
            },
            &["runs past the end of the file"],
        ),
        (
            b"riff\0\0\0\0WAVE\0\0\0\0".to_vec(),
            &["Wave64", "not supported"],
        ),
        (b"RIFX\0\0\0\0WAVE".to_vec(), &["big-endian"]),
        (b"RIFF\0\0\0\0AVI LIST".to_vec(), &["not of type WAVE"]),
    ];
    for (i, (bytes, want)) in cases.into_iter().enumerate() {
        let name = format!("bad{i}.wav");
        let p = dir.path().join(&name);
        std::fs::write(&p, bytes).unwrap();
        let e = open_err(&p);
        assert!(e.contains(&name), "case {i} does not name the file: {e}");
        for w in want {
            assert!(e.contains(w), "case {i}: message lacks `{w}`: {e}");
        }
    }
}

mod common;
use common::{ok, run, s, Dir};

/// `rx --json -` on `input`: the frames' `ok` and `hex`, and stderr.
fn rx_frames(input: &Path) -> (Vec<(bool, String)>, String) {
    let args = [
        "rx",
        s(input),
        "--profile",
        "ccsds-bpsk-r1/2-rs",
        "--symbol-rate",
        "9600",
        "--json",
        "-",
    ];
    let out = run(&args);
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(out.status.success(), "{args:?}: {stderr}");
    let frames = String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| {
            let v: serde_json::Value = serde_json::from_str(l).unwrap();
            let hex = v["hex"].as_str()?.to_string();
            Some((v["ok"] == true, hex))
        })
        .collect();
    (frames, stderr)
}

/// Issue 15 acceptance: the project's own tx signal (through the channel simulator: Es/N0
/// 10 dB, 700 Hz off), saved as each kind of WAV an SDR program writes, decodes with `rx`
/// to the same frames as the cf32 capture it was made from.
#[test]
fn rx_decodes_every_wav_kind_to_the_frames_of_the_cf32() {
    let d = Dir::new();
    let tx = d.p("t.sigmf-meta");
    let ch = d.p("ch.cf32");
    ok(&[
        "tx",
        s(&tx),
        "--profile",
        "ccsds-bpsk-r1/2-rs",
        "--frame-count",
        "20",
        "--symbol-rate",
        "9600",
        "--sample-rate",
        "96k",
    ]);
    ok(&[
        "sim",
        s(&tx),
        s(&ch),
        "--esn0",
        "10",
        "--cfo",
        "700",
        "--phase",
        "30",
    ]);
    let (want, e) = rx_frames(&ch);
    assert_eq!(want.len(), 20, "cf32: {e}");
    assert!(want.iter().all(|f| f.0), "cf32: {e}");

    let mut r = CaptureReader::open(&ch, &OpenOptions::default()).unwrap();
    let mut x = Vec::new();
    while r.read(&mut x, 1 << 16).unwrap() > 0 {}
    // Integer kinds: peak at 0.9 of full scale.
    let peak = x
        .iter()
        .map(|c| c.re.abs().max(c.im.abs()))
        .fold(0.0, f32::max);
    let g = 0.9 / peak;
    let ints = |bits: u32| -> Vec<i32> {
        let full = (1i64 << (bits - 1)) as f32;
        x.iter()
            .flat_map(|c| [c.re, c.im])
            .map(|v| (v * g * full).round() as i32)
            .collect()
    };
    let f32_bytes: Vec<u8> = x
        .iter()
        .flat_map(|c| [c.re, c.im])
        .flat_map(f32::to_le_bytes)
        .collect();
    let f64_bytes: Vec<u8> = x
        .iter()
        .flat_map(|c| [c.re, c.im])
        .flat_map(|v| f64::from(v).to_le_bytes())
        .collect();
    let fmt_at = |enc, ext| chunk(b"fmt ", &fmt(enc, ext, 2, 96_000));
    let mut kinds: Vec<(&str, Vec<u8>)> = vec![
        (
            "f32-plain",
            riff(&[fmt_at(Enc::F32, false), chunk(b"data", &f32_bytes)]),
        ),
        (
            "f64-plain",
            riff(&[fmt_at(Enc::F64, false), chunk(b"data", &f64_bytes)]),
        ),
        (
            "f32-rf64-auxi",
            rf64(
                b"RF64",
                &[
                    fmt_at(Enc::F32, true),
                    chunk(b"auxi", &auxi(START, 437_000_000)),
                ],
                &f32_bytes,
                &[],
            ),
        ),
        (
            "s24-plain",
            riff(&[
                fmt_at(Enc::I24, false),
                chunk(
                    b"data",
                    &ints(24)
                        .iter()
                        .flat_map(|v| v.to_le_bytes()[..3].to_vec())
                        .collect::<Vec<u8>>(),
                ),
            ]),
        ),
    ];
    // hound-written: 8/16-bit plain, 24/32-bit and float extensible.
    for (name, bits, float) in [
        ("u8-hound", 8, false),
        ("s16-hound", 16, false),
        ("s24-hound", 24, false),
        ("s32-hound", 32, false),
        ("f32-hound", 32, true),
    ] {
        let p = d.p(&format!("{name}.wav"));
        let spec = hound::WavSpec {
            channels: 2,
            sample_rate: 96_000,
            bits_per_sample: bits,
            sample_format: if float {
                hound::SampleFormat::Float
            } else {
                hound::SampleFormat::Int
            },
        };
        let mut w = hound::WavWriter::create(&p, spec).unwrap();
        if float {
            x.iter()
                .flat_map(|c| [c.re, c.im])
                .for_each(|v| w.write_sample(v).unwrap());
        } else {
            ints(u32::from(bits))
                .into_iter()
                .for_each(|v| w.write_sample(v).unwrap());
        }
        w.finalize().unwrap();
        kinds.push((name, std::fs::read(&p).unwrap()));
    }
    for (name, bytes) in kinds {
        let p = d.write(&format!("{name}.wav"), bytes);
        let (got, e) = rx_frames(&p);
        assert_eq!(got.len(), 20, "{name}: {e}");
        assert_eq!(got, want, "{name}: frames differ from the cf32's\n{e}");
    }
    // `info` names the WAV kind and takes frequency and time from `auxi`.
    let i = ok(&["info", s(&d.p("f32-rf64-auxi.wav"))]);
    for want in [
        "wav (32-bit float, 2 channels, RF64, WAVE_FORMAT_EXTENSIBLE, auxi)",
        "437.000000 MHz",
        START_ISO,
    ] {
        assert!(i.contains(want), "info lacks {want}: {i}");
    }
}

/// A receiver's audio saved as stereo (L = R, 24-bit as some programs save it): the
/// project's BPSK 9600 Bd at an 11.5 kHz audio carrier in 48 kHz audio is recognised as
/// real audio and decodes every frame, as the mono file it was made from does.
#[test]
fn rx_reads_stereo_audio_with_identical_channels_as_real_audio() {
    let d = Dir::new();
    let tx = d.p("a.sigmf-meta");
    let mono = d.p("mono.wav");
    ok(&[
        "tx",
        s(&tx),
        "--profile",
        "ccsds-bpsk-r1/2-rs",
        "--frame-count",
        "12",
        "--symbol-rate",
        "9600",
        "--sample-rate",
        "48k",
    ]);
    ok(&[
        "sim",
        s(&tx),
        s(&mono),
        "--cfo",
        "11.5k",
        "--esn0",
        "10",
        "--output-format",
        "wav-mono",
    ]);
    let mut r = hound::WavReader::open(&mono).unwrap();
    assert_eq!(r.spec().channels, 1);
    let spec = hound::WavSpec {
        channels: 2,
        sample_rate: 48_000,
        bits_per_sample: 24,
        sample_format: hound::SampleFormat::Int,
    };
    let stereo = d.p("stereo.wav");
    let mut w = hound::WavWriter::create(&stereo, spec).unwrap();
    for v in r.samples::<i16>() {
        let v = i32::from(v.unwrap()) << 8;
        w.write_sample(v).unwrap();
        w.write_sample(v).unwrap();
    }
    w.finalize().unwrap();
    let rx = |p: &Path| {
        let out = run(&[
            "rx",
            s(p),
            "--profile",
            "ccsds-bpsk-r1/2-rs",
            "--symbol-rate",
            "9600",
            "--audio-carrier",
            "11.5k",
            "--json",
            "-",
        ]);
        let e = String::from_utf8_lossy(&out.stderr).into_owned();
        assert!(out.status.success(), "{e}");
        let hex: Vec<String> = String::from_utf8_lossy(&out.stdout)
            .lines()
            .filter_map(|l| {
                let v: serde_json::Value = serde_json::from_str(l).unwrap();
                (v["ok"] == true).then(|| v["hex"].as_str().unwrap().to_string())
            })
            .collect();
        (hex, e)
    };
    let (want, e) = rx(&mono);
    assert_eq!(want.len(), 12, "mono: {e}");
    let (got, e) = rx(&stereo);
    assert!(e.contains("identical") && e.contains("real audio"), "{e}");
    assert_eq!(got, want, "stereo L = R: {e}");
}

/// Random corruption of header bytes (sizes, tags, counts, GUIDs, ds64): every file either
/// opens and reads to its end or gives an error naming it; nothing panics.
#[test]
fn corrupted_headers_never_panic() {
    let dir = tempfile::tempdir().unwrap();
    let d = data(Enc::I24, 2, 40, 8);
    let files = [
        rf64(
            b"RF64",
            &[
                chunk(b"fmt ", &fmt(Enc::I24, true, 2, 1000)),
                chunk(b"auxi", &auxi(START, 7)),
            ],
            &d.bytes,
            &[],
        ),
        riff(&[
            chunk(b"fmt ", &fmt(Enc::F64, false, 2, 1000)),
            chunk(b"data", &d.bytes),
        ]),
    ];
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(9);
    let p = dir.path().join("fuzz.wav");
    let (mut opened, mut refused) = (0, 0);
    for k in 0..800 {
        let mut f = files[k % 2].clone();
        let header = f.len() - d.bytes.len();
        for _ in 0..rng.random_range(1..4) {
            let i = rng.random_range(0..header);
            f[i] = match rng.random_range(0..3) {
                0 => rng.random(),
                1 => 0,
                _ => 0xFF,
            };
        }
        std::fs::write(&p, &f).unwrap();
        match CaptureReader::open(&p, &OpenOptions::default()) {
            Ok(mut r) => {
                let mut out = Vec::new();
                loop {
                    match r.read(&mut out, 17) {
                        Ok(0) => break,
                        Ok(_) => {}
                        Err(e) => panic!("{k}: read of an opened file failed: {e}"),
                    }
                }
                opened += 1;
            }
            Err(e) => {
                assert!(e.to_string().contains("fuzz.wav"), "{k}: {e}");
                refused += 1;
            }
        }
    }
    // Both outcomes occur (the corruption reaches fields that matter and ones that do not).
    assert!(
        opened > 100 && refused > 100,
        "{opened} opened, {refused} refused"
    );
}
