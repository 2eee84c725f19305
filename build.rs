//! Embeds the satellite catalogue (`profiles/satellites/*.toml`, one file per satellite)
//! in the binary: writes `$OUT_DIR/satellites.rs`, a sorted `&[(&str, &str)]` of file name
//! and text, so `leomodem satellites` and `rx --satellite` need no files at run time.

use std::fmt::Write as _;
use std::path::Path;

fn main() {
    // The manifest directory of this build (read at run time: a build script binary may
    // be reused from another checkout of the same crate).
    let root = std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR");
    let dir = Path::new(&root).join("profiles/satellites");
    println!("cargo:rerun-if-changed={}", dir.display());
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("satellite catalogue {}: {e}", dir.display()))
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "toml"))
        .collect();
    assert!(
        !files.is_empty(),
        "satellite catalogue {}: no .toml file",
        dir.display()
    );
    files.sort();
    let mut code = String::from(
        "/// Catalogue files: (file name, TOML text).\npub const FILES: &[(&str, &str)] = &[\n",
    );
    for p in &files {
        println!("cargo:rerun-if-changed={}", p.display());
        let name = p.file_name().unwrap().to_string_lossy();
        writeln!(
            code,
            "    ({name:?}, include_str!({:?})),",
            p.display().to_string()
        )
        .unwrap();
    }
    code.push_str("];\n");
    let out = Path::new(&std::env::var("OUT_DIR").unwrap()).join("satellites.rs");
    std::fs::write(out, code).unwrap();
}
