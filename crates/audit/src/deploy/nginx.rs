//! nginx confs: where requests are proxied and which forwarding headers are set.
//! Only what the proxy rules need: `proxy_pass`, `proxy_set_header
//! X-Forwarded-Proto|For`, TLS listeners, `limit_req`.

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
    };
    for (i, raw) in file.text.lines().enumerate() {
        let line = raw.split('#').next().unwrap_or("").trim();
        let span = || line_span(file.id, &file.lines, &file.text, i as u32 + 1);
        for stmt in line.split(';') {
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
                }
                _ => {}
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
}
