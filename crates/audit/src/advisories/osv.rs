//! OSV records as DEP002 needs them, and the OSV evaluation of whether a version
//! is affected: `ECOSYSTEM` ranges (`introduced` / `fixed` / `last_affected` /
//! `limit` events, compared with PEP 440 ordering) and explicit `versions` lists.
//!
//! See <https://ossf.github.io/osv-schema/#evaluation>.

use std::str::FromStr;

use pep440_rs::Version;
use serde::Deserialize;

/// A record as it is in the file; unknown fields are ignored.
#[derive(Debug, Deserialize)]
pub(super) struct RawRecord {
    pub id: String,
    #[serde(default)]
    pub modified: Option<String>,
    #[serde(default)]
    pub withdrawn: Option<String>,
    #[serde(default)]
    pub aliases: Option<Vec<String>>,
    #[serde(default)]
    pub summary: Option<String>,
    #[serde(default)]
    pub details: Option<String>,
    #[serde(default)]
    pub affected: Option<Vec<RawAffected>>,
}

#[derive(Debug, Deserialize)]
pub(super) struct RawAffected {
    #[serde(default)]
    pub package: Option<RawPackage>,
    #[serde(default)]
    pub ranges: Option<Vec<RawRange>>,
    #[serde(default)]
    pub versions: Option<Vec<String>>,
}

#[derive(Debug, Deserialize)]
pub(super) struct RawPackage {
    #[serde(default)]
    pub ecosystem: Option<String>,
    #[serde(default)]
    pub name: Option<String>,
}

#[derive(Debug, Deserialize)]
pub(super) struct RawRange {
    #[serde(rename = "type", default)]
    pub kind: Option<String>,
    #[serde(default)]
    pub events: Option<Vec<RawEvent>>,
}

#[derive(Debug, Deserialize)]
pub(super) struct RawEvent {
    #[serde(default)]
    pub introduced: Option<String>,
    #[serde(default)]
    pub fixed: Option<String>,
    #[serde(default)]
    pub last_affected: Option<String>,
    #[serde(default)]
    pub limit: Option<String>,
}

/// One advisory, reduced to its PyPI packages.
#[derive(Debug, Clone)]
pub struct Advisory {
    pub id: String,
    pub aliases: Vec<String>,
    /// The summary, or the first line of the details.
    pub summary: String,
    pub modified: Option<String>,
    /// Where it was read from (a file, or `all.zip:GHSA-....json`).
    pub source: String,
    pub affected: Vec<AffectedPackage>,
}

/// A PyPI package an advisory affects.
#[derive(Debug, Clone)]
pub struct AffectedPackage {
    /// PEP 503 normalised name.
    pub name: String,
    pub ranges: Vec<Vec<Event>>,
    /// Versions listed explicitly as affected.
    pub versions: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EventKind {
    Introduced,
    Fixed,
    LastAffected,
    Limit,
}

#[derive(Debug, Clone)]
pub struct Event {
    pub kind: EventKind,
    /// None for `introduced: "0"` (before every version).
    pub version: Option<Version>,
    pub text: String,
}

/// Why a record was left out or is incomplete.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RecordProblem {
    /// `ECOSYSTEM` range events whose version is not PEP 440: the range is skipped.
    BadVersion(String),
}

/// PEP 503: lower case, runs of `-`, `_` and `.` become one `-`.
pub fn normalize_name(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    let mut sep = false;
    for c in name.trim().chars() {
        if matches!(c, '-' | '_' | '.') {
            sep = true;
            continue;
        }
        if sep && !out.is_empty() {
            out.push('-');
        }
        sep = false;
        out.push(c.to_ascii_lowercase());
    }
    out
}

