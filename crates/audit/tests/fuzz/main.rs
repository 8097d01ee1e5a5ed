//! A mutation fuzzer over the audit pipeline, run as ordinary tests: mutated
//! real files (the fixtures, the example apps, a sample of site-packages) and
//! arbitrary bytes go through discovery, per-file analysis, the project model
//! and every rule. Each case must finish without a panic (also none caught per
//! file), with every finding location inside its file, and the same output
//! when run again (checked on every 8th case).
//!
//! Bounded by case count, not time, so a run is reproducible:
//!
//! ```text
//! FLASKGUARD_FUZZ_CASES=100000 cargo test --release -p flaskguard-audit --test fuzz
//! FLASKGUARD_FUZZ_SEED=7 ...      # another sequence (default 0)
//! FLASKGUARD_FUZZ_CASE=1234 ...   # only that case of each test
//! ```
//!
//! A failing case is copied to `target/tmp/fuzz-failures/<test>-<case>/` and
//! the failure names it. A crash that cannot be caught (a stack overflow)
//! leaves the case in the directory the test printed at its start.

mod check;
mod mutate;
mod seeds;
mod snippets;

use std::{
    panic::{catch_unwind, AssertUnwindSafe},
    path::{Path, PathBuf},
};

use audit::AuditSettings;
use mutate::{Flavor, Rng};
use report::{Format, RenderOptions};
use seeds::{Corpus, Files};

/// Cases over the three tests when FLASKGUARD_FUZZ_CASES is not set: a few
/// seconds in CI.
const DEFAULT_CASES: usize = 2400;

fn env_number(name: &str) -> Option<u64> {
    let v = std::env::var(name).ok()?;
    match v.trim().parse() {
        Ok(n) => Some(n),
        Err(_) => panic!("{name}={v:?} is not a number"),
    }
}

/// File names for arbitrary bytes, one per kind discovery knows.
const NAMES: &[&str] = &[
    "app.py",
    "pkg/__init__.py",
    "gunicorn.conf.py",
    "templates/index.html",
    ".env",
    ".env.production",
    "Dockerfile",
    "Procfile",
    "docker-compose.yml",
    "requirements.txt",
    "pyproject.toml",
    "poetry.lock",
    "deploy/nginx.conf",
    ".gitignore",
];

#[test]
fn fuzz_single_files() {
    run("single", 5, |rng, corpus| {
        let (rel, bytes) = rng.pick(&corpus.files);
        let mut data = bytes.clone();
        let donor = &rng.pick(&corpus.files).1;
        mutate::mutate(rng, &mut data, Flavor::of(rel), donor);
        vec![(rel.clone(), data)]
    });
}

#[test]
fn fuzz_projects() {
    run("projects", 4, |rng, corpus| {
        let mut files = rng.pick(&corpus.projects).clone();
        for _ in 0..1 + rng.below(3) {
            let i = rng.below(files.len());
            let donor = &rng.pick(&corpus.files).1;
            let flavor = Flavor::of(&files[i].0);
            mutate::mutate(rng, &mut files[i].1, flavor, donor);
        }
        if rng.chance(3) {
            // Other people's module beside the app, possibly mutated.
            let (rel, bytes) = rng.pick(&corpus.files);
            let mut data = bytes.clone();
            if rng.chance(2) {
                mutate::mutate(rng, &mut data, Flavor::of(rel), &[]);
            }
            files.push((format!("vendor/{rel}"), data));
        }
        if rng.chance(4) {
            // The checkout's git index (read for committed .env files).
            let paths: Vec<&str> = files.iter().map(|(p, _)| p.as_str()).collect();
            let mut index = seeds::git_index(&paths);
            if rng.chance(2) {
                mutate::mutate(rng, &mut index, Flavor::Other, &[]);
            }
            files.push((".git/index".into(), index));
        }
        files
    });
}

#[test]
fn fuzz_arbitrary_bytes() {
    run("bytes", 3, |rng, _| {
        (0..1 + rng.below(3))
            .map(|_| {
                let len = rng.below(4096);
                (rng.pick(NAMES).to_string(), rng.bytes(len))
            })
            .collect()
    });
}

