//! INP002: JSON request bodies checked against JSON Schemas before the app sees
//! them (`[shield.schema]`).
//!
//! Schemas come from schema files named per route, then from an OpenAPI 3.0/3.1
//! document, JSON or YAML by its file name (each operation's `application/json` request body). The first entry
//! whose routes match the request decides:
//!
//! - a request without a body, where the entry requires one: 422;
//! - a body that is not declared JSON, where the entry takes only JSON: 415;
//! - a JSON body that does not parse: 400 (INP001 usually answered already);
//! - a body that does not match: 422 with up to five errors, each a JSON pointer
//!   into the body and what is wrong (values cut short).
//!
//! In `report` mode the same findings go to the audit log and the request passes.
//! Only methods that carry a body by design are checked (not GET, HEAD, OPTIONS,
//! TRACE, CONNECT), so CORS preflights and reads never meet a schema. A body with a
//! `Content-Encoding` is passed unchecked (the app may decompress it).
//!
//! OpenAPI specifics: 3.0 documents validate as JSON Schema draft 4, 3.1 as
//! 2020-12, and `nullable: true` is rewritten to allow `null` in both. `format` is not
//! asserted (pydantic accepts date-times without a zone, which RFC 3339 does
//! not), and a property marked `readOnly` is not required in a request (the
//! OpenAPI rule). References stay inside the document: nothing is fetched.

use std::{path::Path, sync::Arc};

use http::{request, Method, StatusCode};
use serde_json::{Map, Value};

use crate::{
    config::{ConfigError, SchemaMode, SchemaSettings},
    context::{BodyView, Context},
    layer::{Flow, RequestLayer},
    layers::json_body::{declares_json, has_body},
    reply::Rejection,
    route::RouteSet,
};

pub const CONTROL: &str = "INP002";

/// Errors shown per refused body, and the longest text of one.
const MAX_ERRORS: usize = 5;
const MAX_ERROR_CHARS: usize = 160;

/// One schema and the routes it applies to.
struct Entry {
    routes: RouteSet,
    validator: Arc<jsonschema::Validator>,
    /// A request without a body is refused.
    required: bool,
    /// Only JSON bodies are accepted.
    json_only: bool,
    /// Where the schema came from, for the audit log.
    source: String,
}

impl std::fmt::Debug for Entry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Entry")
            .field("source", &self.source)
            .finish()
    }
}

/// The INP002 layer.
#[derive(Debug)]
pub struct SchemaCheck {
    entries: Vec<Entry>,
    limit: usize,
    report_only: bool,
}

/// Methods whose requests never meet a schema.
fn bodiless(m: &Method) -> bool {
    matches!(
        *m,
        Method::GET | Method::HEAD | Method::OPTIONS | Method::TRACE | Method::CONNECT
    )
}

fn read_text(path: &Path, key: &str) -> Result<String, ConfigError> {
    std::fs::read_to_string(path)
        .map_err(|e| ConfigError::new(key, format!("cannot read {}: {e}", path.display())))
}

fn read_json(path: &Path, key: &str) -> Result<Value, ConfigError> {
    serde_json::from_str(&read_text(path, key)?)
        .map_err(|e| ConfigError::new(key, format!("{} is not JSON: {e}", path.display())))
}

/// An OpenAPI document: JSON, or YAML when the file is named `.yaml`/`.yml`.
fn read_document(path: &Path, key: &str) -> Result<Value, ConfigError> {
    let yaml = path
        .extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| e.eq_ignore_ascii_case("yaml") || e.eq_ignore_ascii_case("yml"));
    if !yaml {
        return read_json(path, key);
    }
    let text = read_text(path, key)?;
    let bad = |why: String| ConfigError::new(key, format!("{}: {why}", path.display()));
    let docs =
        yaml_rust2::YamlLoader::load_from_str(&text).map_err(|e| bad(format!("not YAML: {e}")))?;
    let [doc] = docs.as_slice() else {
        return Err(bad(format!("{} YAML documents, expected one", docs.len())));
    };
    yaml_to_json(doc, 0).map_err(bad)
}

