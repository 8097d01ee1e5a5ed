//! What the fuzzer mutates: every fixture project and example app of the
//! repository (Python with Flask's patterns, and every deploy file kind), and a
//! sample of site-packages files (other people's Python) when the example venv
//! exists.

use std::path::{Path, PathBuf};

/// A project: files by root-relative path.
pub type Files = Vec<(String, Vec<u8>)>;

pub struct Corpus {
    pub projects: Vec<Files>,
    /// Every file of every project and the site-packages sample, for single-file
    /// cases and as splice donors.
    pub files: Files,
}

/// Site-packages files sampled, and the largest taken (bytes).
const SAMPLE: usize = 160;
const SAMPLE_MAX_BYTES: u64 = 48 * 1024;

impl Corpus {
    pub fn load() -> Corpus {
        let repo = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
        let mut dirs: Vec<PathBuf> = vec![
            repo.join("examples/orders-weak"),
            repo.join("examples/orders-hardened"),
        ];
        let fixtures = repo.join("crates/audit/tests/fixtures");
        for control in sorted_dir(&fixtures) {
            dirs.extend(sorted_dir(&control).into_iter().filter(|p| p.is_dir()));
        }
        let mut projects = Vec::new();
        let mut files = Vec::new();
        for dir in dirs {
            let mut project = Files::new();
            collect(&dir, &dir, &mut project);
            files.extend(project.iter().cloned());
            if !project.is_empty() {
                projects.push(project);
            }
        }
        let sample = site_packages_sample();
        if sample.is_empty() {
            eprintln!(
                "fuzz: no site-packages of the orders-hardened venv; fixtures and examples only"
            );
        }
        files.extend(sample);
        assert!(
            projects.len() >= 10 && files.len() >= 50,
            "the fuzz corpus is too small: {} projects, {} files",
            projects.len(),
            files.len()
        );
        Corpus { projects, files }
    }
}

fn sorted_dir(dir: &Path) -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|rd| rd.flatten().map(|e| e.path()).collect())
        .unwrap_or_default();
    out.sort();
    out
}

fn collect(root: &Path, dir: &Path, out: &mut Files) {
    for path in sorted_dir(dir) {
        let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
        if path.is_dir() {
            if name != "__pycache__" {
                collect(root, &path, out);
            }
            continue;
        }
        // The fixtures' expectations and long prose are not audit input.
        if name == "expected" || name.ends_with(".md") {
            continue;
        }
        let Ok(bytes) = std::fs::read(&path) else {
            continue;
        };
        let rel = path
            .strip_prefix(root)
            .unwrap_or(&path)
            .to_string_lossy()
            .replace('\\', "/");
        out.push((rel, bytes));
    }
}

/// Every n-th Python file of the example venv's site-packages (sorted, so the
/// same files each run), up to [`SAMPLE`] files of moderate size.
fn site_packages_sample() -> Files {
    let lib = testkit::venv("orders-hardened").join("lib");
    let Some(site) = sorted_dir(&lib)
        .into_iter()
        .map(|p| p.join("site-packages"))
        .find(|p| p.is_dir())
    else {
        return Files::new();
    };
    let mut all = Vec::new();
    walk_py(&site, &mut all);
    all.sort();
    let step = (all.len() / SAMPLE).max(1);
    all.into_iter()
        .step_by(step)
        .filter(|p| std::fs::metadata(p).is_ok_and(|m| m.len() <= SAMPLE_MAX_BYTES))
        .take(SAMPLE)
        .filter_map(|p| {
            let bytes = std::fs::read(&p).ok()?;
            let rel = p
                .strip_prefix(&site)
                .ok()?
                .to_string_lossy()
                .replace('\\', "/");
            Some((rel, bytes))
        })
        .collect()
}

fn walk_py(dir: &Path, out: &mut Vec<PathBuf>) {
    for path in sorted_dir(dir) {
        if path.is_dir() {
            walk_py(&path, out);
        } else if path.extension().is_some_and(|e| e == "py") {
            out.push(path);
        }
    }
}

/// A git index (version 2) listing `paths`, as `git add` writes it (the
/// checksum at the end is not read).
pub fn git_index(paths: &[&str]) -> Vec<u8> {
    let mut b = b"DIRC".to_vec();
    b.extend_from_slice(&2u32.to_be_bytes());
    b.extend_from_slice(&(paths.len() as u32).to_be_bytes());
    for path in paths {
        let start = b.len();
        b.extend_from_slice(&[0u8; 60]);
        b.extend_from_slice(&(path.len().min(0xfff) as u16).to_be_bytes());
        b.extend_from_slice(path.as_bytes());
        let len = b.len() - start;
        b.resize(start + (len + 8) / 8 * 8, 0);
    }
    b.extend_from_slice(&[0u8; 20]);
    b
}
