//! The control table. IDs are stable: never renumber, only add.

use serde::Serialize;

use crate::Severity;

include!(concat!(env!("OUT_DIR"), "/docs.rs"));

/// A family of controls; its code is the ID prefix (`DBG` in `DBG001`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[allow(clippy::upper_case_acronyms)]
pub enum Area {
    DBG,
    KEY,
    HDR,
    TLS,
    CKE,
    CSR,
    COR,
    RL,
    PRX,
    INP,
    INJ,
    ERR,
    AUTH,
    DEP,
    OPS,
}

/// Every area, in checklist order.
pub const AREAS: [Area; 15] = [
    Area::DBG,
    Area::KEY,
    Area::HDR,
    Area::TLS,
    Area::CKE,
    Area::CSR,
    Area::COR,
    Area::RL,
    Area::PRX,
    Area::INP,
    Area::INJ,
    Area::ERR,
    Area::AUTH,
    Area::DEP,
    Area::OPS,
];

impl Area {
    pub fn code(self) -> &'static str {
        match self {
            Area::DBG => "DBG",
            Area::KEY => "KEY",
            Area::HDR => "HDR",
            Area::TLS => "TLS",
            Area::CKE => "CKE",
            Area::CSR => "CSR",
            Area::COR => "COR",
            Area::RL => "RL",
            Area::PRX => "PRX",
            Area::INP => "INP",
            Area::INJ => "INJ",
            Area::ERR => "ERR",
            Area::AUTH => "AUTH",
            Area::DEP => "DEP",
            Area::OPS => "OPS",
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Area::DBG => "Debug mode and debug tooling",
            Area::KEY => "Secrets",
            Area::HDR => "Security headers",
            Area::TLS => "Transport",
            Area::CKE => "Cookies and sessions",
            Area::CSR => "Cross-site request forgery",
            Area::COR => "CORS",
            Area::RL => "Rate limiting",
            Area::PRX => "Proxies and hosts",
            Area::INP => "Input",
            Area::INJ => "Injection",
            Area::ERR => "Errors",
            Area::AUTH => "Authentication and tokens",
            Area::DEP => "Dependencies",
            Area::OPS => "Deployment",
        }
    }

    pub fn from_code(code: &str) -> Option<Area> {
        AREAS
            .iter()
            .copied()
            .find(|a| a.code().eq_ignore_ascii_case(code))
    }
}

/// One control of the checklist.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct Control {
    pub id: &'static str,
    pub area: Area,
    pub severity: Severity,
    pub title: &'static str,
    /// The seed guides (by number, 000-004) the control comes from.
    pub seeds: &'static [u8],
}

impl Control {
    /// The long documentation (What it checks / Why it matters / Fix / References).
    pub fn doc(&self) -> &'static str {
        DOCS.iter()
            .find(|(id, _)| *id == self.id)
            .map(|(_, doc)| *doc)
            .unwrap_or("")
    }

    /// The title without Markdown code ticks, for plain-text output.
    pub fn plain_title(&self) -> String {
        self.title.replace('`', "")
    }
}

macro_rules! control {
    ($id:literal, $area:ident, $sev:ident, $title:literal, [$($seed:literal),*]) => {
        Control {
            id: $id,
            area: Area::$area,
            severity: Severity::$sev,
            title: $title,
            seeds: &[$($seed),*],
        }
    };
}