/// A YAML value as JSON (string keys; numbers, booleans and null as such).
fn yaml_to_json(y: &yaml_rust2::Yaml, depth: usize) -> Result<Value, String> {
    use yaml_rust2::Yaml;
    if depth > 256 {
        return Err("nested too deeply".into());
    }
    Ok(match y {
        Yaml::Null => Value::Null,
        Yaml::Boolean(b) => Value::Bool(*b),
        Yaml::Integer(i) => Value::from(*i),
        Yaml::Real(r) => r
            .parse::<f64>()
            .ok()
            .and_then(serde_json::Number::from_f64)
            .map(Value::Number)
            .ok_or_else(|| format!("`{r}` is not a JSON number"))?,
        Yaml::String(s) => Value::String(s.clone()),
        Yaml::Array(items) => Value::Array(
            items
                .iter()
                .map(|i| yaml_to_json(i, depth + 1))
                .collect::<Result<_, _>>()?,
        ),
        Yaml::Hash(h) => {
            let mut m = Map::new();
            for (k, v) in h {
                let key = match k {
                    Yaml::String(s) => s.clone(),
                    Yaml::Integer(i) => i.to_string(),
                    Yaml::Boolean(b) => b.to_string(),
                    Yaml::Real(r) => r.clone(),
                    _ => return Err("a mapping key that is not a string".into()),
                };
                m.insert(key, yaml_to_json(v, depth + 1)?);
            }
            Value::Object(m)
        }
        Yaml::Alias(_) | Yaml::BadValue => {
            return Err("an alias or a value YAML cannot read".into())
        }
    })
}

fn compile(
    schema: &Value,
    draft: Option<jsonschema::Draft>,
    key: &str,
    what: &str,
) -> Result<jsonschema::Validator, ConfigError> {
    let mut options = jsonschema::options();
    if let Some(d) = draft {
        options.with_draft(d).should_validate_formats(false);
    }
    options
        .build(schema)
        .map_err(|e| ConfigError::new(key, format!("{what}: not a usable JSON Schema: {e}")))
}

impl SchemaCheck {
    /// None when no schema is configured (the layer is left out).
    pub fn new(cfg: &SchemaSettings, max_body: u64) -> Result<Option<SchemaCheck>, ConfigError> {
        let mut entries = Vec::new();
        for (i, r) in cfg.routes.iter().enumerate() {
            let key = format!("shield.schema.routes[{i}]");
            if r.routes.is_empty() {
                return Err(ConfigError::new(
                    format!("{key}.routes"),
                    "names no route (e.g. routes = [\"POST /api/orders\"])",
                ));
            }
            let routes = RouteSet::new(&r.routes)
                .map_err(|(j, m)| ConfigError::new(format!("{key}.routes[{j}]"), m))?;
            let schema_key = format!("{key}.schema");
            let schema = read_json(&r.schema, &schema_key)?;
            let validator = compile(&schema, None, &schema_key, &r.schema.display().to_string())?;
            entries.push(Entry {
                routes,
                validator: Arc::new(validator),
                required: r.required,
                json_only: true,
                source: r.schema.display().to_string(),
            });
        }
        if let Some(path) = &cfg.openapi {
            let key = "shield.schema.openapi";
            let doc = read_document(path, key)?;
            let (ops, skipped) = openapi_entries(doc, &path.display().to_string(), key)?;
            for s in skipped {
                eprintln!("flaskguard shield: warning: {key}: {s}");
            }
            if ops.is_empty() {
                eprintln!(
                    "flaskguard shield: warning: {key}: {} has no operation with a JSON request body; nothing is checked from it",
                    path.display()
                );
            }
            entries.extend(ops);
        }
        if entries.is_empty() {
            return Ok(None);
        }
        Ok(Some(SchemaCheck {
            entries,
            limit: usize::try_from(max_body).unwrap_or(usize::MAX),
            report_only: cfg.mode == SchemaMode::Report,
        }))
    }

    fn refuse(&self, cx: &mut Context, rejection: Rejection) -> Flow {
        if self.report_only {
            cx.note(CONTROL, "report", rejection.reason.into_owned());
            Flow::Continue
        } else {
            Flow::Reject(rejection)
        }
    }
}

