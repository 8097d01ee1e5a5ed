//! The flaskguard checklist: every control, with a stable ID, its severity, title,
//! the seed guides it comes from and its long documentation.
//!
//! The catalog is the single source of truth for control IDs. Which engines cover a
//! control is *not* stored here: each engine registers the IDs it implements (see
//! [`Coverage`]), so the coverage a user sees is derived from the code that runs.

mod catalog;
pub mod cookie_names;
mod coverage;
mod selector;
mod severity;

pub use catalog::{all, get, suggest, Area, Control, AREAS};
pub use coverage::{Coverage, Engine, Implementation, UnknownControl};
pub use selector::{Selector, SelectorError};
pub use severity::{ParseSeverityError, Severity};
