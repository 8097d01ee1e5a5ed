//! Name resolution while collecting: the stack of scopes (module, classes,
//! functions), what each binds, and how a name becomes a [`Value`].

use rustc_hash::{FxHashMap as HashMap, FxHashSet as HashSet};

use ruff_text_size::TextRange;

use super::{
    facts::{ScopeId, ScopeKind},
    value::{Kind, Name, Ref, Root, Value},
};

/// One shared copy of each name and short text of a file: the values that
/// mention `self`, `session` or `flask.request` share it.
#[derive(Debug, Default)]
pub struct Interner(HashSet<Name>);

/// Longer texts are not worth a lookup (they are rarely repeated).
const MAX_INTERNED: usize = 128;

impl Interner {
    pub fn get(&mut self, s: &str) -> Name {
        if s.len() > MAX_INTERNED {
            return Name::from(s);
        }
        if let Some(n) = self.0.get(s) {
            return n.clone();
        }
        let n = Name::from(s);
        self.0.insert(n.clone());
        n
    }
}

/// Values bigger than this are not substituted for the names bound to them
/// (keeps `x = x + x` chains from growing without bound).
pub const MAX_SUBSTITUTED_SIZE: usize = 32;

#[derive(Debug)]
pub struct Frame {
    pub scope: ScopeId,
    pub kind: ScopeKind,
    pub qualified: Name,
    /// Names whose value is substituted where they are read.
    pub bindings: HashMap<String, Value>,
    pub imports: HashMap<String, Name>,
    /// Parameter name -> (index, request-derived).
    pub params: HashMap<Name, (u32, bool)>,
    /// Parameters typed as the request object (`request: Request`).
    pub request_params: HashSet<String>,
}

impl Frame {
    pub fn new(scope: ScopeId, kind: ScopeKind, qualified: Name) -> Frame {
        Frame {
            scope,
            kind,
            qualified,
            bindings: HashMap::default(),
            imports: HashMap::default(),
            params: HashMap::default(),
            request_params: HashSet::default(),
        }
    }
}

/// The scopes enclosing the statement being collected.
#[derive(Debug)]
pub struct Scopes {
    pub frames: Vec<Frame>,
    /// The module's own top-level names (defined anywhere at module level), so a
    /// function can refer to a name defined below it.
    pub module_names: HashSet<String>,
    pub module: String,
    pub names: Interner,
}

impl Scopes {
    pub fn current(&self) -> &Frame {
        // The module frame is pushed first and never popped.
        &self.frames[self.frames.len() - 1]
    }

    pub fn current_mut(&mut self) -> &mut Frame {
        let n = self.frames.len() - 1;
        &mut self.frames[n]
    }

    /// Resolves a name read at `range`.
    pub fn resolve(&mut self, name: &str, range: TextRange) -> Value {
        let innermost = self.frames.len() - 1;
        for (i, frame) in self.frames.iter().enumerate().rev() {
            // A class body's names are visible in the class body only.
            if frame.kind == ScopeKind::Class && i != innermost {
                continue;
            }
            if let Some(v) = frame.bindings.get(name) {
                let mut v = v.clone();
                if let Kind::Ref(_) = v.kind {
                    v.range = range;
                }
                return v;
            }
            if let Some((key, &(index, tainted))) = frame.params.get_key_value(name) {
                return Value {
                    range,
                    kind: Kind::Ref(Box::new(Ref {
                        root: Root::Param {
                            func: frame.qualified.clone(),
                            index,
                            name: key.clone(),
                        },
                        attrs: Vec::new(),
                    })),
                    tainted,
                };
            }
            if let Some(q) = frame.imports.get(name) {
                return global(q.clone(), range);
            }
            if frame.kind == ScopeKind::Module && self.module_names.contains(name) {
                let q = self.names.get(&format!("{}.{name}", self.module));
                return global(q, range);
            }
        }
        if name == "__name__" {
            return Value::new(range, Kind::Str(self.names.get(&self.module)));
        }
        global(self.names.get(name), range)
    }

    /// Records what a name now holds, in the current frame.
    pub fn bind(&mut self, name: &str, value: &Value) {
        let kind = self.current().kind;
        let frame = self.current_mut();
        frame.params.remove(name);
        frame.request_params.remove(name);
        frame.imports.remove(name);
        let keep = match kind {
            // Module and class names are read through their dotted name, except
            // literal constants, which are folded where they are used.
            ScopeKind::Module | ScopeKind::Class => {
                value.is_literal() && value.size(MAX_SUBSTITUTED_SIZE + 1) <= MAX_SUBSTITUTED_SIZE
            }
            ScopeKind::Function => true,
        };
        if !keep {
            frame.bindings.remove(name);
            return;
        }
        let stored = if value.size(MAX_SUBSTITUTED_SIZE + 1) <= MAX_SUBSTITUTED_SIZE {
            value.clone()
        } else {
            Value::unknown(value.range, value.tainted)
        };
        frame.bindings.insert(name.to_string(), stored);
    }
}

pub fn global(q: Name, range: TextRange) -> Value {
    let tainted = is_request_name(&q);
    Value {
        range,
        kind: Kind::Ref(Box::new(Ref {
            root: Root::Global(q),
            attrs: Vec::new(),
        })),
        tainted,
    }
}

/// The request object of Flask and Quart, by its dotted names.
pub const REQUEST_OBJECTS: [&str; 3] = ["flask.request", "quart.request", "flask.globals.request"];

/// Attributes of the request the server decides, not the client: the routed
/// method and endpoint, flags and sizes. Reading them is not reading request data.
pub const SERVER_ATTRS: &[&str] = &[
    "method",
    "endpoint",
    "blueprint",
    "blueprints",
    "url_rule",
    "routing_exception",
    "is_json",
    "is_secure",
    "content_length",
    "max_content_length",
    "max_form_memory_size",
    "max_form_parts",
    "scheme",
    "app",
    "state",
    "scope",
    // Starlette's authenticated user and credentials (set by the
    // authentication middleware), and the `request.user` apps set in hooks.
    "user",
    "auth",
];

/// Whether a dotted global is the request (or request data in it).
pub fn is_request_name(q: &str) -> bool {
    REQUEST_OBJECTS.iter().any(|s| {
        if q == *s {
            return true;
        }
        let Some(rest) = q.strip_prefix(s).and_then(|r| r.strip_prefix('.')) else {
            return false;
        };
        let first = rest.split('.').next().unwrap_or(rest);
        !SERVER_ATTRS.contains(&first)
    })
}

/// Whether a dotted global is the request object itself.
pub fn is_request_object(q: &str) -> bool {
    REQUEST_OBJECTS.contains(&q)
}
