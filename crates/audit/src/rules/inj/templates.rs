//! Templates and the views that render them: which template names a file
//! answers to, which `render_template` / `TemplateResponse` calls render it
//! (directly, or through templates that `include` or `extend` it), and what
//! each call passes for a variable: request data, rows from a database, or
//! something the code controls.

use std::collections::{HashMap, HashSet};

use super::jinja::{self, Tag};
use crate::{
    discover::FileKind,
    model::{
        flow::{request_origin, Origin},
        index::Target,
        Project,
    },
    python::{
        taint::{self, Sink},
        value::{Kind, Root, Value},
    },
    rules::request_data::callee,
    source::{FileId, Span},
};

/// A template file with its tags.
pub struct Template<'a> {
    pub file: FileId,
    pub text: &'a str,
    /// The names `render_template` may use for it: the path after each
    /// `templates/` directory.
    pub names: Vec<&'a str>,
    pub tags: Vec<Tag<'a>>,
}

/// A call that renders templates by name with variables.
pub struct RenderSite<'a> {
    pub file: FileId,
    pub span: Span,
    pub names: Vec<&'a str>,
    pub vars: Vec<(&'a str, &'a Value)>,
}

/// Where a variable's value comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    Request(Origin),
    /// Read from a database (stored data users may have written).
    Stored,
    Other,
}

pub fn templates(project: &Project) -> Vec<Template<'_>> {
    project
        .files
        .iter()
        .filter(|f| f.kind == FileKind::Template && !f.is_test)
        .map(|f| {
            let rel = f.source.rel.as_str();
            let names = rel
                .match_indices("templates/")
                .filter(|(i, _)| *i == 0 || rel.as_bytes()[i - 1] == b'/')
                .map(|(i, m)| &rel[i + m.len()..])
                .collect();
            Template {
                file: f.source.id,
                text: f.source.text(),
                names,
                tags: jinja::scan(f.source.text()),
            }
        })
        .collect()
}

const RENDER: &[&str] = &[
    "flask.render_template",
    "flask.templating.render_template",
    "quart.render_template",
    "quart.templating.render_template",
];

pub fn render_sites(project: &Project) -> Vec<RenderSite<'_>> {
    let mut out = Vec::new();
    for (file, _, call) in project.calls_named(&["render_template", "TemplateResponse"]) {
        let c = call.call();
        let response = c.callee_name() == Some("TemplateResponse");
        if !response && !callee(project, file, call).is_some_and(|n| RENDER.contains(&n.as_str())) {
            continue;
        }
        let mut names: Vec<&str> = Vec::new();
        let mut vars: Vec<(&str, &Value)> = Vec::new();
        let mut name_value = c.kwarg("name").or_else(|| c.kwarg("template_name_or_list"));
        let mut context = c.kwarg("context");
        for (i, a) in c.args.iter().enumerate() {
            if name_value.is_none() && (a.as_str().is_some() || a.as_seq().is_some()) {
                name_value = Some(a);
            } else if response && context.is_none() && a.as_dict().is_some() && i > 0 {
                context = Some(a);
            }
        }
        if let Some(n) = name_value {
            match n.as_seq() {
                Some(items) => names.extend(items.iter().filter_map(Value::as_str)),
                None => names.extend(n.as_str()),
            }
        }
        if names.is_empty() {
            continue;
        }
        if !response {
            for (k, v) in &c.kwargs {
                match k {
                    Some(k) => vars.push((k.as_str(), v)),
                    None => dict_vars(v, &mut vars),
                }
            }
        }
        if let Some(ctx) = context {
            dict_vars(ctx, &mut vars);
        }
        out.push(RenderSite {
            file,
            span: Span::new(file, call.range()),
            names,
            vars,
        });
    }
    out
}

fn dict_vars<'a>(v: &'a Value, out: &mut Vec<(&'a str, &'a Value)>) {
    for (k, val) in v.as_dict().unwrap_or_default() {
        if let Some(k) = k.as_ref().and_then(Value::as_str) {
            out.push((k, val));
        }
    }
}

