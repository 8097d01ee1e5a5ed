//! Source text and positions: what every analysed file keeps once read, and the
//! conversion from byte offsets (ruff's `TextRange`) to the 1-based line and
//! character columns that reports use.

use ruff_text_size::{TextRange, TextSize};

/// Index of a file in the run's sorted file list. Stable for one input, so facts
/// that name a file by id sort deterministically.
pub type FileId = u32;

/// A place in one of the run's files: what every model value keeps, so a rule can
/// point at the exact line and add related locations.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Span {
    pub file: FileId,
    pub start: u32,
    pub end: u32,
}

impl Span {
    pub fn new(file: FileId, range: TextRange) -> Span {
        Span {
            file,
            start: range.start().into(),
            end: range.end().into(),
        }
    }

    pub fn range(&self) -> TextRange {
        TextRange::new(
            TextSize::new(self.start),
            TextSize::new(self.end.max(self.start)),
        )
    }
}

/// Start offsets of every line of a text, for offset -> line/column lookups.
#[derive(Debug, Clone, Default)]
pub struct LineIndex {
    starts: Vec<u32>,
}

impl LineIndex {
    pub fn new(text: &str) -> LineIndex {
        let mut starts = Vec::with_capacity(text.len() / 32 + 1);
        starts.push(0);
        starts.extend(
            memchr::memchr_iter(b'\n', text.as_bytes())
                .map(|i| u32::try_from(i + 1).unwrap_or(u32::MAX)),
        );
        LineIndex { starts }
    }

    /// The 0-based line holding `offset`.
    fn line_of(&self, offset: u32) -> usize {
        match self.starts.binary_search(&offset) {
            Ok(line) => line,
            Err(next) => next.saturating_sub(1),
        }
    }

    /// 1-based line and 1-based character column of a byte offset. Offsets inside a
    /// multi-byte character or past the end are clamped, never a panic.
    pub fn position(&self, text: &str, offset: TextSize) -> (u32, u32) {
        let offset = u32::from(offset).min(text.len() as u32);
        let line = self.line_of(offset);
        let start = self.starts.get(line).copied().unwrap_or(0) as usize;
        let mut end = offset as usize;
        while end > start && !text.is_char_boundary(end) {
            end -= 1;
        }
        let column = text.get(start..end).map_or(0, |s| s.chars().count());
        (line as u32 + 1, column as u32 + 1)
    }

    /// [`LineIndex::position`] for a text of `len` bytes where every character
    /// is one byte (ASCII), without the text.
    pub fn byte_position(&self, len: u32, offset: TextSize) -> (u32, u32) {
        let offset = u32::from(offset).min(len);
        let line = self.line_of(offset);
        let start = self.starts.get(line).copied().unwrap_or(0);
        (line as u32 + 1, offset.saturating_sub(start) + 1)
    }

    /// The text of a 1-based line, without its line ending.
    pub fn line_text<'a>(&self, text: &'a str, line: u32) -> Option<&'a str> {
        let i = (line as usize).checked_sub(1)?;
        let start = *self.starts.get(i)? as usize;
        let end = self.starts.get(i + 1).map_or(text.len(), |&e| e as usize);
        let s = text.get(start..end)?;
        Some(s.trim_end_matches(['\n', '\r']))
    }

    /// The 1-based line holding a byte offset.
    pub fn line_of_offset(&self, offset: u32) -> u32 {
        self.line_of(offset) as u32 + 1
    }

    /// The byte offset where a 1-based line starts.
    pub fn line_start(&self, line: u32) -> Option<usize> {
        let i = (line as usize).checked_sub(1)?;
        self.starts.get(i).map(|&s| s as usize)
    }

    pub fn line_count(&self) -> usize {
        self.starts.len()
    }

    /// The byte range of a 1-based line (without its line ending).
    pub fn line_range(&self, text: &str, line: u32) -> Option<TextRange> {
        let i = (line as usize).checked_sub(1)?;
        let start = *self.starts.get(i)?;
        let s = self.line_text(text, line)?;
        Some(TextRange::at(TextSize::new(start), TextSize::of(s)))
    }
}

