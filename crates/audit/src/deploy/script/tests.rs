use super::*;
use crate::deploy::Server;

fn prod(text: &str) -> Vec<ParsedCommand> {
    parse_text(text).into_iter().filter(|c| !c.dev).collect()
}

fn find<'a>(cmds: &'a [ParsedCommand], program: &str) -> Vec<&'a ParsedCommand> {
    cmds.iter()
        .filter(|c| c.words.first().map(String::as_str) == Some(program))
        .collect()
}

fn server_of(c: &ParsedCommand) -> Option<Server> {
    crate::deploy::server::server(&c.words, &mut Vec::new())
}

#[test]
fn continuations_join_on_the_first_line() {
    let cmds = parse_text(
        "#!/bin/sh\n# boot\nflask db upgrade\nexec gunicorn \\\n  -b :5000 \\\n  --workers 3 \\\n  app:app\necho done\n",
    );
    let g = find(&cmds, "gunicorn");
    assert_eq!(g.len(), 1);
    assert_eq!(g[0].line, 4);
    assert_eq!(
        g[0].words,
        ["gunicorn", "-b", ":5000", "--workers", "3", "app:app"]
    );
    assert_eq!(find(&cmds, "echo")[0].line, 8);
    assert_eq!(find(&cmds, "flask")[0].line, 3);
}

#[test]
fn variables_and_defaults() {
    let cmds = prod(
        r#"#!/bin/bash
set -euo pipefail
WORKERS=${WORKERS:-4}
export WORKER_CLASS=${WORKER_CLASS:-"gevent"}
: ${PORT:=8000}
HOST=0.0.0.0
OPTS="--access-logfile - --keep-alive 5"
exec gunicorn -w $WORKERS -k "$WORKER_CLASS" -b "$HOST:$PORT" $OPTS --timeout "${TIMEOUT:-30}" --threads $THREADS '$LITERAL' app:app
"#,
    );
    let g = find(&cmds, "gunicorn");
    assert_eq!(
        g[0].words,
        [
            "gunicorn",
            "-w",
            "${WORKERS:-4}",
            "-k",
            "${WORKER_CLASS:-gevent}",
            "-b",
            "0.0.0.0:${PORT:-8000}",
            "--access-logfile",
            "-",
            "--keep-alive",
            "5",
            "--timeout",
            "${TIMEOUT:-30}",
            "--threads",
            "$THREADS",
            "$LITERAL",
            "app:app"
        ]
    );
    let Some(Server::Gunicorn(a)) = server_of(g[0]) else {
        panic!()
    };
    let w = crate::deploy::gunicorn::workers_of_arg(a.workers.as_deref().unwrap()).unwrap();
    assert_eq!((w.min, w.exact), (4, false));
    // A plain value replaces the variable; nested defaults give the inner one.
    let cmds = prod("N=2\nA=${B:-${C:-5}}\nuvicorn main:app --workers $N --host ${A}\n");
    assert_eq!(
        cmds[0].words,
        ["uvicorn", "main:app", "--workers", "2", "--host", "${B:-5}"]
    );
    // An unknown variable stays unknown: not a number, not `*`.
    let cmds = prod("gunicorn -w $WORKERS --forwarded-allow-ips $IPS app:app\n");
    let Some(Server::Gunicorn(a)) = server_of(&cmds[0]) else {
        panic!()
    };
    assert!(crate::deploy::gunicorn::workers_of_arg(a.workers.as_deref().unwrap()).is_none());
    assert_eq!(a.forwarded_allow_ips.as_deref(), Some("$IPS"));
}

#[test]
fn exported_values_reach_the_command() {
    let cmds =
        prod("export FORWARDED_ALLOW_IPS='*'\nexport X=${X:-1}\nLOCAL=1\nexec uvicorn app:app\n");
    assert_eq!(
        cmds[0].exported,
        [("FORWARDED_ALLOW_IPS".to_string(), "*".to_string())]
    );
}

