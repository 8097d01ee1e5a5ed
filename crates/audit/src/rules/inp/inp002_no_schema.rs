//! INP002 `body-without-schema`: routes that read a JSON or form body with no
//! schema validation.

use report::Finding;

use crate::{
    model::{index::Target, is_restx_payload, restx_object, Decorator, Project, Route},
    python::{
        facts::{FunctionFact, PyFacts, RaiseKind},
        value::{Kind, Root, Value},
    },
    rules::{Rule, RuleContext},
    source::{FileId, Span},
};

pub const RULE: Rule = Rule {
    code: "INP002",
    name: "body-without-schema",
    doc: DOC,
    check,
};

const DOC: &str = r#"## What it does
For every route, finds reads of the request body (`request.get_json()`,
`request.json`, `request.form`; `await request.json()` / `form()`
on a FastAPI or Starlette `Request`; `ns.payload` / `api.payload` in a
Flask-RESTX resource method) in a view that validates nothing. The finding is
on the first read, with the others as related locations.

A view counts as validated when it:
- has a validating decorator: webargs `@use_args`/`@use_kwargs`, flask-smorest
  `@blp.arguments`, APIFlask `@app.input`, flask-restx `@api.expect` when it
  validates (`@ns.expect(model, validate=True)`, a `Namespace`/`Api` created
  with `validate=True`, or `RESTX_VALIDATE = True`; without them Flask-RESTX
  only documents the model),
  flask-pydantic `@validate`, flask-expects-json `@expects_json`, flask-accepts
  `@accepts`;
- calls a validator: marshmallow `Schema().load(...)`/`validate`, pydantic
  `Model(**data)`/`model_validate`/`parse_obj`/`TypeAdapter(...).validate_python`,
  openapi-core `unmarshal_request`/`validate_request`,
  WTForms/Flask-WTF forms (`LoginForm()`, `validate_on_submit()`), jsonschema
  `validate(...)`, webargs `parser.parse(...)`, flask-restful
  `parser.parse_args()`, cerberus `Validator(...).validate(...)`;
- has a decorator defined in the project that calls one of these validators
  before the view runs (`@validate_openapi_request("createOrder")`);
- checks the types of body fields by hand and answers an error when a check
  fails (`if not isinstance(body.get("days"), int): return ..., 400`, or a
  `raise` / `abort(...)` there), or hands the whole body to a project function
  or class method that does so or calls a validator
  (`Reminder.from_json(request.json)` raising `ValueError` for a field of the
  wrong type). Checking only that the body is a dict is not enough;
- or is a FastAPI endpoint that takes a pydantic model (FastAPI validates it
  before the call; no raw reads, nothing to report).

Bodies read in helpers that validate (`load_json(OrderSchema())`) are not in
the view and are not reported. Query strings, uploads and raw bodies
(`request.data`) are covered by other rules.

Routes of a blueprint (or router) that no app registers are not served and
not reported (`--routes` lists them, marked unregistered), unless the project
registers blueprints it does not name (`for bp in plugins:
app.register_blueprint(bp)`).

## Why is this bad?
Without a schema the client decides which fields exist and what types they
have: `User(**request.get_json())` lets it set `is_admin`; a list where a
string was expected reaches a query or a comparison nobody tested; missing
fields become 500s.

## Example
```python
@app.post("/users")
def create_user():
    user = User(**request.get_json())
```

Use instead:
```python
@app.post("/users")
def create_user():
    body = NewUser.model_validate(request.get_json(silent=True))
```

Or have `flaskguard shield` check the bodies before the app sees them, from
the app's OpenAPI document or JSON Schema files per route (`[shield.schema]`).
"#;

/// Request attributes that read a body.
const BODY_READS: &[&str] = &["get_json", "json", "form"];

/// Decorators (last name) that validate the body before the view runs.
const VALIDATING_DECORATORS: &[&str] = &[
    "use_args",
    "use_kwargs",
    "arguments",
    "input",
    "expect",
    "validate",
    "expects_json",
    "accepts",
    "validate_json",
    "validate_request",
    "validate_body",
    "body",
    "json_schema",
    "request_schema",
];

