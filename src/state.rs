//! The per-session state file `<git-common-dir>/entire-sessions/<session-id>.json`
//! (`v1-format.md` §11): loading with Entire's expiry rule, the fields an attach sets, Entire's
//! key order, and an atomic write with mode 0600. Keys written by Entire that this module does not
//! know are kept (after the known ones).

use std::io::Write;
use std::path::{Path, PathBuf};

use serde_json::{Map, Value};

use crate::checkpoint::metadata::TokenUsage;
use crate::gojson;
use crate::time::{parse_rfc3339_secs, Timestamp};

/// Entire's field order of the state document.
const FIELD_ORDER: &[&str] = &[
    "session_id",
    "cli_version",
    "base_commit",
    "attribution_base_commit",
    "worktree_path",
    "worktree_id",
    "started_at",
    "ended_at",
    "phase",
    "turn_id",
    "turn_checkpoint_ids",
    "last_interaction_time",
    "checkpoint_count",
    "checkpoint_transcript_start",
    "checkpoint_transcript_size",
    "compact_transcript_start",
    "condensed_transcript_lines",
    "untracked_files_at_start",
    "files_touched",
    "last_checkpoint_id",
    "fully_condensed",
    "attached_manually",
    "agent_type",
    "model_name",
    "token_usage",
    "session_duration_ms",
    "session_turn_count",
    "context_tokens",
    "context_window_size",
    "transcript_lines_at_start",
    "transcript_identifier_at_start",
    "transcript_path",
    "last_prompt",
    "prompt_attributions",
    "pending_prompt_attribution",
];

/// A state older than this is stale and treated as missing (Entire's rule).
const MAX_AGE_SECS: i64 = 7 * 24 * 3600;

/// The state directory of a repository.
pub fn dir(common_dir: &Path) -> PathBuf {
    common_dir.join("entire-sessions")
}

/// The state file of a session.
pub fn path(common_dir: &Path, session_id: &str) -> PathBuf {
    dir(common_dir).join(format!("{session_id}.json"))
}

/// A loaded (or fresh) state document.
#[derive(Clone, Debug)]
pub struct State {
    doc: Map<String, Value>,
}

/// What an attach records.
#[derive(Clone, Debug)]
pub struct AttachRecord<'a> {
    pub cli_version: &'a str,
    pub agent_type: &'a str,
    pub transcript_path: &'a Path,
    pub checkpoint_id: &'a str,
    pub turns: u64,
    pub model: &'a str,
    /// Already redacted.
    pub last_prompt: Option<&'a str>,
    pub token_usage: Option<&'a TokenUsage>,
}

impl State {
    /// Loads the state of `session_id`. Missing, unparsable or stale (older than 7 days) states
    /// give `None`; a stale file is left for `save` to replace, never deleted here, so that a run
    /// that fails later leaves the state directory as it was.
    pub fn load(common_dir: &Path, session_id: &str, now_secs: i64) -> Option<State> {
        let bytes = std::fs::read(path(common_dir, session_id)).ok()?;
        let Ok(Value::Object(doc)) = serde_json::from_slice::<Value>(&bytes) else {
            log::warn!("ignoring unreadable session state of {session_id}");
            return None;
        };
        let time = doc
            .get("last_interaction_time")
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
            .or_else(|| doc.get("started_at").and_then(Value::as_str))
            .and_then(parse_rfc3339_secs);
        if let Some(t) = time {
            if now_secs - t > MAX_AGE_SECS {
                log::debug!("session state of {session_id} is older than 7 days; ignoring it");
                return None;
            }
        }
        Some(State { doc })
    }

    /// A new state for a session that has none.
    pub fn new(session_id: &str, now: &str) -> State {
        let mut doc = Map::new();
        doc.insert("session_id".into(), Value::String(session_id.into()));
        doc.insert("base_commit".into(), Value::String(String::new()));
        doc.insert("started_at".into(), Value::String(now.into()));
        doc.insert("checkpoint_count".into(), Value::from(0));
        State { doc }
    }

    /// The checkpoint this session was already attached to, if any.
    pub fn last_checkpoint_id(&self) -> Option<&str> {
        self.doc
            .get("last_checkpoint_id")
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
    }

    /// Sets what an attach records (`v1-format.md` §11); `now` is local-zone RFC 3339.
    pub fn record_attach(&mut self, r: &AttachRecord<'_>, now: &str) {
        let d = &mut self.doc;
        let s = |v: &str| Value::String(v.to_string());
        d.insert("cli_version".into(), s(r.cli_version));
        d.insert("attached_manually".into(), Value::Bool(true));
        d.insert("agent_type".into(), s(r.agent_type));
        d.insert(
            "transcript_path".into(),
            s(&r.transcript_path.display().to_string()),
        );
        d.insert("last_checkpoint_id".into(), s(r.checkpoint_id));
        d.insert("phase".into(), s("ended"));
        d.insert("last_interaction_time".into(), s(now));
        if r.turns > 0 {
            d.insert("session_turn_count".into(), Value::from(r.turns));
        }
        if !r.model.is_empty() {
            d.insert("model_name".into(), s(r.model));
        }
        if let Some(p) = r.last_prompt.filter(|p| !p.is_empty()) {
            d.insert("last_prompt".into(), s(p));
        }
        if let Some(t) = r.token_usage {
            if let Ok(v) = serde_json::to_value(t) {
                d.insert("token_usage".into(), v);
            }
        }
        for (k, v) in [("base_commit", s("")), ("checkpoint_count", Value::from(0))] {
            d.entry(k).or_insert(v);
        }
    }