impl RequestLayer for SchemaCheck {
    fn name(&self) -> &'static str {
        "schema"
    }

    fn check(&self, head: &mut request::Parts, cx: &mut Context) -> Flow {
        if bodiless(&head.method) {
            return Flow::Continue;
        }
        let Some(entry) = self
            .entries
            .iter()
            .find(|e| e.routes.matches(&head.method, head.uri.path()))
        else {
            return Flow::Continue;
        };
        if !has_body(&head.headers) {
            if !entry.required {
                return Flow::Continue;
            }
            return self.refuse(
                cx,
                Rejection::new(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    "body_required",
                    "this request needs a JSON body",
                    CONTROL,
                    format!("no body where {} requires one", entry.source),
                ),
            );
        }
        if !declares_json(&head.headers) {
            if !entry.json_only {
                return Flow::Continue;
            }
            let declared = head
                .headers
                .get(http::header::CONTENT_TYPE)
                .and_then(|v| v.to_str().ok())
                .unwrap_or("none")
                .chars()
                .take(80)
                .collect::<String>();
            return self.refuse(
                cx,
                Rejection::new(
                    StatusCode::UNSUPPORTED_MEDIA_TYPE,
                    "unsupported_media_type",
                    "this request's body must be JSON (Content-Type: application/json)",
                    CONTROL,
                    format!("body of type {declared} where {} takes JSON", entry.source),
                ),
            );
        }
        if head
            .headers
            .get(http::header::CONTENT_ENCODING)
            .is_some_and(|v| !v.as_bytes().eq_ignore_ascii_case(b"identity"))
        {
            return Flow::Continue;
        }
        let body = match &cx.body {
            BodyView::NotRead => return Flow::NeedBody { limit: self.limit },
            // The pipeline answers 413 for a body over the limit.
            BodyView::TooLarge => return Flow::Continue,
            BodyView::Buffered(b) => b,
        };
        let text = body.strip_prefix(b"\xef\xbb\xbf").unwrap_or(body);
        let value: Value = match serde_json::from_slice(text) {
            Ok(v) => v,
            Err(e) => {
                let r = Rejection::new(
                    StatusCode::BAD_REQUEST,
                    "invalid_json",
                    format!("the request body is not standard JSON: {e}"),
                    CONTROL,
                    format!("unparsable JSON body ({} bytes): {e}", body.len()),
                );
                return self.refuse(cx, r);
            }
        };
        let errors: Vec<String> = entry
            .validator
            .iter_errors(&value)
            .take(MAX_ERRORS)
            .map(|e| {
                let at = e.instance_path.to_string();
                let what = cut(&e.to_string());
                if at.is_empty() {
                    what
                } else {
                    format!("{at}: {what}")
                }
            })
            .collect();
        if errors.is_empty() {
            return Flow::Continue;
        }
        let list = errors.join("; ");
        let r = Rejection::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_body",
            format!("the request body does not match its schema: {list}"),
            CONTROL,
            format!("body does not match {}: {list}", entry.source),
        );
        self.refuse(cx, r)
    }
}

/// `s` cut to [`MAX_ERROR_CHARS`] characters (an error may quote a long value).
fn cut(s: &str) -> String {
    if s.chars().count() <= MAX_ERROR_CHARS {
        return s.to_string();
    }
    let mut out: String = s.chars().take(MAX_ERROR_CHARS).collect();
    out.push('…');
    out
}

/// The HTTP methods an OpenAPI path item may describe.
const OPENAPI_METHODS: [&str; 6] = ["post", "put", "patch", "delete", "get", "query"];

