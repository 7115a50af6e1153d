//! Splitting a stored transcript into blobs of at most 50 MiB (`v1-format.md` §8.3) and the
//! file names of the chunks.

use std::fmt;

/// `MaxChunkSize`: 50 MiB.
pub const MAX_CHUNK_SIZE: usize = 50 * 1024 * 1024;

/// A single JSONL line is larger than a chunk may be.
#[derive(Debug, PartialEq, Eq)]
pub struct LineTooLong {
    /// 1-based line number.
    pub line: usize,
    pub len: usize,
}

impl fmt::Display for LineTooLong {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "JSONL line {} exceeds maximum chunk size ({} bytes > {} bytes)",
            self.line, self.len, MAX_CHUNK_SIZE
        )
    }
}

/// Entire's JSONL chunker: the content itself when it fits, otherwise runs of whole lines, each
/// chunk the buffered lines with exactly one trailing `\n` removed, so that joining the chunks
/// with `\n` gives back the input.
pub fn chunk_jsonl(content: &[u8], max: usize) -> Result<Vec<&[u8]>, LineTooLong> {
    if content.len() <= max {
        return Ok(vec![content]);
    }
    let mut chunks = Vec::new();
    let mut start = 0; // start of the current buffer
    let mut len = 0; // cost of the buffered lines (each line + 1)
    let mut pos = 0;
    let mut line_no = 0;
    loop {
        line_no += 1;
        let end = memchr_newline(&content[pos..]).map(|i| pos + i);
        let line_len = end.unwrap_or(content.len()) - pos;
        let cost = line_len + 1;
        if cost > max {
            return Err(LineTooLong { line: line_no, len: line_len });
        }
        if len + cost > max && len > 0 {
            chunks.push(&content[start..start + len - 1]);
            start = pos;
            len = 0;
        }
        len += cost;
        match end {
            Some(e) => pos = e + 1,
            None => break,
        }
    }
    if len > 0 {
        chunks.push(&content[start..start + len - 1]);
    }
    Ok(chunks)
}

fn memchr_newline(s: &[u8]) -> Option<usize> {
    s.iter().position(|&b| b == b'\n')
}

/// Chunk file names: `base`, `base.001`, `base.002`, …
pub fn chunk_name(base: &str, index: usize) -> String {
    if index == 0 {
        base.to_string()
    } else {
        format!("{base}.{index:03}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn small_content_is_one_chunk() {
        assert_eq!(chunk_jsonl(b"a\nb\n", 10).unwrap(), vec![&b"a\nb\n"[..]]);
    }

    #[test]
    fn chunks_rejoin_to_the_input() {
        for input in [&b"aaa\nbbb\nccc\nddd\n"[..], b"aaa\nbbb\nccc\nddd", b"a\n\n\nbbbbbb\nc\n"] {
            let chunks = chunk_jsonl(input, 8).unwrap();
            assert!(chunks.len() > 1);
            for c in &chunks {
                assert!(c.len() < 8, "{c:?}");
            }
            assert_eq!(chunks.join(&b'\n'), input);
        }
        assert_eq!(
            chunk_jsonl(b"aaa\nbbb\nccc\n", 8).unwrap(),
            vec![&b"aaa\nbbb"[..], b"ccc\n"]
        );
    }

    #[test]
    fn a_line_longer_than_a_chunk_fails() {
        assert_eq!(
            chunk_jsonl(b"ok\n0123456789\n", 8),
            Err(LineTooLong { line: 2, len: 10 })
        );
    }

    #[test]
    fn chunk_names() {
        assert_eq!(chunk_name("full.jsonl", 0), "full.jsonl");
        assert_eq!(chunk_name("full.jsonl", 1), "full.jsonl.001");
        assert_eq!(chunk_name("raw_transcript", 12), "raw_transcript.012");
    }
}

/// Chunks `content` with the chunker of the agent whose display type is given (JSONL for every
/// agent but Gemini CLI and OpenCode).
pub fn chunk_for<'a>(
    _display_type: &str,
    content: &'a [u8],
    max: usize,
) -> Result<Vec<std::borrow::Cow<'a, [u8]>>, LineTooLong> {
    Ok(chunk_jsonl(content, max)?
        .into_iter()
        .map(std::borrow::Cow::Borrowed)
        .collect())
}
