//! Waveform profiles: built-ins, user TOML files through the same parser, and every
//! bad value ending in an error that names the file and the key.

use leomodem::dsp::modem::Modulation;
use leomodem::profile::{CodeRate, ConvVariant, Profile, RsBasis, RsSetting};
use std::io::Write;

const BPSK: &str = "ccsds-bpsk-r1/2-rs";

fn builtin(name: &str) -> Profile {
    Profile::builtin(name).unwrap_or_else(|| panic!("built-in {name} missing"))
}

/// The TOML of the ccsds-bpsk-r1/2-rs profile with the line starting `key =` replaced
/// by `line` (or `line` appended when no such key is present).
fn bpsk_with(key: &str, line: &str) -> String {
    let text = builtin(BPSK).to_toml();
    let prefix = format!("{key} = ");
    if text.lines().any(|l| l.starts_with(&prefix)) {
        text.lines()
            .map(|l| if l.starts_with(&prefix) { line } else { l })
            .collect::<Vec<_>>()
            .join("\n")
    } else {
        format!("{line}\n{text}")
    }
}

fn parse_err(text: &str, source: &str) -> String {
    match Profile::from_toml_str(text, source) {
        Ok(p) => panic!("expected an error, parsed {p:?}"),
        Err(e) => e.to_string(),
    }
}

#[test]
fn every_builtin_parses_and_validates() {
    let names = Profile::builtin_names();
    for required in [
        "ccsds-bpsk-r1/2-rs",
        "ccsds-qpsk-r1/2-rs4",
        "ccsds-bpsk-uncoded-rs",
        "meteor-m2-lrpt",
    ] {
        assert!(
            names.contains(&required),
            "{required} missing from {names:?}"
        );
    }
    for name in &names {
        let p = builtin(name);
        assert_eq!(&p.name, name);
        p.validate().unwrap();
        assert!(!p.description.is_empty(), "{name} has no description");
    }
    assert_eq!(Profile::builtins().len(), names.len());
}

#[test]
fn builtin_contents() {
    let p = builtin("ccsds-bpsk-r1/2-rs");
    assert_eq!(p.modulation, Modulation::Bpsk);
    assert_eq!(p.symbol_rate, None);
    assert_eq!(p.rolloff, 0.35);
    assert_eq!(
        (p.conv, p.conv_rate),
        (Some(ConvVariant::Ccsds), CodeRate::R1_2)
    );
    assert_eq!(
        p.rs,
        Some(RsSetting {
            e: 16,
            basis: RsBasis::Dual,
            interleave: 1
        })
    );
    assert_eq!(p.frame_length, 223);
    assert_eq!(p.asm, 0x1ACF_FC1D);
    assert!(p.randomizer && !p.crc && !p.differential);

    let q = builtin("ccsds-qpsk-r1/2-rs4");
    assert_eq!(q.modulation, Modulation::Qpsk);
    assert_eq!(q.rs.unwrap().interleave, 4);
    assert_eq!(q.frame_length, 892);
    assert_eq!(q.cadu_len(), 4 + 1020);

    let u = builtin("ccsds-bpsk-uncoded-rs");
    assert_eq!(u.conv, None);
    assert_eq!(u.rs.unwrap().interleave, 1);
    assert_eq!(u.cadu_len(), 4 + 255);

    let m = builtin("meteor-m2-lrpt");
    assert_eq!(m.modulation, Modulation::Qpsk);
    assert_eq!(m.symbol_rate, Some(72_000.0));
    assert_eq!(m.rolloff, 0.6);
    assert_eq!(m.conv, Some(ConvVariant::CcsdsNonInverted));
    assert_eq!(
        m.rs,
        Some(RsSetting {
            e: 16,
            basis: RsBasis::Conventional,
            interleave: 4
        })
    );
    assert_eq!(m.frame_length, 892);
    assert!(m.randomizer && !m.differential);
}

#[test]
fn cadu_lengths() {
    assert_eq!(builtin("meteor-m2-lrpt").code_block_len(), 1020);
    assert_eq!(builtin("meteor-m2-lrpt").cadu_len(), 1024);
    assert_eq!(builtin(BPSK).code_block_len(), 255);
    assert_eq!(builtin(BPSK).cadu_len(), 4 + 255);
}

#[test]
fn to_toml_round_trips() {
    for p in Profile::builtins() {
        let text = p.to_toml();
        let back = Profile::from_toml_str(&text, "round trip").unwrap();
        assert_eq!(back, p, "{text}");
    }
    // Non-default values too.
    let mut p = builtin(BPSK);
    p.symbol_rate = Some(1234.5);
    p.conv = Some(ConvVariant::NasaDsn);
    p.conv_rate = CodeRate::R7_8;
    p.rs = None;
    p.asm = 0x0347_76C7;
    p.differential = true;
    p.crc = true;
    p.modulation = Modulation::Psk8;
    assert_eq!(Profile::from_toml_str(&p.to_toml(), "x").unwrap(), p);
}

