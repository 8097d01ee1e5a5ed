//! What must hold for every input: no panic caught per file, and every finding
//! and related location inside a file of the run (line and column within that
//! line, the end not before the start).

use std::collections::HashMap;

use audit::AuditOutcome;
use report::{FileLocation, Location};

use super::seeds::Files;

/// Character lengths of each line of each file (BOM removed), split on `\n`
/// as reports count lines. A file that is not UTF-8 is not read, so only its
/// start (line 1, column 1) can be pointed at: it counts as one empty line.
fn line_lengths(files: &Files) -> HashMap<&str, Vec<u32>> {
    files
        .iter()
        .map(|(rel, bytes)| {
            let lens = match std::str::from_utf8(bytes) {
                Ok(text) => {
                    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
                    text.split('\n').map(|l| l.chars().count() as u32).collect()
                }
                Err(_) => vec![0],
            };
            (rel.as_str(), lens)
        })
        .collect()
}

pub fn outcome(files: &Files, outcome: &AuditOutcome) -> Result<(), String> {
    let report = &outcome.report;
    if let Some(d) = report
        .diagnostics
        .iter()
        .find(|d| d.message.contains("internal error"))
    {
        return Err(format!("a panic was caught: {d:?}"));
    }
    let lines = line_lengths(files);
    for f in &report.findings {
        let locations = std::iter::once(&f.location).chain(f.related.iter().map(|r| &r.location));
        for loc in locations {
            let Location::File(loc) = loc else {
                return Err(format!(
                    "{} has a URL location in an audit: {loc:?}",
                    f.control
                ));
            };
            within(&lines, loc).map_err(|e| format!("{} {}: {e}", f.control, f.check))?;
        }
    }
    Ok(())
}

fn within(lines: &HashMap<&str, Vec<u32>>, loc: &FileLocation) -> Result<(), String> {
    let Some(lens) = lines.get(loc.path.as_str()) else {
        return Err(format!(
            "location in a file the audit did not read: {loc:?}"
        ));
    };
    let len_of = |line: u32| -> Option<u32> { lens.get((line as usize).checked_sub(1)?).copied() };
    let Some(len) = len_of(loc.line) else {
        return Err(format!(
            "line {} of {} lines: {loc:?}",
            loc.line,
            lens.len()
        ));
    };
    if loc.column == 0 || loc.column > len + 1 {
        return Err(format!(
            "column {} on a line of {len} characters: {loc:?}",
            loc.column
        ));
    }
    if (loc.end_line, loc.end_column) <= (loc.line, loc.column) {
        return Err(format!("the end is not after the start: {loc:?}"));
    }
    let Some(end_len) = len_of(loc.end_line) else {
        return Err(format!(
            "end line {} of {} lines: {loc:?}",
            loc.end_line,
            lens.len()
        ));
    };
    // A point location (one past its column) may sit just after the line's end.
    let point = loc.end_line == loc.line && loc.end_column == loc.column + 1;
    if loc.end_column > end_len + 1 + u32::from(point) {
        return Err(format!(
            "end column {} on a line of {end_len} characters: {loc:?}",
            loc.end_column
        ));
    }
    Ok(())
}
