//! Expressions as plain data: what the collector makes of a Python expression.
//!
//! A [`Value`] is a literal where one can be computed (`"a" + "b"`, `10 * 1024`,
//! a name bound to a module constant), a resolved reference (`flask.Flask`, the
//! object created by a call at a given site, a function parameter), a call with its
//! evaluated arguments, or [`Kind::Unknown`]. Every value keeps its byte range, and
//! whether it is derived from the HTTP request ([`Value::tainted`]). Rules read
//! values; they never need the syntax tree.

use ruff_text_size::TextRange;

use crate::source::FileId;

/// A name or short text shared between the values that mention it: cloning is
/// a reference-count increment, and the collector interns identifiers per file.
pub use super::name::Name;

/// Where an object was created: the start of the call expression.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Site {
    pub file: FileId,
    pub offset: u32,
}

/// What a reference starts from.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Root {
    /// A dotted name resolved through imports and module scope: `flask.Flask`,
    /// `orders.config.ProductionConfig`, `os.environ`. Unresolvable names stay bare
    /// (`open`, `print`).
    Global(Name),
    /// The object a call created (`app = Flask(__name__)` inside a function):
    /// `ctor` is the dotted name of what was called.
    Obj { site: Site, ctor: Name },
    /// A parameter of the enclosing function.
    Param { func: Name, index: u32, name: Name },
    /// A local name whose value is not tracked.
    Local(Name),
}

/// A reference with an attribute path: `app.config.from_object` is the object
/// `app` with attrs `["config", "from_object"]`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Ref {
    pub root: Root,
    pub attrs: Vec<Name>,
}

impl Ref {
    /// The dotted name of a global reference with its attributes.
    pub fn qualified(&self) -> Option<String> {
        match &self.root {
            Root::Global(q) if self.attrs.is_empty() => Some(q.to_string()),
            Root::Global(q) => Some(format!("{q}.{}", self.attrs.join("."))),
            _ => None,
        }
    }

    /// The name before the last one (`config` in `app.config.update`), looking
    /// into a dotted global root too.
    pub fn second_last_name(&self) -> Option<&str> {
        match self.attrs.len() {
            0 => match &self.root {
                Root::Global(q) => q.rsplit('.').nth(1),
                _ => None,
            },
            1 => Some(match &self.root {
                Root::Global(q) => q.rsplit('.').next().unwrap_or(q),
                Root::Obj { ctor, .. } => ctor.rsplit('.').next().unwrap_or(ctor),
                Root::Param { name, .. } | Root::Local(name) => name,
            }),
            n => Some(&self.attrs[n - 2]),
        }
    }

