//! The RX source: opening a receiving stream and reading it into chunks.

use super::*;
use crate::io::soapy::clock::{rx_chunk_len, Placement, StreamClock};
use crate::io::soapy::recorder::{stream_info, Recorder};
use crate::io::CaptureMeta;

pub(in crate::io::soapy) fn open_rx(
    cfg: &DeviceConfig,
    record: Option<Recording>,
) -> Result<RxDevice> {
    if let Some(d) = cfg.duration {
        if !(d.is_finite() && d > 0.0) {
            return Err(Error::config(
                "--duration",
                format!("{d} s is not a usable duration"),
            ));
        }
    }
    if !(cfg.stall_timeout.is_finite() && cfg.stall_timeout > 0.0) {
        return Err(Error::config(
            "--device-timeout",
            format!("{} s is not a usable timeout", cfg.stall_timeout),
        ));
    }
    let (dev, settings) = setup(cfg, Direction::Rx)?;
    let a = cfg.args.as_str();
    let rate = settings.sample_rate;
    let mut stream: RxStream<Complex32> = dev
        .rx_stream(&[cfg.channel])
        .map_err(|e| dev_err(a, "cannot open the RX stream", e))?;
    let mtu = stream.mtu().unwrap_or(0);
    let chunk_len = rx_chunk_len(rate);
    let max_read = if mtu == 0 {
        chunk_len
    } else {
        mtu.clamp(1024, chunk_len)
    };
    stream
        .activate(None)
        .map_err(|e| dev_err(a, "cannot start the RX stream", e))?;
    let counters = RxCounters::default();
    let retuner = Retuner::new(cfg.freq);
    let mut rx = SoapyRx {
        name: format!("soapy:{a}"),
        args: a.to_string(),
        dev,
        stream,
        settings: settings.clone(),
        ppm: cfg.ppm,
        chunk_len,
        max_read,
        clock: StreamClock::new(rate),
        counters: counters.clone(),
        retuner: retuner.clone(),
        stall: Duration::from_secs_f64(cfg.stall_timeout),
        last_data: Instant::now(),
        limit: cfg.duration.map(|d| (d * rate).round().max(1.0) as u64),
        held: Vec::with_capacity(max_read),
        held_place: None,
        pending_overflow: false,
        deferred: None,
        recorder: None,
        done: false,
    };
    // The first samples: they give the true time of sample 0.
    let mut first = Chunk::new();
    first.data.reserve(max_read);
    let place = loop {
        if let Some(p) = rx.read_once(&mut first.data, max_read)? {
            break p;
        }
    };
    let start = place.time;
    rx.held.append(&mut first.data);
    rx.held_place = Some(place);
    let recording = record.as_ref().map(|r| r.path.clone());
    if let Some(r) = record {
        let meta = CaptureMeta {
            sample_rate: rate,
            center_freq: Some(cfg.freq),
            start_time: Some(start),
            description: Some(format!("Received by leomodem from SoapySDR device {a}")),
            extra_global: {
                let mut g = Map::new();
                g.insert("leomodem:device".into(), a.into());
                g
            },
        };
        rx.recorder = Some(Recorder::create(&r, &meta)?);
    }
    let info = stream_info(cfg, rate, start);
    Ok(RxDevice {
        source: Box::new(rx),
        info,
        counters,
        settings,
        recording,
        retuner,
    })
}

/// The RX source.
struct SoapyRx {
    name: String,
    args: String,
    dev: Device,
    stream: RxStream<Complex32>,
    settings: DeviceSettings,
    ppm: f64,
    chunk_len: usize,
    max_read: usize,
    clock: StreamClock,
    counters: RxCounters,
    retuner: Retuner,
    stall: Duration,
    last_data: Instant,
    limit: Option<u64>,
    /// Samples read but not yet delivered (they follow a gap, or are the first).
    held: Vec<Complex32>,
    held_place: Option<Placement>,
    pending_overflow: bool,
    /// An error to return once the samples read before it are delivered.
    deferred: Option<Error>,
    recorder: Option<Recorder>,
    done: bool,
}

impl SoapyRx {
    /// One read appended to `buf` (at most `max` samples). `Ok(None)`: nothing came
    /// (timeout or overflow; counted); an error when the device stalled or failed.
    fn read_once(&mut self, buf: &mut Vec<Complex32>, max: usize) -> Result<Option<Placement>> {
        let start = buf.len();
        buf.resize(start + max, Complex32::default());
        let r = self.stream.read(&mut [&mut buf[start..]], READ_TIMEOUT_US);
        match r {
            Ok(n) if n > 0 => {
                buf.truncate(start + n);
                self.last_data = Instant::now();
                let overflow = std::mem::take(&mut self.pending_overflow);
                let p = self
                    .clock
                    .place(n, self.stream.time_ns(), overflow, Timestamp::now());
                if p.gap > 0 {
                    if !overflow {
                        // Seen only in the time stamps.
                        self.counters.overflows.fetch_add(1, Ordering::Relaxed);
                    }
                    if p.known {
                        self.counters
                            .samples_lost
                            .fetch_add(p.gap, Ordering::Relaxed);
                    } else {
                        self.counters.unknown_losses.fetch_add(1, Ordering::Relaxed);
                    }
                }
                Ok(Some(p))
            }
            Ok(_) => {
                buf.truncate(start);
                self.check_stall()?;
                Ok(None)
            }
            Err(e) => {
                buf.truncate(start);
                match e.code {
                    ErrorCode::Timeout => {
                        self.counters.timeouts.fetch_add(1, Ordering::Relaxed);
                        self.check_stall()?;
                        Ok(None)
                    }
                    ErrorCode::Overflow | ErrorCode::Corruption => {
                        self.counters.overflows.fetch_add(1, Ordering::Relaxed);
                        self.pending_overflow = true;
                        self.check_stall()?;
                        Ok(None)
                    }
                    _ => Err(Error::config(
                        "--device",
                        format!(
                            "device {} failed while receiving: {}; \
                             was it unplugged?",
                            self.args,
                            err_text(&e)
                        ),
                    )),
                }
            }
        }
    }

