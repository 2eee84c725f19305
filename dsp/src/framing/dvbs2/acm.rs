//! Adaptive coding and modulation (ACM): the MODCOD a gateway chooses from the Es/N0 a
//! terminal reports, and the report the terminal sends on the return link.
//!
//! # Policy
//!
//! Each allowed MODCOD needs its ideal Es/N0 for quasi-error-free reception
//! ([`qef_esn0_db`]: ETSI EN 302 307-1 V1.4.1, Table 13, normal 64 800-bit FECFRAMEs,
//! AWGN, PER 10⁻⁷ after BCH, no pilots) plus a margin. [`AcmPolicy`] keeps the most
//! efficient allowed MODCOD that the reports support:
//!
//! - **down at once**: a report below the current MODCOD's threshold + margin moves to
//!   the most efficient MODCOD that report supports (the most robust allowed MODCOD if
//!   none);
//! - **up slowly**: only after `up_reports` consecutive reports all above a better
//!   MODCOD's threshold + margin + `hysteresis_db`, and then to the best MODCOD the
//!   *lowest* of those reports supports with that hysteresis;
//! - a report that is not a number is ignored (and restarts the count up).
//!
//! So the MODCOD in use never needs more than the latest report + margin shows, and an
//! estimate that wanders by less than the hysteresis around a threshold never flaps.
//!
//! Efficiency is information bits per transmitted symbol of a normal frame without
//! pilots, `K_bch / PLFRAME length` (EN 302 307-1 §5.5): among equally efficient
//! MODCODs the one with the lower threshold wins.
//!
//! # Report
//!
//! [`AcmReport`] is what the terminal sends, 20 bytes, big-endian:
//!
//! | bytes | field |
//! |---|---|
//! | 0–1 | magic `0x41 0x52` ("AR") |
//! | 2 | version, 1 |
//! | 3 | flags: bit 0 = Es/N0 valid; the other bits 0 |
//! | 4–5 | sequence number (u16, wraps) |
//! | 6–7 | Es/N0 in hundredths of a dB (i16), within ±50 dB (0 when not valid) |
//! | 8 | MODCOD of the last frame received (1..=28, 0 = none yet) |
//! | 9 | reserved, 0 |
//! | 10–13 | PL frames received with a good BCH/CRC since start (u32, wraps) |
//! | 14–17 | PL frames received and failed since start (u32, wraps) |
//! | 18–19 | CRC-16/CCITT-FALSE of bytes 0–17 |
//!
//! [`AcmReport::parse`] refuses anything else with the reason ([`ReportError`]).

use super::modcod::{FrameSize, Modcod, Pls};
use crate::fec::crc::crc16_ccitt;
use crate::DspError;
use std::fmt;

/// Ideal Es/N0 (dB) for quasi-error-free reception of each MODCOD 1..=28, in MODCOD
/// order: ETSI EN 302 307-1 V1.4.1 Table 13 (normal FECFRAME, AWGN, no pilots).
pub const QEF_ESN0_DB: [f64; 28] = [
    -2.35, -1.24, -0.30, 1.00, 2.23, 3.10, 4.03, 4.68, 5.18, 6.20, 6.42, // QPSK 1/4 … 9/10
    5.50, 6.62, 7.91, 9.35, 10.69, 10.98, // 8PSK 3/5 … 9/10
    8.97, 10.21, 11.03, 11.61, 12.89, 13.13, // 16APSK 2/3 … 9/10
    12.73, 13.64, 14.28, 15.69, 16.05, // 32APSK 3/4 … 9/10
];

/// The ideal Es/N0 (dB) of `m` ([`QEF_ESN0_DB`]).
pub fn qef_esn0_db(m: Modcod) -> f64 {
    QEF_ESN0_DB[usize::from(m.value() - 1)]
}

/// Information bits per symbol of `m` in a normal frame without pilots.
pub fn efficiency(m: Modcod) -> f64 {
    let pls = Pls::new(m, FrameSize::Normal, false).expect("every MODCOD has a normal frame");
    pls.k_bch() as f64 / pls.plframe_len() as f64
}

