//! Issue 8, item 5: every input the fuzzers found a crash with, replayed by the normal
//! `cargo test` through exactly the code the fuzzer ran.
//!
//! The target bodies live in `fuzz/src/lib.rs` (the cargo-fuzz crate, outside the
//! workspace so that the normal build needs neither nightly nor libFuzzer) and are
//! included here by path. Inputs are kept in `tests/fuzz_corpus/<target>/`, one file per
//! input, named after what it found; `scripts/fuzz.sh` runs the fuzzers. The seed inputs
//! of `fuzz/seeds/<target>/` are replayed too, so every target is exercised here even
//! when it never crashed.

#[allow(dead_code)]
#[path = "../fuzz/src/lib.rs"]
mod fuzz_targets;

use std::path::Path;

/// Runs every file under `dir/<target>/` through its target; returns how many ran.
fn replay(dir: &Path) -> usize {
    let mut ran = 0;
    for (name, target) in fuzz_targets::TARGETS {
        let Ok(entries) = std::fs::read_dir(dir.join(name)) else {
            continue;
        };
        let mut files: Vec<_> = entries.map(|e| e.unwrap().path()).collect();
        files.sort();
        for f in files {
            let data = std::fs::read(&f).unwrap();
            eprintln!("{name}: {}", f.display());
            target(&data);
            ran += 1;
        }
    }
    ran
}

#[test]
fn crashing_inputs_found_by_the_fuzzers() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fuzz_corpus");
    let ran = replay(&dir);
    eprintln!("{ran} regression inputs");
}

#[test]
fn seed_inputs_of_every_target() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/seeds");
    for (name, _) in fuzz_targets::TARGETS {
        assert!(
            dir.join(name)
                .read_dir()
                .map(|mut d| d.next().is_some())
                .unwrap_or(false),
            "no seed inputs for target {name}"
        );
    }
    assert!(replay(&dir) >= fuzz_targets::TARGETS.len());
}

/// The targets also hold on a few fixed edge inputs (empty, one byte, all 0xFF).
#[test]
fn edge_inputs_of_every_target() {
    for (name, target) in fuzz_targets::TARGETS {
        for data in [&[][..], &[0u8][..], &[0xFF; 64][..], &[0x80; 4096][..]] {
            eprintln!("{name}: {} bytes", data.len());
            target(data);
        }
    }
}
