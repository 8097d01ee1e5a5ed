//! Environment lookups in Python source: which variable is read and with which
//! default (`os.getenv("K", d)`, `os.environ.get`, `os.environ["K"]`).

use super::{
    facts::{GuardId, PyFacts},
    value::{CmpOp, Kind, Value},
};

/// Reads an environment variable lookup: `os.environ.get("K", d)`, `os.getenv("K", d)`,
/// `environ.get`, `os.environ["K"]`, `os.environ.setdefault`. Returns the variable
/// name (when literal) and the default value (when one is given).
pub fn env_lookup(v: &Value) -> Option<EnvLookup<'_>> {
    match &v.kind {
        Kind::Call(c) => {
            let name = c.func_name()?;
            let is_get = matches!(
                name.as_str(),
                "os.environ.get"
                    | "os.getenv"
                    | "os.environ.setdefault"
                    | "environ.get"
                    | "os.environb.get"
            );
            if !is_get {
                return None;
            }
            let var = c
                .param(0, "key")
                .and_then(Value::as_str)
                .map(str::to_string);
            let default = c.param(1, "default");
            Some(EnvLookup {
                var,
                default,
                required: false,
            })
        }
        Kind::Subscript(base, key) => {
            if base.qualified().as_deref() != Some("os.environ") {
                return None;
            }
            Some(EnvLookup {
                var: key.as_str().map(str::to_string),
                default: None,
                required: true,
            })
        }
        _ => None,
    }
}

/// An environment lookup found by [`env_lookup`].
#[derive(Debug, Clone)]
pub struct EnvLookup<'a> {
    pub var: Option<String>,
    /// The default used when the variable is missing.
    pub default: Option<&'a Value>,
    /// `os.environ["K"]`: raises KeyError when missing.
    pub required: bool,
}

/// An environment variable a condition tests for presence: the variable (when
/// literal), and whether the condition holds when it is set.
/// `os.environ.get("K")` / `os.getenv("K")` (no default, or an empty one),
/// `"K" in os.environ`, `os.getenv("K") is None`, and their negations.
/// A module-level name in the test reads the binding made before it
/// (`SECRET_KEY = os.getenv("SECRET_KEY")` then `if not SECRET_KEY:`).
fn env_presence(v: &Value, facts: Option<&PyFacts>) -> Option<(Option<String>, bool)> {
    match &v.kind {
        Kind::Not(inner) => env_presence(inner, facts).map(|(var, when_set)| (var, !when_set)),
        Kind::Ref(_) => env_presence(global_before(facts?, v)?, None),
        Kind::Call(_) => {
            let l = env_lookup(v)?;
            let empty = l
                .default
                .is_none_or(|d| matches!(&d.kind, Kind::None) || d.as_str() == Some(""));
            (!l.required && empty).then_some((l.var, true))
        }
        Kind::Compare(left, rest) => {
            let [(op, right)] = rest.as_slice() else {
                return None;
            };
            match op {
                CmpOp::In | CmpOp::NotIn => {
                    if right.qualified().as_deref() != Some("os.environ") {
                        return None;
                    }
                    let var = left.as_str()?.to_string();
                    Some((Some(var), matches!(op, CmpOp::In)))
                }
                CmpOp::Is | CmpOp::IsNot | CmpOp::Eq | CmpOp::NotEq => {
                    if !matches!(right.kind, Kind::None) {
                        return None;
                    }
                    // Only a bare lookup: `os.getenv("K") is None`.
                    let left = match &left.kind {
                        Kind::Ref(_) => global_before(facts?, left)?,
                        _ => left,
                    };
                    if !matches!(left.kind, Kind::Call(_)) {
                        return None;
                    }
                    let (var, when_set) = env_presence(left, None)?;
                    if !when_set {
                        return None;
                    }
                    Some((var, matches!(op, CmpOp::IsNot | CmpOp::NotEq)))
                }
                _ => None,
            }
        }
        _ => None,
    }
}

/// Whether the branch of an `if` that runs when `test` is `holds` only runs
/// when an environment variable is unset: the `else` of `if
/// os.environ.get("K"):`, the body of `if "K" not in os.environ:` or of `if
/// not os.getenv("K") and not app.testing:`. Returns the variable (None when
/// it is not a literal).
pub fn runs_when_unset(
    test: &Value,
    holds: bool,
    facts: Option<&PyFacts>,
) -> Option<Option<String>> {
    runs_when_unset_at(test, holds, facts, 0)
}

fn runs_when_unset_at(
    test: &Value,
    holds: bool,
    facts: Option<&PyFacts>,
    depth: usize,
) -> Option<Option<String>> {
    if depth > 16 {
        return None;
    }
    if let Some((var, when_set)) = env_presence(test, facts) {
        return (when_set != holds).then_some(var);
    }
    match &test.kind {
        Kind::Not(inner) => runs_when_unset_at(inner, !holds, facts, depth + 1),
        // A conjunction that holds makes each part hold; a disjunction that
        // fails makes each part fail.
        Kind::And(items) if holds => items
            .iter()
            .find_map(|x| runs_when_unset_at(x, true, facts, depth + 1)),
        Kind::Or(items) if !holds => items
            .iter()
            .find_map(|x| runs_when_unset_at(x, false, facts, depth + 1)),
        _ => None,
    }
}

/// The environment variable whose absence the code at `range` depends on: the
/// innermost assignment or call that holds it (`SECRET_KEY = "dev"`,
/// `app.config.update(SECRET_KEY="dev")`) sits in a branch of an `if` that
/// runs only when the variable is unset. `Some(None)` when the variable is not
/// a literal.
pub fn unset_branch_of(
    facts: &PyFacts,
    range: ruff_text_size::TextRange,
) -> Option<Option<String>> {
    let assign = facts
        .assigns
        .iter()
        .filter(|a| a.range.contains_range(range))
        .map(|a| (a.range.len(), a.guard));
    let call = facts
        .calls
        .iter()
        .filter(|c| c.range().contains_range(range))
        .map(|c| (c.range().len(), c.guard));
    let (_, guard) = assign.chain(call).min_by_key(|(len, _)| *len)?;
    unset_guard(facts, guard)
}

/// [`runs_when_unset`] for the conditions around a fact, innermost first.
pub fn unset_guard(facts: &PyFacts, guard: GuardId) -> Option<Option<String>> {
    facts
        .guards_of(guard)
        .into_iter()
        .find_map(|g| runs_when_unset(&g.test, !g.negated, Some(facts)))
}

/// For `a if test else b`, the branch taken when an environment variable
/// the test checks is unset, with the variable (None when not a literal).
pub fn cond_unset_branch<'a>(
    v: &'a Value,
    facts: Option<&PyFacts>,
) -> Option<(&'a Value, Option<String>)> {
    let Kind::Cond(parts) = &v.kind else {
        return None;
    };
    let [test, body, orelse] = parts.as_ref();
    if let Some(var) = runs_when_unset(test, true, facts) {
        return Some((body, var));
    }
    runs_when_unset(test, false, facts).map(|var| (orelse, var))
}

/// What a module-level name of this module was bound to last before `at`.
fn global_before<'a>(facts: &'a PyFacts, at: &Value) -> Option<&'a Value> {
    let r = at.reference()?;
    let super::value::Root::Global(q) = &r.root else {
        return None;
    };
    if !r.attrs.is_empty() {
        return None;
    }
    let name = q.strip_prefix(facts.module.as_str())?.strip_prefix('.')?;
    facts
        .globals
        .iter()
        .rev()
        .find(|g| g.name == name && g.range.end() <= at.range.start())
        .map(|g| &g.value)
}