    fn check_stall(&self) -> Result<()> {
        let idle = self.last_data.elapsed();
        if idle > self.stall {
            return Err(Error::config(
                "--device",
                format!(
                    "device {} stopped delivering samples: none for {:.1} s",
                    self.args,
                    idle.as_secs_f64()
                ),
            ));
        }
        Ok(())
    }

    fn apply_retune(&mut self) -> Result<()> {
        let Some(f) = self.retuner.take_request() else {
            return Ok(());
        };
        tune(&self.dev, Direction::Rx, &mut self.settings, self.ppm, f)?;
        let sample = self.clock.next_sample();
        let time = self.clock.time_of(sample);
        self.retuner.applied(RetuneEvent {
            sample,
            freq_hz: f,
            time,
        });
        if let Some(r) = self.recorder.as_mut() {
            r.retuned(f, time);
        }
        Ok(())
    }

    /// Ends the recording; returns `e` (or the recording's error).
    fn end(&mut self, e: Option<Error>) -> Result<bool> {
        self.done = true;
        let rec = self.recorder.as_mut().map_or(Ok(()), |r| r.finish());
        match (e, rec) {
            (Some(e), Ok(())) => Err(e),
            (Some(e), Err(r)) => Err(Error::config(
                "--device",
                format!("{e}; and the recording failed: {r}"),
            )),
            (None, Err(r)) => Err(r),
            (None, Ok(())) => Ok(false),
        }
    }

    fn fill_inner(&mut self, out: &mut Chunk<Complex32>) -> Result<bool> {
        if let Some(e) = self.deferred.take() {
            return self.end(Some(e));
        }
        if self.done {
            return Ok(false);
        }
        if let Err(e) = self.apply_retune() {
            return self.end(Some(e));
        }
        out.data.clear();
        out.data.reserve(self.chunk_len);
        let mut place = self.held_place.take();
        if place.is_some() {
            out.data.extend_from_slice(&self.held);
            self.held.clear();
        }
        while out.data.len() < self.chunk_len {
            let start = out.data.len();
            let mut max = (self.chunk_len - start).min(self.max_read);
            if let Some(limit) = self.limit {
                // Read no further than --duration asks.
                let left = limit.saturating_sub(self.clock.next_sample());
                if left == 0 && place.is_some() {
                    break;
                }
                max = max.min(left.max(1) as usize);
            }
            let got = match self.read_once(&mut out.data, max) {
                Ok(g) => g,
                Err(e) if start > 0 => {
                    self.deferred = Some(e);
                    break;
                }
                Err(e) => return self.end(Some(e)),
            };
            match (got, place) {
                (Some(p), None) => place = Some(p),
                (Some(p), Some(_)) if p.gap > 0 => {
                    // A chunk never spans a gap: keep these for the next one.
                    self.held.extend_from_slice(&out.data[start..]);
                    out.data.truncate(start);
                    self.held_place = Some(p);
                    break;
                }
                (Some(_), Some(_)) => {}
                // Timeout or overflow: deliver what there is (an empty chunk is
                // skipped), so that the stop flag is seen.
                (None, _) => break,
            }
        }
        let Some(p) = place else {
            return Ok(true); // nothing yet: an empty chunk is skipped
        };
        out.first_sample = p.first_sample;
        out.time = Some(p.time);
        out.gap = p.gap;
        let mut finished = false;
        if let Some(limit) = self.limit {
            let room = limit.saturating_sub(p.first_sample);
            if out.data.len() as u64 >= room {
                out.data.truncate(room as usize);
                finished = true;
            }
        }
        self.counters
            .samples
            .fetch_add(out.data.len() as u64, Ordering::Relaxed);
        if let Some(r) = self.recorder.as_mut() {
            let gap_time = (p.gap > 0).then_some(p.time);
            if let Err(e) = r.write(&out.data, gap_time) {
                return self.end(Some(e));
            }
        }
        if finished {
            return self.end(None);
        }
        Ok(true)
    }
}

impl Source for SoapyRx {
    type Out = Complex32;
    fn name(&self) -> &str {
        &self.name
    }
    fn fill(&mut self, out: &mut Chunk<Complex32>) -> Result<bool> {
        self.fill_inner(out)
    }
}

impl Drop for SoapyRx {
    fn drop(&mut self) {
        if self.stream.active() {
            let _ = self.stream.deactivate(None);
        }
        // The recorder finishes itself when dropped.
    }
}