impl RawRecord {
    /// The advisory's PyPI part, or None when it is withdrawn or affects no PyPI
    /// package.
    pub(super) fn into_advisory(self, source: String) -> (Option<Advisory>, Vec<RecordProblem>) {
        let mut problems = Vec::new();
        if self.withdrawn.as_deref().is_some_and(|w| !w.is_empty()) {
            return (None, problems);
        }
        let mut affected = Vec::new();
        for a in self.affected.unwrap_or_default() {
            let Some(pkg) = a.package else { continue };
            let is_pypi = pkg
                .ecosystem
                .as_deref()
                .is_some_and(|e| e.eq_ignore_ascii_case("pypi"));
            let Some(name) = pkg.name.filter(|_| is_pypi) else {
                continue;
            };
            let mut ranges = Vec::new();
            for r in a.ranges.unwrap_or_default() {
                // SEMVER ranges of PyPI packages are rare and are compared the
                // same way; GIT ranges name commits, not releases.
                if !matches!(r.kind.as_deref(), Some("ECOSYSTEM" | "SEMVER")) {
                    continue;
                }
                match events(r.events.unwrap_or_default()) {
                    Ok(ev) if !ev.is_empty() => ranges.push(ev),
                    Ok(_) => {}
                    Err(bad) => problems.push(RecordProblem::BadVersion(bad)),
                }
            }
            affected.push(AffectedPackage {
                name: normalize_name(&name),
                ranges,
                versions: a.versions.unwrap_or_default(),
            });
        }
        if affected.is_empty() {
            return (None, problems);
        }
        let summary = self
            .summary
            .filter(|s| !s.trim().is_empty())
            .or_else(|| {
                self.details
                    .as_deref()
                    .and_then(|d| d.lines().map(str::trim).find(|l| !l.is_empty()))
                    .map(str::to_string)
            })
            .unwrap_or_default();
        let advisory = Advisory {
            id: self.id,
            aliases: self.aliases.unwrap_or_default(),
            summary: summary.trim().to_string(),
            modified: self.modified,
            source,
            affected,
        };
        (Some(advisory), problems)
    }
}

fn events(raw: Vec<RawEvent>) -> Result<Vec<Event>, String> {
    let mut out = Vec::new();
    for e in raw {
        let pairs = [
            (EventKind::Introduced, e.introduced),
            (EventKind::Fixed, e.fixed),
            (EventKind::LastAffected, e.last_affected),
            (EventKind::Limit, e.limit),
        ];
        for (kind, text) in pairs {
            let Some(text) = text else { continue };
            let version = if kind == EventKind::Introduced && text.trim() == "0" {
                None
            } else {
                match Version::from_str(text.trim()) {
                    Ok(v) => Some(v),
                    Err(_) => return Err(text),
                }
            };
            out.push(Event {
                kind,
                version,
                text,
            });
        }
    }
    // By version, `introduced: 0` first; at equal versions an introduction
    // comes before the fix that closes an earlier range.
    out.sort_by(|a, b| {
        a.version.cmp(&b.version).then_with(|| {
            let rank = |k: &EventKind| match k {
                EventKind::Introduced => 0,
                _ => 1,
            };
            rank(&a.kind).cmp(&rank(&b.kind))
        })
    });
    Ok(out)
}

/// What an affected version is told to upgrade to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Remedy {
    /// The first fixed release after the version.
    Fixed(String),
    /// Every release up to and including this one is affected; no fix is named.
    NoFixAfter(String),
    /// The advisory names no fixed version.
    Unknown,
}

impl AffectedPackage {
    /// Whether `version` (a pinned version string) is affected, and the remedy.
    pub fn affects(&self, version: &str) -> Option<Remedy> {
        let parsed = Version::from_str(version.trim()).ok();
        if let Some(v) = &parsed {
            for range in &self.ranges {
                if let Some(remedy) = range_affects(range, v) {
                    return Some(remedy);
                }
            }
        }
        let listed = self.versions.iter().any(|listed| {
            match (&parsed, Version::from_str(listed.trim()).ok()) {
                (Some(v), Some(l)) => *v == l,
                _ => listed.trim() == version.trim(),
            }
        });
        if listed {
            // The remedy from the ranges, when they name one above this version.
            let remedy = parsed
                .as_ref()
                .and_then(|v| self.ranges.iter().find_map(|r| next_fix(r, v)))
                .map_or(Remedy::Unknown, Remedy::Fixed);
            return Some(remedy);
        }
        None
    }
}

/// OSV's evaluation of one range's sorted events.
fn range_affects(events: &[Event], v: &Version) -> Option<Remedy> {
    let mut affected = false;
    for e in events {
        let at_or_after = |ev: &Option<Version>| ev.as_ref().is_none_or(|ev| v >= ev);
        match e.kind {
            EventKind::Introduced if at_or_after(&e.version) => affected = true,
            EventKind::Fixed if at_or_after(&e.version) => affected = false,
            EventKind::LastAffected if e.version.as_ref().is_some_and(|la| v > la) => {
                affected = false
            }
            EventKind::Limit if at_or_after(&e.version) => return None,
            _ => {}
        }
    }
    if !affected {
        return None;
    }
    if let Some(fix) = next_fix(events, v) {
        return Some(Remedy::Fixed(fix));
    }
    let last = events.iter().find(|e| {
        e.kind == EventKind::LastAffected && e.version.as_ref().is_some_and(|la| v <= la)
    });
    Some(match last {
        Some(e) => Remedy::NoFixAfter(e.text.clone()),
        None => Remedy::Unknown,
    })
}

