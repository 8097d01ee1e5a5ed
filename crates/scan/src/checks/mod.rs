//! Checks: pure functions from [`Observations`] to named outcomes.
//!
//! Each check has a name, the control it covers, and an enum of every outcome it
//! can produce (Observatory style: `hsts-not-implemented`,
//! `hsts-implemented-max-age-less-than-six-months`, …). Each outcome carries its
//! control, severity (none for a pass), message, fix, score modifier and whose
//! scoring table the modifier comes from. The [`registry`] lists every check; it
//! drives the run, the coverage the binary registers, and the docs.

use checklist::Severity;

use crate::observations::Observations;

pub mod cookies;
pub mod cors;
pub mod csp;
pub mod debug;
pub mod disclosure;
pub mod errors;
pub mod files;
pub mod headers;
pub mod hsts;
pub mod inputs;
pub mod jwt;
pub mod probes;
pub mod session;
pub mod transport;

/// Whose scoring table a modifier comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Table {
    /// The Mozilla HTTP Observatory's published modifier for the same result.
    Observatory,
    /// flaskguard's own modifier, for what the Observatory does not test.
    Flaskguard,
}

impl Table {
    pub fn as_str(self) -> &'static str {
        match self {
            Table::Observatory => "observatory",
            Table::Flaskguard => "flaskguard",
        }
    }
}

/// Everything known about one named outcome.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Spec {
    /// Stable kebab-case name.
    pub name: &'static str,
    pub control: &'static str,
    /// `None` for a passing outcome: it moves the score but is no finding.
    pub severity: Option<Severity>,
    pub modifier: i32,
    pub table: Table,
    pub message: &'static str,
    pub fix: &'static str,
}

/// An enum of a check's outcomes.
pub trait Outcome: Copy + 'static {
    const ALL: &'static [Self];
    fn spec(self) -> &'static Spec;
}

/// Declares a check's outcome enum with its specs.
///
/// `Variant = "name" [Severity, modifier, Table] "message", "fix";` where Severity is
/// `Pass`, `Info`, `Low`, `Medium`, `High` or `Critical`.
macro_rules! outcomes {
    (
        $(#[$meta:meta])*
        pub enum $name:ident for $control:literal {
            $( $variant:ident = $oname:literal [$sev:ident, $modifier:expr, $table:ident]
                $msg:literal, $fix:literal; )+
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        pub enum $name { $( $variant, )+ }

        impl $crate::checks::Outcome for $name {
            const ALL: &'static [Self] = &[$($name::$variant),+];
            fn spec(self) -> &'static $crate::checks::Spec {
                match self {
                    $( $name::$variant => &$crate::checks::Spec {
                        name: $oname,
                        control: $control,
                        severity: outcomes!(@sev $sev),
                        modifier: $modifier,
                        table: $crate::checks::Table::$table,
                        message: $msg,
                        fix: $fix,
                    }, )+
                }
            }
        }
    };
    (@sev Pass) => { None };
    (@sev $s:ident) => { Some(checklist::Severity::$s) };
}
pub(crate) use outcomes;

/// One outcome observed at one URL.
#[derive(Debug, Clone)]
pub struct Verdict {
    pub check: &'static str,
    /// The Observatory test this check's result counts for, if any.
    pub observatory_test: Option<&'static str>,
    pub spec: &'static Spec,
    pub url: String,
    pub evidence: Option<String>,
    /// Specifics appended to the outcome's message.
    pub detail: Option<String>,
}

impl Verdict {
    pub fn message(&self) -> String {
        match &self.detail {
            Some(d) => format!("{} ({d})", self.spec.message),
            None => self.spec.message.to_string(),
        }
    }
}

/// Collects a check's verdicts, stamping them with the running check's name.
#[derive(Debug, Default)]
pub struct Verdicts {
    pub list: Vec<Verdict>,
    check: &'static str,
    observatory_test: Option<&'static str>,
}

impl Verdicts {
    pub fn add<O: Outcome>(&mut self, outcome: O, url: impl Into<String>) -> &mut Verdict {
        self.list.push(Verdict {
            check: self.check,
            observatory_test: self.observatory_test,
            spec: outcome.spec(),
            url: url.into(),
            evidence: None,
            detail: None,
        });
        self.list.last_mut().expect("just pushed")
    }
}

impl Verdict {
    pub fn evidence(&mut self, e: impl Into<String>) -> &mut Verdict {
        self.evidence = Some(e.into());
        self
    }

    pub fn detail(&mut self, d: impl Into<String>) -> &mut Verdict {
        self.detail = Some(d.into());
        self
    }
}

/// A named check.
pub struct CheckDef {
    pub name: &'static str,
    pub control: &'static str,
    /// Runs only with `--active`.
    pub active: bool,
    /// The Mozilla Observatory test whose modifiers this check reproduces.
    pub observatory_test: Option<&'static str>,
    /// Every outcome the check can produce.
    pub outcomes: fn() -> Vec<&'static Spec>,
    pub run: fn(&Observations, &mut Verdicts),
}

/// The specs of an outcome enum, for [`CheckDef::outcomes`].
pub fn specs<O: Outcome>() -> Vec<&'static Spec> {
    O::ALL.iter().map(|o| o.spec()).collect()
}

/// Declares a [`CheckDef`] with less noise.
macro_rules! check {
    ($name:literal, $control:literal, $outcome:ty, $run:path) => {
        $crate::checks::CheckDef {
            name: $name,
            control: $control,
            active: false,
            observatory_test: None,
            outcomes: $crate::checks::specs::<$outcome>,
            run: $run,
        }
    };
    ($name:literal, $control:literal, $outcome:ty, $run:path, observatory = $test:literal) => {
        $crate::checks::CheckDef {
            name: $name,
            control: $control,
            active: false,
            observatory_test: Some($test),
            outcomes: $crate::checks::specs::<$outcome>,
            run: $run,
        }
    };
    ($name:literal, $control:literal, $outcome:ty, $run:path, active) => {
        $crate::checks::CheckDef {
            name: $name,
            control: $control,
            active: true,
            observatory_test: None,
            outcomes: $crate::checks::specs::<$outcome>,
            run: $run,
        }
    };
}
pub(crate) use check;

/// Every check, in report order.
pub fn registry() -> Vec<&'static CheckDef> {
    [
        hsts::CHECKS,
        csp::CHECKS,
        headers::CHECKS,
        disclosure::CHECKS,
        cookies::CHECKS,
        session::CHECKS,
        jwt::CHECKS,
        debug::CHECKS,
        files::CHECKS,
        cors::CHECKS,
        errors::CHECKS,
        transport::CHECKS,
        inputs::CHECKS,
        probes::CHECKS,
    ]
    .into_iter()
    .flatten()
    .collect()
}

/// Runs every check that applies (active ones only on active scans).
pub fn run_all(obs: &Observations) -> Vec<Verdict> {
    let mut out = Verdicts::default();
    for def in registry() {
        if def.active && !obs.active {
            continue;
        }
        out.check = def.name;
        out.observatory_test = def.observatory_test;
        (def.run)(obs, &mut out);
    }
    out.list
}

/// The page headers are judged on: where the main URL ends after same-host
/// redirects, with the URL it was fetched from.
pub fn page(obs: &Observations) -> Option<(String, &crate::client::HttpResponse)> {
    for key in ["main-final", "main"] {
        if let Some(e) = obs.get(key) {
            if let Some(r) = e.response() {
                return Some((e.url(), r));
            }
        }
    }
    None
}

#[cfg(test)]
mod registry_tests;
#[cfg(test)]
mod tests;
