//! The mutations: byte-level (flips, truncation, splicing, line endings, BOM,
//! NUL, invalid UTF-8, multi-byte characters in columns) and structural (a
//! hostile snippet for the file's kind inserted at a line start with that line's
//! indentation, so Python often still parses and reaches the model and rules).

use super::snippets;

/// SplitMix64: small, fast, and the same sequence everywhere for one seed.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `0..n` (0 when n is 0).
    pub fn below(&mut self, n: usize) -> usize {
        if n == 0 {
            0
        } else {
            (self.next_u64() % n as u64) as usize
        }
    }

    pub fn chance(&mut self, one_in: usize) -> bool {
        self.below(one_in) == 0
    }

    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }

    pub fn bytes(&mut self, len: usize) -> Vec<u8> {
        (0..len).map(|_| self.next_u64() as u8).collect()
    }
}

/// What a file is for the snippets: from its name, as discovery sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flavor {
    Python,
    DotEnv,
    Dockerfile,
    Compose,
    Requirements,
    Toml,
    Nginx,
    Procfile,
    Template,
    Other,
}

impl Flavor {
    pub fn of(rel: &str) -> Flavor {
        let name = rel.rsplit('/').next().unwrap_or(rel).to_ascii_lowercase();
        if name.ends_with(".py") {
            Flavor::Python
        } else if name == ".env" || name.starts_with(".env.") || name.ends_with(".env") {
            Flavor::DotEnv
        } else if name.starts_with("dockerfile") || name.ends_with(".dockerfile") {
            Flavor::Dockerfile
        } else if name.ends_with(".yml") || name.ends_with(".yaml") {
            Flavor::Compose
        } else if name.starts_with("requirements") && name.ends_with(".txt") {
            Flavor::Requirements
        } else if name.ends_with(".toml") {
            Flavor::Toml
        } else if name.ends_with(".conf") || name.ends_with(".nginx") {
            Flavor::Nginx
        } else if name.starts_with("procfile") {
            Flavor::Procfile
        } else if name.ends_with(".html") || name.ends_with(".j2") || name.ends_with(".jinja") {
            Flavor::Template
        } else {
            Flavor::Other
        }
    }
}

/// Files are kept below this size, so one case stays fast.
const MAX_LEN: usize = 4 * 1024 * 1024;

/// Applies one to four mutations to `data`; `donor` supplies splices. Half the
/// time only mutations that usually keep a file parsable (snippets, line
/// endings, a leading BOM), so cases reach the model and the rules rather than
/// stopping at a syntax error.
pub fn mutate(rng: &mut Rng, data: &mut Vec<u8>, flavor: Flavor, donor: &[u8]) {
    let gentle = rng.chance(2);
    for _ in 0..1 + rng.below(4) {
        if gentle {
            match rng.below(8) {
                0 => line_endings(rng, data),
                1 => {
                    if !data.starts_with("\u{feff}".as_bytes()) {
                        data.splice(0..0, "\u{feff}".bytes());
                    }
                }
                _ => {
                    let snippet = snippets::snippet(rng, flavor);
                    insert_at_line(rng, data, &snippet);
                }
            }
        } else {
            mutate_once(rng, data, flavor, donor);
        }
        if data.len() > MAX_LEN {
            data.truncate(MAX_LEN);
        }
    }
}