/// Methods (last name) that validate data.
const VALIDATING_CALLS: &[&str] = &[
    "load",
    "loads",
    "load_many",
    "validate",
    "validated",
    "validate_on_submit",
    "model_validate",
    "model_validate_json",
    "parse_obj",
    "parse_raw",
    "validate_python",
    "validate_json",
    "parse_args",
    "is_valid",
    "iter_errors",
    "conform",
    // openapi-core: `spec.unmarshal_request(FlaskOpenAPIRequest(request))`.
    "unmarshal_request",
    "validate_request",
];

/// Modules whose `load`/`loads` parse without validating.
const PARSERS: &[&str] = &[
    "json",
    "simplejson",
    "orjson",
    "ujson",
    "pickle",
    "yaml",
    "marshal",
    "toml",
    "tomllib",
    "flask.json",
];

/// Base classes that validate what they are built from.
const VALIDATING_BASES: &[&str] = &[
    "pydantic.BaseModel",
    "pydantic.main.BaseModel",
    "pydantic.v1.BaseModel",
    "sqlmodel.SQLModel",
    "marshmallow.Schema",
    "marshmallow.schema.Schema",
    "wtforms.Form",
    "wtforms.form.Form",
    "flask_wtf.FlaskForm",
    "flask_wtf.Form",
    "flask_wtf.form.FlaskForm",
    "msgspec.Struct",
    "cerberus.Validator",
    "colander.MappingSchema",
    "schematics.models.Model",
];

fn check(ctx: &RuleContext) -> Vec<Finding> {
    let project = ctx.project;
    let resolver = project.resolver();
    let mut out = Vec::new();
    let mut seen = std::collections::HashSet::new();
    for route in &project.routes {
        if !seen.insert(route.function.clone()) {
            continue;
        }
        let Some((file, view)) = resolver.function(&route.function) else {
            continue;
        };
        let Some(facts) = resolver.facts(file) else {
            continue;
        };
        let mut reads: Vec<(Span, &str)> = facts
            .request_reads
            .iter()
            .filter(|r| BODY_READS.contains(&r.attr.as_str()))
            .filter(|r| facts.scope_within(r.scope, view.scope))
            .map(|r| (Span::new(file, r.range), r.attr.as_str()))
            .collect();
        if route.class.is_some() {
            reads.extend(payload_reads(project, file, facts, view));
            reads.sort_by_key(|(s, _)| s.start);
            reads.dedup();
        }
        let Some(&(first, attr)) = reads.first() else {
            continue;
        };
        if validated(project, route, file, facts, view) {
            continue;
        }
        let call = if matches!(attr, "get_json" | "body") {
            "()"
        } else {
            ""
        };
        let what = format!("{}{call}", ctx.snippet(first));
        let mut f = ctx
            .finding(
                RULE.code,
                RULE.name,
                first,
                format!(
                    "`{} {}` reads the request body (`{what}`) without validating it against a schema",
                    route.methods.join("/"),
                    route.display_path()
                ),
            )
            .with_fix("Validate the body with a schema before using it (marshmallow `Schema().load`, pydantic `Model.model_validate`, a WTForms form, webargs `@use_args`), rejecting unknown fields.");
        for (other, _) in reads.iter().skip(1).take(3) {
            f = f.with_related(ctx.at(*other), "the body is also read here");
        }
        out.push(f);
    }
    out
}

fn validated(
    project: &Project,
    route: &Route,
    file: FileId,
    facts: &PyFacts,
    view: &FunctionFact,
) -> bool {
    let last = |name: &str| name.rsplit('.').next().unwrap_or(name).to_string();
    if route.decorators.iter().any(|d| {
        let name = last(&d.name);
        VALIDATING_DECORATORS.contains(&name.as_str())
            && (name != "expect" || restx_expect_validates(project, route, d))
    }) {
        return true;
    }
    if calls_validator(project, file, facts, view) {
        return true;
    }
    if checks_by_hand(facts, view, &request_body_rest) {
        return true;
    }
    if body_given_to_validating_helper(project, file, facts, view) {
        return true;
    }
    // A decorator of the project that validates the body before calling the
    // view (`@validate_openapi_request("createOrder")`, `@check_payload`).
    let resolver = project.resolver();
    route.decorators.iter().any(|d| {
        let callee = d.value.as_call().map_or(&d.value, |c| &c.func);
        let r = resolver.resolve(d.span.file, callee);
        let Target::Function(q) = &r.target else {
            return false;
        };
        if !r.attrs.is_empty() || q == &route.function {
            return false;
        }
        let Some((dfile, dfunc)) = resolver.function(q) else {
            return false;
        };
        resolver
            .facts(dfile)
            .is_some_and(|dfacts| calls_validator(project, dfile, dfacts, dfunc))
    })
}

