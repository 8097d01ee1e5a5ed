//! Constant folding of binary operators: `"a" + "b"`, `10 * 1024`, `2 ** 20`,
//! `"%s:%d" % (host, port)`, with Python's semantics (floor division and
//! modulo, no wrapping, `%` formatting only where its text is certain).

use ruff_python_ast::Operator;
use ruff_text_size::TextRange;

use super::{
    eval::MAX_STRING,
    value::{BinOp, Kind, Value},
};

pub(super) fn fold_binop(range: TextRange, op: Operator, left: Value, right: Value) -> Value {
    let folded = match (&left.kind, op, &right.kind) {
        (Kind::Str(a), Operator::Add, Kind::Str(b)) if a.len() + b.len() <= MAX_STRING => {
            Some(Kind::Str(format!("{a}{b}").into()))
        }
        // `"%s:%d" % (HOST, PORT)` where the text is certain.
        (Kind::Str(fmt), Operator::Mod, _) => super::format::fold_percent(fmt, &right)
            .filter(|s| s.len() <= MAX_STRING)
            .map(|s| Kind::Str(s.into())),
        (Kind::Int(a), op, Kind::Int(b)) => fold_int(*a, op, *b).map(Kind::Int),
        (Kind::Float(a), Operator::Mult, Kind::Int(b))
        | (Kind::Int(b), Operator::Mult, Kind::Float(a)) => Some(Kind::Float(a * (*b as f64))),
        _ => None,
    };
    if let Some(kind) = folded {
        return Value::new(range, kind);
    }
    let tainted = left.tainted || right.tainted;
    let op = match op {
        Operator::Add => BinOp::Add,
        Operator::Sub => BinOp::Sub,
        Operator::Mult => BinOp::Mult,
        Operator::Div => BinOp::Div,
        Operator::FloorDiv => BinOp::FloorDiv,
        Operator::Mod => BinOp::Mod,
        Operator::Pow => BinOp::Pow,
        _ => BinOp::Other,
    };
    Value {
        range,
        kind: Kind::BinOp(op, Box::new(left), Box::new(right)),
        tainted,
    }
}

fn fold_int(a: i64, op: Operator, b: i64) -> Option<i64> {
    match op {
        Operator::Add => a.checked_add(b),
        Operator::Sub => a.checked_sub(b),
        Operator::Mult => a.checked_mul(b),
        Operator::FloorDiv => floor_div(a, b),
        Operator::Mod => floor_mod(a, b),
        Operator::Pow if (0..64).contains(&b) => a.checked_pow(b as u32),
        // Only when no bits are lost: Python's integers do not wrap.
        Operator::LShift if (0..63).contains(&b) => {
            a.checked_shl(b as u32).filter(|r| r >> b as u32 == a)
        }
        _ => None,
    }
}

/// Python's `//`: rounds toward negative infinity. None on division by zero and
/// on overflow (`-2**63 // -1`).
fn floor_div(a: i64, b: i64) -> Option<i64> {
    let q = a.checked_div(b)?;
    if a.checked_rem(b)? != 0 && ((a < 0) != (b < 0)) {
        q.checked_sub(1)
    } else {
        Some(q)
    }
}

/// Python's `%`: the result has the sign of the divisor.
fn floor_mod(a: i64, b: i64) -> Option<i64> {
    let r = a.checked_rem(b)?;
    if r != 0 && ((r < 0) != (b < 0)) {
        r.checked_add(b)
    } else {
        Some(r)
    }
}
