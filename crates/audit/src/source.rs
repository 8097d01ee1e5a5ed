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
        for (i, b) in text.bytes().enumerate() {
            if b == b'\n' {
                starts.push(u32::try_from(i + 1).unwrap_or(u32::MAX));
            }
        }
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

    /// The text of a 1-based line, without its line ending.
    pub fn line_text<'a>(&self, text: &'a str, line: u32) -> Option<&'a str> {
        let i = (line as usize).checked_sub(1)?;
        let start = *self.starts.get(i)? as usize;
        let end = self.starts.get(i + 1).map_or(text.len(), |&e| e as usize);
        let s = text.get(start..end)?;
        Some(s.trim_end_matches(['\n', '\r']))
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

/// A file the audit read: its path relative to the report root and its text.
#[derive(Debug, Clone)]
pub struct SourceFile {
    pub id: FileId,
    /// Relative to the report root, `/`-separated.
    pub rel: String,
    pub text: String,
    pub lines: LineIndex,
}

impl SourceFile {
    pub fn new(id: FileId, rel: String, text: String) -> SourceFile {
        let lines = LineIndex::new(&text);
        SourceFile {
            id,
            rel,
            text,
            lines,
        }
    }

    /// A report location spanning `range`.
    pub fn location(&self, range: TextRange) -> report::FileLocation {
        let (line, column) = self.lines.position(&self.text, range.start());
        let (mut end_line, mut end_column) = self.lines.position(&self.text, range.end());
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
        match self.lines.line_range(&self.text, line) {
            Some(r) if !r.is_empty() => self.location(r),
            _ => report::FileLocation::point(self.rel.clone(), line, 1),
        }
    }

    /// 1-based line of an offset.
    pub fn line_of(&self, offset: TextSize) -> u32 {
        self.lines.position(&self.text, offset).0
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
}
