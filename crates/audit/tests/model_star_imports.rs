//! `from pkg.models import *`: names a module takes from another by a star
//! import resolve to where they come from; builtins stay builtins.

use report::Report;

mod common;

fn findings(files: &[(&str, &str)], control: &str) -> Vec<String> {
    let (_dir, outcome) = common::audit_files(files);
    let r: Report = outcome.report;
    r.findings
        .iter()
        .filter(|f| f.control == control)
        .map(|f| f.location.display())
        .collect()
}

#[test]
fn names_from_a_star_import_resolve_to_their_origin() {
    let app = "from flask import Flask, render_template, request\n\
               from pkg.models import *\n\
               from pkg.config import *\n\
               app = Flask(__name__)\n\
               app.config.from_object(ProductionConfig)\n\n\
               @app.route('/a', methods=['POST'])\n\
               def a():\n    \
                   try:\n        \
                       save(request.form['x'])\n    \
                   except IntegrityError as e:\n        \
                       return render_template('error.html', message=str(e))\n    \
                   return 'ok'\n\n\
               @app.route('/b', methods=['POST'])\n\
               def b():\n    \
                   try:\n        \
                       save(request.form['x'])\n    \
                   except Exception as e:\n        \
                       return {'error': str(e)}, 500\n    \
                   return 'ok'\n";
    let files = [
        ("app.py", app),
        ("pkg/__init__.py", ""),
        (
            "pkg/models.py",
            "from sqlalchemy.exc import IntegrityError\n\ndef save(x):\n    pass\n",
        ),
        (
            "pkg/config.py",
            "class ProductionConfig:\n    SECRET_KEY = 'dev'\n",
        ),
    ];
    let err = findings(&files, "ERR001");
    assert!(err.iter().any(|l| l.starts_with("app.py:12")), "{err:?}");
    // A builtin in a module with star imports is still the builtin.
    assert!(err.iter().any(|l| l.starts_with("app.py:20")), "{err:?}");
    // The config class came by a star import too.
    let key = findings(&files, "KEY002");
    assert!(
        key.iter().any(|l| l.starts_with("pkg/config.py:2")),
        "{key:?}"
    );
}
