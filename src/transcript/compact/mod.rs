//! The compact "Entire Transcript Format" (`compact-format.md`). OWNED BY THE COMPACT WORK; this
//! is the interface stub.

use std::fmt;

#[derive(Debug)]
pub struct CompactError(pub String);

impl fmt::Display for CompactError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// `compact(redacted_bytes, agent, cli_version, start_line)`: zero or more `\n`-terminated lines.
pub fn compact(
    _input: &[u8],
    _agent: &str,
    _cli_version: &str,
    _start_line: usize,
) -> Result<Vec<u8>, CompactError> {
    Err(CompactError("compact transcripts are not implemented yet".into()))
}

/// The transcript families of `compact-format.md` §4.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    OpenCode,
    Gemini,
    Codex,
    Copilot,
    Droid,
    Jsonl,
}

/// Format detection in the order of `compact-format.md` §4 (start line 0).
pub fn detect(_input: &[u8]) -> Format {
    Format::Jsonl
}
