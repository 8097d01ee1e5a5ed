//! Python's string formatting, read as CPython reads it: the replacement
//! fields of `str.format` (`{}`, `{0}`, `{name.attr[key]!r:>{width}}`, `{{`),
//! the conversion specifiers of `%` (`%s`, `%(name)-10d`, `%%`), and what a
//! field makes of a constant when the result is certain.
//!
//! The tokenizers only split text; each caller binds the fields to values
//! with its own policy (deployment settings want exact text and give up on
//! anything else; the SQL rule wants to know where values land and tolerates
//! what it cannot bind). Malformed input is an error value, never a panic:
//! Python raises `ValueError` for it, so no text is ever built from it.

use std::borrow::Cow;

use super::value::{Call, Kind, Value};

/// Why Python would refuse a format string (or why the tokenizer does not
/// follow it).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FormatError {
    /// A `}` that is neither doubled nor closes a field.
    SingleClose,
    /// A `{` that opens a field that never closes.
    Unclosed,
    /// `{` inside a field name (`{a{b}`).
    BraceInName,
    /// `!x` where x is not `r`, `s` or `a`, or nothing after `!`.
    BadConversion,
    /// Something other than `:` or `}` after a conversion (`{0!rx}`).
    AfterConversion,
    /// An empty attribute or key (`{0.}`, `{0[]}`).
    EmptyAccess,
    /// `[` without `]`.
    MissingBracket,
    /// Something other than `.` or `[` after `]` (`{0[a]b}`).
    AfterBracket,
    /// `{}` and `{0}` in one format string.
    MixedNumbering,
    /// A field nested in a field nested in a format spec.
    TooDeep,
    /// An index too large to be real.
    TooLarge,
    /// A `%` specifier without a conversion character, or an unclosed `%(`.
    Incomplete,
    /// A `%` conversion character Python does not know (`%y`).
    UnknownConversion,
    /// Valid Python the tokenizer does not follow (a non-ASCII digit as an
    /// index, `%` with flags before a literal `%`).
    Unsupported,
}

/// A piece of a `str.format` string.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Segment<'a> {
    Lit(Cow<'a, str>),
    Field(Field<'a>),
}

/// Which argument a field takes: automatic numbering (`{}`) is resolved to
/// the index it stands for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Arg<'a> {
    Index(usize),
    Name(&'a str),
}

/// An attribute or item looked up on the argument (`.attr`, `[0]`, `[key]`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access<'a> {
    Attr(&'a str),
    Index(usize),
    Key(&'a str),
}

/// `!s`, `!r`, `!a`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Conversion {
    Str,
    Repr,
    Ascii,
}

impl Conversion {
    fn of(c: char) -> Option<Conversion> {
        match c {
            's' => Some(Conversion::Str),
            'r' => Some(Conversion::Repr),
            'a' => Some(Conversion::Ascii),
            _ => None,
        }
    }

    /// The builtin that performs the conversion.
    pub fn builtin(self) -> &'static str {
        match self {
            Conversion::Str => "str",
            Conversion::Repr => "repr",
            Conversion::Ascii => "ascii",
        }
    }
}

/// A replacement field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Field<'a> {
    pub arg: Arg<'a>,
    pub access: Vec<Access<'a>>,
    pub conversion: Option<Conversion>,
    /// The format spec: literal text and the fields nested in it
    /// (`{x:>{width}}`); empty when there is none.
    pub spec: Vec<Segment<'a>>,
}

impl Field<'_> {
    /// The spec's text when it has no nested field.
    pub fn literal_spec(&self) -> Option<Cow<'_, str>> {
        let mut out = String::new();
        for s in &self.spec {
            match s {
                Segment::Lit(t) => out.push_str(t),
                Segment::Field(_) => return None,
            }
        }
        Some(Cow::Owned(out))
    }
}

/// Automatic (`{}`) or manual (`{0}`) numbering: a format string uses one.
#[derive(Default)]
struct Numbering {
    auto: Option<usize>,
    manual: bool,
}

/// How deep fields nest: the top level, then once inside a format spec.
const MAX_NESTING: usize = 2;

/// Splits a `str.format` string into literal text and replacement fields.
pub fn parse_braces(fmt: &str) -> Result<Vec<Segment<'_>>, FormatError> {
    let mut numbering = Numbering::default();
    braces(fmt, MAX_NESTING, &mut numbering)
}