/// The entries of an OpenAPI document, and what was skipped (with why).
fn openapi_entries(
    mut doc: Value,
    file: &str,
    key: &str,
) -> Result<(Vec<Entry>, Vec<String>), ConfigError> {
    let version = doc
        .get("openapi")
        .and_then(Value::as_str)
        .map(str::to_string);
    let draft = match version.as_deref() {
        Some(v) if v.starts_with("3.0") => jsonschema::Draft::Draft4,
        Some(v) if v.starts_with("3.1") => jsonschema::Draft::Draft202012,
        Some(v) => {
            return Err(ConfigError::new(
                key,
                format!("{file}: OpenAPI {v} is not supported (3.0 and 3.1 are)"),
            ))
        }
        None if doc.get("swagger").is_some() => {
            return Err(ConfigError::new(
                key,
                format!("{file}: Swagger 2.0 is not supported; convert it to OpenAPI 3"),
            ))
        }
        None => {
            return Err(ConfigError::new(
                key,
                format!("{file}: not an OpenAPI document (no `openapi` version)"),
            ))
        }
    };
    // 3.1 has no `nullable`, but generators still write it: honoured in both.
    allow_nullable(&mut doc, 0);
    let base = base_path(&doc);
    let components = doc.get("components").cloned();
    let mut entries = Vec::new();
    let mut skipped = Vec::new();
    let Some(paths) = doc.get("paths").and_then(Value::as_object) else {
        return Ok((entries, skipped));
    };
    for (template, item) in paths {
        for method in OPENAPI_METHODS {
            let Some(op) = item.get(method) else {
                continue;
            };
            let name = format!("{} {template}", method.to_ascii_uppercase());
            let Some(body) = op.get("requestBody").map(|b| follow(&doc, b)) else {
                continue;
            };
            let Some(content) = body.get("content").and_then(Value::as_object) else {
                continue;
            };
            let json_types: Vec<&String> = content.keys().filter(|t| json_media_type(t)).collect();
            let Some(media) = json_types
                .iter()
                .find(|t| t.eq_ignore_ascii_case("application/json"))
                .or(json_types.first())
            else {
                continue;
            };
            if bodiless(
                &Method::from_bytes(method.to_ascii_uppercase().as_bytes()).unwrap_or(Method::GET),
            ) {
                skipped.push(format!(
                    "{name}: a request body on {} is not checked",
                    method.to_ascii_uppercase()
                ));
                continue;
            }
            let pattern = match route_pattern(&base, template) {
                Ok(p) => format!("{} {p}", method.to_ascii_uppercase()),
                Err(why) => {
                    skipped.push(format!("{name} skipped: {why}"));
                    continue;
                }
            };
            let routes = match RouteSet::new(&[pattern]) {
                Ok(r) => r,
                Err((_, why)) => {
                    skipped.push(format!("{name} skipped: {why}"));
                    continue;
                }
            };
            let mut schema = content[media.as_str()]
                .get("schema")
                .map(|s| follow(&doc, s).clone())
                .unwrap_or(Value::Bool(true));
            drop_read_only_required(&mut schema, &doc, 0);
            if let (Value::Object(m), Some(c)) = (&mut schema, &components) {
                m.entry("components").or_insert_with(|| c.clone());
            }
            let validator = compile(&schema, Some(draft), key, &format!("{file}: {name}"))?;
            entries.push(Entry {
                routes,
                validator: Arc::new(validator),
                required: body
                    .get("required")
                    .and_then(Value::as_bool)
                    .unwrap_or(false),
                json_only: json_types.len() == content.len(),
                source: format!("{file} {name}"),
            });
        }
    }
    // Literal paths before templated ones (`/orders/export` before `/orders/{id}`).
    entries.sort_by_key(|e| e.source.matches('{').count());
    Ok((entries, skipped))
}

fn json_media_type(t: &str) -> bool {
    let mime = t
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    mime == "application/json" || mime.ends_with("+json")
}

/// A `$ref` inside the document, followed (a few hops at most); anything else as is.
fn follow<'a>(doc: &'a Value, mut v: &'a Value) -> &'a Value {
    for _ in 0..8 {
        let Some(r) = v.get("$ref").and_then(Value::as_str) else {
            break;
        };
        let Some(target) = r.strip_prefix('#').and_then(|p| doc.pointer(p)) else {
            break;
        };
        v = target;
    }
    v
}

/// The path of the first server URL (`https://api.example.com/v1` → `/v1`).
fn base_path(doc: &Value) -> String {
    let url = doc
        .pointer("/servers/0/url")
        .and_then(Value::as_str)
        .unwrap_or("");
    let path = match url.find("://") {
        Some(i) => url[i + 3..].find('/').map_or("", |j| &url[i + 3 + j..]),
        None => url,
    };
    let path = path.split(['?', '#']).next().unwrap_or("");
    if path.starts_with('/') && !path.contains('{') {
        path.trim_end_matches('/').to_string()
    } else {
        String::new()
    }
}

/// An OpenAPI path template as a route pattern: `{any name}` → `{p}`.
fn route_pattern(base: &str, template: &str) -> Result<String, String> {
    if !template.starts_with('/') {
        return Err(format!("`{template}` does not start with `/`"));
    }
    let mut out = String::from(base);
    for seg in template[1..].split('/') {
        out.push('/');
        if seg.starts_with('{') && seg.ends_with('}') && seg.matches('{').count() == 1 {
            out.push_str("{p}");
        } else if seg.contains('{') || seg.contains('}') {
            return Err(format!("`{seg}`: a parameter that is part of a segment"));
        } else {
            out.push_str(seg);
        }
    }
    Ok(out)
}

