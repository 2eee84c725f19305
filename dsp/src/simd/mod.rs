//! Run-time choice of SIMD code paths.
//!
//! Kernels with a SIMD path pick it once, at construction, with [`Level::for_kernel`]:
//! the path measured fastest for that kernel on this CPU's micro-architecture (the table
//! in [`preferred`], each entry backed by a side-by-side measurement), never above what
//! the CPU supports. The environment variable [`ENV_VAR`] overrides the table:
//! `LEOMODEM_SIMD=scalar` forces the portable scalar code, `avx2` forces AVX2 (or the
//! best below it), `avx512` forces AVX-512 where the CPU has it. The scalar path is
//! always compiled and is the oracle the SIMD paths are tested against: integer kernels
//! (Viterbi) give bit-identical results on every path, float kernels agree within the
//! tolerance each kernel documents.
//!
//! How the path is chosen, in order:
//!
//! 1. [`ENV_VAR`], when set (capped by the hardware).
//! 2. The table of measured entries, [`measured`]: a (micro-architecture, kernel) pair
//!    that a side-by-side measurement backs.
//! 3. For a micro-architecture the table has not measured (an Intel or AMD model not
//!    listed, a future one): a kernel whose paths give bit-identical output
//!    ([`Kernel::bit_exact`]) and whose constructor supplies a workload (the Viterbi
//!    decoder) runs a short calibration the first time one is constructed
//!    ([`Level::for_kernel_calibrated`]: each path on the same workload of some tens of
//!    microseconds, best of three, cached for the process); every other kernel takes
//!    the documented default of [`default_level`] (float kernels: AVX2 on Intel, the
//!    widest path elsewhere; LDPC and BCH, whose work unit is a whole frame: the widest).
//!
//! Why not calibrate the float kernels too: their paths sum in different orders, so a
//! timing-based choice would make the output of a run depend on how busy the machine
//! was when it started. The default keeps every run on one machine reproducible, and
//! `leomodem bench --compare-paths` shows whether it is right (the default path of each
//! kernel against the fastest forced path, in one run). For the bit-exact kernels the
//! calibration cannot change any output, only the speed.
//!
//! The structure is ready for more architectures (NEON would be one more variant and
//! one more `cfg` arm per kernel); on targets other than x86-64 every kernel runs its
//! scalar path.

use std::fmt;
use std::sync::OnceLock;

/// Environment variable that caps the SIMD level: `scalar`, `avx2` or `avx512`
/// (case-insensitive; anything else is ignored). Read when a kernel is constructed.
pub const ENV_VAR: &str = "LEOMODEM_SIMD";

/// An instruction-set level, ordered from the most portable to the widest.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Level {
    /// Portable Rust, no explicit SIMD (the compiler may still vectorise).
    Scalar,
    /// x86-64 AVX2 + FMA + BMI2 (Haswell, Zen 1 and later).
    Avx2,
    /// x86-64 AVX-512 F/BW/VL on top of [`Level::Avx2`] (Skylake-SP, Zen 4 and later).
    Avx512,
}

impl Level {
    /// The best level the CPU supports, ignoring [`ENV_VAR`] (detected once).
    pub fn available() -> Level {
        static HW: OnceLock<Level> = OnceLock::new();
        *HW.get_or_init(hardware_level)
    }

    /// The level kernels use: [`Level::available`] capped by [`ENV_VAR`]. Kernels use
    /// [`Level::for_kernel`], which also applies the per-micro-architecture table.
    pub fn detect() -> Level {
        let hw = Level::available();
        match std::env::var(ENV_VAR) {
            Ok(v) => match Level::parse(&v) {
                Some(cap) => hw.min(cap),
                None => hw,
            },
            Err(_) => hw,
        }
    }

    /// The path `kernel` uses on this CPU, and how it was chosen: [`ENV_VAR`] when set
    /// (capped by the hardware), else the [`measured`] entry for this
    /// micro-architecture, else the calibration result if the kernel has already run
    /// one in this process, else [`default_level`].
    pub fn choice(kernel: Kernel) -> (Level, Choice) {
        let hw = Level::available();
        if let Some(forced) = std::env::var(ENV_VAR).ok().and_then(|v| Level::parse(&v)) {
            return (hw.min(forced), Choice::Forced);
        }
        let cpu = Cpu::get();
        if let Some(l) = measured(kernel, cpu) {
            return (hw.min(l), Choice::Measured);
        }
        if let Some(l) = CALIBRATED[kernel.index()].get() {
            return (*l, Choice::Calibrated);
        }
        (hw.min(default_level(kernel, cpu)), Choice::Default)
    }

