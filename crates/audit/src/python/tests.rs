use super::{
    analyze, module_name,
    value::{Kind, Root},
};

fn facts(src: &str) -> super::PyFacts {
    analyze(0, src, "pkg.mod", false).expect("parses")
}

#[test]
fn imports_resolve_to_dotted_names() {
    let f = facts(
        "from flask_talisman import Talisman as T\nimport os.path\nimport flask\nfrom .config import Prod\nfrom .. import ext\nT(app)\nos.path.join('a')\nflask.Flask(__name__)\nProd()\next.x()\n",
    );
    let names: Vec<String> = f
        .calls
        .iter()
        .filter_map(|c| c.call().func_name())
        .collect();
    assert_eq!(
        names,
        [
            "flask_talisman.Talisman",
            "os.path.join",
            "flask.Flask",
            "pkg.config.Prod",
            "ext.x"
        ]
    );
    // `from .. import ext` from pkg.mod (package pkg) goes above pkg.
    assert_eq!(f.calls[4].call().func_name().as_deref(), Some("ext.x"));
}

#[test]
fn literals_fold_and_constants_substitute() {
    let f = facts(
        "KB = 1024\nMAX = 10 * KB * KB\nNAME = 'a' + 'b'\nconfigure(MAX, NAME, -3, [1, 'x'], {'k': True}, None)\n",
    );
    let call = f.calls[0].call();
    assert_eq!(call.args[0].as_int(), Some(10 * 1024 * 1024));
    assert_eq!(call.args[1].as_str(), Some("ab"));
    assert_eq!(call.args[2].as_int(), Some(-3));
    assert!(call.args[3].is_literal());
    assert_eq!(
        call.args[4].dict_get("k").and_then(|v| v.as_bool()),
        Some(true)
    );
    assert!(matches!(call.args[5].kind, Kind::None));
}

#[test]
fn objects_are_identified_by_their_creation_site() {
    let f = facts(
        "from flask import Flask\ndef create_app():\n    app = Flask(__name__)\n    app.config['DEBUG'] = True\n    return app\n",
    );
    let assign = &f
        .assigns
        .iter()
        .find(|a| matches!(a.target.kind, Kind::Subscript(..)))
        .unwrap();
    let Kind::Subscript(base, key) = &assign.target.kind else {
        unreachable!()
    };
    assert_eq!(key.as_str(), Some("DEBUG"));
    let r = base.reference().unwrap();
    assert!(matches!(&r.root, Root::Obj { ctor, .. } if ctor == "flask.Flask"));
    assert_eq!(r.attrs, ["config"]);
    let func = f.function("pkg.mod.create_app").unwrap();
    assert_eq!(
        func.returns[0].as_call().unwrap().func_name().as_deref(),
        Some("flask.Flask")
    );
}

#[test]
fn module_level_objects_are_read_by_dotted_name() {
    let f = facts("from flask import Flask\napp = Flask(__name__)\napp.run(debug=True)\n");
    let run = f
        .calls
        .iter()
        .find(|c| c.call().func_ref().is_some_and(|r| r.last_name() == "run"))
        .unwrap();
    assert_eq!(run.call().func_name().as_deref(), Some("pkg.mod.app.run"));
    assert_eq!(
        run.call().kwarg("debug").and_then(|v| v.as_bool()),
        Some(true)
    );
    assert_eq!(
        f.globals[0].value.as_call().unwrap().func_name().as_deref(),
        Some("flask.Flask")
    );
}

#[test]
fn guards_record_conditions() {
    let f = facts(
        "import os\nenv = os.environ.get('APP_ENV', 'production')\nif env == 'production':\n    a()\nelif env == 'dev':\n    b()\nelse:\n    c()\n",
    );
    let guards = |name: &str| {
        let call = f
            .calls
            .iter()
            .find(|c| c.call().func_name().as_deref() == Some(name))
            .unwrap();
        f.guards_of(call.guard)
            .iter()
            .map(|g| g.negated)
            .collect::<Vec<_>>()
    };
    assert_eq!(guards("a"), [false]);
    assert_eq!(guards("b"), [false, true]);
    assert_eq!(guards("c"), [true, true]);
}

