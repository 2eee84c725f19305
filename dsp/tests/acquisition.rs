//! Acquisition over whole streams: the spur-proof search on the project's modulator and
//! channel simulator, and the search → pull-in → locked → lost state machine driving a
//! simple tracking receiver (NCO, matched filter and timing, carrier loop, lock
//! detector) through noise, fades and frequency jumps.

use leomodem_dsp::channel::{Channel, ChannelConfig};
use leomodem_dsp::filter::ToneNotch;
use leomodem_dsp::modem::{Modulation, PskModulator};
use leomodem_dsp::nco::Nco;
use leomodem_dsp::sync::acquisition::{AcqDirective, RejectCause};
use leomodem_dsp::sync::{
    AcqConfig, AcqEvent, AcqState, AcqStats, Acquisition, Agc, CarrierLoop, CarrierSearch,
    LineLockMeter, LockDetector, SymbolSync, TrackReport,
};
use leomodem_dsp::Complex32;
use rand::{Rng, SeedableRng};
use rand_xoshiro::Xoshiro256PlusPlus;
use std::f64::consts::PI;

const FS: f64 = 48_000.0;
const RS: f64 = 9600.0;
const ROLLOFF: f64 = 0.35;

/// Where the signal is on: `(start_s, end_s, carrier_hz)`.
type Segment = (f64, f64, f64);

/// Sample and symbol rates of a link.
#[derive(Clone, Copy)]
struct Rates {
    fs: f64,
    rs: f64,
}

const AUDIO: Rates = Rates { fs: FS, rs: RS };

/// `total_s` of stream: the modulated signal (unit power) inside `segments` at their
/// carriers, nothing outside, AWGN at `esn0_db` over everything (the channel simulator's
/// convention), plus a tone at `spur` = (Hz, power over the noise power in the symbol
/// rate's bandwidth, dB).
fn stream(
    m: Modulation,
    segments: &[Segment],
    total_s: f64,
    esn0_db: f64,
    spur: Option<(f64, f64)>,
    seed: u64,
) -> Vec<Complex32> {
    stream_at(AUDIO, m, segments, 0.0, total_s, esn0_db, spur, seed)
}

/// As [`stream`], at `rates`, the carriers drifting at `drift_hz_s`.
#[allow(clippy::too_many_arguments)]
fn stream_at(
    rates: Rates,
    m: Modulation,
    segments: &[Segment],
    drift_hz_s: f64,
    total_s: f64,
    esn0_db: f64,
    spur: Option<(f64, f64)>,
    seed: u64,
) -> Vec<Complex32> {
    let Rates { fs, rs } = rates;
    let n = (total_s * fs) as usize;
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(seed);
    let bits: Vec<u8> = (0..(n as f64 / fs * rs * 2.0) as usize + 64)
        .map(|_| rng.random_range(0..2u8))
        .collect();
    let mut md = PskModulator::new(m, fs, rs, ROLLOFF).unwrap();
    let mut tx = Vec::with_capacity(n + 1024);
    md.process_bits(&bits, &mut tx);
    tx.truncate(n);
    let mut x = vec![Complex32::new(0.0, 0.0); n];
    for (i, &(a, b, f)) in segments.iter().enumerate() {
        let (a, b) = ((a * fs) as usize, ((b * fs) as usize).min(n));
        if a >= b {
            continue;
        }
        let mut ch = Channel::new(ChannelConfig {
            sample_rate: fs,
            symbol_rate: rs,
            cfo_hz: f,
            doppler_rate_hz_s: drift_hz_s,
            phase_rad: 0.3 + i as f64,
            ..Default::default()
        })
        .unwrap();
        let mut out = Vec::with_capacity(b - a);
        ch.process(&tx[a..b], &mut out);
        x[a..b].copy_from_slice(&out);
    }
    let mut noise = Channel::new(ChannelConfig {
        sample_rate: fs,
        symbol_rate: rs,
        esn0_db: Some(esn0_db),
        seed: seed ^ 0x5eed,
        ..Default::default()
    })
    .unwrap();
    let sigma2 = noise.noise_variance();
    let mut y = Vec::with_capacity(n);
    noise.process(&x, &mut y);
    if let Some((f, db)) = spur {
        let amp = (sigma2 * rs / fs * 10f64.powf(db / 10.0)).sqrt();
        for (i, v) in y.iter_mut().enumerate() {
            let ph = 2.0 * std::f64::consts::PI * f * i as f64 / fs;
            *v += Complex32::new((amp * ph.cos()) as f32, (amp * ph.sin()) as f32);
        }
    }
    y
}

