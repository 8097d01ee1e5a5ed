//! The shape of SQL text built in code: its literal pieces and the values put
//! between them (f-strings, `%`, `.format`, `+`), whether the text reads as SQL,
//! and where each value lands: a quoted or compared value (`= '{email}'`), or an
//! identifier (`FROM {table}`).

use crate::python::{
    format::{formatted, parse_braces, parse_percent, Arg, PercentSegment, Segment},
    taint,
    value::{BinOp, Kind, Ref, Root, Value},
};

/// A piece of built text.
#[derive(Debug)]
pub enum Piece<'a> {
    Lit(String),
    /// A value put in the text; `number` when the format forces a number (`%d`).
    Val {
        value: &'a Value,
        number: bool,
    },
}

/// The pieces of a string built by formatting, or None for anything else.
pub fn pieces(v: &Value) -> Option<Vec<Piece<'_>>> {
    if !v.is_dynamic_string() && !matches!(v.kind, Kind::BinOp(BinOp::Add, ..)) {
        return None;
    }
    let mut out = Vec::new();
    collect(v, &mut out, 0);
    out.iter()
        .any(|p| matches!(p, Piece::Val { .. }))
        .then_some(out)
}

fn collect<'a>(v: &'a Value, out: &mut Vec<Piece<'a>>, depth: usize) {
    if depth > 32 {
        out.push(Piece::Val {
            value: v,
            number: false,
        });
        return;
    }
    match &v.kind {
        Kind::Str(s) => out.push(Piece::Lit(s.to_string())),
        Kind::FString(parts) => {
            for p in parts {
                collect(p, out, depth + 1);
            }
        }
        Kind::BinOp(BinOp::Add, a, b) => {
            collect(a, out, depth + 1);
            collect(b, out, depth + 1);
        }
        Kind::BinOp(BinOp::Mod, fmt, rhs) if fmt.as_str().is_some() => {
            let items: Vec<&Value> = match &rhs.kind {
                Kind::Tuple(items) => items.iter().collect(),
                _ => vec![rhs.as_ref()],
            };
            percent(fmt.as_str().unwrap_or_default(), &items, rhs, out);
        }
        Kind::Call(c) => match &c.func.kind {
            Kind::Attr(base, m) if m.as_str() == "format" && base.as_str().is_some() => {
                brace(base.as_str().unwrap_or_default(), c, v, out);
            }
            // An f-string field with a spec or a conversion (`{x:d}`,
            // `{x!r}`), written as the call Python makes.
            _ => out.push(Piece::Val {
                value: v,
                number: formatted(v).is_some_and(|(_, conversion, spec)| {
                    // The type is the spec's last character (`>{width}d`).
                    let tail = spec.and_then(|s| match &s.kind {
                        Kind::FString(parts) => parts.last().and_then(Value::as_str),
                        _ => s.as_str(),
                    });
                    conversion.is_none() && tail.is_some_and(|s| s.ends_with(NUMBER_TYPES))
                }),
            }),
        },
        _ => out.push(Piece::Val {
            value: v,
            number: false,
        }),
    }
}

/// `"... '%s' ... %(name)s ... %d" % args`, bound leniently: a value the
/// format does not bind exactly (too few items, a mapping that is not a dict
/// literal) is taken to be the whole right operand. A malformed format raises
/// in Python, so it builds no SQL: the result is one opaque value.
fn percent<'a>(fmt: &str, items: &[&'a Value], whole: &'a Value, out: &mut Vec<Piece<'a>>) {
    let Ok(segments) = parse_percent(fmt) else {
        out.push(Piece::Val {
            value: whole,
            number: false,
        });
        return;
    };
    let mut next = 0usize;
    for s in segments {
        match s {
            PercentSegment::Lit(t) => out.push(Piece::Lit(t.into_owned())),
            PercentSegment::Spec(spec) => {
                let value = match spec.key {
                    Some(n) => whole.dict_get(n).unwrap_or(whole),
                    None => {
                        let v = items.get(next).copied().unwrap_or(whole);
                        next += 1;
                        v
                    }
                };
                out.push(Piece::Val {
                    value,
                    number: spec.is_numeric(),
                });
            }
        }
    }
}

