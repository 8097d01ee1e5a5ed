//! nginx confs: where requests are proxied and which forwarding headers are set.
//! Only what the rules need: `proxy_pass`, `proxy_set_header
//! X-Forwarded-Proto|For`, TLS listeners, `limit_req` (and the `location`
//! blocks it is in), `client_max_body_size`, response headers added with
//! `add_header`, and a catch-all `server` that refuses unknown host names.

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
    /// `add_header Name value`: lower-case name, value as written.
    pub add_headers: Vec<(String, String, Span)>,
    /// A `default_server` block that answers `return 444` (or another 4xx)
    /// instead of proxying: requests for unknown host names never reach the app.
    pub rejects_unknown_hosts: Option<Span>,
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
        add_headers: Vec::new(),
        rejects_unknown_hosts: None,
        limited_locations: Vec::new(),
        client_max_body_size: Vec::new(),
    };
    // Open blocks, innermost last.
    let mut blocks: Vec<Block> = Vec::new();
    for (i, raw) in file.text().lines().enumerate() {
        let line = raw
            .split('#')
            .next()
            .unwrap_or("")
            .replace('{', " { ;")
            .replace('}', " ; } ;");
        let span = || line_span(file.id, file.lines(), file.text(), i as u32 + 1);
        for stmt in line.split(';') {
            let words: Vec<&str> = stmt.split_whitespace().collect();
            let server = blocks.iter_mut().rev().find_map(|b| match b {
                Block::Server(s) => Some(s),
                _ => None,
            });
            if let Some(server) = server {
                match words.as_slice() {
                    ["listen", rest @ ..] if rest.contains(&"default_server") => {
                        server.default = Some(span());
                    }
                    ["return", code, ..] if code.starts_with('4') => server.refuses = true,
                    ["proxy_pass" | "uwsgi_pass" | "fastcgi_pass", ..] => server.proxies = true,
                    _ => {}
                }
            }
            match words.as_slice() {
                ["server", "{"] => {
                    blocks.push(Block::Server(ServerBlock::default()));
                    continue;
                }
                ["location", pattern @ .., "{"] => {
                    blocks.push(Block::Location(pattern.join(" ")));
                    continue;
                }
                [.., "{"] => {
                    blocks.push(Block::Other);
                    continue;
                }
                ["}"] => {
                    if let Some(Block::Server(server)) = blocks.pop() {
                        if let (Some(at), true, false) =
                            (server.default, server.refuses, server.proxies)
                        {
                            conf.rejects_unknown_hosts.get_or_insert(at);
                        }
                    }
                    continue;
                }
                _ => {}
            }
            match words.as_slice() {
                ["add_header", name, value @ ..] => conf.add_headers.push((
                    name.to_ascii_lowercase(),
                    value
                        .iter()
                        .filter(|w| **w != "always")
                        .copied()
                        .collect::<Vec<_>>()
                        .join(" ")
                        .trim_matches(|c| c == '"' || c == '\'')
                        .to_string(),
                    span(),
                )),
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
                    let location = blocks.iter().rev().find_map(|b| match b {
                        Block::Location(p) => Some(p),
                        _ => None,
                    });
                    if let Some(pattern) = location {
                        conf.limited_locations.push((pattern.clone(), span()));
                    }
                }
                ["client_max_body_size", size, ..] => {
                    conf.client_max_body_size.push((size.to_string(), span()))
                }
                _ => {}
            }
        }
    }
    conf
}

/// An open block.
enum Block {
    Server(ServerBlock),
    /// `location PATTERN {`, the pattern as written.
    Location(String),
    Other,
}

/// What a `server` block holds, for the catch-all test.
#[derive(Default)]
struct ServerBlock {
    default: Option<Span>,
    refuses: bool,
    proxies: bool,
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
        assert!(c.rejects_unknown_hosts.is_none());
        assert!(c.add_headers.is_empty());
    }

    #[test]
    fn reads_headers_and_the_catch_all_server() {
        let text = "server {\n  listen 80 default_server;\n  listen 443 ssl default_server;\n  return 444;\n}\nserver { listen 443 ssl; server_name a.example;\n  add_header Strict-Transport-Security \"max-age=63072000\" always;\n  location / { proxy_pass http://web:8000; }\n}\n";
        let c = parse(&SourceFile::new(0, "nginx.conf".into(), text.into()));
        assert_eq!(c.rejects_unknown_hosts.map(|s| s.file), Some(0));
        assert_eq!(
            c.add_headers
                .iter()
                .map(|(n, v, _)| (n.as_str(), v.as_str()))
                .collect::<Vec<_>>(),
            vec![("strict-transport-security", "max-age=63072000")]
        );
        assert_eq!(c.proxy_pass.len(), 1);
    }

    #[test]
    fn a_default_server_that_proxies_is_no_catch_all() {
        let text = "server {\n  listen 80 default_server;\n  location / {\n    proxy_pass http://web:8000;\n    return 404;\n  }\n}\n";
        let c = parse(&SourceFile::new(0, "nginx.conf".into(), text.into()));
        assert!(c.rejects_unknown_hosts.is_none());
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