#[test]
fn debug_branches_are_development() {
    let text = r#"#!/bin/bash
WORKERS=${WORKERS:-4}
if [ "$DEBUG" = "true" ]; then
    exec gunicorn 'pkg:create_app()' \
        --bind '0.0.0.0:8000' --workers $WORKERS --reload
else
    exec gunicorn 'pkg:create_app()' \
        --bind '0.0.0.0:8000' \
        --workers $WORKERS
fi
"#;
    let all = parse_text(text);
    let g = find(&all, "gunicorn");
    assert_eq!(g.len(), 2);
    assert!(g[0].dev && g[0].line == 4 && g[0].words.contains(&"--reload".to_string()));
    assert!(!g[1].dev && g[1].line == 7);
    for (cond, then_dev) in [
        (r#"[ "$FLASK_ENV" = "development" ]"#, true),
        ("[ \"$ENV\" = dev ]", true),
        ("[[ $DEBUG == 1 ]]", true),
        ("[ -n \"$DEBUG\" ]", true),
        ("$DEBUG", true),
        ("[ \"$APP_ENV\" != \"production\" ]", true),
        ("[ \"$ENVIRONMENT\" = \"production\" ]", false),
        ("[ -z \"$DEBUG\" ]", false),
        ("[ \"$1\" = \"dev\" ]", true),
        ("[ -f /app/.env ]", false),
        ("! [ \"$DEBUG\" = true ]", false),
    ] {
        let text = format!(
            "if {cond}; then\n  exec flask run --debug\nelse\n  exec gunicorn app:app\nfi\n"
        );
        let all = parse_text(&text);
        let f = find(&all, "flask");
        let g = find(&all, "gunicorn");
        assert_eq!(f[0].dev, then_dev, "{cond}");
        let else_dev = matches!(
            cond,
            "[ \"$ENVIRONMENT\" = \"production\" ]"
                | "[ -z \"$DEBUG\" ]"
                | "! [ \"$DEBUG\" = true ]"
        );
        assert_eq!(g[0].dev, else_dev, "{cond}");
    }
    // elif, nesting and one-liners.
    let all = parse_text(
        "if [ \"$ENV\" = prod ]; then gunicorn a:a; elif [ \"$ENV\" = dev ]; then flask run; else uvicorn a:a; fi\n",
    );
    assert!(!find(&all, "gunicorn")[0].dev);
    assert!(find(&all, "flask")[0].dev);
    // Neither production nor development (`staging`): kept.
    assert!(!find(&all, "uvicorn")[0].dev);
    let all = parse_text("[ \"$DEBUG\" = 1 ] && exec flask run --debug || exec gunicorn a:a\n");
    assert!(find(&all, "flask")[0].dev);
    assert!(!find(&all, "gunicorn")[0].dev);
    let all = parse_text(
        "if [ \"$DEBUG\" = true ]; then\n  if [ -f x ]; then\n    uvicorn a:a --reload\n  fi\n  echo\nfi\nuvicorn a:a\n",
    );
    let u = find(&all, "uvicorn");
    assert!(u[0].dev && !u[1].dev);
    assert!(find(&all, "echo")[0].dev);
}

#[test]
fn case_arms() {
    let all = parse_text(
        r#"case "$APP_ENV" in
  dev|development)
    exec uvicorn main:app --reload
    ;;
  "prod") exec gunicorn main:app -w 4 ;;
  *)
    exec hypercorn main:app
    ;;
esac
exec uvicorn after:app
"#,
    );
    let u = find(&all, "uvicorn");
    assert!(u[0].dev);
    assert!(!u[1].dev, "after esac");
    assert!(!find(&all, "gunicorn")[0].dev);
    assert!(!find(&all, "hypercorn")[0].dev);
}

