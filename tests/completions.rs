//! Shell completions and manual pages generated from the command line, and the global
//! `-v`/`-q` flags.

mod common;

use common::{fail_with, ok, run, s, Dir};

const SUBCOMMANDS: [&str; 8] = [
    "tx",
    "rx",
    "sim",
    "info",
    "profiles",
    "ber",
    "plot",
    "completions",
];

#[test]
fn bash_completions_name_every_subcommand_and_option() {
    let out = run(&["completions", "bash"]);
    assert!(out.status.success());
    assert!(
        out.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let script = String::from_utf8(out.stdout).unwrap();
    assert!(
        script.contains("_leomodem()"),
        "not a bash completion function"
    );
    assert!(script.contains("complete -F _leomodem"));
    for sub in SUBCOMMANDS {
        assert!(
            script.contains(&format!("leomodem,{sub})"))
                || script.contains(&format!("leomodem__{sub}")),
            "bash completions lack {sub}"
        );
    }
    for opt in [
        "--sample-rate",
        "--profile",
        "--out",
        "--verbose",
        "--quiet",
    ] {
        assert!(script.contains(opt), "bash completions lack {opt}");
    }
}

#[test]
fn every_shell_gets_a_script() {
    for (shell, marker) in [
        ("zsh", "#compdef leomodem"),
        ("fish", "complete -c leomodem"),
        ("powershell", "Register-ArgumentCompleter"),
        ("elvish", "edit:completion:arg-completer[leomodem]"),
    ] {
        let text = ok(&["completions", shell]);
        assert!(text.contains(marker), "{shell}: no {marker:?}");
        assert!(text.contains("plot"), "{shell}: no plot subcommand");
    }
    fail_with(&["completions", "tcsh"], &["tcsh", "bash"]);
}

#[test]
fn man_page_renders_to_stdout_and_per_command_files() {
    let out = run(&["man"]);
    assert!(out.status.success());
    let page = String::from_utf8(out.stdout).unwrap();
    assert!(
        page.starts_with(".ie") || page.contains(".TH"),
        "{}",
        &page[..200.min(page.len())]
    );
    assert!(page.contains(".TH leomodem 1"), "no title header");
    assert!(page.contains("SUBCOMMANDS") || page.contains("leomodem\\-rx"));
    let d = Dir::new();
    let dir = d.p("man1");
    ok(&["man", "--out", s(&dir)]);
    for name in [
        "leomodem.1",
        "leomodem-rx.1",
        "leomodem-plot.1",
        "leomodem-completions.1",
    ] {
        let text =
            std::fs::read_to_string(dir.join(name)).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert!(text.contains(".TH"), "{name}: no .TH");
    }
    let rx = std::fs::read_to_string(dir.join("leomodem-rx.1")).unwrap();
    assert!(rx.contains("sample\\-rate"), "rx page lacks its options");
    let blocker = d.write("blocker", b"x");
    fail_with(&["man", "--out", s(&blocker)], &["blocker"]);
}

/// `-q` and `-v` are accepted anywhere; errors are one line by default.
#[test]
fn global_flags_and_one_line_errors() {
    ok(&["-q", "profiles"]);
    ok(&["profiles", "-v"]);
    ok(&["-vv", "profiles"]);
    let d = Dir::new();
    let e = fail_with(
        &["info", s(&d.p("nope.cf32")), "--sample-rate", "1M"],
        &["nope.cf32"],
    );
    assert_eq!(e.lines().count(), 1, "{e}");
    assert!(e.starts_with("error: "), "{e}");
    // -v: info messages appear (and never a progress bar's control sequences).
    let raw = d.write("t.cf32", vec![0u8; 8 * 20_000]);
    let out = run(&[
        "plot",
        s(&raw),
        "--sample-rate",
        "1M",
        "--out",
        s(&d.p("p")),
        "-v",
    ]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{err}");
    assert!(err.contains("info: "), "{err}");
    assert!(
        !err.contains('\x1b') && !err.contains('\r'),
        "control characters in {err:?}"
    );
    let out = run(&[
        "plot",
        s(&raw),
        "--sample-rate",
        "1M",
        "--out",
        s(&d.p("p")),
    ]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!err.contains("info: "), "{err}");
}