    /// The document in Entire's key order and encoding.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut ordered = Map::new();
        for key in FIELD_ORDER {
            if let Some(v) = self.doc.get(*key) {
                ordered.insert((*key).to_string(), v.clone());
            }
        }
        for (k, v) in &self.doc {
            if !ordered.contains_key(k) {
                ordered.insert(k.clone(), v.clone());
            }
        }
        gojson::value_to_vec_indented(&Value::Object(ordered))
    }

    /// Writes the state atomically (`<id>.json.tmp`, then rename), directory 0750, file 0600.
    pub fn save(&self, common_dir: &Path, session_id: &str) -> std::io::Result<()> {
        let dir = dir(common_dir);
        create_dir(&dir)?;
        let final_path = path(common_dir, session_id);
        let tmp = dir.join(format!("{session_id}.json.tmp"));
        let result = (|| {
            let mut f = open_private(&tmp)?;
            f.write_all(&self.to_bytes())?;
            f.sync_all()?;
            std::fs::rename(&tmp, &final_path)
        })();
        if result.is_err() {
            let _ = std::fs::remove_file(&tmp);
        }
        result
    }
}

#[cfg(unix)]
fn create_dir(dir: &Path) -> std::io::Result<()> {
    use std::os::unix::fs::DirBuilderExt;
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o750)
        .create(dir)
}

#[cfg(not(unix))]
fn create_dir(dir: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)
}

#[cfg(unix)]
fn open_private(p: &Path) -> std::io::Result<std::fs::File> {
    use std::os::unix::fs::OpenOptionsExt;
    std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(p)
}

#[cfg(not(unix))]
fn open_private(p: &Path) -> std::io::Result<std::fs::File> {
    std::fs::File::create(p)
}

/// The current local time in the state file's spelling.
pub fn now_local(offset_minutes: i32) -> String {
    Timestamp::now_utc()
        .with_offset(offset_minutes)
        .rfc3339_nano()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_attach_writes_entires_fields_in_order() {
        let mut st = State::new("s1", "2026-04-15T09:20:31.0412345-07:00");
        let tokens = TokenUsage {
            input_tokens: 10,
            cache_creation_tokens: 100,
            cache_read_tokens: 200,
            output_tokens: 20,
            api_call_count: 1,
            subagent_tokens: None,
        };
        st.record_attach(
            &AttachRecord {
                cli_version: "0.5.5",
                agent_type: "Claude Code",
                transcript_path: Path::new("/h/.claude/projects/-r/s1.jsonl"),
                checkpoint_id: "a3b2c4d5e6f7",
                turns: 1,
                model: "claude-sonnet-4-20250514",
                last_prompt: Some("create a hello world file"),
                token_usage: Some(&tokens),
            },
            "2026-04-15T09:20:31.0412345-07:00",
        );
        let want = r#"{
  "session_id": "s1",
  "cli_version": "0.5.5",
  "base_commit": "",
  "started_at": "2026-04-15T09:20:31.0412345-07:00",
  "phase": "ended",
  "last_interaction_time": "2026-04-15T09:20:31.0412345-07:00",
  "checkpoint_count": 0,
  "last_checkpoint_id": "a3b2c4d5e6f7",
  "attached_manually": true,
  "agent_type": "Claude Code",
  "model_name": "claude-sonnet-4-20250514",
  "token_usage": {
    "input_tokens": 10,
    "cache_creation_tokens": 100,
    "cache_read_tokens": 200,
    "output_tokens": 20,
    "api_call_count": 1
  },
  "session_turn_count": 1,
  "transcript_path": "/h/.claude/projects/-r/s1.jsonl",
  "last_prompt": "create a hello world file"
}
"#;
        assert_eq!(String::from_utf8(st.to_bytes()).unwrap(), want);
    }

    #[test]
    fn stale_states_are_ignored_and_fresh_ones_loaded() {
        let dir = tempfile::tempdir().unwrap();
        let mut st = State::new("s", "2026-01-01T00:00:00Z");
        st.doc.insert(
            "last_checkpoint_id".into(),
            Value::String("a3b2c4d5e6f7".into()),
        );
        st.save(dir.path(), "s").unwrap();
        let jan1 = parse_rfc3339_secs("2026-01-01T00:00:00Z").unwrap();
        let loaded = State::load(dir.path(), "s", jan1 + 3600).unwrap();
        assert_eq!(loaded.last_checkpoint_id(), Some("a3b2c4d5e6f7"));
        assert!(State::load(dir.path(), "s", jan1 + 8 * 86_400).is_none());
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(path(dir.path(), "s"))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600);
        }
    }
}