#[test]
fn loops_functions_heredocs_and_keywords() {
    let all = parse_text(
        r#"#!/bin/sh
source venv/bin/activate
while true; do flask db upgrade; if [[ "$?" == "0" ]]; then break; fi; sleep 5; done
cat > /etc/app.conf <<'EOF'
gunicorn --reload in a heredoc
EOF
cat <<-END
	uvicorn x:x --reload
	END
start_server() {
    nohup time gunicorn -w 2 a:a &
}
function migrate {
    alembic upgrade head
}
for i in 1 2 3; do echo $i; done
( cd src && exec gunicorn -w 3 b:b )
{ command uvicorn c:c; }
exec gunicorn -b :5000 --access-logfile - --error-logfile - microblog:app
"#,
    );
    let programs: Vec<&str> = all.iter().map(|c| c.words[0].as_str()).collect();
    assert_eq!(
        programs,
        [
            "source", "true", "flask", "break", "sleep", "cat", "cat", "nohup", "alembic", "echo",
            "cd", "gunicorn", "uvicorn", "gunicorn"
        ]
    );
    assert!(all.iter().all(|c| !c.dev));
    let g = find(&all, "gunicorn");
    assert_eq!(g[0].words, ["gunicorn", "-w", "3", "b:b"]);
    assert_eq!(find(&all, "uvicorn")[0].words, ["uvicorn", "c:c"]);
    assert_eq!(g[1].line, 19);
    assert_eq!(find(&all, "alembic")[0].line, 14);
}

#[test]
fn names_decide_unreferenced_scripts() {
    use ScriptRole::*;
    for (path, role) in [
        ("boot.sh", Production),
        ("docker-entrypoint.sh", Production),
        ("entrypoints/gunicorn.sh", Production),
        ("scripts/start.sh", Generic),
        ("prestart.sh", Production),
        ("run.sh", Generic),
        ("serve.sh", Generic),
        ("start-gunicorn.sh", Production),
        ("docker/start.sh", Production),
        ("docker/setup.sh", Production),
        ("deploy/go.sh", Production),
        ("dev.sh", Development),
        ("run_dev.sh", Development),
        ("scripts/test.sh", Development),
        ("tests/run.sh", Development),
        ("start-reload.sh", Development),
        ("scripts/lint.sh", Unknown),
        ("install.sh", Unknown),
    ] {
        assert_eq!(role_of_path(path), role, "{path}");
    }
}

#[test]
fn shebangs() {
    assert!(has_shell_shebang(b"#!/bin/sh\nexec x"));
    assert!(has_shell_shebang(b"#!/usr/bin/env bash\n"));
    assert!(has_shell_shebang(b"#!/bin/dash"));
    assert!(!has_shell_shebang(b"#!/usr/bin/env python3\n"));
    assert!(!has_shell_shebang(b"MIT License"));
    assert!(!has_shell_shebang(b"#!\xff\xfe"));
    assert!(has_shell_shebang(b"#!/command/with-contenv sh\n"));
    assert!(has_shell_shebang(b"#!/usr/bin/with-contenv bash\n"));
    assert!(!has_shell_shebang(b"#!/command/with-contenv python3\n"));
}

#[test]
fn s6_service_scripts_are_told_by_their_place() {
    assert!(is_s6_service_run(
        "docker/etc/s6-overlay/s6-rc.d/svc-web/run"
    ));
    assert!(is_s6_service_run("root/etc/services.d/app/run"));
    assert!(!is_s6_service_run(
        "docker/etc/s6-overlay/s6-rc.d/svc-web/finish"
    ));
    assert!(!is_s6_service_run("scripts/run"));
    assert!(!is_s6_service_run("s6-rc.d/run"));
    assert_eq!(
        role_of_path("docker/etc/s6-overlay/s6-rc.d/svc-web/run"),
        ScriptRole::Production
    );
}

