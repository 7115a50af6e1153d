//! Splitting a stored transcript into blobs of at most 50 MiB (`v1-format.md` §8.3), the file
//! names of the chunks, and putting chunks back together.
//!
//! A transcript that fits is always one chunk holding exactly its bytes. Larger ones are split
//! with the agent's chunker: whole lines for JSONL agents (lossless), or — for the single-document
//! Gemini CLI and OpenCode formats — runs of messages re-encoded through Entire's narrow Go types
//! (lossy: fields those types do not know are dropped, as in Entire).

use std::borrow::Cow;
use std::fmt;

use serde_json::Value;

use super::rawjson::{self, Kind, Obj, TypeMismatch};
use crate::gojson;

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

/// Why a transcript could not be chunked.
#[derive(Debug, PartialEq, Eq)]
pub enum ChunkError {
    /// A JSONL line is larger than a chunk may be.
    LineTooLong(LineTooLong),
    /// A Gemini or OpenCode document does not decode through Entire's types.
    Document { format: &'static str },
}

impl fmt::Display for ChunkError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ChunkError::LineTooLong(e) => e.fmt(f),
            ChunkError::Document { format } => write!(
                f,
                "cannot split the {format} transcript into chunks: it does not have the expected shape"
            ),
        }
    }
}

impl std::error::Error for ChunkError {}

impl From<LineTooLong> for ChunkError {
    fn from(e: LineTooLong) -> ChunkError {
        ChunkError::LineTooLong(e)
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
            return Err(LineTooLong {
                line: line_no,
                len: line_len,
            });
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

/// Chunks `content` with the chunker of the agent whose display type is given (JSONL for every
/// agent but Gemini CLI and OpenCode). Content of at most `max` bytes is one chunk, unchanged.
pub fn chunk_for<'a>(
    display_type: &str,
    content: &'a [u8],
    max: usize,
) -> Result<Vec<Cow<'a, [u8]>>, ChunkError> {
    if content.len() <= max {
        return Ok(vec![Cow::Borrowed(content)]);
    }
    match display_type {
        "Gemini CLI" => Ok(chunk_gemini(content, max)?
            .into_iter()
            .map(Cow::Owned)
            .collect()),
        "OpenCode" => Ok(chunk_opencode(content, max)?
            .into_iter()
            .map(Cow::Owned)
            .collect()),
        _ => Ok(chunk_jsonl(content, max)?
            .into_iter()
            .map(Cow::Borrowed)
            .collect()),
    }
}

/// Puts chunks written by [`chunk_for`] (or by Entire) back together: JSONL chunks are joined
/// with `\n`; Gemini CLI and OpenCode chunks are documents whose `messages` are concatenated into
/// one document (OpenCode keeps the first chunk's `info`). A single chunk is returned as it is.
/// Document chunks that do not parse are joined like JSONL, so no bytes are lost.
pub fn reassemble_for<C: AsRef<[u8]>>(display_type: &str, chunks: &[C]) -> Vec<u8> {
    if let [only] = chunks {
        return only.as_ref().to_vec();
    }
    let merged = match display_type {
        "Gemini CLI" => merge_documents(chunks, false),
        "OpenCode" => merge_documents(chunks, true),
        _ => None,
    };
    merged.unwrap_or_else(|| {
        let parts: Vec<&[u8]> = chunks.iter().map(AsRef::as_ref).collect();
        parts.join(&b'\n')
    })
}

fn merge_documents<C: AsRef<[u8]>>(chunks: &[C], with_info: bool) -> Option<Vec<u8>> {
    let mut info = None;
    let mut messages = Vec::new();
    for chunk in chunks {
        let doc = rawjson::parse_obj(chunk.as_ref())?;
        if with_info && info.is_none() {
            info = doc.get("info").map(|i| rawjson::enc_raw(i));
        }
        let items = rawjson::typed_arr(&doc, "messages").ok()?;
        messages.extend(items.into_iter().map(rawjson::enc_raw));
    }
    let mut out = Vec::new();
    if with_info {
        out.extend_from_slice(b"{\"info\":");
        out.extend_from_slice(info.as_deref().unwrap_or(b"null"));
        out.extend_from_slice(b",\"messages\":");
    } else {
        out.extend_from_slice(b"{\"messages\":");
    }
    rawjson::write_array(&mut out, &messages);
    out.push(b'}');
    Some(out)
}