#[test]
fn classes_keep_bases_and_attributes() {
    let f = facts(
        "class Config:\n    DEBUG = False\n    SECRET_KEY = 'x' * 2\nclass Prod(Config):\n    DEBUG = False\n",
    );
    let prod = f.class("pkg.mod.Prod").unwrap();
    assert_eq!(prod.bases[0].qualified().as_deref(), Some("pkg.mod.Config"));
    let config = f.class("pkg.mod.Config").unwrap();
    assert_eq!(
        config.attr("SECRET_KEY").unwrap().value.render(),
        "'x' ∘ 2".replace('\'', "\"")
    );
}

#[test]
fn module_names_follow_packages() {
    let pkgs = ["app", "app/api"];
    let is_pkg = |d: &str| pkgs.contains(&d);
    assert_eq!(
        module_name("app/api/views.py", is_pkg),
        ("app.api.views".into(), false)
    );
    assert_eq!(module_name("app/__init__.py", is_pkg), ("app".into(), true));
    assert_eq!(
        module_name("examples/weak/app/config.py", |d| d == "examples/weak/app"),
        ("app.config".into(), false)
    );
    assert_eq!(module_name("wsgi.py", is_pkg), ("wsgi".into(), false));
}

#[test]
fn deep_nesting_does_not_overflow() {
    let deep = format!("x = {}1{}\n", "(".repeat(5000), ")".repeat(5000));
    let _ = analyze(0, &deep, "m", false);
    let chain = format!("x = {}1\n", "1 + ".repeat(20000));
    let f = analyze(0, &chain, "m", false).unwrap();
    assert_eq!(f.assigns.len(), 1);
}

#[test]
fn return_values_keep_their_guards() {
    let f = facts("def handler(e):\n    if DEBUG:\n        return str(e)\n    return 'generic'\n");
    let func = &f.functions[0];
    assert_eq!(func.returns.len(), 2);
    assert_eq!(func.return_guards.len(), 2);
    let debug = f.guards_of(func.return_guards[0]);
    assert_eq!(debug.len(), 1);
    assert!(!debug[0].negated);
    assert!(f.guards_of(func.return_guards[1]).is_empty());
}

#[test]
fn caught_exceptions_are_recognisable_locals() {
    let f = facts(
        "def view():\n    e = 1\n    try:\n        work()\n    except (ValueError, Exception) as e:\n        return str(e)\n",
    );
    assert_eq!(f.excepts.len(), 1);
    assert_eq!(f.excepts[0].name, "e");
    assert_eq!(
        f.excepts[0]
            .types
            .as_ref()
            .and_then(|t| t.as_seq())
            .map(<[_]>::len),
        Some(2)
    );
    let ret = &f.functions[0].returns[0];
    let arg = &ret.as_call().unwrap().args[0];
    assert!(matches!(&arg.reference().unwrap().root, Root::Local(n) if n == "e"));
}

#[test]
fn request_attribute_reads_are_recorded() {
    let f = facts(
        "import flask\nfrom flask import request as rq\ndef view():\n    a = rq.json['x']\n    b = rq.get_json(silent=True)\n    c = flask.request.form.get('y')\n    d = other.json\n",
    );
    let attrs: Vec<&str> = f.request_reads.iter().map(|r| r.attr.as_str()).collect();
    assert_eq!(attrs, ["json", "get_json", "form"]);
    assert!(
        f.request_reads.iter().all(|r| r.scope != 0),
        "inside the view"
    );
}

/// The first argument of each `use(...)` call.
fn used(src: &str) -> Vec<super::value::Value> {
    facts(src)
        .calls
        .iter()
        .filter(|c| c.call().func_name().as_deref() == Some("use"))
        .filter_map(|c| c.call().arg(0).cloned())
        .collect()
}

