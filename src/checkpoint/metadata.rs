//! The JSON documents of a checkpoint: the root summary (`CheckpointSummary`), the per-session
//! metadata (`CommittedMetadata`) and their shared parts, with Entire's key order and omission
//! rules (`v1-format.md` §5–§6). Field order here *is* the byte order on disk; do not reorder.
//!
//! Encoding is `crate::gojson::to_vec_indented`; this module only describes the shapes.

use serde::{Deserialize, Serialize};
use serde_json::Value;

fn is_zero(n: &u64) -> bool {
    *n == 0
}

fn is_false(b: &bool) -> bool {
    !*b
}

/// Token counters (`TokenUsage`). The five counters are always written.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokenUsage {
    #[serde(default)]
    pub input_tokens: u64,
    #[serde(default)]
    pub cache_creation_tokens: u64,
    #[serde(default)]
    pub cache_read_tokens: u64,
    #[serde(default)]
    pub output_tokens: u64,
    #[serde(default)]
    pub api_call_count: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subagent_tokens: Option<Box<TokenUsage>>,
}

impl TokenUsage {
    /// Adds the five counters of `other` (never `subagent_tokens`, as Entire's aggregation).
    /// Counters come from untrusted transcripts: sums saturate instead of overflowing.
    pub fn add(&mut self, other: &TokenUsage) {
        let add = |a: &mut u64, b: u64| *a = a.saturating_add(b);
        add(&mut self.input_tokens, other.input_tokens);
        add(&mut self.cache_creation_tokens, other.cache_creation_tokens);
        add(&mut self.cache_read_tokens, other.cache_read_tokens);
        add(&mut self.output_tokens, other.output_tokens);
        add(&mut self.api_call_count, other.api_call_count);
    }

    /// Input + cache + output tokens, for the "12.3k tokens" summary line.
    pub fn total(&self) -> u64 {
        self.input_tokens
            .saturating_add(self.cache_creation_tokens)
            .saturating_add(self.cache_read_tokens)
            .saturating_add(self.output_tokens)
    }
}

/// One element of the root summary's `sessions` array (`SessionFilePaths`).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionFilePaths {
    #[serde(default)]
    pub metadata: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub transcript: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub content_hash: String,
    #[serde(default)]
    pub prompt: String,
}

/// The root `metadata.json` of a checkpoint (`CheckpointSummary`).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct CheckpointSummary {
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub cli_version: String,
    #[serde(default)]
    pub checkpoint_id: String,
    #[serde(default)]
    pub strategy: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub branch: String,
    #[serde(default)]
    pub checkpoints_count: u64,
    /// `None` is written as `null` (a Go nil slice).
    #[serde(default)]
    pub files_touched: Option<Vec<String>>,
    #[serde(default)]
    pub sessions: Vec<SessionFilePaths>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token_usage: Option<TokenUsage>,
    /// Carried over as a value; re-emitted through the `InitialAttribution` shape.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub combined_attribution: Option<InitialAttribution>,
}

/// `InitialAttribution`, only ever carried over from an existing document.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct InitialAttribution {
    #[serde(default)]
    pub calculated_at: String,
    #[serde(default)]
    pub agent_lines: i64,
    #[serde(default)]
    pub agent_removed: i64,
    #[serde(default)]
    pub human_added: i64,
    #[serde(default)]
    pub human_modified: i64,
    #[serde(default)]
    pub human_removed: i64,
    #[serde(default)]
    pub total_committed: i64,
    #[serde(default)]
    pub total_lines_changed: i64,
    #[serde(default)]
    pub agent_percentage: f64,
    #[serde(default, skip_serializing_if = "is_zero_i64")]
    pub metric_version: i64,
}

fn is_zero_i64(n: &i64) -> bool {
    *n == 0
}

/// A session's `metadata.json` (`CommittedMetadata`) as attach writes it. Fields attach never
/// sets (`turn_id`, `summary`, …) are omitted by Entire's omitempty rules, so they are not here.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct CommittedMetadata {
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub cli_version: String,
    #[serde(default)]
    pub checkpoint_id: String,
    #[serde(default)]
    pub session_id: String,
    #[serde(default)]
    pub strategy: String,
    #[serde(default)]
    pub created_at: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub branch: String,
    #[serde(default)]
    pub checkpoints_count: u64,
    #[serde(default)]
    pub files_touched: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub agent: String,
    #[serde(default)]
    pub model: String,
    #[serde(default, skip_serializing_if = "is_false")]
    pub is_task: bool,
    #[serde(default, skip_serializing_if = "is_zero")]
    pub checkpoint_transcript_start: u64,
    #[serde(default, skip_serializing_if = "is_zero")]
    pub transcript_lines_at_start: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token_usage: Option<TokenUsage>,
}

/// What aggregation needs from another session's metadata; tolerant of every other key.
#[derive(Clone, Debug, Default, Deserialize)]
pub struct SlotAggregate {
    #[serde(default)]
    pub session_id: String,
    #[serde(default)]
    pub agent: String,
    #[serde(default)]
    pub checkpoints_count: u64,
    #[serde(default)]
    pub files_touched: Option<Vec<String>>,
    #[serde(default)]
    pub token_usage: Option<TokenUsage>,
    #[serde(default)]
    pub checkpoint_transcript_start: u64,
    #[serde(default)]
    pub transcript_lines_at_start: u64,
}

impl SlotAggregate {
    /// Parses a session `metadata.json` leniently: unknown keys ignored, `null` counters as 0.
    pub fn parse(bytes: &[u8]) -> Result<SlotAggregate, serde_json::Error> {
        let v: Value = serde_json::from_slice(bytes)?;
        let mut agg = SlotAggregate::default();
        if let Value::Object(map) = v {
            for (k, val) in map {
                // Go matches keys case-insensitively; do the same for the keys we read.
                match k.to_ascii_lowercase().as_str() {
                    "session_id" => agg.session_id = val.as_str().unwrap_or_default().to_string(),
                    "agent" => agg.agent = val.as_str().unwrap_or_default().to_string(),
                    "checkpoints_count" => agg.checkpoints_count = val.as_u64().unwrap_or(0),
                    "files_touched" => agg.files_touched = serde_json::from_value(val).ok(),
                    "token_usage" => agg.token_usage = serde_json::from_value(val).ok(),
                    "checkpoint_transcript_start" => {
                        agg.checkpoint_transcript_start = val.as_u64().unwrap_or(0)
                    }
                    "transcript_lines_at_start" => {
                        agg.transcript_lines_at_start = val.as_u64().unwrap_or(0)
                    }
                    _ => {}
                }
            }
            Ok(agg)
        } else {
            Err(serde::de::Error::custom(
                "session metadata is not a JSON object",
            ))
        }
    }
}

/// Re-aggregates a summary over the given slots (`v1-format.md` §7 step 8).
pub fn aggregate<'a>(
    summary: &mut CheckpointSummary,
    slots: impl IntoIterator<Item = &'a SlotAggregate>,
) {
    let mut count: u64 = 0;
    let mut files: Vec<String> = Vec::new();
    let mut tokens: Option<TokenUsage> = None;
    for slot in slots {
        count = count.saturating_add(slot.checkpoints_count);
        if let Some(f) = &slot.files_touched {
            files.extend(f.iter().cloned());
        }
        if let Some(t) = &slot.token_usage {
            tokens.get_or_insert_with(TokenUsage::default).add(t);
        }
    }
    files.sort();
    files.dedup();
    summary.checkpoints_count = count;
    summary.files_touched = if files.is_empty() { None } else { Some(files) };
    summary.token_usage = tokens;
}