/// Groups encoded messages into chunks: each message costs its length plus one (the comma), a
/// chunk starts at `base`, and a new chunk starts when the next message would overflow a
/// non-empty one. Each chunk is `head` + messages + `tail`.
fn pack(messages: Vec<Vec<u8>>, base: usize, max: usize, head: &[u8], tail: &[u8]) -> Vec<Vec<u8>> {
    let mut chunks = Vec::new();
    let mut current: Vec<Vec<u8>> = Vec::new();
    let mut size = base;
    let finish = |current: &mut Vec<Vec<u8>>| {
        let mut out = head.to_vec();
        out.push(b'[');
        out.extend_from_slice(&current.join(&b','));
        out.push(b']');
        out.extend_from_slice(tail);
        current.clear();
        out
    };
    for m in messages {
        let cost = m.len() + 1;
        if size + cost > max && !current.is_empty() {
            chunks.push(finish(&mut current));
            size = base;
        }
        size += cost;
        current.push(m);
    }
    // A document without messages still gives one (empty) document: zero chunks would store
    // no transcript at all for the session.
    if !current.is_empty() || chunks.is_empty() {
        chunks.push(finish(&mut current));
    }
    chunks
}

// ---- Gemini CLI ----------------------------------------------------------------------------

fn chunk_gemini(content: &[u8], max: usize) -> Result<Vec<Vec<u8>>, ChunkError> {
    let err = |_| ChunkError::Document {
        format: "Gemini CLI",
    };
    let doc = rawjson::parse_obj(content.trim_ascii()).ok_or(ChunkError::Document {
        format: "Gemini CLI",
    })?;
    let mut messages = Vec::new();
    for m in rawjson::typed_arr(&doc, "messages").map_err(err)? {
        messages.push(gemini_message(m).map_err(err)?);
    }
    // `{"messages":[]}`
    Ok(pack(messages, 15, max, b"{\"messages\":", b"}"))
}

/// Entire's narrow Gemini message: `id` (omitempty), `type`, `content` (omitempty string),
/// `toolCalls` (omitempty) of `{id, name, args, status (omitempty)}` with `args` a Go map.
fn gemini_message(raw: &serde_json::value::RawValue) -> Result<Vec<u8>, TypeMismatch> {
    let m = rawjson::elem_obj(raw)?;
    let mut w = StructWriter::new();
    w.string("id", &rawjson::typed_str(&m, "id")?, true);
    w.string("type", &rawjson::typed_str(&m, "type")?, false);
    w.string("content", &rawjson::typed_str(&m, "content")?, true);
    let calls = rawjson::typed_arr(&m, "toolCalls")?;
    if !calls.is_empty() {
        let mut encoded = Vec::new();
        for c in calls {
            let c = rawjson::elem_obj(c)?;
            let mut cw = StructWriter::new();
            cw.string("id", &rawjson::typed_str(&c, "id")?, false);
            cw.string("name", &rawjson::typed_str(&c, "name")?, false);
            cw.raw("args", &any_map(&c, "args")?);
            cw.string("status", &rawjson::typed_str(&c, "status")?, true);
            encoded.push(cw.finish());
        }
        let mut arr = Vec::new();
        rawjson::write_array(&mut arr, &encoded);
        w.raw("toolCalls", &arr);
    }
    Ok(w.finish())
}

// ---- OpenCode ------------------------------------------------------------------------------

fn chunk_opencode(content: &[u8], max: usize) -> Result<Vec<Vec<u8>>, ChunkError> {
    let err = |_| ChunkError::Document { format: "OpenCode" };
    let doc = rawjson::parse_obj(content.trim_ascii())
        .ok_or(ChunkError::Document { format: "OpenCode" })?;
    let info = opencode_session_info(&doc).map_err(err)?;
    let mut messages = Vec::new();
    for m in rawjson::typed_arr(&doc, "messages").map_err(err)? {
        messages.push(opencode_message(m).map_err(err)?);
    }
    let mut head = b"{\"info\":".to_vec();
    head.extend_from_slice(&info);
    head.extend_from_slice(b",\"messages\":");
    let base = head.len() + b"[]}".len();
    Ok(pack(messages, base, max, &head, b"}"))
}

