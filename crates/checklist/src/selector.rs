//! `--select` / `--ignore`: which controls a run reports.
//!
//! Each entry is a control ID (`DBG001`), an area prefix (`KEY`) or `ALL`. As in
//! Ruff, the most specific entry wins (an ID beats an area, an area beats `ALL`); on a
//! tie, ignore wins.

use crate::catalog::{self, Area};

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SelectorError {
    #[error("unknown control or area `{code}`{hint}")]
    Unknown { code: String, hint: String },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Pattern {
    All,
    Area(Area),
    Id(&'static str),
}

impl Pattern {
    fn parse(code: &str) -> Result<Pattern, SelectorError> {
        let code = code.trim();
        if code.eq_ignore_ascii_case("ALL") {
            return Ok(Pattern::All);
        }
        if let Some(c) = catalog::get(code) {
            return Ok(Pattern::Id(c.id));
        }
        if let Some(a) = Area::from_code(code) {
            return Ok(Pattern::Area(a));
        }
        let near = catalog::suggest(code);
        let hint = if near.is_empty() {
            String::new()
        } else {
            format!(" (did you mean {}?)", near.join(", "))
        };
        Err(SelectorError::Unknown {
            code: code.to_string(),
            hint,
        })
    }

    fn specificity(self, id: &str) -> Option<u8> {
        match self {
            Pattern::All => Some(0),
            Pattern::Area(a) => catalog::get(id).filter(|c| c.area == a).map(|_| 1),
            Pattern::Id(p) => (p == id).then_some(2),
        }
    }
}

/// The set of controls a run reports.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Selector {
    select: Vec<Pattern>,
    ignore: Vec<Pattern>,
}

impl Default for Selector {
    fn default() -> Self {
        Selector {
            select: vec![Pattern::All],
            ignore: Vec::new(),
        }
    }
}

impl Selector {
    /// An empty `select` means everything.
    pub fn new<S: AsRef<str>>(select: &[S], ignore: &[S]) -> Result<Selector, SelectorError> {
        let parse = |list: &[S]| -> Result<Vec<Pattern>, SelectorError> {
            list.iter()
                .flat_map(|s| s.as_ref().split(','))
                .filter(|s| !s.trim().is_empty())
                .map(Pattern::parse)
                .collect()
        };
        let mut select = parse(select)?;
        if select.is_empty() {
            select.push(Pattern::All);
        }
        Ok(Selector {
            select,
            ignore: parse(ignore)?,
        })
    }

    /// Whether findings for `id` are reported.
    pub fn enabled(&self, id: &str) -> bool {
        let best = |list: &[Pattern]| list.iter().filter_map(|p| p.specificity(id)).max();
        match (best(&self.select), best(&self.ignore)) {
            (None, _) => false,
            (Some(_), None) => true,
            (Some(s), Some(i)) => s > i,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_selects_everything() {
        let s = Selector::default();
        assert!(s.enabled("DBG001") && s.enabled("OPS003"));
    }

    #[test]
    fn areas_and_ids() {
        let s = Selector::new(&["KEY", "DBG001"], &["KEY003"]).unwrap();
        assert!(s.enabled("KEY001"));
        assert!(!s.enabled("KEY003"));
        assert!(s.enabled("DBG001"));
        assert!(!s.enabled("DBG002"));
    }

    #[test]
    fn more_specific_select_beats_area_ignore() {
        let s = Selector::new(&["ALL", "RL003"], &["RL"]).unwrap();
        assert!(s.enabled("RL003"));
        assert!(!s.enabled("RL001"));
        assert!(s.enabled("KEY001"));
    }

    #[test]
    fn comma_lists_and_case() {
        let s = Selector::new(&["key001,dbg"], &[] as &[&str]).unwrap();
        assert!(s.enabled("KEY001") && s.enabled("DBG004") && !s.enabled("KEY002"));
    }

    #[test]
    fn unknown_codes_are_errors_with_hints() {
        let err = Selector::new(&["DBG01"], &[] as &[&str]).unwrap_err();
        assert!(err.to_string().contains("DBG01"));
        assert!(err.to_string().contains("DBG001"));
        assert!(Selector::new(&[] as &[&str], &["NOPE"]).is_err());
    }
}