/// Whether a function (or a function nested in it) calls a validator.
fn calls_validator(project: &Project, file: FileId, facts: &PyFacts, view: &FunctionFact) -> bool {
    let resolver = project.resolver();
    facts
        .calls
        .iter()
        .filter(|c| facts.scope_within(c.scope, view.scope))
        .any(|c| {
            let call = c.call();
            let name = call.callee_name().unwrap_or_default();
            if VALIDATING_CALLS.contains(&name) {
                let module = call
                    .func_name()
                    .and_then(|q| q.rsplit_once('.').map(|(m, _)| m.to_string()));
                let plain_parser = module.as_deref().is_some_and(|m| PARSERS.contains(&m));
                if !plain_parser {
                    return true;
                }
            }
            if name == "parse"
                && call.receiver().is_some_and(|r| {
                    r.reference()
                        .is_some_and(|r| r.last_name().to_ascii_lowercase().contains("parser"))
                })
            {
                return true;
            }
            validating_class(project, file, &call.func, 0)
                || resolver
                    .resolve(file, &call.func)
                    .external_name()
                    .is_some_and(|n| {
                        n == "jsonschema.validate" || n.starts_with("pydantic.TypeAdapter")
                    })
        })
}

/// Whether a function checks the type of input fields by hand and answers
/// an error when the check fails: a `raise`, an `abort(...)` or a `return
/// ..., 4xx` under an `if` whose test is an `isinstance(...)` of a field of
/// the body (`body_rest` says where a reference points into the body).
fn checks_by_hand(facts: &PyFacts, func: &FunctionFact, body_rest: BodyRest) -> bool {
    let within = |s| facts.scope_within(s, func.scope);
    let checked = |guard| {
        facts
            .guards_of(guard)
            .iter()
            .any(|g| type_check_failed(&g.test, g.negated, body_rest, 0))
    };
    let raises = facts
        .raises
        .iter()
        .filter(|r| r.kind == RaiseKind::Raise && within(r.scope))
        .any(|r| checked(r.guard));
    let aborts = facts
        .calls
        .iter()
        .filter(|c| within(c.scope) && c.call().last_name() == Some("abort"))
        .any(|c| checked(c.guard));
    let client_errors = func.returns.iter().enumerate().any(|(i, r)| {
        r.as_seq().is_some_and(|items| {
            items
                .get(1)
                .is_some_and(|s| matches!(s.kind, Kind::Int(400..=499)))
        }) && checked(func.return_guards.get(i).copied().unwrap_or(0))
    });
    raises || aborts || client_errors
}

/// Whether a test, when it holds (`negated`: when it fails), says a field of
/// the body has the wrong type: `not isinstance(body["n"], int)`, also
/// inside `or` / `and`, or the `else` of `isinstance(...)`.
fn type_check_failed(test: &Value, negated: bool, body_rest: BodyRest, depth: usize) -> bool {
    if depth > 8 {
        return false;
    }
    match &test.kind {
        Kind::Not(inner) => type_check_failed(inner, !negated, body_rest, depth + 1),
        Kind::Or(parts) | Kind::And(parts) => parts
            .iter()
            .any(|p| type_check_failed(p, negated, body_rest, depth + 1)),
        Kind::Call(c) => {
            negated
                && c.func_name().as_deref() == Some("isinstance")
                && c.arg(0).is_some_and(|a| field_of(a, body_rest, 0))
        }
        _ => false,
    }
}

/// Where a reference points into the request body: the attributes after the
/// body (`[]` for the body itself, `["get"]` for `request.json.get`), or None
/// when it is not the body.
type BodyRest<'a> = &'a dyn Fn(&crate::python::value::Ref) -> Option<Vec<String>>;

