//! What a rule sees, and helpers for building findings from model spans.

use report::{Finding, Location};

use std::sync::OnceLock;

use crate::{
    model::{App, AppId, Project},
    rules::{common::SecretSite, rl::custom_limiter::CustomLimits},
    settings::AuditSettings,
    source::Span,
};

/// The input of every rule: the model (which holds every file's facts), the
/// settings of the run, and the advisories given with `--advisories` (read once
/// when DEP002 runs).
pub struct RuleContext<'a> {
    pub project: &'a Project,
    pub settings: &'a AuditSettings,
    pub advisories: Option<&'a crate::advisories::AdvisoryDb>,
    /// Analyses several rules share, made once per run by the first to ask.
    pub shared: Shared<'a>,
}

/// See [`RuleContext::shared`].
#[derive(Default)]
pub struct Shared<'a> {
    secret_keys: OnceLock<Vec<(Option<AppId>, SecretSite<'a>)>>,
    custom_limits: OnceLock<CustomLimits<'a>>,
}

impl<'a> RuleContext<'a> {
    pub fn new(
        project: &'a Project,
        settings: &'a AuditSettings,
        advisories: Option<&'a crate::advisories::AdvisoryDb>,
    ) -> RuleContext<'a> {
        RuleContext {
            project,
            settings,
            advisories,
            shared: Shared::default(),
        }
    }

    /// Every place a signing key is set (KEY001-KEY003), found once.
    pub fn secret_key_entries(&self) -> &[(Option<AppId>, SecretSite<'a>)] {
        self.shared
            .secret_keys
            .get_or_init(|| super::common::secret_key_entries(self.project))
    }

    /// The project's own rate limiters (RL001-RL004), found once.
    pub fn custom_limits(&self) -> &CustomLimits<'a> {
        self.shared
            .custom_limits
            .get_or_init(|| CustomLimits::of(self.project))
    }

    /// A finding at a span.
    pub fn finding(
        &self,
        code: &str,
        rule: &str,
        span: Span,
        message: impl Into<String>,
    ) -> Finding {
        Finding::new(code, rule, message, self.project.location(span))
    }

    /// A related location for a finding.
    pub fn at(&self, span: Span) -> Location {
        self.project.location(span)
    }

    /// `path:line`.
    pub fn describe(&self, span: Span) -> String {
        self.project.describe(span)
    }

    /// The source text of a span, trimmed to one line and 120 characters.
    pub fn snippet(&self, span: Span) -> String {
        let Some(f) = self.project.source(span.file) else {
            return String::new();
        };
        let text = f
            .text()
            .get(span.start as usize..span.end as usize)
            .unwrap_or("");
        let first = text.lines().next().unwrap_or("").trim();
        if first.chars().count() > 120 {
            format!("{}…", first.chars().take(119).collect::<String>())
        } else {
            first.to_string()
        }
    }

    /// Adds "ProductionConfig taken as production at orders/__init__.py:20" to a
    /// finding about production configuration.
    pub fn with_production(&self, finding: Finding, app: &App) -> Finding {
        match &app.config.production {
            Some(p) => finding.with_related(
                self.at(p.span),
                format!("{} taken as production ({})", p.short_name(), p.reason),
            ),
            None => finding,
        }
    }
}
