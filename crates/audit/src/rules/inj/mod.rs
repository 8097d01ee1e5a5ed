//! INJ — injection: SQL, markup, templates, shell commands, redirects.

pub mod inj001_sql_injection;
pub(crate) mod sql;
