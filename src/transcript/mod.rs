//! Transcript transformations between reading and storing: chunking (`v1-format.md` §8.3), and,
//! in submodules, the compact format, Gemini normalization and Codex sanitization.

pub mod chunk;
pub mod compact;
