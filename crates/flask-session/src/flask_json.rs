//! JSON text exactly as Flask writes a session.
//!
//! Inside a request Flask dumps the (tagged) session with `app.json.dumps(...,
//! separators=(",", ":"))`, i.e. Python's `json.dumps` with `sort_keys=True` and
//! `ensure_ascii=True`: no spaces, keys in code-point order, every character outside
//! printable ASCII escaped as `\uXXXX` (lower-case hex, surrogate pairs above the
//! BMP), floats in Python's `repr` form (`1e+16`, `1.5e-05`, `2.0`). Reproducing
//! those bytes is what lets [`crate::sign`] produce the very cookie Flask would.

use serde_json::{Number, Value};
use std::fmt::Write;

/// Serializes `value` the way Flask serializes a session (see the module docs).
pub fn dumps(value: &Value) -> String {
    let mut out = String::new();
    write_value(&mut out, value);
    out
}

fn write_value(out: &mut String, value: &Value) {
    match value {
        Value::Null => out.push_str("null"),
        Value::Bool(true) => out.push_str("true"),
        Value::Bool(false) => out.push_str("false"),
        Value::Number(n) => write_number(out, n),
        Value::String(s) => write_string(out, s),
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_value(out, item);
            }
            out.push(']');
        }
        Value::Object(map) => {
            // Sorted here rather than relying on serde_json's map order, which
            // changes when any crate in the build enables `preserve_order`.
            let mut entries: Vec<(&String, &Value)> = map.iter().collect();
            entries.sort_by(|a, b| a.0.cmp(b.0));
            out.push('{');
            for (i, (key, item)) in entries.into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_string(out, key);
                out.push(':');
                write_value(out, item);
            }
            out.push('}');
        }
    }
}

fn write_string(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{08}' => out.push_str("\\b"),
            '\u{0c}' => out.push_str("\\f"),
            ' '..='~' => out.push(c),
            _ => {
                let mut units = [0u16; 2];
                for unit in c.encode_utf16(&mut units) {
                    let _ = write!(out, "\\u{unit:04x}");
                }
            }
        }
    }
    out.push('"');
}

fn write_number(out: &mut String, n: &Number) {
    if n.is_f64() {
        out.push_str(&python_float_repr(&n.to_string()));
    } else {
        let _ = write!(out, "{n}");
    }
}

/// Rewrites a shortest round-trip float (serde_json prints ryu's form: `1e16`,
/// `1.5e-5`, `0.0001`) into Python's `repr`: positional notation for decimal
/// exponents in `-4..16`, otherwise `d.ddde+XX` with at least two exponent digits.
/// Both produce the same shortest digits; only the layout differs.
fn python_float_repr(shortest: &str) -> String {
    let (negative, unsigned) = match shortest.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, shortest),
    };
    let (mantissa, exponent) = match unsigned.split_once(['e', 'E']) {
        Some((m, e)) => (m, e.parse::<i64>().unwrap_or(0)),
        None => (unsigned, 0),
    };
    let (int_part, frac_part) = mantissa.split_once('.').unwrap_or((mantissa, ""));
    let mut digits: String = format!("{int_part}{frac_part}");
    // Position of the decimal point, counted in digits from the left.
    let mut point = int_part.len() as i64 + exponent;
    let leading_zeros = digits.len() - digits.trim_start_matches('0').len();
    digits.drain(..leading_zeros);
    point -= leading_zeros as i64;
    let trimmed_len = digits.trim_end_matches('0').len();
    digits.truncate(trimmed_len);

    let mut out = String::new();
    if negative {
        out.push('-');
    }
    if digits.is_empty() {
        out.push_str("0.0");
        return out;
    }
    let decimal_exponent = point - 1;
    if (-4..16).contains(&decimal_exponent) {
        let len = digits.len() as i64;
        if point <= 0 {
            out.push_str("0.");
            out.extend(std::iter::repeat_n('0', (-point) as usize));
            out.push_str(&digits);
        } else if point >= len {
            out.push_str(&digits);
            out.extend(std::iter::repeat_n('0', (point - len) as usize));
            out.push_str(".0");
        } else {
            let (whole, frac) = digits.split_at(point as usize);
            let _ = write!(out, "{whole}.{frac}");
        }
    } else {
        let (first, rest) = digits.split_at(1);
        out.push_str(first);
        if !rest.is_empty() {
            out.push('.');
            out.push_str(rest);
        }
        let sign = if decimal_exponent < 0 { '-' } else { '+' };
        let _ = write!(out, "e{sign}{:02}", decimal_exponent.abs());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn compact_sorted_ascii() {
        let v = json!({"b": 1, "a": [true, null, "x"], "é": "snow ☃ 😀"});
        assert_eq!(
            dumps(&v),
            r#"{"a":[true,null,"x"],"b":1,"\u00e9":"snow \u2603 \ud83d\ude00"}"#
        );
    }

    #[test]
    fn escapes_like_python() {
        let v = json!("q\"b\\n\nr\rt\tb\u{8}f\u{c}c\u{1}d\u{7f}");
        assert_eq!(dumps(&v), r#""q\"b\\n\nr\rt\tb\bf\fc\u0001d\u007f""#);
    }

    #[test]
    fn keys_sort_by_code_point() {
        let v = json!({"Z": 0, "a": 0, "_": 0, " t": 0, "ä": 0});
        assert_eq!(dumps(&v), r#"{" t":0,"Z":0,"_":0,"a":0,"\u00e4":0}"#);
    }

    #[test]
    fn floats_like_python_repr() {
        let cases: &[(f64, &str)] = &[
            (1.0, "1.0"),
            (0.1, "0.1"),
            (-2.5, "-2.5"),
            (1e16, "1e+16"),
            (1e15, "1000000000000000.0"),
            (123456789012345678.0, "1.2345678901234568e+17"),
            (0.0001, "0.0001"),
            (0.00001, "1e-05"),
            (1.5e-7, "1.5e-07"),
            (1e100, "1e+100"),
            (5e-324, "5e-324"),
            (0.0, "0.0"),
            (-0.0, "-0.0"),
            (2.71, "2.71"),
            (1234.5, "1234.5"),
        ];
        for (f, want) in cases {
            assert_eq!(dumps(&json!(f)), *want, "{f}");
        }
    }

    #[test]
    fn integers_stay_integers() {
        assert_eq!(
            dumps(&json!([0, -1, u64::MAX, i64::MIN])),
            "[0,-1,18446744073709551615,-9223372036854775808]"
        );
    }
}
