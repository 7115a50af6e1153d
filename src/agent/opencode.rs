//! OpenCode (`agents.md` §3.6). OpenCode keeps its sessions in its own store, so the transcript
//! is produced by `opencode export <id>` into `<R>/.entire/tmp/<id>.json` — the only file
//! git-attach ever writes inside the worktree (Entire's own location for it). Without `opencode`
//! on `PATH` only an export Entire left in its temp directory can be found. Metadata: user text
//! parts, the last assistant `modelID`, per-message tokens.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;
use std::time::Duration;

use regex::Regex;
use serde_json::Value;

use super::fsutil::{existing_file, push_unique, sanitize_path};
use super::generic::{n, push_file, s};
use super::process::{first_line, run};
use super::{Context, SessionInfo};
use crate::checkpoint::metadata::TokenUsage;

/// Entire's timeout for `opencode export`.
const EXPORT_TIMEOUT: Duration = Duration::from_secs(30);
const WRITE_TOOLS: [&str; 3] = ["edit", "write", "apply_patch"];

/// Where the export is written: `<R>/.entire/tmp/<id>.json`.
pub(crate) fn export_path(ctx: &Context, id: &str) -> PathBuf {
    ctx.repo_root
        .join(".entire")
        .join("tmp")
        .join(format!("{id}.json"))
}

/// Entire April's lookup directory (an export its prepare step may have left behind).
fn entire_temp_dir(ctx: &Context) -> PathBuf {
    ctx.var_path("ENTIRE_TEST_OPENCODE_PROJECT_DIR")
        .unwrap_or_else(|| {
            let tmp = ctx
                .var_path("TMPDIR")
                .unwrap_or_else(|| PathBuf::from("/tmp"));
            tmp.join("entire-opencode")
                .join(sanitize_path(&ctx.repo_root))
        })
}

pub(crate) fn find(ctx: &Context, id: &str, searched: &mut Vec<PathBuf>) -> Option<PathBuf> {
    match ctx.which("opencode") {
        Some(exe) => {
            let target = export_path(ctx, id);
            match export(ctx, &exe, id, &target) {
                Ok(()) => Some(target),
                Err(why) => {
                    log::debug!("opencode export {id}: {why}");
                    let _ = std::fs::remove_file(&target);
                    push_unique(
                        searched,
                        PathBuf::from(format!("opencode export {id} ({why})")),
                    );
                    None
                }
            }
        }
        None => {
            push_unique(
                searched,
                PathBuf::from(format!("opencode export {id} (opencode is not on PATH)")),
            );
            let old = entire_temp_dir(ctx).join(format!("{id}.json"));
            push_unique(searched, old.clone());
            existing_file(old)
        }
    }
}

/// Runs `opencode export <id>` and stores its standard output, which must be one JSON value.
fn export(ctx: &Context, exe: &Path, id: &str, target: &Path) -> Result<(), String> {
    let mut cmd = Command::new(exe);
    cmd.arg("export")
        .arg(id)
        .env_clear()
        .envs(ctx.vars.iter().map(|(k, v)| (k, v)))
        .current_dir(&ctx.repo_root);
    let out = run(cmd, None, EXPORT_TIMEOUT, None, 1024 * 1024).map_err(|e| e.to_string())?;
    if !out.status.success() {
        let line = first_line(&out.stderr);
        return Err(if line.is_empty() {
            out.status.to_string()
        } else {
            line
        });
    }
    if serde_json::from_slice::<Value>(&out.stdout).is_err() {
        return Err("output is not valid JSON".into());
    }
    if let Some(dir) = target.parent() {
        std::fs::create_dir_all(dir)
            .map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    }
    std::fs::write(target, &out.stdout)
        .map_err(|e| format!("cannot write {}: {e}", target.display()))
}

fn strip_reminders(text: &str) -> String {
    static RE: OnceLock<Option<Regex>> = OnceLock::new();
    let re = RE.get_or_init(|| Regex::new(r"(?s)<system-reminder[^>]*>.*?</system-reminder>").ok());
    match re {
        Some(re) => re.replace_all(text, "").trim().to_string(),
        None => text.trim().to_string(),
    }
}

pub(crate) fn info(raw: &[u8]) -> SessionInfo {
    let Ok(doc) = serde_json::from_slice::<Value>(raw) else {
        return SessionInfo::default();
    };
    let messages = doc
        .get("messages")
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or(&[]);
    let mut prompts = Vec::new();
    let mut model = String::new();
    let mut usage = TokenUsage::default();
    let mut files = Vec::new();
    for m in messages {
        let info = m.get("info");
        let parts = m
            .get("parts")
            .and_then(Value::as_array)
            .map(Vec::as_slice)
            .unwrap_or(&[]);
        match s(info.and_then(|i| i.get("role"))) {
            "user" => {
                let text = parts
                    .iter()
                    .filter(|p| s(p.get("type")) == "text")
                    .map(|p| s(p.get("text")))
                    .filter(|t| !t.is_empty())
                    .collect::<Vec<_>>()
                    .join("\n");
                let text = strip_reminders(&text);
                if !text.is_empty() {
                    prompts.push(text);
                }
            }
            "assistant" => {
                let id = s(info.and_then(|i| i.get("modelID")));
                if !id.is_empty() {
                    model = id.to_string();
                }
                if let Some(t) = info.and_then(|i| i.get("tokens")).filter(|t| t.is_object()) {
                    let cache = t.get("cache");
                    usage.add(&TokenUsage {
                        input_tokens: n(t.get("input")),
                        output_tokens: n(t.get("output")),
                        cache_read_tokens: n(cache.and_then(|c| c.get("read"))),
                        cache_creation_tokens: n(cache.and_then(|c| c.get("write"))),
                        api_call_count: 1,
                        subagent_tokens: None,
                    });
                }
                for p in parts {
                    if s(p.get("type")) == "tool" && WRITE_TOOLS.contains(&s(p.get("tool"))) {
                        tool_files(p.get("state"), &mut files);
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

/// `state.metadata.files[].filePath`, else `state.input.filePath`, else `state.input.path`.
fn tool_files(state: Option<&Value>, files: &mut Vec<String>) {
    let listed: Vec<&str> = state
        .and_then(|st| st.get("metadata"))
        .and_then(|m| m.get("files"))
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .map(|f| s(f.get("filePath")))
        .filter(|p| !p.is_empty())
        .collect();
    if !listed.is_empty() {
        for p in listed {
            push_file(files, p);
        }
        return;
    }
    let input = state.and_then(|st| st.get("input"));
    let mut p = s(input.and_then(|i| i.get("filePath")));
    if p.is_empty() {
        p = s(input.and_then(|i| i.get("path")));
    }
    push_file(files, p);
}
