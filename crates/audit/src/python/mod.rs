//! Python source: parsing with Ruff's parser and the single pass that turns a
//! module into [`PyFacts`] (calls, assignments, classes, functions, imports, with
//! names resolved through the module's imports and literals folded).
//!
//! Helpers for rules: [`value::Value`] (literals, references, calls, request
//! taint), [`value::env_lookup`] (environment lookups with their defaults) and
//! [`taint`] (request-derived data).

mod bindings;
mod collect;
pub mod data_config;
mod defs;
mod env;
mod eval;
pub mod facts;
mod fold;
pub mod format;
mod name;
pub mod pydantic;
mod render;
mod scope;
pub mod taint;
pub mod value;

pub use collect::{is_request_type, is_route_decorator, ROUTE_METHODS};
pub use defs::NUMERIC_CONVERTERS;
pub use eval::object_ctor;
pub use facts::PyFacts;
pub use scope::REQUEST_OBJECTS;

use ruff_python_ast::{
    token::{TokenKind, Tokens},
    visitor::transformer::{walk_expr, walk_stmt, Transformer},
    Expr, ExprNoneLiteral, Stmt,
};
use ruff_python_parser::parse_module;

/// Why a Python file could not be analysed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyntaxProblem {
    pub message: String,
    pub offset: u32,
}

/// Parses `text` and collects its facts. A syntax error is returned as a problem
/// (the file's facts are not used, so no rule reads a half-parsed module).
pub fn analyze(
    file: crate::source::FileId,
    text: &str,
    module: &str,
    is_package: bool,
) -> Result<PyFacts, SyntaxProblem> {
    let parsed = parse_module(text).map_err(|e| SyntaxProblem {
        message: e.error.to_string(),
        offset: u32::from(e.location.start()),
    })?;
    let facts = collect::Collector::new(file, module, is_package).collect(parsed.suite());
    let deep = has_long_logical_line(parsed.tokens());
    let mut module = parsed.into_syntax();
    if deep {
        // A statement this long can nest expressions deeply enough that dropping the
        // tree recursively would overflow the stack: take it apart leaves first.
        for stmt in &mut module.body {
            Dismantle.visit_stmt(stmt);
        }
    }
    drop(module);
    Ok(facts)
}

/// Tokens in one logical line above which the syntax tree is dismantled before it
/// is dropped. Expression depth is bounded by the token count of its statement.
const LONG_LOGICAL_LINE: usize = 2000;

fn has_long_logical_line(tokens: &Tokens) -> bool {
    let mut n = 0usize;
    for t in tokens.iter() {
        if t.kind() == TokenKind::Newline {
            n = 0;
        } else {
            n += 1;
            if n > LONG_LOGICAL_LINE {
                return true;
            }
        }
    }
    false
}

/// Replaces every expression by a leaf after its children were replaced, with the
/// recursion on a growable stack, so dropping the tree never recurses deeply.
struct Dismantle;

impl Transformer for Dismantle {
    fn visit_expr(&self, expr: &mut Expr) {
        stacker::maybe_grow(64 * 1024, 1024 * 1024, || walk_expr(self, expr));
        *expr = Expr::NoneLiteral(ExprNoneLiteral::default());
    }

    fn visit_stmt(&self, stmt: &mut Stmt) {
        stacker::maybe_grow(64 * 1024, 1024 * 1024, || walk_stmt(self, stmt));
    }
}

/// The dotted module name of a root-relative path, given which directories are
/// packages (hold an `__init__.py`): the path from the topmost enclosing package.
pub fn module_name(rel: &str, is_package_dir: impl Fn(&str) -> bool) -> (String, bool) {
    let parts: Vec<&str> = rel.split('/').collect();
    let Some((file, dirs)) = parts.split_last() else {
        return (String::new(), false);
    };
    let stem = file
        .strip_suffix(".py")
        .or_else(|| file.strip_suffix(".pyw"))
        .unwrap_or(file);
    let is_package = stem == "__init__";
    // Walk up while the directory is a package.
    let mut first = dirs.len();
    while first > 0 {
        let dir = dirs[..first].join("/");
        if !is_package_dir(&dir) {
            break;
        }
        first -= 1;
    }
    let mut names: Vec<&str> = dirs[first..].to_vec();
    if !is_package {
        names.push(stem);
    }
    if names.is_empty() {
        // A top-level __init__.py: name it after its directory.
        names.push(dirs.last().copied().unwrap_or(stem));
    }
    (names.join("."), is_package)
}

#[cfg(test)]
mod tests;