/// [`BodyRest`] for the request: `request.json`, `request.form`,
/// `request.get_json()` (and what a call of it made).
fn request_body_rest(r: &crate::python::value::Ref) -> Option<Vec<String>> {
    let split = |rest: &str| -> Vec<String> {
        rest.split('.')
            .filter(|p| !p.is_empty())
            .map(str::to_string)
            .collect()
    };
    match &r.root {
        Root::Obj { ctor, .. } => body_path(ctor)
            .filter(|rest| rest.is_empty())
            .map(|_| r.attrs.iter().map(|a| a.to_string()).collect()),
        Root::Global(_) => body_path(&r.qualified()?).map(split),
        _ => None,
    }
}

/// The whole request body: `request.json`, `request.form`, `request.get_json()`.
fn is_whole_body(v: &Value) -> bool {
    let body = |q: &str| body_path(q).is_some_and(|rest| rest.is_empty());
    match &v.kind {
        Kind::Call(c) => c.func_name().is_some_and(|q| body(&q)),
        Kind::Ref(_) => v.qualified().is_some_and(|q| body(&q)),
        _ => false,
    }
}

/// What follows the body in a dotted request name (`""` for `request.json`,
/// `".get"` for `request.form.get`).
fn body_path(q: &str) -> Option<&str> {
    crate::python::REQUEST_OBJECTS.iter().find_map(|o| {
        let rest = q.strip_prefix(o)?;
        [".json", ".form", ".get_json"]
            .iter()
            .find_map(|b| rest.strip_prefix(b))
            .filter(|r| r.is_empty() || r.starts_with('.'))
    })
}

const FIELD_METHODS: &[&str] = &["get", "pop", "getlist"];

/// The body or a value in it (`body["n"]`, `request.json.get("n")`).
fn from_body(v: &Value, body_rest: BodyRest, depth: usize) -> bool {
    if depth > 8 {
        return false;
    }
    match &v.kind {
        Kind::Ref(r) => body_rest(r).is_some(),
        Kind::Or(parts) => parts.iter().any(|p| from_body(p, body_rest, depth + 1)),
        Kind::Call(c) if matches!(c.func.kind, Kind::Ref(_)) => {
            c.func_ref().and_then(body_rest).is_some_and(|rest| {
                rest.is_empty() || rest.iter().all(|a| a == "get_json") || field_method(&rest)
            })
        }
        _ => field_of(v, body_rest, depth),
    }
}

fn field_method(rest: &[String]) -> bool {
    rest.last()
        .is_some_and(|m| FIELD_METHODS.contains(&m.as_str()))
}

/// A field of the body, not the body itself: `body["days"]`,
/// `request.json.get("days")`, `data.get("days")`.
fn field_of(v: &Value, body_rest: BodyRest, depth: usize) -> bool {
    if depth > 8 {
        return false;
    }
    match &v.kind {
        Kind::Subscript(base, _) => from_body(base, body_rest, depth + 1),
        Kind::Or(parts) => parts.iter().any(|p| field_of(p, body_rest, depth + 1)),
        Kind::Call(c) => match &c.func.kind {
            Kind::Attr(base, m) if FIELD_METHODS.contains(&m.as_str()) => {
                from_body(base, body_rest, depth + 1)
            }
            Kind::Ref(r) => body_rest(r).is_some_and(|rest| field_method(&rest)),
            _ => false,
        },
        _ => false,
    }
}

/// Whether the view hands the whole body to a project function (or a class's
/// method: `Alert.parse(request.json)`) that validates it: calls a validator,
/// or checks its types by hand and answers an error (see [`checks_by_hand`]).
fn body_given_to_validating_helper(
    project: &Project,
    file: FileId,
    facts: &PyFacts,
    view: &FunctionFact,
) -> bool {
    let resolver = project.resolver();
    facts
        .calls
        .iter()
        .filter(|c| facts.scope_within(c.scope, view.scope))
        .any(|c| {
            let call = c.call();
            let Some(pos) = call.args.iter().position(is_whole_body) else {
                return false;
            };
            let r = resolver.resolve(file, &call.func);
            let q = match (&r.target, r.attrs.as_slice()) {
                (Target::Function(q), []) => q.clone(),
                (Target::Class(q), [m]) => format!("{q}.{m}"),
                _ => return false,
            };
            let Some((hfile, helper)) = resolver.function(&q) else {
                return false;
            };
            if helper.qualified == view.qualified {
                return false;
            }
            let Some(hfacts) = resolver.facts(hfile) else {
                return false;
            };
            // `self` / `cls` come first in methods (not in static methods).
            let skip = usize::from(
                helper.method_of.is_some()
                    && helper
                        .params
                        .first()
                        .is_some_and(|p| matches!(p.name.as_str(), "self" | "cls")),
            );
            let Some(param) = helper.params.get(pos + skip) else {
                return false;
            };
            let param_rest = |r: &crate::python::value::Ref| -> Option<Vec<String>> {
                matches!(&r.root, Root::Param { func, name, .. }
                    if *func == helper.qualified && *name == param.name)
                .then(|| r.attrs.iter().map(|a| a.to_string()).collect())
            };
            calls_validator(project, hfile, hfacts, helper)
                || checks_by_hand(hfacts, helper, &param_rest)
        })
}

