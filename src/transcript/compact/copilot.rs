//! GitHub Copilot CLI event streams (`compact-format.md` §10): `user.message`,
//! `assistant.message` and `tool.execution_complete` events.
//!
//! One assistant line is held back while the results of its tool requests arrive.

use std::collections::BTreeMap;

use super::{lines, Line, ToolResult, Writer};
use crate::transcript::rawjson::{self, Obj, TypeMismatch};

/// The assistant line waiting for its tool results; blocks are Go maps of encoded values.
struct Pending {
    ts: String,
    id: String,
    output_tokens: i64,
    blocks: Vec<BTreeMap<String, Vec<u8>>>,
}

pub(super) fn convert(input: &[u8], w: &mut Writer) {
    let mut pending: Option<Pending> = None;
    for line in lines(input) {
        let Some(o) = rawjson::parse_obj(line) else {
            continue;
        };
        let (Ok(kind), Ok(timestamp)) = (
            rawjson::typed_str(&o, "type"),
            rawjson::typed_str(&o, "timestamp"),
        ) else {
            continue;
        };
        let data = o.get("data").copied();
        match kind.as_str() {
            "user.message" => {
                flush(pending.take(), w);
                let Some(content) = data
                    .and_then(rawjson::obj)
                    .and_then(|d| d.get("content").and_then(|c| rawjson::str_of(c)))
                else {
                    continue;
                };
                if content.is_empty() {
                    continue;
                }
                w.push_user_text(Some(rawjson::enc_str(&timestamp)), &content);
            }
            "assistant.message" => {
                flush(pending.take(), w);
                let decoded = data
                    .map_or(Ok(Obj::new()), rawjson::elem_obj)
                    .and_then(|d| assistant(&d, timestamp));
                if let Ok(Some(p)) = decoded {
                    pending = Some(p);
                }
            }
            "tool.execution_complete" => {
                let Some(p) = pending.as_mut() else {
                    continue;
                };
                let Ok((call_id, result)) = data
                    .map_or(Ok(Obj::new()), rawjson::elem_obj)
                    .and_then(|d| completion(&d))
                else {
                    continue;
                };
                if call_id.is_empty() {
                    continue;
                }
                let target = p
                    .blocks
                    .iter_mut()
                    .rev()
                    .find(|b| field(b, "type") == "tool_use" && field(b, "id") == call_id);
                if let Some(block) = target {
                    block.insert("result".to_string(), result.encode());
                }
            }
            _ => {}
        }
    }
    flush(pending, w);
}

fn field(b: &BTreeMap<String, Vec<u8>>, k: &str) -> String {
    b.get(k)
        .and_then(|v| serde_json::from_slice::<String>(v).ok())
        .unwrap_or_default()
}

/// An `assistant.message` event as a pending line; `None` when it has no blocks.
fn assistant(d: &Obj<'_>, ts: String) -> Result<Option<Pending>, TypeMismatch> {
    let id = rawjson::typed_str(d, "messageId")?;
    let text = rawjson::typed_str(d, "content")?;
    let output_tokens = rawjson::typed_int(d, "outputTokens")?;
    let mut blocks = Vec::new();
    if !text.is_empty() {
        let mut b = BTreeMap::new();
        b.insert("text".to_string(), rawjson::enc_str(&text));
        b.insert("type".to_string(), rawjson::enc_str("text"));
        blocks.push(b);
    }
    for req in rawjson::typed_arr(d, "toolRequests")? {
        let r = rawjson::elem_obj(req)?;
        let call_id = rawjson::typed_str(&r, "toolCallId")?;
        let name = rawjson::typed_str(&r, "name")?;
        let mut b = BTreeMap::new();
        if !call_id.is_empty() {
            b.insert("id".to_string(), rawjson::enc_str(&call_id));
        }
        if let Some(args) = r.get("arguments") {
            b.insert("input".to_string(), rawjson::enc_raw(args));
        }
        b.insert("name".to_string(), rawjson::enc_str(&name));
        b.insert("type".to_string(), rawjson::enc_str("tool_use"));
        blocks.push(b);
    }
    if blocks.is_empty() {
        return Ok(None);
    }
    Ok(Some(Pending {
        ts,
        id,
        output_tokens,
        blocks,
    }))
}

/// A `tool.execution_complete` event: the call id and its result.
fn completion(d: &Obj<'_>) -> Result<(String, ToolResult), TypeMismatch> {
    let call_id = rawjson::typed_str(d, "toolCallId")?;
    let success = rawjson::typed_bool(d, "success")?;
    let (content, detailed) = match rawjson::typed_obj(d, "result")? {
        Some(r) => (
            rawjson::typed_str(&r, "content")?,
            rawjson::typed_str(&r, "detailedContent")?,
        ),
        None => (String::new(), String::new()),
    };
    let output = if content.is_empty() {
        detailed
    } else {
        content
    };
    Ok((
        call_id,
        ToolResult {
            output,
            error: !success,
            ..ToolResult::default()
        },
    ))
}

fn flush(pending: Option<Pending>, w: &mut Writer) {
    let Some(p) = pending else {
        return;
    };
    let blocks: Vec<Vec<u8>> = p
        .blocks
        .iter()
        .map(|b| {
            let mut out = Vec::new();
            rawjson::write_map(&mut out, b);
            out
        })
        .collect();
    let mut content = Vec::new();
    rawjson::write_array(&mut content, &blocks);
    w.push(&Line {
        user: false,
        ts: Some(rawjson::enc_str(&p.ts)),
        id: p.id,
        output_tokens: p.output_tokens,
        content,
        ..Line::default()
    });
}
