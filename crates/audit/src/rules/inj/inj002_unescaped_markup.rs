//! INJ002 `unescaped-markup`: escaping switched off for request or stored data.

use std::collections::HashMap;

use report::Finding;

use super::{
    jinja::{self, Tag},
    templates::{self, RenderSite, Source, Template},
};
use crate::{
    model::flow::request_origin,
    python::{taint::Sink, value::Value},
    rules::{
        request_data::{callee, origin_words, with_origin},
        Rule, RuleContext,
    },
    source::Span,
};

pub const RULE: Rule = Rule {
    code: "INJ002",
    name: "unescaped-markup",
    doc: DOC,
    check,
};

const DOC: &str = r#"## What it does
Finds places where Jinja's escaping is switched off for data users control:
- in templates, `{{ value|safe }}` where `value` comes from the request or
  from a database. The rule finds the views that render the template
  (`render_template("page.html", value=...)`, FastAPI's `TemplateResponse`,
  and the views of templates that `include` or `extend` it), follows what
  they pass for that variable through the view (`{% for %}` and `{% set %}` in
  the template too), and reports it when it is request data (`request.args`,
  forms, JSON, route variables) or read from a database (`fetchone()`,
  `Model.query...`, `db.session.execute(...)`, `get_or_404`, also inside
  project helpers). `request.*|safe` in a template is always reported.
- `{% autoescape false %}` blocks that print variables (not inside a
  `{% block subject %}` or a text/plain block of an e-mail);
- `Markup(...)` (markupsafe, flask, jinja2) built from request data, e.g.
  `Markup(f"<b>{request.args['name']}</b>")`;
- `jinja2.Environment(autoescape=False)` (unless it renders LaTeX, SQL, YAML or
  text: custom delimiters, a loader path that says so, or templates it loads
  named as code or config, like `get_template("models.py.jinja")`) and
  `app.jinja_env.autoescape = False`.

Silent: `|safe` on values the view builds from literals and constants, on
values passed through a sanitiser (`bleach.clean`, `nh3.clean`, `escape`),
on values escaped by a filter before `safe` (`{{ data|tojson|safe }}`,
`{{ name|e|safe }}`),
on variables no view passes (context processors, macros' arguments: the
audit cannot tell), and `Markup("<b>{}</b>").format(name)`, which escapes its
arguments.

## Why is this bad?
`|safe` and `Markup` tell Jinja the value is already HTML. When a user wrote
it (a comment, a note, a query parameter), their `<script>` runs in other
users' sessions: stored or reflected cross-site scripting.

## Example
```html
<p class="note">{{ order['note']|safe }}</p>
```

Use instead:
```html
<p class="note">{{ order['note'] }}</p>
```
or sanitise rich text on input with an allow-list sanitiser (`nh3.clean`).
"#;

/// Template globals that are not user data (`config`, `url_for`...).
const TRUSTED_GLOBALS: &[&str] = &[
    "config",
    "g",
    "session",
    "url_for",
    "get_flashed_messages",
    "self",
    "caller",
    "varargs",
    "kwargs",
    "csrf_token",
    "form",
];

const MARKUP: &[&str] = &[
    "markupsafe.Markup",
    "flask.Markup",
    "jinja2.Markup",
    "flask.helpers.Markup",
];

const ENVIRONMENTS: &[&str] = &[
    "jinja2.Environment",
    "jinja2.environment.Environment",
    "jinja2.sandbox.SandboxedEnvironment",
];

fn check(ctx: &RuleContext) -> Vec<Finding> {
    let mut out = Vec::new();
    markup_in_code(ctx, &mut out);
    autoescape_off_in_code(ctx, &mut out);
    in_templates(ctx, &mut out);
    out
}

fn markup_in_code(ctx: &RuleContext, out: &mut Vec<Finding>) {
    let project = ctx.project;
    for (file, _, call) in project.calls_named(&["Markup"]) {
        if !callee(project, file, call).is_some_and(|n| MARKUP.contains(&n.as_str())) {
            continue;
        }
        let Some(arg) = call.call().param(0, "base") else {
            continue;
        };
        let Some(origin) = request_origin(project, file, arg, Sink::Html) else {
            continue;
        };
        let span = Span::new(file, call.range());
        let f = ctx
            .finding(
                RULE.code,
                RULE.name,
                span,
                format!(
                    "`Markup(...)` marks {} as safe HTML: any markup in it reaches the page unescaped",
                    origin_words(ctx, origin)
                ),
            )
            .with_evidence(ctx.snippet(span))
            .with_fix("Keep only the literal HTML in Markup and let it escape the values: `Markup(\"<b>{}</b>\").format(name)`.");
        out.push(with_origin(ctx, f, origin));
    }
}

