//! Codex rollouts (`compact-format.md` §9): `response_item` lines plus `token_count` events.
//!
//! Assistant messages absorb the tool calls, token counts and call outputs that directly follow
//! them; tool calls without a preceding assistant text become lines of their own.

use std::collections::BTreeMap;

use serde_json::value::RawValue;

use super::gemini::text_block;
use super::{clean, lines, Line, ToolResult, Writer};
use crate::transcript::rawjson::{self, Obj, TypeMismatch};

/// User texts starting with these are harness context, not prompts.
pub(crate) const CONTEXT_PREFIXES: [&str; 6] = [
    "<permissions",
    "<collaboration_mode>",
    "<skills_instructions>",
    "<environment_context>",
    "<turn_aborted>",
    "# AGENTS.md",
];

/// A kept line: a token count or a response item.
struct Kept<'a> {
    timestamp: String,
    body: Body<'a>,
}

enum Body<'a> {
    Tokens(i64, i64),
    /// The payload, `Err` when it fails the typed decode; the raw object is kept for the lenient
    /// reads of call outputs.
    Item(Result<Payload<'a>, TypeMismatch>, Option<Obj<'a>>),
}

struct Payload<'a> {
    kind: String,
    role: String,
    name: String,
    arguments: String,
    input: String,
    call_id: String,
    content: Option<&'a RawValue>,
}

fn decode_payload<'a>(p: &Obj<'a>) -> Result<Payload<'a>, TypeMismatch> {
    // `phase` and `output` are part of Entire's struct: a non-string there fails the decode too.
    rawjson::typed_str(p, "phase")?;
    rawjson::typed_str(p, "output")?;
    Ok(Payload {
        kind: rawjson::typed_str(p, "type")?,
        role: rawjson::typed_str(p, "role")?,
        name: rawjson::typed_str(p, "name")?,
        arguments: rawjson::typed_str(p, "arguments")?,
        input: rawjson::typed_str(p, "input")?,
        call_id: rawjson::typed_str(p, "call_id")?,
        content: p.get("content").copied(),
    })
}

fn kept_lines(input: &[u8]) -> Vec<Kept<'_>> {
    let mut out = Vec::new();
    for line in lines(input) {
        let Some(o) = rawjson::parse_obj(line) else {
            continue;
        };
        let (Ok(timestamp), Ok(kind)) = (
            rawjson::typed_str(&o, "timestamp"),
            rawjson::typed_str(&o, "type"),
        ) else {
            continue;
        };
        let payload = o.get("payload").copied();
        match kind.as_str() {
            "response_item" => {
                // A missing or `null` payload decodes to the zero struct, like in Go.
                let p = match payload {
                    None => Some(Obj::new()),
                    Some(r) => rawjson::elem_obj(r).ok(),
                };
                let decoded = p.as_ref().map_or(Err(TypeMismatch), decode_payload);
                out.push(Kept {
                    timestamp,
                    body: Body::Item(decoded, p),
                });
            }
            "event_msg" => {
                let Some(p) = payload.and_then(rawjson::obj) else {
                    continue;
                };
                if rawjson::string_value(&p, "type") != "token_count" {
                    continue;
                }
                let input = rawjson::typed_int(&p, "input_tokens").unwrap_or(0);
                let output = rawjson::typed_int(&p, "output_tokens").unwrap_or(0);
                out.push(Kept {
                    timestamp,
                    body: Body::Tokens(input, output),
                });
            }
            _ => {}
        }
    }
    out
}

pub(super) fn convert(input: &[u8], w: &mut Writer) {
    let kept = kept_lines(input);
    let mut pending = (0, 0);
    let mut i = 0;
    while i < kept.len() {
        let k = &kept[i];
        i += 1;
        let p = match &k.body {
            Body::Tokens(a, b) => {
                pending = (*a, *b);
                continue;
            }
            Body::Item(Err(_), _) => continue,
            Body::Item(Ok(p), _) => p,
        };
        let ts = Some(rawjson::enc_str(&k.timestamp));
        match (p.kind.as_str(), p.role.as_str()) {
            ("message", "user") => {
                let text = user_text(p.content);
                if text.is_empty() {
                    continue;
                }
                w.push_user_text(ts, &text);
            }
            ("message", "assistant") => {
                let text = assistant_text(p.content);
                if text.is_empty() {
                    continue;
                }
                let mut tokens = std::mem::take(&mut pending);
                let mut blocks = vec![text_block(&text)];
                while i < kept.len() {
                    match &kept[i].body {
                        Body::Tokens(a, b) => {
                            tokens = (*a, *b);
                            i += 1;
                        }
                        Body::Item(Ok(q), _)
                            if q.kind == "function_call" || q.kind == "custom_tool_call" =>
                        {
                            i += 1;
                            blocks.push(tool_block(q, &kept, &mut i, &mut tokens));
                        }
                        Body::Item(Ok(q), _)
                            if q.kind == "function_call_output"
                                || q.kind == "custom_tool_call_output" =>
                        {
                            i += 1;
                        }
                        _ => break,
                    }
                }
                let mut content = Vec::new();
                rawjson::write_array(&mut content, &blocks);
                w.push(&Line {
                    user: false,
                    ts,
                    input_tokens: tokens.0,
                    output_tokens: tokens.1,
                    content,
                    ..Line::default()
                });
            }
            ("function_call", _) | ("custom_tool_call", _) => {
                let mut tokens = std::mem::take(&mut pending);
                let block = tool_block(p, &kept, &mut i, &mut tokens);
                consume_tokens(&kept, &mut i, &mut tokens);
                let mut content = Vec::new();
                rawjson::write_array(&mut content, &[block]);
                w.push(&Line {
                    user: false,
                    ts,
                    input_tokens: tokens.0,
                    output_tokens: tokens.1,
                    content,
                    ..Line::default()
                });
            }
            _ => {}
        }
    }
}

