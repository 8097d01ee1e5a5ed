//! nginx confs: where requests are proxied and which forwarding headers are set.
//! Only what the proxy rules need: `proxy_pass`, `proxy_set_header
//! X-Forwarded-Proto|For`, TLS listeners, `limit_req` (and the `location`
//! blocks it is in), `client_max_body_size`.

use super::line_span;
use crate::source::{FileId, SourceFile, Span};

#[derive(Debug, Clone)]
pub struct NginxConf {
    pub file: FileId,
    /// `proxy_pass` / `uwsgi_pass` targets.
    pub proxy_pass: Vec<(String, Span)>,
    pub forwards_proto: Option<Span>,
    pub forwards_for: Option<Span>,
    /// `listen 443 ssl`, `ssl_certificate`: nginx terminates TLS.
    pub tls: Option<Span>,
    pub limit_req: Option<Span>,
    /// `location` blocks with their own `limit_req`: the location's pattern as
    /// written (`/login`, `= /api/token`, `~ ^/(login|register)`).
    pub limited_locations: Vec<(String, Span)>,
    /// `client_max_body_size` values.
    pub client_max_body_size: Vec<(String, Span)>,
}

impl NginxConf {
    /// Whether every proxied target is on the same host (loopback or a unix socket).
    pub fn same_host(&self) -> bool {
        !self.proxy_pass.is_empty()
            && self.proxy_pass.iter().all(|(t, _)| {
                let t = t
                    .trim_start_matches("http://")
                    .trim_start_matches("https://");
                t.starts_with("127.")
                    || t.starts_with("localhost")
                    || t.starts_with("unix:")
                    || t.starts_with("[::1]")
            })
    }
}

pub fn parse(file: &SourceFile) -> NginxConf {
    let mut conf = NginxConf {
        file: file.id,
        proxy_pass: Vec::new(),
        forwards_proto: None,
        forwards_for: None,
        tls: None,
        limit_req: None,
        limited_locations: Vec::new(),
        client_max_body_size: Vec::new(),
    };
    // Open `location` blocks: (pattern, brace depth inside the block).
    let mut locations: Vec<(String, usize)> = Vec::new();
    let mut depth = 0usize;
    for (i, raw) in file.text.lines().enumerate() {
        let line = raw.split('#').next().unwrap_or("").trim();
        let span = || line_span(file.id, &file.lines, &file.text, i as u32 + 1);
        for stmt in line.split(';') {
            // Braces open and close blocks around the statements.
            let mut stmt = stmt.trim();
            while let Some(rest) = stmt.strip_prefix('}') {
                depth = depth.saturating_sub(1);
                if locations.last().is_some_and(|(_, d)| *d > depth) {
                    locations.pop();
                }
                stmt = rest.trim_start();
            }
            if let Some((head, rest)) = stmt.split_once('{') {
                depth += 1;
                if let Some(pattern) = head.trim().strip_prefix("location") {
                    locations.push((pattern.trim().to_string(), depth));
                }
                stmt = rest.trim_start();
            }
            let words: Vec<&str> = stmt.split_whitespace().collect();
            match words.as_slice() {
                ["proxy_pass" | "uwsgi_pass" | "fastcgi_pass", target, ..] => {
                    conf.proxy_pass.push((target.to_string(), span()))
                }
                ["proxy_set_header", name, ..] => {
                    let name = name.to_ascii_lowercase();
                    if name == "x-forwarded-proto"
                        || name == "x-forwarded-ssl"
                        || name == "forwarded"
                    {
                        conf.forwards_proto.get_or_insert_with(span);
                    }
                    if name == "x-forwarded-for" || name == "forwarded" {
                        conf.forwards_for.get_or_insert_with(span);
                    }
                }
                ["listen", rest @ ..]
                    if rest.contains(&"ssl")
                        || rest.iter().any(|w| w.contains("443")) && rest.contains(&"ssl") =>
                {
                    conf.tls.get_or_insert_with(span);
                }
                ["ssl_certificate", ..] => {
                    conf.tls.get_or_insert_with(span);
                }
                ["limit_req", ..] => {
                    conf.limit_req.get_or_insert_with(span);
                    if let Some((pattern, _)) = locations.last() {
                        conf.limited_locations.push((pattern.clone(), span()));
                    }
                }
                ["client_max_body_size", size, ..] => {
                    conf.client_max_body_size.push((size.to_string(), span()))
                }
                _ => {}
            }
            // `}` after a statement on the same line.
            for _ in stmt.matches('}') {
                depth = depth.saturating_sub(1);
                if locations.last().is_some_and(|(_, d)| *d > depth) {
                    locations.pop();
                }
            }
        }
    }
    conf
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_proxy_directives() {
        let text = "server {\n  listen 443 ssl;\n  location / {\n    proxy_pass http://127.0.0.1:8000;\n    proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;\n    # proxy_set_header X-Forwarded-Proto $scheme;\n  }\n}\n";
        let c = parse(&SourceFile::new(0, "nginx.conf".into(), text.into()));
        assert_eq!(c.proxy_pass.len(), 1);
        assert!(c.same_host());
        assert!(c.tls.is_some() && c.forwards_for.is_some());
        assert!(
            c.forwards_proto.is_none(),
            "a commented-out directive does not count"
        );
    }

    #[test]
    fn limits_by_location_and_body_size() {
        let text = "http {\n  limit_req_zone $binary_remote_addr zone=login:10m rate=5r/m;\n  client_max_body_size 2m;\n  server {\n    location = /api/auth/login {\n      limit_req zone=login burst=5;\n      proxy_pass http://app;\n    }\n    location / { proxy_pass http://app; }\n    location /api/ {\n      proxy_pass http://app;\n    }\n  }\n}\n";
        let c = parse(&SourceFile::new(0, "nginx.conf".into(), text.into()));
        let locs: Vec<&str> = c
            .limited_locations
            .iter()
            .map(|(p, _)| p.as_str())
            .collect();
        assert_eq!(locs, ["= /api/auth/login"]);
        assert_eq!(c.client_max_body_size[0].0, "2m");
        let global = parse(&SourceFile::new(
            0,
            "n.conf".into(),
            "server {\n limit_req zone=all;\n location / { proxy_pass http://a; }\n}\n".into(),
        ));
        assert!(global.limit_req.is_some() && global.limited_locations.is_empty());
    }
}
