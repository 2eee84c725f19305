//! The frequency hand-over from the carrier loop to the NCO (see the parent module's
//! docs), and the link that carries its decisions from a split demodulator's back end to
//! its front end.

#[cfg(doc)]
use super::{DemodBack, DemodFront};
use crate::sync::CarrierLoop;
use std::sync::Arc;

/// Share of the carrier loop's frequency handed to the NCO per block.
const HANDOVER_FRACTION: f64 = 0.25;

/// The frequency hand-over from the carrier loop to the NCO (module docs): decided at
/// the end of block `j`, applied at the end of block `j + lag`.
#[derive(Clone, Debug)]
pub(super) struct Handover {
    pub(super) lag: u64,
    /// Blocks `j ≤ quiet` (the acquisition block's) decide nothing, so the front end
    /// never waits while it demodulates the acquisition block in one go.
    pub(super) quiet: u64,
    /// Decisions by block index modulo `lag + 1`.
    pub(super) ring: Vec<f64>,
    /// Sum of the decisions not yet applied (rad/symbol).
    pub(super) pending: f64,
}

impl Handover {
    pub(super) fn new(lag: u64, quiet: u64) -> Self {
        Handover {
            lag,
            quiet,
            ring: vec![0.0; lag as usize + 1],
            pending: 0.0,
        }
    }

    /// Whether the amount due at the end of block `j` may be non-zero.
    pub(super) fn has_due(&self, j: u64) -> bool {
        j > self.lag && j - self.lag > self.quiet
    }

    /// A retune at the end of block `j` (the carrier loop restarts): the decisions made
    /// up to block `j` are dropped, on both sides of a split chain alike.
    pub(super) fn retune(&mut self, j: u64) {
        self.quiet = self.quiet.max(j);
        self.ring.iter_mut().for_each(|v| *v = 0.0);
        self.pending = 0.0;
    }

    /// At the end of block `j` (the input count reached `j·BLOCK`): takes the amount
    /// decided `lag` blocks ago out of `carrier` and returns it (rad/symbol, for the
    /// NCO), then decides the next one. The same arithmetic runs in the one-thread
    /// chain and in the back end.
    #[inline]
    pub(super) fn block_end(&mut self, j: u64, carrier: &mut CarrierLoop) -> (f64, f64) {
        let len = self.ring.len() as u64;
        let h = if self.has_due(j) {
            self.ring[((j - self.lag) % len) as usize]
        } else {
            0.0
        };
        if h != 0.0 {
            // Exactly (to an ulp) `h` out of the loop's frequency.
            let f = h / carrier.frequency();
            if f.is_finite() {
                carrier.take_frequency(f);
            }
            self.pending -= h;
        }
        let d = if j > self.quiet {
            HANDOVER_FRACTION * (carrier.frequency() - self.pending)
        } else {
            0.0
        };
        self.ring[(j % len) as usize] = d;
        self.pending += d;
        (h, d)
    }
}

/// Carries the hand-over decisions of a split demodulator from its [`DemodBack`] to its
/// [`DemodFront`], by global block index (counted across re-acquisitions). The halves
/// usually run on two threads; this crate has none, so the application implements the
/// link (shared memory, a channel, …). Every block's decision is published once, in
/// block order, and a front end asks for a block's decision at most once.
pub trait HandoverLink: Send + Sync {
    /// Back end: the decision of global block `block` is `value`.
    fn publish(&self, block: u64, value: f64);
    /// Front end: the decision of global block `block`, waiting for the back end to
    /// publish it. `reachable` says whether the back end has been given everything it
    /// needs to publish it (the block was completed before the front end's current
    /// call); if not, and it is not published yet, waiting would never end: return
    /// `None` (the front end then counts a miss, see [`DemodFront::handover_misses`]).
    /// Once the back end is gone ([`close`](Self::close)), return `Some(0.0)`: nobody
    /// uses the output any more.
    fn wait(&self, block: u64, reachable: bool) -> Option<f64>;
    /// Back end: it has gone (dropped); a front end must not wait for it any more.
    fn close(&self);
}

/// The front end's side of the hand-over link.
#[derive(Clone)]
pub(super) struct FrontLink {
    pub(super) link: Arc<dyn HandoverLink>,
    /// Global index of this chain's block 0.
    pub(super) base: u64,
    /// Global blocks whose decisions can arrive (completed before the current call).
    pub(super) sendable: u64,
    /// Decisions asked for that could not arrive (an input chunk longer than
    /// [`DemodFront::max_chunk`]); applied as 0.
    pub(super) misses: u64,
}

impl FrontLink {
    /// The decision of global block `g` (0 when it cannot arrive).
    pub(super) fn wait(&mut self, g: u64) -> f64 {
        match self.link.wait(g, g <= self.sendable) {
            Some(d) => d,
            None => {
                self.misses += 1;
                0.0
            }
        }
    }
}

impl std::fmt::Debug for FrontLink {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FrontLink")
            .field("base", &self.base)
            .field("sendable", &self.sendable)
            .finish()
    }
}

/// A [`HandoverLink`] for running both halves of a split demodulator on one thread,
/// one after the other (tests, offline tools): the front end is given at most
/// [`DemodFront::max_chunk`] samples per call, and the back end then processes
/// everything the front end produced before the front end is called again, so every
/// decision the front end asks for is already published.
#[derive(Debug)]
pub struct SequentialLink {
    /// (decisions published: global blocks `0..n`; decisions by block modulo length).
    state: std::sync::Mutex<(u64, Vec<f64>)>,
    closed: std::sync::atomic::AtomicBool,
}

impl SequentialLink {
    /// A link starting with the published decisions `(blocks, ring)` of
    /// [`PskDemodulator::handover_backlog`](super::PskDemodulator::handover_backlog).
    pub fn with_backlog(blocks: u64, ring: &[f64]) -> Arc<Self> {
        Arc::new(SequentialLink {
            state: std::sync::Mutex::new((blocks, ring.to_vec())),
            closed: std::sync::atomic::AtomicBool::new(false),
        })
    }
}

impl HandoverLink for SequentialLink {
    fn publish(&self, block: u64, value: f64) {
        if let Ok(mut s) = self.state.lock() {
            let len = s.1.len() as u64;
            s.1[(block % len) as usize] = value;
            s.0 = block + 1;
        }
    }

    fn wait(&self, block: u64, _reachable: bool) -> Option<f64> {
        if self.closed.load(std::sync::atomic::Ordering::Acquire) {
            return Some(0.0);
        }
        // Nobody else runs: a decision not published now never will be.
        let s = self.state.lock().ok()?;
        (s.0 > block).then(|| s.1[(block % s.1.len() as u64) as usize])
    }

    fn close(&self) {
        self.closed
            .store(true, std::sync::atomic::Ordering::Release);
    }
}
