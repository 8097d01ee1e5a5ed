//! What statements bind: imports (relative ones resolved against the package),
//! assignments (recorded as facts, then bound for later reads), loop and
//! `with` targets.

use ruff_python_ast::Expr;
use ruff_text_size::{Ranged, TextRange};

use super::{
    collect::Collector,
    facts::{AssignFact, ClassAttr, GlobalBinding, ImportFact, ScopeKind},
    value::{Kind, Value},
};

impl Collector {
    /// The dotted base of `from <module> import ...`, resolving relative levels
    /// against this module's package (legacy extension namespaces renamed, see
    /// [`modern_module`]).
    pub(super) fn import_base(&self, module: Option<&str>, level: u32) -> String {
        if level == 0 {
            return modern_module(module.unwrap_or_default());
        }
        let mut parts: Vec<&str> = self.package.split('.').filter(|s| !s.is_empty()).collect();
        for _ in 1..level {
            parts.pop();
        }
        if let Some(m) = module {
            parts.push(m);
        }
        parts.join(".")
    }

    pub(super) fn import(&mut self, local: String, qualified: String, range: TextRange) {
        let scope = self.scopes.current().scope;
        // `from flask.ext import login`, `import flask.ext.login as fl`.
        let qualified = self.scopes.names.get(&modern_module(&qualified));
        self.facts.imports.push(ImportFact {
            local: self.scopes.names.get(&local),
            qualified: qualified.clone(),
            range,
            scope,
        });
        let frame = self.scopes.current_mut();
        frame.bindings.remove(&local);
        frame.params.remove(local.as_str());
        frame.request_params.remove(&local);
        frame.imports.insert(local, qualified);
    }

    /// Records `target = value` and what the target names now hold.
    pub(super) fn assign(
        &mut self,
        target: &Expr,
        value: &Value,
        stmt_range: TextRange,
        augmented: bool,
    ) {
        match target {
            Expr::Tuple(t) => {
                let items = value.as_seq().filter(|items| items.len() == t.elts.len());
                let from_call = matches!(value.kind, Kind::Call(_));
                for (i, elt) in t.elts.iter().enumerate() {
                    let v = items
                        .and_then(|items| items.get(i).cloned())
                        .unwrap_or_else(|| {
                            // `head, tail = os.path.split(p)`: each name is an item of
                            // the call's result, so what the call does (sanitises,
                            // hands request data on) carries over.
                            if from_call && !t.elts.iter().any(|e| matches!(e, Expr::Starred(_))) {
                                Value {
                                    range: elt.range(),
                                    kind: Kind::Subscript(
                                        Box::new(value.clone()),
                                        Box::new(Value::new(elt.range(), Kind::Int(i as i64))),
                                    ),
                                    tainted: value.tainted,
                                }
                            } else {
                                Value::unknown(elt.range(), value.tainted)
                            }
                        });
                    self.assign(elt, &v, stmt_range, augmented);
                }
                return;
            }
            Expr::List(l) => {
                for elt in &l.elts {
                    self.assign(
                        elt,
                        &Value::unknown(elt.range(), value.tainted),
                        stmt_range,
                        augmented,
                    );
                }
                return;
            }
            Expr::Starred(s) => {
                self.assign(
                    &s.value,
                    &Value::unknown(s.range, value.tainted),
                    stmt_range,
                    augmented,
                );
                return;
            }
            _ => {}
        }
        let target_value = match target {
            Expr::Name(n) => {
                let name = n.id.as_str();
                match self.scopes.current().kind {
                    ScopeKind::Module => {
                        let q = self
                            .scopes
                            .names
                            .get(&format!("{}.{name}", self.facts.module));
                        super::scope::global(q, n.range)
                    }
                    ScopeKind::Class => {
                        let q = format!("{}.{name}", self.scopes.current().qualified);
                        super::scope::global(self.scopes.names.get(&q), n.range)
                    }
                    ScopeKind::Function => Value::new(
                        n.range,
                        Kind::Ref(Box::new(super::value::Ref {
                            root: super::value::Root::Local(self.scopes.names.get(name)),
                            attrs: Vec::new(),
                        })),
                    ),
                }
            }
            other => self.eval(other),
        };
        let scope_kind = self.scopes.current().kind;
        let scope = self.scopes.current().scope;
        self.facts.assigns.push(AssignFact {
            scope,
            guard: self.guard,
            target: target_value,
            value: value.clone(),
            range: stmt_range,
            augmented,
        });
        if let Expr::Name(n) = target {
            let name = n.id.as_str();
            let bound = self.binding_value(value);
            match scope_kind {
                ScopeKind::Module => self.facts.globals.push(GlobalBinding {
                    name: self.scopes.names.get(name),
                    value: bound.clone(),
                    range: stmt_range,
                }),
                ScopeKind::Class => {
                    let name = self.scopes.names.get(name);
                    if let Some(attrs) = self.class_attrs.last_mut() {
                        attrs.push(ClassAttr {
                            name,
                            value: value.clone(),
                            range: stmt_range,
                        });
                    }
                }
                ScopeKind::Function => {}
            }
            self.scopes.bind(name, &bound);
        }
    }

    pub(super) fn bind_unknown(&mut self, target: &Expr, tainted: bool) {
        match target {
            Expr::Name(n) => {
                let v = Value::unknown(n.range, tainted);
                self.scopes.bind(n.id.as_str(), &v);
            }
            Expr::Tuple(t) => t.elts.iter().for_each(|e| self.bind_unknown(e, tainted)),
            Expr::List(l) => l.elts.iter().for_each(|e| self.bind_unknown(e, tainted)),
            Expr::Starred(s) => self.bind_unknown(&s.value, tainted),
            _ => {}
        }
    }
}

/// The module a legacy extension import names today: Flask before 1.0
/// redirected `flask.ext.login` (and the older `flaskext.login`) to the
/// `flask_login` package. Imports are recorded under the package's own name,
/// so every rule sees `flask_login.login_required` however it was imported.
pub(super) fn modern_module(module: &str) -> String {
    for legacy in ["flask.ext.", "flaskext."] {
        if let Some(rest) = module.strip_prefix(legacy) {
            if !rest.is_empty() {
                return format!("flask_{rest}");
            }
        }
    }
    module.to_string()
}
