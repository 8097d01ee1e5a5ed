//! Which files git tracks, read from the index of the audited checkout (no git
//! process is run). Only what KEY004 needs: is a `.env` committed even though
//! `.gitignore` lists it now.
//!
//! The index format (versions 2 to 4): a 12-byte header `DIRC`, version, entry
//! count; then entries of 62 fixed bytes (+2 with the extended flag in v3+) and a
//! path, NUL-terminated and padded to 8 bytes (v2/v3), or prefix-compressed
//! against the previous path (v4).

use std::{
    collections::BTreeSet,
    path::{Path, PathBuf},
};

/// Index files larger than this are not read.
const MAX_INDEX: u64 = 256 * 1024 * 1024;

/// The paths (relative to the work tree, `/`-separated) tracked by the git
/// checkout whose work tree is `root`, or None when `root` is not one.
pub fn tracked_files(root: &Path) -> Option<BTreeSet<String>> {
    let index = index_path(root)?;
    if std::fs::metadata(&index).ok()?.len() > MAX_INDEX {
        return None;
    }
    parse_index(&std::fs::read(index).ok()?)
}

/// `.git/index`, also for worktrees and submodules where `.git` is a file
/// holding `gitdir: <path>`.
fn index_path(root: &Path) -> Option<PathBuf> {
    let dot_git = root.join(".git");
    let meta = std::fs::metadata(&dot_git).ok()?;
    if meta.is_dir() {
        return Some(dot_git.join("index"));
    }
    let text = std::fs::read_to_string(&dot_git).ok()?;
    let dir = text.lines().find_map(|l| l.strip_prefix("gitdir:"))?.trim();
    let dir = Path::new(dir);
    let dir = if dir.is_relative() {
        root.join(dir)
    } else {
        dir.to_path_buf()
    };
    Some(dir.join("index"))
}

fn u32_at(b: &[u8], at: usize) -> Option<u32> {
    let bytes: [u8; 4] = b.get(at..at + 4)?.try_into().ok()?;
    Some(u32::from_be_bytes(bytes))
}

/// Parses an index file; None when it is not one this reader understands.
pub fn parse_index(b: &[u8]) -> Option<BTreeSet<String>> {
    if b.get(..4)? != b"DIRC" {
        return None;
    }
    let version = u32_at(b, 4)?;
    if !(2..=4).contains(&version) {
        return None;
    }
    let count = u32_at(b, 8)? as usize;
    let mut out = BTreeSet::new();
    let mut pos = 12usize;
    let mut previous: Vec<u8> = Vec::new();
    for _ in 0..count {
        let start = pos;
        let flags = u16::from_be_bytes(b.get(start + 60..start + 62)?.try_into().ok()?);
        pos = start + 62;
        if version >= 3 && flags & 0x4000 != 0 {
            pos += 2;
        }
        let path = if version == 4 {
            // Varint: bytes to drop from the end of the previous path.
            let mut drop = 0usize;
            loop {
                let byte = *b.get(pos)?;
                pos += 1;
                drop = (drop & (usize::MAX >> 8)) << 7 | usize::from(byte & 0x7f);
                if byte & 0x80 == 0 {
                    break;
                }
                drop += 1;
            }
            let nul = pos + b.get(pos..)?.iter().position(|&c| c == 0)?;
            let keep = previous.len().checked_sub(drop)?;
            let mut path = previous[..keep].to_vec();
            path.extend_from_slice(&b[pos..nul]);
            pos = nul + 1;
            path
        } else {
            let nul = pos + b.get(pos..)?.iter().position(|&c| c == 0)?;
            let path = b[pos..nul].to_vec();
            // Entries are padded with 1-8 NULs to a multiple of 8 bytes.
            let len = nul - start;
            pos = start + (len + 8) / 8 * 8;
            path
        };
        out.insert(String::from_utf8_lossy(&path).into_owned());
        previous = path;
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry_v2(path: &str) -> Vec<u8> {
        let mut e = vec![0u8; 60];
        let flags = (path.len().min(0xfff)) as u16;
        e.extend_from_slice(&flags.to_be_bytes());
        e.extend_from_slice(path.as_bytes());
        let len = e.len();
        let padded = (len + 8) / 8 * 8;
        e.resize(padded, 0);
        e
    }

    #[test]
    fn reads_version_2_entries() {
        let mut b = b"DIRC".to_vec();
        b.extend_from_slice(&2u32.to_be_bytes());
        b.extend_from_slice(&2u32.to_be_bytes());
        b.extend(entry_v2(".env"));
        b.extend(entry_v2("app/config.py"));
        let set = parse_index(&b).unwrap();
        assert!(set.contains(".env") && set.contains("app/config.py"));
        assert_eq!(parse_index(b"DIRX"), None);
        assert_eq!(parse_index(&b[..40]), None, "truncated");
    }

    #[test]
    fn reads_version_4_prefix_compression() {
        let mut b = b"DIRC".to_vec();
        b.extend_from_slice(&4u32.to_be_bytes());
        b.extend_from_slice(&2u32.to_be_bytes());
        for (drop, suffix) in [(0u8, "app/a.py"), (4u8, "b.py")] {
            b.extend_from_slice(&[0u8; 60]);
            b.extend_from_slice(&0u16.to_be_bytes());
            b.push(drop);
            b.extend_from_slice(suffix.as_bytes());
            b.push(0);
        }
        let set = parse_index(&b).unwrap();
        assert_eq!(
            set.into_iter().collect::<Vec<_>>(),
            ["app/a.py", "app/b.py"]
        );
    }

    #[test]
    fn reads_this_checkout_when_there_is_one() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
        if let Some(set) = tracked_files(&root) {
            assert!(set.contains("Cargo.toml"), "{} entries", set.len());
        }
    }
}
