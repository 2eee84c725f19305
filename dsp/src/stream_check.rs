//! One test check for every streaming kernel, as RustFFT's `check_fft_algorithm` is for
//! every FFT: the kernel runs at every SIMD level and under many chunkings of one input,
//! against the one-shot scalar run as the oracle.
//!
//! What [`StreamCheck::run`] asserts, for each SIMD level asked for (each clamped to what
//! the CPU has, see [`Level::clamp`]; a level the CPU lacks runs the best one below it):
//!
//! 1. the level's one-shot output (the whole input in one call) agrees with the scalar
//!    one-shot output by the kernel's own rule (`agree`: [`exact`] for kernels whose paths
//!    are bit-identical, a documented tolerance for float kernels whose sums differ in
//!    order);
//! 2. under every chunking — fixed sizes (default 1, 7, 1000, 4096) and seeded random
//!    ones (empty chunks included) — the level's output is *identical* to its own one-shot
//!    output: the way a stream is cut never changes a result (DESIGN.md, "the shape of a
//!    kernel").
//!
//! A fresh kernel is made for every run (`make(level)`), so no state leaks between runs.
//! The check returns the scalar one-shot output for the test's own further assertions.

use crate::simd::Level;
use rand::{Rng, SeedableRng};
use rand_xoshiro::Xoshiro256PlusPlus;

/// Every SIMD level (scalar, AVX2, AVX-512).
pub(crate) const ALL_LEVELS: [Level; 3] = [Level::Scalar, Level::Avx2, Level::Avx512];

/// The check of one kernel on one input (see the module documentation).
pub(crate) struct StreamCheck<'a, I> {
    name: String,
    input: &'a [I],
    levels: Vec<Level>,
    fixed: Vec<usize>,
    random: usize,
    max_chunk: usize,
    seed: u64,
}

/// `a == b`, for kernels whose SIMD paths are bit-identical to the scalar one.
pub(crate) fn exact<O: PartialEq>(a: &O, b: &O) -> Result<(), String> {
    if a == b {
        Ok(())
    } else {
        Err("differs from the scalar output".into())
    }
}

impl<'a, I> StreamCheck<'a, I> {
    /// A check named `name` (in every failure message) over `input`: scalar only, fixed
    /// chunk sizes 1, 7, 1000, 4096, three random chunkings of up to 5000 items.
    pub(crate) fn new(name: impl Into<String>, input: &'a [I]) -> Self {
        StreamCheck {
            name: name.into(),
            input,
            levels: vec![Level::Scalar],
            fixed: vec![1, 7, 1000, 4096],
            random: 3,
            max_chunk: 5000,
            seed: 0x5eed,
        }
    }

    /// Runs the kernel at each of `levels` too (the scalar one is always run, as the oracle).
    pub(crate) fn levels(mut self, levels: &[Level]) -> Self {
        self.levels = levels.to_vec();
        self
    }

    /// Fixed chunk sizes (each ≥ 1) instead of 1, 7, 1000, 4096.
    pub(crate) fn chunks(mut self, fixed: &[usize]) -> Self {
        assert!(fixed.iter().all(|&n| n > 0));
        self.fixed = fixed.to_vec();
        self
    }

    /// `count` random chunkings with chunk sizes in `0..=max_chunk`.
    pub(crate) fn random(mut self, count: usize, max_chunk: usize) -> Self {
        self.random = count;
        self.max_chunk = max_chunk;
        self
    }

    /// Seed of the random chunkings.
    pub(crate) fn seed(mut self, seed: u64) -> Self {
        self.seed = seed;
        self
    }

    /// Chunk boundaries of the random chunking `k`: sizes mostly up to `max_chunk`, a
    /// quarter of them tiny (0–8), empty chunks included.
    fn random_chunking(&self, k: usize) -> Vec<usize> {
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(self.seed.wrapping_add(k as u64));
        let mut sizes = Vec::new();
        let mut left = self.input.len();
        while left > 0 {
            let n = if rng.random_range(0..4) == 0 {
                rng.random_range(0..=8usize)
            } else {
                rng.random_range(0..=self.max_chunk)
            };
            let n = n.min(left);
            sizes.push(n);
            left -= n;
        }
        sizes
    }

    /// Runs the check (see the module documentation): `make(level)` builds a fresh kernel
    /// on `level`, `feed(kernel, chunk, out)` gives it one chunk and appends what it makes
    /// to `out`, `agree(scalar, simd)` compares one-shot outputs across levels. Panics with
    /// the kernel's name, the level and the chunking on the first failure. Returns the
    /// scalar one-shot output.
    pub(crate) fn run<K, O>(
        &self,
        mut make: impl FnMut(Level) -> K,
        feed: impl FnMut(&mut K, &[I], &mut O),
        agree: impl Fn(&O, &O) -> Result<(), String>,
    ) -> O
    where
        O: Default + PartialEq,
    {
        self.check(
            |level, k: &mut Option<K>| *k = Some(make(level)),
            feed,
            |_, _| {},
            agree,
        )
    }

