//! Cursor, IDE and CLI (`agents.md` §3.4): `~/.cursor/projects/<C(R)>/agent-transcripts/` with
//! the nested `<id>/<id>.jsonl` (IDE) or flat `<id>.jsonl` (CLI) layout, the fallback scan of
//! `~/.cursor/projects`, and the generic extractor (Cursor records no model and no usage).

use std::path::{Path, PathBuf};
use std::thread;
use std::time::{Duration, Instant};

use super::fsutil::{
    cursor_project_name, existing_file, push_unique, scan, scan_place, sorted_entries,
};
use super::generic::{extract, json_lines, s};
use super::{Context, SessionInfo};

fn base(ctx: &Context) -> PathBuf {
    ctx.home.join(".cursor").join("projects")
}

fn session_dir(ctx: &Context) -> PathBuf {
    ctx.var_path("ENTIRE_TEST_CURSOR_PROJECT_DIR")
        .unwrap_or_else(|| {
            base(ctx)
                .join(cursor_project_name(&ctx.repo_root))
                .join("agent-transcripts")
        })
}

/// Entire's rule: the nested file when it or the `<id>` directory exists, else the flat file.
fn file_for(dir: &Path, id: &str) -> PathBuf {
    let nested_dir = dir.join(id);
    let nested = nested_dir.join(format!("{id}.jsonl"));
    if nested.exists() || nested_dir.is_dir() {
        nested
    } else {
        dir.join(format!("{id}.jsonl"))
    }
}

pub(crate) fn find(ctx: &Context, id: &str, searched: &mut Vec<PathBuf>) -> Option<PathBuf> {
    let dir = session_dir(ctx);
    push_unique(searched, dir.join(id).join(format!("{id}.jsonl")));
    push_unique(searched, dir.join(format!("{id}.jsonl")));
    if let Some(hit) = existing_file(file_for(&dir, id)) {
        wait_until_written(&hit);
        return Some(hit);
    }
    let base = base(ctx);
    push_unique(searched, scan_place(&base, &format!("{id}.jsonl")));
    let hit = scan(&base, &|d: &Path| existing_file(file_for(d, id)))?;
    wait_until_written(&hit);
    Some(hit)
}

/// Entire's prepare step: Cursor creates the transcript before it writes it, so an empty file
/// is polled every 50 ms for up to 5 s.
fn wait_until_written(path: &Path) {
    let deadline = Instant::now() + Duration::from_secs(5);
    while std::fs::metadata(path).map_or(0, |m| m.len()) == 0 && Instant::now() < deadline {
        thread::sleep(Duration::from_millis(50));
    }
}

pub(crate) fn info(raw: &[u8]) -> SessionInfo {
    let prompts = extract(raw);
    SessionInfo {
        first_prompt: prompts.first(),
        turns: prompts.prompts.len() as u64,
        model: prompts.model,
        token_usage: None,
        files_touched: Vec::new(),
    }
}

/// `*.jsonl` and `*/*.jsonl` in R's transcript folder; the id is the file stem.
pub(crate) fn list(ctx: &Context) -> Vec<(PathBuf, String)> {
    let dir = session_dir(ctx);
    let mut out = Vec::new();
    let mut add = |path: PathBuf, name: &str| {
        let id = name.trim_end_matches(".jsonl").to_string();
        if !out
            .iter()
            .any(|(_, known): &(PathBuf, String)| *known == id)
        {
            out.push((path, id));
        }
    };
    for (name, ft) in sorted_entries(&dir) {
        let path = dir.join(&name);
        if ft.is_dir() {
            for (inner, ift) in sorted_entries(&path) {
                if !ift.is_dir() && inner.ends_with(".jsonl") {
                    add(path.join(&inner), &inner);
                }
            }
        } else if name.ends_with(".jsonl") {
            add(path, &name);
        }
    }
    out
}

/// §2.3: the first user/assistant line carries `role` but no `type` (Claude lines have `type`).
pub(crate) fn looks_like_cursor(bytes: &[u8]) -> bool {
    for line in json_lines(bytes) {
        let t = s(line.get("type"));
        let role = s(line.get("role"));
        let kind = if t.is_empty() { role } else { t };
        if kind == "user" || kind == "assistant" {
            return line.get("type").is_none() && !role.is_empty();
        }
    }
    false
}
