//! Environment lookups in Python source: which variable is read and with which
//! default (`os.getenv("K", d)`, `os.environ.get`, `os.environ["K"]`).

use super::value::{Kind, Value};

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
