//! The compact "Entire Transcript Format" (`compact-format.md`): format detection (§4), the
//! shared line writer (§2, §12) and the dispatch to one converter per transcript family.
//!
//! The converters are pure functions of already redacted bytes; this module never redacts and
//! never decides which files are written (the v2 writer does). Each converter lives in its own
//! file and emits [`Line`]s through a [`Writer`], which owns the line schema and its byte-level
//! encoding so that every family produces the same key order and escaping.

use std::fmt;
use std::sync::OnceLock;

use regex::Regex;

use super::rawjson;

pub(crate) mod codex;
mod copilot;
mod droid;
mod gemini;
mod jsonl;
mod opencode;

/// The conversion failed as a whole (Gemini/OpenCode documents with a field of the wrong type).
/// Callers write no `transcript.jsonl` in that case.
#[derive(Debug)]
pub struct CompactError(pub String);

impl fmt::Display for CompactError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for CompactError {}

/// `compact(redacted_bytes, agent, cli_version, start_line)`: zero or more `\n`-terminated lines.
///
/// The converter is chosen by content (§4), never by `agent`, which is copied verbatim into
/// every line.
pub fn compact(
    input: &[u8],
    agent: &str,
    cli_version: &str,
    start_line: usize,
) -> Result<Vec<u8>, CompactError> {
    let mut w = Writer::new(agent, cli_version);
    // Steps 1–3 of §4 look at the whole input; the document formats skip messages, not lines.
    if let Some(doc) = document(input) {
        if is_opencode(&doc) {
            opencode::convert(&doc, start_line, &mut w)?;
            return Ok(w.finish());
        }
        if is_gemini(&doc) {
            gemini::convert(&doc, start_line, &mut w)?;
            return Ok(w.finish());
        }
    }
    if is_codex(input) {
        codex::convert(skip_lines(input, start_line), &mut w);
        return Ok(w.finish());
    }
    let cut = skip_lines(input, start_line);
    if is_copilot(cut) {
        copilot::convert(cut, &mut w);
    } else if is_droid(cut) {
        droid::convert(cut, &mut w);
    } else {
        jsonl::convert(cut, &mut w, jsonl::Unwrap::None);
    }
    Ok(w.finish())
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
pub fn detect(input: &[u8]) -> Format {
    if let Some(doc) = document(input) {
        if is_opencode(&doc) {
            return Format::OpenCode;
        }
        if is_gemini(&doc) {
            return Format::Gemini;
        }
    }
    if is_codex(input) {
        Format::Codex
    } else if is_copilot(input) {
        Format::Copilot
    } else if is_droid(input) {
        Format::Droid
    } else {
        Format::Jsonl
    }
}

// ---- detection (§4) ------------------------------------------------------------------------

/// The probes read lines with Go's `bufio.Scanner` and a 10 MiB buffer; a longer line ends the
/// probe with "no".
const PROBE_MAX_LINE: usize = 10 * 1024 * 1024;

/// The whole input as one JSON object, when it is shaped like the OpenCode/Gemini documents.
fn document(input: &[u8]) -> Option<rawjson::Obj<'_>> {
    let trimmed = trim_ascii_ws(input);
    if trimmed.first() != Some(&b'{') {
        return None;
    }
    rawjson::parse_obj(trimmed)
}

fn is_opencode(doc: &rawjson::Obj<'_>) -> bool {
    rawjson::non_null(doc, "info") && rawjson::non_null(doc, "messages")
}

fn is_gemini(doc: &rawjson::Obj<'_>) -> bool {
    rawjson::non_null(doc, "sessionId")
        && rawjson::non_null(doc, "messages")
        && !rawjson::non_null(doc, "info")
}

/// The `type` of a probe line: `None` when the line is not an object with a string (or absent)
/// `type`.
fn probe_type(line: &[u8]) -> Option<String> {
    let o = rawjson::parse_obj(line)?;
    rawjson::typed_str(&o, "type").ok()
}

/// Visits the non-empty lines of a probe until `f` decides; `false` when no line decides or a
/// line is too long for the scanner.
fn probe(input: &[u8], mut f: impl FnMut(&[u8]) -> Option<bool>) -> bool {
    for line in input.split(|&b| b == b'\n') {
        if line.len() > PROBE_MAX_LINE {
            return false;
        }
        let line = trim_ascii_ws(line);
        if line.is_empty() {
            continue;
        }
        if let Some(decision) = f(line) {
            return decision;
        }
    }
    false
}