fn acq_config(m: Modulation) -> AcqConfig {
    AcqConfig::new(m, FS, RS, ROLLOFF)
}

/// The real carrier is found and a strong CW spur (20 and 40 dB over the noise in the
/// signal's bandwidth; outside the signal, inside it, at DC) is notched and reported,
/// for BPSK and QPSK at Es/N0 3 dB, on three noise seeds each.
#[test]
fn spur_does_not_fool_the_search() {
    for m in [Modulation::Bpsk, Modulation::Qpsk] {
        let cfg = acq_config(m);
        let mut s = CarrierSearch::new(&cfg).unwrap();
        for seed in 1..=3 {
            for (spur_hz, db) in [
                (-7000.0, 20.0),
                (-7000.0, 40.0),
                (3500.0, 20.0),
                (0.0, 20.0),
            ] {
                let x = stream(
                    m,
                    &[(0.0, 1.0, 1500.0)],
                    0.5,
                    3.0,
                    Some((spur_hz, db)),
                    seed,
                );
                let c = s.search(&x[..cfg.fft_len]);
                let c = c.unwrap_or_else(|| {
                    panic!("{m:?} seed {seed} spur {spur_hz} Hz {db} dB: nothing found")
                });
                assert!(
                    (c.freq_hz - 1500.0).abs() < 3.0,
                    "{m:?} seed {seed} spur {spur_hz} Hz: found {} Hz",
                    c.freq_hz
                );
                assert!(
                    s.tones().iter().any(|t| (t.freq_hz - spur_hz).abs() < 3.0),
                    "{m:?} spur {spur_hz} Hz not reported: {:?}",
                    s.tones()
                );
            }
        }
    }
}

/// Noise and a strong tone: no candidate, the tone reported.
#[test]
fn noise_and_tone_give_no_candidate() {
    for m in [Modulation::Bpsk, Modulation::Qpsk] {
        let cfg = acq_config(m);
        let mut s = CarrierSearch::new(&cfg).unwrap();
        let x = stream(m, &[], 3.0, 3.0, Some((-7000.0, 30.0)), 11);
        for (i, w) in x.chunks_exact(cfg.fft_len).enumerate() {
            assert_eq!(s.search(w), None, "{m:?} block {i}: {:?}", s.rejected());
            assert_eq!(s.tones().len(), 1, "{:?}", s.tones());
            assert!((s.tones()[0].freq_hz + 7000.0).abs() < 3.0);
        }
    }
}

/// With notching off the tone is the strongest M-th power line; the confirmation
/// rejects it (a CW line in the first-power spectrum) and the next line, the carrier,
/// is accepted.
#[test]
fn a_tone_candidate_is_rejected_and_the_next_line_taken() {
    for m in [Modulation::Bpsk, Modulation::Qpsk] {
        let mut cfg = acq_config(m);
        cfg.notch_tones = false;
        let mut s = CarrierSearch::new(&cfg).unwrap();
        let x = stream(
            m,
            &[(0.0, 1.0, 1500.0)],
            0.5,
            3.0,
            Some((-13_500.0, 20.0)),
            5,
        );
        let c = s.search(&x[..cfg.fft_len]).expect("carrier");
        assert!((c.freq_hz - 1500.0).abs() < 3.0, "{m:?}: {c:?}");
        let r = s.rejected();
        assert!(
            r.iter()
                .any(|r| r.cause == RejectCause::Tone && (r.freq_hz + 13_500.0).abs() < 3.0),
            "{m:?}: {r:?}"
        );
        assert!(r[0].line_to_floor > c.line_to_floor, "{r:?} {c:?}");
    }
}

