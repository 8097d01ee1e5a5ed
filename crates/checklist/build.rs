//! Embeds every `docs/<ID>.md` file so `flaskguard explain` needs no files at run time.
//! A missing doc is caught by the `every_control_has_a_complete_doc` test, not here,
//! so the crate builds while docs are being written.
use std::{env, fs, path::Path};

fn main() {
    let docs = Path::new(&env::var("CARGO_MANIFEST_DIR").unwrap()).join("docs");
    println!("cargo:rerun-if-changed={}", docs.display());
    let mut entries: Vec<(String, String)> = Vec::new();
    if let Ok(dir) = fs::read_dir(&docs) {
        for entry in dir.flatten() {
            let path = entry.path();
            println!("cargo:rerun-if-changed={}", path.display());
            if path.extension().and_then(|e| e.to_str()) != Some("md") {
                continue;
            }
            let Some(stem) = path.file_stem().and_then(|s| s.to_str()) else {
                continue;
            };
            entries.push((stem.to_string(), path.display().to_string()));
        }
    }
    entries.sort();
    let mut out = String::from("/// (control id, long doc) for every file in docs/.\npub(crate) static DOCS: &[(&str, &str)] = &[\n");
    for (id, path) in entries {
        out.push_str(&format!("    ({id:?}, include_str!({path:?})),\n"));
    }
    out.push_str("];\n");
    let dest = Path::new(&env::var("OUT_DIR").unwrap()).join("docs.rs");
    fs::write(dest, out).unwrap();
}
