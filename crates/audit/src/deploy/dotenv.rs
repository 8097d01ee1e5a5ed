//! `.env` files (`KEY=value`, `export KEY=value`, quoted values, comments) and
//! Procfiles (`process: command`).

use super::{line_span, CommandOrigin, DeployFacts, EnvFact, EnvRole, EnvSource};
use crate::source::SourceFile;

pub fn parse_dotenv(file: &SourceFile, gitignored: bool) -> DeployFacts {
    let name = file.rel.rsplit('/').next().unwrap_or(&file.rel);
    let role = EnvRole::of(name);
    let mut out = DeployFacts::default();
    out.dotenvs.push((file.id, role, gitignored));
    for (i, raw) in file.text().lines().enumerate() {
        let line = raw.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let line = line.strip_prefix("export ").unwrap_or(line).trim_start();
        let Some((key, value)) = line.split_once('=') else {
            continue;
        };
        let key = key.trim();
        if key.is_empty()
            || !key
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '.')
        {
            continue;
        }
        out.env.push(EnvFact {
            name: key.to_string(),
            value: unquote(value.trim()),
            span: line_span(file.id, file.lines(), file.text(), i as u32 + 1),
            source: EnvSource::DotEnv { role, gitignored },
        });
    }
    out
}

/// A value as dotenv loaders read it: quotes removed, trailing ` # comment` dropped
/// from unquoted values.
pub fn unquote(v: &str) -> String {
    for q in ['"', '\''] {
        if let Some(rest) = v.strip_prefix(q) {
            if let Some(end) = rest.find(q) {
                return rest[..end].to_string();
            }
        }
    }
    match v.find(" #") {
        Some(i) => v[..i].trim_end().to_string(),
        None => v.to_string(),
    }
}

pub fn parse_procfile(file: &SourceFile) -> DeployFacts {
    let mut out = DeployFacts::default();
    out.procfiles.push(file.id);
    for (i, raw) in file.text().lines().enumerate() {
        let line = raw.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let Some((process, command)) = line.split_once(':') else {
            continue;
        };
        let process = process.trim();
        if process.is_empty() || process.contains(char::is_whitespace) {
            continue;
        }
        let span = line_span(file.id, file.lines(), file.text(), i as u32 + 1);
        for cmd in super::commands_of(
            command,
            span,
            CommandOrigin::Procfile {
                process: process.to_string(),
            },
        ) {
            for (k, v) in &cmd.env {
                out.env.push(EnvFact {
                    name: k.clone(),
                    value: v.clone(),
                    span,
                    source: EnvSource::Command,
                });
            }
            out.commands.push(cmd);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_env_lines() {
        let f = SourceFile::new(
            0,
            ".env".into(),
            "# c\nexport FLASK_DEBUG=1\nSECRET_KEY=\"dev key\"\nX='a#b' \nY=z # note\nbad line\n"
                .into(),
        );
        let d = parse_dotenv(&f, false);
        let kv: Vec<(&str, &str)> = d
            .env
            .iter()
            .map(|e| (e.name.as_str(), e.value.as_str()))
            .collect();
        assert_eq!(
            kv,
            [
                ("FLASK_DEBUG", "1"),
                ("SECRET_KEY", "dev key"),
                ("X", "a#b"),
                ("Y", "z")
            ]
        );
        assert_eq!(
            f.line_of(ruff_text_size::TextSize::new(d.env[1].span.start)),
            3
        );
    }

    #[test]
    fn reads_procfile_commands() {
        let f = SourceFile::new(
            0,
            "Procfile".into(),
            "web: FLASK_ENV=development gunicorn -w 4 app:app\nworker: celery -A app worker\n"
                .into(),
        );
        let d = parse_procfile(&f);
        assert_eq!(d.commands.len(), 2);
        assert!(
            matches!(d.commands[0].origin, CommandOrigin::Procfile { ref process } if process == "web")
        );
        assert_eq!(d.env[0].name, "FLASK_ENV");
    }
}
