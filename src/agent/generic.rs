//! Entire's generic metadata extractor (`agents.md` §4) and the Anthropic-message helpers that
//! Claude Code and Factory AI Droid share: the user-text rule, the streaming-aware token
//! calculator (§3.1) and the "files touched" scan of `tool_use` blocks. Prompts go through the
//! compact converters' IDE-tag stripping `clean` (`compact-format.md` §3).

use serde_json::Value;
use std::collections::HashMap;

use crate::checkpoint::metadata::TokenUsage;

/// Entire's `StripIDEContextTags` followed by a trim (`compact-format.md` §3); one
/// implementation, shared with the compact converters.
pub(crate) use crate::transcript::compact::clean;

/// The non-empty lines of a JSONL transcript decoded as JSON; lines that do not parse are
/// skipped, as every Entire reader does. No length limit.
pub(crate) fn json_lines(raw: &[u8]) -> impl Iterator<Item = Value> + '_ {
    raw.split(|b| *b == b'\n')
        .filter(|l| l.iter().any(|b| !b.is_ascii_whitespace()))
        .filter_map(|l| serde_json::from_slice::<Value>(l).ok())
}

/// A string field as Go decodes it into a `string`: absent or null → `""`, a non-string → error
/// (the whole line is then skipped).
pub(crate) fn str_field<'a>(obj: &'a Value, key: &str) -> Result<&'a str, ()> {
    match obj.get(key) {
        None | Some(Value::Null) => Ok(""),
        Some(Value::String(s)) => Ok(s),
        Some(_) => Err(()),
    }
}

/// A string value or `""`.
pub(crate) fn s(v: Option<&Value>) -> &str {
    v.and_then(Value::as_str).unwrap_or("")
}

/// An unsigned counter or 0 (a float, negative or string counter reads as 0).
pub(crate) fn n(v: Option<&Value>) -> u64 {
    v.and_then(Value::as_u64).unwrap_or(0)
}

/// §4 step 2: the cleaned user text of an Anthropic-shaped `message`.
pub(crate) fn user_text(message: Option<&Value>) -> String {
    match message.and_then(|m| m.get("content")) {
        Some(Value::String(text)) => clean(text),
        Some(Value::Array(items)) => {
            let texts: Vec<&str> = items
                .iter()
                .filter(|i| i.get("type").and_then(Value::as_str) == Some("text"))
                .filter_map(|i| i.get("text").and_then(Value::as_str))
                .collect();
            if texts.is_empty() {
                String::new()
            } else {
                clean(&texts.join("\n\n"))
            }
        }
        _ => String::new(),
    }
}

/// What the generic extractor finds: every user prompt in order and the first model.
#[derive(Debug, Default)]
pub(crate) struct Prompts {
    pub prompts: Vec<String>,
    pub model: String,
}

impl Prompts {
    pub fn first(&self) -> Option<String> {
        self.prompts.first().cloned()
    }

    /// One line of §4 steps 2–3.
    fn line(&mut self, line: &Value, kind: &dyn Fn(&Value) -> Result<String, ()>) {
        if !line.is_object() {
            return;
        }
        let Ok(kind) = kind(line) else {
            return;
        };
        match kind.as_str() {
            "user" => {
                let text = user_text(line.get("message"));
                if !text.is_empty() {
                    self.prompts.push(text);
                }
            }
            "assistant" if self.model.is_empty() => {
                self.model = s(line.get("message").and_then(|m| m.get("model"))).to_string();
            }
            _ => {}
        }
    }
}

/// What one pass over an Anthropic-shaped transcript (Claude Code, Factory AI Droid) yields.
pub(crate) struct AnthropicScan {
    pub prompts: Prompts,
    pub tokens: TokenUsage,
    pub files: Vec<String>,
}

/// The generic extractor's prompts and model (§4 with `prompt_kind`), the streaming-aware token
/// usage (§3.1) and the written files, from a single parse of each line: parsing dominates the
/// cost, and transcripts reach hundreds of megabytes.
pub(crate) fn anthropic_scan(
    raw: &[u8],
    prompt_kind: &dyn Fn(&Value) -> Result<String, ()>,
    kind: &dyn Fn(&Value) -> String,
    tools: &[&str],
) -> AnthropicScan {
    let mut prompts = Prompts::default();
    let mut tokens = TokenTally::default();
    let mut files = Vec::new();
    for line in json_lines(raw) {
        prompts.line(&line, prompt_kind);
        if kind(&line) == "assistant" {
            tokens.line(&line);
            file_line(&line, tools, &mut files);
        }
    }
    AnthropicScan {
        prompts,
        tokens: tokens.total(),
        files,
    }
}

/// §4: the generic extractor over raw bytes, including its Gemini fallback.
pub(crate) fn extract(raw: &[u8]) -> Prompts {
    let mut out = extract_lines(raw, &generic_kind);
    gemini_fallback(raw, &mut out);
    out
}

/// §4 step 1: a line decoded as `{type, role, uuid}` (a non-string one is skipped); `type`,
/// else `role`.
pub(crate) fn generic_kind(line: &Value) -> Result<String, ()> {
    let t = str_field(line, "type")?;
    let role = str_field(line, "role")?;
    str_field(line, "uuid")?;
    Ok(if t.is_empty() {
        role.to_string()
    } else {
        t.to_string()
    })
}

