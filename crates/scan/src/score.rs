//! Score and grade, explained line by line (docs/scan-scoring.md).
//!
//! The method is the Mozilla HTTP Observatory's, so grades compare: start at 100,
//! subtract every penalty, add bonuses only if the result is still 90 or more,
//! never go below 0, and map the score to the Observatory's grade bands. For the
//! tests the Observatory runs (CSP, cookies, CORS, redirection, Referrer-Policy,
//! HSTS, SRI, nosniff, X-Frame-Options, CORP) each test counts once, with the
//! Observatory's modifier for its result (the worst result when several of our
//! checks feed one test). flaskguard's own modifiers (debugger, weak session key,
//! readable session, exposed files, error leaks, host reflection, rate limits…)
//! count once per named outcome.

use std::collections::BTreeMap;

use report::{Score, ScoreLine};

use crate::checks::{Table, Verdict};

/// Bonuses count only from this score up.
pub const BONUS_THRESHOLD: i32 = 90;

/// The Observatory's grade bands: (lowest score, grade).
pub const GRADES: &[(i32, &str)] = &[
    (100, "A+"),
    (90, "A"),
    (85, "A-"),
    (80, "B+"),
    (70, "B"),
    (65, "B-"),
    (60, "C+"),
    (50, "C"),
    (45, "C-"),
    (40, "D+"),
    (30, "D"),
    (25, "D-"),
    (0, "F"),
];

pub fn grade(score: i32) -> &'static str {
    GRADES
        .iter()
        .find(|(min, _)| score >= *min)
        .map(|(_, g)| *g)
        .unwrap_or("F")
}

/// Scores one target's verdicts. `label` (the target URL) prefixes each reason
/// when a report covers several targets.
pub fn score(verdicts: &[Verdict], label: Option<&str>) -> Score {
    // One result per Observatory test: the worst, or the best bonus when nothing failed.
    let mut tests: BTreeMap<&str, &Verdict> = BTreeMap::new();
    let mut ours: BTreeMap<&str, &Verdict> = BTreeMap::new();
    for v in verdicts {
        match (v.spec.table, v.observatory_test) {
            (Table::Observatory, Some(test)) => {
                let slot = tests.entry(test).or_insert(v);
                let (cur, new) = (slot.spec.modifier, v.spec.modifier);
                let worse = new < cur.min(0);
                let better_bonus = cur >= 0 && new >= 0 && new > cur;
                if worse || better_bonus {
                    *slot = v;
                }
            }
            _ => {
                ours.entry(v.spec.name).or_insert(v);
            }
        }
    }
    let prefix = |reason: String| match label {
        Some(l) => format!("[{l}] {reason}"),
        None => reason,
    };
    let line = |v: &Verdict, modifier: i32, reason: String| ScoreLine {
        outcome: v.spec.name.to_string(),
        control: v.spec.control.to_string(),
        modifier,
        table: v.spec.table.as_str().to_string(),
        reason: prefix(reason),
    };
    let mut lines = Vec::new();
    let mut penalties = 0;
    let mut bonuses = Vec::new();
    let chosen = tests
        .iter()
        .map(|(t, v)| (Some(*t), *v))
        .chain(ours.values().map(|v| (None, *v)));
    for (test, v) in chosen {
        let m = v.spec.modifier;
        let what = match test {
            Some(t) => format!("Observatory test `{t}`: {}", v.spec.message),
            None => v.spec.message.to_string(),
        };
        if m < 0 {
            penalties += m;
            lines.push(line(v, m, what));
        } else if m > 0 {
            bonuses.push((v, m, what));
        }
    }
    let base = 100 + penalties;
    let mut score = base;
    for (v, m, what) in bonuses {
        if base >= BONUS_THRESHOLD {
            score += m;
            lines.push(line(v, m, what));
        } else {
            lines.push(line(
                v,
                0,
                format!("{what} (bonus of +{m} withheld: the score before bonuses is {base}, below {BONUS_THRESHOLD})"),
            ));
        }
    }
    let score = score.max(0);
    Score {
        score,
        grade: grade(score).to_string(),
        lines,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::{cookies, headers, Outcome, Verdict};

    fn verdict<O: Outcome>(o: O, test: Option<&'static str>) -> Verdict {
        Verdict {
            check: "t",
            observatory_test: test,
            spec: o.spec(),
            url: "http://x/".into(),
            evidence: None,
            detail: None,
        }
    }

    #[test]
    fn bands_match_the_observatory() {
        let cases = [
            (135, "A+"),
            (100, "A+"),
            (99, "A"),
            (90, "A"),
            (85, "A-"),
            (84, "B+"),
            (70, "B"),
            (65, "B-"),
            (60, "C+"),
            (50, "C"),
            (45, "C-"),
            (40, "D+"),
            (30, "D"),
            (25, "D-"),
            (24, "F"),
            (0, "F"),
        ];
        for (s, g) in cases {
            assert_eq!(grade(s), g, "{s}");
        }
    }

    #[test]
    fn worst_result_per_test_and_bonuses_only_from_90() {
        let vs = vec![
            verdict(cookies::Secure::SessionInsecure, Some("cookies")),
            verdict(cookies::HttpOnly::Missing, Some("cookies")),
            verdict(headers::Referrer::Private, Some("referrer-policy")),
        ];
        let s = score(&vs, None);
        // -40 only (the worst cookie result), and the +5 withheld below 90.
        assert_eq!(s.score, 60);
        assert_eq!(s.grade, "C+");
        assert!(s
            .lines
            .iter()
            .any(|l| l.modifier == 0 && l.reason.contains("withheld")));

        let vs = vec![
            verdict(headers::Referrer::Private, Some("referrer-policy")),
            verdict(
                headers::Corp::SameOrigin,
                Some("cross-origin-resource-policy"),
            ),
        ];
        let s = score(&vs, Some("http://x/"));
        assert_eq!((s.score, s.grade.as_str()), (115, "A+"));
        assert!(s.lines[0].reason.starts_with("[http://x/]"));
    }

    #[test]
    fn never_below_zero() {
        let vs = vec![
            verdict(crate::checks::debug::Console::Exposed, None),
            verdict(crate::checks::debug::Traceback::Page, None),
        ];
        assert_eq!(score(&vs, None).score, 0);
    }
}