/// A file the audit read: its path relative to the report root, its text and
/// where its lines start.
///
/// The text of most files is needed only while the file is analysed: once its
/// facts are taken, [`SourceFile::release_text`] drops it and keeps what the
/// report needs without it (line starts, suppression comments, a hash). A rule
/// that quotes the code of a released file has it read again from disk (once,
/// on first use); a file that changed or vanished in between gives no text and
/// is named by [`SourceFile::reread_failed`], never a panic.
#[derive(Debug)]
pub struct SourceFile {
    pub id: FileId,
    /// Relative to the report root, `/`-separated.
    pub rel: String,
    /// Empty once released.
    text: String,
    lines: LineIndex,
    /// `# flaskguard: ignore` comments, by line.
    ignores: Box<[crate::suppress::LineIgnore]>,
    released: Option<Box<Released>>,
}

/// What a released file keeps to find its text again and check it is the same.
#[derive(Debug)]
struct Released {
    path: std::path::PathBuf,
    len: u32,
    hash: u64,
    ascii: bool,
    /// The text read again, or `None` when it could not be read or differs.
    reread: std::sync::OnceLock<Option<Box<str>>>,
}

impl Clone for SourceFile {
    fn clone(&self) -> SourceFile {
        SourceFile {
            id: self.id,
            rel: self.rel.clone(),
            text: self.text.clone(),
            lines: self.lines.clone(),
            ignores: self.ignores.clone(),
            released: self.released.as_ref().map(|r| {
                Box::new(Released {
                    path: r.path.clone(),
                    len: r.len,
                    hash: r.hash,
                    ascii: r.ascii,
                    reread: match r.reread.get() {
                        Some(t) => std::sync::OnceLock::from(t.clone()),
                        None => std::sync::OnceLock::new(),
                    },
                })
            }),
        }
    }
}

/// The text of a file as the audit reads it: UTF-8 without a byte order mark.
pub fn decode(bytes: Vec<u8>) -> Result<String, std::string::FromUtf8Error> {
    let text = String::from_utf8(bytes)?;
    Ok(match text.strip_prefix('\u{feff}') {
        Some(t) => t.to_string(),
        None => text,
    })
}

fn hash_text(text: &str) -> u64 {
    use std::hash::Hasher;
    let mut h = rustc_hash::FxHasher::default();
    h.write(text.as_bytes());
    h.finish()
}

impl SourceFile {
    pub fn new(id: FileId, rel: String, text: String) -> SourceFile {
        let lines = LineIndex::new(&text);
        let ignores = crate::suppress::comments(&text, &lines);
        SourceFile {
            id,
            rel,
            text,
            lines,
            ignores,
            released: None,
        }
    }

    /// Drops the text once the file is analysed; `path` is where to read it
    /// again if a rule quotes it.
    pub fn release_text(&mut self, path: std::path::PathBuf) {
        let Ok(len) = u32::try_from(self.text.len()) else {
            return;
        };
        self.released = Some(Box::new(Released {
            path,
            len,
            hash: hash_text(&self.text),
            ascii: self.text.is_ascii(),
            reread: std::sync::OnceLock::new(),
        }));
        self.text = String::new();
        self.lines.starts.shrink_to_fit();
    }

    /// The text of the file; empty when it was released and cannot be read
    /// again as it was.
    pub fn text(&self) -> &str {
        match &self.released {
            None => &self.text,
            Some(r) => r.text().unwrap_or(""),
        }
    }

    /// Whether the text was released and could not be read again unchanged.
    pub fn reread_failed(&self) -> bool {
        self.released
            .as_ref()
            .is_some_and(|r| matches!(r.reread.get(), Some(None)))
    }

    pub fn lines(&self) -> &LineIndex {
        &self.lines
    }

    /// Whether a finding of `control` on 1-based `line` is silenced by a
    /// `# flaskguard: ignore` comment on that line or alone on the line above.
    pub fn suppressed(&self, line: u32, control: &str) -> bool {
        crate::suppress::suppressed_at(&self.ignores, line, control)
    }

    /// 1-based line and character column of an offset.
    fn position(&self, offset: TextSize) -> (u32, u32) {
        match &self.released {
            None => self.lines.position(&self.text, offset),
            Some(r) => match r.ascii {
                // Characters are bytes: no need for the text.
                true => self.lines.byte_position(r.len, offset),
                false => match r.text() {
                    Some(text) => self.lines.position(text, offset),
                    None => self.lines.byte_position(r.len, offset),
                },
            },
        }
    }