fn braces<'a>(
    fmt: &'a str,
    depth: usize,
    numbering: &mut Numbering,
) -> Result<Vec<Segment<'a>>, FormatError> {
    if depth == 0 {
        return Err(FormatError::TooDeep);
    }
    let bytes = fmt.as_bytes();
    let mut out: Vec<Segment<'a>> = Vec::new();
    let mut lit = Lit::default();
    let mut i = 0;
    while i < bytes.len() {
        let start = i;
        while i < bytes.len() && bytes[i] != b'{' && bytes[i] != b'}' {
            i += 1;
        }
        lit.push(fmt, start, i);
        if i == bytes.len() {
            break;
        }
        let brace = bytes[i];
        i += 1;
        if bytes.get(i) == Some(&brace) {
            // `{{` / `}}`: one brace of text.
            lit.push(fmt, i, i + 1);
            i += 1;
            continue;
        }
        if brace == b'}' {
            return Err(FormatError::SingleClose);
        }
        let (field, next) = field(fmt, i, depth, numbering)?;
        i = next;
        if let Some(l) = lit.take() {
            out.push(Segment::Lit(l));
        }
        out.push(Segment::Field(field));
    }
    if let Some(l) = lit.take() {
        out.push(Segment::Lit(l));
    }
    Ok(out)
}

/// Literal text gathered from slices: borrowed while it is one slice.
#[derive(Default)]
struct Lit<'a> {
    text: Option<Cow<'a, str>>,
}

impl<'a> Lit<'a> {
    fn push(&mut self, fmt: &'a str, from: usize, to: usize) {
        if from == to {
            return;
        }
        let piece = &fmt[from..to];
        self.text = Some(match self.text.take() {
            None => Cow::Borrowed(piece),
            Some(prev) => Cow::Owned(prev.into_owned() + piece),
        });
    }

    fn take(&mut self) -> Option<Cow<'a, str>> {
        self.text.take()
    }
}

/// Parses the field that starts at `i` (just after its `{`); returns it and
/// the index after its `}`.
fn field<'a>(
    fmt: &'a str,
    mut i: usize,
    depth: usize,
    numbering: &mut Numbering,
) -> Result<(Field<'a>, usize), FormatError> {
    let bytes = fmt.as_bytes();
    let name_start = i;
    // The name ends at `}`, `:` or `!`; brackets may hold any of those.
    let mut end = None;
    while i < bytes.len() {
        let c = bytes[i];
        i += 1;
        match c {
            b'{' => return Err(FormatError::BraceInName),
            b'[' => {
                while i < bytes.len() && bytes[i] != b']' {
                    i += 1;
                }
            }
            b'}' | b':' | b'!' => {
                end = Some(c);
                break;
            }
            _ => {}
        }
    }
    let Some(end) = end else {
        return Err(FormatError::Unclosed);
    };
    let name = &fmt[name_start..i - 1];
    let (arg, access) = field_name(name, numbering)?;
    let mut conversion = None;
    let mut spec = Vec::new();
    if end == b'!' {
        let c = fmt[i..].chars().next().ok_or(FormatError::Unclosed)?;
        i += c.len_utf8();
        conversion = Some(Conversion::of(c).ok_or(FormatError::BadConversion)?);
        match bytes.get(i) {
            Some(b'}') => return Ok((field_of(arg, access, conversion, spec), i + 1)),
            Some(b':') => i += 1,
            Some(_) => return Err(FormatError::AfterConversion),
            None => return Err(FormatError::Unclosed),
        }
    } else if end == b'}' {
        return Ok((field_of(arg, access, conversion, spec), i));
    }
    // The spec runs to the `}` that balances the field's `{`.
    let spec_start = i;
    let mut level = 1usize;
    let mut nested = false;
    while i < bytes.len() {
        match bytes[i] {
            b'{' => {
                nested = true;
                level += 1;
            }
            b'}' => {
                level -= 1;
                if level == 0 {
                    break;
                }
            }
            _ => {}
        }
        i += 1;
    }
    if level != 0 {
        return Err(FormatError::Unclosed);
    }
    let text = &fmt[spec_start..i];
    if nested {
        spec = braces(text, depth - 1, numbering)?;
    } else if !text.is_empty() {
        spec.push(Segment::Lit(Cow::Borrowed(text)));
    }
    Ok((field_of(arg, access, conversion, spec), i + 1))
}

fn field_of<'a>(
    arg: Arg<'a>,
    access: Vec<Access<'a>>,
    conversion: Option<Conversion>,
    spec: Vec<Segment<'a>>,
) -> Field<'a> {
    Field {
        arg,
        access,
        conversion,
        spec,
    }
}