fn autoescape_off_in_code(ctx: &RuleContext, out: &mut Vec<Finding>) {
    let project = ctx.project;
    for (file, facts, call) in project.calls_named(&["Environment"]) {
        if !callee(project, file, call).is_some_and(|n| ENVIRONMENTS.contains(&n.as_str())) {
            continue;
        }
        let Some(opt) = call.call().kwarg("autoescape") else {
            continue;
        };
        if renders_other_than_html(&call.value) || loads_non_html_templates(file, facts, call) {
            continue;
        }
        if opt.truthy() == Some(false) {
            out.push(
                ctx.finding(
                    RULE.code,
                    RULE.name,
                    Span::new(file, opt.range),
                    "a Jinja Environment is created with `autoescape=False`: every variable it renders is raw HTML",
                )
                .with_fix("Use `autoescape=select_autoescape([\"html\", \"htm\", \"xml\"])` (or `True`)."),
            );
        }
    }
    for (file, facts) in project.python() {
        for a in &facts.assigns {
            let Some(r) = a.target.reference() else {
                continue;
            };
            if r.last_name() != "autoescape" || r.second_last_name() != Some("jinja_env") {
                continue;
            }
            if a.value.truthy() == Some(false) {
                out.push(
                    ctx.finding(
                        RULE.code,
                        RULE.name,
                        Span::new(file, a.range),
                        "`jinja_env.autoescape = False` turns escaping off for every template of the app",
                    )
                    .with_fix("Remove the assignment; Flask escapes .html, .htm, .xml, .xhtml and .svg templates by default."),
                );
            }
        }
    }
}

/// An Environment for LaTeX, SQL, YAML or text: custom delimiters, or a
/// loader path that says so.
fn renders_other_than_html(env: &Value) -> bool {
    let Some(c) = env.as_call() else {
        return false;
    };
    let custom_syntax = c.kwargs.iter().any(|(k, _)| {
        k.as_deref()
            .is_some_and(|k| k.ends_with("_start_string") || k.starts_with("line_"))
    });
    let mut other = false;
    env.walk(&mut |x| {
        if let Some(s) = x.as_str() {
            let l = s.to_ascii_lowercase();
            other |= [
                "latex",
                ".tex",
                "sql",
                "yaml",
                ".txt",
                "text_templates",
                "plain",
            ]
            .iter()
            .any(|w| l.contains(w));
        }
    });
    custom_syntax || other
}

/// Whether every template the Environment created by `env` loads (its
/// `from_string(...)` / `get_template(...)` calls in the same file) is named
/// as something other than HTML: `sdk.py.jinja`, `query.sql.j2`,
/// `values.yaml.jinja` (code or config the project generates).
fn loads_non_html_templates(
    file: crate::source::FileId,
    facts: &crate::python::PyFacts,
    env: &crate::python::facts::CallFact,
) -> bool {
    use crate::python::value::Root;
    const OTHER: &[&str] = &[
        ".py",
        ".sql",
        ".yaml",
        ".yml",
        ".toml",
        ".ini",
        ".cfg",
        ".sh",
        ".txt",
        ".md",
        ".rst",
        ".tex",
        ".json",
        ".ts",
        ".js",
        ".go",
        ".rs",
        ".dockerfile",
        ".conf",
    ];
    let start: u32 = env.value.range.start().into();
    let mut loads = 0;
    let mut other = 0;
    for c in &facts.calls {
        let call = c.call();
        let Some(r) = call.func_ref() else { continue };
        let Root::Obj { site, .. } = &r.root else {
            continue;
        };
        if site.file != file
            || site.offset != start
            || !matches!(
                r.attrs.as_slice(),
                [m] if matches!(m.as_str(), "from_string" | "get_template" | "select_template")
            )
        {
            continue;
        }
        loads += 1;
        let mut strings = Vec::new();
        for a in &call.args {
            literal_strings(file, facts, a, 0, &mut strings);
        }
        let named = strings.iter().any(|s| {
            let l = s.to_ascii_lowercase();
            let stem = l
                .strip_suffix(".jinja2")
                .or_else(|| l.strip_suffix(".jinja"))
                .or_else(|| l.strip_suffix(".j2"))
                .unwrap_or(&l);
            OTHER.iter().any(|e| stem.ends_with(e))
        });
        other += usize::from(named);
    }
    loads > 0 && loads == other
}

