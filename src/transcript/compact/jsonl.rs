//! The generic JSONL converter (`compact-format.md` §5): Claude Code and Cursor transcripts, and
//! Factory AI Droid after its envelopes are unwrapped (§6, see `droid.rs`).
//!
//! Pass 1 turns each line into a user or assistant entry; pass 2 merges streamed assistant
//! fragments, inlines tool results into the `tool_use` blocks they answer, and emits lines.

use std::collections::BTreeMap;

use serde_json::value::RawValue;

use super::{clean, lines, raw_ts, user_text_block, Line, ToolResult, Writer};
use crate::transcript::rawjson::{self, Kind, Obj};

/// How each parsed line is rewritten before it is read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Unwrap {
    None,
    Droid,
}

/// The parts of one source line the converter reads (after any envelope unwrapping).
pub(super) struct View<'a> {
    pub kind: String,
    pub ts: Option<&'a RawValue>,
    pub message: Option<Obj<'a>>,
    pub prompt_id: String,
    pub tool_use_result: Option<&'a RawValue>,
}

impl<'a> View<'a> {
    pub(super) fn of(o: &Obj<'a>) -> View<'a> {
        let mut kind = rawjson::string_value(o, "type");
        if kind.is_empty() {
            kind = rawjson::string_value(o, "role");
        }
        View {
            kind,
            ts: o.get("timestamp").copied(),
            message: o.get("message").and_then(|m| rawjson::obj(m)),
            prompt_id: rawjson::string_value(o, "promptId"),
            tool_use_result: o.get("toolUseResult").copied(),
        }
    }
}

pub(super) fn convert(input: &[u8], w: &mut Writer, unwrap: Unwrap) {
    convert_split(input, w, unwrap, PARALLEL_MIN);
}

fn convert_split(input: &[u8], w: &mut Writer, unwrap: Unwrap, parallel_min: usize) {
    let parse = |part: &[u8]| -> Vec<Entry> {
        lines(part)
            .filter_map(rawjson::parse_obj)
            .filter_map(|o| {
                let view = match unwrap {
                    Unwrap::Droid => super::droid::unwrap(&o),
                    Unwrap::None => View::of(&o),
                };
                entry(view)
            })
            .collect()
    };
    // Pass 1 reads each line on its own: a large transcript is parsed in two halves, cut at a
    // line boundary, on two threads; the entries come out in the same order.
    let cut = (input.len() >= parallel_min)
        .then(|| input[input.len() / 2..].iter().position(|&b| b == b'\n'))
        .flatten()
        .map(|p| input.len() / 2 + p + 1);
    let entries = match cut {
        Some(cut) => {
            let (first, second) = input.split_at(cut);
            std::thread::scope(|scope| {
                let later = scope.spawn(|| parse(second));
                let mut entries = parse(first);
                match later.join() {
                    Ok(more) => entries.extend(more),
                    Err(panic) => std::panic::resume_unwind(panic),
                }
                entries
            })
        }
        None => parse(input),
    };
    emit(entries, w);
}

/// Transcripts at least this large are parsed on two threads.
const PARALLEL_MIN: usize = 8 << 20;

// ---- pass 1 --------------------------------------------------------------------------------

/// Assistant content after stripping (§5.2), its elements already encoded.
#[derive(Clone, Debug)]
enum Content {
    /// No `content` key: emitted as `null`.
    Absent,
    /// A non-array value, kept as it was (compacted).
    Other(Vec<u8>),
    /// An array; each element encoded (stripped blocks as sorted maps, or raw).
    Array(Vec<Vec<u8>>),
}

#[derive(Clone, Debug)]
struct Assistant {
    ts: Option<Vec<u8>>,
    id: String,
    content: Content,
    input_tokens: i64,
    output_tokens: i64,
}

#[derive(Clone, Debug, Default)]
struct User {
    ts: Option<Vec<u8>>,
    prompt_id: String,
    text: String,
    images: Vec<Vec<u8>>,
    /// `(tool_use_id, result)`.
    results: Vec<(String, ToolResult)>,
}

#[derive(Clone, Debug)]
enum Entry {
    Assistant(Assistant),
    User(User),
}

fn entry(v: View<'_>) -> Option<Entry> {
    let ts = v.ts.map(raw_ts);
    match v.kind.as_str() {
        "assistant" => Some(Entry::Assistant(assistant(ts, v.message.as_ref()))),
        "user" | "human" => Some(Entry::User(user(ts, &v))),
        // progress, file-history-snapshot, queue-operation, system and anything unknown.
        _ => None,
    }
}

fn assistant(ts: Option<Vec<u8>>, message: Option<&Obj<'_>>) -> Assistant {
    let mut a = Assistant {
        ts,
        id: String::new(),
        content: Content::Absent,
        input_tokens: 0,
        output_tokens: 0,
    };
    let Some(m) = message else {
        return a;
    };
    a.id = rawjson::string_value(m, "id");
    if let Some(c) = m.get("content") {
        a.content = strip(c);
    }
    // Go decodes `usage` into a struct of two ints: any type error zeroes both.
    if let Some(usage) = m.get("usage") {
        let counts = rawjson::elem_obj(usage).and_then(|u| {
            Ok((
                rawjson::typed_int(&u, "input_tokens")?,
                rawjson::typed_int(&u, "output_tokens")?,
            ))
        });
        if let Ok((i, o)) = counts {
            a.input_tokens = i;
            a.output_tokens = o;
        }
    }
    a
}

/// §5.2: drop thinking blocks, reduce `tool_use` blocks to their four keys, keep the rest; every
/// block becomes a Go map (sorted keys).
fn strip(content: &RawValue) -> Content {
    let Some(items) = rawjson::arr(content) else {
        return Content::Other(rawjson::enc_raw(content));
    };
    // Go decodes into `[]map[string]json.RawMessage`: objects, and `null` as a nil map.
    let blocks: Option<Vec<Option<Obj<'_>>>> = items
        .iter()
        .map(|r| match rawjson::kind(r) {
            Kind::Null => Some(None),
            _ => rawjson::obj(r).map(Some),
        })
        .collect();
    let Some(blocks) = blocks else {
        // An array with another kind of element is kept unchanged.
        return Content::Array(items.iter().map(|r| rawjson::enc_raw(r)).collect());
    };
    let mut out = Vec::with_capacity(blocks.len());
    for block in blocks {
        let Some(mut block) = block else {
            out.push(b"null".to_vec());
            continue;
        };
        match rawjson::string_value(&block, "type").as_str() {
            "thinking" | "redacted_thinking" => continue,
            "tool_use" => {
                block.retain(|k, _| matches!(k.as_str(), "type" | "id" | "name" | "input"))
            }
            _ => {}
        }
        out.push(rawjson::enc_obj(&block));
    }
    Content::Array(out)
}

fn user(ts: Option<Vec<u8>>, v: &View<'_>) -> User {
    let mut u = User {
        ts,
        prompt_id: v.prompt_id.clone(),
        ..User::default()
    };
    if let Some(c) = v.message.as_ref().and_then(|m| m.get("content")) {
        if let Some(s) = rawjson::str_of(c) {
            u.text = clean(&s);
        } else if let Some(items) = rawjson::arr(c) {
            let mut text = String::new();
            for item in items {
                let Some(el) = rawjson::obj(item) else {
                    continue;
                };
                match rawjson::string_value(&el, "type").as_str() {
                    "tool_result" => u.results.push((
                        rawjson::string_value(&el, "tool_use_id"),
                        ToolResult {
                            output: rawjson::string_value(&el, "content"),
                            error: rawjson::typed_bool(&el, "is_error").unwrap_or(false),
                            ..ToolResult::default()
                        },
                    )),
                    "image" => u.images.push(rawjson::enc_raw(item)),
                    "text" => {
                        let t = clean(&rawjson::string_value(&el, "text"));
                        if !t.is_empty() {
                            text.push_str(&t);
                            text.push_str("\n\n");
                        }
                    }
                    _ => {}
                }
            }
            u.text = text.trim().to_string();
        }
    }
    if let Some(tur) = v.tool_use_result.and_then(rawjson::obj) {
        enrich(&mut u.results, &tur);
    }
    u
}

/// Claude Code's `toolUseResult` enrichment (§5.1), in the spec's order.
fn enrich(results: &mut Vec<(String, ToolResult)>, tur: &Obj<'_>) {
    let stdout = rawjson::string_value(tur, "stdout");
    if !stdout.is_empty() {
        match results.len() {
            0 => results.push((
                String::new(),
                ToolResult {
                    output: stdout,
                    ..ToolResult::default()
                },
            )),
            1 => results[0].1.output = stdout,
            _ => {}
        }
    }
    let single = results.len() == 1;
    if let Some(file) = tur.get("file").and_then(|f| rawjson::obj(f)) {
        let decoded = rawjson::typed_str(&file, "filePath")
            .and_then(|p| Ok((p, rawjson::typed_int(&file, "numLines")?)));
        if let Ok((path, num_lines)) = decoded {
            if !path.is_empty() && single {
                results[0].1.file = Some((path, num_lines));
            }
        }
    }
    let path = rawjson::string_value(tur, "filePath");
    if !path.is_empty() && single {
        results[0].1.file = Some((path, 0));
    }
    if let Some(n) = tur.get("numFiles").and_then(|r| rawjson::int_of(r).ok()) {
        if n > 0 && single {
            results[0].1.match_count = n;
        }
    }
}

// ---- pass 2 --------------------------------------------------------------------------------

fn emit(entries: Vec<Entry>, w: &mut Writer) {
    let mut it = entries.into_iter().peekable();
    while let Some(e) = it.next() {
        match e {
            Entry::User(u) => {
                // A result-only user entry whose assistant is not right before it is an orphan.
                if !u.results.is_empty() && u.text.is_empty() && u.images.is_empty() {
                    continue;
                }
                emit_user(&u, w);
            }
            Entry::Assistant(mut a) => {
                while let Some(Entry::Assistant(next)) = it.peek() {
                    if next.id != a.id {
                        break;
                    }
                    if let Some(Entry::Assistant(next)) = it.next() {
                        merge(&mut a, next);
                    }
                }
                if let Some(Entry::User(u)) = it.peek() {
                    if !u.results.is_empty() {
                        if let Some(Entry::User(u)) = it.next() {
                            inline(&mut a.content, &u.results);
                            if !u.text.is_empty() || !u.images.is_empty() {
                                emit_assistant(&a, w);
                                emit_user(&u, w);
                                continue;
                            }
                        }
                    }
                }
                let empty = match &a.content {
                    Content::Array(items) => items.is_empty(),
                    Content::Other(bytes) => bytes == b"null",
                    Content::Absent => false,
                };
                if !empty {
                    emit_assistant(&a, w);
                }
            }
        }
    }
}

/// Folds a streamed fragment of the same message into `a`.
fn merge(a: &mut Assistant, next: Assistant) {
    a.ts = next.ts;
    if next.input_tokens > 0 {
        a.input_tokens = next.input_tokens;
    }
    if next.output_tokens > 0 {
        a.output_tokens = next.output_tokens;
    }
    let left = std::mem::replace(&mut a.content, Content::Absent);
    a.content = match (left, next.content) {
        (Content::Array(mut l), Content::Array(r)) => {
            l.extend(r);
            Content::Array(l)
        }
        (Content::Array(l), _) => Content::Array(l),
        // Go appends to a nil slice here: nothing appended stays nil, i.e. `null`.
        (_, Content::Array(r)) if r.is_empty() => Content::Other(b"null".to_vec()),
        (_, Content::Array(r)) => Content::Array(r),
        _ => Content::Other(b"null".to_vec()),
    };
}

/// Sets `result` on the `tool_use` block each result answers (§5.3 step 2).
fn inline(content: &mut Content, results: &[(String, ToolResult)]) {
    let Content::Array(items) = content else {
        return;
    };
    if items.is_empty() {
        return;
    }
    // Go decodes into `[]map[string]json.RawMessage`; a `null` element is a nil map, never a
    // target, and is written back as `null`.
    let mut blocks: Vec<Option<BTreeMap<String, Vec<u8>>>> = Vec::with_capacity(items.len());
    for item in items.iter() {
        if item.as_slice() == b"null" {
            blocks.push(None);
            continue;
        }
        let Some(o) = rawjson::parse_obj(item) else {
            return;
        };
        let block = o.iter().map(|(k, v)| (k.clone(), rawjson::enc_raw(v)));
        blocks.push(Some(block.collect()));
    }
    let field = |b: &BTreeMap<String, Vec<u8>>, k: &str| -> String {
        b.get(k)
            .and_then(|v| serde_json::from_slice::<String>(v).ok())
            .unwrap_or_default()
    };
    for (tool_use_id, result) in results {
        let target = blocks.iter_mut().rev().flatten().find(|b| {
            field(b, "type") == "tool_use"
                && (tool_use_id.is_empty() || field(b, "id") == *tool_use_id)
        });
        if let Some(block) = target {
            block.insert("result".to_string(), result.encode());
        }
    }
    *items = blocks
        .iter()
        .map(|b| match b {
            Some(b) => {
                let mut out = Vec::new();
                rawjson::write_map(&mut out, b);
                out
            }
            None => b"null".to_vec(),
        })
        .collect();
}

fn emit_assistant(a: &Assistant, w: &mut Writer) {
    let content = match &a.content {
        Content::Absent => b"null".to_vec(),
        Content::Other(bytes) => bytes.clone(),
        Content::Array(items) => {
            let mut out = Vec::new();
            rawjson::write_array(&mut out, items);
            out
        }
    };
    w.push(&Line {
        user: false,
        ts: a.ts.clone(),
        id: a.id.clone(),
        input_tokens: a.input_tokens,
        output_tokens: a.output_tokens,
        content,
    });
}

fn emit_user(u: &User, w: &mut Writer) {
    let mut blocks = Vec::with_capacity(1 + u.images.len());
    if !u.text.is_empty() || u.images.is_empty() {
        blocks.push(user_text_block(&u.prompt_id, &u.text));
    }
    blocks.extend(u.images.iter().cloned());
    let mut content = Vec::new();
    rawjson::write_array(&mut content, &blocks);
    w.push(&Line {
        user: true,
        ts: u.ts.clone(),
        content,
        ..Line::default()
    });
}

#[cfg(test)]
mod split_tests {
    use super::*;

    /// Parsing in two halves gives the same lines as one pass, wherever the cut falls: every
    /// prefix of the real transcripts is cut at its own middle (between a tool call and its
    /// result, inside streamed fragments, …).
    #[test]
    fn two_halves_give_the_same_output_as_one_pass() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/compact");
        for (file, unwrap) in [
            ("claude_full.jsonl", Unwrap::None),
            ("droid_full.jsonl", Unwrap::Droid),
        ] {
            let input = std::fs::read(dir.join(file)).unwrap();
            let ends: Vec<usize> = input
                .iter()
                .enumerate()
                .filter(|(_, &b)| b == b'\n')
                .map(|(i, _)| i + 1)
                .collect();
            for end in ends {
                let prefix = &input[..end];
                let run = |min: usize| {
                    let mut w = Writer::new("claude-code", "0.5.1");
                    convert_split(prefix, &mut w, unwrap, min);
                    w.finish()
                };
                assert_eq!(run(0), run(usize::MAX), "{file}, first {end} bytes");
            }
        }
    }
}