/// `"... {} ... {name} ... {0:d}".format(...)`, bound leniently: a field
/// with lookups (`{0.name}`, `{row[id]}`) is taken to be its argument; a
/// field whose argument is missing (passed by `**kwargs`) puts no value in.
/// A malformed format raises in Python: the call is one opaque value.
fn brace<'a>(
    fmt: &str,
    call: &'a crate::python::value::Call,
    whole: &'a Value,
    out: &mut Vec<Piece<'a>>,
) {
    let Ok(segments) = parse_braces(fmt) else {
        out.push(Piece::Val {
            value: whole,
            number: false,
        });
        return;
    };
    for s in segments {
        match s {
            Segment::Lit(t) => out.push(Piece::Lit(t.into_owned())),
            Segment::Field(f) => {
                let value = match f.arg {
                    Arg::Index(i) => call.args.get(i),
                    Arg::Name(n) => call.kwarg(n),
                };
                if let Some(value) = value {
                    let number = f.conversion.is_none()
                        && f.spec.last().is_some_and(
                            |s| matches!(s, Segment::Lit(t) if t.ends_with(NUMBER_TYPES)),
                        );
                    out.push(Piece::Val { value, number });
                }
            }
        }
    }
}

/// Presentation types of a format spec that make a number of the value (or
/// raise): `{:d}`, `{:.2f}`, `{:x}`, `{:%}`.
const NUMBER_TYPES: &[char] = &[
    'b', 'd', 'o', 'x', 'X', 'e', 'E', 'f', 'F', 'g', 'G', 'n', '%',
];

/// The literal text of the pieces, values left out.
pub fn literal_text(pieces: &[Piece]) -> String {
    pieces
        .iter()
        .filter_map(|p| match p {
            Piece::Lit(s) => Some(s.as_str()),
            Piece::Val { .. } => None,
        })
        .collect::<Vec<_>>()
        .join(" ")
}

const LEADING: &[&str] = &[
    "SELECT", "INSERT", "UPDATE", "DELETE", "WITH", "CREATE", "DROP", "ALTER", "REPLACE", "MERGE",
    "PRAGMA", "EXEC", "EXECUTE", "CALL", "TRUNCATE", "GRANT", "REVOKE", "SHOW", "DESCRIBE",
    "EXPLAIN", "SET", "VACUUM", "ATTACH", "UPSERT", "COPY", "LOCK",
];

const INNER: &[&str] = &[
    " FROM ",
    " WHERE ",
    " VALUES",
    "INSERT INTO ",
    "DELETE FROM ",
    " ORDER BY ",
    " GROUP BY ",
    " JOIN ",
];

/// Whether text reads as SQL: it starts with a statement keyword, or has the
/// clauses of one.
pub fn looks_like_sql(text: &str) -> bool {
    let upper = text.to_ascii_uppercase();
    let start = upper.trim_start_matches(|c: char| c.is_whitespace() || c == '(');
    let first: String = start
        .chars()
        .take_while(|c| c.is_ascii_alphabetic())
        .collect();
    if LEADING.contains(&first.as_str()) && start.len() > first.len() {
        return true;
    }
    let spaced = upper.replace(['\n', '\t', '\r'], " ");
    INNER.iter().filter(|k| spaced.contains(*k)).count() >= 1
        && (spaced.contains("SELECT ")
            || spaced.contains("UPDATE ")
            || spaced.contains("INSERT ")
            || spaced.contains("DELETE ")
            || spaced.contains(" WHERE "))
}

/// Whether a value put after `preceding` lands where SQL expects a value: in
/// single quotes, after a comparison, `LIKE`, `IN (`, `LIMIT`.
pub fn in_value_position(preceding: &str) -> bool {
    let t = preceding.trim_end().trim_end_matches('%');
    if t.ends_with('\'') {
        return true;
    }
    if t.ends_with(['=', '<', '>']) {
        return true;
    }
    let upper = t.to_ascii_uppercase();
    let squeezed: String = upper.split_whitespace().collect::<Vec<_>>().join(" ");
    [
        "LIKE", "IN (", "IN(", "LIMIT", "OFFSET", "VALUES (", "VALUES(",
    ]
    .iter()
    .any(|k| {
        squeezed.ends_with(k)
            && squeezed[..squeezed.len() - k.len()]
                .chars()
                .last()
                .is_none_or(|c| !c.is_ascii_alphanumeric() && c != '_')
    })
}

