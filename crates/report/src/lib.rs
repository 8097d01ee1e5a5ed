//! Findings, reports and their renderers.
//!
//! Engines (audit, scan) produce a [`Report`] of [`Finding`]s; this crate only
//! formats them. Nothing here knows how a finding was found.

mod finding;
pub mod render;
mod write;

pub use finding::{
    Diagnostic, DiagnosticLevel, FileLocation, Finding, Location, Related, Report, Score,
    ScoreLine, Summary,
};
pub use render::{render, Format, ParseFormatError, RenderOptions};
pub use write::{emit, write_atomic, WriteError};

/// Version of the JSON report schema (`docs/json-report.md`). Bump on breaking changes.
pub const JSON_SCHEMA_VERSION: u32 = 1;
