//! A small Jinja tag scanner: the `{{ ... }}` outputs and `{% ... %}`
//! statements of a template with their byte offsets, skipping comments and
//! `{% raw %}` blocks, and the few expression facts INJ002 needs (filters, the
//! variables an expression starts from). Malformed templates (an unclosed tag,
//! an unterminated string) end the scan early; nothing here panics.

/// One tag of a template.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Tag<'a> {
    /// `{{ expr }}`: the expression, trimmed of whitespace control; `start`
    /// and `end` are the offsets of the whole tag.
    Output {
        expr: &'a str,
        start: usize,
        end: usize,
    },
    /// `{% body %}`: the statement, trimmed.
    Statement {
        body: &'a str,
        start: usize,
        end: usize,
    },
}

/// The tags of a template, in order.
pub fn scan(text: &str) -> Vec<Tag<'_>> {
    let bytes = text.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while let Some(open) = find_open(bytes, i) {
        let kind = bytes[open + 1];
        let body_start = open + 2;
        match kind {
            b'#' => match find(bytes, body_start, b"#}") {
                Some(end) => i = end + 2,
                None => break,
            },
            b'{' | b'%' => {
                let close = if kind == b'{' { b"}}" } else { b"%}" };
                let Some(end) = find_close(bytes, body_start, close) else {
                    break;
                };
                let body = trim_control(&text[body_start..end]);
                i = end + 2;
                if kind == b'{' {
                    out.push(Tag::Output {
                        expr: body,
                        start: open,
                        end: i,
                    });
                    continue;
                }
                if keyword(body) == "raw" {
                    // Everything up to `{% endraw %}` is text.
                    match find_endraw(text, i) {
                        Some(after) => i = after,
                        None => break,
                    }
                    continue;
                }
                out.push(Tag::Statement {
                    body,
                    start: open,
                    end: i,
                });
            }
            _ => i = open + 1,
        }
    }
    out
}

/// The first `{{`, `{%` or `{#` at or after `from`.
fn find_open(bytes: &[u8], from: usize) -> Option<usize> {
    let mut i = from;
    while i + 1 < bytes.len() {
        if bytes[i] == b'{' && matches!(bytes[i + 1], b'{' | b'%' | b'#') {
            return Some(i);
        }
        i += 1;
    }
    None
}

fn find(bytes: &[u8], from: usize, needle: &[u8]) -> Option<usize> {
    if from > bytes.len() {
        return None;
    }
    bytes[from..]
        .windows(needle.len())
        .position(|w| w == needle)
        .map(|p| p + from)
}

/// The closing delimiter, outside string literals.
fn find_close(bytes: &[u8], from: usize, close: &[u8; 2]) -> Option<usize> {
    let mut quote: Option<u8> = None;
    let mut i = from;
    while i < bytes.len() {
        let b = bytes[i];
        match quote {
            Some(q) => {
                if b == b'\\' {
                    i += 1;
                } else if b == q {
                    quote = None;
                }
            }
            None => {
                if b == b'\'' || b == b'"' {
                    quote = Some(b);
                } else if b == close[0] && bytes.get(i + 1) == Some(&close[1]) {
                    return Some(i);
                }
            }
        }
        i += 1;
    }
    None
}

fn find_endraw(text: &str, from: usize) -> Option<usize> {
    let bytes = text.as_bytes();
    let mut i = from;
    while let Some(open) = find(bytes, i, b"{%") {
        let end = find(bytes, open + 2, b"%}")?;
        if keyword(trim_control(&text[open + 2..end])) == "endraw" {
            return Some(end + 2);
        }
        i = end + 2;
    }
    None
}

/// A tag body without whitespace-control markers (`{%-`, `-%}`, `+`).
fn trim_control(body: &str) -> &str {
    body.trim()
        .trim_start_matches(['-', '+'])
        .trim_end_matches(['-', '+'])
        .trim()
}

/// The first word of a statement (`for`, `set`, `autoescape`).
pub fn keyword(body: &str) -> &str {
    let end = body
        .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .unwrap_or(body.len());
    &body[..end]
}

/// Splits an expression at its top-level `|` (outside strings and brackets):
/// the base expression and the names of its filters.
pub fn filters(expr: &str) -> (&str, Vec<&str>) {
    let parts = split_top(expr, b'|');
    let base = parts.first().copied().unwrap_or(expr);
    let names = parts.iter().skip(1).map(|f| keyword(f.trim())).collect();
    (base, names)
}

/// Splits at a byte that is not inside a string, parentheses or brackets.
pub fn split_top(expr: &str, sep: u8) -> Vec<&str> {
    let bytes = expr.as_bytes();
    let mut out = Vec::new();
    let mut depth = 0i32;
    let mut quote: Option<u8> = None;
    let mut start = 0;
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        match quote {
            Some(q) => {
                if b == b'\\' {
                    i += 1;
                } else if b == q {
                    quote = None;
                }
            }
            None => match b {
                b'\'' | b'"' => quote = Some(b),
                b'(' | b'[' | b'{' => depth += 1,
                b')' | b']' | b'}' => depth -= 1,
                _ if b == sep && depth <= 0 => {
                    out.push(&expr[start..i]);
                    start = i + 1;
                }
                _ => {}
            },
        }
        i += 1;
    }
    out.push(&expr[start..]);
    out
}