/// A simple tracking receiver driven by the acquisition: NCO → matched filter and
/// Gardner timing → symbol AGC → decision-directed carrier PLL → lock detector, with a
/// quarter of the loop's frequency moved into the NCO at each decision.
struct Receiver {
    acq: Acquisition,
    /// Tones found by the acquisition, notched before everything (when on).
    notch: Option<ToneNotch>,
    nco: Nco,
    sync: SymbolSync,
    agc: Agc,
    carrier: CarrierLoop,
    lock: LockDetector,
    /// Report the front-end metric (before the carrier loop) and the oscillator's
    /// frequency only, as a split demodulator's front end would.
    front: Option<LineLockMeter>,
    m: Modulation,
    rs: f64,
    work: Vec<Complex32>,
    events: Vec<AcqEvent>,
    symbols_locked: u64,
    /// Oscillator ramp of the last directive, Hz/s.
    rate_hz_s: f64,
}

impl Receiver {
    fn new(cfg: AcqConfig) -> Self {
        let m = cfg.modulation;
        let order = m.phase_ambiguity();
        let p0 = m.points()[0];
        let bw = cfg.wide;
        let (fs, rs) = (cfg.sample_rate, cfg.symbol_rate);
        Receiver {
            acq: Acquisition::new(cfg).unwrap(),
            notch: Some(ToneNotch::new(fs, 20.0, 16).unwrap()),
            nco: Nco::new(fs, 0.0).unwrap(),
            sync: SymbolSync::new(fs, rs, ROLLOFF, 12, bw.timing_bn_t, false).unwrap(),
            agc: Agc::new(1.0 / 256.0, 1.0).unwrap(),
            carrier: CarrierLoop::new(order, p0, bw.carrier_bn_t, bw.fll_bn_t).unwrap(),
            lock: LockDetector::new(order, p0, 256).unwrap(),
            front: None,
            m,
            rs,
            work: Vec::with_capacity(4096),
            events: Vec::new(),
            symbols_locked: 0,
            rate_hz_s: 0.0,
        }
    }

    fn report(&self) -> TrackReport {
        if let Some(f) = self.front.as_ref() {
            return TrackReport {
                lock_metric: f.metric(),
                freq_hz: -self.nco.freq(),
            };
        }
        TrackReport {
            lock_metric: self.lock.metric(),
            freq_hz: -self.nco.freq() + self.carrier.frequency() * self.rs / (2.0 * PI),
        }
    }

    fn apply(&mut self, d: &AcqDirective) {
        if let (true, Some(n)) = (d.searched, self.notch.as_mut()) {
            let mut f = [0.0; 16];
            let tones = self.acq.last_tones();
            for (a, t) in f.iter_mut().zip(tones) {
                *a = t.freq_hz;
            }
            n.set_tones(&f[..tones.len().min(16)]);
        }
        if let Some(r) = d.retune {
            self.nco.set_freq(-r.freq_hz);
            let order = self.m.phase_ambiguity();
            let p0 = self.m.points()[0];
            self.carrier =
                CarrierLoop::new(order, p0, d.loops.carrier_bn_t, d.loops.fll_bn_t).unwrap();
            self.lock.reset();
            if let Some(f) = self.front.as_mut() {
                f.reset();
            }
        }
        self.carrier
            .set_bandwidths(d.loops.carrier_bn_t, d.loops.fll_bn_t)
            .unwrap();
        self.sync.set_bandwidth(d.loops.timing_bn_t).unwrap();
        self.nco.set_freq_rate(-d.rate_hz_s);
        self.rate_hz_s = d.rate_hz_s;
        let h = self.carrier.take_frequency(0.25);
        self.nco.adjust_freq(-h * self.rs / (2.0 * PI));
    }