#[test]
fn fstrings_fold_where_the_text_is_certain() {
    let v = used(
        "HOST = '0.0.0.0'\nPORT = 8000\nNAME = 'app'\nW = 4\n\
         use(f'{PORT}')\nuse(f'{PORT:d}')\nuse(f'{HOST!s}:{PORT}')\nuse(f'{NAME!r}')\n\
         use(f'{W * 2}')\nuse(f'{PORT=}')\nuse(f'{NAME!a:s}')\nuse(f'{True}/{None}')\n",
    );
    let texts: Vec<Option<&str>> = v.iter().map(super::value::Value::as_str).collect();
    assert_eq!(
        texts,
        [
            Some("8000"),
            Some("8000"),
            Some("0.0.0.0:8000"),
            Some("'app'"),
            Some("8"),
            Some("PORT=8000"),
            Some("'app'"),
            Some("True/None"),
        ]
    );
}

#[test]
fn fstring_specs_that_are_not_certain_stay_unknown() {
    use super::format::{formatted, Conversion};
    let v = used(
        "NAME = 'app'\nPORT = 8000\nRATE = 0.5\n\
         use(f'{NAME:>5}')\nuse(f'{PORT:05d}')\nuse(f'{NAME:d}')\nuse(f'{PORT:{NAME}}')\n\
         use(f'{RATE}')\nuse(f'{x!r}')\nuse(f'{x:>{PORT}}')\nuse(f'{x=}')\nuse(f'{x!s}')\n",
    );
    // No text: the spec is kept as the call Python makes.
    for (i, want) in [(0, ">5"), (1, "05d"), (2, "d"), (3, "app")] {
        let Kind::FString(parts) = &v[i].kind else {
            panic!("{i}: {:?}", v[i].kind)
        };
        let (x, conv, spec) = formatted(&parts[0]).expect("format(x, spec)");
        assert!(x.as_str().is_some() || x.as_int().is_some(), "{i}");
        assert_eq!(
            (conv, spec.and_then(super::value::Value::as_str)),
            (None, Some(want))
        );
    }
    // A float's text is Python's repr, not followed: the part stays a float.
    assert!(matches!(&v[4].kind, Kind::FString(p) if matches!(p[0].kind, Kind::Float(_))));
    let part = |i: usize| match &v[i].kind {
        Kind::FString(parts) => parts.last().cloned().unwrap(),
        other => panic!("{i}: {other:?}"),
    };
    let (x, conv, spec) = formatted(&part(5))
        .map(|(x, c, s)| (x.clone(), c, s.cloned()))
        .unwrap();
    assert!(matches!(x.kind, Kind::Ref(_)));
    assert_eq!((conv, spec), (Some(Conversion::Repr), None));
    let (_, conv, spec) = formatted(&part(6))
        .map(|(x, c, s)| (x.clone(), c, s.cloned()))
        .unwrap();
    assert_eq!(
        (conv, spec.and_then(|s| s.as_str().map(str::to_string))),
        (None, Some(">8000".into()))
    );
    // `{x=}`: the text `x=`, then repr(x).
    let Kind::FString(parts) = &v[7].kind else {
        panic!()
    };
    assert_eq!(parts[0].as_str(), Some("x="));
    assert_eq!(
        formatted(&parts[1]).map(|(_, c, _)| c),
        Some(Some(Conversion::Repr))
    );
    // `{x!s}` is `x` itself.
    assert!(matches!(&part(8).kind, Kind::Ref(_)));
}

