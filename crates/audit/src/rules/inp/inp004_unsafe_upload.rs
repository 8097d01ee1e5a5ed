//! INP004 `unsafe-upload`: uploads saved under the client's file name, or with
//! no type allow-list.

use checklist::Severity;
use report::Finding;

use crate::{
    model::flow::request_origin,
    python::{
        facts::{PyFacts, ScopeId},
        taint::Sink,
        value::{CmpOp, Kind, Root, Value},
    },
    rules::{
        request_data::{origin_words, with_origin},
        Rule, RuleContext,
    },
    source::Span,
};

pub const RULE: Rule = Rule {
    code: "INP004",
    name: "unsafe-upload",
    doc: DOC,
    check,
};

const DOC: &str = r#"## What it does
Finds uploaded files (`request.files[...]`, `.get(...)`, `.getlist(...)`)
saved with `.save(path)`:
- **high** when the path is built from request data not passed through
  `secure_filename` (usually `file.filename`): the client picks where the file
  lands;
- **medium** when the path keeps the client's (sanitised) name or extension and
  the view checks no allow-list of types.

The allow-list is recognised as a membership test on the name, extension or
MIME type (`if ext not in ALLOWED_EXTENSIONS`, `if file.mimetype in
IMAGE_TYPES`), an `endswith` on the name, a helper named for it
(`allowed_file(...)`), or a content check (`imghdr.what`, `filetype.guess`,
`magic.from_buffer`, Pillow's `verify`). Files stored under a name the server
chooses (`uuid4().hex + ".png"`) and Flask-WTF `FileField`s with `FileAllowed`
are silent.

## Why is this bad?
`file.filename` is whatever the client sent: `../../app/templates/base.html`
writes outside the upload folder and can end in code execution. Any type
accepted means `.html` or `.svg` files served back from your origin run script
in your users' sessions.

## Example
```python
f = request.files["file"]
f.save(os.path.join(UPLOAD_DIR, f.filename))
```

Use instead:
```python
name = secure_filename(f.filename or "")
ext = name.rsplit(".", 1)[-1].lower() if "." in name else ""
if ext not in {"png", "jpg", "jpeg"}:
    abort(400)
f.save(os.path.join(UPLOAD_DIR, f"{uuid.uuid4().hex}.{ext}"))
```
"#;

fn check(ctx: &RuleContext) -> Vec<Finding> {
    let project = ctx.project;
    let mut out = Vec::new();
    for (file, facts, call) in project.calls_named(&["save"]) {
        let c = call.call();
        let receiver = match &c.func.kind {
            Kind::Attr(base, _) => Some(base.as_ref().clone()),
            _ => c.receiver(),
        };
        if !receiver.as_ref().is_some_and(is_upload) {
            continue;
        }
        let Some(dst) = c.param(0, "dst") else {
            continue;
        };
        let client_name = mentions(dst, &["filename"]);
        let span = Span::new(file, call.range());
        let listed = allow_list(facts, call.scope);
        if let Some(origin) = request_origin(project, file, dst, Sink::Path) {
            let what = if client_name {
                "the client's file name (`filename`) without `secure_filename`".to_string()
            } else {
                origin_words(ctx, origin)
            };
            let mut message = format!("an upload is saved to a path built from {what}");
            if !listed {
                message.push_str(", and no allow-list of file types is checked");
            }
            let f = ctx
                .finding(RULE.code, RULE.name, span, message)
                .with_evidence(ctx.snippet(span))
                .with_fix("Store uploads under a name the server chooses (`uuid4().hex` plus an extension from an allow-list); keep the client's name, passed through `secure_filename`, only for display.");
            out.push(with_origin(ctx, f, origin));
        } else if client_name && !listed {
            out.push(
                ctx.finding(
                    RULE.code,
                    RULE.name,
                    span,
                    "an upload is saved under the client's file name or extension and no allow-list of file types is checked",
                )
                .with_evidence(ctx.snippet(span))
                .with_fix("Check the extension (and the content) against an allow-list before saving: `if ext not in {\"png\", \"jpg\"}: abort(400)`.")
                .with_severity(Severity::Medium),
            );
        }
    }
    out
}

/// An uploaded file: `request.files["f"]`, `request.files.get("f")`, an item of
/// `request.files.getlist(...)`, or a request-derived value of unknown shape
/// (loop variables) that `.save` is called on.
fn is_upload(v: &Value) -> bool {
    let mut files = false;
    v.walk(&mut |x| {
        files |= match &x.kind {
            Kind::Ref(r) => match &r.root {
                Root::Obj { ctor, .. } => ctor.starts_with("flask.request.files"),
                _ => r
                    .qualified()
                    .is_some_and(|q| q.starts_with("flask.request.files")),
            },
            Kind::Unknown => x.tainted,
            _ => false,
        };
    });
    files
}

/// Whether a value refers to an attribute with one of these names
/// (`file.filename`, `upload.mimetype`).
fn mentions(v: &Value, names: &[&str]) -> bool {
    let mut found = false;
    v.walk(&mut |x| {
        found |= match &x.kind {
            Kind::Ref(r) => r.attrs.last().is_some_and(|a| names.contains(&a.as_str())),
            Kind::Attr(_, a) => names.contains(&a.as_str()),
            _ => false,
        };
    });
    found
}

/// Whether the view checks the upload's type against an allow-list.
fn allow_list(facts: &PyFacts, scope: ScopeId) -> bool {
    let Some(func) = facts.function_of(scope) else {
        return false;
    };
    let within = |s: ScopeId| facts.scope_within(s, func.scope);
    const TYPE_ATTRS: &[&str] = &["filename", "mimetype", "content_type", "suffix"];
    let by_call = facts.calls.iter().filter(|c| within(c.scope)).any(|c| {
        let call = c.call();
        let Some(name) = call.callee_name() else {
            return false;
        };
        let lower = name.to_ascii_lowercase();
        lower.contains("allowed")
            || matches!(
                name,
                "what" | "guess" | "guess_extension" | "from_buffer" | "from_file" | "verify"
            )
            || name == "endswith" && mentions(&c.value, TYPE_ATTRS)
    });
    by_call
        || facts
            .guards
            .iter()
            .filter(|g| g.scope != 0 && within(g.scope))
            .any(|g| {
                let mut listed = false;
                g.test.walk(&mut |v| {
                    if let Kind::Compare(left, rest) = &v.kind {
                        let membership = rest
                            .iter()
                            .any(|(op, _)| matches!(op, CmpOp::In | CmpOp::NotIn));
                        let names_type = mentions(left, TYPE_ATTRS)
                            || left.tainted
                            || rest.iter().any(|(_, r)| names_allow_list(r));
                        listed |= membership && names_type;
                    }
                });
                listed
            })
}

/// `ALLOWED_EXTENSIONS`, `app.config["UPLOAD_EXTENSIONS"]`, `IMAGE_TYPES`.
fn names_allow_list(v: &Value) -> bool {
    let mut found = false;
    v.walk(&mut |x| {
        let text = match &x.kind {
            Kind::Str(s) => s.to_ascii_uppercase(),
            Kind::Ref(r) => r.last_name().to_ascii_uppercase(),
            _ => return,
        };
        found |= ["ALLOWED", "EXTENSION", "TYPES", "MIME", "SUFFIX"]
            .iter()
            .any(|w| text.contains(w));
    });
    found
}