    fn process(&mut self, mut input: &[Complex32]) {
        while !input.is_empty() {
            let k = self.acq.push(input);
            let (now, rest) = input.split_at(k);
            input = rest;
            self.work.clear();
            self.work.extend_from_slice(now);
            if let Some(n) = self.notch.as_mut() {
                n.process_in_place(&mut self.work);
            }
            self.nco.mix_in_place(&mut self.work);
            let Receiver {
                sync,
                agc,
                carrier,
                lock,
                acq,
                symbols_locked,
                front,
                ..
            } = self;
            let locked = acq.state() == AcqState::Locked;
            sync.process_with(&self.work, |y, _| {
                let y = agc.step(y);
                if let Some(f) = front.as_mut() {
                    f.update(y);
                }
                let z = carrier.step(y);
                lock.update(&[z]);
                *symbols_locked += locked as u64;
            });
            if self.acq.decision_due() {
                let d = self.acq.decide(self.report());
                self.apply(&d);
                self.acq.take_events(&mut self.events);
            }
        }
    }

    fn stats(&self) -> AcqStats {
        self.acq.stats()
    }
}

fn secs(sample: u64) -> f64 {
    sample as f64 / FS
}

fn secs_at(r: Rates, sample: u64) -> f64 {
    sample as f64 / r.fs
}

fn run(cfg: AcqConfig, x: &[Complex32], chunks: &[usize]) -> Receiver {
    run_with(cfg, x, chunks, false)
}

fn run_with(cfg: AcqConfig, x: &[Complex32], chunks: &[usize], front: bool) -> Receiver {
    let mut rx = Receiver::new(cfg);
    if front {
        rx.front = Some(LineLockMeter::new(rx.m.phase_ambiguity(), 1024).unwrap());
    }
    let mut rest = x;
    let mut i = 0;
    while !rest.is_empty() {
        let k = chunks[i % chunks.len()].min(rest.len());
        rx.process(&rest[..k]);
        rest = &rest[k..];
        i += 1;
    }
    rx
}

fn show(ev: &[AcqEvent]) -> String {
    ev.iter()
        .map(|e| {
            format!(
                "{:.3} s {}→{} {:.1} Hz ({})",
                secs(e.sample),
                e.from.name(),
                e.to.name(),
                e.freq_hz,
                e.reason.name()
            )
        })
        .collect::<Vec<_>>()
        .join("; ")
}

/// 3 s of noise, the signal at +1500 Hz for 4 s, a 2 s fade, the signal back at
/// +5500 Hz (+4 kHz) for 3 s, Es/N0 3 dB, with a CW spur 20 dB over the noise in the
/// signal's bandwidth at −7 kHz throughout: nothing before the signal, lock within
/// 0.5 s of its start, lost in the fade, locked again within 0.5 s of its return at the
/// new frequency; the same events for any chunking.
#[test]
fn finds_loses_and_finds_again_over_a_stream() {
    fade_and_jump(false);
}

/// As [`finds_loses_and_finds_again_over_a_stream`], the decisions taken on what a
/// split demodulator's front end knows: the non-coherent metric of the symbols before
/// the carrier loop ([`LineLockMeter`]) and the oscillator's frequency.
#[test]
fn front_end_metric_drives_the_same_machine() {
    fade_and_jump(true);
}