    /// As [`run`](Self::run), with `finish(kernel, out)` called after the last chunk of
    /// every run (a modulator's or decoder's `flush`), and one kernel per level made and
    /// `reset(kernel)` called before each of its runs after the first: checks that
    /// `reset` (or a `finish` that resets, such as a modulator's `flush`, with a no-op
    /// `reset`) returns the kernel to the state after `new`.
    pub(crate) fn run_with_reset<K, O>(
        &self,
        mut make: impl FnMut(Level) -> K,
        feed: impl FnMut(&mut K, &[I], &mut O),
        mut reset: impl FnMut(&mut K),
        finish: impl FnMut(&mut K, &mut O),
        agree: impl Fn(&O, &O) -> Result<(), String>,
    ) -> O
    where
        O: Default + PartialEq,
    {
        let mut current = Level::Scalar;
        self.check(
            |level, k: &mut Option<K>| match k {
                Some(k) if current == level => reset(k),
                _ => {
                    current = level;
                    *k = Some(make(level));
                }
            },
            feed,
            finish,
            agree,
        )
    }

    fn check<K, O>(
        &self,
        mut prepare: impl FnMut(Level, &mut Option<K>),
        mut feed: impl FnMut(&mut K, &[I], &mut O),
        mut finish: impl FnMut(&mut K, &mut O),
        agree: impl Fn(&O, &O) -> Result<(), String>,
    ) -> O
    where
        O: Default + PartialEq,
    {
        let mut kernel: Option<K> = None;
        let mut run_sizes = |level: Level, sizes: &mut dyn Iterator<Item = usize>| {
            prepare(level, &mut kernel);
            let k = kernel.as_mut().expect("prepared");
            let mut out = O::default();
            let mut pos = 0;
            for n in sizes {
                feed(k, &self.input[pos..pos + n], &mut out);
                pos += n;
            }
            assert_eq!(pos, self.input.len());
            finish(k, &mut out);
            out
        };
        let whole = self.input.len();
        let mut levels: Vec<Level> = std::iter::once(Level::Scalar)
            .chain(self.levels.iter().map(|&l| Level::clamp(l)))
            .collect();
        levels.sort();
        levels.dedup();
        let randoms: Vec<Vec<usize>> = (0..self.random).map(|k| self.random_chunking(k)).collect();
        let mut oracle: Option<O> = None;
        for level in levels {
            let one_shot = run_sizes(level, &mut std::iter::once(whole));
            match &oracle {
                None => {}
                Some(o) => {
                    if let Err(why) = agree(o, &one_shot) {
                        panic!("{}: {level} one-shot: {why}", self.name);
                    }
                }
            }
            for &size in &self.fixed {
                let mut sizes = (0..whole.div_ceil(size)).map(|i| size.min(whole - i * size));
                let got = run_sizes(level, &mut sizes);
                assert!(
                    got == one_shot,
                    "{}: {level}, chunks of {size}: output differs from the one-shot run",
                    self.name
                );
            }
            for (k, sizes) in randoms.iter().enumerate() {
                let got = run_sizes(level, &mut sizes.iter().copied());
                assert!(
                    got == one_shot,
                    "{}: {level}, random chunking {k} (seed {}): output differs from the one-shot run",
                    self.name,
                    self.seed
                );
            }
            if oracle.is_none() {
                oracle = Some(one_shot);
            }
        }
        oracle.expect("the scalar level always runs")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A running sum: chunk-invariant by construction.
    struct Sum(u64);

    #[test]
    fn passes_a_chunk_invariant_kernel_and_returns_the_oracle() {
        let x: Vec<u64> = (0..10_000).collect();
        let out = StreamCheck::new("sum", &x).levels(&ALL_LEVELS).run(
            |_| Sum(0),
            |k, c, o: &mut Vec<u64>| {
                for v in c {
                    k.0 += v;
                    o.push(k.0);
                }
            },
            exact,
        );
        assert_eq!(out.len(), x.len());
        assert_eq!(out[9999], 9999 * 10_000 / 2);
    }

    #[test]
    #[should_panic(expected = "output differs from the one-shot run")]
    fn catches_a_kernel_that_depends_on_the_chunking() {
        let x: Vec<u64> = (0..10_000).collect();
        // Resets its sum at every call: right only in one shot.
        StreamCheck::new("forgetful", &x).run(
            |_| Sum(0),
            |k, c, o: &mut Vec<u64>| {
                k.0 = 0;
                for v in c {
                    k.0 += v;
                    o.push(k.0);
                }
            },
            exact,
        );
    }

    #[test]
    #[should_panic(expected = "chunks of 1: output differs from the one-shot run")]
    fn run_with_reset_catches_a_reset_that_forgets_state() {
        let x: Vec<u64> = (0..1000).collect();
        StreamCheck::new("no reset", &x).run_with_reset(
            |_| Sum(0),
            |k, c, o: &mut Vec<u64>| {
                for v in c {
                    k.0 += v;
                    o.push(k.0);
                }
            },
            |_| {},
            |_, _| {},
            exact,
        );
    }

    #[test]
    fn random_chunkings_cover_the_input_and_include_tiny_chunks() {
        let x = vec![0u8; 50_000];
        let c = StreamCheck::new("sizes", &x).random(4, 3000).seed(9);
        for k in 0..4 {
            let s = c.random_chunking(k);
            assert_eq!(s.iter().sum::<usize>(), x.len());
            assert!(s.iter().any(|&n| n <= 8));
            assert!(s.iter().all(|&n| n <= 3000));
        }
        assert_ne!(c.random_chunking(0), c.random_chunking(1));
    }
}