/// Runs this test's share (`weight` of 12) of the cases.
fn run(name: &str, weight: usize, make: impl Fn(&mut Rng, &Corpus) -> Files) {
    let total = env_number("FLASKGUARD_FUZZ_CASES").map_or(DEFAULT_CASES, |n| n as usize);
    let cases = (total * weight / 12).max(1);
    let seed = env_number("FLASKGUARD_FUZZ_SEED").unwrap_or(0);
    let only = env_number("FLASKGUARD_FUZZ_CASE").map(|n| n as usize);
    let corpus = Corpus::load();
    let dir = std::env::temp_dir().join(format!("flaskguard-fuzz-{name}-{}", std::process::id()));
    eprintln!(
        "fuzz {name}: {cases} cases, seed {seed}, written to {}",
        dir.display()
    );
    let settings = AuditSettings::default();
    let mut stats = Stats::default();
    for case in 0..cases {
        if only.is_some_and(|o| o != case) {
            continue;
        }
        let mut rng = Rng::new(case_seed(seed, name, case));
        let files = make(&mut rng, &corpus);
        write_case(&dir, &files);
        let failure = match catch_unwind(AssertUnwindSafe(|| {
            audit::run(std::slice::from_ref(&dir), &settings)
        })) {
            Err(panic) => Some(format!("panic: {}", panic_message(&panic))),
            Ok(Err(e)) => Some(format!("the run failed: {e}")),
            Ok(Ok(first)) => check::outcome(&files, &first).err().or_else(|| {
                stats.add(&first);
                (case % 8 == 0)
                    .then(|| deterministic(&dir, &settings, &first))
                    .flatten()
            }),
        };
        if let Some(failure) = failure {
            let kept = keep_failure(&dir, name, case);
            panic!(
                "fuzz {name} case {case} (FLASKGUARD_FUZZ_SEED={seed} FLASKGUARD_FUZZ_CASE={case}): \
                 {failure}\ninput kept in {}",
                kept.display()
            );
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
    // What the cases reached, so a change that makes them all fail early shows.
    eprintln!(
        "fuzz {name}: {} Python files analysed, {} not parsed, {} other diagnostics, {} findings",
        stats.parsed, stats.syntax_errors, stats.other_diagnostics, stats.findings
    );
}

#[derive(Default)]
struct Stats {
    parsed: usize,
    syntax_errors: usize,
    other_diagnostics: usize,
    findings: usize,
}

impl Stats {
    fn add(&mut self, outcome: &audit::AuditOutcome) {
        self.parsed += outcome.project.py.iter().flatten().count();
        let syntax = |d: &&report::Diagnostic| d.message.starts_with("syntax error");
        let diags = &outcome.report.diagnostics;
        self.syntax_errors += diags.iter().filter(syntax).count();
        self.other_diagnostics += diags.len() - diags.iter().filter(syntax).count();
        self.findings += outcome.report.findings.len();
    }
}

fn case_seed(seed: u64, name: &str, case: usize) -> u64 {
    let tag = name.bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    });
    seed.wrapping_mul(0x9E37_79B9_7F4A_7C15)
        ^ tag
        ^ (case as u64).wrapping_mul(0xD6E8_FEB8_6659_FD93)
}

fn deterministic(
    dir: &Path,
    settings: &AuditSettings,
    first: &audit::AuditOutcome,
) -> Option<String> {
    let render =
        |r: &report::Report| report::render(r, Format::Json, &RenderOptions { color: false });
    let second = audit::run(&[dir.to_path_buf()], settings).ok()?;
    (render(&first.report) != render(&second.report))
        .then(|| "two runs, different output".to_string())
}

fn write_case(dir: &Path, files: &Files) {
    let _ = std::fs::remove_dir_all(dir);
    std::fs::create_dir_all(dir).expect("create the case directory");
    for (rel, bytes) in files {
        let path = dir.join(rel);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).expect("create a case subdirectory");
        }
        std::fs::write(&path, bytes).expect("write a case file");
    }
}

fn keep_failure(dir: &Path, name: &str, case: usize) -> PathBuf {
    let kept = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join("fuzz-failures")
        .join(format!("{name}-{case}"));
    let _ = std::fs::remove_dir_all(&kept);
    copy_dir(dir, &kept);
    kept
}

fn copy_dir(from: &Path, to: &Path) {
    let _ = std::fs::create_dir_all(to);
    for entry in std::fs::read_dir(from).into_iter().flatten().flatten() {
        let target = to.join(entry.file_name());
        if entry.path().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            let _ = std::fs::copy(entry.path(), target);
        }
    }
}

fn panic_message(panic: &Box<dyn std::any::Any + Send>) -> String {
    panic
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "(not a string)".into())
}