    /// A report location spanning `range`.
    pub fn location(&self, range: TextRange) -> report::FileLocation {
        let (line, column) = self.position(range.start());
        let (mut end_line, mut end_column) = self.position(range.end());
        if (end_line, end_column) <= (line, column) {
            end_line = line;
            end_column = column + 1;
        }
        report::FileLocation {
            path: self.rel.clone(),
            line,
            column,
            end_line,
            end_column,
        }
    }

    /// A location covering the whole of a 1-based line (for line-based files).
    pub fn line_location(&self, line: u32) -> report::FileLocation {
        match self.lines.line_range(self.text(), line) {
            Some(r) if !r.is_empty() => self.location(r),
            _ => report::FileLocation::point(self.rel.clone(), line, 1),
        }
    }

    /// 1-based line of an offset.
    pub fn line_of(&self, offset: TextSize) -> u32 {
        let len = match &self.released {
            None => self.text.len() as u32,
            Some(r) => r.len,
        };
        self.lines.line_of(u32::from(offset).min(len)) as u32 + 1
    }
}

impl Released {
    fn text(&self) -> Option<&str> {
        self.reread
            .get_or_init(|| {
                let bytes = std::fs::read(&self.path).ok()?;
                let text = decode(bytes).ok()?;
                (text.len() == self.len as usize && hash_text(&text) == self.hash)
                    .then(|| text.into_boxed_str())
            })
            .as_deref()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_are_one_based_and_count_characters() {
        let text = "ab\nécd\n\nx";
        let idx = LineIndex::new(text);
        assert_eq!(idx.position(text, TextSize::new(0)), (1, 1));
        assert_eq!(idx.position(text, TextSize::new(3)), (2, 1));
        // 'c' comes after a two-byte 'é': byte 5, character column 2.
        assert_eq!(idx.position(text, TextSize::new(5)), (2, 2));
        assert_eq!(idx.position(text, TextSize::new(8)), (3, 1));
        assert_eq!(idx.position(text, TextSize::new(9)), (4, 1));
        // Past the end and inside a character: clamped.
        assert_eq!(idx.position(text, TextSize::new(999)), (4, 2));
        assert_eq!(idx.position(text, TextSize::new(4)), (2, 1));
        assert_eq!(idx.line_text(text, 2), Some("écd"));
        assert_eq!(idx.line_text(text, 5), None);
    }

    #[test]
    fn locations_have_an_exclusive_end() {
        let f = SourceFile::new(0, "a.py".into(), "x = 1\n".into());
        let loc = f.location(TextRange::new(TextSize::new(0), TextSize::new(5)));
        assert_eq!(
            (loc.line, loc.column, loc.end_line, loc.end_column),
            (1, 1, 1, 6)
        );
        let empty = f.location(TextRange::empty(TextSize::new(2)));
        assert_eq!((empty.column, empty.end_column), (3, 4));
    }

    #[test]
    fn released_text_is_read_again_and_must_be_unchanged() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a.py");
        let text = "x = 1\ny = 'é' + z  # flaskguard: ignore[KEY]\n";
        std::fs::write(&path, format!("\u{feff}{text}")).unwrap();
        let kept = SourceFile::new(0, "a.py".into(), text.into());
        let mut f = kept.clone();
        f.release_text(path.clone());
        let r = TextRange::new(TextSize::new(16), TextSize::new(17));
        assert_eq!(f.location(r), kept.location(r));
        assert_eq!(f.line_of(TextSize::new(7)), 2);
        assert!(f.suppressed(2, "KEY001") && !f.suppressed(1, "KEY001"));
        assert_eq!(f.text(), text);
        assert!(!f.reread_failed());

        // Changed (same length) or removed before the text is asked for: no
        // text, byte columns, and the file is named.
        for change in [
            Some("x = 2\ny = 'é' + z  # flaskguard: ignore[KEY]\n"),
            None,
        ] {
            let mut f = kept.clone();
            f.release_text(path.clone());
            match change {
                Some(t) => std::fs::write(&path, t).unwrap(),
                None => std::fs::remove_file(&path).unwrap(),
            }
            assert_eq!(f.location(r).line, 2);
            assert_eq!(f.text(), "");
            assert!(f.reread_failed());
            assert!(f.suppressed(2, "KEY001"));
        }
    }
}
