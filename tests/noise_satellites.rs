//! Issue 16, acceptance "pure noise through every new deframer": 10⁷ samples of white
//! Gaussian noise, as a receiver's mono audio (16-bit WAV at 48 kHz), through
//! `rx --satellite NAME` for each family the satellites' receive path adds: FSK 9600
//! with G3RUH (US04), AFSK 1200 with NRZI (AO-27), DBPSK 1200 with NRZI only (ITASAT 1)
//! and with G3RUH (GR01), DBPSK with the AO-40 FEC (AO-73), BPSK 9600 with the
//! LilacSat-1 framing (LilacSat-1). Not one frame may come out.

mod common;
use common::*;

/// Samples of noise per family.
const SAMPLES: usize = 10_000_000;

/// A mono 16-bit 48 kHz WAV of `n` Gaussian noise samples (σ = 3000), fixed seed.
fn noise_wav(n: usize) -> Vec<u8> {
    let mut w = Vec::with_capacity(44 + 2 * n);
    let data = (2 * n) as u32;
    w.extend_from_slice(b"RIFF");
    w.extend_from_slice(&(36 + data).to_le_bytes());
    w.extend_from_slice(b"WAVEfmt ");
    w.extend_from_slice(&16u32.to_le_bytes());
    w.extend_from_slice(&1u16.to_le_bytes()); // PCM
    w.extend_from_slice(&1u16.to_le_bytes()); // mono
    w.extend_from_slice(&48_000u32.to_le_bytes());
    w.extend_from_slice(&96_000u32.to_le_bytes());
    w.extend_from_slice(&2u16.to_le_bytes());
    w.extend_from_slice(&16u16.to_le_bytes());
    w.extend_from_slice(b"data");
    w.extend_from_slice(&data.to_le_bytes());
    let mut state = 0x9E37_79B9_7F4A_7C15u64;
    let mut uniform = || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        (state >> 11) as f64 / (1u64 << 53) as f64
    };
    for _ in 0..n {
        // Box–Muller.
        let (u1, u2) = (uniform().max(1e-300), uniform());
        let g = (-2.0 * u1.ln()).sqrt() * (2.0 * std::f64::consts::PI * u2).cos();
        let v = (3000.0 * g).round().clamp(-32768.0, 32767.0) as i16;
        w.extend_from_slice(&v.to_le_bytes());
    }
    w
}

#[test]
fn noise_through_every_satellite_family_gives_no_frame() {
    let d = Dir::new();
    let wav = d.write("noise.wav", noise_wav(SAMPLES));
    // One receiver per family, side by side.
    std::thread::scope(|scope| {
        for sat in ["US04", "AO-27", "ITASAT 1", "GR01", "AO-73", "LilacSat-1"] {
            let (d, wav) = (&d, &wav);
            scope.spawn(move || {
                let kiss = d.p(&format!("noise-{sat}.kiss"));
                let report = ok(&["rx", s(wav), "--satellite", sat, "--kiss", s(&kiss)]);
                assert!(
                    report.contains(&format!("samples        {SAMPLES}")),
                    "{sat}: {report}"
                );
                assert!(report.contains("frames         0 ok"), "{sat}: {report}");
                let k = std::fs::read(&kiss).unwrap();
                assert!(k.is_empty(), "{sat}: {} KISS bytes from noise", k.len());
            });
        }
    });
}