const KEYWORDS: &[&str] = &[
    "and",
    "or",
    "not",
    "in",
    "is",
    "if",
    "else",
    "true",
    "false",
    "none",
    "True",
    "False",
    "None",
    "loop",
    "recursive",
];

/// The variables an expression reads from its context (`order` in
/// `order['note']`, `user` and `bio` in `user.name ~ bio`): identifiers not after
/// a `.`, not keyword arguments, not called (`csrf_token()` is a function, not
/// data), not tests after `is`. `None` when the expression calls something.
pub fn roots(expr: &str) -> Option<Vec<&str>> {
    let bytes = expr.as_bytes();
    let mut out = Vec::new();
    let mut quote: Option<u8> = None;
    let mut i = 0;
    let mut prev_word = "";
    while i < bytes.len() {
        let b = bytes[i];
        if let Some(q) = quote {
            if b == b'\\' {
                i += 1;
            } else if b == q {
                quote = None;
            }
            i += 1;
            continue;
        }
        if b == b'\'' || b == b'"' {
            quote = Some(b);
            i += 1;
            continue;
        }
        if b.is_ascii_alphabetic() || b == b'_' {
            let start = i;
            while i < bytes.len() && (bytes[i].is_ascii_alphanumeric() || bytes[i] == b'_') {
                i += 1;
            }
            let word = &expr[start..i];
            let before = expr[..start].trim_end().as_bytes().last().copied();
            let after = expr[i..].trim_start();
            let attribute = before == Some(b'.');
            let filter_or_test = before == Some(b'|') || prev_word == "is";
            let keyword_arg = after.starts_with('=') && !after.starts_with("==");
            if after.starts_with('(') && !attribute && !filter_or_test {
                return None;
            }
            if !attribute && !filter_or_test && !keyword_arg && !KEYWORDS.contains(&word) {
                out.push(word);
            }
            prev_word = word;
            continue;
        }
        if !b.is_ascii_whitespace() {
            prev_word = "";
        }
        i += 1;
    }
    Some(out)
}

/// The template names a statement pulls in with the current context:
/// `include "a.html"`, `extends "base.html"`, `include ["a.html", "b.html"]`.
pub fn pulled_in(body: &str) -> Vec<&str> {
    let kw = keyword(body);
    if kw != "include" && kw != "extends" {
        return Vec::new();
    }
    let rest = &body[kw.len()..];
    if rest.contains("without context") {
        return Vec::new();
    }
    string_literals(rest)
}

/// String literals in a piece of expression text.
pub fn string_literals(text: &str) -> Vec<&str> {
    let bytes = text.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        let q = bytes[i];
        if q == b'\'' || q == b'"' {
            let start = i + 1;
            let mut j = start;
            while j < bytes.len() && bytes[j] != q {
                if bytes[j] == b'\\' {
                    j += 1;
                }
                j += 1;
            }
            if j >= bytes.len() {
                break;
            }
            out.push(&text[start..j]);
            i = j + 1;
            continue;
        }
        i += 1;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tags_comments_and_raw_blocks() {
        let t = "<p>{{ a|safe }}</p>{# {{ hidden }} #}{%- if x -%}{% raw %}{{ b }}{% endraw %}{{ \"}}\" ~ c }}";
        let tags = scan(t);
        assert_eq!(
            tags,
            [
                Tag::Output {
                    expr: "a|safe",
                    start: 3,
                    end: 15
                },
                Tag::Statement {
                    body: "if x",
                    start: 37,
                    end: 49
                },
                Tag::Output {
                    expr: "\"}}\" ~ c",
                    start: 77,
                    end: 91
                },
            ]
        );
    }

    #[test]
    fn malformed_templates_end_the_scan() {
        for t in [
            "{{ a",
            "{% if",
            "{{ 'x }}",
            "{#",
            "{% raw %}{{ a }}",
            "{",
            "}}{{}}",
            "é{{é|safe}}",
        ] {
            let _ = scan(t);
        }
        assert_eq!(
            scan("{{ a }}{{ b"),
            [Tag::Output {
                expr: "a",
                start: 0,
                end: 7
            }]
        );
    }

    #[test]
    fn filters_and_roots() {
        assert_eq!(
            filters("order['note']|safe"),
            ("order['note']", vec!["safe"])
        );
        assert_eq!(filters("x|default('a|b')|e"), ("x", vec!["default", "e"]));
        assert_eq!(roots("order['note']"), Some(vec!["order"]));
        assert_eq!(roots("user.bio ~ extra"), Some(vec!["user", "extra"]));
        assert_eq!(roots("'literal'"), Some(vec![]));
        assert_eq!(roots("x if y is defined else none"), Some(vec!["x", "y"]));
        assert_eq!(roots("render_widget(x)"), None);
        assert_eq!(roots("item.render(x)"), Some(vec!["item", "x"]));
        assert_eq!(roots("f(a=1)"), None);
    }

    #[test]
    fn includes_and_extends() {
        assert_eq!(pulled_in("extends 'base.html'"), ["base.html"]);
        assert_eq!(
            pulled_in("include ['a.html', \"b.html\"] ignore missing"),
            ["a.html", "b.html"]
        );
        assert!(pulled_in("include 'a.html' without context").is_empty());
        assert!(pulled_in("import 'macros.html' as m").is_empty());
    }
}
