//! Pi coding agent (`agents.md` §3.8, all UNCONFIRMED: Pi arrived in Entire after April 2026):
//! `$PI_CODING_AGENT_DIR/sessions/--<E(R)>--/<timestamp>_<id>.jsonl` (default home
//! `~/.pi/agent`) with the fallback scan of `<home>/sessions`. The transcript is a tree; only the
//! active branch (the parent chain of the latest entry) counts for prompts, model and tokens.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use serde_json::Value;

use super::fsutil::{
    existing_file, glob_files, matches_star, pi_project_name, push_unique, scan, scan_place,
    sorted_entries,
};
use super::generic::{json_lines, n, push_file, s};
use super::{Context, SessionInfo};
use crate::checkpoint::metadata::TokenUsage;

/// Pi's file-writing tools and their path argument (UNCONFIRMED).
const WRITE_TOOLS: [&str; 2] = ["write", "edit"];

fn home(ctx: &Context) -> PathBuf {
    ctx.var_path("PI_CODING_AGENT_DIR")
        .unwrap_or_else(|| ctx.home.join(".pi").join("agent"))
}

fn base(ctx: &Context) -> PathBuf {
    home(ctx).join("sessions")
}

fn session_dir(ctx: &Context) -> PathBuf {
    ctx.var_path("ENTIRE_TEST_PI_SESSION_DIR")
        .unwrap_or_else(|| base(ctx).join(pi_project_name(&ctx.repo_root)))
}

/// The last `*_<id>.jsonl` in `dir`, else `<id>.jsonl`.
fn file_in(dir: &Path, id: &str) -> Option<PathBuf> {
    let suffix = format!("_{id}.jsonl");
    if let Some(hit) = glob_files(dir, 0, &|f| matches_star(f, "", &suffix)).pop() {
        return Some(hit);
    }
    existing_file(dir.join(format!("{id}.jsonl")))
}

pub(crate) fn find(ctx: &Context, id: &str, searched: &mut Vec<PathBuf>) -> Option<PathBuf> {
    let dir = session_dir(ctx);
    push_unique(searched, dir.join(format!("*_{id}.jsonl")));
    push_unique(searched, dir.join(format!("{id}.jsonl")));
    if let Some(hit) = file_in(&dir, id) {
        return Some(hit);
    }
    let base = base(ctx);
    push_unique(searched, scan_place(&base, &format!("*_{id}.jsonl")));
    scan(&base, &|d: &Path| file_in(d, id))
}

/// §2.3: Pi transcripts open with a `type: "session"` header line (UNCONFIRMED).
pub(crate) fn has_session_header(bytes: &[u8]) -> bool {
    json_lines(bytes)
        .next()
        .is_some_and(|l| s(l.get("type")) == "session")
}

/// The entries of the active branch, root first: the parent chain of the last entry with an id.
/// A transcript without ids (or with a broken chain) is taken as one linear branch.
fn active_branch(entries: &[Value]) -> Vec<&Value> {
    let by_id: HashMap<&str, &Value> = entries
        .iter()
        .filter_map(|e| {
            let id = s(e.get("id"));
            (!id.is_empty()).then_some((id, e))
        })
        .collect();
    let Some(leaf) = entries.iter().rev().find(|e| !s(e.get("id")).is_empty()) else {
        return entries.iter().collect();
    };
    let mut chain = vec![leaf];
    let mut cur = leaf;
    // The bound guards against a cycle in a damaged file.
    while chain.len() <= entries.len() {
        let parent = s(cur.get("parentId"));
        match by_id.get(parent) {
            Some(p) if !parent.is_empty() => {
                chain.push(p);
                cur = p;
            }
            _ => break,
        }
    }
    chain.reverse();
    chain
}

fn text_of(content: Option<&Value>) -> String {
    match content {
        Some(Value::String(t)) => t.trim().to_string(),
        Some(Value::Array(blocks)) => blocks
            .iter()
            .filter(|b| s(b.get("type")) == "text")
            .map(|b| s(b.get("text")).trim())
            .filter(|t| !t.is_empty())
            .collect::<Vec<_>>()
            .join("\n\n"),
        _ => String::new(),
    }
}

pub(crate) fn info(raw: &[u8]) -> SessionInfo {
    let entries: Vec<Value> = json_lines(raw)
        .filter(|e| s(e.get("type")) != "session")
        .collect();
    let mut prompts = Vec::new();
    let mut model = String::new();
    let mut usage = TokenUsage::default();
    let mut files = Vec::new();
    for e in active_branch(&entries) {
        if s(e.get("type")) != "message" {
            continue;
        }
        let Some(m) = e.get("message") else {
            continue;
        };
        match s(m.get("role")) {
            "user" => {
                let t = text_of(m.get("content"));
                if !t.is_empty() {
                    prompts.push(t);
                }
            }
            "assistant" => {
                let mdl = s(m.get("model"));
                if !mdl.is_empty() {
                    model = mdl.to_string();
                }
                if let Some(u) = m.get("usage").filter(|u| u.is_object()) {
                    usage.add(&TokenUsage {
                        input_tokens: n(u.get("input")),
                        output_tokens: n(u.get("output")),
                        cache_read_tokens: n(u.get("cacheRead")),
                        cache_creation_tokens: n(u.get("cacheWrite")),
                        api_call_count: 1,
                        subagent_tokens: None,
                    });
                }
                for b in m
                    .get("content")
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                {
                    if s(b.get("type")) == "toolCall" && WRITE_TOOLS.contains(&s(b.get("name"))) {
                        let args = b.get("arguments");
                        let mut p = s(args.and_then(|a| a.get("path")));
                        if p.is_empty() {
                            p = s(args.and_then(|a| a.get("file_path")));
                        }
                        push_file(&mut files, p);
                    }
                }
            }
            _ => {}
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

/// `*.jsonl` in R's session folder; the id is the part of the stem after the first `_`.
pub(crate) fn list(ctx: &Context) -> Vec<(PathBuf, String)> {
    let dir = session_dir(ctx);
    sorted_entries(&dir)
        .into_iter()
        .filter(|(name, ft)| !ft.is_dir() && name.ends_with(".jsonl"))
        .map(|(name, _)| {
            let stem = name.trim_end_matches(".jsonl");
            let id = stem
                .split_once('_')
                .map_or(stem, |(_, rest)| rest)
                .to_string();
            (dir.join(&name), id)
        })
        .collect()
}