/// `SessionInfo{id, title?, createdAt?, updatedAt?}`.
fn opencode_session_info(doc: &Obj<'_>) -> Result<Vec<u8>, TypeMismatch> {
    let info = rawjson::typed_obj(doc, "info")?.unwrap_or_default();
    let mut w = StructWriter::new();
    w.string("id", &rawjson::typed_str(&info, "id")?, false);
    w.string("title", &rawjson::typed_str(&info, "title")?, true);
    w.int("createdAt", rawjson::typed_int(&info, "createdAt")?, true);
    w.int("updatedAt", rawjson::typed_int(&info, "updatedAt")?, true);
    Ok(w.finish())
}

/// `ExportMessage{info: MessageInfo, parts: []Part}`.
fn opencode_message(raw: &serde_json::value::RawValue) -> Result<Vec<u8>, TypeMismatch> {
    let m = rawjson::elem_obj(raw)?;
    let info = rawjson::typed_obj(&m, "info")?.unwrap_or_default();
    let mut iw = StructWriter::new();
    iw.string("id", &rawjson::typed_str(&info, "id")?, false);
    iw.string("sessionID", &rawjson::typed_str(&info, "sessionID")?, true);
    iw.string("role", &rawjson::typed_str(&info, "role")?, false);
    let time = rawjson::typed_obj(&info, "time")?.unwrap_or_default();
    let mut tw = StructWriter::new();
    tw.int("created", rawjson::typed_int(&time, "created")?, false);
    tw.int("completed", rawjson::typed_int(&time, "completed")?, true);
    iw.raw("time", &tw.finish());
    if let Some(t) = rawjson::typed_obj(&info, "tokens")? {
        let mut kw = StructWriter::new();
        for k in ["input", "output", "reasoning"] {
            kw.int(k, rawjson::typed_int(&t, k)?, false);
        }
        let cache = rawjson::typed_obj(&t, "cache")?.unwrap_or_default();
        let mut cw = StructWriter::new();
        cw.int("read", rawjson::typed_int(&cache, "read")?, false);
        cw.int("write", rawjson::typed_int(&cache, "write")?, false);
        kw.raw("cache", &cw.finish());
        kw.int("total", rawjson::typed_int(&t, "total")?, false);
        iw.raw("tokens", &kw.finish());
    }
    let cost = typed_float(&info, "cost")?;
    if cost != 0.0 {
        iw.raw("cost", gojson::format_float(cost).as_bytes());
    }
    iw.string("modelID", &rawjson::typed_str(&info, "modelID")?, true);
    iw.string(
        "providerID",
        &rawjson::typed_str(&info, "providerID")?,
        true,
    );

    let mut w = StructWriter::new();
    w.raw("info", &iw.finish());
    let parts = match m.get("parts") {
        Some(p) if rawjson::kind(p) != Kind::Null => {
            let mut encoded = Vec::new();
            for p in rawjson::typed_arr(&m, "parts")? {
                encoded.push(opencode_part(p)?);
            }
            let mut arr = Vec::new();
            rawjson::write_array(&mut arr, &encoded);
            arr
        }
        _ => b"null".to_vec(),
    };
    w.raw("parts", &parts);
    Ok(w.finish())
}

/// `Part{id?, type, text?, tool?, callID?, state?}`.
fn opencode_part(raw: &serde_json::value::RawValue) -> Result<Vec<u8>, TypeMismatch> {
    let p = rawjson::elem_obj(raw)?;
    let mut w = StructWriter::new();
    w.string("id", &rawjson::typed_str(&p, "id")?, true);
    w.string("type", &rawjson::typed_str(&p, "type")?, false);
    w.string("text", &rawjson::typed_str(&p, "text")?, true);
    w.string("tool", &rawjson::typed_str(&p, "tool")?, true);
    w.string("callID", &rawjson::typed_str(&p, "callID")?, true);
    if let Some(s) = rawjson::typed_obj(&p, "state")? {
        let mut sw = StructWriter::new();
        sw.string("status", &rawjson::typed_str(&s, "status")?, false);
        let input = any_map(&s, "input")?;
        if input != b"null" && input != b"{}" {
            sw.raw("input", &input);
        }
        sw.string("output", &rawjson::typed_str(&s, "output")?, true);
        if let Some(md) = rawjson::typed_obj(&s, "metadata")? {
            sw.raw("metadata", &opencode_metadata(&md)?);
        }
        w.raw("state", &sw.finish());
    }
    Ok(w.finish())
}

