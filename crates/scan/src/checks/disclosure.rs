//! HDR007 and HDR002's script integrity: what the headers say about the software
//! (a product name alone is fine, a version is not: `Server: gunicorn` is no
//! leak) and whether third-party scripts are pinned with Subresource Integrity.

use super::{check, outcomes, page, CheckDef, Verdicts};
use crate::observations::{excerpt, Observations};

outcomes! {
    pub enum ServerHeader for "HDR007" {
        Version = "server-version-disclosed" [Low, -5, Flaskguard]
            "The Server header discloses a software version",
            "Strip the version (nginx: `server_tokens off;`; gunicorn behind a proxy: let the proxy set Server).";
        ProductOnly = "server-product-only" [Pass, 0, Flaskguard]
            "The Server header names a product without a version",
            "";
        Absent = "server-header-absent" [Pass, 0, Flaskguard]
            "No Server header",
            "";
    }
}

outcomes! {
    pub enum PoweredBy for "HDR007" {
        Version = "x-powered-by-version-disclosed" [Low, -5, Flaskguard]
            "X-Powered-By discloses a framework version",
            "Remove the X-Powered-By header.";
        Present = "x-powered-by-present" [Info, 0, Flaskguard]
            "X-Powered-By names the framework (no version)",
            "Remove the X-Powered-By header; it helps only attackers.";
        Absent = "x-powered-by-absent" [Pass, 0, Flaskguard]
            "No X-Powered-By header",
            "";
    }
}

outcomes! {
    pub enum Sri for "HDR002" {
        NotHtml = "sri-not-implemented-response-not-html" [Pass, 0, Observatory]
            "Subresource Integrity applies only to HTML pages",
            "";
        NoScripts = "sri-not-implemented-but-no-scripts-loaded" [Pass, 0, Observatory]
            "The page loads no scripts",
            "";
        SameOrigin = "sri-not-implemented-but-all-scripts-loaded-from-secure-origin" [Pass, 0, Observatory]
            "All scripts come from the site itself",
            "";
        AllSecure = "sri-implemented-and-external-scripts-loaded-securely" [Pass, 5, Observatory]
            "External scripts are loaded over HTTPS with integrity hashes",
            "";
        MissingSecure = "sri-not-implemented-but-external-scripts-loaded-securely" [Low, -5, Observatory]
            "External scripts are loaded over HTTPS without integrity hashes",
            "Add `integrity=\"sha384-…\" crossorigin=\"anonymous\"` to every third-party <script>.";
        ImplementedInsecure = "sri-implemented-but-external-scripts-not-loaded-securely" [Medium, -20, Observatory]
            "External scripts have integrity hashes but are loaded over plain http or protocol-relative URLs",
            "Load third-party scripts over https://.";
        Insecure = "sri-not-implemented-and-external-scripts-not-loaded-securely" [High, -50, Observatory]
            "External scripts are loaded over plain http (or protocol-relative URLs) without integrity hashes",
            "Load third-party scripts over https:// with integrity hashes, or host them yourself.";
    }
}

pub static CHECKS: &[CheckDef] = &[
    check!("server-version", "HDR007", ServerHeader, server),
    check!("x-powered-by", "HDR007", PoweredBy, powered_by),
    check!(
        "subresource-integrity",
        "HDR002",
        Sri,
        sri,
        observatory = "subresource-integrity"
    ),
];

/// Whether a product token list carries a version: `nginx/1.25.3`,
/// `Werkzeug/2.2.2 Python/3.11.2`, `Apache 2.4`; not `gunicorn`, `cloudflare`.
pub fn has_version(value: &str) -> bool {
    value
        .split(|c: char| c.is_whitespace() || c == '(' || c == ')')
        .any(|token| {
            let version = token.split_once('/').map(|(_, v)| v).unwrap_or(token);
            let mut chars = version.chars();
            chars.next().is_some_and(|c| c.is_ascii_digit())
                && (version.contains('.') || token.contains('/'))
        })
}