/// An index as Python reads it: ASCII digits (`Err` on overflow), or None
/// for anything else. A non-ASCII digit is an index to Python; not followed.
fn index_of(s: &str) -> Result<Option<usize>, FormatError> {
    if s.is_empty() {
        return Ok(None);
    }
    if s.bytes().all(|b| b.is_ascii_digit()) {
        return s.parse().map(Some).map_err(|_| FormatError::TooLarge);
    }
    if s.chars().any(|c| !c.is_ascii() && c.is_numeric()) {
        return Err(FormatError::Unsupported);
    }
    Ok(None)
}

/// `first.attr[key]...`: the argument and the lookups on it.
fn field_name<'a>(
    name: &'a str,
    numbering: &mut Numbering,
) -> Result<(Arg<'a>, Vec<Access<'a>>), FormatError> {
    let first_end = name.find(['.', '[']).unwrap_or(name.len());
    let first = &name[..first_end];
    let arg = if first.is_empty() {
        if numbering.manual {
            return Err(FormatError::MixedNumbering);
        }
        let n = numbering.auto.map_or(0, |n| n + 1);
        numbering.auto = Some(n);
        Arg::Index(n)
    } else if let Some(n) = index_of(first)? {
        if numbering.auto.is_some() {
            return Err(FormatError::MixedNumbering);
        }
        numbering.manual = true;
        Arg::Index(n)
    } else {
        Arg::Name(first)
    };
    let mut access = Vec::new();
    let mut rest = &name[first_end..];
    while let Some(c) = rest.chars().next() {
        match c {
            '.' => {
                let body = &rest[1..];
                let end = body.find(['.', '[']).unwrap_or(body.len());
                if end == 0 {
                    return Err(FormatError::EmptyAccess);
                }
                access.push(Access::Attr(&body[..end]));
                rest = &body[end..];
            }
            '[' => {
                let body = &rest[1..];
                let end = body.find(']').ok_or(FormatError::MissingBracket)?;
                let key = &body[..end];
                if key.is_empty() {
                    return Err(FormatError::EmptyAccess);
                }
                access.push(match index_of(key)? {
                    Some(n) => Access::Index(n),
                    None => Access::Key(key),
                });
                rest = &body[end + 1..];
                if !rest.is_empty() && !rest.starts_with(['.', '[']) {
                    return Err(FormatError::AfterBracket);
                }
            }
            _ => return Err(FormatError::AfterBracket),
        }
    }
    Ok((arg, access))
}

/// A piece of a `%` format string.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PercentSegment<'a> {
    Lit(Cow<'a, str>),
    Spec(PercentSpec<'a>),
}

/// A width or precision: a number, or `*` (taken from the arguments).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Count {
    N(usize),
    Star,
}

/// `%(key)#-08.3d`
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PercentSpec<'a> {
    pub key: Option<&'a str>,
    pub flags: &'a str,
    pub width: Option<Count>,
    pub precision: Option<Count>,
    pub conversion: char,
}

impl PercentSpec<'_> {
    /// No flags, width or precision: the conversion alone decides the text.
    pub fn is_plain(&self) -> bool {
        self.flags.is_empty() && self.width.is_none() && self.precision.is_none()
    }

    /// The conversion makes a number of the value (`%d`, `%.2f`, `%x`).
    pub fn is_numeric(&self) -> bool {
        "diuoxXeEfFgG".contains(self.conversion)
    }
}

