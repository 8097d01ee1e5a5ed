//! DEP001 `unpinned-dependency`: a production dependency that is not pinned to
//! one version.

use report::Finding;

use super::installs::{is_dev_name, pyproject_is_locked, Installs};
use crate::{
    deploy::requirements::{ReqSource, Requirement},
    rules::{Rule, RuleContext},
};

pub const RULE: Rule = Rule {
    code: "DEP001",
    name: "unpinned-dependency",
    doc: DOC,
    check,
};

const DOC: &str = r#"## What it does
Reports, one finding per file (at its first unpinned line, naming them all;
a VCS URL gets a finding of its own):

- lines of `requirements*.txt` files (and the files they include with `-r`)
  that do not pin one version with `==` or `===`: bare names, ranges (`>=`,
  `~=`, `<`), wildcards (`==3.*`), and VCS URLs without a commit or tag
  (`git+https://...` or `@main`). A name pinned by a constraints file of the
  same install (`-c constraints.txt`, or a `constraints*.txt` beside the
  file) counts as pinned; when a `-c` file cannot be read the line is not
  reported. Archive URLs and local paths (`-e .`) install one thing and are
  not reported;
- `pyproject.toml` dependencies (`[project]` and Poetry's) that are not
  pinned when no lock file (`poetry.lock`, `uv.lock`, `pdm.lock`,
  `Pipfile.lock`, `pylock.toml`, rye's `requirements.lock`) sits in the
  project's directory or above it, and no fully pinned requirements file was
  compiled for it.

Files, directories and extras named for development, tests or docs
(`requirements-dev.txt`, `requirements/test.txt`, `docs/requirements.txt`,
the `dev` extra) are not production installs and are not reported.

## Why is this bad?
Every build may install a different release: changes, regressions or a
compromised upload reach production without review, a rollback does not
restore what ran before, and DEP002 cannot tell what is deployed.

## Example
```text
flask>=2.2
gunicorn
```

Use instead:
```text
flask==3.1.1
gunicorn==23.0.0
```
(compiled with `pip-compile --generate-hashes` or `uv pip compile`, or a
committed lock file).
"#;

fn check(ctx: &RuleContext) -> Vec<Finding> {
    let project = ctx.project;
    let installs = Installs::of(project);
    let mut out = Vec::new();
    let loose: Vec<&Requirement> = project
        .deploy
        .requirements
        .iter()
        .filter(|r| installs.unpinned_in_production(r))
        .collect();
    report_by_file(ctx, &loose, None, &mut out);
    for p in &project.deploy.pyprojects {
        if project.file(p.file).is_none_or(|f| f.is_test)
            || pyproject_is_locked(project, &installs, p.file)
        {
            continue;
        }
        let loose: Vec<&Requirement> = p
            .deps
            .iter()
            .filter(|r| !r.is_fixed() && !r.group.as_deref().is_some_and(is_dev_name))
            .collect();
        report_by_file(ctx, &loose, Some("and no lock file pins it"), &mut out);
    }
    out
}

/// One finding per VCS line, and one per file for the version ranges and
/// bare names (at the first, naming them all), so a file of twenty ranges is
/// one thing to fix rather than twenty.
fn report_by_file(
    ctx: &RuleContext,
    loose: &[&Requirement],
    extra: Option<&str>,
    out: &mut Vec<Finding>,
) {
    let mut files: Vec<crate::source::FileId> = Vec::new();
    for r in loose {
        if matches!(r.source, ReqSource::Vcs { .. }) {
            out.push(finding(ctx, r, extra));
        } else if !files.contains(&r.span.file) {
            files.push(r.span.file);
        }
    }
    for file in files {
        // A line silenced on its own (`# flaskguard: ignore[DEP001]`) leaves the
        // group: the finding, placed on the first line left, must not take the
        // others down with it, nor name what was accepted.
        let source = ctx.project.source(file);
        let group: Vec<&Requirement> = loose
            .iter()
            .copied()
            .filter(|r| r.span.file == file && !matches!(r.source, ReqSource::Vcs { .. }))
            .filter(|r| {
                !source.is_some_and(|s| s.suppressed(s.line_of(r.span.start.into()), RULE.code))
            })
            .collect();
        match group.as_slice() {
            [] => {}
            [one] => out.push(finding(ctx, one, extra)),
            [first, ..] => out.push(grouped(ctx, &group, first, extra)),
        }
    }
}

/// The written form of a requirement: name and specifier.
fn written(r: &Requirement) -> String {
    let sep = if r.spec.starts_with('^') || (r.spec.starts_with('~') && !r.spec.starts_with("~=")) {
        " "
    } else {
        ""
    };
    format!("{}{sep}{}", r.name, r.spec)
}

fn grouped(
    ctx: &RuleContext,
    group: &[&Requirement],
    first: &Requirement,
    extra: Option<&str>,
) -> Finding {
    const SHOWN: usize = 8;
    let mut names: Vec<String> = group
        .iter()
        .take(SHOWN)
        .map(|r| format!("`{}`", written(r)))
        .collect();
    if group.len() > SHOWN {
        names.push(format!("and {} more", group.len() - SHOWN));
    }
    let what = format!(
        "{} dependencies are not pinned to one version ({}): each install may get different releases",
        group.len(),
        names.join(", ")
    );
    let message = match extra {
        Some(e) => format!("{what} {e}"),
        None => what,
    };
    let fix = match extra {
        Some(_) => "Commit a lock file (`uv lock`, `poetry lock`, `pdm lock`) and install from it, or compile a pinned requirements file from pyproject.toml.",
        None => "Pin exact versions with `==` (compile the file with `pip-compile --generate-hashes` or `uv pip compile`), or pin them in a constraints file.",
    };
    ctx.finding(RULE.code, RULE.name, first.span, message)
        .with_fix(fix)
        .with_evidence(ctx.snippet(first.span))
}

fn finding(ctx: &RuleContext, r: &Requirement, extra: Option<&str>) -> Finding {
    let shown = ctx.snippet(r.span);
    let what = match r.source {
        ReqSource::Vcs { .. } => format!(
            "`{}` installs from version control without a fixed commit or tag: each build gets whatever the branch points to",
            r.name
        ),
        _ if r.spec.is_empty() => format!(
            "`{}` is not pinned: each install gets the newest release",
            r.name
        ),
        // Poetry's `^3.4` / `~3.4` read better apart from the name.
        _ => format!(
            "`{}` is not pinned to one version: each install may get a different release",
            written(r)
        ),
    };
    let message = match extra {
        Some(e) => format!("{what} {e}"),
        None => what,
    };
    let fix = match r.source {
        ReqSource::Vcs { .. } => "Pin the VCS URL to a commit (`@<sha>`) or a release tag, or depend on a released version with `==`.",
        _ if extra.is_some() => "Commit a lock file (`uv lock`, `poetry lock`, `pdm lock`) and install from it, or compile a pinned requirements file from pyproject.toml.",
        _ => "Pin an exact version with `==` (compile the file with `pip-compile --generate-hashes` or `uv pip compile`), or pin it in a constraints file.",
    };
    ctx.finding(RULE.code, RULE.name, r.span, message)
        .with_fix(fix)
        .with_evidence(shown)
}