fn server(obs: &Observations, v: &mut Verdicts) {
    // Any response will do; error pages often carry a more talkative Server.
    let mut seen = None;
    for (e, resp) in obs.answered() {
        if let Some(s) = resp.header("server") {
            if has_version(s) {
                v.add(ServerHeader::Version, e.url())
                    .evidence(format!("Server: {}", excerpt(s, 200)));
                return;
            }
            seen = Some((e.url(), s.to_string()));
        }
    }
    match seen {
        Some((url, s)) => v
            .add(ServerHeader::ProductOnly, url)
            .evidence(format!("Server: {s}")),
        None => match page(obs) {
            Some((url, _)) => v.add(ServerHeader::Absent, url),
            None => return,
        },
    };
}

fn powered_by(obs: &Observations, v: &mut Verdicts) {
    for (e, resp) in obs.answered() {
        if let Some(p) = resp.header("x-powered-by") {
            let outcome = if has_version(p) {
                PoweredBy::Version
            } else {
                PoweredBy::Present
            };
            v.add(outcome, e.url())
                .evidence(format!("X-Powered-By: {}", excerpt(p, 200)));
            return;
        }
    }
    if let Some((url, _)) = page(obs) {
        v.add(PoweredBy::Absent, url);
    }
}

/// `<script src=…>` tags of an HTML page: (src, has integrity).
pub fn scripts(html: &str) -> Vec<(String, bool)> {
    let mut out = Vec::new();
    for tag in crate::observations::tags(html, "<script") {
        let tag_lower = tag.to_ascii_lowercase();
        if let Some(src_at) = tag_lower.find("src=") {
            let rest = &tag[src_at + 4..];
            let src = match rest.chars().next() {
                Some(q @ ('"' | '\'')) => rest[1..].split(q).next().unwrap_or(""),
                _ => rest.split_whitespace().next().unwrap_or(""),
            };
            out.push((src.to_string(), tag_lower.contains("integrity=")));
        }
    }
    out
}

fn sri(obs: &Observations, v: &mut Verdicts) {
    let Some((url, resp)) = page(obs) else { return };
    if !resp.is_html() {
        v.add(Sri::NotHtml, url);
        return;
    }
    let host = &obs.target.endpoint.host;
    let external: Vec<(String, bool)> = scripts(&resp.text())
        .into_iter()
        .filter(|(src, _)| {
            let s = src.to_ascii_lowercase();
            let abs = s.starts_with("http://") || s.starts_with("https://") || s.starts_with("//");
            let same_host = s
                .split("//")
                .nth(1)
                .is_some_and(|rest| rest.split(['/', ':']).next() == Some(host.as_str()));
            abs && !same_host
        })
        .collect();
    if scripts(&resp.text()).is_empty() {
        v.add(Sri::NoScripts, url);
        return;
    }
    if external.is_empty() {
        v.add(Sri::SameOrigin, url);
        return;
    }
    let insecure = external
        .iter()
        .any(|(s, _)| !s.to_ascii_lowercase().starts_with("https://"));
    let all_sri = external.iter().all(|(_, i)| *i);
    let outcome = match (insecure, all_sri) {
        (false, true) => Sri::AllSecure,
        (false, false) => Sri::MissingSecure,
        (true, true) => Sri::ImplementedInsecure,
        (true, false) => Sri::Insecure,
    };
    let list: Vec<&str> = external.iter().map(|(s, _)| s.as_str()).take(5).collect();
    v.add(outcome, url)
        .evidence(format!("external scripts: {}", list.join(", ")));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_are_told_from_product_names() {
        assert!(!has_version("gunicorn"));
        assert!(!has_version("cloudflare"));
        assert!(has_version("gunicorn/20.0.4"));
        assert!(has_version("Werkzeug/2.2.2 Python/3.11.2"));
        assert!(has_version("nginx/1.25.3"));
        assert!(has_version("Apache 2.4.57 (Debian)"));
        assert!(!has_version("Flask"));
        assert!(!has_version("AmazonS3"));
    }

    #[test]
    fn finds_script_tags() {
        let s = scripts(
            r#"<script src="https://cdn.example/x.js" integrity="sha384-x"></script><SCRIPT>inline</SCRIPT><script src='/app.js'>"#,
        );
        assert_eq!(
            s,
            [
                ("https://cdn.example/x.js".to_string(), true),
                ("/app.js".to_string(), false)
            ]
        );
    }
}
