//! SIGINT and SIGTERM on a running `rx`: the pipeline stops reading, flushes every
//! stage, and exits cleanly with every frame decoded so far written (JSON lines whole,
//! `--frames` consistent with `--json`).

use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

fn leomodem(args: &[&str]) {
    let out = Command::new(env!("CARGO_BIN_EXE_leomodem"))
        .args(args)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

fn interrupt_running_rx(signal: &str) {
    let d = tempfile::tempdir().unwrap();
    let cap = d.path().join("cap.cs16");
    // 300 frames of 223 bytes: far more than rx sees before the signal.
    leomodem(&[
        "tx",
        s(&cap),
        "--profile",
        "ccsds-bpsk-r1/2-rs",
        "--frame-count",
        "300",
        "--symbol-rate",
        "10k",
        "--sample-rate",
        "40k",
    ]);
    let bytes = std::fs::read(&cap).unwrap();
    let fifo = d.path().join("live.cs16");
    assert!(Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .unwrap()
        .success());
    let json = d.path().join("frames.jsonl");
    let bin = d.path().join("frames.bin");
    let mut child = Command::new(env!("CARGO_BIN_EXE_leomodem"))
        .args([
            "rx",
            s(&fifo),
            "--format",
            "cs16",
            "--sample-rate",
            "40k",
            "--profile",
            "ccsds-bpsk-r1/2-rs",
            "--symbol-rate",
            "10k",
            "--json",
            s(&json),
            "--frames",
            s(&bin),
            "--chunk",
            "4096",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // A live source: the capture arrives in 64 KiB pieces every 10 ms (≈ 4× real time).
    let writer = {
        let fifo = fifo.clone();
        std::thread::spawn(move || {
            let mut f = std::fs::OpenOptions::new().write(true).open(&fifo).unwrap();
            for piece in bytes.chunks(1 << 16) {
                if f.write_all(piece).is_err() {
                    return; // rx stopped reading
                }
                std::thread::sleep(Duration::from_millis(10));
            }
        })
    };
    std::thread::sleep(Duration::from_millis(1500));
    let pid = child.id().to_string();
    assert!(Command::new("kill")
        .args([&format!("-{signal}"), &pid])
        .status()
        .unwrap()
        .success());
    let start = Instant::now();
    let out = loop {
        if let Some(_status) = child.try_wait().unwrap() {
            break child.wait_with_output().unwrap();
        }
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "rx did not stop after SIG{signal}"
        );
        std::thread::sleep(Duration::from_millis(20));
    };
    let _ = writer.join();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert!(
        out.status.success(),
        "exit {:?} after SIG{signal}: {stderr}",
        out.status.code()
    );
    assert!(stderr.contains("interrupted"), "{stderr}");
    // Every JSON line is whole, every ok frame is in --frames, in order, and the frames
    // are the first ones sent (a 32-bit counter follows the TM header): nothing lost.
    let text = std::fs::read_to_string(&json).unwrap();
    assert!(
        text.is_empty() || text.ends_with('\n'),
        "last JSON line cut"
    );
    let frames: Vec<serde_json::Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let data = std::fs::read(&bin).unwrap();
    assert!(
        frames.len() >= 5 && frames.len() < 300,
        "{} frames before SIG{signal}",
        frames.len()
    );
    assert_eq!(data.len(), 223 * frames.len());
    for (i, f) in frames.iter().enumerate() {
        assert_eq!(f["ok"], true);
        let frame = &data[223 * i..223 * (i + 1)];
        assert_eq!(
            u32::from_be_bytes(frame[6..10].try_into().unwrap()),
            i as u32,
            "frame {i}"
        );
    }
    let reported = format!("{} ok, 0 failed", frames.len());
    assert!(
        stderr.contains(&reported),
        "report does not match the files: {stderr}"
    );
}

#[test]
fn sigint_keeps_every_decoded_frame() {
    interrupt_running_rx("INT");
}

#[test]
fn sigterm_keeps_every_decoded_frame() {
    interrupt_running_rx("TERM");
}