#[test]
fn hostile_scripts_do_not_panic() {
    let mut inputs: Vec<String> = vec![
        "exec gunicorn 'unterminated app:app\n--reload\n".into(),
        "echo \"unterminated\ngunicorn -w 4 a:a\n".into(),
        "gunicorn -w ${WORKERS:-4 a:a\n".into(),
        "X=${\ngunicorn ${ $ ${} ${:-} ${#} ${X:=} ${Y:-${Z:-${W:-${".into(),
        "fi\nfi\ndone\nesac\nthen\nelse\n;;\n)\n}\n".into(),
        "case\n;;\nesac esac\nif\nthen\n".into(),
        "cat <<\ncat << 2\ncat <<<x\ncat <<EOF".into(),
        "\\".into(),
        "'".into(),
        "$".into(),
        "${".into(),
        "a=b=c d==e =f\nexport =x -x\n: ${=}\n".into(),
    ];
    inputs.push(format!("gunicorn {}app:app\n", "-w 4 \\\n".repeat(10_000)));
    inputs.push(format!(
        "{}exec flask run\n{}",
        "if [ \"$DEBUG\" = 1 ]; then\n".repeat(2_000),
        "fi\n".repeat(2_000)
    ));
    inputs.push(format!("{}{}", "( { ".repeat(5_000), "x".repeat(1000)));
    inputs.push(format!("X=${{{}", "A:-${".repeat(3_000)));
    inputs.push(String::from_utf8_lossy(b"gunicorn \xff\xfe -w \xc3\x28 app:app\n").into_owned());
    for s in &inputs {
        let _ = parse_text(s);
    }
    // Deep nesting does not leak out: after the closing `fi`s, production again.
    let deep = &inputs[inputs.len() - 4];
    let all = parse_text(&format!("{deep}gunicorn a:a\n"));
    assert!(find(&all, "flask")[0].dev);
    assert!(!find(&all, "gunicorn")[0].dev);
    // A 10,000-line continuation is one command on its first line.
    let long = &inputs[inputs.len() - 5];
    let all = parse_text(long);
    assert_eq!(all.len(), 1);
    assert_eq!(all[0].line, 1);
}

fn script(path: &str, text: &str, file: FileId) -> Script {
    let source = SourceFile::new(file, path.to_string(), text.to_string());
    parse(&source).scripts.remove(0)
}

#[test]
fn deploy_commands_adopt_the_scripts_they_run() {
    let dockerfile = SourceFile::new(
        0,
        "Dockerfile".into(),
        "FROM python:3.12\nRUN chmod +x /app/bin/launch.sh /app/other.sh\nENTRYPOINT [\"/app/bin/launch.sh\"]\n".into(),
    );
    let mut deploy = crate::deploy::dockerfile::parse(&dockerfile);
    deploy.scripts.push(script(
        "bin/launch.sh",
        "#!/bin/sh\nif [ \"$DEBUG\" = 1 ]; then exec flask run --debug; fi\nexec ./serve-app.sh\n",
        1,
    ));
    deploy
        .scripts
        .push(script("bin/serve-app.sh", "gunicorn -w 4 app:app\n", 2));
    deploy
        .scripts
        .push(script("other.sh", "uvicorn x:x --reload\n", 3));
    deploy
        .scripts
        .push(script("scripts/dev.sh", "flask run --debug\n", 4));
    deploy
        .scripts
        .push(script("deploy/start.sh", "hypercorn x:x\n", 5));
    let rels = [
        "Dockerfile",
        "bin/launch.sh",
        "bin/serve-app.sh",
        "other.sh",
        "scripts/dev.sh",
        "deploy/start.sh",
    ];
    adopt(&mut deploy, &|id| {
        rels.get(id as usize).map(|s| s.to_string())
    });
    assert!(deploy.scripts.is_empty());
    let scripts: Vec<(&str, &str, Option<CommandOrigin>)> = deploy
        .commands
        .iter()
        .filter_map(|c| match &c.origin {
            CommandOrigin::Script { path, caller } => Some((
                path.as_str(),
                c.words[0].as_str(),
                caller.as_ref().map(|c| c.origin.clone()),
            )),
            _ => None,
        })
        .collect();
    assert_eq!(
        scripts,
        [
            (
                "bin/launch.sh",
                "./serve-app.sh",
                Some(CommandOrigin::DockerEntrypoint)
            ),
            (
                "bin/serve-app.sh",
                "gunicorn",
                Some(CommandOrigin::DockerEntrypoint)
            ),
        ]
    );
    // deploy/start.sh is named for production, but the Dockerfile says how the
    // app starts and it is not that script.
    assert!(!deploy.commands.iter().any(|c| c.words[0] == "hypercorn"));
    let c = deploy
        .commands
        .iter()
        .find(|c| c.words[0] == "gunicorn")
        .unwrap();
    assert_eq!(c.origin.describe(), "shell script `serve-app.sh`");
    assert!(c.origin.is_web());
}