/// §4 step 4: nothing found line by line; try the whole transcript as a Gemini document.
pub(crate) fn gemini_fallback(raw: &[u8], out: &mut Prompts) {
    if out.prompts.is_empty() && out.model.is_empty() {
        if let Ok(doc) = serde_json::from_slice::<Value>(raw) {
            out.prompts = super::gemini::user_prompts(&doc);
        }
    }
}

/// The line loop of §4 with a pluggable "kind of line" rule (Droid takes it from
/// `message.role`); the rule's error skips the line.
pub(crate) fn extract_lines(raw: &[u8], kind: &dyn Fn(&Value) -> Result<String, ()>) -> Prompts {
    let mut out = Prompts::default();
    for line in json_lines(raw) {
        out.line(&line, kind);
    }
    out
}

/// §3.1 token usage over assistant lines: per `message.id`, the usage with the highest
/// `output_tokens` (streaming writes several lines per response; ties keep the first), summed in
/// first-seen order. Lines without an id are skipped.
#[derive(Default)]
struct TokenTally {
    order: Vec<String>,
    best: HashMap<String, TokenUsage>,
}

impl TokenTally {
    /// An assistant line.
    fn line(&mut self, line: &Value) {
        let Some(message) = line.get("message") else {
            return;
        };
        let id = s(message.get("id"));
        if id.is_empty() {
            return;
        }
        let u = message.get("usage");
        let field = |k: &str| n(u.and_then(|u| u.get(k)));
        let usage = TokenUsage {
            input_tokens: field("input_tokens"),
            cache_creation_tokens: field("cache_creation_input_tokens"),
            cache_read_tokens: field("cache_read_input_tokens"),
            output_tokens: field("output_tokens"),
            api_call_count: 1,
            subagent_tokens: None,
        };
        match self.best.get_mut(id) {
            Some(kept) => {
                if usage.output_tokens > kept.output_tokens {
                    *kept = usage;
                }
            }
            None => {
                self.order.push(id.to_string());
                self.best.insert(id.to_string(), usage);
            }
        }
    }

    fn total(&self) -> TokenUsage {
        let mut total = TokenUsage::default();
        for id in &self.order {
            if let Some(u) = self.best.get(id) {
                total.add(u);
            }
        }
        total
    }
}

/// Files written by one assistant line's `tool_use` blocks named in `tools`: `input.file_path`,
/// else `input.notebook_path`, de-duplicated in first-seen order.
fn file_line(line: &Value, tools: &[&str], files: &mut Vec<String>) {
    let content = line.get("message").and_then(|m| m.get("content"));
    let Some(Value::Array(blocks)) = content else {
        return;
    };
    for b in blocks {
        if s(b.get("type")) != "tool_use" || !tools.contains(&s(b.get("name"))) {
            continue;
        }
        let input = b.get("input");
        let mut path = s(input.and_then(|i| i.get("file_path")));
        if path.is_empty() {
            path = s(input.and_then(|i| i.get("notebook_path")));
        }
        push_file(files, path);
    }
}

pub(crate) fn push_file(files: &mut Vec<String>, path: &str) {
    if !path.is_empty() && !files.iter().any(|f| f == path) {
        files.push(path.to_string());
    }
}

/// Type of a Claude-style line: `type`, else `role`.
pub(crate) fn type_or_role(line: &Value) -> String {
    let t = s(line.get("type"));
    if t.is_empty() {
        s(line.get("role")).to_string()
    } else {
        t.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clean_strips_ide_and_command_tags_and_keeps_user_query_content() {
        let s = "<ide_opened_file>x</ide_opened_file> <system-reminder a=1>r\nr</system-reminder>\
                 <command-name>/c</command-name><user_query> hi </user_query>";
        assert_eq!(clean(s), "hi");
        assert_eq!(clean("<command-message>m</command-message>"), "");
    }

    #[test]
    fn generic_extractor_skips_lines_with_non_string_type() {
        let raw = br#"{"type":1,"message":{"content":"skipped"}}
{"type":"user","uuid":"u","message":{"content":[{"type":"tool_result","content":"x"}]}}
{"role":"user","message":{"content":[{"type":"text","text":"a"},{"type":"text","text":"b"}]}}
{"type":"assistant","message":{"model":"m1"}}
{"type":"assistant","message":{"model":"m2"}}
"#;
        let p = extract(raw);
        assert_eq!(p.prompts, vec!["a\n\nb".to_string()]);
        assert_eq!(p.model, "m1");
    }

    #[test]
    fn streaming_duplicates_keep_the_highest_output() {
        let raw = br#"{"type":"assistant","message":{"id":"a","usage":{"input_tokens":5,"output_tokens":1}}}
{"type":"assistant","message":{"id":"a","usage":{"input_tokens":5,"output_tokens":9,"cache_read_input_tokens":3}}}
{"type":"assistant","message":{"id":"a","usage":{"input_tokens":7,"output_tokens":9}}}
{"type":"assistant","message":{"usage":{"input_tokens":100,"output_tokens":100}}}
{"type":"assistant","message":{"id":"b","usage":{"input_tokens":1,"output_tokens":2,"cache_creation_input_tokens":4}}}
"#;
        let u = anthropic_scan(raw, &generic_kind, &type_or_role, &[]).tokens;
        assert_eq!(
            (
                u.input_tokens,
                u.cache_creation_tokens,
                u.cache_read_tokens,
                u.output_tokens
            ),
            (6, 4, 3, 11)
        );
        assert_eq!(u.api_call_count, 2);
    }
}
