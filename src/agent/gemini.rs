//! Gemini CLI (`agents.md` §3.2): `<home>/.gemini/tmp/<sha256(R)>/chats/session-*-<id8>.json`
//! under `$GEMINI_CLI_HOME` and `~`, the fallback scan of both `tmp` folders, and metadata from
//! the JSON document: user prompts, the model of the last `gemini` message, per-message tokens.
//! Normalizing the stored bytes (§5) is the `transcript` module's job, not this one.

use std::path::{Path, PathBuf};

use serde_json::Value;

use super::fsutil::{
    existing_file, glob_files, matches_star, push_unique, scan, scan_place, sha256_hex,
};
use super::generic::{n, push_file, s};
use super::{Context, SessionInfo};
use crate::checkpoint::metadata::TokenUsage;

const WRITE_TOOLS: [&str; 4] = ["write_file", "edit_file", "save_file", "replace"];

/// The `tmp` folders: `$GEMINI_CLI_HOME/.gemini/tmp` (UNCONFIRMED semantics) and `~/.gemini/tmp`.
fn bases(ctx: &Context) -> Vec<PathBuf> {
    let mut out = Vec::new();
    if let Some(home) = ctx.var_path("GEMINI_CLI_HOME") {
        push_unique(&mut out, home.join(".gemini").join("tmp"));
    }
    push_unique(&mut out, ctx.home.join(".gemini").join("tmp"));
    out
}

fn session_dirs(ctx: &Context) -> Vec<PathBuf> {
    if let Some(dir) = ctx.var_path("ENTIRE_TEST_GEMINI_PROJECT_DIR") {
        return vec![dir];
    }
    let hash = sha256_hex(&ctx.repo_root);
    bases(ctx)
        .into_iter()
        .map(|b| b.join(&hash).join("chats"))
        .collect()
}

/// The first 8 characters of the id (the whole id if shorter).
fn short_id(id: &str) -> String {
    id.chars().take(8).collect()
}

/// The lexicographically last `session-*-<id8>.json` in `dir`.
fn file_in(dir: &Path, id8: &str) -> Option<PathBuf> {
    let suffix = format!("-{id8}.json");
    glob_files(dir, 0, &|name| matches_star(name, "session-", &suffix))
        .pop()
        .and_then(existing_file)
}

pub(crate) fn find(ctx: &Context, id: &str, searched: &mut Vec<PathBuf>) -> Option<PathBuf> {
    let id8 = short_id(id);
    let pattern = format!("session-*-{id8}.json");
    for dir in session_dirs(ctx) {
        push_unique(searched, dir.join(&pattern));
        if let Some(hit) = file_in(&dir, &id8) {
            return Some(hit);
        }
    }
    for base in bases(ctx) {
        push_unique(searched, scan_place(&base, &pattern));
        if let Some(hit) = scan(&base, &|dir: &Path| file_in(dir, &id8)) {
            return Some(hit);
        }
    }
    None
}

/// The text of a message's `content`: a string, or the non-empty `text` parts joined with `\n`.
fn content_text(content: Option<&Value>) -> String {
    match content {
        Some(Value::String(t)) => t.clone(),
        Some(Value::Array(parts)) => parts
            .iter()
            .filter_map(|p| p.get("text").and_then(Value::as_str))
            .filter(|t| !t.is_empty())
            .collect::<Vec<_>>()
            .join("\n"),
        _ => String::new(),
    }
}

fn messages(doc: &Value) -> &[Value] {
    doc.get("messages")
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or(&[])
}

/// `messages[]` of type `user` with non-empty content, in order (also the generic extractor's
/// fallback, §4 step 4).
pub(crate) fn user_prompts(doc: &Value) -> Vec<String> {
    messages(doc)
        .iter()
        .filter(|m| s(m.get("type")) == "user")
        .map(|m| content_text(m.get("content")))
        .filter(|t| !t.is_empty())
        .collect()
}

pub(crate) fn info(raw: &[u8]) -> SessionInfo {
    let Ok(doc) = serde_json::from_slice::<Value>(raw) else {
        return SessionInfo::default();
    };
    let prompts = user_prompts(&doc);
    let mut usage = TokenUsage::default();
    let mut model = String::new();
    let mut files = Vec::new();
    for m in messages(&doc)
        .iter()
        .filter(|m| s(m.get("type")) == "gemini")
    {
        let mdl = s(m.get("model"));
        if !mdl.is_empty() {
            model = mdl.to_string();
        }
        if let Some(t) = m.get("tokens").filter(|t| t.is_object()) {
            usage.add(&TokenUsage {
                input_tokens: n(t.get("input")),
                output_tokens: n(t.get("output")),
                cache_read_tokens: n(t.get("cached")),
                api_call_count: 1,
                ..TokenUsage::default()
            });
        }
        for call in m
            .get("toolCalls")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            if !WRITE_TOOLS.contains(&s(call.get("name"))) {
                continue;
            }
            let args = call.get("args");
            let path = ["file_path", "path", "filename"]
                .iter()
                .map(|k| s(args.and_then(|a| a.get(*k))))
                .find(|p| !p.is_empty())
                .unwrap_or("");
            push_file(&mut files, path);
        }
    }
    SessionInfo {
        first_prompt: prompts.first().cloned(),
        turns: prompts.len() as u64,
        model,
        token_usage: Some(usage),
        files_touched: files,
    }
}

/// `session-*.json` in R's chats folders; the id is the document's `sessionId`.
pub(crate) fn list(ctx: &Context) -> Vec<(PathBuf, String)> {
    let mut out: Vec<(PathBuf, String)> = Vec::new();
    for dir in session_dirs(ctx) {
        // Newest name first, so a session saved in several files is listed by its latest one.
        let files = glob_files(&dir, 0, &|name| matches_star(name, "session-", ".json"));
        for path in files.into_iter().rev() {
            let Ok(bytes) = std::fs::read(&path) else {
                continue;
            };
            let Ok(doc) = serde_json::from_slice::<Value>(&bytes) else {
                continue;
            };
            let id = s(doc.get("sessionId")).to_string();
            if !id.is_empty() && !out.iter().any(|(_, known)| *known == id) {
                out.push((path, id));
            }
        }
    }
    out
}
