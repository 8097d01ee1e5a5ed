//! INJ — injection: SQL, markup, templates, shell commands, redirects.

pub mod inj001_sql_injection;
pub mod inj002_unescaped_markup;
pub mod inj003_template_injection;
pub mod inj004_shell_injection;
pub mod inj005_open_redirect;
pub(crate) mod jinja;
pub(crate) mod sql;
pub(crate) mod templates;
