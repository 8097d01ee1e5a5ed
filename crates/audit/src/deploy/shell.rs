//! Command lines from Dockerfiles, Procfiles and compose files, split into words
//! like a POSIX shell would (quotes, escapes, `&&`, `;`).

/// Splits a shell command into simple commands (`a && b; c` -> three), each a list
/// of words. Quotes and backslashes are honoured; `$VAR` is kept as written.
pub fn split_commands(line: &str) -> Vec<Vec<String>> {
    let mut commands = Vec::new();
    let mut words: Vec<String> = Vec::new();
    let mut word = String::new();
    let mut in_word = false;
    let mut chars = line.chars().peekable();
    let mut quote: Option<char> = None;
    while let Some(c) = chars.next() {
        match quote {
            Some(q) => {
                if c == q {
                    quote = None;
                } else if c == '\\' && q == '"' {
                    if let Some(&n) = chars.peek() {
                        if matches!(n, '"' | '\\' | '$' | '`') {
                            word.push(n);
                            chars.next();
                            continue;
                        }
                    }
                    word.push(c);
                } else {
                    word.push(c);
                }
            }
            None => match c {
                '\'' | '"' => {
                    quote = Some(c);
                    in_word = true;
                }
                '\\' => {
                    if let Some(n) = chars.next() {
                        if n != '\n' {
                            word.push(n);
                            in_word = true;
                        }
                    }
                }
                c if c.is_whitespace() => {
                    if in_word {
                        words.push(std::mem::take(&mut word));
                        in_word = false;
                    }
                }
                ';' | '&' | '|' => {
                    if in_word {
                        words.push(std::mem::take(&mut word));
                        in_word = false;
                    }
                    if chars.peek() == Some(&c) {
                        chars.next();
                    }
                    if !words.is_empty() {
                        commands.push(std::mem::take(&mut words));
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
        words.push(word);
    }
    if !words.is_empty() {
        commands.push(words);
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
}
