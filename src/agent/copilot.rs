//! GitHub Copilot CLI (`agents.md` §3.5): `~/.copilot/session-state/<id>/events.jsonl`; prompts
//! from `user.message` events, the model from the last model change (else the last tool
//! execution), and token usage from the `session.shutdown` aggregate, else per message.

use std::path::{Path, PathBuf};

use serde_json::Value;

use super::fsutil::{existing_file, first_line, inside_root, push_unique, sorted_entries};
use super::generic::{json_lines, n, push_file, s};
use super::{Context, SessionInfo};
use crate::checkpoint::metadata::TokenUsage;

/// Entire's line limit for Copilot token parsing: a longer line means no token usage.
const MAX_LINE: usize = 10 * 1024 * 1024;

fn session_root(ctx: &Context) -> PathBuf {
    ctx.var_path("ENTIRE_TEST_COPILOT_SESSION_DIR")
        .unwrap_or_else(|| ctx.home.join(".copilot").join("session-state"))
}

pub(crate) fn find(ctx: &Context, id: &str, searched: &mut Vec<PathBuf>) -> Option<PathBuf> {
    let path = session_root(ctx).join(id).join("events.jsonl");
    push_unique(searched, path.clone());
    existing_file(path)
}

fn data(line: &Value) -> Option<&Value> {
    line.get("data")
}

fn tokens(events: &[Value], raw: &[u8]) -> Option<TokenUsage> {
    if raw.split(|b| *b == b'\n').any(|l| l.len() > MAX_LINE) {
        return None;
    }
    let shutdown = events
        .iter()
        .rev()
        .filter(|e| s(e.get("type")) == "session.shutdown")
        .filter_map(|e| data(e).and_then(|d| d.get("modelMetrics")))
        .filter_map(Value::as_object)
        .find(|m| !m.is_empty());
    let mut usage = TokenUsage::default();
    if let Some(metrics) = shutdown {
        for m in metrics.values() {
            let u = m.get("usage");
            let f = |k: &str| n(u.and_then(|u| u.get(k)));
            usage.add(&TokenUsage {
                input_tokens: f("inputTokens"),
                output_tokens: f("outputTokens"),
                cache_read_tokens: f("cacheReadTokens"),
                cache_creation_tokens: f("cacheWriteTokens"),
                api_call_count: n(m.get("requests").and_then(|r| r.get("count"))),
                subagent_tokens: None,
            });
        }
        return Some(usage);
    }
    for e in events
        .iter()
        .filter(|e| s(e.get("type")) == "assistant.message")
    {
        let out = n(data(e).and_then(|d| d.get("outputTokens")));
        usage.add(&TokenUsage {
            output_tokens: out,
            api_call_count: u64::from(out > 0),
            ..TokenUsage::default()
        });
    }
    Some(usage)
}

pub(crate) fn info(raw: &[u8]) -> SessionInfo {
    let events: Vec<Value> = json_lines(raw).collect();
    let mut prompts = Vec::new();
    let mut model_change = String::new();
    let mut tool_model = String::new();
    let mut files = Vec::new();
    for e in &events {
        let d = data(e);
        match s(e.get("type")) {
            "user.message" => {
                let c = s(d.and_then(|d| d.get("content")));
                if !c.is_empty() {
                    prompts.push(c.to_string());
                }
            }
            "session.model_change" => {
                let m = s(d.and_then(|d| d.get("newModel")));
                if !m.is_empty() {
                    model_change = m.to_string();
                }
            }
            "tool.execution_complete" => {
                let m = s(d.and_then(|d| d.get("model")));
                if !m.is_empty() {
                    tool_model = m.to_string();
                }
                let paths = s(d
                    .and_then(|d| d.get("toolTelemetry"))
                    .and_then(|t| t.get("properties"))
                    .and_then(|p| p.get("filePaths")));
                if let Ok(list) = serde_json::from_str::<Vec<String>>(paths) {
                    for p in list {
                        push_file(&mut files, &p);
                    }
                }
            }
            _ => {}
        }
    }
    SessionInfo {
        first_prompt: prompts.first().cloned(),
        turns: prompts.len() as u64,
        model: if model_change.is_empty() {
            tool_model
        } else {
            model_change
        },
        token_usage: tokens(&events, raw),
        files_touched: files,
    }
}

/// The working directory recorded by `session.start` (`data.context.cwd`, else its `gitRoot`;
/// UNCONFIRMED across Copilot versions).
fn start_cwd(path: &Path) -> Option<String> {
    let line = first_line(path, 1024 * 1024)?;
    let e: Value = serde_json::from_slice(&line).ok()?;
    if s(e.get("type")) != "session.start" {
        return None;
    }
    let d = e.get("data")?;
    let ctx = d.get("context");
    ["cwd", "gitRoot"]
        .iter()
        .map(|k| s(ctx.and_then(|c| c.get(*k))))
        .chain(std::iter::once(s(d.get("cwd"))))
        .find(|c| !c.is_empty())
        .map(str::to_string)
}

/// Session folders whose start event was recorded in R or below; the id is the folder name.
pub(crate) fn list(ctx: &Context) -> Vec<(PathBuf, String)> {
    let root = session_root(ctx);
    let mut out = Vec::new();
    for (name, ft) in sorted_entries(&root) {
        if !ft.is_dir() {
            continue;
        }
        let path = root.join(&name).join("events.jsonl");
        let inside =
            path.is_file() && start_cwd(&path).is_some_and(|cwd| inside_root(&cwd, &ctx.repo_root));
        if inside {
            out.push((path, name));
        }
    }
    out
}