/// Consumes the token lines at `kept[*i..]` into `tokens`.
fn consume_tokens(kept: &[Kept<'_>], i: &mut usize, tokens: &mut (i64, i64)) {
    while let Some(Kept {
        body: Body::Tokens(a, b),
        ..
    }) = kept.get(*i)
    {
        *tokens = (*a, *b);
        *i += 1;
    }
}

/// The `tool_use` block of a call, consuming the token lines and the matching output that
/// directly follow it.
fn tool_block(
    call: &Payload<'_>,
    kept: &[Kept<'_>],
    i: &mut usize,
    tokens: &mut (i64, i64),
) -> Vec<u8> {
    let custom = call.kind == "custom_tool_call";
    let mut b = BTreeMap::new();
    if !call.call_id.is_empty() {
        b.insert("id".to_string(), rawjson::enc_str(&call.call_id));
    }
    if custom {
        if !call.input.is_empty() {
            let mut input = BTreeMap::new();
            input.insert("input".to_string(), rawjson::enc_str(&call.input));
            let mut out = Vec::new();
            rawjson::write_map(&mut out, &input);
            b.insert("input".to_string(), out);
        }
    } else if serde_json::from_str::<serde::de::IgnoredAny>(&call.arguments).is_ok() {
        let mut out = Vec::new();
        crate::gojson::compact_raw(&mut out, call.arguments.as_bytes());
        b.insert("input".to_string(), out);
    }
    b.insert("name".to_string(), rawjson::enc_str(&call.name));
    b.insert("type".to_string(), rawjson::enc_str("tool_use"));

    consume_tokens(kept, i, tokens);
    let want = if custom {
        "custom_tool_call_output"
    } else {
        "function_call_output"
    };
    if let Some(Kept {
        body: Body::Item(_, Some(raw)),
        ..
    }) = kept.get(*i)
    {
        if rawjson::string_value(raw, "type") == want
            && rawjson::string_value(raw, "call_id") == call.call_id
        {
            *i += 1;
            let output = match raw.get("output") {
                Some(o) => match rawjson::str_of(o) {
                    Some(s) => s,
                    None if custom => rawjson::obj(o)
                        .map(|o| rawjson::string_value(&o, "text"))
                        .unwrap_or_default(),
                    None => String::new(),
                },
                None => String::new(),
            };
            let result = ToolResult {
                output,
                ..ToolResult::default()
            };
            b.insert("result".to_string(), result.encode());
        }
    }
    let mut out = Vec::new();
    rawjson::write_map(&mut out, &b);
    out
}

/// Content decoded as `[]struct{Type, Text string}`; `None` when that fails.
fn typed_items(content: Option<&RawValue>) -> Option<Vec<(String, String)>> {
    let c = content?;
    let o = Obj::from([("c".to_string(), c)]);
    let items = rawjson::typed_arr(&o, "c").ok()?;
    items
        .into_iter()
        .map(|r| {
            let e = rawjson::elem_obj(r).ok()?;
            Some((
                rawjson::typed_str(&e, "type").ok()?,
                rawjson::typed_str(&e, "text").ok()?,
            ))
        })
        .collect()
}

fn user_text(content: Option<&RawValue>) -> String {
    let Some(items) = typed_items(content) else {
        return String::new();
    };
    let texts: Vec<String> = items
        .iter()
        .filter(|(t, text)| {
            t == "input_text" && !CONTEXT_PREFIXES.iter().any(|p| text.starts_with(p))
        })
        .map(|(_, text)| clean(text))
        .filter(|t| !t.is_empty())
        .collect();
    texts.join("\n\n")
}

fn assistant_text(content: Option<&RawValue>) -> String {
    let Some(items) = typed_items(content) else {
        return String::new();
    };
    let texts: Vec<&str> = items
        .iter()
        .filter(|(t, text)| t == "output_text" && !text.is_empty())
        .map(|(_, text)| text.as_str())
        .collect();
    texts.join("\n\n")
}