/// Splits a `%` format string into literal text and conversion specifiers.
pub fn parse_percent(fmt: &str) -> Result<Vec<PercentSegment<'_>>, FormatError> {
    let bytes = fmt.as_bytes();
    let mut out = Vec::new();
    let mut lit = Lit::default();
    let mut i = 0;
    while i < bytes.len() {
        let start = i;
        while i < bytes.len() && bytes[i] != b'%' {
            i += 1;
        }
        lit.push(fmt, start, i);
        if i == bytes.len() {
            break;
        }
        i += 1;
        if bytes.get(i) == Some(&b'%') {
            lit.push(fmt, i, i + 1);
            i += 1;
            continue;
        }
        let mut key = None;
        if bytes.get(i) == Some(&b'(') {
            // The key runs to the `)` that balances the `(`.
            let key_start = i + 1;
            let mut level = 1usize;
            i += 1;
            while i < bytes.len() && level > 0 {
                match bytes[i] {
                    b'(' => level += 1,
                    b')' => level -= 1,
                    _ => {}
                }
                i += 1;
            }
            if level > 0 {
                return Err(FormatError::Incomplete);
            }
            key = Some(&fmt[key_start..i - 1]);
        }
        let flags_start = i;
        while i < bytes.len() && b"-+ #0".contains(&bytes[i]) {
            i += 1;
        }
        let flags = &fmt[flags_start..i];
        let width = count(fmt, &mut i)?;
        let precision = if bytes.get(i) == Some(&b'.') {
            i += 1;
            Some(count(fmt, &mut i)?.unwrap_or(Count::N(0)))
        } else {
            None
        };
        if matches!(bytes.get(i), Some(b'h' | b'l' | b'L')) {
            i += 1;
        }
        let conversion = fmt[i..].chars().next().ok_or(FormatError::Incomplete)?;
        i += conversion.len_utf8();
        if conversion == '%' {
            // `%5%` is a `%` to Python; rare enough not to follow.
            return Err(FormatError::Unsupported);
        }
        if !"sraidiouxXeEfFgGc".contains(conversion) {
            return Err(FormatError::UnknownConversion);
        }
        if let Some(l) = lit.take() {
            out.push(PercentSegment::Lit(l));
        }
        out.push(PercentSegment::Spec(PercentSpec {
            key,
            flags,
            width,
            precision,
            conversion,
        }));
    }
    if let Some(l) = lit.take() {
        out.push(PercentSegment::Lit(l));
    }
    Ok(out)
}

fn count(fmt: &str, i: &mut usize) -> Result<Option<Count>, FormatError> {
    let bytes = fmt.as_bytes();
    if bytes.get(*i) == Some(&b'*') {
        *i += 1;
        return Ok(Some(Count::Star));
    }
    let start = *i;
    while *i < bytes.len() && bytes[*i].is_ascii_digit() {
        *i += 1;
    }
    if start == *i {
        return Ok(None);
    }
    fmt[start..*i]
        .parse()
        .map(|n| Some(Count::N(n)))
        .map_err(|_| FormatError::TooLarge)
}

/// A constant whose formatted text the audit can know.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Const {
    Str(String),
    Int(i64),
    Bool(bool),
    None,
}

impl Const {
    /// The constant a value is, if it is one of the kinds above.
    pub fn of(v: &Value) -> Option<Const> {
        match &v.kind {
            Kind::Str(s) => Some(Const::Str(s.to_string())),
            Kind::Int(n) => Some(Const::Int(*n)),
            Kind::Bool(b) => Some(Const::Bool(*b)),
            Kind::None => Some(Const::None),
            _ => None,
        }
    }

    /// `str(value)`.
    pub fn str(&self) -> String {
        match self {
            Const::Str(s) => s.clone(),
            Const::Int(n) => n.to_string(),
            Const::Bool(true) => "True".into(),
            Const::Bool(false) => "False".into(),
            Const::None => "None".into(),
        }
    }

    /// `repr(value)`; None for a string whose repr depends on which
    /// non-ASCII characters Python deems printable.
    pub fn repr(&self) -> Option<String> {
        match self {
            Const::Str(s) => quote(s, false),
            other => Some(other.str()),
        }
    }

    /// `ascii(value)`.
    pub fn ascii(&self) -> String {
        match self {
            Const::Str(s) => quote(s, true).unwrap_or_default(),
            other => other.str(),
        }
    }

    /// The value after a conversion.
    pub fn convert(self, conversion: Option<Conversion>) -> Option<Const> {
        Some(match conversion {
            None => self,
            Some(Conversion::Str) => Const::Str(self.str()),
            Some(Conversion::Repr) => Const::Str(self.repr()?),
            Some(Conversion::Ascii) => Const::Str(self.ascii()),
        })
    }

    /// `format(value, spec)` where its text is certain: an empty spec, `s`
    /// on a string, `d` on an integer. None for any other spec (widths,
    /// alignment, precision, locale-dependent `n`...) and for what Python
    /// rejects (`d` on a string).
    pub fn format(&self, spec: &str) -> Option<String> {
        match (self, spec) {
            (c, "") => Some(c.str()),
            (Const::Str(s), "s") => Some(s.clone()),
            (Const::Int(n), "d") => Some(n.to_string()),
            (Const::Bool(b), "d") => Some(i64::from(*b).to_string()),
            _ => None,
        }
    }