/// The string literals a value is built from, also in the calls that made
/// the objects it uses (`files(pkg).joinpath("sdk.py.jinja").read_text()`),
/// within one file and a few steps.
fn literal_strings<'a>(
    file: crate::source::FileId,
    facts: &'a crate::python::PyFacts,
    v: &'a Value,
    depth: usize,
    out: &mut Vec<&'a str>,
) {
    use crate::python::value::{Kind, Root};
    if depth > 4 {
        return;
    }
    v.walk(&mut |x| {
        if let Some(s) = x.as_str() {
            out.push(s);
        }
        if let Kind::Ref(r) = &x.kind {
            if let Root::Obj { site, .. } = &r.root {
                if site.file != file {
                    return;
                }
                if let Some(c) = facts
                    .calls
                    .iter()
                    .find(|c| u32::from(c.value.range.start()) == site.offset)
                {
                    literal_strings(file, facts, &c.value, depth + 1, out);
                }
            }
        }
    });
}

/// What a template variable is bound to inside the template itself.
enum Alias<'a> {
    /// Another expression's variables (`{% for o in orders %}` binds `o` to `orders`).
    Roots(Vec<&'a str>),
    /// A literal or something the audit cannot follow (a macro argument, a call).
    Opaque,
}

fn aliases<'a>(tags: &[Tag<'a>]) -> HashMap<&'a str, Alias<'a>> {
    let mut out = HashMap::new();
    for tag in tags {
        let Tag::Statement { body, .. } = tag else {
            continue;
        };
        let kw = jinja::keyword(body);
        let rest = body[kw.len()..].trim();
        match kw {
            "for" => {
                let Some((targets, iter)) = rest.split_once(" in ") else {
                    continue;
                };
                let iter = iter.split(" if ").next().unwrap_or(iter);
                let (base, _) = jinja::filters(iter);
                let roots = jinja::roots(base).map_or(Alias::Opaque, Alias::Roots);
                let roots_vec = match &roots {
                    Alias::Roots(r) => Some(r.clone()),
                    Alias::Opaque => None,
                };
                for t in targets.split(',') {
                    let t = t.trim().trim_matches(['(', ')']).trim();
                    out.insert(t, roots_vec.clone().map_or(Alias::Opaque, Alias::Roots));
                }
            }
            "set" | "with" => {
                for assignment in jinja::split_top(rest, b',') {
                    if let Some((name, expr)) = assignment.split_once('=') {
                        let (base, _) = jinja::filters(expr.trim());
                        let alias = jinja::roots(base).map_or(Alias::Opaque, Alias::Roots);
                        out.insert(name.trim(), alias);
                    } else if kw == "set" {
                        // `{% set x %}...{% endset %}`
                        out.insert(assignment.trim(), Alias::Opaque);
                    }
                }
            }
            "macro" | "call" => {
                if let Some((_, params)) = rest.split_once('(') {
                    for p in jinja::split_top(params.trim_end_matches(')'), b',') {
                        let name = p.split('=').next().unwrap_or(p).trim();
                        if !name.is_empty() {
                            out.insert(name, Alias::Opaque);
                        }
                    }
                }
            }
            _ => {}
        }
    }
    out
}

/// The context variables an expression's root names resolve to; None when one
/// is opaque.
fn context_roots<'a>(roots: Vec<&'a str>, aliases: &HashMap<&'a str, Alias<'a>>) -> Vec<&'a str> {
    let mut out = Vec::new();
    let mut stack = roots;
    let mut steps = 0;
    while let Some(r) = stack.pop() {
        steps += 1;
        if steps > 64 {
            break;
        }
        match aliases.get(r) {
            Some(Alias::Roots(next)) if !next.contains(&r) => stack.extend(next.iter().copied()),
            Some(_) => {}
            None => {
                if !out.contains(&r) {
                    out.push(r);
                }
            }
        }
    }
    out
}