/// Whether a value in built SQL could hold text the code does not control: a
/// parameter or a row. Literals, module constants, numbers
/// (`int(...)`, `len(...)`) and calls fed only such values are controlled.
///
/// `numeric_param` says whether a parameter is known to hold a number (a route
/// variable with an `int` converter).
pub fn uncontrolled(v: &Value, numeric_param: &dyn Fn(&Ref) -> bool, depth: usize) -> bool {
    if depth > 16 {
        return true;
    }
    let d = depth + 1;
    let uncontrolled = |v: &Value, d: usize| uncontrolled(v, numeric_param, d);
    match &v.kind {
        Kind::Ref(r) => match &r.root {
            // A module constant or an imported name.
            Root::Global(_) => false,
            Root::Param { .. } => !numeric_param(r),
            Root::Obj { .. } | Root::Local(_) => true,
        },
        Kind::Call(c) => {
            let name = c.func_name();
            if name
                .as_deref()
                .is_some_and(|n| taint::is_sanitizer(n, taint::Sink::Sql))
            {
                return false;
            }
            if c.callee_name()
                .is_some_and(|l| taint::is_sanitizer_name(l, taint::Sink::Sql))
            {
                return false;
            }
            // `db.placeholder("created_at")`, `dialect.timestamp_placeholder("t")`:
            // the database layer's bind-parameter syntax, given only literals.
            if c.callee_name()
                .is_some_and(|l| l.to_ascii_lowercase().ends_with("placeholder"))
                && c.args
                    .iter()
                    .chain(c.kwargs.iter().map(|(_, a)| a))
                    .all(|a| a.as_str().is_some())
            {
                return false;
            }
            // `max(1, n)`, `min(limit, 100)`: a number whenever a number goes in.
            if matches!(name.as_deref(), Some("max" | "min"))
                && c.args
                    .iter()
                    .any(|a| matches!(a.kind, Kind::Int(_) | Kind::Float(_)))
            {
                return false;
            }
            let receiver = match &c.func.kind {
                Kind::Attr(base, _) => uncontrolled(base, d),
                Kind::Ref(r) if !matches!(r.root, Root::Global(_)) => true,
                _ => false,
            };
            receiver
                || c.args.iter().any(|a| uncontrolled(a, d))
                || c.kwargs.iter().any(|(_, a)| uncontrolled(a, d))
        }
        Kind::FString(parts)
        | Kind::List(parts)
        | Kind::Tuple(parts)
        | Kind::Set(parts)
        | Kind::Or(parts)
        | Kind::And(parts) => parts.iter().any(|p| uncontrolled(p, d)),
        // `["%s"] * len(cols)`, `"?" * n`: copies of a literal; the count
        // can only be a number.
        Kind::BinOp(BinOp::Mult, a, b) if literal_text_or_list(a) || literal_text_or_list(b) => {
            false
        }
        Kind::BinOp(_, a, b) => uncontrolled(a, d) || uncontrolled(b, d),
        Kind::Cond(parts) => uncontrolled(&parts[1], d) || uncontrolled(&parts[2], d),
        Kind::Subscript(base, _) | Kind::Attr(base, _) => uncontrolled(base, d),
        Kind::Dict(items) => items.iter().any(|(_, v)| uncontrolled(v, d)),
        // Comprehensions, loop variables, values too big to keep: the audit
        // knows nothing of them, so it says nothing (precision first).
        Kind::Unknown => false,
        _ => false,
    }
}

/// A string literal, or a list or tuple of string literals.
fn literal_text_or_list(v: &Value) -> bool {
    match &v.kind {
        Kind::Str(_) => true,
        Kind::List(items) | Kind::Tuple(items) => {
            !items.is_empty() && items.iter().all(|i| matches!(i.kind, Kind::Str(_)))
        }
        _ => false,
    }
}

