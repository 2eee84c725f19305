//! Real recordings (issue 16, items 2 and 3): the soft symbols that gr-satellites' own
//! demodulators produced from the shared recordings (`data/gr_satellites_symbols.py`, with
//! the KISS file of the same gr-satellites run) through this crate's deframers. Every
//! frame gr-satellites decoded from those symbols is found byte-identical, at least as
//! many unique frames, chunking does not matter, and no frame fails its check (the
//! deframers emit only checked frames).

use leomodem_dsp::framing::ao40::{Ao40Deframer, DEFAULT_SYNC_THRESHOLD};
use leomodem_dsp::framing::ax25::Ax25Frame;
use leomodem_dsp::framing::deframer::{Deframer, Frame};
use leomodem_dsp::framing::hdlc::{HdlcConfig, HdlcDeframer};
use leomodem_dsp::framing::kiss;

/// (recording, framing, int8 symbols, gr-satellites' KISS output of the same run).
const RECORDINGS: &[(&str, &str, &[u8], &[u8])] = &[
    (
        "picsat_9k6",
        "g3ruh",
        include_bytes!("data/symbols/picsat_9k6.i8"),
        include_bytes!("data/symbols/picsat_9k6.kiss"),
    ),
    (
        "pwsat2",
        "g3ruh",
        include_bytes!("data/symbols/pwsat2.i8"),
        include_bytes!("data/symbols/pwsat2.kiss"),
    ),
    (
        "gr01",
        "g3ruh",
        include_bytes!("data/symbols/gr01.i8"),
        include_bytes!("data/symbols/gr01.kiss"),
    ),
    (
        "us04",
        "g3ruh",
        include_bytes!("data/symbols/us04.i8"),
        include_bytes!("data/symbols/us04.kiss"),
    ),
    (
        "itasat1",
        "nrzi",
        include_bytes!("data/symbols/itasat1.i8"),
        include_bytes!("data/symbols/itasat1.kiss"),
    ),
    (
        "ao27",
        "nrzi",
        include_bytes!("data/symbols/ao27.i8"),
        include_bytes!("data/symbols/ao27.kiss"),
    ),
    (
        "ao73",
        "ao40",
        include_bytes!("data/symbols/ao73.i8"),
        include_bytes!("data/symbols/ao73.kiss"),
    ),
];

fn deframer(framing: &str) -> Box<dyn Deframer> {
    match framing {
        "g3ruh" => Box::new(HdlcDeframer::new(HdlcConfig::ax25_g3ruh()).unwrap()),
        "nrzi" => Box::new(HdlcDeframer::new(HdlcConfig::ax25_nrzi()).unwrap()),
        _ => Box::new(Ao40Deframer::new(DEFAULT_SYNC_THRESHOLD).unwrap()),
    }
}

fn run(framing: &str, llrs: &[f32], chunk: usize) -> Vec<Frame> {
    let mut d = deframer(framing);
    let mut out = Vec::new();
    for c in llrs.chunks(chunk) {
        d.process(c, &mut out);
    }
    d.flush(&mut out);
    out
}

#[test]
fn every_gr_satellites_frame_from_its_own_symbols() {
    let mut table = Vec::new();
    for &(rec, framing, syms, kiss_file) in RECORDINGS {
        let llrs: Vec<f32> = syms.iter().map(|&b| f32::from(b as i8) / 32.0).collect();
        let theirs: Vec<Vec<u8>> = kiss::decode(kiss_file)
            .unwrap()
            .into_iter()
            .filter(|(cmd, _)| *cmd == kiss::CMD_DATA)
            .map(|(_, f)| f)
            .collect();
        assert!(!theirs.is_empty(), "{rec}");
        let ours = run(framing, &llrs, llrs.len());
        for f in &theirs {
            assert!(
                ours.iter().any(|o| &o.data == f),
                "{rec}: a gr-satellites frame is missing"
            );
        }
        let mut uniq: Vec<&Vec<u8>> = ours.iter().map(|f| &f.data).collect();
        uniq.sort();
        uniq.dedup();
        let mut theirs_uniq = theirs.clone();
        theirs_uniq.sort();
        theirs_uniq.dedup();
        assert!(uniq.len() >= theirs_uniq.len(), "{rec}");
        if framing != "ao40" {
            for f in &ours {
                assert!(Ax25Frame::parse(&f.data).is_ok(), "{rec}");
            }
        }
        assert_eq!(run(framing, &llrs, 997), ours, "{rec}: chunking");
        table.push(format!(
            "{rec}: gr-satellites {} frames ({} unique), leomodem-dsp {} ({} unique, {} fixed by soft retry / RS)",
            theirs.len(),
            theirs_uniq.len(),
            ours.len(),
            uniq.len(),
            ours.iter().filter(|f| f.corrected > 0).count()
        ));
    }
    eprintln!("{}", table.join("\n"));
}