static CONTROLS: &[Control] = &[
    control!(
        "DBG001",
        DBG,
        Critical,
        "Debug mode / Werkzeug debugger never reachable in production",
        [0, 1, 4]
    ),
    control!(
        "DBG002",
        DBG,
        High,
        "Flask-DebugToolbar not enabled in production",
        [1]
    ),
    control!(
        "DBG003",
        DBG,
        Medium,
        "No development server in production",
        [2]
    ),
    control!(
        "DBG004",
        DBG,
        Medium,
        "`PROPAGATE_EXCEPTIONS`/`TESTING` not on in production config",
        [2]
    ),
    control!(
        "KEY001",
        KEY,
        Critical,
        "SECRET_KEY not hardcoded in source",
        [0, 1, 2, 3, 4]
    ),
    control!(
        "KEY002",
        KEY,
        Critical,
        "SECRET_KEY not weak or well known",
        [0, 1]
    ),
    control!(
        "KEY003",
        KEY,
        High,
        "App refuses to start without a SECRET_KEY",
        [0, 2, 4]
    ),
    control!(
        "KEY004",
        KEY,
        High,
        "Secrets not committed or served",
        [2, 3, 4]
    ),
    control!(
        "HDR001",
        HDR,
        High,
        "HSTS with max-age ≥ 31536000 (includeSubDomains, preload where wanted)",
        [2, 4]
    ),
    control!(
        "HDR002",
        HDR,
        Medium,
        "Content-Security-Policy present and strict",
        [2, 3, 4]
    ),
    control!("HDR003", HDR, Medium, "Clickjacking protection", [2, 4]),
    control!(
        "HDR004",
        HDR,
        Medium,
        "`X-Content-Type-Options: nosniff`",
        [0, 2, 4]
    ),
    control!("HDR005", HDR, Low, "`Referrer-Policy` safe", [2, 4]),
    control!(
        "HDR006",
        HDR,
        Low,
        "`Permissions-Policy` restricts powerful features",
        [4]
    ),
    control!(
        "HDR007",
        HDR,
        Low,
        "No version disclosure in `Server` / `X-Powered-By`",
        [2]
    ),
    control!(
        "HDR008",
        HDR,
        Medium,
        "Some security-header mechanism exists at all",
        [0, 2, 3, 4]
    ),
    control!(
        "HDR009",
        HDR,
        Low,
        "Cross-origin isolation headers (COOP, CORP) for HTML apps",
        [4]
    ),
    control!(
        "TLS001",
        TLS,
        High,
        "Plain HTTP redirects to HTTPS on the same host",
        [2, 3, 4]
    ),
    control!(
        "TLS002",
        TLS,
        High,
        "No redirect loop behind a TLS-terminating proxy",
        [0, 2]
    ),
    control!("TLS003", TLS, High, "Certificate valid, TLS ≥ 1.2", [3, 4]),
    control!(
        "CKE001",
        CKE,
        High,
        "Session/auth cookies carry `Secure`",
        [0, 2, 3, 4]
    ),
    control!(
        "CKE002",
        CKE,
        High,
        "Session/auth cookies carry `HttpOnly`",
        [0, 2, 4]
    ),
    control!(
        "CKE003",
        CKE,
        Medium,
        "`SameSite=Lax` or `Strict`",
        [0, 2, 4]
    ),
    control!(
        "CKE004",
        CKE,
        High,
        "No sensitive data in the client-side session",
        [0, 2, 4]
    ),
    control!("CKE005", CKE, Medium, "Session regenerated on login", [4]),
    control!("CKE006", CKE, Low, "Bounded session lifetime", [2, 4]),
    control!(
        "CSR001",
        CSR,
        High,
        "State-changing routes reject cross-site requests when auth rides on cookies",
        [2, 4]
    ),
    control!(
        "COR001",
        COR,
        Medium,
        "No wildcard origin on an API",
        [0, 1, 3, 4]
    ),
    control!(
        "COR002",
        COR,
        Critical,
        "No reflected/wildcard origin with credentials",
        [0, 1, 4]
    ),
    control!(
        "COR003",
        COR,
        Medium,
        "Origin patterns anchored; methods and headers limited",
        [1, 4]
    ),
    control!("RL001", RL, High, "Rate limiting exists", [0, 1, 2, 3, 4]),
    control!(
        "RL002",
        RL,
        High,
        "Counters shared by all workers and restarts",
        [0, 4]
    ),
    control!(
        "RL003",
        RL,
        High,
        "Auth endpoints limited per IP and per account",
        [1, 2, 3, 4]
    ),
    control!(
        "RL004",
        RL,
        Low,
        "Mutation routes have per-route limits",
        [0]
    ),
    control!(
        "RL005",
        RL,
        High,
        "Rate-limit key is the real client, not the proxy",
        [0]
    ),
    control!(
        "PRX001",
        PRX,
        High,
        "Proxy headers trusted exactly as far as real proxies go",
        [0, 2]
    ),
    control!("PRX002", PRX, Medium, "Host header restricted", [4]),
    control!(
        "INP001",
        INP,
        Low,
        "Bad JSON gets a JSON 400, not an HTML page",
        [0]
    ),
    control!(
        "INP002",
        INP,
        Medium,
        "Request bodies validated by a schema",
        [1, 2, 3, 4]
    ),
    control!("INP003", INP, Medium, "Request size limited", [2, 3, 4]),
    control!("INP004", INP, High, "Uploads are safe", [2, 3, 4]),
    control!("INP005", INP, High, "No path traversal", [1]),
    control!(
        "INP006",
        INP,
        High,
        "No unsafe deserialization of request data",
        [1]
    ),
    control!("INP007", INP, Low, "Only expected HTTP methods", [2]),
    control!("INJ001", INJ, Critical, "Parameterized SQL only", [1, 3, 4]),
    control!(
        "INJ002",
        INJ,
        High,
        "Autoescape kept; `|safe`/`Markup` only on trusted data",
        [3]
    ),
    control!(
        "INJ003",
        INJ,
        Critical,
        "No server-side template injection",
        [1]
    ),
    control!("INJ004", INJ, Critical, "No shell injection", [2]),
    control!("INJ005", INJ, Medium, "No open redirect", [1]),
    control!(
        "ERR001",
        ERR,
        High,
        "Error responses never carry exception text",
        [0, 4]
    ),
    control!("ERR002", ERR, Low, "JSON API answers errors in JSON", [0]),
    control!(
        "ERR003",
        ERR,
        High,
        "No stack traces or file paths leak",
        [1, 4]
    ),
    control!(
        "AUTH001",
        AUTH,
        High,
        "Passwords hashed with a slow KDF",
        [2, 4]
    ),
    control!(
        "AUTH002",
        AUTH,
        High,
        "JWTs verified, short-lived, sound algorithms",
        [1]
    ),
    control!(
        "AUTH003",
        AUTH,
        Info,
        "State-changing routes require auth",
        [1]
    ),
    control!("DEP001", DEP, Medium, "Dependencies pinned", [2, 3, 4]),
    control!(
        "DEP002",
        DEP,
        High,
        "No known-vulnerable versions",
        [2, 3, 4]
    ),
    control!("OPS001", OPS, Medium, "Container does not run as root", [2]),
    control!(
        "OPS002",
        OPS,
        Low,
        "Dev server not bound to all interfaces",
        [2]
    ),
    control!(
        "OPS003",
        OPS,
        Medium,
        "Security events are logged in a structured way",
        [2]
    ),
];