#[test]
fn user_file_goes_through_the_same_parser() {
    let dir = tempfile::tempdir().unwrap();
    for name in Profile::builtin_names() {
        let p = builtin(name);
        let path = dir.path().join(format!("{}.toml", name.replace('/', "-")));
        std::fs::File::create(&path)
            .unwrap()
            .write_all(p.to_toml().as_bytes())
            .unwrap();
        let loaded = Profile::load(path.to_str().unwrap()).unwrap();
        assert_eq!(loaded, p);
    }
    // The embedded file's own text, as a user would copy it, also loads identically.
    let path = dir.path().join("meteor.toml");
    std::fs::write(
        &path,
        include_str!("../profiles/meteor-m2-lrpt.toml").replace("meteor-m2-lrpt\"", "mine\""),
    )
    .unwrap();
    let mut expected = builtin("meteor-m2-lrpt");
    expected.name = "mine".into();
    assert_eq!(Profile::load(path.to_str().unwrap()).unwrap(), expected);
}

#[test]
fn load_prefers_builtin_then_file_then_lists_names() {
    assert_eq!(
        Profile::load("meteor-m2-lrpt").unwrap().name,
        "meteor-m2-lrpt"
    );
    let err = Profile::load("/no/such/dir/link.toml")
        .unwrap_err()
        .to_string();
    assert!(err.contains("/no/such/dir/link.toml"), "{err}");
    for name in Profile::builtin_names() {
        assert!(err.contains(name), "{err} does not list {name}");
    }
}

#[test]
fn bad_file_error_names_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bad.toml");
    std::fs::write(&path, bpsk_with("rolloff", "rolloff = 1.5")).unwrap();
    let err = Profile::load(path.to_str().unwrap())
        .unwrap_err()
        .to_string();
    assert!(err.contains("bad.toml"), "{err}");
    assert!(err.contains("rolloff"), "{err}");
}

#[test]
fn unknown_key_is_named() {
    let text = bpsk_with("fec", "fec = \"ldpc\"");
    let err = parse_err(&text, "user.toml");
    assert!(err.contains("user.toml"), "{err}");
    assert!(err.contains("`fec`"), "{err}");

    // Unknown key in the [rs] table.
    let text = format!("{}\ndepth = 4\n", builtin(BPSK).to_toml().trim_end());
    let err = parse_err(&text, "user.toml");
    assert!(
        err.contains("user.toml") && err.contains("`depth`"),
        "{err}"
    );
}

#[test]
fn missing_required_key_is_named() {
    let text: String = builtin(BPSK)
        .to_toml()
        .lines()
        .filter(|l| !l.starts_with("frame_length"))
        .map(|l| format!("{l}\n"))
        .collect();
    let err = parse_err(&text, "user.toml");
    assert!(
        err.contains("user.toml") && err.contains("frame_length"),
        "{err}"
    );
}

#[test]
fn syntax_error_names_file_and_line() {
    let err = parse_err("name = \"x\"\nmodulation = bpsk\n", "broken.toml");
    assert!(
        err.contains("broken.toml") && err.contains("line 2"),
        "{err}"
    );
}

