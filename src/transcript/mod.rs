//! Transcript transformations between reading and storing: Gemini normalization (`agents.md`
//! §5), Codex portability sanitization (`v1-format.md` §8.2), chunking (`v1-format.md` §8.3) and
//! the compact format (`compact-format.md`).
//!
//! Everything here is a pure function of bytes; reading transcripts (the agent modules),
//! redaction and writing blobs happen elsewhere.

use std::borrow::Cow;

pub mod chunk;
mod codex;
pub mod compact;
mod gemini;
mod rawjson;

/// The bytes to store (before redaction) for a raw transcript of an agent with this display type:
/// Gemini transcripts are normalized (on failure the raw bytes are kept); others pass unchanged.
pub fn normalize_for_storage<'a>(display_type: &str, raw: &'a [u8]) -> Cow<'a, [u8]> {
    if display_type != "Gemini CLI" {
        return Cow::Borrowed(raw);
    }
    match gemini::normalize(raw) {
        Ok(bytes) => bytes,
        Err(e) => {
            // Entire stores the raw transcript in this case too; it is still a valid transcript.
            log::warn!("cannot normalize the Gemini transcript, storing it unchanged: {e}");
            Cow::Borrowed(raw)
        }
    }
}

/// v1 only: Codex transcripts are sanitized for portability; others pass unchanged.
pub fn sanitize_for_v1<'a>(display_type: &str, redacted: &'a [u8]) -> Cow<'a, [u8]> {
    if display_type != "Codex" {
        return Cow::Borrowed(redacted);
    }
    match codex::sanitize(redacted) {
        Some(bytes) => Cow::Owned(bytes),
        None => Cow::Borrowed(redacted),
    }
}
