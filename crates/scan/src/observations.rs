//! What a scan saw: every exchange with the target, keyed by the probe that sent
//! it, plus what was learnt along the way (discovered endpoints, the soft-404
//! baseline, certificates). Checks read only this; they never send requests.

use std::collections::BTreeMap;

use crate::{
    client::{FetchError, HttpRequest, HttpResponse},
    discover::Discovery,
    target::Target,
    tls::CertRecord,
};

/// One request and what came of it.
#[derive(Debug, Clone)]
pub struct Exchange {
    /// The probe's key (`main`, `file:/.env`, `cors-null:/api/`).
    pub key: String,
    pub request: HttpRequest,
    pub result: Result<HttpResponse, FetchError>,
}

impl Exchange {
    pub fn url(&self) -> String {
        self.request.url()
    }

    pub fn response(&self) -> Option<&HttpResponse> {
        self.result.as_ref().ok()
    }
}

/// A follow of the plain-HTTP redirect chain (TLS001, TLS002).
#[derive(Debug, Clone, Default)]
pub struct RedirectChain {
    /// Each hop: the URL requested, its status and its `Location`.
    pub hops: Vec<(String, u16, Option<String>)>,
    /// The chain came back to a URL already visited.
    pub looped: bool,
    /// The chain left the target's host (recorded, not followed).
    pub off_host: Option<String>,
    /// Why following stopped early (no answer, too many hops).
    pub error: Option<String>,
    /// HTTPS on a port other than 443: which plain-HTTP port goes with it is
    /// unknown, so nothing was asked.
    pub no_http_port: bool,
}

/// The answer to a request for a path that cannot exist, to tell real hits from a
/// catch-all app that answers 200 to everything.
#[derive(Debug, Clone)]
pub struct Soft404 {
    pub status: u16,
    pub body: Vec<u8>,
    /// The random path segment, so its echo in the body can be ignored.
    pub token: String,
}

impl Soft404 {
    /// Whether `resp` (for a path containing `probe_token` or not) looks like the
    /// catch-all answer rather than a real resource.
    pub fn matches(&self, resp: &HttpResponse, probe_path: &str) -> bool {
        if !(200..300).contains(&self.status) || resp.status != self.status {
            return false;
        }
        let strip = |body: &[u8], needle: &str| -> Vec<u8> {
            String::from_utf8_lossy(body)
                .replace(needle, "")
                .into_bytes()
        };
        let base = strip(&self.body, &self.token);
        let seen = strip(&resp.body, probe_path.trim_start_matches('/'));
        if base == seen {
            return true;
        }
        let (a, b) = (base.len() as f64, seen.len() as f64);
        let close = (a - b).abs() <= (a.max(b) * 0.05).max(16.0);
        let prefix = base.iter().zip(&seen).take_while(|(x, y)| x == y).count();
        close && prefix >= base.len().min(seen.len()).min(256) / 2
    }
}

/// Everything one target's scan observed.
#[derive(Debug, Clone)]
pub struct Observations {
    pub target: Target,
    pub active: bool,
    pub exchanges: Vec<Exchange>,
    pub discovery: Discovery,
    pub soft404: Option<Soft404>,
    pub redirects: Option<RedirectChain>,
    pub certs: Vec<CertRecord>,
    /// Probes that could not run (budget, unreachable), for the report's diagnostics.
    pub skipped: Vec<String>,
    /// Facts gathered by multi-request probes (login burst, differential checks),
    /// keyed by name.
    pub facts: BTreeMap<String, String>,
    /// Candidate keys for the session cookie, set before the checks run.
    pub session_keys: Option<crate::checks::session::Candidates>,
    /// Cookies the user gave the scan (`--cookie`), sent with every request but
    /// anonymous probes: a session the site sets only after login.
    pub given_cookies: Vec<(String, String)>,
    /// Headers the user gave the scan (`--header`); read by checks that test a
    /// credential offline (a JWT's secret), never shown in a report.
    pub given_headers: Vec<(String, String)>,
}

impl Observations {
    pub fn new(target: Target, active: bool) -> Observations {
        Observations {
            target,
            active,
            exchanges: Vec::new(),
            discovery: Discovery::default(),
            soft404: None,
            redirects: None,
            certs: Vec::new(),
            skipped: Vec::new(),
            facts: BTreeMap::new(),
            session_keys: None,
            given_cookies: Vec::new(),
            given_headers: Vec::new(),
        }
    }

    pub fn get(&self, key: &str) -> Option<&Exchange> {
        self.exchanges.iter().find(|e| e.key == key)
    }

    pub fn response(&self, key: &str) -> Option<&HttpResponse> {
        self.get(key).and_then(Exchange::response)
    }

