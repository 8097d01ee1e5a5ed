//! Which version of a dependency the project declares, as far as its
//! requirement specifiers tell: enough to decide "at least 3.1" or "before
//! 3.1" when the pins or ranges say so, and nothing when they do not.

use crate::model::Project;

/// A version as numbers (`3.1.2` -> [3, 1, 2]); pre-release tails are dropped.
pub fn parse_version(s: &str) -> Option<Vec<u64>> {
    let s = s.trim().trim_start_matches('v');
    let mut out = Vec::new();
    for part in s.split('.') {
        let digits: String = part.chars().take_while(char::is_ascii_digit).collect();
        if digits.is_empty() {
            break;
        }
        out.push(digits.parse().ok()?);
        if digits.len() != part.len() {
            break;
        }
    }
    (!out.is_empty()).then_some(out)
}

fn cmp(a: &[u64], b: &[u64]) -> std::cmp::Ordering {
    let n = a.len().max(b.len());
    for i in 0..n {
        let (x, y) = (a.get(i).unwrap_or(&0), b.get(i).unwrap_or(&0));
        match x.cmp(y) {
            std::cmp::Ordering::Equal => {}
            o => return o,
        }
    }
    std::cmp::Ordering::Equal
}

/// Whether a specifier (`==2.2.2`, `>=3.1,<4`, `~=3.0`, `^3.1`, `<3.1`) puts
/// the version at or above `min` (Some(true)), below it (Some(false)), or
/// leaves it open (None).
pub fn spec_at_least(spec: &str, min: &[u64]) -> Option<bool> {
    let mut verdict = None;
    for clause in spec.split(',').map(str::trim).filter(|c| !c.is_empty()) {
        let (op, rest) = ["===", "==", ">=", "<=", "~=", "!=", ">", "<", "^", "~"]
            .iter()
            .find_map(|op| clause.strip_prefix(op).map(|r| (*op, r)))?;
        let wildcard = rest.trim().ends_with(".*");
        let v = parse_version(rest.trim().trim_end_matches(".*"))?;
        let this = match op {
            "==" | "===" if !wildcard => Some(cmp(&v, min).is_ge()),
            // ==3.* / ~=3.1 / ^3.1 / >=3.1: a lower bound (and more).
            "==" | "===" | ">=" | "~=" | "^" | "~" | ">" => cmp(&v, min).is_ge().then_some(true),
            // <3.1 / <=3.0.9: an upper bound.
            "<" => cmp(&v, min).is_le().then_some(false),
            "<=" => cmp(&v, min).is_lt().then_some(false),
            _ => None,
        };
        if let Some(t) = this {
            if verdict.is_some_and(|v| v != t) {
                return None;
            }
            verdict = Some(t);
        }
    }
    verdict
}

/// Whether every declaration of `package` (requirements files, pyproject)
/// agrees that its version is at least `min`; None when undeclared, open or
/// contradictory.
pub fn declared_at_least(project: &Project, package: &str, min: &[u64]) -> Option<bool> {
    let mut verdict = None;
    let declared = project
        .deploy
        .requirements
        .iter()
        .chain(project.deploy.pyprojects.iter().flat_map(|p| p.deps.iter()))
        .filter(|r| r.name == package);
    for r in declared {
        let this = match &r.pinned {
            Some(v) => parse_version(v).map(|v| cmp(&v, min).is_ge()),
            None => spec_at_least(&r.spec, min),
        };
        match (verdict, this) {
            (_, None) => return None,
            (Some(a), Some(b)) if a != b => return None,
            (_, b) => verdict = b,
        }
    }
    verdict
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn specifiers_against_three_one() {
        let min = [3, 1];
        assert_eq!(spec_at_least("==2.2.2", &min), Some(false));
        assert_eq!(spec_at_least("==3.1.0", &min), Some(true));
        assert_eq!(spec_at_least(">=3.1,<4", &min), Some(true));
        assert_eq!(spec_at_least("~=3.1", &min), Some(true));
        assert_eq!(spec_at_least("^3.1", &min), Some(true));
        assert_eq!(spec_at_least("<3.1", &min), Some(false));
        assert_eq!(spec_at_least(">=2.0,<3", &min), Some(false));
        assert_eq!(spec_at_least(">=2.0", &min), None);
        assert_eq!(spec_at_least("==3.*", &min), None);
        assert_eq!(spec_at_least("", &min), None);
        assert_eq!(parse_version("3.1.0rc1"), Some(vec![3, 1, 0]));
    }
}