fn fade_and_jump(front: bool) {
    for (m, seed) in [(Modulation::Bpsk, 21u64), (Modulation::Qpsk, 22)] {
        let x = stream(
            m,
            &[(3.0, 7.0, 1500.0), (9.0, 12.0, 5500.0)],
            12.0,
            3.0,
            Some((-7000.0, 20.0)),
            seed,
        );
        let cfg = acq_config(m);
        let rx = run_with(cfg.clone(), &x, &[x.len()], front);
        let ev = &rx.events;
        let txt = show(ev);
        eprintln!("{m:?} front {front}: {txt}\n  {:?}", rx.stats());
        assert!(
            ev.iter().all(|e| secs(e.sample) >= 3.0),
            "{m:?} early: {txt}"
        );
        let first_lock = ev
            .iter()
            .find(|e| e.to == AcqState::Locked)
            .unwrap_or_else(|| panic!("{m:?} never locked: {txt}"));
        assert!(secs(first_lock.sample) <= 3.5, "{m:?} slow: {txt}");
        assert!((first_lock.freq_hz - 1500.0).abs() < 5.0, "{m:?}: {txt}");
        let lost = ev
            .iter()
            .find(|e| e.to == AcqState::Lost)
            .unwrap_or_else(|| panic!("{m:?} never lost: {txt}"));
        assert!(
            (7.0..=7.5).contains(&secs(lost.sample)),
            "{m:?} lost at the wrong time: {txt}"
        );
        // No lock is declared in the fade; the lock after it is at the new carrier.
        assert!(
            !ev.iter()
                .any(|e| e.to == AcqState::Locked
                    && (secs(lost.sample)..9.0).contains(&secs(e.sample))),
            "{m:?} locked in the fade: {txt}"
        );
        let relock = ev
            .iter()
            .find(|e| e.to == AcqState::Locked && secs(e.sample) >= 9.0)
            .unwrap_or_else(|| panic!("{m:?} not reacquired: {txt}"));
        assert!(
            secs(relock.sample) <= 9.5,
            "{m:?} slow reacquisition: {txt}"
        );
        assert!((relock.freq_hz - 5500.0).abs() < 5.0, "{m:?}: {txt}");
        // Still locked at the end, and every lock at a true carrier.
        assert_eq!(ev.last().unwrap().to, AcqState::Locked, "{m:?}: {txt}");
        for e in ev.iter().filter(|e| e.to == AcqState::Locked) {
            assert!(
                (e.freq_hz - 1500.0).abs() < 5.0 || (e.freq_hz - 5500.0).abs() < 5.0,
                "{m:?}: {txt}"
            );
        }
        let st = rx.stats();
        assert!(st.tones_rejected > 0, "{st:?}");
        // Locked for most of the 7 s of signal.
        assert!(secs(st.locked_samples) > 6.0, "{m:?}: {st:?}");

        // Chunk invariance: the same events for other chunkings.
        for chunks in [vec![1000usize], vec![1, 517, 4096, 33, 20_000]] {
            let other = run_with(cfg.clone(), &x, &chunks, front);
            assert_eq!(&other.events, ev, "{m:?} chunks {chunks:?}");
            assert_eq!(other.stats(), st);
        }
    }
}

/// A stream of noise with a strong tone: no candidate ever, no event, tones counted.
#[test]
fn noise_with_a_tone_never_locks() {
    for m in [Modulation::Bpsk, Modulation::Qpsk] {
        let x = stream(m, &[], 6.0, 3.0, Some((2500.0, 30.0)), 31);
        let rx = run(acq_config(m), &x, &[4000]);
        assert!(rx.events.is_empty(), "{m:?}: {}", show(&rx.events));
        let st = rx.stats();
        assert!(st.searches > 40, "{st:?}");
        assert!(st.tones_rejected >= st.searches, "{st:?}");
        assert_eq!(st.acquisitions, 0);
    }
}

/// As the BY70-1 recording of issue 15: real (mono audio) input at 48 kHz, BPSK
/// 9600 Bd on an 11.5 kHz audio carrier appearing 2.2 s into the stream, a strong tone
/// at 16.45 kHz throughout, Es/N0 3 dB: the tone is rejected, the carrier locked within
/// 0.5 s of the signal's start.
#[test]
fn audio_signal_after_noise_beside_a_tone() {
    let x: Vec<Complex32> = stream(
        Modulation::Bpsk,
        &[(2.2, 5.0, 11_500.0)],
        5.0,
        3.0,
        Some((16_450.0, 30.0)),
        41,
    )
    .iter()
    .map(|v| Complex32::new(v.re, 0.0))
    .collect();
    let mut cfg = acq_config(Modulation::Bpsk);
    cfg.real_input = true;
    let rx = run(cfg, &x, &[4800]);
    let txt = show(&rx.events);
    eprintln!("audio: {txt}\n  {:?}", rx.stats());
    assert!(rx.events.iter().all(|e| secs(e.sample) >= 2.2), "{txt}");
    let lock = rx
        .events
        .iter()
        .find(|e| e.to == AcqState::Locked)
        .unwrap_or_else(|| panic!("never locked: {txt}"));
    assert!(secs(lock.sample) <= 2.7, "{txt}");
    assert!((lock.freq_hz - 11_500.0).abs() < 5.0, "{txt}");
    assert_eq!(rx.events.last().unwrap().to, AcqState::Locked, "{txt}");
    assert!(rx.stats().tones_rejected > 0);
}