    /// What a `%` specifier makes of the value where its text is certain:
    /// `%s`, `%r`, `%a` of anything, `%d`/`%i`/`%u` of an integer, with no
    /// flags, width or precision.
    pub fn percent(&self, spec: &PercentSpec) -> Option<String> {
        if !spec.is_plain() {
            return None;
        }
        match (spec.conversion, self) {
            ('s', c) => Some(c.str()),
            ('r', c) => c.repr(),
            ('a', c) => Some(c.ascii()),
            ('d' | 'i' | 'u', Const::Int(n)) => Some(n.to_string()),
            ('d' | 'i' | 'u', Const::Bool(b)) => Some(i64::from(*b).to_string()),
            _ => None,
        }
    }
}

/// Python's quoting of a string by `repr` (`ascii` when `ascii_only`): single
/// quotes unless the text holds `'` and no `"`. Without `ascii_only`, None
/// for non-ASCII text (which Python keeps or escapes by its Unicode tables).
fn quote(s: &str, ascii_only: bool) -> Option<String> {
    use std::fmt::Write;
    let q = if s.contains('\'') && !s.contains('"') {
        '"'
    } else {
        '\''
    };
    let mut out = String::with_capacity(s.len() + 2);
    out.push(q);
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c == q => {
                out.push('\\');
                out.push(c);
            }
            ' '..='~' => out.push(c),
            c if (c as u32) < 0x80 => {
                let _ = write!(out, "\\x{:02x}", c as u32);
            }
            _ if !ascii_only => return None,
            c if (c as u32) < 0x100 => {
                let _ = write!(out, "\\x{:02x}", c as u32);
            }
            c if (c as u32) < 0x10000 => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => {
                let _ = write!(out, "\\U{:08x}", c as u32);
            }
        }
    }
    out.push(q);
    Some(out)
}

/// The operands of `fmt % rhs`, bound to the specifiers the way Python binds
/// them: a tuple's items in order (as many as there are specifiers), a
/// dict's items by key, else `rhs` itself for the one specifier. None where
/// Python would raise, or where the binding depends on what the audit does
/// not know (`*` widths, a mapping read by position, a dict with `**`).
pub fn bind_percent<'s, 'v>(
    specs: &[&'s PercentSpec<'s>],
    rhs: &'v Value,
) -> Option<Vec<&'v Value>> {
    if specs
        .iter()
        .any(|s| s.width == Some(Count::Star) || s.precision == Some(Count::Star))
    {
        return None;
    }
    let keyed = specs.iter().filter(|s| s.key.is_some()).count();
    if keyed > 0 {
        // Keys look up a mapping; a positional specifier beside them would
        // take the mapping itself.
        if keyed != specs.len() {
            return None;
        }
        let items = rhs.as_dict()?;
        if items.iter().any(|(k, _)| k.is_none()) {
            return None;
        }
        return specs
            .iter()
            .map(|s| {
                let key = s.key?;
                // The last of duplicate keys wins.
                items
                    .iter()
                    .rev()
                    .find(|(k, _)| k.as_ref().and_then(Value::as_str) == Some(key))
                    .map(|(_, v)| v)
            })
            .collect();
    }
    match &rhs.kind {
        Kind::Tuple(items) => (items.len() == specs.len()).then(|| items.iter().collect()),
        // A dict or any other mapping beside positional specifiers: its repr.
        Kind::Dict(_) => None,
        _ if Const::of(rhs).is_some() => (specs.len() == 1).then(|| vec![rhs]),
        // An unknown operand might be a tuple at run time.
        _ => None,
    }
}

/// The conversion specifiers of a parsed `%` format, in order.
pub fn percent_specs<'a, 'b>(segments: &'a [PercentSegment<'b>]) -> Vec<&'a PercentSpec<'b>> {
    segments
        .iter()
        .filter_map(|s| match s {
            PercentSegment::Spec(p) => Some(p),
            PercentSegment::Lit(_) => None,
        })
        .collect()
}

/// `fmt % rhs` with constant operands, where Python's text is certain.
pub fn fold_percent(fmt: &str, rhs: &Value) -> Option<String> {
    let segments = parse_percent(fmt).ok()?;
    let specs = percent_specs(&segments);
    let mut values = if specs.is_empty() {
        // `"text" % ()` and `"text" % {...}` are the text; a string or a
        // number operand raises.
        let empty = matches!(&rhs.kind, Kind::Tuple(t) if t.is_empty()) || rhs.as_dict().is_some();
        empty.then(Vec::new)?
    } else {
        bind_percent(&specs, rhs)?
    }
    .into_iter();
    let mut out = String::new();
    for s in &segments {
        match s {
            PercentSegment::Lit(t) => out.push_str(t),
            PercentSegment::Spec(p) => out.push_str(&Const::of(values.next()?)?.percent(p)?),
        }
    }
    Some(out)
}

