//! A lock-free hand-over link between the two threads of a split demodulator.

use leomodem_dsp::modem::demod::HandoverLink;
#[cfg(doc)]
use leomodem_dsp::modem::PskDemodulator;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;

/// The hand-over link of a demodulator split across two threads
/// ([`PskDemodulator::split`]): the back end's decisions in a ring of atomics, and a
/// front end that waits for one spins briefly, then yields, then sleeps 50 µs at a time
/// (it waits only when it is the whole hand-over lag, about 0.1 s of signal, ahead).
pub struct AtomicHandover {
    ring: Box<[AtomicU64]>,
    /// Number of global blocks whose decisions are published (0..published).
    published: AtomicU64,
    /// The back end has gone.
    closed: AtomicBool,
}

impl AtomicHandover {
    /// A link whose decisions of global blocks `0..blocks` are published, block `g`'s
    /// at `ring[g % ring.len()]` (what [`PskDemodulator::handover_backlog`] gives).
    pub fn with_backlog(blocks: u64, ring: &[f64]) -> Arc<Self> {
        Arc::new(AtomicHandover {
            ring: ring.iter().map(|d| AtomicU64::new(d.to_bits())).collect(),
            published: AtomicU64::new(blocks),
            closed: AtomicBool::new(false),
        })
    }
}

impl HandoverLink for AtomicHandover {
    fn publish(&self, block: u64, value: f64) {
        let len = self.ring.len() as u64;
        self.ring[(block % len) as usize].store(value.to_bits(), Ordering::Relaxed);
        // Release: the value above is visible to whoever sees the new count.
        self.published.store(block + 1, Ordering::Release);
    }

    fn wait(&self, block: u64, reachable: bool) -> Option<f64> {
        let len = self.ring.len() as u64;
        let mut spins = 0u32;
        loop {
            if self.published.load(Ordering::Acquire) > block {
                let bits = self.ring[(block % len) as usize].load(Ordering::Relaxed);
                return Some(f64::from_bits(bits));
            }
            if self.closed.load(Ordering::Acquire) {
                return Some(0.0);
            }
            if !reachable {
                return None;
            }
            spins += 1;
            if spins < 64 {
                std::hint::spin_loop();
            } else if spins < 256 {
                std::thread::yield_now();
            } else {
                std::thread::sleep(std::time::Duration::from_micros(50));
            }
        }
    }

    fn close(&self) {
        self.closed.store(true, Ordering::Release);
    }
}