fn is_codex(input: &[u8]) -> bool {
    probe(input, |line| {
        let t = probe_type(line)?;
        Some(matches!(
            t.as_str(),
            "session_meta" | "response_item" | "event_msg" | "turn_context"
        ))
    })
}

fn is_copilot(input: &[u8]) -> bool {
    probe(input, |line| match probe_type(line)?.as_str() {
        "session.start" | "user.message" | "assistant.message" | "tool.execution_complete" => {
            Some(true)
        }
        "user" | "assistant" | "human" | "message" => Some(false),
        _ => None,
    })
}

fn is_droid(input: &[u8]) -> bool {
    probe(input, |line| {
        let o = rawjson::parse_obj(line)?;
        let t = rawjson::typed_str(&o, "type").ok()?;
        match t.as_str() {
            "message" if rawjson::non_null(&o, "message") => Some(true),
            "user"
            | "human"
            | "assistant"
            | "progress"
            | "file-history-snapshot"
            | "queue-operation"
            | "system" => Some(false),
            _ => None,
        }
    })
}

// ---- shared helpers ------------------------------------------------------------------------

/// The input without its first `n` `\n`-terminated lines (§11); empty when there are fewer.
fn skip_lines(input: &[u8], n: usize) -> &[u8] {
    let mut rest = input;
    for _ in 0..n {
        match rest.iter().position(|&b| b == b'\n') {
            Some(i) => rest = &rest[i + 1..],
            None => return &[],
        }
    }
    rest
}

fn trim_ascii_ws(b: &[u8]) -> &[u8] {
    b.trim_ascii()
}

/// The non-empty lines of a JSONL input (split on `\n`, whitespace-only lines skipped).
fn lines(input: &[u8]) -> impl Iterator<Item = &[u8]> {
    input
        .split(|&b| b == b'\n')
        .filter(|l| !is_blank(l))
        .map(|l| l.trim_ascii())
}

/// Whether a line is empty after trimming whitespace (Go `strings.TrimSpace`: ASCII and Unicode
/// spaces). Only ASCII matters in practice; a line made only of Unicode spaces is not JSON and
/// would be skipped by the parse anyway.
fn is_blank(line: &[u8]) -> bool {
    match std::str::from_utf8(line) {
        Ok(s) => s.trim().is_empty(),
        Err(_) => line.trim_ascii().is_empty(),
    }
}

/// Entire's `StripIDEContextTags` (§3): removes IDE/system context wrappers, keeps the content
/// of `<user_query>` tags, and trims.
pub(crate) fn clean(s: &str) -> String {
    static PATTERNS: OnceLock<Vec<Regex>> = OnceLock::new();
    let patterns = PATTERNS.get_or_init(|| {
        [
            r"(?s)<ide_[^>]*>.*?</ide_[^>]*>",
            r"(?s)<local-command-caveat[^>]*>.*?</local-command-caveat>",
            r"(?s)<system-reminder[^>]*>.*?</system-reminder>",
            r"(?s)<command-name[^>]*>.*?</command-name>",
            r"(?s)<command-message[^>]*>.*?</command-message>",
            r"(?s)<command-args[^>]*>.*?</command-args>",
            r"(?s)<local-command-stdout[^>]*>.*?</local-command-stdout>",
            r"</?user_query>",
        ]
        .iter()
        // The patterns are constants that compile; a failure would be a programming error, and
        // skipping the pattern is the least harmful reaction.
        .filter_map(|p| Regex::new(p).ok())
        .collect()
    });
    let mut text = s.to_string();
    for re in patterns {
        if re.is_match(&text) {
            text = re.replace_all(&text, "").into_owned();
        }
    }
    text.trim().to_string()
}

/// A raw value used as `ts`, re-emitted as raw (Claude/Cursor/Droid).
fn raw_ts(r: &serde_json::value::RawValue) -> Vec<u8> {
    rawjson::enc_raw(r)
}

// ---- the line writer (§2, §12) -------------------------------------------------------------

