//! DEP002 `vulnerable-dependency`: a pinned version with a published advisory.

use report::Finding;

use super::installs::Installs;
use crate::{
    advisories::{Match, Remedy},
    rules::{Rule, RuleContext},
    source::Span,
};

pub const RULE: Rule = Rule {
    code: "DEP002",
    name: "vulnerable-dependency",
    doc: DOC,
    check,
};

const DOC: &str = r#"## What it does
Matches every pinned version the project installs — `==` pins in production
requirements files and their constraints files, `==` pins in
`pyproject.toml`, and the packages of `poetry.lock`, `uv.lock`, `pdm.lock`,
`pylock.toml`, `Pipfile.lock` (`default`) and rye's `requirements.lock` —
against the OSV advisories given with `--advisories` (or `advisories =` in
the `[audit]` config section): one JSON advisory, a JSON array, a directory of
`*.json` files, or an OSV zip export such as osv.dev's PyPI `all.zip`.
Nothing is fetched, so the same input always gives the same answer.

Package names are compared after PEP 503 normalisation (`Flask-Cors` is
`flask-cors`); versions with PEP 440 ordering against the advisories'
`ECOSYSTEM` ranges (`introduced`, `fixed`, `last_affected`, `limit`) and
their explicit `versions` lists. Withdrawn advisories are ignored, and
advisories that alias each other (a GHSA and its PYSEC twin) are reported
once. Each finding names the advisory, its aliases (CVE), its summary and the
first fixed release.

Without `--advisories` the rule has nothing to match and reports nothing.

## Why is this bad?
Once an advisory is public, so is the bug, and exploits follow. A correctly
written app is still exposed through a library release nobody upgraded.

## Example
```text
werkzeug==2.2.2
```

Use instead:
```text
werkzeug==3.1.3
```
"#;

fn check(ctx: &RuleContext) -> Vec<Finding> {
    let Some(db) = ctx.advisories else {
        return Vec::new();
    };
    let project = ctx.project;
    let installs = Installs::of(project);
    let mut pins: Vec<(&str, &str, Span)> = Vec::new();
    for r in &project.deploy.requirements {
        if let Some(v) = &r.pinned {
            if installs.reaches_production(r.file) {
                pins.push((&r.name, v, r.span));
            }
        }
    }
    for p in &project.deploy.pyprojects {
        for r in &p.deps {
            if let Some(v) = &r.pinned {
                pins.push((&r.name, v, r.span));
            }
        }
    }
    for l in &project.deploy.locked {
        pins.push((&l.name, &l.version, l.span));
    }
    let mut out = Vec::new();
    for (name, version, span) in pins {
        for group in grouped(db.matches(name, version)) {
            out.push(finding(ctx, name, version, span, &group));
        }
    }
    out
}

/// Matches whose ids or aliases overlap are one vulnerability.
fn grouped(matches: Vec<Match<'_>>) -> Vec<Vec<Match<'_>>> {
    let mut groups: Vec<Vec<Match>> = Vec::new();
    for m in matches {
        let names = |m: &Match| -> Vec<String> {
            std::iter::once(&m.advisory.id)
                .chain(&m.advisory.aliases)
                .cloned()
                .collect()
        };
        let mine = names(&m);
        let joined: Vec<usize> = groups
            .iter()
            .enumerate()
            .filter(|(_, g)| g.iter().any(|o| names(o).iter().any(|n| mine.contains(n))))
            .map(|(i, _)| i)
            .collect();
        let mut merged = vec![m];
        for i in joined.into_iter().rev() {
            merged.extend(groups.remove(i));
        }
        groups.push(merged);
    }
    for g in &mut groups {
        // GHSA ids first (they carry the summary), then PYSEC, then the rest.
        g.sort_by_key(|m| {
            let id = &m.advisory.id;
            let rank = if id.starts_with("GHSA-") {
                0
            } else if id.starts_with("PYSEC-") {
                1
            } else {
                2
            };
            (rank, id.clone())
        });
    }
    groups.sort_by(|a, b| a[0].advisory.id.cmp(&b[0].advisory.id));
    groups
}

fn finding(ctx: &RuleContext, name: &str, version: &str, span: Span, group: &[Match]) -> Finding {
    let primary = &group[0];
    let mut others: Vec<String> = Vec::new();
    for m in group {
        for n in std::iter::once(&m.advisory.id).chain(&m.advisory.aliases) {
            if *n != primary.advisory.id && !others.contains(n) {
                others.push(n.clone());
            }
        }
    }
    // CVE ids first: they are what people search for.
    others.sort_by_key(|n| (!n.starts_with("CVE-"), n.clone()));
    let summary = group
        .iter()
        .map(|m| m.advisory.summary.as_str())
        .find(|s| !s.is_empty())
        .unwrap_or("no summary");
    let ids = if others.is_empty() {
        primary.advisory.id.clone()
    } else {
        format!("{} ({})", primary.advisory.id, others.join(", "))
    };
    let remedy = group
        .iter()
        .map(|m| &m.remedy)
        .find(|r| matches!(r, Remedy::Fixed(_)))
        .unwrap_or(&primary.remedy);
    let fix = match remedy {
        Remedy::Fixed(v) => format!(
            "Upgrade {name} to {v} or later (fixes {}) and re-lock.",
            primary.advisory.id
        ),
        Remedy::NoFixAfter(v) => format!(
            "No fixed release is named (every release up to {v} is affected): read {} to see whether your use is affected, and replace or patch {name}.",
            primary.advisory.id
        ),
        Remedy::Unknown => format!(
            "Upgrade {name} to a release {} does not list as affected, and re-lock.",
            primary.advisory.id
        ),
    };
    ctx.finding(
        RULE.code,
        RULE.name,
        span,
        format!("{name} {version} has a known vulnerability: {ids}: {summary}"),
    )
    .with_fix(fix)
    .with_evidence(ctx.snippet(span))
}