/// Whether a value is a class (of the project or a library) that validates
/// what it is built from: a pydantic model, a marshmallow schema, a WTForms form.
fn validating_class(project: &Project, file: FileId, v: &Value, depth: usize) -> bool {
    if depth > 6 {
        return false;
    }
    let resolver = project.resolver();
    let r = resolver.resolve(file, v);
    match &r.target {
        Target::Class(q) if r.attrs.is_empty() => {
            let Some((cfile, class)) = resolver.class(q) else {
                return false;
            };
            class
                .bases
                .iter()
                .any(|b| validating_class(project, cfile, b, depth + 1))
        }
        Target::External(_) => r
            .external_name()
            .is_some_and(|n| VALIDATING_BASES.contains(&n.as_str())),
        // `ma.Schema` where `ma = Marshmallow(app)` (flask-marshmallow).
        Target::Object(site) => {
            r.attrs.last().is_some_and(|a| a.ends_with("Schema"))
                && resolver
                    .call(*site)
                    .and_then(|c| resolver.resolve(site.file, &c.call().func).external_name())
                    .is_some_and(|n| n.starts_with("flask_marshmallow"))
        }
        _ => false,
    }
}

/// `ns.payload` / `api.payload` / `self.api.payload` in a resource's method:
/// the JSON body, as Flask-RESTX parses it.
fn payload_reads(
    project: &Project,
    file: FileId,
    facts: &PyFacts,
    view: &FunctionFact,
) -> Vec<(Span, &'static str)> {
    let mut out = Vec::new();
    let values = facts
        .assigns
        .iter()
        .filter(|a| facts.scope_within(a.scope, view.scope))
        .map(|a| &a.value)
        .chain(
            facts
                .calls
                .iter()
                .filter(|c| facts.scope_within(c.scope, view.scope))
                .map(|c| &c.value),
        )
        .chain(view.returns.iter());
    for v in values {
        v.walk(&mut |x| {
            let Kind::Ref(r) = &x.kind else { return };
            if is_restx_payload(project, file, r) {
                out.push((Span::new(file, x.range), "payload"));
            }
        });
    }
    out
}

/// Whether a Flask-RESTX `@ns.expect(model)` validates the body: with
/// `validate=True`, or when its namespace or an `Api` is created with
/// `validate=True`, or the app sets `RESTX_VALIDATE`. An `expect` of something else still counts.
fn restx_expect_validates(project: &Project, route: &Route, d: &Decorator) -> bool {
    let Some(call) = d.value.as_call() else {
        return true;
    };
    let file = d.span.file;
    let Some((owner_file, owner)) = call
        .receiver()
        .and_then(|recv| restx_object(project, file, &recv))
    else {
        return true;
    };
    let resolver = project.resolver();
    let truthy = |f: FileId, v: &Value| resolver.deref(f, v).1.truthy() == Some(true);
    if let Some(v) = call.kwarg("validate") {
        return truthy(file, v);
    }
    if let Some(v) = owner.call().kwarg("validate") {
        return truthy(owner_file, v);
    }
    let api_validates = project
        .calls_named(&["Api"])
        .into_iter()
        .any(|(f, _, c)| c.call().kwarg("validate").is_some_and(|v| truthy(f, v)));
    let config_validates = project
        .apps
        .iter()
        .filter(|a| route.app.is_none() || route.app == Some(a.id))
        .filter_map(|a| {
            a.config
                .get("RESTX_VALIDATE")
                .or_else(|| a.config.get("RESTPLUS_VALIDATE"))
        })
        .any(|e| truthy(e.file, &e.value));
    api_validates || config_validates
}