    /// The path `kernel` uses on this CPU (see [`Level::choice`]); never calibrates.
    pub fn for_kernel(kernel: Kernel) -> Level {
        Level::choice(kernel).0
    }

    /// As [`Level::for_kernel`], but where neither [`ENV_VAR`] nor the table decides and
    /// the kernel is [`Kernel::bit_exact`], the first call in the process times
    /// `run(level)` on every path the CPU has (one warm-up call, then the best of three)
    /// and keeps the fastest for the process; later calls return it without running
    /// anything. `run` should do some tens of microseconds of the kernel's work on the
    /// path it is given (and must not construct the kernel through a constructor that
    /// calls this function again for the same kernel).
    pub fn for_kernel_calibrated(kernel: Kernel, mut run: impl FnMut(Level)) -> Level {
        let (level, how) = Level::choice(kernel);
        if how != Choice::Default || !kernel.bit_exact() {
            return level;
        }
        *CALIBRATED[kernel.index()].get_or_init(|| {
            calibrate(|level| {
                run(level);
                let mut t = f64::INFINITY;
                for _ in 0..3 {
                    let t0 = std::time::Instant::now();
                    run(level);
                    t = t.min(t0.elapsed().as_secs_f64());
                }
                t
            })
        })
    }

    /// `level` if the CPU supports it, else the best supported level below it: what a
    /// kernel's `with_simd` uses, so tests can ask for any level on any machine.
    pub fn clamp(level: Level) -> Level {
        level.min(Level::available())
    }

    /// Parses `scalar`, `avx2`, `avx512` (case-insensitive).
    pub fn parse(s: &str) -> Option<Level> {
        match s.trim().to_ascii_lowercase().as_str() {
            "scalar" | "none" | "off" => Some(Level::Scalar),
            "avx2" => Some(Level::Avx2),
            "avx512" | "avx-512" => Some(Level::Avx512),
            _ => None,
        }
    }

    /// Short name: `scalar`, `avx2`, `avx512`.
    pub fn name(self) -> &'static str {
        match self {
            Level::Scalar => "scalar",
            Level::Avx2 => "avx2",
            Level::Avx512 => "avx512",
        }
    }
}

impl fmt::Display for Level {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The kernels whose SIMD path is chosen per CPU.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Kernel {
    /// Viterbi add-compare-select (`fec::viterbi`).
    Viterbi,
    /// Polyphase matched filter of the symbol synchroniser (`sync::timing`).
    Timing,
    /// AGC power filter (`sync::agc`).
    Agc,
    /// Numerically controlled oscillator mixing (`nco`).
    Nco,
    /// FIR filters and decimators (`filter::fir`).
    Fir,
    /// LDPC decoder (`fec::ldpc::decoder`).
    Ldpc,
    /// BCH decoder's Chien search (`fec::bch`).
    Bch,
}

impl Kernel {
    /// Every kernel, in the order `leomodem bench` lists them.
    pub const ALL: [Kernel; 7] = [
        Kernel::Viterbi,
        Kernel::Timing,
        Kernel::Agc,
        Kernel::Nco,
        Kernel::Fir,
        Kernel::Ldpc,
        Kernel::Bch,
    ];

    /// Short name, as in `leomodem bench`.
    pub fn name(self) -> &'static str {
        match self {
            Kernel::Viterbi => "viterbi",
            Kernel::Timing => "timing",
            Kernel::Agc => "agc",
            Kernel::Nco => "nco",
            Kernel::Fir => "fir",
            Kernel::Ldpc => "ldpc",
            Kernel::Bch => "bch",
        }
    }

    /// True when every path of the kernel gives bit-identical output (integer
    /// arithmetic, tested against the scalar oracle), so that choosing a path by timing
    /// cannot change a result.
    pub fn bit_exact(self) -> bool {
        matches!(self, Kernel::Viterbi | Kernel::Ldpc | Kernel::Bch)
    }

    fn index(self) -> usize {
        Kernel::ALL.iter().position(|k| *k == self).unwrap_or(0)
    }
}

/// How a kernel's path was chosen (shown by `leomodem bench`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Choice {
    /// Forced by [`ENV_VAR`].
    Forced,
    /// From a measured entry of the table ([`measured`]).
    Measured,
    /// By the calibration run on this machine ([`Level::for_kernel_calibrated`]).
    Calibrated,
    /// The documented default for a micro-architecture the table has not measured
    /// ([`default_level`]); a bit-exact kernel not yet constructed shows this until its
    /// calibration has run.
    Default,
}

