//! File-system helpers shared by the built-in agents: the project-directory naming rules
//! (`S(R)`, `C(R)`, `E(R)`), Entire's bounded fallback scan, the few glob shapes the agents use,
//! and "does this recorded working directory lie inside the worktree" for listing. Nothing here
//! knows about a particular agent.

use std::fs;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

/// `S(R)`: every code point that is not ASCII alphanumeric becomes `-` (`agents.md` §1).
pub(crate) fn sanitize_path(root: &Path) -> String {
    root.to_string_lossy()
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .collect()
}

/// `C(R)`: leading `/` stripped, then `S`.
pub(crate) fn cursor_project_name(root: &Path) -> String {
    let s = root.to_string_lossy();
    sanitize_path(Path::new(s.trim_start_matches('/')))
}

/// `E(R)`: `/` and `\` become `-`, outer `-` trimmed, wrapped in `--…--` (Pi, §3.8).
pub(crate) fn pi_project_name(root: &Path) -> String {
    let s: String = root
        .to_string_lossy()
        .chars()
        .map(|c| if c == '/' || c == '\\' { '-' } else { c })
        .collect();
    format!("--{}--", s.trim_matches('-'))
}

/// The path if it is an existing regular file (symlinks followed).
pub(crate) fn existing_file(path: PathBuf) -> Option<PathBuf> {
    match fs::metadata(&path) {
        Ok(m) if m.is_file() => Some(path),
        _ => None,
    }
}

/// Names of the entries of `dir`, sorted bytewise (Go's `os.ReadDir` order). Unreadable → empty.
pub(crate) fn sorted_entries(dir: &Path) -> Vec<(String, fs::FileType)> {
    let Ok(rd) = fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut out: Vec<(String, fs::FileType)> = rd
        .filter_map(|e| e.ok())
        .filter_map(|e| {
            let ft = e.file_type().ok()?;
            Some((e.file_name().to_string_lossy().into_owned(), ft))
        })
        .collect();
    out.sort_by(|a, b| a.0.as_bytes().cmp(b.0.as_bytes()));
    out
}

/// Whether `name` matches the glob `<prefix>*<suffix>` (the star may be empty, the two fixed
/// parts may not overlap).
pub(crate) fn matches_star(name: &str, prefix: &str, suffix: &str) -> bool {
    name.len() >= prefix.len() + suffix.len() && name.starts_with(prefix) && name.ends_with(suffix)
}

/// Files exactly `depth` directory levels below `dir` (0 = in `dir`) whose name satisfies
/// `pred`, sorted by full path: the expansion of `dir/*/*/<pattern>` style globs.
pub(crate) fn glob_files(dir: &Path, depth: usize, pred: &dyn Fn(&str) -> bool) -> Vec<PathBuf> {
    let mut out = Vec::new();
    collect(dir, depth, pred, &mut out);
    out.sort();
    out
}

fn collect(dir: &Path, depth: usize, pred: &dyn Fn(&str) -> bool, out: &mut Vec<PathBuf>) {
    for (name, _) in sorted_entries(dir) {
        let path = dir.join(&name);
        if depth == 0 {
            // Globs match directories too; the callers want files, as Entire's later `Stat`.
            if pred(&name) && path.is_file() {
                out.push(path);
            }
        } else if path.is_dir() {
            collect(&path, depth - 1, pred, out);
        }
    }
}

/// Entire's fallback scan (`agents.md` §2.1 step 5): visit `base` and the directories up to four
/// levels below it (relative path with at most 3 separators) depth-first in lexical order,
/// without following symlinked directories, and return the first `test(dir)` hit.
pub(crate) fn scan(base: &Path, test: &dyn Fn(&Path) -> Option<PathBuf>) -> Option<PathBuf> {
    // The base itself may be a symlink (a relocated ~/.claude); follow it, unlike the entries.
    if !base.is_dir() {
        return None;
    }
    walk(base, 0, test)
}

const SCAN_DEPTH: usize = 4;

fn walk(dir: &Path, depth: usize, test: &dyn Fn(&Path) -> Option<PathBuf>) -> Option<PathBuf> {
    if let Some(hit) = test(dir) {
        return Some(hit);
    }
    if depth == SCAN_DEPTH {
        return None;
    }
    for (name, ft) in sorted_entries(dir) {
        if ft.is_dir() {
            if let Some(hit) = walk(&dir.join(name), depth + 1, test) {
                return Some(hit);
            }
        }
    }
    None
}

/// Pushes `p` unless already listed (several base directories may coincide).
pub(crate) fn push_unique(list: &mut Vec<PathBuf>, p: PathBuf) {
    if !list.contains(&p) {
        list.push(p);
    }
}

/// The description of a fallback scan for the "searched" list.
pub(crate) fn scan_place(base: &Path, file: &str) -> PathBuf {
    base.join("**").join(file)
}

