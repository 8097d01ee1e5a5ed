//! What a deployment installs, read from the deploy facts: which requirements
//! files are installed together (a file and the files it includes with `-r`),
//! the pins that constrain them (`-c` files, a `constraints*.txt` beside them),
//! which files and extras are for development only, and where lock files sit.

use std::collections::{BTreeSet, HashMap, HashSet};

use crate::{
    deploy::requirements::{RefKind, Requirement},
    discover::FileKind,
    model::Project,
    source::FileId,
};

/// Words in a file, directory or extra name that mean "not installed in
/// production" (`requirements-dev.txt`, `requirements/test.txt`,
/// `docs/requirements.txt`, the `lint` extra).
const DEV_WORDS: &[&str] = &[
    "dev",
    "develop",
    "development",
    "test",
    "tests",
    "testing",
    "ci",
    "doc",
    "docs",
    "lint",
    "linting",
    "typing",
    "mypy",
    "local",
    "tox",
    "bench",
    "benchmark",
    "benchmarks",
    "example",
    "examples",
    "style",
    "format",
    "pre-commit",
    "precommit",
    "debug",
];

/// Whether a name (a path, an extra) is for development, tests or docs only.
pub fn is_dev_name(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    let stem = lower.strip_suffix(".txt").unwrap_or(&lower);
    stem.split(['/', '-', '_', '.'])
        .any(|w| DEV_WORDS.contains(&w))
}

fn dir_of(rel: &str) -> &str {
    rel.rsplit_once('/').map_or("", |(d, _)| d)
}

fn file_name(rel: &str) -> &str {
    rel.rsplit_once('/').map_or(rel, |(_, n)| n)
}

/// `dir/target` with `.` and `..` resolved, as a root-relative path.
fn join(dir: &str, target: &str) -> String {
    let mut parts: Vec<&str> = if dir.is_empty() {
        Vec::new()
    } else {
        dir.split('/').collect()
    };
    for p in target.split('/') {
        match p {
            "" | "." => {}
            ".." => {
                parts.pop();
            }
            p => parts.push(p),
        }
    }
    parts.join("/")
}

/// One `pip install -r TOP` and everything it pulls in.
#[derive(Debug)]
pub struct Install {
    pub top: FileId,
    /// The top file and every file it includes, transitively.
    pub files: BTreeSet<FileId>,
    /// Names pinned (`==`) by the constraints files of the install.
    pub constrained: HashSet<String>,
    /// A `-c` file could not be read: any name may be constrained.
    pub constraints_unknown: bool,
    pub dev: bool,
}

/// The requirements files of the project and how they are installed.
pub struct Installs {
    pub installs: Vec<Install>,
    /// Files only ever named with `-c`, or named `constraints*`.
    pub constraint_files: HashSet<FileId>,
}

impl Installs {
    pub fn of(project: &Project) -> Installs {
        let req_files: Vec<FileId> = project
            .files
            .iter()
            .filter(|f| f.kind == FileKind::Requirements && !f.is_test)
            .map(|f| f.source.id)
            .collect();
        let by_rel: HashMap<&str, FileId> = project
            .files
            .iter()
            .map(|f| (f.source.rel.as_str(), f.source.id))
            .collect();
        let rel = |id: FileId| project.source(id).map_or("", |s| s.rel.as_str());
        // Edges: (from, kind) -> target, or None when the target is not known.
        let mut includes: HashMap<FileId, Vec<FileId>> = HashMap::new();
        let mut constraints: HashMap<FileId, Vec<Option<FileId>>> = HashMap::new();
        let mut included: HashSet<FileId> = HashSet::new();
        let mut constraint_files: HashSet<FileId> = HashSet::new();
        for r in &project.deploy.requirement_refs {
            let target = join(dir_of(rel(r.from)), &r.target);
            let to = by_rel.get(target.as_str()).copied();
            match r.kind {
                RefKind::Include => {
                    if let Some(to) = to {
                        includes.entry(r.from).or_default().push(to);
                        // `requirements-dev.txt` with `-r requirements.txt`:
                        // requirements.txt is still installed on its own.
                        if !is_dev_name(rel(r.from)) {
                            included.insert(to);
                        }
                    }
                }
                RefKind::Constraint => {
                    constraints.entry(r.from).or_default().push(to);
                    constraint_files.extend(to);
                }
            }
        }
        for &f in &req_files {
            if file_name(rel(f))
                .to_ascii_lowercase()
                .starts_with("constraints")
            {
                constraint_files.insert(f);
            }
        }
        let pins_of = |f: FileId| -> Vec<&Requirement> {
            project
                .deploy
                .requirements
                .iter()
                .filter(|r| r.file == f && r.pinned.is_some())
                .collect()
        };
        let mut installs = Vec::new();
        for &top in &req_files {
            if included.contains(&top) || constraint_files.contains(&top) {
                continue;
            }
            let mut files = BTreeSet::new();
            let mut stack = vec![top];
            while let Some(f) = stack.pop() {
                if files.insert(f) {
                    stack.extend(includes.get(&f).into_iter().flatten().copied());
                }
            }
            let mut constrained = HashSet::new();
            let mut constraints_unknown = false;
            // A constraints file beside the top file is taken to be used with it
            // (`pip install -r requirements.txt -c constraints.txt`).
            let beside = req_files.iter().copied().filter(|&c| {
                dir_of(rel(c)) == dir_of(rel(top))
                    && file_name(rel(c))
                        .to_ascii_lowercase()
                        .starts_with("constraints")
            });
            let named = files
                .iter()
                .flat_map(|f| constraints.get(f).into_iter().flatten().copied())
                .collect::<Vec<_>>();
            for c in named.into_iter().chain(beside.map(Some)) {
                match c {
                    Some(c) => constrained.extend(pins_of(c).into_iter().map(|r| r.name.clone())),
                    None => constraints_unknown = true,
                }
            }
            installs.push(Install {
                top,
                dev: is_dev_name(rel(top)),
                files,
                constrained,
                constraints_unknown,
            });
        }
        Installs {
            installs,
            constraint_files,
        }
    }