/// `ToolStateMetadata{files?, sessionId?, model?}`.
fn opencode_metadata(md: &Obj<'_>) -> Result<Vec<u8>, TypeMismatch> {
    let mut w = StructWriter::new();
    let files = rawjson::typed_arr(md, "files")?;
    if !files.is_empty() {
        let mut encoded = Vec::new();
        for f in files {
            let f = rawjson::elem_obj(f)?;
            let mut fw = StructWriter::new();
            fw.string("filePath", &rawjson::typed_str(&f, "filePath")?, false);
            fw.string(
                "relativePath",
                &rawjson::typed_str(&f, "relativePath")?,
                true,
            );
            encoded.push(fw.finish());
        }
        let mut arr = Vec::new();
        rawjson::write_array(&mut arr, &encoded);
        w.raw("files", &arr);
    }
    w.string("sessionId", &rawjson::typed_str(md, "sessionId")?, true);
    if let Some(model) = rawjson::typed_obj(md, "model")? {
        let mut mw = StructWriter::new();
        mw.string("modelID", &rawjson::typed_str(&model, "modelID")?, true);
        mw.string(
            "providerID",
            &rawjson::typed_str(&model, "providerID")?,
            true,
        );
        w.raw("model", &mw.finish());
    }
    Ok(w.finish())
}

// ---- Go struct encoding helpers ------------------------------------------------------------

/// A Go `map[string]any` field: absent/`null` → `null`, an object → sorted and re-spelled,
/// anything else → type error.
fn any_map(o: &Obj<'_>, key: &str) -> Result<Vec<u8>, TypeMismatch> {
    match o.get(key) {
        None => Ok(b"null".to_vec()),
        Some(r) => match rawjson::kind(r) {
            Kind::Null => Ok(b"null".to_vec()),
            Kind::Object => {
                let v: Value = serde_json::from_str(r.get()).map_err(|_| TypeMismatch)?;
                let mut out = Vec::new();
                gojson::write_any(&mut out, &v, true);
                Ok(out)
            }
            _ => Err(TypeMismatch),
        },
    }
}

/// A Go `float64` field: absent/`null` → 0, a non-number → type error.
fn typed_float(o: &Obj<'_>, key: &str) -> Result<f64, TypeMismatch> {
    match o.get(key) {
        None => Ok(0.0),
        Some(r) => match rawjson::kind(r) {
            Kind::Null => Ok(0.0),
            Kind::Number => r.get().parse().map_err(|_| TypeMismatch),
            _ => Err(TypeMismatch),
        },
    }
}

/// Writes a Go struct: fields in declaration order, `omitempty` honoured, HTML escaping on.
struct StructWriter {
    out: Vec<u8>,
}

impl StructWriter {
    fn new() -> StructWriter {
        StructWriter { out: vec![b'{'] }
    }

    fn key(&mut self, k: &str) {
        if self.out.len() > 1 {
            self.out.push(b',');
        }
        gojson::write_str(&mut self.out, k, true);
        self.out.push(b':');
    }

    fn string(&mut self, k: &str, v: &str, omitempty: bool) {
        if omitempty && v.is_empty() {
            return;
        }
        self.key(k);
        gojson::write_str(&mut self.out, v, true);
    }

    fn int(&mut self, k: &str, v: i64, omitempty: bool) {
        if omitempty && v == 0 {
            return;
        }
        self.key(k);
        self.out.extend_from_slice(v.to_string().as_bytes());
    }

    fn raw(&mut self, k: &str, v: &[u8]) {
        self.key(k);
        self.out.extend_from_slice(v);
    }

    fn finish(mut self) -> Vec<u8> {
        self.out.push(b'}');
        self.out
    }
}

#[cfg(test)]
mod tests;
