//! Doppler of the link at the terminal (issue 20, item 3): the forward link's predicted
//! carrier Doppler is removed from the received samples and the return link's is
//! pre-compensated on the transmitted ones, so the gateway (which needs no TLE) and the
//! terminal's own receiver both see a carrier within their loops' range.
//!
//! A [`LinkDoppler`] owns a [`DopplerRotator`] (sign −1: multiply by `e^{−j2π∫f_d dt}`) and
//! feeds it knots every [`KNOT_SECONDS`] of stream time from an SGP4 prediction
//! ([`DopplerPredictor`]). Stream sample `n` is at pass time `start + time_scale · n / fs`,
//! the same mapping as `leomodem channel` (see [`crate::duplex`]), whose carrier Doppler is
//! the physical `f_d = −f_c · ṙ / c` at any time scale.
//!
//! - Receive ([`LinkDoppler::receive`]): `f_d` of the signal arriving at sample `n`,
//!   `ṙ` at `T(n)`.
//! - Transmit ([`LinkDoppler::transmit`]): `f_d` of the signal leaving at sample `n`, as
//!   the satellite sees it when it arrives there: `ṙ` at `T(n) + time_scale · range/c`
//!   (light time, as `tx --tle` does).
//!
//! Knots sit at fixed absolute samples, so chunking never changes the output.

use leomodem_dsp::doppler::{DopplerKnot, DopplerRotator};
use leomodem_dsp::Complex32;

use crate::error::{Error, Result};
use crate::orbit::{DopplerPredictor, SPEED_OF_LIGHT};
use crate::time::Timestamp;

/// Stream seconds between two Doppler knots.
pub const KNOT_SECONDS: f64 = 0.05;

/// A pass as the link sees it: the geometry, the pass time of stream sample 0 and the
/// pass seconds per stream second.
#[derive(Clone, Debug)]
pub struct LinkPass {
    /// Geometry of the satellite seen from the terminal.
    pub predictor: DopplerPredictor,
    /// Pass time of stream sample 0.
    pub start: Timestamp,
    /// Pass seconds per stream second (1 for a real pass; `leomodem channel --time-scale`).
    pub time_scale: f64,
}

/// Removes (receive) or pre-compensates (transmit) a predicted carrier Doppler.
#[derive(Debug)]
pub struct LinkDoppler {
    pass: LinkPass,
    carrier_hz: f64,
    light_time: bool,
    rotator: DopplerRotator,
    sample_rate: f64,
    step: u64,
    next_knot: u64,
    last_hz: f64,
}

impl LinkDoppler {
    /// Removes the Doppler of a signal received on `carrier_hz`.
    pub fn receive(pass: LinkPass, carrier_hz: f64, sample_rate: f64) -> Result<Self> {
        Self::new(pass, carrier_hz, sample_rate, false)
    }

    /// Pre-compensates the Doppler of a signal transmitted on `carrier_hz`.
    pub fn transmit(pass: LinkPass, carrier_hz: f64, sample_rate: f64) -> Result<Self> {
        Self::new(pass, carrier_hz, sample_rate, true)
    }

    fn new(pass: LinkPass, carrier_hz: f64, sample_rate: f64, light_time: bool) -> Result<Self> {
        if !(carrier_hz.is_finite() && carrier_hz > 0.0 && carrier_hz < 1e12) {
            return Err(Error::config(
                "--forward-carrier/--return-carrier",
                format!("{carrier_hz} Hz is not a carrier frequency (positive, below 1 THz)"),
            ));
        }
        if !(pass.time_scale.is_finite() && pass.time_scale > 0.0) {
            return Err(Error::config(
                "--time-scale",
                format!("{} is not a positive factor", pass.time_scale),
            ));
        }
        let rotator = DopplerRotator::new(sample_rate, -1.0).map_err(crate::cli::option_error)?;
        Ok(LinkDoppler {
            pass,
            carrier_hz,
            light_time,
            rotator,
            sample_rate,
            step: ((KNOT_SECONDS * sample_rate).round() as u64).max(1),
            next_knot: 0,
            last_hz: 0.0,
        })
    }

