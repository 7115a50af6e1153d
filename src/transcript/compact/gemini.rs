//! Gemini CLI session documents (`compact-format.md` §7): `{"sessionId":…,"messages":[…]}`.
//!
//! Entire decodes the messages into typed structs, so a field of the wrong JSON type anywhere
//! fails the whole conversion; the whole document is therefore decoded before anything is
//! emitted.

use std::collections::BTreeMap;

use serde_json::value::RawValue;

use super::{clean, CompactError, Line, ToolResult, Writer};
use crate::transcript::rawjson::{self, Kind, Obj, TypeMismatch};

struct Message<'a> {
    id: String,
    timestamp: String,
    kind: String,
    content: Option<&'a RawValue>,
    tool_calls: Vec<ToolCall<'a>>,
    tokens: (i64, i64),
}

struct ToolCall<'a> {
    id: String,
    name: String,
    status: String,
    args: Option<&'a RawValue>,
    /// `functionResponse.response.output` of the first result entry.
    first_output: String,
}

pub(super) fn convert(
    doc: &Obj<'_>,
    start_line: usize,
    w: &mut Writer,
) -> Result<(), CompactError> {
    let messages = decode(doc).map_err(|TypeMismatch| {
        CompactError("parsing Gemini transcript: a field has the wrong JSON type".into())
    })?;
    for m in messages.iter().skip(start_line) {
        let ts = Some(rawjson::enc_str(&m.timestamp));
        match m.kind.as_str() {
            "user" => {
                let text = clean(&content_text(m.content));
                if text.is_empty() {
                    continue;
                }
                w.push_user_text(ts, &text);
            }
            "gemini" => {
                let mut blocks = Vec::new();
                let text = content_text(m.content);
                if !text.is_empty() {
                    blocks.push(text_block(&text));
                }
                for call in &m.tool_calls {
                    let mut b = BTreeMap::new();
                    b.insert("id".to_string(), rawjson::enc_str(&call.id));
                    if let Some(args) = call.args {
                        b.insert("input".to_string(), rawjson::enc_raw(args));
                    }
                    b.insert("name".to_string(), rawjson::enc_str(&call.name));
                    let result = ToolResult {
                        output: call.first_output.clone(),
                        error: !(call.status.is_empty() || call.status == "success"),
                        ..ToolResult::default()
                    };
                    b.insert("result".to_string(), result.encode());
                    b.insert("type".to_string(), rawjson::enc_str("tool_use"));
                    let mut out = Vec::new();
                    rawjson::write_map(&mut out, &b);
                    blocks.push(out);
                }
                if blocks.is_empty() {
                    continue;
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
            // `info` and anything else.
            _ => {}
        }
    }
    Ok(())
}

/// The assistant text block `{"text":…,"type":"text"}` (a Go map, hence sorted).
pub(super) fn text_block(text: &str) -> Vec<u8> {
    let mut out = b"{\"text\":".to_vec();
    crate::gojson::write_str(&mut out, text, true);
    out.extend_from_slice(b",\"type\":\"text\"}");
    out
}

fn decode<'a>(doc: &Obj<'a>) -> Result<Vec<Message<'a>>, TypeMismatch> {
    let mut out = Vec::new();
    for raw in rawjson::typed_arr(doc, "messages")? {
        let m = rawjson::elem_obj(raw)?;
        let mut tool_calls = Vec::new();
        for call in rawjson::typed_arr(&m, "toolCalls")? {
            let c = rawjson::elem_obj(call)?;
            let mut first_output = None;
            for r in rawjson::typed_arr(&c, "result")? {
                let r = rawjson::elem_obj(r)?;
                let output = match rawjson::typed_obj(&r, "functionResponse")? {
                    Some(fr) => {
                        rawjson::typed_str(&fr, "id")?;
                        rawjson::typed_str(&fr, "name")?;
                        match rawjson::typed_obj(&fr, "response")? {
                            Some(resp) => rawjson::typed_str(&resp, "output")?,
                            None => String::new(),
                        }
                    }
                    None => String::new(),
                };
                first_output.get_or_insert(output);
            }
            tool_calls.push(ToolCall {
                id: rawjson::typed_str(&c, "id")?,
                name: rawjson::typed_str(&c, "name")?,
                status: rawjson::typed_str(&c, "status")?,
                args: c.get("args").copied(),
                first_output: first_output.unwrap_or_default(),
            });
        }
        let tokens = match rawjson::typed_obj(&m, "tokens")? {
            Some(t) => (
                rawjson::typed_int(&t, "input")?,
                rawjson::typed_int(&t, "output")?,
            ),
            None => (0, 0),
        };
        out.push(Message {
            id: rawjson::typed_str(&m, "id")?,
            timestamp: rawjson::typed_str(&m, "timestamp")?,
            kind: rawjson::typed_str(&m, "type")?,
            content: m.get("content").copied(),
            tool_calls,
            tokens,
        });
    }
    Ok(out)
}

/// §7 `contentText`: a string, or the concatenated `text` of an array of objects.
fn content_text(c: Option<&RawValue>) -> String {
    let Some(c) = c else {
        return String::new();
    };
    match rawjson::kind(c) {
        Kind::String => rawjson::str_of(c).unwrap_or_default(),
        Kind::Array => {
            let Some(items) = rawjson::arr(c) else {
                return String::new();
            };
            let mut text = String::new();
            for item in items {
                match rawjson::elem_obj(item).and_then(|o| rawjson::typed_str(&o, "text")) {
                    Ok(t) => text.push_str(&t),
                    Err(TypeMismatch) => return String::new(),
                }
            }
            text
        }
        _ => String::new(),
    }
}
