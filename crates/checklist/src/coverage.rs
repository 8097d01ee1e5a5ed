//! Which engine implements which control.
//!
//! Engines register what they implement: an audit rule, a scan check or a shield
//! layer each yields an [`Implementation`] naming the control ID it covers. The binary
//! gathers them from every engine it links into one [`Coverage`], so a control only
//! shows as covered when code for it exists.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::{catalog, Control};

/// The three enforcement points.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Engine {
    Audit,
    Scan,
    Shield,
}

impl Engine {
    pub const ALL: [Engine; 3] = [Engine::Audit, Engine::Scan, Engine::Shield];

    pub fn as_str(self) -> &'static str {
        match self {
            Engine::Audit => "audit",
            Engine::Scan => "scan",
            Engine::Shield => "shield",
        }
    }
}

/// One piece of an engine that checks or enforces a control.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Implementation {
    pub engine: Engine,
    /// The control ID (must exist in the catalog).
    pub control: &'static str,
    /// The engine's own name for it: a rule name, a check name or a layer name.
    pub name: &'static str,
}

impl Implementation {
    pub const fn new(engine: Engine, control: &'static str, name: &'static str) -> Self {
        Implementation {
            engine,
            control,
            name,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{engine} registers `{name}` for unknown control `{control}`", engine = .0.engine.as_str(), name = .0.name, control = .0.control)]
pub struct UnknownControl(pub Implementation);

/// Every registered implementation, by control.
#[derive(Debug, Clone, Default)]
pub struct Coverage {
    by_control: BTreeMap<&'static str, Vec<Implementation>>,
}

impl Coverage {
    pub fn new() -> Self {
        Self::default()
    }

    /// Registers implementations; an ID that is not in the catalog is an error, so an
    /// engine cannot claim a control the checklist does not have.
    pub fn register(
        &mut self,
        implementations: impl IntoIterator<Item = Implementation>,
    ) -> Result<(), UnknownControl> {
        for imp in implementations {
            let Some(control) = catalog::get(imp.control) else {
                return Err(UnknownControl(imp));
            };
            let list = self.by_control.entry(control.id).or_default();
            if !list.contains(&imp) {
                list.push(imp);
            }
        }
        Ok(())
    }

    /// The implementations of one control, in engine order.
    pub fn of(&self, control: &Control) -> Vec<&Implementation> {
        let mut list: Vec<&Implementation> = self
            .by_control
            .get(control.id)
            .map(|v| v.iter().collect())
            .unwrap_or_default();
        list.sort_by_key(|i| (i.engine, i.name));
        list
    }

    /// The names under which `engine` implements `control`, sorted.
    pub fn names(&self, control: &Control, engine: Engine) -> Vec<&'static str> {
        self.of(control)
            .into_iter()
            .filter(|i| i.engine == engine)
            .map(|i| i.name)
            .collect()
    }

    pub fn covers(&self, control: &Control, engine: Engine) -> bool {
        !self.names(control, engine).is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn registers_and_reports_by_engine() {
        let mut cov = Coverage::new();
        cov.register([
            Implementation::new(Engine::Scan, "DBG001", "werkzeug-console"),
            Implementation::new(Engine::Audit, "DBG001", "debug-enabled"),
            Implementation::new(Engine::Audit, "DBG001", "debug-enabled"),
        ])
        .unwrap();
        let dbg = catalog::get("DBG001").unwrap();
        assert_eq!(cov.names(dbg, Engine::Audit), ["debug-enabled"]);
        assert!(cov.covers(dbg, Engine::Scan));
        assert!(!cov.covers(dbg, Engine::Shield));
        assert_eq!(cov.of(dbg).len(), 2);
        assert!(!cov.covers(catalog::get("KEY001").unwrap(), Engine::Audit));
    }

    #[test]
    fn unknown_ids_are_refused() {
        let mut cov = Coverage::new();
        let err = cov
            .register([Implementation::new(Engine::Audit, "XYZ001", "made-up")])
            .unwrap_err();
        assert!(err.to_string().contains("XYZ001"));
    }
}