fn in_templates(ctx: &RuleContext, out: &mut Vec<Finding>) {
    let project = ctx.project;
    let tpls = templates::templates(project);
    if tpls.is_empty() {
        return;
    }
    let sites = templates::render_sites(project);
    let reach = templates::sites_by_template(&tpls, &sites);
    for (i, t) in tpls.iter().enumerate() {
        let aliases = aliases(&t.tags);
        // Open `{% block %}` names: an e-mail subject or a text part is not HTML.
        let mut blocks: Vec<&str> = Vec::new();
        for (j, tag) in t.tags.iter().enumerate() {
            if let Tag::Statement { body, .. } = tag {
                match jinja::keyword(body) {
                    "block" => blocks.push(jinja::keyword(body["block".len()..].trim())),
                    "endblock" => {
                        blocks.pop();
                    }
                    _ => {}
                }
            }
            match tag {
                Tag::Output { expr, start, end } => {
                    let (base, filters) = jinja::filters(expr);
                    if !filters.contains(&"safe") {
                        continue;
                    }
                    // `{{ data|tojson|safe }}`, `{{ name|e|safe }}`: escaped
                    // before `safe` (Flask's `tojson` escapes `<`, `>`, `&`
                    // and `'`); `safe` only stops a second escaping.
                    let escaped_first = filters.iter().take_while(|f| **f != "safe").any(|f| {
                        matches!(*f, "tojson" | "e" | "escape" | "forceescape" | "urlencode")
                    });
                    if escaped_first {
                        continue;
                    }
                    let Some(roots) = jinja::roots(base) else {
                        continue;
                    };
                    let roots = context_roots(roots, &aliases);
                    let span = tag_span(t, *start, *end);
                    if let Some(f) = judge_safe(ctx, span, expr, &roots, &reach[i]) {
                        out.push(f);
                    }
                }
                Tag::Statement { body, start, end } => {
                    if jinja::keyword(body) != "autoescape" {
                        continue;
                    }
                    let arg = body["autoescape".len()..].trim();
                    if !arg.eq_ignore_ascii_case("false") {
                        continue;
                    }
                    let text_block = blocks.iter().any(|b| {
                        let b = b.to_ascii_lowercase();
                        b.contains("subject") || b.contains("text") || b.contains("plain")
                    });
                    if text_block {
                        continue;
                    }
                    if prints_variables(&t.tags[j + 1..]) {
                        out.push(
                            ctx.finding(
                                RULE.code,
                                RULE.name,
                                tag_span(t, *start, *end),
                                "`{% autoescape false %}` prints variables without escaping",
                            )
                            .with_fix(
                                "Remove the block; mark only trusted, sanitised values safe.",
                            ),
                        );
                    }
                }
            }
        }
    }
}

/// Whether an `{% autoescape false %}` block prints a variable before it ends.
fn prints_variables(after: &[Tag]) -> bool {
    for tag in after {
        match tag {
            Tag::Statement { body, .. } if jinja::keyword(body) == "endautoescape" => return false,
            Tag::Output { expr, .. } => {
                let (base, _) = jinja::filters(expr);
                if jinja::roots(base).is_none_or(|r| !r.is_empty()) {
                    return true;
                }
            }
            _ => {}
        }
    }
    false
}

fn tag_span(t: &Template, start: usize, end: usize) -> Span {
    let end = end.min(t.text.len());
    Span {
        file: t.file,
        start: start.min(end) as u32,
        end: end as u32,
    }
}

fn judge_safe(
    ctx: &RuleContext,
    span: Span,
    expr: &str,
    roots: &[&str],
    sites: &[&RenderSite],
) -> Option<Finding> {
    let project = ctx.project;
    let shown = format!("{{{{ {expr} }}}}");
    let fix = "Drop `|safe` so Jinja escapes the value; if users must submit rich text, sanitise it on input with an allow-list sanitiser (nh3.clean) and mark only that output safe.";
    if roots.contains(&"request") {
        return Some(
            ctx.finding(
                RULE.code,
                RULE.name,
                span,
                format!("`{shown}` prints request data without escaping (reflected XSS)"),
            )
            .with_fix(fix),
        );
    }
    for root in roots.iter().filter(|r| !TRUSTED_GLOBALS.contains(r)) {
        for site in sites {
            let Some((_, value)) = site.vars.iter().find(|(k, _)| k == root) else {
                continue;
            };
            let value: &Value = value;
            let (what, origin) = match templates::source(project, site.file, value) {
                templates::Source::Request(o) => (origin_words(ctx, o), Some(o)),
                Source::Stored => ("data read from the database".to_string(), None),
                Source::Other => continue,
            };
            let kind = if origin.is_some() {
                "reflected"
            } else {
                "stored"
            };
            let mut f = ctx
                .finding(
                    RULE.code,
                    RULE.name,
                    span,
                    format!("`{shown}` prints `{root}` without escaping, and {} passes it {what} ({kind} XSS)", ctx.describe(site.span)),
                )
                .with_fix(fix)
                .with_related(ctx.at(site.span), format!("`{root}` is passed here"));
            if let Some(o) = origin {
                f = with_origin(ctx, f, o);
            }
            return Some(f);
        }
    }
    None
}
