//! Claude Code (`agents.md` §3.1): `<base>/projects/<S(R)>/<id>.jsonl` under `$CLAUDE_CONFIG_DIR`
//! and `~/.claude`, the fallback scan of both `projects` folders, a short wait for a transcript
//! that is still being written, and the generic extractor plus Claude's streaming-aware token
//! calculator.

use std::path::{Path, PathBuf};
use std::thread;
use std::time::{Duration, Instant, SystemTime};

use serde_json::Value;

use super::fsutil::{
    existing_file, modified, push_unique, read_prefix, sanitize_path, scan, scan_place,
    sorted_entries,
};
use super::generic::{anthropic_scan, gemini_fallback, generic_kind, json_lines, type_or_role};
use super::{Context, SessionInfo};

const WRITE_TOOLS: [&str; 5] = [
    "Write",
    "Edit",
    "NotebookEdit",
    "mcp__acp__Write",
    "mcp__acp__Edit",
];

/// Claude Code shortens project directory names past this many characters (UNCONFIRMED), so
/// listing matches other projects by this prefix and then checks their `cwd`.
const NAME_PREFIX: usize = 200;

/// The `projects` folders: `$CLAUDE_CONFIG_DIR/projects` first when set, then `~/.claude/projects`.
pub(crate) fn bases(ctx: &Context) -> Vec<PathBuf> {
    let mut out = Vec::new();
    if let Some(dir) = ctx.var_path("CLAUDE_CONFIG_DIR") {
        push_unique(&mut out, dir.join("projects"));
    }
    push_unique(&mut out, ctx.home.join(".claude").join("projects"));
    out
}

/// The session directories of R (Entire's test override replaces them).
fn session_dirs(ctx: &Context) -> Vec<PathBuf> {
    if let Some(dir) = ctx.var_path("ENTIRE_TEST_CLAUDE_PROJECT_DIR") {
        return vec![dir];
    }
    let name = sanitize_path(&ctx.repo_root);
    bases(ctx).into_iter().map(|b| b.join(&name)).collect()
}

pub(crate) fn find(ctx: &Context, id: &str, searched: &mut Vec<PathBuf>) -> Option<PathBuf> {
    let file = format!("{id}.jsonl");
    for dir in session_dirs(ctx) {
        let path = dir.join(&file);
        push_unique(searched, path.clone());
        if let Some(hit) = existing_file(path) {
            wait_until_stable(&hit);
            return Some(hit);
        }
    }
    for base in bases(ctx) {
        push_unique(searched, scan_place(&base, &file));
        if let Some(hit) = scan(&base, &|dir: &Path| existing_file(dir.join(&file))) {
            wait_until_stable(&hit);
            return Some(hit);
        }
    }
    None
}

/// Entire's prepare step waits (≤ 3 s) for its own hook's sentinel line, which only exists with
/// Entire's hooks installed. git-attach instead waits, for a file still being written (changed
/// in the last quarter second, or not ending on a complete line), until its size stops changing,
/// so a session attached while Claude is still answering ends on a complete line. A finished
/// file costs no wait.
fn wait_until_stable(path: &Path) {
    let age = modified(path).and_then(|m| SystemTime::now().duration_since(m).ok());
    if age.is_none_or(|a| a >= Duration::from_secs(120)) {
        return;
    }
    if age.is_some_and(|a| a >= Duration::from_millis(250)) && ends_with_newline(path) {
        return;
    }
    let deadline = Instant::now() + Duration::from_secs(3);
    let size = |p: &Path| std::fs::metadata(p).map(|m| m.len()).ok();
    let mut last = size(path);
    while Instant::now() < deadline {
        thread::sleep(Duration::from_millis(50));
        let now = size(path);
        if now == last {
            return;
        }
        last = now;
    }
}

/// Whether the last byte of the file is `\n` (a complete JSONL line).
fn ends_with_newline(path: &Path) -> bool {
    use std::io::{Read, Seek, SeekFrom};
    let Ok(mut f) = std::fs::File::open(path) else {
        return false;
    };
    let mut last = [0u8; 1];
    f.seek(SeekFrom::End(-1)).is_ok() && f.read_exact(&mut last).is_ok() && last[0] == b'\n'
}

pub(crate) fn info(raw: &[u8]) -> SessionInfo {
    let mut scan = anthropic_scan(raw, &generic_kind, &type_or_role, &WRITE_TOOLS);
    gemini_fallback(raw, &mut scan.prompts);
    SessionInfo {
        first_prompt: scan.prompts.first(),
        turns: scan.prompts.prompts.len() as u64,
        model: scan.prompts.model,
        token_usage: Some(scan.tokens),
        files_touched: scan.files,
    }
}

/// `*.jsonl` except subagent `agent-*.jsonl` files.
fn transcripts_in(dir: &Path) -> Vec<(PathBuf, String)> {
    sorted_entries(dir)
        .into_iter()
        .filter(|(name, ft)| {
            !ft.is_dir() && name.ends_with(".jsonl") && !name.starts_with("agent-")
        })
        .map(|(name, _)| {
            let id = name.trim_end_matches(".jsonl").to_string();
            (dir.join(name), id)
        })
        .collect()
}

/// The `cwd` recorded near the start of a Claude transcript.
fn recorded_cwd(path: &Path) -> Option<String> {
    let head = read_prefix(path, 1024 * 1024)?;
    let cwd = json_lines(&head)
        .take(200)
        .find_map(|l| l.get("cwd").and_then(Value::as_str).map(str::to_string));
    cwd
}

/// `agents.md` §2.4: everything in R's project directory, plus transcripts of other project
/// directories (sessions started in a subdirectory of R) whose `cwd` lies inside R.
pub(crate) fn list(ctx: &Context) -> Vec<(PathBuf, String)> {
    let own = sanitize_path(&ctx.repo_root);
    let prefix: String = own.chars().take(NAME_PREFIX).collect();
    let mut out: Vec<(PathBuf, String)> = Vec::new();
    let add = |entry: (PathBuf, String), out: &mut Vec<(PathBuf, String)>| {
        if !out.iter().any(|(_, id)| *id == entry.1) {
            out.push(entry);
        }
    };
    for dir in session_dirs(ctx) {
        for e in transcripts_in(&dir) {
            add(e, &mut out);
        }
    }
    for base in bases(ctx) {
        for (name, ft) in sorted_entries(&base) {
            if !ft.is_dir() || name == own || !name.starts_with(&prefix) {
                continue;
            }
            for e in transcripts_in(&base.join(&name)) {
                let inside = recorded_cwd(&e.0)
                    .is_some_and(|cwd| super::fsutil::inside_root(&cwd, &ctx.repo_root));
                if inside {
                    add(e, &mut out);
                }
            }
        }
    }
    out
}