/// Each impossible value gives an error naming the file and the key.
#[test]
fn impossible_values_name_the_key() {
    let rs = |e: u8, i: usize| format!("[rs]\ne = {e}\nbasis = \"dual\"\ninterleave = {i}");
    let no_rs = |text: String| -> String {
        // Drop the [rs] table.
        text.split("[rs]").next().unwrap().to_string()
    };
    let cases: Vec<(String, &str)> = vec![
        (
            bpsk_with("modulation", "modulation = \"qam16\""),
            "modulation",
        ),
        (bpsk_with("modulation", "modulation = 2"), "modulation"),
        (bpsk_with("rolloff", "rolloff = 0.0"), "rolloff"),
        (bpsk_with("rolloff", "rolloff = -0.2"), "rolloff"),
        (bpsk_with("rolloff", "rolloff = 1.01"), "rolloff"),
        (bpsk_with("rolloff", "rolloff = nan"), "rolloff"),
        (bpsk_with("symbol_rate", "symbol_rate = 0"), "symbol_rate"),
        (
            bpsk_with("symbol_rate", "symbol_rate = -9600.0"),
            "symbol_rate",
        ),
        (bpsk_with("symbol_rate", "symbol_rate = inf"), "symbol_rate"),
        (bpsk_with("conv", "conv = \"viterbi\""), "conv"),
        (bpsk_with("conv_rate", "conv_rate = \"4/5\""), "conv_rate"),
        (
            bpsk_with("conv", "conv = \"none\"")
                .replace("conv_rate = \"1/2\"", "conv_rate = \"3/4\""),
            "conv_rate",
        ),
        (
            bpsk_with("frame_length", "frame_length = 0"),
            "frame_length",
        ),
        (
            bpsk_with("frame_length", "frame_length = -5"),
            "frame_length",
        ),
        (
            bpsk_with("frame_length", "frame_length = 224"),
            "frame_length",
        ),
        (
            no_rs(bpsk_with("frame_length", "frame_length = 100000")),
            "frame_length",
        ),
        (bpsk_with("asm", "asm = \"1ACF\""), "asm"),
        (bpsk_with("asm", "asm = \"00000000\""), "asm"),
        (
            bpsk_with("randomizer", "randomizer = \"yes\""),
            "randomizer",
        ),
        (
            no_rs(bpsk_with("crc", "crc = true")).replace("frame_length = 223", "frame_length = 2"),
            "frame_length",
        ),
        (
            format!("{}{}", no_rs(builtin(BPSK).to_toml()), rs(0, 1)),
            "rs.e",
        ),
        (
            format!("{}{}", no_rs(builtin(BPSK).to_toml()), rs(12, 1)),
            "rs.e",
        ),
        (
            format!("{}{}", no_rs(builtin(BPSK).to_toml()), rs(16, 0)),
            "rs.interleave",
        ),
        (
            format!("{}{}", no_rs(builtin(BPSK).to_toml()), rs(16, 9)),
            "rs.interleave",
        ),
        (
            // 223 is not a multiple of I = 2 (and fits (255 − 32)·2 = 446).
            format!("{}{}", no_rs(builtin(BPSK).to_toml()), rs(16, 2)),
            "frame_length",
        ),
        (
            // E = 8: at most 239 bytes per codeword.
            format!("{}{}", no_rs(builtin(BPSK).to_toml()), rs(8, 1))
                .replace("frame_length = 223", "frame_length = 240"),
            "frame_length",
        ),
        (
            format!(
                "{}[rs]\ne = 16\nbasis = \"berlekamp\"\n",
                no_rs(builtin(BPSK).to_toml())
            ),
            "basis",
        ),
        (
            format!("rs = \"yes\"\n{}", no_rs(builtin(BPSK).to_toml())),
            "rs",
        ),
    ];
    for (text, key) in cases {
        let err = parse_err(&text, "case.toml");
        assert!(err.contains("case.toml"), "{key}: {err}");
        assert!(
            err.contains(key),
            "error does not name `{key}`: {err}\n{text}"
        );
    }
}

#[test]
fn validate_catches_values_set_in_code() {
    let mut p = builtin(BPSK);
    p.rolloff = 0.0;
    let err = p.validate().unwrap_err().to_string();
    assert!(err.contains(BPSK) && err.contains("rolloff"), "{err}");

    let mut p = builtin("ccsds-qpsk-r1/2-rs4");
    p.frame_length = 891;
    let err = p.validate().unwrap_err().to_string();
    assert!(
        err.contains("frame_length") && err.contains("multiple"),
        "{err}"
    );

    let mut p = builtin("ccsds-qpsk-r1/2-rs4");
    p.frame_length = 4 * 100; // shortened RS (virtual fill) is allowed
    p.validate().unwrap();
    assert_eq!(p.code_block_len(), 400 + 128);
}

#[test]
fn defaults_of_optional_keys() {
    let text = "name = \"minimal\"\nmodulation = \"qpsk\"\nrolloff = 0.5\nconv = \"none\"\n\
                frame_length = 100\nrandomizer = false\n";
    let p = Profile::from_toml_str(text, "minimal.toml").unwrap();
    assert_eq!(p.description, "");
    assert_eq!(p.symbol_rate, None);
    assert_eq!(p.conv_rate, CodeRate::R1_2);
    assert_eq!(p.rs, None);
    assert_eq!(p.asm, 0x1ACF_FC1D);
    assert!(!p.differential && !p.crc);
    assert_eq!(p.cadu_len(), 104);

    let text = format!("{text}[rs]\ne = 8\n");
    let p = Profile::from_toml_str(&text, "minimal.toml").unwrap();
    assert_eq!(
        p.rs,
        Some(RsSetting {
            e: 8,
            basis: RsBasis::Dual,
            interleave: 1
        })
    );
    assert_eq!(p.code_block_len(), 116);
}