/// The scripts `adopt` keeps among unreferenced ones, with what else the
/// project runs.
fn adopted(commands: Vec<CommandFact>, scripts: &[(&str, &str)]) -> Vec<String> {
    let mut deploy = DeployFacts {
        commands,
        ..Default::default()
    };
    for (i, (path, text)) in scripts.iter().enumerate() {
        deploy.scripts.push(script(path, text, i as FileId + 1));
    }
    adopt(&mut deploy, &|_| None);
    let mut paths: Vec<String> = deploy
        .commands
        .iter()
        .filter_map(|c| match &c.origin {
            CommandOrigin::Script { path, .. } => Some(path.clone()),
            _ => None,
        })
        .collect();
    paths.dedup();
    paths
}

#[test]
fn unreferenced_scripts_are_weak_evidence() {
    let scripts = [
        (
            "run.sh",
            "#!/bin/sh\nexport FLASK_APP=app.py\nflask run --debug\n",
        ),
        ("start.sh", "#!/bin/sh\nexec uvicorn main:app --reload\n"),
        (
            "serve.sh",
            "#!/bin/sh\nexec gunicorn -w 4 -b 0.0.0.0:8000 app:app\n",
        ),
        ("boot.sh", "#!/bin/sh\nexec flask run --host 0.0.0.0\n"),
        (
            "scripts/lint.sh",
            "#!/bin/sh\ngunicorn --check-config app:app\n",
        ),
    ];
    // Nothing else starts the app: deployment names count, generic names only
    // with a production server and no development one.
    assert_eq!(adopted(Vec::new(), &scripts), ["serve.sh", "boot.sh"]);
    // A Dockerfile CMD starts it: no unreferenced script counts.
    let dockerfile = SourceFile::new(
        0,
        "Dockerfile".into(),
        "FROM python:3.12-slim\nCMD [\"gunicorn\", \"app:app\"]\n".into(),
    );
    let cmds = crate::deploy::dockerfile::parse(&dockerfile).commands;
    assert!(adopted(cmds, &scripts).is_empty());
    // A Dockerfile that starts something else (a proxy image) does not say
    // how the app starts.
    let nginx = SourceFile::new(
        0,
        "proxy/Dockerfile".into(),
        "FROM nginx:1.27\nCMD [\"nginx\", \"-g\", \"daemon off;\"]\n".into(),
    );
    let cmds = crate::deploy::dockerfile::parse(&nginx).commands;
    assert_eq!(adopted(cmds, &scripts), ["serve.sh", "boot.sh"]);
}

#[test]
fn renamed_copies_lead_to_their_script() {
    let dockerfile = SourceFile::new(
        0,
        "Dockerfile".into(),
        "FROM python:3.12-slim\nWORKDIR /srv\nCOPY scripts/launch.sh /usr/local/bin/run-app\nCOPY bin/ /opt/bin/\nENTRYPOINT [\"run-app\"]\nCMD [\"/opt/bin/web\"]\n".into(),
    );
    let mut deploy = crate::deploy::dockerfile::parse(&dockerfile);
    deploy
        .scripts
        .push(script("scripts/launch.sh", "exec gunicorn app:app\n", 1));
    deploy
        .scripts
        .push(script("bin/web", "exec uvicorn app:app\n", 2));
    deploy
        .scripts
        .push(script("other/launch.sh", "exec flask run\n", 3));
    adopt(&mut deploy, &|id| {
        (id == 0).then(|| "Dockerfile".to_string())
    });
    let callers: Vec<(&str, Option<CommandOrigin>)> = deploy
        .commands
        .iter()
        .filter_map(|c| match &c.origin {
            CommandOrigin::Script { path, caller } => {
                Some((path.as_str(), caller.as_ref().map(|c| c.origin.clone())))
            }
            _ => None,
        })
        .collect();
    assert_eq!(
        callers,
        [
            ("scripts/launch.sh", Some(CommandOrigin::DockerEntrypoint)),
            ("bin/web", Some(CommandOrigin::DockerCmd)),
        ]
    );
}