/// One output line, its values already encoded as JSON bytes.
#[derive(Debug, Default)]
pub(crate) struct Line {
    /// `true` for `"user"`, `false` for `"assistant"`.
    pub user: bool,
    /// Encoded `ts`, omitted when `None`.
    pub ts: Option<Vec<u8>>,
    /// Message id, omitted when empty.
    pub id: String,
    pub input_tokens: i64,
    pub output_tokens: i64,
    /// Encoded `content`.
    pub content: Vec<u8>,
}

/// Accumulates output lines with the fixed key order of §2 and Go's `json.Marshal` escaping.
pub(crate) struct Writer {
    head: Vec<u8>,
    out: Vec<u8>,
}

impl Writer {
    pub(crate) fn new(agent: &str, cli_version: &str) -> Writer {
        // `{"v":1,"agent":…,"cli_version":…,"type":` is the same on every line.
        let mut head = Vec::new();
        head.extend_from_slice(b"{\"v\":1,\"agent\":");
        crate::gojson::write_str(&mut head, agent, true);
        head.extend_from_slice(b",\"cli_version\":");
        crate::gojson::write_str(&mut head, cli_version, true);
        head.extend_from_slice(b",\"type\":");
        Writer {
            head,
            out: Vec::new(),
        }
    }

    /// A user line whose content is one text block without an id (Gemini, Codex, Copilot).
    pub(crate) fn push_user_text(&mut self, ts: Option<Vec<u8>>, text: &str) {
        let mut content = Vec::new();
        rawjson::write_array(&mut content, &[user_text_block("", text)]);
        self.push(&Line {
            user: true,
            ts,
            content,
            ..Line::default()
        });
    }

    pub(crate) fn push(&mut self, line: &Line) {
        let out = &mut self.out;
        out.extend_from_slice(&self.head);
        out.extend_from_slice(if line.user {
            b"\"user\""
        } else {
            b"\"assistant\""
        });
        if let Some(ts) = &line.ts {
            out.extend_from_slice(b",\"ts\":");
            out.extend_from_slice(ts);
        }
        if !line.id.is_empty() {
            out.extend_from_slice(b",\"id\":");
            crate::gojson::write_str(out, &line.id, true);
        }
        if line.input_tokens != 0 {
            out.extend_from_slice(format!(",\"input_tokens\":{}", line.input_tokens).as_bytes());
        }
        if line.output_tokens != 0 {
            out.extend_from_slice(format!(",\"output_tokens\":{}", line.output_tokens).as_bytes());
        }
        out.extend_from_slice(b",\"content\":");
        out.extend_from_slice(&line.content);
        out.extend_from_slice(b"}\n");
    }

    pub(crate) fn finish(self) -> Vec<u8> {
        self.out
    }
}

/// The user text block `{"id":…,"text":…}` (fixed shape, `id` omitted when empty).
pub(crate) fn user_text_block(id: &str, text: &str) -> Vec<u8> {
    let mut out = Vec::new();
    out.push(b'{');
    if !id.is_empty() {
        out.extend_from_slice(b"\"id\":");
        crate::gojson::write_str(&mut out, id, true);
        out.push(b',');
    }
    out.extend_from_slice(b"\"text\":");
    crate::gojson::write_str(&mut out, text, true);
    out.push(b'}');
    out
}

/// The tool result object of §2.1: `{"output","status","file"?,"matchCount"?}`.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct ToolResult {
    pub output: String,
    pub error: bool,
    /// `(filePath, numLines)`.
    pub file: Option<(String, i64)>,
    pub match_count: i64,
}

impl ToolResult {
    pub(crate) fn encode(&self) -> Vec<u8> {
        let mut out = Vec::new();
        out.extend_from_slice(b"{\"output\":");
        crate::gojson::write_str(&mut out, &self.output, true);
        out.extend_from_slice(if self.error {
            b",\"status\":\"error\""
        } else {
            b",\"status\":\"success\""
        });
        if let Some((path, num_lines)) = &self.file {
            out.extend_from_slice(b",\"file\":{\"filePath\":");
            crate::gojson::write_str(&mut out, path, true);
            if *num_lines != 0 {
                out.extend_from_slice(format!(",\"numLines\":{num_lines}").as_bytes());
            }
            out.push(b'}');
        }
        if self.match_count != 0 {
            out.extend_from_slice(format!(",\"matchCount\":{}", self.match_count).as_bytes());
        }
        out.push(b'}');
        out
    }
}

#[cfg(test)]
mod tests;