/// OpenAPI 3.0's `nullable: true` as JSON Schema: `null` added to the type (or
/// to the enum), or the schema wrapped in `anyOf [schema, null]`.
fn allow_nullable(v: &mut Value, depth: usize) {
    if depth > 256 {
        return;
    }
    match v {
        Value::Array(items) => items.iter_mut().for_each(|i| allow_nullable(i, depth + 1)),
        Value::Object(m) => {
            m.values_mut().for_each(|i| allow_nullable(i, depth + 1));
            if m.get("nullable") != Some(&Value::Bool(true)) {
                return;
            }
            m.remove("nullable");
            if let Some(Value::Array(e)) = m.get_mut("enum") {
                if !e.contains(&Value::Null) {
                    e.push(Value::Null);
                }
            }
            match m.get_mut("type") {
                Some(Value::String(t)) => {
                    let t = std::mem::take(t);
                    m.insert("type".into(), Value::Array(vec![t.into(), "null".into()]));
                }
                Some(Value::Array(ts)) => {
                    if !ts.contains(&Value::from("null")) {
                        ts.push("null".into());
                    }
                }
                _ => {
                    let inner = std::mem::take(m);
                    let mut null = Map::new();
                    null.insert("type".into(), "null".into());
                    m.insert(
                        "anyOf".into(),
                        Value::Array(vec![Value::Object(inner), Value::Object(null)]),
                    );
                }
            }
        }
        _ => {}
    }
}