    /// Exchanges whose key starts with `prefix`, in the order they were sent.
    pub fn with_prefix<'a>(&'a self, prefix: &'a str) -> impl Iterator<Item = &'a Exchange> + 'a {
        self.exchanges
            .iter()
            .filter(move |e| e.key.starts_with(prefix))
    }

    /// Every exchange that got a response.
    pub fn answered(&self) -> impl Iterator<Item = (&Exchange, &HttpResponse)> {
        self.exchanges
            .iter()
            .filter_map(|e| e.response().map(|r| (e, r)))
    }

    /// The main page's response: the target URL itself.
    pub fn main(&self) -> Option<&HttpResponse> {
        self.response("main")
    }

    /// Whether the answer to `path` looks like the catch-all page.
    pub fn is_soft404(&self, resp: &HttpResponse, path: &str) -> bool {
        self.soft404.as_ref().is_some_and(|s| s.matches(resp, path))
    }

    /// The app answers JSON: its main page or any discovered endpoint does.
    pub fn is_json_api(&self) -> bool {
        self.main().is_some_and(|r| r.is_json()) || !self.discovery.json_endpoints.is_empty()
    }

    pub fn fact(&self, name: &str) -> Option<&str> {
        self.facts.get(name).map(String::as_str)
    }
}

/// Cuts evidence to a readable size on a character boundary.
pub fn excerpt(text: &str, max: usize) -> String {
    // One line: evidence is shown after a label, and whitespace runs say nothing.
    let clean = text.split_whitespace().collect::<Vec<_>>().join(" ");
    let clean = clean.trim();
    if clean.chars().count() <= max {
        return clean.to_string();
    }
    let mut out: String = clean.chars().take(max).collect();
    out.push('…');
    out
}

/// The tags of an HTML text that open with `open` (lower case, e.g. `"<input"`),
/// matched case-insensitively, each from its `<` to before its `>` (or the end).
pub fn tags<'a>(html: &'a str, open: &'a str) -> impl Iterator<Item = &'a str> + 'a {
    let lower = html.to_ascii_lowercase();
    let mut from = 0;
    std::iter::from_fn(move || {
        let start = from + lower.get(from..)?.find(open)?;
        let end = lower[start..]
            .find('>')
            .map(|e| start + e)
            .unwrap_or(lower.len());
        from = end.max(start + 1);
        // ASCII lower-casing keeps every byte offset.
        html.get(start..end)
    })
}

/// A window of `text` around the first occurrence of `needle`.
pub fn around(text: &str, needle: &str, radius: usize) -> Option<String> {
    let at = text.find(needle)?;
    let start = floor_char(text, at.saturating_sub(radius));
    let end = floor_char(text, (at + needle.len() + radius).min(text.len()));
    Some(excerpt(&text[start..end], radius * 2 + needle.len()))
}

fn floor_char(s: &str, mut i: usize) -> usize {
    while i > 0 && !s.is_char_boundary(i) {
        i -= 1;
    }
    i
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tags_are_found_in_any_case_and_to_the_end() {
        let html = "<p>é</p><INPUT name=a><input\nname='b'><script src=x.js></script><input name=c";
        let inputs: Vec<&str> = tags(html, "<input").collect();
        assert_eq!(
            inputs,
            ["<INPUT name=a", "<input\nname='b'", "<input name=c"]
        );
        assert_eq!(
            tags(html, "<script").collect::<Vec<_>>(),
            ["<script src=x.js"]
        );
        assert_eq!(tags("", "<input").count(), 0);
    }

    fn resp(status: u16, body: &str) -> HttpResponse {
        HttpResponse {
            status,
            body: body.as_bytes().to_vec(),
            ..Default::default()
        }
    }

    #[test]
    fn soft404_recognises_catch_all_pages() {
        let s = Soft404 {
            status: 200,
            body: b"<html>app shell for /abc123</html>".to_vec(),
            token: "abc123".into(),
        };
        assert!(s.matches(&resp(200, "<html>app shell for /.env</html>"), "/.env"));
        assert!(!s.matches(&resp(200, "SECRET_KEY=x\nDATABASE_URL=y\n"), "/.env"));
        assert!(!s.matches(&resp(404, "<html>app shell for /.env</html>"), "/.env"));
        let real404 = Soft404 { status: 404, ..s };
        assert!(!real404.matches(&resp(404, "x"), "/x"));
    }

    #[test]
    fn excerpts_cut_on_char_boundaries() {
        assert_eq!(excerpt("héllo wörld", 5), "héllo…");
        assert!(around("aaaa€needle€bbbb", "needle", 2)
            .unwrap()
            .contains("needle"));
        assert_eq!(excerpt("a\n\n  b\tc", 10), "a b c");
    }
}
