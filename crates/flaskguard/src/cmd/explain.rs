//! `flaskguard explain ID`.

use anyhow::bail;
use checklist::Engine;

use crate::{cli::ExplainArgs, coverage, exit};

pub fn run(args: &ExplainArgs) -> anyhow::Result<u8> {
    let Some(control) = checklist::get(&args.id) else {
        let near = checklist::suggest(&args.id);
        if near.is_empty() {
            bail!("unknown control `{}` (see `flaskguard checklist`)", args.id);
        }
        bail!(
            "unknown control `{}`; did you mean {}?",
            args.id,
            near.join(", ")
        );
    };
    let coverage = coverage::gather()?;
    let seeds: Vec<String> = control.seeds.iter().map(|s| format!("{s:03}")).collect();
    let mut engines = Vec::new();
    for engine in Engine::ALL {
        let names = coverage.names(control, engine);
        if !names.is_empty() {
            engines.push(format!("{} ({})", engine.as_str(), names.join(", ")));
        }
    }
    let mut out = format!(
        "# {}: {}\n\nSeverity: {} · Area: {} ({}) · Seeds: {}\nCovered by: {}\n\n",
        control.id,
        control.plain_title(),
        control.severity,
        control.area.code(),
        control.area.name(),
        seeds.join(", "),
        if engines.is_empty() {
            "no engine yet".to_string()
        } else {
            engines.join("; ")
        },
    );
    out.push_str(control.doc().trim_end());
    out.push('\n');
    // The audit rules' own documentation (Ruff's shape), one section per rule.
    for rule in audit::rules::all().iter().filter(|r| r.code == control.id) {
        out.push_str(&format!("\n# audit rule `{}`\n\n", rule.name));
        let doc = format!("\n{}", rule.doc.trim()).replace("\n## ", "\n### ");
        out.push_str(doc.trim_start());
        out.push('\n');
    }
    report::emit(&out, None)?;
    Ok(exit::CLEAN)
}