/// Takes out of `required` the properties marked `readOnly` (OpenAPI: required
/// only in responses), in this schema and the schemas inside it.
fn drop_read_only_required(v: &mut Value, doc: &Value, depth: usize) {
    if depth > 64 {
        return;
    }
    match v {
        Value::Array(items) => items
            .iter_mut()
            .for_each(|i| drop_read_only_required(i, doc, depth + 1)),
        Value::Object(m) => {
            let read_only: Vec<String> = m
                .get("properties")
                .and_then(Value::as_object)
                .map(|p| {
                    p.iter()
                        .filter(|(_, s)| follow(doc, s).get("readOnly") == Some(&Value::Bool(true)))
                        .map(|(k, _)| k.clone())
                        .collect()
                })
                .unwrap_or_default();
            if !read_only.is_empty() {
                if let Some(Value::Array(req)) = m.get_mut("required") {
                    req.retain(|r| r.as_str().is_none_or(|r| !read_only.iter().any(|x| x == r)));
                }
            }
            m.values_mut()
                .for_each(|i| drop_read_only_required(i, doc, depth + 1));
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(
        layer: &SchemaCheck,
        method: &str,
        path: &str,
        ct: Option<&str>,
        body: &[u8],
    ) -> (Option<u16>, Vec<String>) {
        let mut b = http::Request::builder().method(method).uri(path);
        if let Some(ct) = ct {
            b = b.header("content-type", ct);
        }
        if !body.is_empty() {
            b = b.header("content-length", body.len().to_string());
        }
        let (mut head, ()) = b.body(()).unwrap().into_parts();
        let mut cx = Context::for_test(head.method.clone());
        loop {
            match layer.check(&mut head, &mut cx) {
                Flow::Continue => {
                    return (None, cx.events.iter().map(|n| n.reason.clone()).collect())
                }
                Flow::Reject(r) => return (Some(r.status.as_u16()), vec![r.message.into_owned()]),
                Flow::NeedBody { .. } => {
                    cx.body = BodyView::Buffered(bytes::Bytes::copy_from_slice(body));
                }
                Flow::Wait(_) => panic!("no waiting here"),
            }
        }
    }

    fn openapi_layer(doc: Value, mode: SchemaMode) -> SchemaCheck {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("openapi.json");
        std::fs::write(&path, doc.to_string()).unwrap();
        let cfg = SchemaSettings {
            openapi: Some(path),
            mode,
            ..SchemaSettings::default()
        };
        SchemaCheck::new(&cfg, 1 << 20).unwrap().unwrap()
    }

    fn orders_doc(version: &str) -> Value {
        serde_json::json!({
            "openapi": version,
            "servers": [{"url": "https://api.example.com/v1/"}],
            "paths": {
                "/orders": {
                    "post": {"requestBody": {"required": true, "content": {"application/json": {
                        "schema": {"$ref": "#/components/schemas/Order"}}}}},
                    "get": {}
                },
                "/orders/{order-id}": {
                    "patch": {"requestBody": {"$ref": "#/components/requestBodies/Patch"}}
                },
                "/files/{name}.json": {
                    "put": {"requestBody": {"content": {"application/json": {"schema": {}}}}}
                }
            },
            "components": {
                "requestBodies": {"Patch": {"content": {"application/json": {"schema": {
                    "type": "object",
                    "properties": {"note": {"type": "string", "nullable": true}},
                    "additionalProperties": false}}}}},
                "schemas": {"Order": {
                    "type": "object",
                    "required": ["id", "sku", "qty"],
                    "properties": {
                        "id": {"type": "integer", "readOnly": true},
                        "sku": {"type": "string", "maxLength": 12},
                        "qty": {"type": "integer", "minimum": 1},
                        "placed": {"type": "string", "format": "date-time"}
                    }}}
            }
        })
    }

    #[test]
    fn an_openapi_document_is_enforced_per_operation() {
        for version in ["3.0.3", "3.1.0"] {
            let l = openapi_layer(orders_doc(version), SchemaMode::Enforce);
            let json = Some("application/json");
            let ok = br#"{"sku": "A1", "qty": 2, "placed": "2024-01-01T10:00:00"}"#;
            assert_eq!(
                check(&l, "POST", "/v1/orders", json, ok).0,
                None,
                "{version}"
            );
            // Outside the server's base path: not this API's route.
            assert_eq!(check(&l, "POST", "/orders", json, b"{}").0, None);
            let (status, msg) = check(
                &l,
                "POST",
                "/v1/orders",
                json,
                br#"{"sku": "A1", "qty": 0}"#,
            );
            assert_eq!(status, Some(422), "{version}");
            assert!(msg[0].contains("/qty"), "{msg:?}");
            let long = format!(r#"{{"sku": "{}", "qty": 1}}"#, "x".repeat(5000));
            let (status, msg) = check(&l, "POST", "/v1/orders", json, long.as_bytes());
            assert_eq!(status, Some(422));
            assert!(msg[0].len() < 600, "values are cut short: {}", msg[0].len());
            assert_eq!(
                check(&l, "POST", "/v1/orders", None, b"").0,
                Some(422),
                "required body"
            );
            assert_eq!(
                check(&l, "POST", "/v1/orders", Some("text/plain"), b"x").0,
                Some(415)
            );
            assert_eq!(
                check(&l, "POST", "/v1/orders", json, b"{\"sku\": ").0,
                Some(400)
            );
            // A referenced request body, a nullable property, a templated path.
            assert_eq!(
                check(&l, "PATCH", "/v1/orders/7", json, br#"{"note": null}"#).0,
                None,
                "{version}"
            );
            assert_eq!(
                check(&l, "PATCH", "/v1/orders/7", json, br#"{"x": 1}"#).0,
                Some(422)
            );
            assert_eq!(
                check(&l, "PATCH", "/v1/orders/7", None, b"").0,
                None,
                "body optional"
            );
            // Reads and unknown routes pass.
            assert_eq!(check(&l, "GET", "/v1/orders", None, b"").0, None);
            assert_eq!(check(&l, "OPTIONS", "/v1/orders", None, b"").0, None);
            assert_eq!(check(&l, "POST", "/v1/other", json, b"[]").0, None);
        }
    }

    #[test]
    fn report_mode_notes_and_passes() {
        let l = openapi_layer(orders_doc("3.1.0"), SchemaMode::Report);
        let (status, notes) = check(
            &l,
            "POST",
            "/v1/orders",
            Some("application/json"),
            br#"{"qty": "2"}"#,
        );
        assert_eq!(status, None);
        assert!(
            notes.iter().any(|n| n.contains("does not match")),
            "{notes:?}"
        );
    }

    #[test]
    fn route_schema_files_come_first_and_errors_name_the_key() {
        let dir = tempfile::tempdir().unwrap();
        let schema = dir.path().join("order.json");
        std::fs::write(&schema, r#"{"type": "object", "required": ["sku"]}"#).unwrap();
        let cfg = SchemaSettings {
            routes: vec![crate::config::RouteSchema {
                routes: vec!["POST /api/orders".into()],
                schema: schema.clone(),
                required: true,
            }],
            ..SchemaSettings::default()
        };
        let l = SchemaCheck::new(&cfg, 1 << 20).unwrap().unwrap();
        let json = Some("application/json");
        assert_eq!(
            check(&l, "POST", "/api/orders", json, br#"{"sku": "a"}"#).0,
            None
        );
        assert_eq!(
            check(&l, "POST", "/api/orders", json, br#"{}"#).0,
            Some(422)
        );

        let err = |cfg: SchemaSettings| SchemaCheck::new(&cfg, 1 << 20).unwrap_err();
        let mut bad = cfg.clone();
        bad.routes[0].schema = dir.path().join("missing.json");
        assert_eq!(err(bad).key, "shield.schema.routes[0].schema");
        std::fs::write(&schema, "type: object").unwrap();
        let e = err(cfg.clone());
        assert_eq!(e.key, "shield.schema.routes[0].schema");
        assert!(e.message.contains("not JSON"), "{}", e.message);
        std::fs::write(&schema, r#"{"type": 12}"#).unwrap();
        assert_eq!(err(cfg.clone()).key, "shield.schema.routes[0].schema");
        std::fs::write(&schema, r#"{"$ref": "https://example.com/order.json"}"#).unwrap();
        assert_eq!(
            err(cfg.clone()).key,
            "shield.schema.routes[0].schema",
            "nothing is fetched"
        );
        let mut bad = cfg.clone();
        bad.routes[0].routes = vec!["orders".into()];
        assert_eq!(err(bad).key, "shield.schema.routes[0].routes[0]");

        let openapi = dir.path().join("openapi.json");
        for doc in [
            r#"{"swagger": "2.0"}"#,
            r#"{"openapi": "4.0"}"#,
            r#"{"paths": {}}"#,
            "[",
        ] {
            std::fs::write(&openapi, doc).unwrap();
            let cfg = SchemaSettings {
                openapi: Some(openapi.clone()),
                ..SchemaSettings::default()
            };
            assert_eq!(err(cfg).key, "shield.schema.openapi", "{doc}");
        }
        assert!(SchemaCheck::new(&SchemaSettings::default(), 1)
            .unwrap()
            .is_none());
    }

    #[test]
    fn a_yaml_document_reads_like_its_json() {
        let dir = tempfile::tempdir().unwrap();
        let yaml = dir.path().join("openapi.yaml");
        std::fs::write(
            &yaml,
            "openapi: 3.0.3\npaths:\n  /items/{id}:\n    put:\n      requestBody:\n        required: true\n        content:\n          application/json:\n            schema:\n              type: object\n              required: [name]\n              properties:\n                name: {type: string}\n                price: {type: number, minimum: 0.5, nullable: true}\n",
        )
        .unwrap();
        let cfg = SchemaSettings {
            openapi: Some(yaml.clone()),
            ..SchemaSettings::default()
        };
        let l = SchemaCheck::new(&cfg, 1 << 20).unwrap().unwrap();
        let json = Some("application/json");
        assert_eq!(
            check(
                &l,
                "PUT",
                "/items/3",
                json,
                br#"{"name": "a", "price": null}"#
            )
            .0,
            None
        );
        assert_eq!(
            check(
                &l,
                "PUT",
                "/items/3",
                json,
                br#"{"name": "a", "price": 0.1}"#
            )
            .0,
            Some(422)
        );
        assert_eq!(check(&l, "PUT", "/items/3", json, br#"{}"#).0, Some(422));
        for bad in [
            "a: [1\n",
            "--- {a: 1}\n--- {b: 2}\n",
            "openapi: 3.0.0\n? [a, b]\n: 1\n",
        ] {
            std::fs::write(&yaml, bad).unwrap();
            let e = SchemaCheck::new(&cfg, 1 << 20).unwrap_err();
            assert_eq!(e.key, "shield.schema.openapi", "{bad}");
        }
    }

    #[test]
    fn paths_and_server_bases() {
        assert_eq!(route_pattern("", "/a/{id}/b").unwrap(), "/a/{p}/b");
        assert_eq!(route_pattern("/v1", "/").unwrap(), "/v1/");
        assert!(route_pattern("", "/f/{name}.json").is_err());
        let base = |u: &str| base_path(&serde_json::json!({"servers": [{"url": u}]}));
        assert_eq!(base("https://h/v1/"), "/v1");
        assert_eq!(base("/api"), "/api");
        assert_eq!(base("https://h"), "");
        assert_eq!(base("{scheme}://h/{version}"), "");
    }
}