    /// The last attribute, or the root's own name.
    pub fn last_name(&self) -> &str {
        if let Some(a) = self.attrs.last() {
            return a;
        }
        match &self.root {
            Root::Global(q) => q.rsplit('.').next().unwrap_or(q),
            Root::Obj { ctor, .. } => ctor.rsplit('.').next().unwrap_or(ctor),
            Root::Param { name, .. } => name,
            Root::Local(n) => n,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BinOp {
    Add,
    Sub,
    Mult,
    Div,
    FloorDiv,
    Mod,
    Pow,
    Other,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CmpOp {
    Eq,
    NotEq,
    Lt,
    LtE,
    Gt,
    GtE,
    Is,
    IsNot,
    In,
    NotIn,
}

/// A call: what is called and its evaluated arguments.
#[derive(Debug, Clone, PartialEq)]
pub struct Call {
    pub func: Value,
    pub args: Box<[Value]>,
    /// Keyword arguments; `None` is a `**mapping` spread.
    pub kwargs: Box<[(Option<Name>, Value)]>,
    /// Whether a `*args` or `**kwargs` spread makes the argument list incomplete.
    pub spread: bool,
    /// The first `*iterable` argument: its position in `args` (where an
    /// unknown value stands for it) and the iterable (`args` in
    /// `bp.route(*args, **kwargs)`). Boxed: spreads are rare.
    pub star: Option<Box<(usize, Value)>>,
}

impl Call {
    pub fn kwarg(&self, name: &str) -> Option<&Value> {
        self.kwargs
            .iter()
            .find(|(k, _)| k.as_deref() == Some(name))
            .map(|(_, v)| v)
    }

    pub fn arg(&self, index: usize) -> Option<&Value> {
        self.args.get(index)
    }

    /// A parameter passed by position or by keyword.
    pub fn param(&self, index: usize, name: &str) -> Option<&Value> {
        self.kwarg(name).or_else(|| self.args.get(index))
    }

    /// The object a method is called on: `app` in `app.run(...)`.
    pub fn receiver(&self) -> Option<Value> {
        let mut recv = self.func.reference()?.clone();
        recv.attrs.pop()?;
        Some(Value::new(self.func.range, Kind::Ref(Box::new(recv))))
    }

    /// The dotted name of what is called, when it is a global reference.
    pub fn func_name(&self) -> Option<String> {
        self.func.qualified()
    }

    /// The last name of what is called (`from_object` in `app.config.from_object`):
    /// a cheap filter before resolving.
    pub fn last_name(&self) -> Option<&str> {
        self.func.reference().map(Ref::last_name)
    }

    /// The name of what is called, also for a method of a value that is not a
    /// reference (`execute` in `cur.execute(...)` where `cur` is untracked).
    pub fn callee_name(&self) -> Option<&str> {
        match &self.func.kind {
            Kind::Attr(_, m) => Some(m),
            _ => self.last_name(),
        }
    }

    /// The called reference (`app.run` → object `app`, attrs `[run]`).
    pub fn func_ref(&self) -> Option<&Ref> {
        self.func.reference()
    }
}

/// An evaluated expression.
#[derive(Debug, Clone, PartialEq)]
pub struct Value {
    pub range: TextRange,
    pub kind: Kind,
    /// Derived from the request (request.*, a route parameter, or built from one).
    pub tainted: bool,
}

/// Kept small (a `Value` is 40 bytes): big or rare variants are boxed, lists
/// are boxed slices.
#[derive(Debug, Clone, PartialEq)]
pub enum Kind {
    Str(Name),
    /// A string literal too long to keep (its length in bytes).
    LongStr(usize),
    Bytes(usize),
    Int(i64),
    Float(f64),
    Bool(bool),
    None,
    List(Box<[Value]>),
    Tuple(Box<[Value]>),
    Set(Box<[Value]>),
    /// Items; a `None` key is a `**spread`.
    Dict(Box<[(Option<Value>, Value)]>),
    Ref(Box<Ref>),
    /// Shared: the same call is both a fact of its own and an argument of its parent.
    Call(std::sync::Arc<Call>),
    /// An f-string: literal text as `Str` parts, interpolations as their values.
    FString(Box<[Value]>),
    BinOp(BinOp, Box<Value>, Box<Value>),
    Or(Box<[Value]>),
    And(Box<[Value]>),
    Not(Box<Value>),
    /// The comparisons after the first operand (boxed: comparisons are rare).
    Compare(Box<Value>, Box<Vec<(CmpOp, Value)>>),
    /// `body if test else orelse`: [test, body, orelse].
    Cond(Box<[Value; 3]>),
    /// An attribute of something that is not a reference (`"{}".format`).
    Attr(Box<Value>, Box<Name>),
    Subscript(Box<Value>, Box<Value>),
    Unknown,
}

impl Value {
    pub fn new(range: TextRange, kind: Kind) -> Value {
        Value {
            range,
            kind,
            tainted: false,
        }
    }

    pub fn unknown(range: TextRange, tainted: bool) -> Value {
        Value {
            range,
            kind: Kind::Unknown,
            tainted,
        }
    }

    pub fn as_str(&self) -> Option<&str> {
        match &self.kind {
            Kind::Str(s) => Some(s),
            _ => None,
        }
    }

    pub fn as_int(&self) -> Option<i64> {
        match &self.kind {
            Kind::Int(i) => Some(*i),
            Kind::Bool(b) => Some(i64::from(*b)),
            _ => None,
        }
    }

    pub fn reference(&self) -> Option<&Ref> {
        match &self.kind {
            Kind::Ref(r) => Some(r),
            _ => None,
        }
    }

    pub fn as_call(&self) -> Option<&Call> {
        match &self.kind {
            Kind::Call(c) => Some(c),
            _ => None,
        }
    }

    /// The items of a list, tuple or set literal.
    pub fn as_seq(&self) -> Option<&[Value]> {
        match &self.kind {
            Kind::List(v) | Kind::Tuple(v) | Kind::Set(v) => Some(v),
            _ => None,
        }
    }

    pub fn as_dict(&self) -> Option<&[(Option<Value>, Value)]> {
        match &self.kind {
            Kind::Dict(d) => Some(d),
            _ => None,
        }
    }

    /// Looks a string key up in a dict literal. A key written twice holds
    /// its last value, as in Python (`{"origins": "*", "origins": [...]}`).
    /// `**spread` items are not followed.
    pub fn dict_get(&self, key: &str) -> Option<&Value> {
        self.as_dict()?
            .iter()
            .rev()
            .find(|(k, _)| k.as_ref().and_then(Value::as_str) == Some(key))
            .map(|(_, v)| v)
    }

    /// The dotted name of a global reference (`flask.Flask`, `os.environ.get`).
    pub fn qualified(&self) -> Option<String> {
        self.reference()?.qualified()
    }

    /// Python truthiness, where the value is a known literal.
    pub fn truthy(&self) -> Option<bool> {
        match &self.kind {
            Kind::Bool(b) => Some(*b),
            Kind::Int(i) => Some(*i != 0),
            Kind::Float(f) => Some(*f != 0.0),
            Kind::Str(s) => Some(!s.is_empty()),
            Kind::LongStr(_) => Some(true),
            Kind::None => Some(false),
            Kind::List(v) | Kind::Tuple(v) | Kind::Set(v) => Some(!v.is_empty()),
            Kind::Dict(d) => Some(!d.is_empty()),
            _ => None,
        }
    }

    /// A literal bool (also `1`/`0`).
    pub fn as_bool(&self) -> Option<bool> {
        match &self.kind {
            Kind::Bool(b) => Some(*b),
            Kind::Int(0) => Some(false),
            Kind::Int(1) => Some(true),
            _ => None,
        }
    }

    /// Whether this is a compile-time literal (string, number, bool, None, or a
    /// collection of literals).
    pub fn is_literal(&self) -> bool {
        match &self.kind {
            Kind::Str(_)
            | Kind::LongStr(_)
            | Kind::Bytes(_)
            | Kind::Int(_)
            | Kind::Float(_)
            | Kind::Bool(_)
            | Kind::None => true,
            Kind::List(v) | Kind::Tuple(v) | Kind::Set(v) => v.iter().all(Value::is_literal),
            Kind::Dict(d) => d
                .iter()
                .all(|(k, v)| k.as_ref().is_some_and(Value::is_literal) && v.is_literal()),
            _ => false,
        }
    }

    /// How many nodes the value has, counted up to `limit`.
    pub fn size(&self, limit: usize) -> usize {
        let mut n = 1;
        let add = |v: &Value, n: &mut usize| {
            if *n <= limit {
                *n += v.size(limit - (*n).min(limit));
            }
        };
        match &self.kind {
            Kind::List(v)
            | Kind::Tuple(v)
            | Kind::Set(v)
            | Kind::FString(v)
            | Kind::Or(v)
            | Kind::And(v) => {
                for x in v {
                    add(x, &mut n);
                }
            }
            Kind::Dict(d) => {
                for (k, v) in d {
                    if let Some(k) = k {
                        add(k, &mut n);
                    }
                    add(v, &mut n);
                }
            }
            Kind::Call(c) => {
                add(&c.func, &mut n);
                for a in &c.args {
                    add(a, &mut n);
                }
                for (_, v) in &c.kwargs {
                    add(v, &mut n);
                }
            }
            Kind::BinOp(_, a, b) | Kind::Subscript(a, b) => {
                add(a, &mut n);
                add(b, &mut n);
            }
            Kind::Not(a) | Kind::Attr(a, _) => add(a, &mut n),
            Kind::Compare(a, rest) => {
                add(a, &mut n);
                for (_, v) in rest.iter() {
                    add(v, &mut n);
                }
            }
            Kind::Cond(parts) => {
                for p in parts.iter() {
                    add(p, &mut n);
                }
            }
            _ => {}
        }
        n
    }

    /// Visits this value and every value inside it, depth first.
    pub fn walk<'a>(&'a self, f: &mut dyn FnMut(&'a Value)) {
        f(self);
        match &self.kind {
            Kind::List(v)
            | Kind::Tuple(v)
            | Kind::Set(v)
            | Kind::FString(v)
            | Kind::Or(v)
            | Kind::And(v) => v.iter().for_each(|x| x.walk(f)),
            Kind::Dict(d) => {
                for (k, v) in d {
                    if let Some(k) = k {
                        k.walk(f);
                    }
                    v.walk(f);
                }
            }
            Kind::Call(c) => {
                c.func.walk(f);
                c.args.iter().for_each(|x| x.walk(f));
                c.kwargs.iter().for_each(|(_, x)| x.walk(f));
            }
            Kind::BinOp(_, a, b) | Kind::Subscript(a, b) => {
                a.walk(f);
                b.walk(f);
            }
            Kind::Not(a) | Kind::Attr(a, _) => a.walk(f),
            Kind::Compare(a, rest) => {
                a.walk(f);
                rest.iter().for_each(|(_, x)| x.walk(f));
            }
            Kind::Cond(parts) => parts.iter().for_each(|x| x.walk(f)),
            _ => {}
        }
    }

    /// Whether the value is built by string formatting (f-string, `%`, `+`,
    /// `.format(...)`, `"".join(...)`) from parts that are not all literals.
    pub fn is_dynamic_string(&self) -> bool {
        match &self.kind {
            Kind::FString(parts) => parts.iter().any(|p| !matches!(p.kind, Kind::Str(_))),
            Kind::BinOp(BinOp::Add | BinOp::Mod, a, b) => {
                let stringy =
                    |v: &Value| matches!(v.kind, Kind::Str(_) | Kind::FString(_) | Kind::BinOp(..));
                stringy(a) || stringy(b)
            }
            Kind::Call(c) => {
                matches!(&c.func.kind, Kind::Attr(base, m) if m.as_str() == "format" && matches!(base.kind, Kind::Str(_)))
            }
            _ => false,
        }
    }
}

pub use super::env::{
    cond_unset_branch, env_lookup, runs_when_unset, unset_branch_of, unset_guard, EnvLookup,
};

#[cfg(test)]
mod tests {
    use super::*;
    use ruff_text_size::TextSize;

    fn r() -> TextRange {
        TextRange::empty(TextSize::new(0))
    }

    #[test]
    fn truthiness_and_literals() {
        assert_eq!(Value::new(r(), Kind::Str("".into())).truthy(), Some(false));
        assert_eq!(Value::new(r(), Kind::Int(4)).truthy(), Some(true));
        assert_eq!(Value::unknown(r(), false).truthy(), None);
        let list = Value::new(r(), Kind::List(vec![Value::new(r(), Kind::Int(1))].into()));
        assert!(list.is_literal());
        assert_eq!(list.size(100), 2);
    }

    #[test]
    fn dict_get_takes_the_last_of_duplicate_keys() {
        let s = |x: &str| Value::new(r(), Kind::Str(x.into()));
        let d = Value::new(
            r(),
            Kind::Dict(
                vec![
                    (Some(s("origins")), s("*")),
                    (None, Value::unknown(r(), false)),
                    (Some(s("methods")), s("GET")),
                    (Some(s("origins")), s("https://shop.example")),
                ]
                .into(),
            ),
        );
        assert_eq!(
            d.dict_get("origins").and_then(Value::as_str),
            Some("https://shop.example")
        );
        assert_eq!(d.dict_get("methods").and_then(Value::as_str), Some("GET"));
        assert!(d.dict_get("supports_credentials").is_none());
        assert!(s("x").dict_get("origins").is_none());
    }

    #[test]
    fn values_stay_small() {
        assert!(std::mem::size_of::<Value>() <= 40);
    }

    #[test]
    fn qualified_names_join_attrs() {
        let v = Value::new(
            r(),
            Kind::Ref(Box::new(Ref {
                root: Root::Global("os".into()),
                attrs: vec!["environ".into(), "get".into()],
            })),
        );
        assert_eq!(v.qualified().as_deref(), Some("os.environ.get"));
        assert_eq!(v.reference().unwrap().last_name(), "get");
    }
}