/// At most `cap` bytes from the start of the file (listing reads only what the first prompt
/// needs; a cut last line fails to parse and is skipped like any broken line).
pub(crate) fn read_prefix(path: &Path, cap: u64) -> Option<Vec<u8>> {
    let f = fs::File::open(path).ok()?;
    let mut buf = Vec::new();
    f.take(cap).read_to_end(&mut buf).ok()?;
    Some(buf)
}

/// The first line of a file (without its `\n`), read up to `cap` bytes.
pub(crate) fn first_line(path: &Path, cap: u64) -> Option<Vec<u8>> {
    use std::io::BufRead;
    let f = fs::File::open(path).ok()?;
    let mut r = std::io::BufReader::new(f.take(cap));
    let mut line = Vec::new();
    r.read_until(b'\n', &mut line).ok()?;
    if line.last() == Some(&b'\n') {
        line.pop();
    }
    Some(line)
}

/// Files under `dir` (up to `depth` levels below it) whose name satisfies `pred`.
pub(crate) fn files_below(dir: &Path, depth: usize, pred: &dyn Fn(&str) -> bool) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for d in 0..=depth {
        out.extend(glob_files(dir, d, pred));
    }
    out
}

pub(crate) fn modified(path: &Path) -> Option<SystemTime> {
    fs::metadata(path).ok()?.modified().ok()
}

/// Whether a working directory recorded in a transcript is the worktree root or inside it.
/// Compared as given and canonicalized (macOS `/tmp` vs `/private/tmp`).
pub(crate) fn inside_root(cwd: &str, root: &Path) -> bool {
    if cwd.is_empty() {
        return false;
    }
    let cwd = Path::new(cwd);
    if cwd.starts_with(root) {
        return true;
    }
    let canon_root = fs::canonicalize(root).ok();
    let canon_cwd = fs::canonicalize(cwd).ok();
    match (canon_cwd, canon_root) {
        (Some(c), Some(r)) => c.starts_with(&r),
        (None, Some(r)) => cwd.starts_with(&r),
        (Some(c), None) => c.starts_with(root),
        (None, None) => false,
    }
}

/// Lowercase hex SHA-256 of the bytes of the path (Gemini's project hash).
pub(crate) fn sha256_hex(root: &Path) -> String {
    use sha2::{Digest, Sha256};
    let digest = Sha256::digest(root.to_string_lossy().as_bytes());
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn project_names_follow_the_three_rules() {
        let r = Path::new("/Users/me/my_repo.v2");
        assert_eq!(sanitize_path(r), "-Users-me-my-repo-v2");
        assert_eq!(cursor_project_name(r), "Users-me-my-repo-v2");
        assert_eq!(
            pi_project_name(Path::new("/Users/foo/repo")),
            "--Users-foo-repo--"
        );
        // One dash per code point, not per byte.
        assert_eq!(sanitize_path(Path::new("/a/é")), "-a--");
    }

    #[test]
    fn star_match_needs_both_fixed_parts() {
        assert!(matches_star(
            "rollout-2026-x-abc.jsonl",
            "rollout-",
            "-abc.jsonl"
        ));
        assert!(!matches_star("rollout-abc.jsonl", "rollout-", "-abc.jsonl"));
        assert!(matches_star("rollout--abc.jsonl", "rollout-", "-abc.jsonl"));
    }

    #[test]
    fn scan_stops_four_levels_below_the_base() {
        let t = tempfile::tempdir().unwrap();
        let deep4 = t.path().join("a/b/c/d");
        let deep5 = t.path().join("e/f/g/h/i");
        fs::create_dir_all(&deep4).unwrap();
        fs::create_dir_all(&deep5).unwrap();
        fs::write(deep4.join("x.jsonl"), "").unwrap();
        fs::write(deep5.join("y.jsonl"), "").unwrap();
        let find =
            |name: &'static str| scan(t.path(), &move |d: &Path| existing_file(d.join(name)));
        assert_eq!(find("x.jsonl"), Some(deep4.join("x.jsonl")));
        assert_eq!(find("y.jsonl"), None);
    }

    #[test]
    fn scan_visits_in_lexical_order() {
        let t = tempfile::tempdir().unwrap();
        for d in ["b", "a/z", "c"] {
            fs::create_dir_all(t.path().join(d)).unwrap();
            fs::write(t.path().join(d).join("s.jsonl"), "").unwrap();
        }
        let hit = scan(t.path(), &|d: &Path| existing_file(d.join("s.jsonl")));
        assert_eq!(hit, Some(t.path().join("a/z/s.jsonl")));
    }

    #[test]
    fn inside_root_is_component_wise() {
        let r = Path::new("/work/repo");
        assert!(inside_root("/work/repo", r));
        assert!(inside_root("/work/repo/sub", r));
        assert!(!inside_root("/work/repo2", r));
        assert!(!inside_root("", r));
    }
}