    /// Whether a requirement line installs something unpinned in an install
    /// that reaches production.
    pub fn unpinned_in_production(&self, r: &Requirement) -> bool {
        if r.is_fixed() {
            return false;
        }
        self.installs.iter().any(|i| {
            !i.dev
                && i.files.contains(&r.file)
                && !i.constraints_unknown
                && !i.constrained.contains(&r.name)
        })
    }

    /// Whether a requirements file is installed in production (part of a
    /// non-development install, or a constraints file of one).
    pub fn reaches_production(&self, file: FileId) -> bool {
        self.installs
            .iter()
            .any(|i| !i.dev && i.files.contains(&file))
            || self.constraint_files.contains(&file)
    }
}

/// Whether a pyproject's dependencies are locked: a lock file in its directory
/// or a parent directory (a uv or Poetry workspace), or a fully pinned
/// production requirements file there or below (compiled from it).
pub fn pyproject_is_locked(project: &Project, installs: &Installs, pyproject: FileId) -> bool {
    let Some(src) = project.source(pyproject) else {
        return false;
    };
    let dir = dir_of(&src.rel);
    let covers = |other: &str| {
        let d = dir_of(other);
        d == dir
            || dir.is_empty()
            || dir.starts_with(&format!("{d}/"))
            || d.is_empty()
            || d.starts_with(&format!("{dir}/"))
    };
    let lock_above = project.deploy.lockfiles.iter().any(|&l| {
        project.source(l).is_some_and(|s| {
            let d = dir_of(&s.rel);
            d == dir || d.is_empty() || dir.starts_with(&format!("{d}/"))
        })
    });
    if lock_above {
        return true;
    }
    installs.installs.iter().any(|i| {
        !i.dev && project.source(i.top).is_some_and(|s| covers(&s.rel)) && {
            let reqs: Vec<&Requirement> = project
                .deploy
                .requirements
                .iter()
                .filter(|r| i.files.contains(&r.file))
                .collect();
            !reqs.is_empty() && reqs.iter().all(|r| r.is_fixed())
        }
    })
}

/// The version of a package the project pins, from production requirements,
/// pyproject `==` pins and lock files, when exactly one is pinned.
pub fn pinned_version(project: &Project, name: &str) -> Option<String> {
    let installs = Installs::of(project);
    let name = crate::deploy::requirements::normalize_name(name);
    let mut versions: BTreeSet<&str> = BTreeSet::new();
    for r in &project.deploy.requirements {
        if r.name == name && installs.reaches_production(r.file) {
            versions.extend(r.pinned.as_deref());
        }
    }
    for p in &project.deploy.pyprojects {
        versions.extend(
            p.deps
                .iter()
                .filter(|r| r.name == name)
                .filter_map(|r| r.pinned.as_deref()),
        );
    }
    versions.extend(
        project
            .deploy
            .locked
            .iter()
            .filter(|l| l.name == name)
            .map(|l| l.version.as_str()),
    );
    let mut it = versions.into_iter();
    match (it.next(), it.next()) {
        (Some(v), None) => Some(v.to_string()),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dev_names() {
        assert!(is_dev_name("requirements-dev.txt"));
        assert!(is_dev_name("requirements/test.txt"));
        assert!(is_dev_name("docs/requirements.txt"));
        assert!(is_dev_name("lint"));
        assert!(!is_dev_name("requirements.txt"));
        assert!(!is_dev_name("requirements/production.txt"));
        assert!(!is_dev_name("requirements/devices.txt"));
    }

    #[test]
    fn joining_paths() {
        assert_eq!(join("requirements", "base.txt"), "requirements/base.txt");
        assert_eq!(
            join("requirements", "../constraints.txt"),
            "constraints.txt"
        );
        assert_eq!(join("", "./base.txt"), "base.txt");
    }
}