/// The values of built SQL that land in a value position and could hold text
/// the code does not control.
pub fn uncontrolled_values<'a>(
    pieces: &[Piece<'a>],
    numeric_param: &dyn Fn(&Ref) -> bool,
) -> Vec<&'a Value> {
    let mut before = String::new();
    let mut out = Vec::new();
    for p in pieces {
        match p {
            Piece::Lit(s) => before.push_str(s),
            Piece::Val { value, number } => {
                if !number && in_value_position(&before) && uncontrolled(value, numeric_param, 0) {
                    out.push(*value);
                }
                before.push('?');
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::python::analyze;

    fn first_arg(src: &str) -> Value {
        let facts = analyze(0, src, "m", false).unwrap();
        facts
            .calls
            .iter()
            .find(|c| c.call().last_name() == Some("execute"))
            .and_then(|c| c.call().arg(0).cloned())
            .unwrap()
    }

    fn flagged(src: &str) -> usize {
        let v = first_arg(src);
        pieces(&v).map_or(0, |p| uncontrolled_values(&p, &|_| false).len())
    }

    #[test]
    fn sql_is_recognised() {
        assert!(looks_like_sql("SELECT id FROM users WHERE email = '"));
        assert!(looks_like_sql("  (select 1)"));
        assert!(looks_like_sql(" FROM t WHERE a = "));
        assert!(!looks_like_sql("Selected items: "));
        assert!(!looks_like_sql("tar czf /tmp/x.tar.gz -C "));
    }

    #[test]
    fn value_positions_and_identifiers() {
        assert!(in_value_position("WHERE email = '"));
        assert!(in_value_position("WHERE name LIKE '%"));
        assert!(in_value_position("WHERE id ="));
        assert!(in_value_position("WHERE id IN ("));
        assert!(!in_value_position("SELECT * FROM "));
        assert!(!in_value_position("ORDER BY "));
        assert!(!in_value_position("SELECT * FROM \""));
    }

    #[test]
    fn formatted_values_by_format_and_position() {
        let f = |body: &str| flagged(&format!("def f(x, t):\n    c.execute({body})\n"));
        assert_eq!(f("f\"SELECT * FROM u WHERE e = '{x}'\""), 1);
        assert_eq!(f("f\"SELECT * FROM {t} WHERE id = ?\""), 0);
        assert_eq!(f("\"SELECT * FROM u WHERE e = '%s'\" % x"), 1);
        assert_eq!(f("\"SELECT * FROM u WHERE id = %d\" % x"), 0);
        assert_eq!(f("\"SELECT * FROM u WHERE e = '{}'\".format(x)"), 1);
        assert_eq!(f("\"SELECT * FROM u WHERE e = '{e}'\".format(e=x)"), 1);
        assert_eq!(f("\"SELECT * FROM u WHERE e = '\" + x + \"'\""), 1);
        assert_eq!(f("f\"SELECT * FROM u WHERE id = {int(x)}\""), 0);
        assert_eq!(f("f\"SELECT * FROM u WHERE e = '{LIMIT}'\""), 0);
        assert_eq!(
            f("f\"SELECT * FROM u WHERE id IN ({','.join('?' * len(x))})\""),
            0
        );
        // Copies of a literal placeholder, counted by a parameter.
        assert_eq!(
            f("f\"INSERT INTO t VALUES ({', '.join(['%s'] * x.width)})\""),
            0
        );
        assert_eq!(
            f("f\"SELECT * FROM u WHERE id IN ({','.join('?' * x)})\""),
            0
        );
        // A parameter repeated is still the parameter.
        assert_eq!(
            f("f\"SELECT * FROM u WHERE id IN ({','.join([x] * 3)})\""),
            1
        );
        // The database layer's placeholder for a named parameter.
        assert_eq!(
            f("f\"DELETE FROM u WHERE seen < {t.timestamp_placeholder('cutoff')}\""),
            0
        );
        assert_eq!(f("f\"SELECT * FROM u WHERE e = {t.placeholder('e')}\""), 0);
        // Not a placeholder when fed anything but literals.
        assert_eq!(f("f\"SELECT * FROM u WHERE e = {t.placeholder(x)}\""), 1);
        assert_eq!(
            f("f\"SELECT * FROM u WHERE e = '{t.get_placeholder_text()}x'\""),
            1
        );
    }

    #[test]
    fn specs_conversions_and_malformed_formats() {
        let f = |body: &str| flagged(&format!("def f(x, t, row):\n    c.execute({body})\n"));
        // A number type makes a number (or raises); a conversion makes text.
        assert_eq!(f("f\"SELECT * FROM u WHERE id = {x:d}\""), 0);
        assert_eq!(f("f\"SELECT * FROM u WHERE id = {x:>{t}d}\""), 0);
        assert_eq!(f("f\"SELECT * FROM u WHERE n = {x!r}\""), 1);
        assert_eq!(f("f\"SELECT * FROM u WHERE n = '{x!s}'\""), 1);
        assert_eq!(f("f\"SELECT * FROM u WHERE n = '{x:>10}'\""), 1);
        assert_eq!(f("\"SELECT * FROM u WHERE id = {:d}\".format(x)"), 0);
        assert_eq!(f("\"SELECT * FROM u WHERE id = {0!r:d}\".format(x)"), 1);
        assert_eq!(f("\"SELECT * FROM u WHERE n = {!r}\".format(x)"), 1);
        // A nested spec field is not a value in the text.
        assert_eq!(f("\"SELECT * FROM u WHERE n = {:{}}\".format(7, x)"), 0);
        // Lenient: lookups on an argument are the argument.
        assert_eq!(
            f("\"SELECT * FROM u WHERE e = '{0.email}'\".format(row)"),
            1
        );
        assert_eq!(f("\"SELECT * FROM u WHERE e = '{r[e]}'\".format(r=row)"), 1);
        assert_eq!(f("\"SELECT * FROM u WHERE e = '%(e)s'\" % row"), 1);
        // Malformed formats raise in Python: no SQL is built.
        assert_eq!(f("\"SELECT * FROM u WHERE e = '{}' AND {\".format(x)"), 0);
        assert_eq!(f("\"SELECT * FROM u WHERE e = '{}' AND {0}\".format(x)"), 0);
        assert_eq!(
            f("\"SELECT * FROM u WHERE e = '%s' AND p LIKE '50%'\" % x"),
            0
        );
    }
}