fn mutate_once(rng: &mut Rng, data: &mut Vec<u8>, flavor: Flavor, donor: &[u8]) {
    match rng.below(16) {
        // Structural: weighted up, since they reach past the parser.
        0..=4 => {
            let snippet = snippets::snippet(rng, flavor);
            insert_at_line(rng, data, &snippet);
        }
        5 => {
            // A few random bytes changed.
            for _ in 0..1 + rng.below(8) {
                if data.is_empty() {
                    break;
                }
                let at = rng.below(data.len());
                data[at] = if rng.chance(2) {
                    data[at] ^ (1 << rng.below(8))
                } else {
                    rng.next_u64() as u8
                };
            }
        }
        6 => {
            let at = rng.below(data.len() + 1);
            data.truncate(at);
        }
        7 => {
            // Splice a chunk of another file in, or over a chunk of this one.
            if donor.is_empty() {
                return;
            }
            let start = rng.below(donor.len());
            let len = 1 + rng.below((donor.len() - start).min(4096));
            let chunk = &donor[start..start + len];
            let at = rng.below(data.len() + 1);
            if rng.chance(2) {
                let end = (at + rng.below(len + 1)).min(data.len());
                data.splice(at..end, chunk.iter().copied());
            } else {
                data.splice(at..at, chunk.iter().copied());
            }
        }
        8 => {
            // Delete or duplicate a range.
            if data.is_empty() {
                return;
            }
            let start = rng.below(data.len());
            let len = 1 + rng.below((data.len() - start).min(2048));
            if rng.chance(2) {
                data.drain(start..start + len);
            } else {
                let chunk: Vec<u8> = data[start..start + len].to_vec();
                let times = 1 + rng.below(64);
                let at = start + len;
                for _ in 0..times {
                    data.splice(at..at, chunk.iter().copied());
                }
            }
        }
        9 => line_endings(rng, data),
        10 => {
            // A byte-order mark at the start (read as UTF-8 BOM) or in the middle.
            let at = if rng.chance(2) {
                0
            } else {
                rng.below(data.len() + 1)
            };
            data.splice(at..at, "\u{feff}".bytes());
        }
        11 => {
            // NUL bytes, form feeds, lone surrogates and other bytes that are not
            // (valid) text.
            let odd: &[&[u8]] = &[
                b"\0",
                b"\x0c",
                b"\x0b",
                b"\x1b[31m",
                b"\xff",
                b"\x80",
                b"\xc0\xaf",
                b"\xed\xa0\x80",
                b"\xf4\x90\x80\x80",
                b"\xe2\x80",
            ];
            let at = rng.below(data.len() + 1);
            let bytes = *rng.pick(odd);
            data.splice(at..at, bytes.iter().copied());
        }
        12 => {
            // Multi-byte and zero-width characters shift columns away from bytes.
            let chars = [
                "é", "ß", "😀", "\u{301}", "\u{200d}", "\u{2028}", "\u{85}", "中文", "\u{202e}",
                "\u{fe0f}", "𝔘",
            ];
            for _ in 0..1 + rng.below(16) {
                let at = char_boundary(data, rng.below(data.len() + 1));
                let c = rng.pick(&chars);
                data.splice(at..at, c.bytes());
            }
        }
        13 => {
            // Indentation by tabs, or tabs and spaces mixed.
            let mut out = Vec::with_capacity(data.len());
            let mut line_start = true;
            let mut spaces = 0;
            let mixed = rng.chance(2);
            for &b in data.iter() {
                if line_start && b == b' ' {
                    spaces += 1;
                    if spaces == 4 {
                        out.push(b'\t');
                        spaces = 0;
                    } else if mixed && spaces == 2 {
                        out.extend_from_slice(b"\t ");
                        spaces = 0;
                    }
                    continue;
                }
                out.extend(std::iter::repeat_n(b' ', spaces));
                spaces = 0;
                line_start = b == b'\n';
                out.push(b);
            }
            *data = out;
        }
        14 => {
            // Swap two lines.
            let starts = line_starts(data);
            if starts.len() < 2 {
                return;
            }
            let mut lines: Vec<Vec<u8>> = data.split(|&b| b == b'\n').map(<[u8]>::to_vec).collect();
            let a = rng.below(lines.len());
            let b = rng.below(lines.len());
            lines.swap(a, b);
            *data = lines.join(&b'\n');
        }
        _ => {
            // Random bytes, short.
            let at = rng.below(data.len() + 1);
            let len = 1 + rng.below(64);
            let junk = rng.bytes(len);
            data.splice(at..at, junk);
        }
    }
}

fn line_endings(rng: &mut Rng, data: &mut Vec<u8>) {
    let to: &[u8] = match rng.below(3) {
        0 => b"\r\n",
        1 => b"\r",
        _ => b"\n\r",
    };
    let mut out = Vec::with_capacity(data.len() + data.len() / 16);
    for &b in data.iter() {
        if b == b'\n' {
            out.extend_from_slice(to);
        } else {
            out.push(b);
        }
    }
    *data = out;
}

fn line_starts(data: &[u8]) -> Vec<usize> {
    let mut starts = vec![0];
    starts.extend(
        data.iter()
            .enumerate()
            .filter(|(_, &b)| b == b'\n')
            .map(|(i, _)| i + 1),
    );
    starts
}

fn char_boundary(data: &[u8], mut at: usize) -> usize {
    while at < data.len() && (data[at] & 0xC0) == 0x80 {
        at += 1;
    }
    at
}

/// Inserts `snippet` at the start of a random line, indented like that line.
pub fn insert_at_line(rng: &mut Rng, data: &mut Vec<u8>, snippet: &str) {
    let starts = line_starts(data);
    let at = *rng.pick(&starts);
    let indent: Vec<u8> = data[at..]
        .iter()
        .take_while(|&&b| b == b' ' || b == b'\t')
        .copied()
        .collect();
    let mut text = Vec::with_capacity(snippet.len() + 16);
    for (i, line) in snippet.split('\n').enumerate() {
        if i > 0 {
            text.push(b'\n');
        }
        if !line.is_empty() {
            text.extend_from_slice(&indent);
        }
        text.extend_from_slice(line.as_bytes());
    }
    text.push(b'\n');
    data.splice(at..at, text);
}
