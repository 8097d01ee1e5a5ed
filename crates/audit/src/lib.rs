//! flaskguard audit: static analysis of Flask and FastAPI projects.
//!
//! `discover` finds the files, `analyze` reads and parses each one once (in
//! parallel) into facts, `model` builds the project model from all of them, and
//! `rules` turn the model into findings; `suppress` drops what the user
//! silenced. Nothing is executed.

pub mod advisories;
mod analyze;
pub mod deploy;
pub mod discover;
pub mod git;
pub mod model;
pub mod python;
pub mod routes_report;
pub mod rules;
pub mod settings;
pub mod source;
pub mod suppress;

use std::path::PathBuf;

use checklist::{Engine, Implementation};
use rayon::prelude::*;
use report::{Diagnostic, DiagnosticLevel, Report};

pub use model::Project;
pub use settings::{AuditConfig, AuditSettings};

#[derive(Debug, thiserror::Error)]
pub enum AuditError {
    #[error(transparent)]
    Discover(#[from] discover::DiscoverError),
    #[error("{0}")]
    Settings(String),
}

/// The result of a run: the report, and the model (for `--routes`).
pub struct AuditOutcome {
    pub report: Report,
    pub project: Project,
}

/// Every rule as a checklist implementation (for coverage).
pub fn implementations() -> Vec<Implementation> {
    rules::all()
        .into_iter()
        .map(|r| Implementation::new(Engine::Audit, r.code, r.name))
        .collect()
}

/// Audits `paths` (files or directories).
pub fn run(paths: &[PathBuf], settings: &AuditSettings) -> Result<AuditOutcome, AuditError> {
    let per_file =
        suppress::PerFileIgnores::new(&settings.per_file_ignores).map_err(AuditError::Settings)?;
    let paths: Vec<PathBuf> = if paths.is_empty() {
        vec![PathBuf::from(".")]
    } else {
        paths.to_vec()
    };
    let root = discover::common_root(&paths);
    let discovery = discover::discover(&paths, &root, settings)?;

    let mut report = Report::new("audit");
    report.root = Some(root.clone());
    report.targets = paths.iter().map(|p| p.display().to_string()).collect();
    for p in &discovery.problems {
        report.diagnostics.push(Diagnostic {
            level: DiagnosticLevel::Warning,
            source: p.rel.clone(),
            message: p.message.clone(),
        });
    }

    let mut discovered = discovery.files;
    let mut results = analyze::analyze_all(&discovered, settings);
    analyze::follow_requirement_refs(&mut discovered, &mut results, &root, settings);
    analyze::follow_script_refs(
        &mut discovered,
        &mut results,
        &discovery.extensionless,
        settings,
    );
    let mut files = Vec::with_capacity(results.len());
    let mut py = Vec::with_capacity(results.len());
    let mut deploy = deploy::DeployFacts::default();
    for r in results {
        report.diagnostics.extend(r.diagnostics);
        files.push(r.file);
        py.push(r.py);
        deploy.extend(r.deploy);
    }
    {
        let rels: Vec<String> = files.iter().map(|f| f.source.rel.clone()).collect();
        deploy::script::adopt(&mut deploy, &|id| rels.get(id as usize).cloned());
        deploy::compose::link(&mut deploy, &|id| rels.get(id as usize).cloned());
    }
    let mut project = Project::build(
        files,
        py,
        deploy,
        settings.production_config.as_deref(),
        Some(&root),
    );
    project.git_tracked = git::tracked_files(&root);

    let advisories = match &settings.advisories {
        Some(path) if settings.selector.enabled("DEP002") => {
            let (db, diagnostics) = advisories::load(path);
            report.diagnostics.extend(diagnostics);
            if db.is_empty() {
                report.diagnostics.push(Diagnostic {
                    level: DiagnosticLevel::Warning,
                    source: Some(path.display().to_string()),
                    message: "no PyPI advisory found: DEP002 has nothing to match".into(),
                });
            }
            Some(db)
        }
        _ => None,
    };
    let ctx = rules::RuleContext::new(&project, settings, advisories.as_ref());
    let selected: Vec<rules::Rule> = rules::all()
        .into_iter()
        .filter(|r| settings.selector.enabled(r.code))
        .collect();
    let findings: Vec<report::Finding> = selected
        .par_iter()
        .flat_map_iter(|r| (r.check)(&ctx))
        .collect();
    let sources: rustc_hash::FxHashMap<&str, &source::SourceFile> = project
        .files
        .iter()
        .map(|pf| (pf.source.rel.as_str(), &pf.source))
        .collect();
    report.findings = findings
        .into_iter()
        .filter(|f| {
            let Some(loc) = f.location.file() else {
                return true;
            };
            if per_file.ignored(&loc.path, &f.control) {
                return false;
            }
            let source = sources.get(loc.path.as_str()).copied();
            !source.is_some_and(|s| s.suppressed(loc.line, &f.control))
        })
        .collect();
    for pf in &project.files {
        if pf.source.reread_failed() {
            report.diagnostics.push(Diagnostic {
                level: DiagnosticLevel::Warning,
                source: Some(pf.source.rel.clone()),
                message: "changed or removed while being audited: its findings show no code".into(),
            });
        }
    }
    report.sort();
    Ok(AuditOutcome { report, project })
}
