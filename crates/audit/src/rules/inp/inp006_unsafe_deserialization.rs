//! INP006 `unsafe-deserialization`: pickle, marshal or unsafe YAML on request data.

use checklist::Severity;
use report::Finding;

use crate::{
    model::{flow::request_origin, Project},
    python::{
        taint::Sink,
        value::{Call, Value},
    },
    rules::{
        request_data::{callee, origin_words, pinned_version, version_below, with_origin},
        Rule, RuleContext,
    },
    source::{FileId, Span},
};

pub const RULE: Rule = Rule {
    code: "INP006",
    name: "unsafe-deserialization",
    doc: DOC,
    check,
};

const DOC: &str = r#"## What it does
Finds request data (bodies, parameters, uploaded files, cookies, followed
through base64 and decompression, local variables and helpers that receive
it) deserialized with a format that builds arbitrary objects:
`pickle.loads`/`load`/`Unpickler`, `dill`, `jsonpickle.decode`,
`marshal.loads`, `pandas.read_pickle`, `joblib.load`,
`numpy.load(allow_pickle=True)`, and PyYAML's `yaml.load` with `Loader`,
`UnsafeLoader` or `CLoader`, `yaml.unsafe_load`.

`yaml.load` without a `Loader` and with `FullLoader` depend on the version:
PyYAML before 5.4 builds Python objects there, 6.0 refuses a missing `Loader`.
They are reported when the pinned PyYAML is older than 5.4 (high) or not pinned
(medium), and silent from 5.4 on. Data checked with `itsdangerous` first
(`URLSafeSerializer(key).loads(...)`, `signer.unsign(...)`) is silent.

## Why is this bad?
Unpickling runs code by design: a pickle names any callable with any
arguments, so `pickle.loads(request.data)` is remote code execution for anyone
who can send a request. YAML tags such as `!!python/object/apply:os.system` do
the same with unsafe loaders.

## Example
```python
rows = pickle.loads(request.data)
```

Use instead:
```python
rows = ImportSchema(many=True).load(request.get_json(silent=True))
```
"#;

/// Always unsafe: (dotted callee, data parameter index, keyword).
const UNSAFE: &[(&str, usize, &str)] = &[
    ("pickle.loads", 0, "data"),
    ("pickle.load", 0, "file"),
    ("pickle.Unpickler", 0, "file"),
    ("cPickle.loads", 0, "data"),
    ("cPickle.load", 0, "file"),
    ("_pickle.loads", 0, "data"),
    ("_pickle.load", 0, "file"),
    ("dill.loads", 0, "str"),
    ("dill.load", 0, "file"),
    ("jsonpickle.decode", 0, "string"),
    ("jsonpickle.loads", 0, "string"),
    ("marshal.loads", 0, "bytes"),
    ("marshal.load", 0, "file"),
    ("pandas.read_pickle", 0, "filepath_or_buffer"),
    ("joblib.load", 0, "filename"),
    ("yaml.unsafe_load", 0, "stream"),
    ("yaml.unsafe_load_all", 0, "stream"),
];

const YAML_LOAD: &[&str] = &["yaml.load", "yaml.load_all"];
const YAML_FULL: &[&str] = &["yaml.full_load", "yaml.full_load_all"];
const SAFE_LOADERS: &[&str] = &["SafeLoader", "CSafeLoader", "BaseLoader", "CBaseLoader"];
const FULL_LOADERS: &[&str] = &["FullLoader", "CFullLoader"];

/// How unsafe a call is: always, or depending on the PyYAML version.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Danger {
    Always,
    /// FullLoader or no Loader: unsafe before PyYAML 5.4.
    OldYaml,
}

fn danger(
    project: &Project,
    file: FileId,
    name: &str,
    c: &Call,
) -> Option<(Danger, usize, &'static str)> {
    if let Some((_, i, k)) = UNSAFE.iter().find(|(n, _, _)| *n == name) {
        return Some((Danger::Always, *i, k));
    }
    if name == "numpy.load" {
        let pickles = c.kwarg("allow_pickle").and_then(Value::truthy) == Some(true);
        return pickles.then_some((Danger::Always, 0, "file"));
    }
    if YAML_FULL.contains(&name) {
        return Some((Danger::OldYaml, 0, "stream"));
    }
    if !YAML_LOAD.contains(&name) {
        return None;
    }
    let Some(loader) = c.param(1, "Loader") else {
        return Some((Danger::OldYaml, 0, "stream"));
    };
    let loader_name = project
        .resolver()
        .resolve(file, loader)
        .external_name()
        .or_else(|| loader.qualified())
        .unwrap_or_default();
    let last = loader_name.rsplit('.').next().unwrap_or("");
    if SAFE_LOADERS.contains(&last) {
        None
    } else if FULL_LOADERS.contains(&last) {
        Some((Danger::OldYaml, 0, "stream"))
    } else if loader_name.is_empty() {
        None
    } else {
        Some((Danger::Always, 0, "stream"))
    }
}

fn check(ctx: &RuleContext) -> Vec<Finding> {
    let project = ctx.project;
    let mut out = Vec::new();
    let names = [
        "loads",
        "load",
        "Unpickler",
        "decode",
        "read_pickle",
        "load_all",
        "unsafe_load",
        "unsafe_load_all",
        "full_load",
        "full_load_all",
    ];
    let yaml = pinned_version(project, "pyyaml");
    for (file, _, call) in project.calls_named(&names) {
        let Some(name) = callee(project, file, call) else {
            continue;
        };
        let c = call.call();
        let Some((danger, index, keyword)) = danger(project, file, &name, c) else {
            continue;
        };
        let severity = match (danger, &yaml) {
            (Danger::Always, _) => None,
            (Danger::OldYaml, Some(v)) if version_below(v, &[5, 4]) => None,
            (Danger::OldYaml, Some(_)) => continue,
            (Danger::OldYaml, None) => Some(Severity::Medium),
        };
        let Some(data) = c.param(index, keyword) else {
            continue;
        };
        let Some(origin) = request_origin(project, file, data, Sink::Deserialize) else {
            continue;
        };
        let span = Span::new(file, call.range());
        let mut message = format!(
            "`{name}` deserializes {}: a crafted payload runs code on the server",
            origin_words(ctx, origin)
        );
        if danger == Danger::OldYaml {
            message.push_str(match &yaml {
                Some(_) => " (PyYAML before 5.4 builds Python objects with this loader)",
                None => " (PyYAML is not pinned: before 5.4 this loader builds Python objects)",
            });
        }
        let mut f = ctx
            .finding(RULE.code, RULE.name, span, message)
            .with_evidence(ctx.snippet(span))
            .with_fix("Accept JSON (or `yaml.safe_load`) and validate it with a schema; to hand data to the client and back, sign JSON with itsdangerous instead of pickling it.");
        if let Some(s) = severity {
            f = f.with_severity(s);
        }
        out.push(with_origin(ctx, f, origin));
    }
    out
}
