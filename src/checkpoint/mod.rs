//! Checkpoint identity and the link to user commits: the 12-hex id and its sharded path, the
//! `Entire-Checkpoint:` trailer (parsing and appending, `v1-format.md` §1 and §10), and the JSON
//! documents of a checkpoint (`metadata`). Nothing here touches a repository.

pub mod metadata;
pub mod tree;

use std::fmt;

use regex::Regex;
use std::sync::OnceLock;

/// A validated checkpoint id: exactly 12 lowercase hexadecimal characters.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct CheckpointId(String);

impl CheckpointId {
    /// Accepts only `^[0-9a-f]{12}$`.
    pub fn parse(s: &str) -> Option<CheckpointId> {
        (s.len() == 12 && s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')))
            .then(|| CheckpointId(s.to_string()))
    }

    /// A fresh id from 6 bytes of the operating system's random source.
    pub fn generate() -> Result<CheckpointId, getrandom::Error> {
        let mut bytes = [0u8; 6];
        getrandom::fill(&mut bytes)?;
        Ok(CheckpointId(
            bytes.iter().map(|b| format!("{b:02x}")).collect(),
        ))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The shard directory (`a3` of `a3b2c4d5e6f7`).
    pub fn shard(&self) -> &str {
        &self.0[..2]
    }

    /// The directory inside the shard (`b2c4d5e6f7`).
    pub fn rest(&self) -> &str {
        &self.0[2..]
    }

    /// `a3/b2c4d5e6f7`.
    pub fn path(&self) -> String {
        format!("{}/{}", self.shard(), self.rest())
    }
}

impl fmt::Display for CheckpointId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The trailer key on user commits.
pub const TRAILER_KEY: &str = "Entire-Checkpoint";

fn trailer_regex() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    // Go's `\s` is exactly [\t\n\f\r ]; Rust's includes \v and Unicode spaces, so spell it out.
    RE.get_or_init(|| {
        Regex::new(r"Entire-Checkpoint:[\t\n\x0C\r ]*([0-9a-f]{12})(?:[\t\n\x0C\r ]|$)")
            .unwrap_or_else(|_| unreachable!("constant regex"))
    })
}

/// Every checkpoint id named by an `Entire-Checkpoint:` trailer anywhere in `message`, in order of
/// first occurrence, de-duplicated (Entire `ParseAllCheckpoints`).
pub fn trailer_ids(message: &str) -> Vec<CheckpointId> {
    let mut ids: Vec<CheckpointId> = Vec::new();
    // Matches may not overlap in Go either; the trailing `\s` is consumed, like Go's FindAll.
    for caps in trailer_regex().captures_iter(message) {
        if let Some(id) = caps.get(1).and_then(|m| CheckpointId::parse(m.as_str())) {
            if !ids.contains(&id) {
                ids.push(id);
            }
        }
    }
    ids
}

/// The checkpoint attach reuses: the **last** id of [`trailer_ids`].
pub fn last_trailer_id(message: &str) -> Option<CheckpointId> {
    trailer_ids(message).pop()
}

fn is_trailer_line(line: &str) -> bool {
    let bytes = line.as_bytes();
    let Some(colon) = line.find(": ") else {
        return false;
    };
    let key = &bytes[..colon];
    !key.is_empty()
        && key[0].is_ascii_alphabetic()
        && key.iter().all(|b| b.is_ascii_alphanumeric() || *b == b'-')
}

/// Appends `Entire-Checkpoint: <id>` to a commit message as Entire's `AppendCheckpointTrailer`:
/// into an existing trailer block, or after a blank line.
pub fn append_trailer(message: &str, id: &CheckpointId) -> String {
    let trimmed = message.trim_end_matches('\n');
    let lines: Vec<&str> = trimmed.split('\n').collect();
    let mut i = lines.len();
    // Skip comment lines at the end.
    while i > 0 && lines[i - 1].trim().starts_with('#') {
        i -= 1;
    }
    let mut has_block = false;
    if i > 0 {
        let last = lines[i - 1].trim();
        if !last.is_empty() && is_trailer_line(last) {
            let mut j = i - 1;
            loop {
                if j == 0 {
                    break; // reached the top: a subject alone is not a trailer block
                }
                j -= 1;
                let t = lines[j].trim();
                if t.starts_with('#') {
                    continue;
                }
                if t.is_empty() {
                    has_block = true;
                    break;
                }
                if !is_trailer_line(t) {
                    break;
                }
            }
        }
    }
    let sep = if has_block { "\n" } else { "\n\n" };
    format!("{trimmed}{sep}{TRAILER_KEY}: {id}\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id(s: &str) -> CheckpointId {
        CheckpointId::parse(s).unwrap()
    }

    #[test]
    fn ids_are_validated_and_sharded() {
        assert!(CheckpointId::parse("a3b2c4d5e6f7").is_some());
        for bad in [
            "A3B2C4D5E6F7",
            "a3b2c4d5e6f",
            "a3b2c4d5e6f7a",
            "g3b2c4d5e6f7",
            "",
        ] {
            assert!(CheckpointId::parse(bad).is_none(), "{bad}");
        }
        let c = id("a3b2c4d5e6f7");
        assert_eq!(
            (c.shard(), c.rest(), c.path().as_str()),
            ("a3", "b2c4d5e6f7", "a3/b2c4d5e6f7")
        );
        let g = CheckpointId::generate().unwrap();
        assert!(CheckpointId::parse(g.as_str()).is_some());
    }

    #[test]
    fn trailer_parsing_takes_all_matches_in_order() {
        let msg = "feat\n\nEntire-Checkpoint: aaaaaaaaaaaa\nEntire-Checkpoint: bbbbbbbbbbbb\nEntire-Checkpoint: aaaaaaaaaaaa\n";
        assert_eq!(
            trailer_ids(msg),
            vec![id("aaaaaaaaaaaa"), id("bbbbbbbbbbbb")]
        );
        assert_eq!(last_trailer_id(msg), Some(id("bbbbbbbbbbbb")));
        // Not anchored to line starts; end of message counts as a terminator.
        assert_eq!(
            last_trailer_id("x Entire-Checkpoint:abcdefabcdef"),
            Some(id("abcdefabcdef"))
        );
        // Too long, uppercase, or followed by a non-space character: no match.
        assert_eq!(last_trailer_id("Entire-Checkpoint: abcdefabcdef0"), None);
        assert_eq!(last_trailer_id("Entire-Checkpoint: ABCDEFABCDEF"), None);
        assert_eq!(last_trailer_id("entire-checkpoint: abcdefabcdef"), None);
        // \v is not whitespace in Go.
        assert_eq!(last_trailer_id("Entire-Checkpoint:\u{b}abcdefabcdef"), None);
    }

    #[test]
    fn trailer_appending_follows_entire() {
        let c = id("abc123def456");
        assert_eq!(
            append_trailer("feat: x\n", &c),
            "feat: x\n\nEntire-Checkpoint: abc123def456\n"
        );
        assert_eq!(
            append_trailer("feat: x\n\nSigned-off-by: A <a@b>\n", &c),
            "feat: x\n\nSigned-off-by: A <a@b>\nEntire-Checkpoint: abc123def456\n"
        );
        assert_eq!(
            append_trailer("Fix: y", &c),
            "Fix: y\n\nEntire-Checkpoint: abc123def456\n"
        );
        assert_eq!(
            append_trailer("feat\n\nbody text\nCo-authored-by: B <b@c>\n", &c),
            "feat\n\nbody text\nCo-authored-by: B <b@c>\n\nEntire-Checkpoint: abc123def456\n"
        );
        assert_eq!(
            append_trailer("feat\n\nKey: v\n# comment\n", &c),
            "feat\n\nKey: v\n# comment\nEntire-Checkpoint: abc123def456\n"
        );
    }
}