/// Every control, in checklist order.
pub fn all() -> &'static [Control] {
    CONTROLS
}

/// The control with this ID (case-insensitive).
pub fn get(id: &str) -> Option<&'static Control> {
    CONTROLS
        .iter()
        .find(|c| c.id.eq_ignore_ascii_case(id.trim()))
}

/// The IDs closest to an unknown one, best first (at most three).
pub fn suggest(unknown: &str) -> Vec<&'static str> {
    let wanted = unknown.trim().to_ascii_uppercase();
    let mut scored: Vec<(usize, &'static str)> = CONTROLS
        .iter()
        .map(|c| (edit_distance(&wanted, c.id), c.id))
        .collect();
    scored.sort();
    let best = scored.first().map(|(d, _)| *d).unwrap_or(usize::MAX);
    // Within 2 edits of the input (or of the best match, when the input is far off
    // everything, such as a bare area code).
    let limit = best.max(2).min(wanted.len().max(3));
    let mut out: Vec<&'static str> = scored
        .into_iter()
        .filter(|(d, _)| *d <= limit)
        .map(|(_, id)| id)
        .take(3)
        .collect();
    if out.is_empty() {
        // Fall back to the controls of the area the input starts with.
        let letters: String = wanted
            .chars()
            .take_while(|c| c.is_ascii_alphabetic())
            .collect();
        if let Some(area) = Area::from_code(&letters) {
            out = CONTROLS
                .iter()
                .filter(|c| c.area == area)
                .map(|c| c.id)
                .take(3)
                .collect();
        }
    }
    out
}

fn edit_distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    let mut cur = vec![0; b.len() + 1];
    for i in 1..=a.len() {
        cur[0] = i;
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            cur[j] = (prev[j] + 1).min(cur[j - 1] + 1).min(prev[j - 1] + cost);
        }
        std::mem::swap(&mut prev, &mut cur);
    }
    prev[b.len()]
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use super::*;

    #[test]
    fn ids_are_unique_and_match_their_area() {
        let mut seen = HashSet::new();
        for c in all() {
            assert!(seen.insert(c.id), "duplicate id {}", c.id);
            assert!(
                c.id.starts_with(c.area.code()),
                "{} not in {:?}",
                c.id,
                c.area
            );
            let digits = &c.id[c.area.code().len()..];
            assert_eq!(digits.len(), 3, "{}", c.id);
            assert!(digits.chars().all(|d| d.is_ascii_digit()), "{}", c.id);
            assert!(c.seeds.iter().all(|s| *s <= 4), "{}", c.id);
            assert!(!c.seeds.is_empty(), "{} has no seed", c.id);
        }
        assert_eq!(all().len(), 60);
    }

    #[test]
    fn every_area_has_controls_in_order() {
        let areas: Vec<Area> = all().iter().map(|c| c.area).collect();
        let mut sorted = areas.clone();
        sorted.sort();
        assert_eq!(
            areas, sorted,
            "controls are grouped by area in checklist order"
        );
        for area in AREAS {
            assert!(areas.contains(&area), "{area:?} has no control");
        }
    }

    #[test]
    fn every_control_has_a_complete_doc() {
        const SECTIONS: [&str; 4] = [
            "## What it checks",
            "## Why it matters",
            "## Fix",
            "## References",
        ];
        for c in all() {
            let doc = c.doc();
            assert!(!doc.is_empty(), "{} has no docs/{}.md", c.id, c.id);
            let mut at = 0;
            for section in SECTIONS {
                let pos = doc[at..]
                    .find(section)
                    .unwrap_or_else(|| panic!("{}: missing or misplaced `{section}`", c.id));
                at += pos + section.len();
            }
            assert!(
                !doc.lines().any(|l| l.starts_with("# ")),
                "{}: the doc must not carry its own top-level heading",
                c.id
            );
        }
        for (id, _) in DOCS {
            assert!(get(id).is_some(), "docs/{id}.md is for no control");
        }
    }

    #[test]
    fn lookup_is_case_insensitive() {
        assert_eq!(get("dbg001").unwrap().id, "DBG001");
        assert!(get("DBG999").is_none());
    }

    #[test]
    fn suggestions_are_close() {
        assert_eq!(suggest("DBG01")[0], "DBG001");
        assert!(suggest("KEY005").contains(&"KEY001"));
        assert_eq!(suggest("AUHT001")[0], "AUTH001");
        assert!(suggest("RL").iter().all(|id| id.starts_with("RL")));
    }
}
