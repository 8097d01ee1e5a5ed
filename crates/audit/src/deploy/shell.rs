//! Command lines from Dockerfiles, Procfiles and compose files, split into words
//! like a POSIX shell would (quotes, escapes, `&&`, `;`).

/// Splits a shell command into simple commands (`a && b; c` -> three), each a list
/// of words. Quotes and backslashes are honoured; `$VAR` is kept as written.
pub fn split_commands(line: &str) -> Vec<Vec<String>> {
    split_line(line, false)
        .into_iter()
        .filter(|(words, _)| !words.is_empty())
        .map(|(words, _)| words.into_iter().map(|w| w.text).collect())
        .collect()
}

/// What ends a simple command.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sep {
    /// `;`, a newline or the end of the line.
    Seq,
    And,
    Or,
    Pipe,
    /// `&`: the command runs in the background.
    Background,
    /// `;;`: the end of a `case` arm.
    CaseEnd,
}

/// A word of a shell command.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Word {
    pub text: String,
    /// Some part of it was quoted (an unquoted `$VAR` is split on spaces by the
    /// shell, a quoted one is not).
    pub quoted: bool,
}

/// Stands for a `$` that the shell does not expand (`'$X'`, `\$X`) in the words
/// of [`split_line`] when asked to mark them.
pub const LITERAL_DOLLAR: char = '\u{E000}';

/// Splits a shell line into simple commands with what ends each. With
/// `mark_literal_dollar`, a `$` inside single quotes or escaped by a backslash
/// is written as [`LITERAL_DOLLAR`] so that variable expansion leaves it alone.
pub fn split_line(line: &str, mark_literal_dollar: bool) -> Vec<(Vec<Word>, Sep)> {
    let mut commands = Vec::new();
    let mut words: Vec<Word> = Vec::new();
    let mut word = String::new();
    let mut quoted = false;
    let mut in_word = false;
    let mut chars = line.chars().peekable();
    let mut quote: Option<char> = None;
    let literal = |c: char| {
        if c == '$' && mark_literal_dollar {
            LITERAL_DOLLAR
        } else {
            c
        }
    };
    macro_rules! end_word {
        () => {
            if in_word {
                words.push(Word {
                    text: std::mem::take(&mut word),
                    quoted,
                });
                in_word = false;
                quoted = false;
            }
        };
    }
    while let Some(c) = chars.next() {
        match quote {
            Some(q) => {
                if c == q {
                    quote = None;
                } else if c == '\\' && q == '"' {
                    if let Some(&n) = chars.peek() {
                        if matches!(n, '"' | '\\' | '$' | '`') {
                            word.push(literal(n));
                            chars.next();
                            continue;
                        }
                        if n == '\n' {
                            chars.next();
                            continue;
                        }
                    }
                    word.push(c);
                } else if q == '\'' {
                    word.push(literal(c));
                } else {
                    word.push(c);
                }
            }
            None => match c {
                '\'' | '"' => {
                    quote = Some(c);
                    in_word = true;
                    quoted = true;
                }
                '\\' => {
                    if let Some(n) = chars.next() {
                        if n != '\n' {
                            word.push(literal(n));
                            in_word = true;
                        }
                    }
                }
                c if c.is_whitespace() => end_word!(),
                ';' | '&' | '|' => {
                    end_word!();
                    let doubled = chars.peek() == Some(&c);
                    if doubled {
                        chars.next();
                    }
                    let sep = match (c, doubled) {
                        (';', false) => Sep::Seq,
                        (';', true) => Sep::CaseEnd,
                        ('&', true) => Sep::And,
                        ('&', false) => Sep::Background,
                        ('|', true) => Sep::Or,
                        _ => Sep::Pipe,
                    };
                    if !words.is_empty() || sep == Sep::CaseEnd {
                        commands.push((std::mem::take(&mut words), sep));
                    }
                }
                '#' if !in_word => break,
                _ => {
                    word.push(c);
                    in_word = true;
                }
            },
        }
    }
    if in_word {
        words.push(Word { text: word, quoted });
    }
    if !words.is_empty() {
        commands.push((words, Sep::Seq));
    }
    commands
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(s: &[&str]) -> Vec<String> {
        s.iter().map(|w| w.to_string()).collect()
    }

    #[test]
    fn splits_like_a_shell() {
        assert_eq!(
            split_commands(r#"cd /app && gunicorn -w 4 "app:create_app()" ; echo 'a b' # done"#),
            vec![
                words(&["cd", "/app"]),
                words(&["gunicorn", "-w", "4", "app:create_app()"]),
                words(&["echo", "a b"])
            ]
        );
        assert_eq!(
            split_commands(r#"a "x \"y\"""#),
            vec![words(&["a", "x \"y\""])]
        );
    }

    #[test]
    fn separators_and_quoting() {
        let got = split_line("a && b || c | d & e ;; f", false);
        let seps: Vec<Sep> = got.iter().map(|(_, s)| *s).collect();
        assert_eq!(
            seps,
            [
                Sep::And,
                Sep::Or,
                Sep::Pipe,
                Sep::Background,
                Sep::CaseEnd,
                Sep::Seq
            ]
        );
        let got = split_line(r#"x '$A' "$B" \$C $D"#, true);
        let texts: Vec<(&str, bool)> = got[0]
            .0
            .iter()
            .map(|w| (w.text.as_str(), w.quoted))
            .collect();
        assert_eq!(
            texts,
            [
                ("x", false),
                ("\u{E000}A", true),
                ("$B", true),
                ("\u{E000}C", false),
                ("$D", false)
            ]
        );
    }
}
