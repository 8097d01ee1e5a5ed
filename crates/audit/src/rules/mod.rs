//! The rule framework and the registry of every rule.
//!
//! A rule is a pure function from the [`RuleContext`] (the project model, every
//! file's facts, the settings) to findings, with its control ID, a kebab-case
//! name, and its documentation in Ruff's shape. Rules live one per file under
//! `rules/<area>/`; [`all`] lists them and drives `implementations()`,
//! `--select`/`--ignore` and the fixture tests. See CONTRIBUTING-RULES.md.

pub mod auth;
mod cke;
pub mod common;
pub mod context;
mod cor;
mod csr;
mod dbg;
pub(crate) mod dep;
mod err;
mod hdr;
pub mod hooks;
mod inj;
mod inp;
mod key;
mod ops;
mod prx;
pub mod request_data;
pub mod responses;
pub(crate) mod rl;
mod tls;

pub use context::RuleContext;

use report::Finding;

/// One rule.
#[derive(Clone, Copy)]
pub struct Rule {
    /// The control it checks (`DBG001`).
    pub code: &'static str,
    /// Kebab-case name, unique across rules (`debug-mode-enabled`).
    pub name: &'static str,
    /// User documentation: `## What it does`, `## Why is this bad?`,
    /// `## Example`, `Use instead:` (and optionally `## References`).
    pub doc: &'static str,
    pub check: fn(&RuleContext) -> Vec<Finding>,
}

impl std::fmt::Debug for Rule {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}", self.code, self.name)
    }
}

/// Every rule, in registry order (by control, then name).
pub fn all() -> Vec<Rule> {
    let mut rules = vec![
        dbg::dbg001_debug_mode::RULE,
        dbg::dbg001_debug_in_deploy::RULE,
        dbg::dbg002_debug_toolbar::RULE,
        dbg::dbg003_dev_server::RULE,
        dbg::dbg004_testing_flags::RULE,
        key::key001_hardcoded_secret_key::RULE,
        key::key002_weak_secret_key::RULE,
        key::key003_secret_key_fallback::RULE,
        key::key004_committed_secrets::RULE,
        rl::rl001_no_rate_limiting::RULE,
        rl::rl002_memory_storage::RULE,
        rl::rl003_auth_route_limits::RULE,
        rl::rl004_mutation_route_limits::RULE,
        rl::rl005_proxy_address_key::RULE,
        prx::prx001_no_proxy_fix::RULE,
        prx::prx002_host_not_restricted::RULE,
        csr::csr001_no_csrf::RULE,
        tls::tls002_redirect_loop::RULE,
        cke::cke001_cookie_not_secure::RULE,
        cke::cke002_cookie_not_httponly::RULE,
        cke::cke003_cookie_samesite::RULE,
        cke::cke004_sensitive_session_data::RULE,
        cke::cke005_session_not_regenerated::RULE,
        cke::cke006_session_lifetime::RULE,
        cor::cor001_wildcard_origin::RULE,
        cor::cor002_credentials_any_origin::RULE,
        cor::cor003_loose_origin_patterns::RULE,
        err::err001_exception_text::RULE,
        err::err002_no_json_errors::RULE,
        hdr::hdr001_hsts::RULE,
        hdr::hdr002_csp::RULE,
        hdr::hdr003_frame_options::RULE,
        hdr::hdr004_nosniff::RULE,
        hdr::hdr005_referrer_policy::RULE,
        hdr::hdr008_no_header_mechanism::RULE,
        inj::inj001_sql_injection::RULE,
        inj::inj002_unescaped_markup::RULE,
        inj::inj003_template_injection::RULE,
        inj::inj004_shell_injection::RULE,
        inj::inj005_open_redirect::RULE,
        inp::inp002_no_schema::RULE,
        inp::inp004_unsafe_upload::RULE,
        inp::inp005_path_traversal::RULE,
        inp::inp006_unsafe_deserialization::RULE,
        auth::auth001_weak_password_hash::RULE,
        auth::auth002_jwt::RULE,
        auth::auth003_unauthenticated_mutation::RULE,
        inp::inp001_json_errors_as_html::RULE,
        inp::inp003_no_max_content_length::RULE,
        dep::dep001_unpinned_dependencies::RULE,
        dep::dep002_vulnerable_dependencies::RULE,
        ops::ops001_container_runs_as_root::RULE,
        ops::ops002_dev_server_all_interfaces::RULE,
    ];
    rules.sort_by_key(|r| (r.code, r.name));
    rules
}