#[test]
fn percent_formatting_folds_where_the_text_is_certain() {
    let v = used(
        "HOST = '0.0.0.0'\nPORT = 8000\n\
         use('%s:%d' % (HOST, PORT))\nuse('%(h)s:%(p)s' % {'h': HOST, 'p': PORT})\n\
         use('%s' % HOST)\nuse('100%% %r' % (HOST,))\nuse('plain' % ())\n\
         use('%d' % HOST)\nuse('%5s' % HOST)\nuse('%s %s' % (HOST,))\nuse('%s' % x)\n\
         use('%s' % {'a': 1})\nuse('%(h)s %s' % {'h': 1})\nuse('%y' % 1)\nuse('%(h)s' % {'h': 1, 'h': 2})\n",
    );
    let texts: Vec<Option<&str>> = v.iter().map(super::value::Value::as_str).collect();
    assert_eq!(
        texts,
        [
            Some("0.0.0.0:8000"),
            Some("0.0.0.0:8000"),
            Some("0.0.0.0"),
            Some("100% '0.0.0.0'"),
            Some("plain"),
            None,
            None,
            None,
            None,
            None,
            None,
            None,
            Some("2"),
        ]
    );
    // What is not folded stays the `%` expression.
    assert!(v[5..12]
        .iter()
        .all(|x| matches!(x.kind, Kind::BinOp(super::value::BinOp::Mod, ..))));
}

#[test]
fn deeply_nested_format_specs_do_not_exhaust_the_stack() {
    let n = 5_000;
    let src = format!("use(f'{}x{}')\n", "{x:".repeat(n), "}".repeat(n));
    // Parsed or refused, never a crash.
    let _ = analyze(0, &src, "m", false);
}

#[test]
fn fields_written_as_calls_are_told_from_calls_in_the_source() {
    use super::format::{formatted, formatted_field};
    let v = used("use(f'{x!r} {str(x)}')\n");
    let Kind::FString(parts) = &v[0].kind else {
        panic!("{:?}", v[0].kind)
    };
    assert!(formatted_field(&parts[0]).is_some());
    assert!(formatted(&parts[2]).is_some() && formatted_field(&parts[2]).is_none());
}

#[test]
fn branches_taken_when_a_variable_is_unset() {
    let f = facts(
        r#"import os
KEY = os.getenv("KEY")
if not KEY:
    a()
if os.environ.get("B"):
    b_set()
else:
    b_unset()
if "C" not in os.environ and not DEBUG:
    c_unset()
if os.getenv("D") is not None or FORCE:
    d_maybe()
else:
    d_unset()
if os.environ.get("E") == "production":
    e_prod()
else:
    e_other()
if os.getenv("F", "fallback"):
    f_always()
"#,
    );
    let unset = |name: &str| {
        let call = f
            .calls
            .iter()
            .find(|c| c.call().func_name().as_deref() == Some(name))
            .unwrap();
        super::value::unset_guard(&f, call.guard).map(|v| v.unwrap_or_default())
    };
    assert_eq!(unset("a").as_deref(), Some("KEY"));
    assert_eq!(unset("b_set"), None);
    assert_eq!(unset("b_unset").as_deref(), Some("B"));
    assert_eq!(unset("c_unset").as_deref(), Some("C"));
    assert_eq!(unset("d_maybe"), None);
    assert_eq!(unset("d_unset").as_deref(), Some("D"));
    assert_eq!(unset("e_prod"), None);
    assert_eq!(unset("e_other"), None);
    assert_eq!(unset("f_always"), None);
}

#[test]
fn try_statements_record_their_body_and_answering_handlers() {
    let src = "def view():\n    try:\n        data = load()\n        use(data)\n    except KeyError:\n        log()\n        raise\n    except (ValueError, TypeError):\n        if x:\n            return 'bad'\n    except:\n        pass\n";
    let f = facts(src);
    assert_eq!(f.tries.len(), 1);
    let t = &f.tries[0];
    let body = &src[usize::from(t.body.start())..usize::from(t.body.end())];
    assert_eq!(body, "data = load()\n        use(data)");
    assert_eq!(t.catches.len(), 3);
    assert!(t.catches[2].is_none());
    assert_eq!(t.returns, [false, true, false]);
}