impl Choice {
    /// Short name: `forced`, `measured`, `calibrated`, `default`.
    pub fn name(self) -> &'static str {
        match self {
            Choice::Forced => "forced",
            Choice::Measured => "measured",
            Choice::Calibrated => "calibrated",
            Choice::Default => "default",
        }
    }
}

/// Calibration results, one per kernel, for the process.
static CALIBRATED: [OnceLock<Level>; Kernel::ALL.len()] = [const { OnceLock::new() }; 7];

/// CPU vendor, from CPUID.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Vendor {
    /// `AuthenticAMD`.
    Amd,
    /// `GenuineIntel`.
    Intel,
    /// Anything else, or not x86.
    Other,
}

/// What the path table needs to know about the CPU: vendor, family and model (CPUID
/// leaf 1 with the extended fields folded in) and the brand string.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cpu {
    /// Vendor.
    pub vendor: Vendor,
    /// Display family (base + extended), e.g. 26 for AMD Zen 5, 6 for Intel cores.
    pub family: u32,
    /// Display model (extended model folded in), e.g. 207 for Emerald Rapids.
    pub model: u32,
    /// Brand string (CPUID leaves 0x8000_0002..4), trimmed.
    pub brand: String,
}

impl Cpu {
    /// This CPU (read once).
    pub fn get() -> &'static Cpu {
        static CPU: OnceLock<Cpu> = OnceLock::new();
        CPU.get_or_init(read_cpu)
    }

    /// Micro-architecture family name, as far as the table distinguishes them.
    pub fn uarch(&self) -> &'static str {
        match (self.vendor, self.family, self.model) {
            (Vendor::Amd, 0x17, _) => "AMD Zen 1/2",
            (Vendor::Amd, 0x19, _) => "AMD Zen 3/4",
            (Vendor::Amd, 0x1a, _) => "AMD Zen 5",
            (Vendor::Amd, _, _) => "AMD (other)",
            (Vendor::Intel, 6, 0x55) => "Intel Skylake-SP/Cascade Lake",
            (Vendor::Intel, 6, 0x6a | 0x6c) => "Intel Ice Lake-SP",
            (Vendor::Intel, 6, 0x8f) => "Intel Sapphire Rapids",
            (Vendor::Intel, 6, 0xcf) => "Intel Emerald Rapids",
            (Vendor::Intel, 6, 0xad | 0xae) => "Intel Granite Rapids",
            (Vendor::Intel, _, _) => "Intel (other)",
            (Vendor::Other, _, _) => "unknown",
        }
    }
}

impl fmt::Display for Cpu {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} (family {} model {}, {})",
            if self.brand.is_empty() {
                "unknown CPU"
            } else {
                &self.brand
            },
            self.family,
            self.model,
            self.uarch()
        )
    }
}

/// The path measured fastest for `kernel` on `cpu` (before capping by what the CPU
/// supports), or `None` where no measurement backs an entry. Every entry cites its
/// measurement:
///
/// - Intel Emerald Rapids (family 6 model 207, AVX-512): the demodulator's kernels
///   (timing matched filter, AGC, NCO, FIR) run faster on AVX2 than on AVX-512:
///   `leomodem bench --filter demod`, QPSK one stage, 50.3 Msps with AVX2 against 35.6
///   with AVX-512; split front stage 69.4 against 56.5 (issue 17, two runs on a quiet
///   machine). The Viterbi decoder stays on AVX-512 there (157–160 Mbit/s against 75
///   for AVX2).
/// - AMD Zen 5 (family 26): AVX-512 is fastest for every kernel
///   (`leomodem bench --compare-paths`, README performance table).
pub fn measured(kernel: Kernel, cpu: &Cpu) -> Option<Level> {
    match (cpu.vendor, cpu.family, cpu.model, kernel) {
        (Vendor::Intel, 6, 0xcf, Kernel::Viterbi) => Some(Level::Avx512),
        (Vendor::Intel, 6, 0xcf, Kernel::Timing | Kernel::Agc | Kernel::Nco | Kernel::Fir) => {
            Some(Level::Avx2)
        }
        (Vendor::Amd, 0x1a, _, _) => Some(Level::Avx512),
        _ => None,
    }
}

