//! Issue 14 acceptance: the Meteor-M2 capture's `rx --json` output, pinned byte for byte.
//!
//! `tests/expected/meteor_m2_lrpt.json` was written by the binary before the issue-14
//! restructuring (commit 425dfe6): every frame and every per-frame field (sample, time,
//! RS, ambiguity, header, carrier, Es/N0) must stay exactly as it was, one stage or
//! split, whatever the chunking, at every SIMD level. Nothing in it is wall-clock time:
//! `time` is the capture's SigMF start plus the sample index.
//!
//! To write it again (only for an intended change of output, saying why in the commit):
//! `leomodem rx captures/meteor_m2_lrpt.sigmf-meta --profile meteor-m2-lrpt
//! --json tests/expected/meteor_m2_lrpt.json --quiet`.

mod common;
use common::{s, Dir};

const EXPECTED: &str = include_str!("expected/meteor_m2_lrpt.json");

#[test]
fn meteor_json_is_byte_for_byte_the_pinned_one() {
    let dir = Dir::new();
    let runs = [
        ("1", "65536", None),
        ("2", "65536", None),
        ("2", "777", None),
        ("1", "4096", None),
        ("2", "65536", Some("scalar")),
    ];
    for (threads, chunk, simd) in runs {
        let json = dir.p(&format!("meteor_{threads}_{chunk}_{simd:?}.json"));
        let args = [
            "rx",
            "captures/meteor_m2_lrpt.sigmf-meta",
            "--profile",
            "meteor-m2-lrpt",
            "--json",
            s(&json),
            "--threads",
            threads,
            "--chunk",
            chunk,
            "--quiet",
        ];
        let mut cmd = common::bin();
        cmd.args(args);
        if let Some(level) = simd {
            cmd.env("LEOMODEM_SIMD", level);
        }
        let out = cmd.output().expect("run leomodem");
        assert!(
            out.status.success(),
            "{args:?} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let got = std::fs::read_to_string(&json).unwrap();
        assert!(
            got == EXPECTED,
            "--threads {threads} --chunk {chunk} (SIMD {simd:?}): rx --json differs from the pinned output\n\
             got:\n{got}"
        );
    }
}
