//! Codex CLI (`agents.md` §3.3): rollouts under `$CODEX_HOME/sessions` (default `~/.codex`),
//! found by the globs `rollout-*-<id>.jsonl` (flat, dated `YYYY/MM/DD`, archived); prompts with
//! the compact converter's user-text rule (`compact-format.md` §9), the model of the last
//! `turn_context`, and token usage from the last *cumulative* `total_token_usage`.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use regex::Regex;
use serde_json::Value;

use super::fsutil::{
    existing_file, files_below, first_line, glob_files, inside_root, matches_star, push_unique,
};
use super::generic::{clean, json_lines, n, push_file, s, str_field};
use super::{Context, SessionInfo};
use crate::checkpoint::metadata::TokenUsage;

/// Injected context Codex sends as user input; not something the user typed (the compact
/// converter's list, so prompts and compact transcripts agree).
use crate::transcript::compact::codex::CONTEXT_PREFIXES as INJECTED;

fn home(ctx: &Context) -> PathBuf {
    ctx.var_path("CODEX_HOME")
        .unwrap_or_else(|| ctx.home.join(".codex"))
}

fn session_dir(ctx: &Context) -> PathBuf {
    ctx.var_path("ENTIRE_TEST_CODEX_SESSION_DIR")
        .unwrap_or_else(|| home(ctx).join("sessions"))
}

fn is_plain_id(id: &str) -> bool {
    !id.is_empty()
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

pub(crate) fn find(ctx: &Context, id: &str, searched: &mut Vec<PathBuf>) -> Option<PathBuf> {
    let dir = session_dir(ctx);
    if !is_plain_id(id) {
        let path = dir.join(format!("{id}.jsonl"));
        push_unique(searched, path.clone());
        return existing_file(path);
    }
    let name = format!("rollout-*-{id}.jsonl");
    let suffix = format!("-{id}.jsonl");
    let archived = dir
        .parent()
        .map(|p| p.join("archived_sessions"))
        .unwrap_or_else(|| PathBuf::from("archived_sessions"));
    let globs = [(dir.clone(), 0usize), (dir, 3), (archived, 3)];
    for (root, depth) in globs {
        let mut place = root.clone();
        for _ in 0..depth {
            place.push("*");
        }
        push_unique(searched, place.join(&name));
        let mut hits = glob_files(&root, depth, &|f| matches_star(f, "rollout-", &suffix));
        if let Some(last) = hits.pop() {
            return Some(last);
        }
    }
    None
}

/// §9 user text of a `message` payload's content, `""` when there is none.
fn user_text(content: Option<&Value>) -> String {
    let Some(Value::Array(items)) = content else {
        return String::new();
    };
    let mut texts = Vec::new();
    for item in items {
        let (Ok(t), Ok(text)) = (str_field(item, "type"), str_field(item, "text")) else {
            // Go fails the whole decode: no text for this message at all.
            return String::new();
        };
        if !item.is_object() {
            return String::new();
        }
        if t != "input_text" || INJECTED.iter().any(|p| text.starts_with(p)) {
            continue;
        }
        let cleaned = clean(text);
        if !cleaned.is_empty() {
            texts.push(cleaned);
        }
    }
    texts.join("\n\n")
}

/// The payload string fields the converter decodes; a non-string one skips the line.
fn payload_ok(p: &Value) -> bool {
    [
        "type",
        "role",
        "phase",
        "name",
        "arguments",
        "input",
        "call_id",
        "output",
    ]
    .iter()
    .all(|k| str_field(p, k).is_ok())
}

fn patch_file_re() -> Option<&'static Regex> {
    static RE: OnceLock<Option<Regex>> = OnceLock::new();
    RE.get_or_init(|| Regex::new(r"\*\*\* (?:Add|Update|Delete) File: (.+)").ok())
        .as_ref()
}

pub(crate) fn info(raw: &[u8]) -> SessionInfo {
    let mut prompts: Vec<String> = Vec::new();
    let mut model = String::new();
    let mut last_total: Option<Value> = None;
    let mut token_events = 0u64;
    let mut files = Vec::new();
    for line in json_lines(raw) {
        let (Ok(kind), Ok(_)) = (str_field(&line, "type"), str_field(&line, "timestamp")) else {
            continue;
        };
        let Some(p) = line.get("payload") else {
            continue;
        };
        match kind {
            "response_item" if payload_ok(p) => match s(p.get("type")) {
                "message" if s(p.get("role")) == "user" => {
                    let text = user_text(p.get("content"));
                    if !text.is_empty() {
                        prompts.push(text);
                    }
                }
                "custom_tool_call" if s(p.get("name")) == "apply_patch" => {
                    if let Some(re) = patch_file_re() {
                        for c in re.captures_iter(s(p.get("input"))) {
                            push_file(&mut files, c.get(1).map_or("", |m| m.as_str()).trim());
                        }
                    }
                }
                _ => {}
            },
            "turn_context" => {
                let m = s(p.get("model"));
                if !m.is_empty() {
                    model = m.to_string();
                }
            }
            "event_msg" if s(p.get("type")) == "token_count" => {
                if let Some(total) = p.get("info").and_then(|i| i.get("total_token_usage")) {
                    if total.is_object() {
                        last_total = Some(total.clone());
                        token_events += 1;
                    }
                }
            }
            _ => {}
        }
    }
    // The counters are cumulative over the session: the last event holds the totals.
    let token_usage = last_total.map(|t| TokenUsage {
        input_tokens: n(t.get("input_tokens")),
        cache_creation_tokens: 0,
        cache_read_tokens: n(t.get("cached_input_tokens")),
        output_tokens: n(t.get("output_tokens"))
            .saturating_add(n(t.get("reasoning_output_tokens"))),
        api_call_count: token_events,
        subagent_tokens: None,
    });
    SessionInfo {
        first_prompt: prompts.first().cloned(),
        turns: prompts.len() as u64,
        model,
        token_usage,
        files_touched: files,
    }
}

/// Rollouts under `<home>/sessions` whose `session_meta` `cwd` is R or inside it; the id is the
/// meta's `payload.id`.
pub(crate) fn list(ctx: &Context) -> Vec<(PathBuf, String)> {
    let dir = session_dir(ctx);
    let mut out = Vec::new();
    for path in files_below(&dir, 3, &|f| matches_star(f, "rollout-", ".jsonl")) {
        if let Some(id) = meta_id_in_root(&path, &ctx.repo_root) {
            out.push((path, id));
        }
    }
    out
}

fn meta_id_in_root(path: &Path, root: &Path) -> Option<String> {
    // The meta line carries the base instructions and can be long; 16 MiB is plenty.
    let line = first_line(path, 16 * 1024 * 1024)?;
    let meta: Value = serde_json::from_slice(&line).ok()?;
    if s(meta.get("type")) != "session_meta" {
        return None;
    }
    let p = meta.get("payload")?;
    let id = s(p.get("id"));
    (!id.is_empty() && inside_root(s(p.get("cwd")), root)).then(|| id.to_string())
}
