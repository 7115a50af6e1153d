//! Factory AI Droid (`agents.md` §3.7): `~/.factory/sessions/<S(R)>/<id>.jsonl` with the fallback
//! scan of `~/.factory/sessions`; prompts and tokens from the Anthropic-shaped `message` inside
//! each `type: "message"` envelope (keyed by the inner `message.id`), the model from the sibling
//! `<id>.settings.json`.

use std::path::{Path, PathBuf};

use serde_json::Value;

use super::fsutil::{existing_file, push_unique, sanitize_path, scan, scan_place, sorted_entries};
use super::generic::{anthropic_scan, s, str_field};
use super::{Context, SessionInfo};

const WRITE_TOOLS: [&str; 5] = ["Create", "Write", "Edit", "MultiEdit", "NotebookEdit"];

fn base(ctx: &Context) -> PathBuf {
    ctx.home.join(".factory").join("sessions")
}

fn session_dir(ctx: &Context) -> PathBuf {
    ctx.var_path("ENTIRE_TEST_DROID_PROJECT_DIR")
        .unwrap_or_else(|| base(ctx).join(sanitize_path(&ctx.repo_root)))
}

pub(crate) fn find(ctx: &Context, id: &str, searched: &mut Vec<PathBuf>) -> Option<PathBuf> {
    let file = format!("{id}.jsonl");
    let path = session_dir(ctx).join(&file);
    push_unique(searched, path.clone());
    if let Some(hit) = existing_file(path) {
        return Some(hit);
    }
    let base = base(ctx);
    push_unique(searched, scan_place(&base, &file));
    scan(&base, &|d: &Path| existing_file(d.join(&file)))
}

/// The role of an envelope: `message.role` of `type: "message"` lines, nothing otherwise.
fn envelope_role(line: &Value) -> String {
    if s(line.get("type")) == "message" {
        s(line.get("message").and_then(|m| m.get("role"))).to_string()
    } else {
        String::new()
    }
}

/// `model` of `<transcript without .jsonl>.settings.json`, without a leading `custom:`.
fn settings_model(path: &Path) -> String {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let stem = name.strip_suffix(".jsonl").unwrap_or(&name);
    let settings = path.with_file_name(format!("{stem}.settings.json"));
    let Ok(bytes) = std::fs::read(settings) else {
        return String::new();
    };
    let Ok(doc) = serde_json::from_slice::<Value>(&bytes) else {
        return String::new();
    };
    let model = s(doc.get("model"));
    model.strip_prefix("custom:").unwrap_or(model).to_string()
}

pub(crate) fn info(raw: &[u8], path: &Path) -> SessionInfo {
    let prompt_kind = |line: &Value| -> Result<String, ()> {
        str_field(line, "type")?;
        Ok(envelope_role(line))
    };
    let scan = anthropic_scan(raw, &prompt_kind, &envelope_role, &WRITE_TOOLS);
    SessionInfo {
        first_prompt: scan.prompts.first(),
        turns: scan.prompts.prompts.len() as u64,
        model: settings_model(path),
        token_usage: Some(scan.tokens),
        files_touched: scan.files,
    }
}

/// `*.jsonl` in R's session folder; the id is the file stem.
pub(crate) fn list(ctx: &Context) -> Vec<(PathBuf, String)> {
    let dir = session_dir(ctx);
    sorted_entries(&dir)
        .into_iter()
        .filter(|(name, ft)| !ft.is_dir() && name.ends_with(".jsonl"))
        .map(|(name, _)| {
            let id = name.trim_end_matches(".jsonl").to_string();
            (dir.join(name), id)
        })
        .collect()
}