/// The first `fixed` event above `v`.
fn next_fix(events: &[Event], v: &Version) -> Option<String> {
    events
        .iter()
        .find(|e| e.kind == EventKind::Fixed && e.version.as_ref().is_some_and(|f| f > v))
        .map(|e| e.text.clone())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn package(json: &str) -> AffectedPackage {
        let raw: RawRecord = serde_json::from_str(json).unwrap();
        let (adv, problems) = raw.into_advisory("t.json".into());
        assert!(problems.is_empty(), "{problems:?}");
        adv.unwrap().affected.remove(0)
    }

    const FLASK: &str = r#"{"id":"GHSA-m2qf-hxjv-5gpq","affected":[{"package":{"ecosystem":"PyPI","name":"Flask"},
        "ranges":[{"type":"ECOSYSTEM","events":[{"introduced":"0"},{"fixed":"2.2.5"},{"introduced":"2.3.0"},{"fixed":"2.3.2"}]}]}]}"#;

    #[test]
    fn ranges_with_two_branches() {
        let p = package(FLASK);
        assert_eq!(p.name, "flask");
        assert_eq!(p.affects("2.2.2"), Some(Remedy::Fixed("2.2.5".into())));
        assert_eq!(p.affects("2.2.5"), None);
        assert_eq!(p.affects("2.2.10"), None, "PEP 440 order, not string order");
        assert_eq!(p.affects("2.3.1"), Some(Remedy::Fixed("2.3.2".into())));
        assert_eq!(
            p.affects("2.3.0rc1"),
            None,
            "a pre-release sorts before 2.3.0"
        );
        assert_eq!(p.affects("3.0"), None);
        assert_eq!(p.affects("0.1"), Some(Remedy::Fixed("2.2.5".into())));
    }

    #[test]
    fn last_affected_limit_and_listed_versions() {
        let p = package(
            r#"{"id":"X-1","affected":[{"package":{"ecosystem":"PyPI","name":"Some_Pkg.Name"},
            "ranges":[{"type":"ECOSYSTEM","events":[{"introduced":"1.0"},{"last_affected":"1.4.2"}]}],
            "versions":["0.9.1"]}]}"#,
        );
        assert_eq!(p.name, "some-pkg-name");
        assert_eq!(p.affects("1.4.2"), Some(Remedy::NoFixAfter("1.4.2".into())));
        assert_eq!(p.affects("1.4.2.post1"), None);
        assert_eq!(
            p.affects("0.9.1"),
            Some(Remedy::Unknown),
            "listed explicitly"
        );
        assert_eq!(p.affects("0.9"), None);
        let limited = package(
            r#"{"id":"X-2","affected":[{"package":{"ecosystem":"PyPI","name":"p"},
            "ranges":[{"type":"ECOSYSTEM","events":[{"introduced":"0"},{"limit":"2.0"}]}]}]}"#,
        );
        assert_eq!(limited.affects("1.9"), Some(Remedy::Unknown));
        assert_eq!(limited.affects("2.0"), None);
    }

    #[test]
    fn withdrawn_other_ecosystems_and_bad_versions() {
        let raw: RawRecord = serde_json::from_str(
            r#"{"id":"W","withdrawn":"2024-01-01T00:00:00Z","affected":[{"package":{"ecosystem":"PyPI","name":"p"}}]}"#,
        )
        .unwrap();
        assert!(raw.into_advisory(String::new()).0.is_none());
        let raw: RawRecord = serde_json::from_str(
            r#"{"id":"N","affected":[{"package":{"ecosystem":"npm","name":"p"}}]}"#,
        )
        .unwrap();
        assert!(raw.into_advisory(String::new()).0.is_none());
        let raw: RawRecord = serde_json::from_str(
            r#"{"id":"B","affected":[{"package":{"ecosystem":"PyPI","name":"p"},
            "ranges":[{"type":"ECOSYSTEM","events":[{"introduced":"0"},{"fixed":"not a version"}]}]}]}"#,
        )
        .unwrap();
        let (adv, problems) = raw.into_advisory(String::new());
        assert_eq!(
            problems,
            [RecordProblem::BadVersion("not a version".into())]
        );
        assert_eq!(adv.unwrap().affected[0].affects("1.0"), None);
    }

    #[test]
    fn pep_503_names() {
        assert_eq!(normalize_name("Flask-Cors"), "flask-cors");
        assert_eq!(normalize_name("zope__interface"), "zope-interface");
        assert_eq!(normalize_name("PyJWT"), "pyjwt");
        assert_eq!(normalize_name("a.-_b"), "a-b");
    }
}