/// Parses an allowed set: MODCOD names or numbers separated by commas
/// (`qpsk-1/4,qpsk-1/2,8psk-3/5`), or `all`. The error names the item not understood.
pub fn parse_modcods(s: &str) -> Result<Vec<Modcod>, String> {
    if s.trim().eq_ignore_ascii_case("all") {
        return Ok(Modcod::all().collect());
    }
    let mut v = Vec::new();
    for item in s.split(',') {
        let m: Modcod = item.parse()?;
        if !v.contains(&m) {
            v.push(m);
        }
    }
    Ok(v)
}

/// Settings of an [`AcmPolicy`].
#[derive(Clone, Debug, PartialEq)]
pub struct AcmConfig {
    /// The MODCODs that may be used (at least one).
    pub allowed: Vec<Modcod>,
    /// Added to every threshold, dB (≥ 0): implementation loss and fading reserve.
    pub margin_db: f64,
    /// Added again before going up, dB (≥ 0).
    pub hysteresis_db: f64,
    /// Consecutive reports that must support a better MODCOD before going up (≥ 1).
    pub up_reports: u32,
}

impl Default for AcmConfig {
    /// All 28 MODCODs, 1 dB margin, 0.5 dB hysteresis, 3 reports up.
    fn default() -> Self {
        AcmConfig {
            allowed: Modcod::all().collect(),
            margin_db: 1.0,
            hysteresis_db: 0.5,
            up_reports: 3,
        }
    }
}

/// A MODCOD change.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct AcmChange {
    /// The MODCOD before.
    pub from: Modcod,
    /// The MODCOD from now on.
    pub to: Modcod,
    /// The report that decided it, dB.
    pub esn0_db: f64,
    /// True for a more efficient MODCOD.
    pub up: bool,
}

impl fmt::Display for AcmChange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "MODCOD {} {} → {} at Es/N0 {:.2} dB",
            if self.up { "up" } else { "down" },
            self.from.name(),
            self.to.name(),
            self.esn0_db
        )
    }
}

/// The ACM decision (see the [module documentation](self)).
#[derive(Clone, Debug)]
pub struct AcmPolicy {
    cfg: AcmConfig,
    /// Allowed MODCODs, most robust first: by efficiency, then threshold.
    order: Vec<(Modcod, f64, f64)>,
    current: usize,
    streak: u32,
    streak_min: f64,
}

impl AcmPolicy {
    /// Validates `cfg`; starts at the most robust allowed MODCOD.
    pub fn new(cfg: AcmConfig) -> Result<Self, DspError> {
        if cfg.allowed.is_empty() {
            return Err(DspError::invalid("modcods", "no MODCOD allowed"));
        }
        for (name, v) in [
            ("margin_db", cfg.margin_db),
            ("hysteresis_db", cfg.hysteresis_db),
        ] {
            if !(v.is_finite() && (0.0..=30.0).contains(&v)) {
                return Err(DspError::invalid(
                    name,
                    format!("must be between 0 and 30 dB, got {v}"),
                ));
            }
        }
        if cfg.up_reports == 0 {
            return Err(DspError::invalid("up_reports", "must be at least 1"));
        }
        let mut order: Vec<(Modcod, f64, f64)> = cfg
            .allowed
            .iter()
            .map(|&m| (m, efficiency(m), qef_esn0_db(m)))
            .collect();
        order.sort_by(|a, b| a.1.total_cmp(&b.1).then(b.2.total_cmp(&a.2)));
        order.dedup_by_key(|x| x.0);
        Ok(AcmPolicy {
            cfg,
            order,
            current: 0,
            streak: 0,
            streak_min: f64::INFINITY,
        })
    }

    /// The MODCOD in use.
    pub fn current(&self) -> Modcod {
        self.order[self.current].0
    }

    /// The settings.
    pub fn config(&self) -> &AcmConfig {
        &self.cfg
    }

    /// The most efficient allowed MODCOD whose threshold + margin + `extra` is at most
    /// `esn0_db` (index into `order`; 0 when none is).
    fn best(&self, esn0_db: f64, extra: f64) -> usize {
        let need = |i: usize| self.order[i].2 + (self.cfg.margin_db + extra);
        (0..self.order.len())
            .rev()
            .find(|&i| need(i) <= esn0_db)
            .unwrap_or(0)
    }

