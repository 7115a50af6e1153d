//! OpenCode export documents (`compact-format.md` §8): `{"info":…,"messages":[{"info","parts"}]}`.
//!
//! Message `info` is decoded into typed fields (a wrong type fails the whole conversion); parts
//! are kept raw and their values copied into the output blocks.

use std::collections::BTreeMap;

use super::{clean, user_text_block, CompactError, Line, ToolResult, Writer};
use crate::time::Timestamp;
use crate::transcript::rawjson::{self, Obj, TypeMismatch};

struct Message<'a> {
    id: String,
    role: String,
    created_ms: i64,
    tokens: (i64, i64),
    parts: Vec<Obj<'a>>,
}

pub(super) fn convert(
    doc: &Obj<'_>,
    start_line: usize,
    w: &mut Writer,
) -> Result<(), CompactError> {
    let messages = decode(doc).map_err(|TypeMismatch| {
        CompactError("parsing OpenCode transcript: a field has the wrong JSON type".into())
    })?;
    for m in messages.iter().skip(start_line) {
        let ts = (m.created_ms != 0)
            .then(|| rawjson::enc_str(&Timestamp::from_unix_millis(m.created_ms).rfc3339_nano()));
        match m.role.as_str() {
            "user" => {
                let mut blocks = Vec::new();
                for p in &m.parts {
                    if rawjson::string_value(p, "type") != "text" {
                        continue;
                    }
                    let t = clean(&rawjson::string_value(p, "text"));
                    if t.is_empty() {
                        continue;
                    }
                    blocks.push(user_text_block(&rawjson::string_value(p, "id"), &t));
                }
                let content = if blocks.is_empty() {
                    b"null".to_vec()
                } else {
                    let mut out = Vec::new();
                    rawjson::write_array(&mut out, &blocks);
                    out
                };
                w.push(&Line {
                    user: true,
                    ts,
                    content,
                    ..Line::default()
                });
            }
            "assistant" => {
                let mut blocks = Vec::new();
                for p in &m.parts {
                    match rawjson::string_value(p, "type").as_str() {
                        "text" => blocks.push(match p.get("text") {
                            Some(t) => {
                                let mut out = b"{\"text\":".to_vec();
                                out.extend_from_slice(&rawjson::enc_raw(t));
                                out.extend_from_slice(b",\"type\":\"text\"}");
                                out
                            }
                            None => b"{\"text\":null,\"type\":\"text\"}".to_vec(),
                        }),
                        "tool" => blocks.push(tool_block(p)),
                        _ => {}
                    }
                }
                let mut content = Vec::new();
                rawjson::write_array(&mut content, &blocks);
                w.push(&Line {
                    user: false,
                    ts,
                    id: m.id.clone(),
                    input_tokens: m.tokens.0,
                    output_tokens: m.tokens.1,
                    content,
                });
            }
            _ => {}
        }
    }
    Ok(())
}

/// A `tool` part as a `tool_use` block (a Go map: sorted keys).
fn tool_block(p: &Obj<'_>) -> Vec<u8> {
    let mut b = BTreeMap::new();
    if let Some(id) = p.get("callID") {
        b.insert("id".to_string(), rawjson::enc_raw(id));
    }
    if let Some(name) = p.get("tool") {
        b.insert("name".to_string(), rawjson::enc_raw(name));
    }
    let state = p.get("state").copied();
    if let Some(input) = state
        .and_then(rawjson::obj)
        .and_then(|s| s.get("input").copied())
    {
        b.insert("input".to_string(), rawjson::enc_raw(input));
    }
    // Entire decodes `state` into a struct: that works for an object and for `null` (the zero
    // state), and fails — leaving no result — for anything else or a missing state.
    let state_obj = state.and_then(|s| rawjson::elem_obj(s).ok());
    if let Some(s) = state_obj {
        let status = rawjson::string_value(&s, "status");
        let result = ToolResult {
            output: rawjson::string_value(&s, "output"),
            error: !(status.is_empty() || status == "completed"),
            ..ToolResult::default()
        };
        b.insert("result".to_string(), result.encode());
    }
    b.insert("type".to_string(), rawjson::enc_str("tool_use"));
    let mut out = Vec::new();
    rawjson::write_map(&mut out, &b);
    out
}

fn decode<'a>(doc: &Obj<'a>) -> Result<Vec<Message<'a>>, TypeMismatch> {
    let mut out = Vec::new();
    for raw in rawjson::typed_arr(doc, "messages")? {
        let m = rawjson::elem_obj(raw)?;
        let info = rawjson::typed_obj(&m, "info")?.unwrap_or_default();
        let created_ms = match rawjson::typed_obj(&info, "time")? {
            Some(t) => {
                rawjson::typed_int(&t, "completed")?;
                rawjson::typed_int(&t, "created")?
            }
            None => 0,
        };
        let tokens = match rawjson::typed_obj(&info, "tokens")? {
            Some(t) => (
                rawjson::typed_int(&t, "input")?,
                rawjson::typed_int(&t, "output")?,
            ),
            None => (0, 0),
        };
        let mut parts = Vec::new();
        for p in rawjson::typed_arr(&m, "parts")? {
            parts.push(rawjson::elem_obj(p)?);
        }
        out.push(Message {
            id: rawjson::typed_str(&info, "id")?,
            role: rawjson::typed_str(&info, "role")?,
            created_ms,
            tokens,
            parts,
        });
    }
    Ok(out)
}