/// The path a kernel takes on a CPU the table has not measured, before calibration
/// (bit-exact kernels then calibrate, see [`Level::for_kernel_calibrated`]):
///
/// - Intel, float kernels (timing, AGC, NCO, FIR): AVX2. Intel's cores run 512-bit
///   operations on ports 0 and 1 fused (plus port 5 on some models), so shuffle- and
///   load-bound float kernels gain little from the wider vectors and may lose clock
///   under them; the one Intel measured (Emerald Rapids) runs these kernels 20–40 %
///   faster on AVX2, and the Intel server cores before and after it share that port
///   layout. A wrong guess costs at most the difference between the two vector paths,
///   never correctness.
/// - Everything else: the widest path the CPU has (AVX-512 on AMD Zen 4 and later, whose
///   512-bit units are the same as on Zen 5 or split in two 256-bit halves without a
///   clock penalty; AVX2 on earlier AMD).
pub fn default_level(kernel: Kernel, cpu: &Cpu) -> Level {
    match (cpu.vendor, kernel.bit_exact()) {
        (Vendor::Intel, false) => Level::Avx2,
        _ => Level::Avx512,
    }
}

/// The path the table would pick for `kernel` on `cpu`: the [`measured`] entry, else
/// [`default_level`] (before capping by the hardware and before any calibration).
pub fn preferred(kernel: Kernel, cpu: &Cpu) -> Level {
    measured(kernel, cpu).unwrap_or_else(|| default_level(kernel, cpu))
}

/// The fastest path the CPU has by `seconds(level)` (the time of the same work on each
/// path); ties go to the wider path.
fn calibrate(mut seconds: impl FnMut(Level) -> f64) -> Level {
    let mut best = (f64::INFINITY, Level::Scalar);
    for level in [Level::Scalar, Level::Avx2, Level::Avx512] {
        if level > Level::available() {
            break;
        }
        let t = seconds(level);
        if t <= best.0 {
            best = (t, level);
        }
    }
    best.1
}

#[cfg(target_arch = "x86_64")]
fn read_cpu() -> Cpu {
    use std::arch::x86_64::__cpuid;
    // CPUID exists on every x86-64 CPU (safe since Rust 1.87); leaves above the reported
    // maximum are not queried.
    {
        let l0 = __cpuid(0);
        let mut v = [0u8; 12];
        v[..4].copy_from_slice(&l0.ebx.to_le_bytes());
        v[4..8].copy_from_slice(&l0.edx.to_le_bytes());
        v[8..].copy_from_slice(&l0.ecx.to_le_bytes());
        let vendor = match &v {
            b"AuthenticAMD" => Vendor::Amd,
            b"GenuineIntel" => Vendor::Intel,
            _ => Vendor::Other,
        };
        let (mut family, mut model) = (0, 0);
        if l0.eax >= 1 {
            let a = __cpuid(1).eax;
            let base_family = (a >> 8) & 0xf;
            let base_model = (a >> 4) & 0xf;
            family = base_family;
            model = base_model;
            if base_family == 0xf {
                family += (a >> 20) & 0xff;
            }
            if base_family == 0x6 || base_family == 0xf {
                model += ((a >> 16) & 0xf) << 4;
            }
        }
        let mut brand = Vec::with_capacity(48);
        if __cpuid(0x8000_0000).eax >= 0x8000_0004 {
            for leaf in 0x8000_0002u32..=0x8000_0004 {
                let r = __cpuid(leaf);
                for w in [r.eax, r.ebx, r.ecx, r.edx] {
                    brand.extend_from_slice(&w.to_le_bytes());
                }
            }
        }
        let brand = String::from_utf8_lossy(&brand)
            .trim_matches(|c: char| c == '\0' || c.is_whitespace())
            .to_string();
        Cpu {
            vendor,
            family,
            model,
            brand,
        }
    }
}

#[cfg(not(target_arch = "x86_64"))]
fn read_cpu() -> Cpu {
    Cpu {
        vendor: Vendor::Other,
        family: 0,
        model: 0,
        brand: String::new(),
    }
}

#[cfg(target_arch = "x86_64")]
fn hardware_level() -> Level {
    let avx2 = is_x86_feature_detected!("avx2")
        && is_x86_feature_detected!("fma")
        && is_x86_feature_detected!("bmi2");
    let avx512 = avx2
        && is_x86_feature_detected!("avx512f")
        && is_x86_feature_detected!("avx512bw")
        && is_x86_feature_detected!("avx512vl");
    if avx512 {
        Level::Avx512
    } else if avx2 {
        Level::Avx2
    } else {
        Level::Scalar
    }
}