    /// The carrier Doppler predicted at stream sample `n`, Hz.
    pub fn doppler_at(&self, n: u64) -> Result<f64> {
        let t = self
            .pass
            .start
            .add_seconds(self.pass.time_scale * n as f64 / self.sample_rate);
        let mut look = self.pass.predictor.look(t)?;
        if self.light_time {
            let arrive = t.add_seconds(self.pass.time_scale * look.range_m / SPEED_OF_LIGHT);
            look = self.pass.predictor.look(arrive)?;
        }
        Ok(-self.carrier_hz * look.range_rate_m_s / SPEED_OF_LIGHT)
    }

    /// The Doppler of the last knot pushed, Hz (what is being removed now, within a knot).
    pub fn current_hz(&self) -> f64 {
        self.last_hz
    }

    /// Rotates the next `buf.len()` samples of the stream in place.
    pub fn process(&mut self, buf: &mut [Complex32]) -> Result<()> {
        let end = self.rotator.position() + buf.len() as u64;
        while self.next_knot <= end + self.step {
            let hz = self.doppler_at(self.next_knot)?;
            self.rotator.push_knot(DopplerKnot {
                sample: self.next_knot,
                freq_hz: hz,
                code_scale: 1.0,
            });
            self.last_hz = hz;
            self.next_knot += self.step;
        }
        self.rotator.process_in_place(buf);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::orbit::{Observer, Satellite, Tle};

    fn pass(time_scale: f64) -> LinkPass {
        let list = Tle::from_file(std::path::Path::new("tests/orbit/starlink-2020-05-07.tle"))
            .expect("TLE");
        let tle = crate::orbit::select(&list, Some("STARLINK-1007"))
            .unwrap()
            .clone();
        let observer = Observer::parse("47,4,35", "--observer").unwrap();
        LinkPass {
            predictor: DopplerPredictor::geometry_only(Satellite::new(&tle).unwrap(), observer),
            start: Timestamp::parse_iso8601("2020-05-07T14:44:51Z", "t").unwrap(),
            time_scale,
        }
    }

    /// A tone at the predicted Doppler comes out at 0 Hz; chunking changes nothing.
    #[test]
    fn removes_the_predicted_doppler_whatever_the_chunks() {
        let fs = 200_000.0;
        let fc = 11.7e9;
        let mut d = LinkDoppler::receive(pass(20.0), fc, fs).unwrap();
        let n = 40_000usize;
        // The signal: the Doppler profile the channel applies (phase = integral of f_d).
        let mut phase = 0.0f64;
        let mut sig = Vec::with_capacity(n);
        for i in 0..n {
            sig.push(Complex32::from_polar(1.0, phase as f32));
            phase += std::f64::consts::TAU * d.doppler_at(i as u64).unwrap() / fs;
            phase %= std::f64::consts::TAU;
        }
        let f0 = d.doppler_at(0).unwrap();
        assert!(f0.abs() > 100e3, "a Doppler beyond the loops: {f0} Hz");
        let mut a = sig.clone();
        d.process(&mut a).unwrap();
        // Residual frequency from the phase steps: below 1 Hz everywhere after the first knot.
        for w in a[1..].windows(2).step_by(997) {
            let f = (w[1] * w[0].conj()).arg() as f64 * fs / std::f64::consts::TAU;
            assert!(f.abs() < 50.0, "residual {f} Hz");
        }
        let mut b = sig.clone();
        let mut e = LinkDoppler::receive(pass(20.0), fc, fs).unwrap();
        let mut off = 0;
        for (k, len) in [1usize, 777, 12_345, 3, 9000].iter().cycle().enumerate() {
            if off >= n {
                break;
            }
            let l = (*len + k).min(n - off);
            e.process(&mut b[off..off + l]).unwrap();
            off += l;
        }
        assert_eq!(a, b, "chunking changed the output");
    }

    #[test]
    fn transmit_uses_the_light_time() {
        let fs = 1e6;
        let rx = LinkDoppler::receive(pass(1.0), 14.2e9, fs).unwrap();
        let tx = LinkDoppler::transmit(pass(1.0), 14.2e9, fs).unwrap();
        let (a, b) = (rx.doppler_at(0).unwrap(), tx.doppler_at(0).unwrap());
        assert!(a != b && (a - b).abs() < 2_000.0, "{a} vs {b}");
        assert!(LinkDoppler::receive(pass(1.0), -5.0, fs).is_err());
        assert!(LinkDoppler::receive(pass(0.0), 1e9, fs).is_err());
    }
}
