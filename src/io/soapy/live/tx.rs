//! The TX sink: opening a transmitting stream and writing chunks to it.

use super::*;

pub(in crate::io::soapy) fn open_tx(cfg: &DeviceConfig) -> Result<TxDevice> {
    if !(cfg.stall_timeout.is_finite() && cfg.stall_timeout > 0.0) {
        return Err(Error::config(
            "--device-timeout",
            format!("{} s is not a usable timeout", cfg.stall_timeout),
        ));
    }
    let (dev, settings) = setup(cfg, Direction::Tx)?;
    let a = cfg.args.as_str();
    let mut stream: TxStream<Complex32> = dev
        .tx_stream(&[cfg.channel])
        .map_err(|e| dev_err(a, "cannot open the TX stream", e))?;
    stream
        .activate(None)
        .map_err(|e| dev_err(a, "cannot start the TX stream", e))?;
    let underflows = Arc::new(AtomicU64::new(0));
    let sink = SoapyTx {
        name: format!("soapy:{a}"),
        args: a.to_string(),
        _dev: dev,
        stream,
        rate: settings.sample_rate,
        underflows: underflows.clone(),
        written: 0,
        started: Instant::now(),
        stall: Duration::from_secs_f64(cfg.stall_timeout),
        status_supported: true,
        finished: false,
    };
    Ok(TxDevice {
        sink: DeviceSink {
            inner: Box::new(sink),
        },
        underflows,
        settings,
    })
}

/// The TX sink.
struct SoapyTx {
    name: String,
    args: String,
    _dev: Device,
    stream: TxStream<Complex32>,
    rate: f64,
    underflows: Arc<AtomicU64>,
    written: u64,
    started: Instant,
    stall: Duration,
    status_supported: bool,
    finished: bool,
}

impl SoapyTx {
    /// Reads the stream status events waiting; counts underflows.
    fn poll_status(&mut self, timeout_us: i64) {
        while self.status_supported {
            let (mut mask, mut flags, mut t) = (0usize, 0i32, 0i64);
            match self
                .stream
                .read_status(&mut mask, &mut flags, &mut t, timeout_us)
            {
                Ok(_) => {}
                Err(e) if e.code == ErrorCode::Underflow => {
                    self.underflows.fetch_add(1, Ordering::Relaxed);
                }
                Err(e) if e.code == ErrorCode::NotSupported => self.status_supported = false,
                Err(_) => break,
            }
            if timeout_us > 0 {
                break;
            }
        }
    }

    fn fail(&self, what: &str, e: soapysdr::Error) -> Error {
        Error::config(
            "--device",
            format!(
                "device {} failed while transmitting ({what}): {}; was it unplugged?",
                self.args,
                err_text(&e)
            ),
        )
    }
}

impl Sink for SoapyTx {
    type In = Complex32;
    fn name(&self) -> &str {
        &self.name
    }

    fn consume(&mut self, chunk: &Chunk<Complex32>) -> Result<()> {
        let mut data = &chunk.data[..];
        let mut stalled: Option<Instant> = None;
        while !data.is_empty() {
            match self.stream.write(&[data], None, false, READ_TIMEOUT_US) {
                Ok(n) if n > 0 => {
                    data = &data[n.min(data.len())..];
                    self.written += n as u64;
                    stalled = None;
                }
                Ok(_)
                | Err(soapysdr::Error {
                    code: ErrorCode::Timeout,
                    ..
                }) => {
                    let since = *stalled.get_or_insert_with(Instant::now);
                    if since.elapsed() > self.stall {
                        return Err(Error::config(
                            "--device",
                            format!(
                                "device {} stopped accepting samples: no room for {:.1} s",
                                self.args,
                                since.elapsed().as_secs_f64()
                            ),
                        ));
                    }
                }
                Err(e) if e.code == ErrorCode::Underflow => {
                    self.underflows.fetch_add(1, Ordering::Relaxed);
                }
                Err(e) => return Err(self.fail("write", e)),
            }
            self.poll_status(0);
        }
        Ok(())
    }

    fn finish(&mut self) -> Result<()> {
        if self.finished {
            return Ok(());
        }
        self.finished = true;
        // End of burst: the device does not report the end of the samples as an
        // underflow. Not every driver accepts an empty write; that is harmless.
        let _ = self.stream.write(&[&[]], None, true, READ_TIMEOUT_US);
        // Let the device send what it holds: the samples written beyond the time
        // elapsed, at most 2 s.
        let queued = self.written as f64 / self.rate - self.started.elapsed().as_secs_f64();
        let until = Instant::now() + Duration::from_secs_f64(queued.clamp(0.0, 2.0));
        loop {
            self.poll_status(0);
            let now = Instant::now();
            if now >= until {
                break;
            }
            std::thread::sleep((until - now).min(Duration::from_millis(10)));
        }
        if self.stream.active() {
            self.stream
                .deactivate(None)
                .map_err(|e| self.fail("stop the stream", e))?;
        }
        Ok(())
    }
}