    /// Takes one Es/N0 report (dB); returns the change it causes, if any.
    pub fn update(&mut self, esn0_db: f64) -> Option<AcmChange> {
        if esn0_db.is_nan() {
            self.streak = 0;
            self.streak_min = f64::INFINITY;
            return None;
        }
        let from = self.current();
        let cur = &self.order[self.current];
        if esn0_db < cur.2 + self.cfg.margin_db && self.current > 0 {
            self.streak = 0;
            self.streak_min = f64::INFINITY;
            let to = self.best(esn0_db, 0.0);
            if to < self.current {
                self.current = to;
                return Some(AcmChange {
                    from,
                    to: self.current(),
                    esn0_db,
                    up: false,
                });
            }
            return None;
        }
        if self.best(esn0_db, self.cfg.hysteresis_db) > self.current {
            self.streak += 1;
            self.streak_min = self.streak_min.min(esn0_db);
            if self.streak >= self.cfg.up_reports {
                let to = self.best(self.streak_min, self.cfg.hysteresis_db);
                self.streak = 0;
                self.streak_min = f64::INFINITY;
                if to > self.current {
                    self.current = to;
                    return Some(AcmChange {
                        from,
                        to: self.current(),
                        esn0_db,
                        up: true,
                    });
                }
            }
        } else {
            self.streak = 0;
            self.streak_min = f64::INFINITY;
        }
        None
    }
}

/// Length of an [`AcmReport`] in bytes.
pub const REPORT_LEN: usize = 20;
/// First two bytes of an [`AcmReport`].
pub const REPORT_MAGIC: [u8; 2] = *b"AR";
/// The report version this code writes and reads.
pub const REPORT_VERSION: u8 = 1;
/// Largest |Es/N0| a report carries, dB.
pub const REPORT_MAX_ESN0_DB: f64 = 50.0;

/// What the terminal reports on the return link (see the [module documentation](self)).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct AcmReport {
    /// Sequence number (wraps).
    pub seq: u16,
    /// Measured Es/N0, dB (rounded to 0.01 dB on the wire); None when not measured.
    pub esn0_db: Option<f64>,
    /// MODCOD of the last PL frame received.
    pub last_modcod: Option<Modcod>,
    /// PL frames received and decoded since start (wraps).
    pub frames_ok: u32,
    /// PL frames received and failed since start (wraps).
    pub frames_failed: u32,
}

/// Why bytes are not an [`AcmReport`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ReportError {
    /// Not [`REPORT_LEN`] bytes.
    Length(usize),
    /// The magic is not "AR".
    Magic,
    /// A version this code does not read.
    Version(u8),
    /// Reserved flag bits or the reserved byte set.
    Reserved,
    /// The CRC does not match.
    Crc,
    /// Es/N0 beyond ±50 dB, or set while flagged not valid.
    Esn0(i16),
    /// A MODCOD number outside 0..=28.
    Modcod(u8),
}

impl fmt::Display for ReportError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ReportError::Length(n) => write!(f, "ACM report of {n} bytes (expected {REPORT_LEN})"),
            ReportError::Magic => write!(f, "not an ACM report (bad magic)"),
            ReportError::Version(v) => {
                write!(
                    f,
                    "ACM report version {v} (this build reads {REPORT_VERSION})"
                )
            }
            ReportError::Reserved => write!(f, "ACM report with reserved bits set"),
            ReportError::Crc => write!(f, "ACM report with a bad CRC"),
            ReportError::Esn0(v) => write!(f, "ACM report with Es/N0 field {v} out of range"),
            ReportError::Modcod(m) => write!(f, "ACM report with MODCOD {m} (not 0..=28)"),
        }
    }
}

impl std::error::Error for ReportError {}

impl AcmReport {
    /// The 20 bytes of the report (Es/N0 clamped to ±50 dB).
    pub fn to_bytes(&self) -> [u8; REPORT_LEN] {
        let mut b = [0u8; REPORT_LEN];
        b[0..2].copy_from_slice(&REPORT_MAGIC);
        b[2] = REPORT_VERSION;
        let (flags, cdb) = match self.esn0_db {
            Some(e) if !e.is_nan() => (
                1u8,
                (e.clamp(-REPORT_MAX_ESN0_DB, REPORT_MAX_ESN0_DB) * 100.0).round() as i16,
            ),
            _ => (0, 0),
        };
        b[3] = flags;
        b[4..6].copy_from_slice(&self.seq.to_be_bytes());
        b[6..8].copy_from_slice(&cdb.to_be_bytes());
        b[8] = self.last_modcod.map_or(0, |m| m.value());
        b[10..14].copy_from_slice(&self.frames_ok.to_be_bytes());
        b[14..18].copy_from_slice(&self.frames_failed.to_be_bytes());
        let crc = crc16_ccitt(&b[..18]);
        b[18..20].copy_from_slice(&crc.to_be_bytes());
        b
    }