#[cfg(not(target_arch = "x86_64"))]
fn hardware_level() -> Level {
    Level::Scalar
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_and_order() {
        assert_eq!(Level::parse("Scalar"), Some(Level::Scalar));
        assert_eq!(Level::parse(" avx2 "), Some(Level::Avx2));
        assert_eq!(Level::parse("AVX512"), Some(Level::Avx512));
        assert_eq!(Level::parse("sse"), None);
        assert!(Level::Scalar < Level::Avx2 && Level::Avx2 < Level::Avx512);
        assert_eq!(Level::clamp(Level::Scalar), Level::Scalar);
        assert!(Level::clamp(Level::Avx512) <= Level::available());
        assert!(Level::detect() <= Level::available());
        assert_eq!(Level::Avx2.to_string(), "avx2");
    }

    #[test]
    fn table_and_cpu() {
        let cpu = |vendor, family, model| Cpu {
            vendor,
            family,
            model,
            brand: String::new(),
        };
        let zen5 = cpu(Vendor::Amd, 0x1a, 2);
        let emr = cpu(Vendor::Intel, 6, 0xcf);
        for k in Kernel::ALL {
            assert_eq!(preferred(k, &zen5), Level::Avx512, "{k:?}");
        }
        assert_eq!(preferred(Kernel::Viterbi, &emr), Level::Avx512);
        assert_eq!(preferred(Kernel::Timing, &emr), Level::Avx2);
        assert_eq!(measured(Kernel::Timing, &emr), Some(Level::Avx2));
        // Unmeasured micro-architectures: no table entry; float kernels take the
        // documented default (AVX2 on Intel, the widest elsewhere), bit-exact ones
        // calibrate (their default before calibration is the widest).
        let spr = cpu(Vendor::Intel, 6, 0x8f);
        let zen6 = cpu(Vendor::Amd, 0x1b, 0);
        for k in Kernel::ALL {
            assert_eq!(measured(k, &spr), None, "{k:?}");
            assert_eq!(measured(k, &zen6), None, "{k:?}");
            assert_eq!(default_level(k, &zen6), Level::Avx512, "{k:?}");
            let want = if k.bit_exact() {
                Level::Avx512
            } else {
                Level::Avx2
            };
            assert_eq!(default_level(k, &spr), want, "{k:?}");
        }
        assert_eq!(measured(Kernel::Ldpc, &emr), None);
        assert_eq!(emr.uarch(), "Intel Emerald Rapids");
        assert_eq!(zen5.uarch(), "AMD Zen 5");
        // Never above the hardware, whatever the table or the environment says.
        for k in Kernel::ALL {
            assert!(Level::for_kernel(k) <= Level::available());
        }
        // Names are distinct (bench rows and JSON keys use them).
        let mut names: Vec<&str> = Kernel::ALL.iter().map(|k| k.name()).collect();
        names.sort();
        names.dedup();
        assert_eq!(names.len(), Kernel::ALL.len());
        #[cfg(target_arch = "x86_64")]
        {
            let me = Cpu::get();
            assert_ne!(me.vendor, Vendor::Other, "{me}");
            assert!(me.family > 0, "{me}");
        }
    }

    #[test]
    fn calibration_picks_the_fastest_available_path() {
        let mut asked = Vec::new();
        let got = calibrate(|l| {
            asked.push(l);
            match l {
                Level::Scalar => 3.0,
                Level::Avx2 => 1.0,
                Level::Avx512 => 2.0,
            }
        });
        // Every path the CPU has is timed, none above it.
        assert!(asked.iter().all(|l| *l <= Level::available()));
        assert_eq!(asked.len(), Level::available() as usize + 1);
        let want = if Level::available() >= Level::Avx2 {
            Level::Avx2
        } else {
            Level::Scalar
        };
        assert_eq!(got, want);
        // Ties go to the wider path.
        assert_eq!(calibrate(|_| 1.0), Level::available());
    }

    #[test]
    fn calibration_only_where_the_table_has_no_entry() {
        for k in Kernel::ALL {
            let (level, how) = Level::choice(k);
            let mut runs = 0;
            let got = Level::for_kernel_calibrated(k, |_| runs += 1);
            assert!(got <= Level::available());
            match how {
                Choice::Forced | Choice::Measured => {
                    assert_eq!(runs, 0, "{k:?}");
                    assert_eq!(got, level, "{k:?}");
                }
                Choice::Calibrated => assert_eq!(runs, 0, "{k:?}: cached"),
                Choice::Default if k.bit_exact() => {
                    // 0 when a kernel constructed on another test thread calibrated first.
                    let all = 4 * (Level::available() as usize + 1);
                    assert!(runs == all || runs == 0, "{k:?}: {runs} runs");
                    assert_eq!(Level::choice(k), (got, Choice::Calibrated));
                    // Cached: a second call runs nothing.
                    let mut again = 0;
                    assert_eq!(Level::for_kernel_calibrated(k, |_| again += 1), got);
                    assert_eq!(again, 0);
                }
                Choice::Default => assert_eq!((runs, got), (0, level), "{k:?}"),
            }
        }
    }
}