/// A call that formats one value the way a replacement field does:
/// `format(x, spec)`, `repr(x)`, `ascii(x)`, `str(x)` (the evaluator writes
/// an f-string's `{x!r:>5}` as `format(repr(x), ">5")`). Returns the value,
/// the conversion and the spec value.
pub fn formatted(v: &Value) -> Option<(&Value, Option<Conversion>, Option<&Value>)> {
    let c: &Call = v.as_call()?;
    if c.spread || !c.kwargs.is_empty() {
        return None;
    }
    let name = c.func_name()?;
    match (name.as_str(), &c.args[..]) {
        ("format", [x]) => Some((x, None, None)),
        ("format", [x, spec]) => match formatted(x) {
            Some((inner, conv @ Some(_), None)) => Some((inner, conv, Some(spec))),
            _ => Some((x, None, Some(spec))),
        },
        ("repr", [x]) => Some((x, Some(Conversion::Repr), None)),
        ("ascii", [x]) => Some((x, Some(Conversion::Ascii), None)),
        ("str", [x]) => Some((x, Some(Conversion::Str), None)),
        _ => None,
    }
}

/// [`formatted`] for the calls the evaluator writes for an f-string field
/// with a conversion or a spec (`{x!r}`, `{x:>5}`): they span the field's
/// expression itself, while a call in the source spans more than its
/// argument (`{str(x)}`).
pub fn formatted_field(v: &Value) -> Option<(&Value, Option<Conversion>, Option<&Value>)> {
    formatted(v).filter(|(x, ..)| x.range == v.range)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lit(s: &str) -> Segment<'_> {
        Segment::Lit(Cow::Borrowed(s))
    }

    fn field(arg: Arg<'_>) -> Field<'_> {
        Field {
            arg,
            access: Vec::new(),
            conversion: None,
            spec: Vec::new(),
        }
    }

    #[test]
    fn literal_text_and_escapes() {
        assert_eq!(parse_braces(""), Ok(vec![]));
        assert_eq!(parse_braces("abc"), Ok(vec![lit("abc")]));
        assert_eq!(parse_braces("a{{b}}c"), Ok(vec![lit("a{b}c")]));
        assert_eq!(parse_braces("{{}}"), Ok(vec![lit("{}")]));
    }

    #[test]
    fn automatic_manual_and_named_fields() {
        assert_eq!(
            parse_braces("{}:{}"),
            Ok(vec![
                Segment::Field(field(Arg::Index(0))),
                lit(":"),
                Segment::Field(field(Arg::Index(1))),
            ])
        );
        assert_eq!(
            parse_braces("{1}{0}{1}").map(|s| s.len()),
            Ok(3),
            "manual indexes may repeat"
        );
        assert_eq!(
            parse_braces("{host}"),
            Ok(vec![Segment::Field(field(Arg::Name("host")))])
        );
        // Named fields mix with either numbering.
        assert!(parse_braces("{}{name}{}").is_ok());
        assert!(parse_braces("{0}{name}{1}").is_ok());
        assert_eq!(parse_braces("{}{0}"), Err(FormatError::MixedNumbering));
        assert_eq!(parse_braces("{0}{}"), Err(FormatError::MixedNumbering));
        // Not all digits: a keyword.
        assert_eq!(
            parse_braces("{1a}"),
            Ok(vec![Segment::Field(field(Arg::Name("1a")))])
        );
    }

    #[test]
    fn attribute_and_item_access() {
        let Ok(segs) = parse_braces("{user.name}{0[key]}") else {
            panic!("parses")
        };
        let fields: Vec<&Field> = segs
            .iter()
            .filter_map(|s| match s {
                Segment::Field(f) => Some(f),
                Segment::Lit(_) => None,
            })
            .collect();
        assert_eq!(fields[0].arg, Arg::Name("user"));
        assert_eq!(fields[0].access, [Access::Attr("name")]);
        assert_eq!(fields[1].arg, Arg::Index(0));
        assert_eq!(fields[1].access, [Access::Key("key")]);
        // `{[1].x}` is automatic numbering: mixing with `{0[key]}` is an error.
        assert_eq!(
            parse_braces("{0[key]}{[1].x}"),
            Err(FormatError::MixedNumbering)
        );
        let Ok(segs) = parse_braces("{[1].x}") else {
            panic!("parses")
        };
        assert_eq!(
            segs,
            [Segment::Field(Field {
                access: vec![Access::Index(1), Access::Attr("x")],
                ..field(Arg::Index(0))
            })]
        );
        // Brackets may hold `:`, `!` and `}`.
        let Ok(segs) = parse_braces("{d[a:b!}]}") else {
            panic!("parses")
        };
        assert!(matches!(&segs[0], Segment::Field(f) if f.access == [Access::Key("a:b!}")]));
    }

    #[test]
    fn conversions_and_specs() {
        let one = |s: &'static str| match parse_braces(s) {
            Ok(mut v) if v.len() == 1 => match v.remove(0) {
                Segment::Field(f) => f,
                Segment::Lit(_) => panic!("{s}: a literal"),
            },
            other => panic!("{s}: {other:?}"),
        };
        assert_eq!(one("{!r}").conversion, Some(Conversion::Repr));
        assert_eq!(one("{0!s}").conversion, Some(Conversion::Str));
        assert_eq!(one("{x!a}").conversion, Some(Conversion::Ascii));
        let f = one("{port:d}");
        assert_eq!(
            (f.arg, f.literal_spec().as_deref()),
            (Arg::Name("port"), Some("d"))
        );
        let f = one("{x!r:>10}");
        assert_eq!(f.conversion, Some(Conversion::Repr));
        assert_eq!(f.literal_spec().as_deref(), Some(">10"));
        // An empty spec after `:` is no spec.
        assert_eq!(one("{:}").spec, []);
        // Nested fields in the spec take the next automatic numbers.
        let f = one("{:{}.{}}");
        assert_eq!(f.arg, Arg::Index(0));
        assert_eq!(f.literal_spec(), None);
        assert_eq!(
            f.spec,
            [
                Segment::Field(field(Arg::Index(1))),
                lit("."),
                Segment::Field(field(Arg::Index(2))),
            ]
        );
        let f = one("{x:>{width}}");
        assert_eq!(
            f.spec,
            [lit(">"), Segment::Field(field(Arg::Name("width")))]
        );
    }

    #[test]
    fn malformed_format_strings_are_errors() {
        for (fmt, err) in [
            ("{", FormatError::Unclosed),
            ("x{0", FormatError::Unclosed),
            ("}", FormatError::SingleClose),
            ("a}b", FormatError::SingleClose),
            ("{a{b}}", FormatError::BraceInName),
            ("{0!x}", FormatError::BadConversion),
            ("{0!", FormatError::Unclosed),
            ("{0!r", FormatError::Unclosed),
            ("{0!rr}", FormatError::AfterConversion),
            ("{0:>5", FormatError::Unclosed),
            ("{0:{}", FormatError::Unclosed),
            ("{0.}", FormatError::EmptyAccess),
            ("{0[]}", FormatError::EmptyAccess),
            ("{0[1}", FormatError::Unclosed),
            ("{0[1]x}", FormatError::AfterBracket),
            ("{0:{1:{2}}}", FormatError::TooDeep),
            ("{99999999999999999999999}", FormatError::TooLarge),
            ("{\u{0661}}", FormatError::Unsupported),
        ] {
            assert_eq!(parse_braces(fmt), Err(err), "{fmt}");
        }
        // A nested field whose own spec is plain text is fine.
        assert!(parse_braces("{0:{1:>3}}").is_ok());
    }

    #[test]
    fn hostile_format_strings_do_not_panic() {
        for fmt in [
            "{é}", "{é!é}", "{:é}", "{0[é", "{0.é[", "%é", "%(é", "%(é)é", "%.é", "{{{", "}}}",
            "{!", "{:", "%", "%(", "%*.*", "%l",
        ] {
            let _ = parse_braces(fmt);
            let _ = parse_percent(fmt);
        }
        let deep = "{".repeat(10_000) + &"}".repeat(10_000);
        let _ = parse_braces(&deep);
    }

    fn spec(conversion: char) -> PercentSpec<'static> {
        PercentSpec {
            key: None,
            flags: "",
            width: None,
            precision: None,
            conversion,
        }
    }

    #[test]
    fn percent_specifiers() {
        assert_eq!(
            parse_percent("%s:%d"),
            Ok(vec![
                PercentSegment::Spec(spec('s')),
                PercentSegment::Lit(":".into()),
                PercentSegment::Spec(spec('d')),
            ])
        );
        assert_eq!(
            parse_percent("100%% %(name)s"),
            Ok(vec![
                PercentSegment::Lit("100% ".into()),
                PercentSegment::Spec(PercentSpec {
                    key: Some("name"),
                    ..spec('s')
                }),
            ])
        );
        assert_eq!(
            parse_percent("%(a(b))-08.3ld"),
            Ok(vec![PercentSegment::Spec(PercentSpec {
                key: Some("a(b)"),
                flags: "-0",
                width: Some(Count::N(8)),
                precision: Some(Count::N(3)),
                conversion: 'd',
            })])
        );
        assert_eq!(
            parse_percent("%*.*f"),
            Ok(vec![PercentSegment::Spec(PercentSpec {
                width: Some(Count::Star),
                precision: Some(Count::Star),
                ..spec('f')
            })])
        );
        assert_eq!(parse_percent("%"), Err(FormatError::Incomplete));
        assert_eq!(parse_percent("%(a"), Err(FormatError::Incomplete));
        assert_eq!(parse_percent("%-"), Err(FormatError::Incomplete));
        assert_eq!(parse_percent("50%'"), Err(FormatError::UnknownConversion));
        assert_eq!(parse_percent("%y"), Err(FormatError::UnknownConversion));
        assert_eq!(parse_percent("%5%"), Err(FormatError::Unsupported));
    }

    #[test]
    fn constants_format_only_where_certain() {
        let s = |t: &str| Const::Str(t.into());
        assert_eq!(Const::Int(8000).format(""), Some("8000".into()));
        assert_eq!(Const::Int(8000).format("d"), Some("8000".into()));
        assert_eq!(Const::Int(-5).format("d"), Some("-5".into()));
        assert_eq!(s("a").format("s"), Some("a".into()));
        assert_eq!(Const::Bool(true).format(""), Some("True".into()));
        assert_eq!(Const::None.format(""), Some("None".into()));
        // Padding, alignment, other types, and what Python rejects.
        assert_eq!(s("a").format(">5"), None);
        assert_eq!(Const::Int(5).format("05d"), None);
        assert_eq!(Const::Int(5).format("x"), None);
        assert_eq!(Const::Int(5).format("n"), None);
        assert_eq!(s("5").format("d"), None);
        assert_eq!(Const::Int(5).format("s"), None);
        assert_eq!(Const::None.format("s"), None);
    }

    #[test]
    fn conversions_of_constants() {
        let s = |t: &str| Const::Str(t.into());
        let repr = |t: &str| s(t).repr();
        assert_eq!(repr("app"), Some("'app'".into()));
        assert_eq!(repr("it's"), Some("\"it's\"".into()));
        assert_eq!(repr("\"it's\""), Some("'\"it\\'s\"'".into()));
        assert_eq!(
            repr("a\\b\n\t\x01\x7f"),
            Some("'a\\\\b\\n\\t\\x01\\x7f'".into())
        );
        assert_eq!(repr("é"), None);
        assert_eq!(s("é\u{263a}\u{1f600}").ascii(), "'\\xe9\\u263a\\U0001f600'");
        assert_eq!(Const::Int(3).repr(), Some("3".into()));
        assert_eq!(Const::Int(3).convert(Some(Conversion::Repr)), Some(s("3")));
        assert_eq!(s("x").convert(Some(Conversion::Repr)), Some(s("'x'")));
        // `{x!s:d}` formats a string with `d`: Python raises.
        assert_eq!(
            Const::Int(1)
                .convert(Some(Conversion::Str))
                .and_then(|c| c.format("d")),
            None
        );
    }

    #[test]
    fn constants_through_percent_specifiers() {
        let p = |fmt: &str, c: Const| match parse_percent(fmt).unwrap().first() {
            Some(PercentSegment::Spec(sp)) => c.percent(sp),
            _ => panic!("{fmt}"),
        };
        assert_eq!(p("%s", Const::Int(80)), Some("80".into()));
        assert_eq!(p("%d", Const::Int(80)), Some("80".into()));
        assert_eq!(p("%i", Const::Bool(true)), Some("1".into()));
        assert_eq!(p("%r", Const::Str("a".into())), Some("'a'".into()));
        assert_eq!(p("%s", Const::None), Some("None".into()));
        assert_eq!(p("%d", Const::Str("80".into())), None);
        assert_eq!(p("%5s", Const::Str("a".into())), None);
        assert_eq!(p("%.1s", Const::Str("ab".into())), None);
        assert_eq!(p("%x", Const::Int(255)), None);
    }
}