    /// Reads a report, refusing anything that is not exactly a valid version-1 report.
    pub fn parse(b: &[u8]) -> Result<AcmReport, ReportError> {
        if b.len() != REPORT_LEN {
            return Err(ReportError::Length(b.len()));
        }
        if b[0..2] != REPORT_MAGIC {
            return Err(ReportError::Magic);
        }
        if b[2] != REPORT_VERSION {
            return Err(ReportError::Version(b[2]));
        }
        if crc16_ccitt(&b[..18]) != u16::from_be_bytes([b[18], b[19]]) {
            return Err(ReportError::Crc);
        }
        if b[3] & !1 != 0 || b[9] != 0 {
            return Err(ReportError::Reserved);
        }
        let cdb = i16::from_be_bytes([b[6], b[7]]);
        let valid = b[3] & 1 == 1;
        if f64::from(cdb).abs() > REPORT_MAX_ESN0_DB * 100.0 || (!valid && cdb != 0) {
            return Err(ReportError::Esn0(cdb));
        }
        let last_modcod = match b[8] {
            0 => None,
            v => Some(Modcod::new(v).ok_or(ReportError::Modcod(v))?),
        };
        Ok(AcmReport {
            seq: u16::from_be_bytes([b[4], b[5]]),
            esn0_db: valid.then_some(f64::from(cdb) / 100.0),
            last_modcod,
            frames_ok: u32::from_be_bytes(b[10..14].try_into().expect("4 bytes")),
            frames_failed: u32::from_be_bytes(b[14..18].try_into().expect("4 bytes")),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{Rng, SeedableRng};
    use rand_distr::StandardNormal;
    use rand_xoshiro::Xoshiro256PlusPlus;

    fn policy(margin: f64, hyst: f64, up: u32) -> AcmPolicy {
        AcmPolicy::new(AcmConfig {
            allowed: Modcod::all().collect(),
            margin_db: margin,
            hysteresis_db: hyst,
            up_reports: up,
        })
        .unwrap()
    }

    /// The most efficient MODCOD of `set` whose threshold + `extra` is at most `e` dB,
    /// computed directly from the table (the oracle).
    fn oracle(set: &[Modcod], e: f64, extra: f64) -> Modcod {
        let mut best: Option<Modcod> = None;
        for &m in set {
            if qef_esn0_db(m) + extra <= e {
                best = match best {
                    None => Some(m),
                    Some(b) => {
                        let (em, eb) = (efficiency(m), efficiency(b));
                        if em > eb || (em == eb && qef_esn0_db(m) < qef_esn0_db(b)) {
                            Some(m)
                        } else {
                            Some(b)
                        }
                    }
                }
            }
        }
        best.unwrap_or_else(|| {
            *set.iter()
                .min_by(|a, b| efficiency(**a).total_cmp(&efficiency(**b)))
                .unwrap()
        })
    }

    #[test]
    fn table_13_values_and_efficiencies() {
        let m = |s: &str| Modcod::parse(s).unwrap();
        assert_eq!(qef_esn0_db(m("qpsk-1/4")), -2.35);
        assert_eq!(qef_esn0_db(m("qpsk-1/2")), 1.00);
        assert_eq!(qef_esn0_db(m("8psk-3/5")), 5.50);
        assert_eq!(qef_esn0_db(m("16apsk-2/3")), 8.97);
        assert_eq!(qef_esn0_db(m("32apsk-9/10")), 16.05);
        // Within a constellation the threshold and efficiency grow with the rate.
        for w in Modcod::all().collect::<Vec<_>>().windows(2) {
            if w[0].modulation() == w[1].modulation() {
                assert!(qef_esn0_db(w[1]) > qef_esn0_db(w[0]));
                assert!(efficiency(w[1]) > efficiency(w[0]));
            }
        }
        // QPSK 1/2, normal frame, no pilots: 32208 bits in 90·361 = 32490 symbols.
        assert!((efficiency(m("qpsk-1/2")) - 32208.0 / 32490.0).abs() < 1e-12);
    }

    #[test]
    fn falling_and_rising_sweeps_change_as_the_table_says() {
        let all: Vec<Modcod> = Modcod::all().collect();
        let margin = 0.8;
        let mut p = policy(margin, 0.0, 1);
        // Falling from 18 dB to −4 dB in 0.05 dB steps: down at once at every boundary.
        let steps: Vec<f64> = (0..=440).map(|i| 18.0 - 0.05 * i as f64).collect();
        let mut expected = 0;
        let mut prev = oracle(&all, steps[0], margin);
        p.update(steps[0]);
        assert_eq!(p.current(), prev);
        let mut changes = 0;
        for &e in &steps[1..] {
            let want = oracle(&all, e, margin);
            if want != prev {
                expected += 1;
                prev = want;
            }
            if p.update(e).is_some() {
                changes += 1;
            }
            assert_eq!(p.current(), want, "at {e} dB");
            assert!(
                qef_esn0_db(p.current()) + margin <= e || p.current() == all[0],
                "above what {e} dB supports"
            );
        }
        eprintln!("falling sweep: {changes} changes (table: {expected})");
        assert_eq!(changes, expected);
        assert!(changes >= 10);
        // Rising with 1 dB hysteresis and 3 reports per step: every change needs 3
        // reports above the next threshold + margin + hysteresis.
        let mut p = policy(margin, 1.0, 3);
        let mut changes = 0;
        let mut prev = p.current();
        for i in 0..=440 {
            let e = -4.0 + 0.05 * i as f64;
            for _ in 0..3 {
                if let Some(c) = p.update(e) {
                    assert!(c.up);
                    changes += 1;
                }
                assert!(qef_esn0_db(p.current()) + (margin + 1.0) <= e || p.current() == all[0]);
            }
            assert_eq!(p.current(), oracle(&all, e, margin + 1.0), "at {e} dB");
            if p.current() != prev {
                prev = p.current();
            }
        }
        let distinct = {
            let mut v: Vec<Modcod> = (0..=440)
                .map(|i| oracle(&all, -4.0 + 0.05 * i as f64, margin + 1.0))
                .collect();
            v.dedup();
            v.len() - 1
        };
        eprintln!("rising sweep: {changes} changes (table: {distinct})");
        assert_eq!(changes, distinct);
    }

    #[test]
    fn an_allowed_subset_is_respected() {
        let set = parse_modcods("qpsk-1/4, qpsk-1/2,8psk-3/5,16apsk-3/4").unwrap();
        let mut p = AcmPolicy::new(AcmConfig {
            allowed: set.clone(),
            margin_db: 0.5,
            hysteresis_db: 0.0,
            up_reports: 1,
        })
        .unwrap();
        assert_eq!(p.current().name(), "qpsk-1/4");
        for e in [20.0, 9.0, 3.0, 1.6, 1.4, -10.0, 6.1, 5.9] {
            p.update(e);
            assert!(set.contains(&p.current()));
            assert_eq!(p.current(), oracle(&set, e, 0.5), "{e}");
        }
        assert!(parse_modcods("qpsk-1/4,64apsk-1/2")
            .unwrap_err()
            .contains("64apsk-1/2"));
        assert_eq!(parse_modcods("all").unwrap().len(), 28);
    }

    #[test]
    fn hysteresis_stops_flapping_on_noisy_estimates() {
        // Estimates scattered (σ 0.3 dB) around 8PSK 2/3's threshold + margin.
        let margin = 0.5;
        let centre = qef_esn0_db(Modcod::parse("8psk-2/3").unwrap()) + margin;
        let run = |hyst: f64, up: u32| {
            let mut p = policy(margin, hyst, up);
            let mut rng = Xoshiro256PlusPlus::seed_from_u64(7);
            let mut changes = 0;
            for _ in 0..2000 {
                let n: f64 = rng.sample(StandardNormal);
                let e = centre + 0.1 + 0.3 * n;
                if p.update(e).is_some() {
                    changes += 1;
                }
                assert!(qef_esn0_db(p.current()) + margin <= e || p.current().value() == 1);
            }
            changes
        };
        let (flappy, steady) = (run(0.0, 1), run(1.0, 4));
        eprintln!("2000 noisy reports: {flappy} changes without hysteresis, {steady} with");
        assert!(flappy > 100, "{flappy}");
        // Up once from the start, then (almost) never again.
        assert!(steady <= 3, "{steady}");
    }

    #[test]
    fn nan_reports_are_ignored_and_bad_configs_refused() {
        let mut p = policy(0.5, 0.0, 2);
        p.update(10.0);
        assert!(p.update(f64::NAN).is_none());
        assert!(p.update(10.0).is_none(), "the NaN restarted the count");
        assert!(p.update(10.0).is_some());
        let ok = AcmConfig::default();
        for bad in [
            AcmConfig {
                allowed: vec![],
                ..ok.clone()
            },
            AcmConfig {
                margin_db: f64::NAN,
                ..ok.clone()
            },
            AcmConfig {
                hysteresis_db: -1.0,
                ..ok.clone()
            },
            AcmConfig {
                up_reports: 0,
                ..ok.clone()
            },
        ] {
            assert!(AcmPolicy::new(bad).is_err());
        }
    }

    fn random_report(rng: &mut Xoshiro256PlusPlus) -> AcmReport {
        AcmReport {
            seq: rng.random(),
            esn0_db: rng
                .random_bool(0.8)
                .then(|| (rng.random_range(-5000..=5000) as f64) / 100.0),
            last_modcod: Modcod::new(rng.random_range(0..=28)),
            frames_ok: rng.random(),
            frames_failed: rng.random(),
        }
    }

    #[test]
    fn reports_round_trip() {
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(1);
        for _ in 0..10_000 {
            let r = random_report(&mut rng);
            assert_eq!(AcmReport::parse(&r.to_bytes()), Ok(r));
        }
        // Clamped and rounded on the wire.
        let r = AcmReport {
            seq: 1,
            esn0_db: Some(99.0),
            last_modcod: None,
            frames_ok: 0,
            frames_failed: 0,
        };
        assert_eq!(AcmReport::parse(&r.to_bytes()).unwrap().esn0_db, Some(50.0));
    }

    #[test]
    fn the_parser_refuses_garbage() {
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(2);
        // Random bytes of every length: never a panic, never a report.
        for _ in 0..200_000 {
            let n = rng.random_range(0..40);
            let b: Vec<u8> = (0..n).map(|_| rng.random()).collect();
            assert!(AcmReport::parse(&b).is_err());
        }
        // Random bytes behind a good magic and version: still refused.
        for _ in 0..100_000 {
            let mut b: [u8; REPORT_LEN] = rng.random();
            b[0..2].copy_from_slice(&REPORT_MAGIC);
            b[2] = REPORT_VERSION;
            assert!(AcmReport::parse(&b).is_err());
        }
        let good = random_report(&mut rng).to_bytes();
        // Every single-bit error, every cut and extension.
        for i in 0..REPORT_LEN * 8 {
            let mut b = good;
            b[i / 8] ^= 1 << (i % 8);
            assert!(AcmReport::parse(&b).is_err(), "bit {i}");
        }
        for n in 0..REPORT_LEN {
            assert_eq!(AcmReport::parse(&good[..n]), Err(ReportError::Length(n)));
        }
        let mut long = good.to_vec();
        long.push(0);
        assert_eq!(AcmReport::parse(&long), Err(ReportError::Length(21)));
        // Well-formed fields out of range (with a correct CRC) are refused by name.
        let resign = |mut b: [u8; REPORT_LEN]| {
            let crc = crc16_ccitt(&b[..18]);
            b[18..20].copy_from_slice(&crc.to_be_bytes());
            b
        };
        let mut b = good;
        b[2] = 2;
        assert_eq!(AcmReport::parse(&resign(b)), Err(ReportError::Version(2)));
        let mut b = good;
        b[8] = 29;
        assert_eq!(AcmReport::parse(&resign(b)), Err(ReportError::Modcod(29)));
        let mut b = good;
        b[3] = 1;
        b[6..8].copy_from_slice(&6000i16.to_be_bytes());
        assert_eq!(AcmReport::parse(&resign(b)), Err(ReportError::Esn0(6000)));
        let mut b = good;
        b[9] = 1;
        assert_eq!(AcmReport::parse(&resign(b)), Err(ReportError::Reserved));
        assert!(ReportError::Crc.to_string().contains("CRC"));
    }
}