/// `center_hz ± span_hz` restricts the search: a carrier outside it is not found, the
/// same carrier inside it is.
#[test]
fn the_span_restricts_the_search() {
    let x = stream(Modulation::Bpsk, &[(0.0, 1.0, 1500.0)], 0.5, 6.0, None, 3);
    let mut cfg = acq_config(Modulation::Bpsk);
    cfg.center_hz = 9000.0;
    cfg.span_hz = Some(2000.0);
    let mut s = CarrierSearch::new(&cfg).unwrap();
    assert_eq!(s.search(&x[..cfg.fft_len]), None, "{:?}", s.rejected());
    cfg.center_hz = 2000.0;
    let mut s = CarrierSearch::new(&cfg).unwrap();
    let c = s.search(&x[..cfg.fft_len]).expect("inside the span");
    assert!((c.freq_hz - 1500.0).abs() < 3.0, "{c:?}");
}

/// Drifting carriers stay locked from acquisition to the end, and the FLL's drift
/// estimate (the oscillator ramp) converges to the drift: an audio recording's 60 Hz/s
/// (BPSK 9600 Bd at 48 kHz) and a Ku-band pass's 5 kHz/s (QPSK 250 kBd at 1 MS/s).
#[test]
fn drifting_carriers_are_tracked_and_their_drift_measured() {
    let cases = [
        (AUDIO, Modulation::Bpsk, 1000.0, 60.0, 8.0),
        (
            Rates {
                fs: 1.0e6,
                rs: 250e3,
            },
            Modulation::Qpsk,
            20e3,
            5000.0,
            3.0,
        ),
    ];
    for (r, m, f0, drift, total) in cases {
        let x = stream_at(r, m, &[(0.5, total, f0)], drift, total, 6.0, None, 51);
        let cfg = AcqConfig::new(m, r.fs, r.rs, ROLLOFF);
        let rx = run(cfg, &x, &[10_000]);
        let txt: Vec<String> = rx
            .events
            .iter()
            .map(|e| {
                format!(
                    "{:.3} s {}→{} {:.1} Hz",
                    secs_at(r, e.sample),
                    e.from.name(),
                    e.to.name(),
                    e.freq_hz
                )
            })
            .collect();
        eprintln!("{m:?} drift {drift} Hz/s: {txt:?} rate {:.1}", rx.rate_hz_s);
        let states: Vec<AcqState> = rx.events.iter().map(|e| e.to).collect();
        assert_eq!(
            states,
            vec![AcqState::PullIn, AcqState::Locked],
            "{m:?}: {txt:?}"
        );
        let lock = &rx.events[1];
        // The carrier at the lock decision (the channel's NCO starts at the stream's
        // first signal sample).
        let t = secs_at(r, lock.sample) - 0.5;
        let truth = f0 + drift * t;
        assert!(
            (lock.freq_hz - truth).abs() < 0.002 * r.rs,
            "{m:?}: lock at {} Hz, carrier {truth} Hz",
            lock.freq_hz
        );
        assert!(
            (rx.rate_hz_s - drift).abs() < 0.1 * drift,
            "{m:?}: drift estimate {} Hz/s, true {drift}",
            rx.rate_hz_s
        );
    }
}