/// For each template (by index), the render sites whose context reaches it:
/// its own, and those of templates that include or extend it.
pub fn sites_by_template<'a>(
    tpls: &[Template<'a>],
    sites: &'a [RenderSite<'a>],
) -> Vec<Vec<&'a RenderSite<'a>>> {
    let by_name: HashMap<&str, usize> = tpls
        .iter()
        .enumerate()
        .flat_map(|(i, t)| t.names.iter().map(move |n| (*n, i)))
        .collect();
    // parents[t] = templates that pull t in with their context.
    let mut parents: Vec<Vec<usize>> = vec![Vec::new(); tpls.len()];
    for (i, t) in tpls.iter().enumerate() {
        for tag in &t.tags {
            if let Tag::Statement { body, .. } = tag {
                for name in jinja::pulled_in(body) {
                    if let Some(&child) = by_name.get(name) {
                        if child != i {
                            parents[child].push(i);
                        }
                    }
                }
            }
        }
    }
    let direct: Vec<Vec<&RenderSite>> = tpls
        .iter()
        .map(|t| {
            sites
                .iter()
                .filter(|s| s.names.iter().any(|n| t.names.contains(n)))
                .collect()
        })
        .collect();
    (0..tpls.len())
        .map(|i| {
            let mut seen = HashSet::new();
            let mut stack = vec![i];
            let mut out = Vec::new();
            while let Some(t) = stack.pop() {
                if !seen.insert(t) || seen.len() > 64 {
                    continue;
                }
                out.extend(direct[t].iter().copied());
                stack.extend(parents[t].iter().copied());
            }
            out
        })
        .collect()
}

/// Calls (by any part of their callee chain) that read from a database.
const DB_WORDS: &[&str] = &[
    "fetchone",
    "fetchall",
    "fetchmany",
    "get_or_404",
    "first_or_404",
    "one_or_404",
    "one_or_none",
    "scalar_one",
    "scalars",
    "scalar",
    "query",
    "execute",
    "objects",
    "find_one",
    "paginate",
    "filter_by",
    "get_object_or_404",
];

/// Where a value passed to a template comes from.
pub fn source(project: &Project, file: FileId, v: &Value) -> Source {
    if let Some(o) = request_origin(project, file, v, Sink::Html) {
        return Source::Request(o);
    }
    if stored(project, file, v, 0) {
        Source::Stored
    } else {
        Source::Other
    }
}

fn stored(project: &Project, file: FileId, v: &Value, depth: usize) -> bool {
    if depth > 2 {
        return false;
    }
    if let Some(c) = v.as_call() {
        let cleaned = c
            .func_name()
            .is_some_and(|n| taint::is_sanitizer(&n, Sink::Html))
            || c.callee_name()
                .is_some_and(|n| taint::is_sanitizer_name(n, Sink::Html));
        if cleaned {
            return false;
        }
    }
    let mut found = false;
    v.walk(&mut |x| {
        if found {
            return;
        }
        let chain: Vec<&str> = match &x.kind {
            Kind::Ref(r) => {
                let mut c: Vec<&str> = r.attrs.iter().map(|a| a.as_str()).collect();
                match &r.root {
                    Root::Obj { ctor, .. } => c.extend(ctor.split(['.', '(', ')'])),
                    Root::Global(q) if q == "flask.session" => return,
                    Root::Global(q) => c.extend(q.rsplit('.').next()),
                    _ => {}
                }
                c
            }
            _ => return,
        };
        found = chain.iter().any(|w| DB_WORDS.contains(w));
        if !found {
            if let Kind::Ref(r) = &x.kind {
                // A project function whose return values read the database.
                let res = project
                    .resolver()
                    .resolve(file, &Value::new(x.range, Kind::Ref(r.clone())));
                if let (Target::Function(q), true) = (&res.target, res.attrs.is_empty()) {
                    if let Some((ffile, f)) = project.resolver().function(q) {
                        found = f
                            .returns
                            .iter()
                            .any(|ret| stored(project, ffile, ret, depth + 1));
                    }
                }
            }
        }
    });
    found
}
