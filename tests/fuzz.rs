//! Property-based fuzz targets (proptest) for every parser that reads untrusted bytes: the
//! transcript readers of the eight built-in agents, content detection, the compactor, Gemini
//! normalization and the Codex sanitizer, chunking, the trailer parser, the settings parsers, the
//! redaction walk and the Go JSON encoder.
//!
//! Inputs are both arbitrary bytes and *structured* near-valid transcripts: JSONL lines built from
//! random JSON values with the agents' real keys, lines of the real transcripts in
//! `tests/fixtures/` mutated subtree by subtree, Gemini and OpenCode documents, and the corpus in
//! `tests/fuzz/corpus/`, all then truncated, flipped, spliced.
//!
//! `GIT_ATTACH_FUZZ_CASES` sets the number of cases per target (default 64, a few seconds in all)
//! and `GIT_ATTACH_FUZZ_SEED` the seed (default fixed: runs are deterministic);
//! `scripts/fuzz-long.sh` loops each target over increasing seeds for minutes. A failing case is
//! persisted (its seed) in `tests/fuzz/regressions/<target>.txt` and replayed first on every run.

use std::path::Path;
use std::sync::OnceLock;
use std::time::Duration;

use proptest::collection::vec;
use proptest::prelude::*;
use proptest::sample::select;
use proptest::test_runner::{Config, FileFailurePersistence, RngSeed};
use serde_json::{Map, Value};

use git_attach::agent::{self, Agent, Context};
use git_attach::checkpoint::{append_trailer, last_trailer_id, trailer_ids, CheckpointId};
use git_attach::cli::Args;
use git_attach::gojson;
use git_attach::redact::{Redactor, RuleSources, REDACTED};
use git_attach::settings::{parse_config_z, EnvIdentity, Settings};
use git_attach::transcript::chunk::{chunk_for, chunk_jsonl, reassemble_for};
use git_attach::transcript::compact::{compact, detect, Format};
use git_attach::transcript::{normalize_for_storage, sanitize_for_v1};

// ---- configuration -------------------------------------------------------------------------

fn env_u64(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(default)
}

/// One target's proptest configuration: case count and seed from the environment, failures
/// persisted under `tests/fuzz/regressions/`.
fn config(target: &str) -> Config {
    let path: &'static str = Box::leak(
        format!(
            "{}/tests/fuzz/regressions/{target}.txt",
            env!("CARGO_MANIFEST_DIR")
        )
        .into_boxed_str(),
    );
    Config {
        cases: env_u64("GIT_ATTACH_FUZZ_CASES", 64) as u32,
        rng_seed: RngSeed::Fixed(env_u64("GIT_ATTACH_FUZZ_SEED", 0x6769_7461_7474)),
        failure_persistence: Some(Box::new(FileFailurePersistence::Direct(path))),
        max_shrink_iters: 4096,
        max_global_rejects: 100_000,
        ..Config::default()
    }
}

// ---- seed material -------------------------------------------------------------------------

const DISPLAY_TYPES: &[&str] = &[
    "Claude Code",
    "Codex",
    "Copilot CLI",
    "Cursor",
    "Factory AI Droid",
    "Gemini CLI",
    "OpenCode",
    "Pi",
];

/// Keys the agents' readers and the compactor look at, plus a few ordinary ones.
const KEYS: &[&str] = &[
    "type",
    "content",
    "id",
    "text",
    "message",
    "role",
    "input",
    "name",
    "timestamp",
    "messages",
    "output",
    "info",
    "result",
    "status",
    "output_tokens",
    "input_tokens",
    "sessionId",
    "usage",
    "data",
    "payload",
    "model",
    "agent",
    "ts",
    "tokens",
    "parts",
    "filePath",
    "tool_use_id",
    "file_path",
    "uuid",
    "tool",
    "toolCalls",
    "thinking",
    "modelID",
    "call_id",
    "arguments",
    "args",
    "toolCallId",
    "time",
    "state",
    "providerID",
    "outputTokens",
    "toolUseResult",
    "summary",
    "source",
    "path",
    "metadata",
    "callID",
    "cache",
    "total",
    "toolRequests",
    "title",
    "stdout",
    "sessionID",
    "response",
    "promptId",
    "phase",
    "is_error",
    "functionResponse",
    "encrypted_content",
    "detailedContent",
    "createdAt",
    "cost",
    "command",
    "cache_read_input_tokens",
    "cache_creation_input_tokens",
    "total_token_usage",
    "parentId",
    "notebook_path",
    "newModel",
    "modelMetrics",
    "kind",
    "inputTokens",
    "gitRoot",
    "filename",
    "filePaths",
    "cached_input_tokens",
    "cached",
    "cacheWriteTokens",
    "cacheWrite",
    "cacheReadTokens",
    "cacheRead",
    "reasoning",
    "reasoning_output_tokens",
    "thoughts",
    "totalTokens",
    "modelId",
    "provider",
    "created",
    "completed",
    "read",
    "write",
    "cwd",
    "parentUuid",
    "isSidechain",
    "signature",
    "media_type",
    "structuredPatch",
    "oldString",
    "newString",
    "edits",
    "replacement_history",
    "compacted",
];

const TYPES: &[&str] = &[
    "user",
    "assistant",
    "system",
    "progress",
    "summary",
    "message",
    "session",
    "session_start",
    "session_meta",
    "response_item",
    "event_msg",
    "turn_context",
    "compacted",
    "token_count",
    "user_message",
    "agent_message",
    "function_call",
    "function_call_output",
    "custom_tool_call",
    "custom_tool_call_output",
    "reasoning",
    "session.start",
    "session.info",
    "session.model_change",
    "session.shutdown",
    "user.message",
    "assistant.message",
    "tool.execution_start",
    "tool.execution_complete",
    "hook.start",
    "model_change",
    "compaction",
    "gemini",
    "info",
    "error",
    "text",
    "tool_use",
    "tool_result",
    "tool",
    "toolCall",
    "toolResult",
    "image",
    "base64",
    "input_text",
    "output_text",
    "step-finish",
    "file",
    "thinking",
    "redacted_thinking",
];

const ROLES: &[&str] = &[
    "user",
    "assistant",
    "developer",
    "system",
    "tool",
    "human",
    "toolResult",
];

const TOOLS: &[&str] = &[
    "Write",
    "Edit",
    "MultiEdit",
    "NotebookEdit",
    "Bash",
    "Read",
    "Create",
    "write_file",
    "replace",
    "edit_file",
    "save_file",
    "apply_patch",
    "write",
    "edit",
    "bash",
    "mcp__acp__Write",
    "mcp__acp__Edit",
    "create",
    "str_replace_editor",
];

/// Strings that mean something to some reader.
const STRINGS: &[&str] = &[
    "",
    " ",
    "hello.txt",
    "/repo/src/main.rs",
    "../../etc/passwd",
    "C:\\Users\\x\\file.txt",
    "<user_query>\nadd a file\n</user_query>",
    "<command-name>/clear</command-name>",
    "<system-reminder>x</system-reminder>",
    "<environment_context>\n<cwd>/repo</cwd>\n</environment_context>",
    "<ide_opened_file>a</ide_opened_file>",
    "Caveat: The messages below were generated by the user",
    "claude-sonnet-4-20250514",
    "gpt-5-codex",
    "gemini-2.5-pro",
    "2026-04-15T16:20:31Z",
    "2026-04-15T16:20:31.123456789+02:00",
    "not a time",
    "*** Begin Patch\n*** Add File: a.txt\n+hi\n*** End Patch",
    "*** Begin Patch\n*** Update File: b.rs\n@@\n-x\n+y\n*** End Patch",
    "{\"file_path\":\"a.txt\",\"content\":\"x\"}",
    "{\"path\":\"b.txt\"}",
    "{not json",
    "null",
    "\u{2028}\u{2029}",
    "\u{feff}",
    "\\ud800",
    "é\u{301}",
    "日本語のテキスト",
    "🦀🦀🦀",
    "a\0b",
    "line1\r\nline2",
    "password=hunter2hunter2hunter2",
    "AKIAIOSFODNN7EXAMPLE",
    "-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEA7bq2\n-----END RSA PRIVATE KEY-----",
    "data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==",
    "success",
    "completed",
    "error",
    "in_progress",
];

/// Lines of the real transcripts, and the two document fixtures whole.
struct Seeds {
    lines: Vec<Vec<u8>>,
    documents: Vec<Vec<u8>>,
    corpus: Vec<Vec<u8>>,
}

fn seeds() -> &'static Seeds {
    static SEEDS: OnceLock<Seeds> = OnceLock::new();
    SEEDS.get_or_init(|| {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests");
        let mut lines = Vec::new();
        let mut documents = Vec::new();
        for dir in ["fixtures/compact", "fixtures/agents"] {
            let mut paths: Vec<_> = std::fs::read_dir(root.join(dir))
                .map(|rd| rd.flatten().map(|e| e.path()).collect())
                .unwrap_or_default();
            paths.sort();
            for p in paths {
                let name = p
                    .file_name()
                    .unwrap_or_default()
                    .to_string_lossy()
                    .to_string();
                if !name.ends_with(".jsonl") || name.ends_with("_expected.jsonl") {
                    continue;
                }
                let Ok(bytes) = std::fs::read(&p) else {
                    continue;
                };
                if name.starts_with("gemini") || name.starts_with("opencode") {
                    documents.push(bytes);
                } else {
                    lines.extend(
                        bytes
                            .split(|&b| b == b'\n')
                            .filter(|l| !l.is_empty())
                            .map(<[u8]>::to_vec),
                    );
                }
            }
        }
        assert!(lines.len() > 50, "the fixture transcripts were not found");
        Seeds {
            lines,
            documents,
            corpus: corpus_files().into_iter().map(|(_, b)| b).collect(),
        }
    })
}

/// The committed corpus: `tests/fuzz/corpus/*`, sorted by name.
fn corpus_files() -> Vec<(String, Vec<u8>)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fuzz/corpus");
    let mut out: Vec<(String, Vec<u8>)> = std::fs::read_dir(dir)
        .map(|rd| {
            rd.flatten()
                .filter_map(|e| {
                    let name = e.file_name().to_string_lossy().to_string();
                    std::fs::read(e.path()).ok().map(|b| (name, b))
                })
                .collect()
        })
        .unwrap_or_default();
    out.sort();
    out
}

// ---- generators ----------------------------------------------------------------------------

/// A fresh token in the shape of a built-in rule's secret.
fn secret() -> BoxedStrategy<String> {
    prop_oneof![
        "[A-Za-z0-9]{36}".prop_map(|s| format!("ghp_{s}")),
        "[A-Z0-9]{16}".prop_map(|s| format!("AKIA{s}")),
        "[A-Za-z0-9_]{82}".prop_map(|s| format!("github_pat_{s}")),
    ]
    .boxed()
}

fn text() -> BoxedStrategy<String> {
    prop_oneof![
        6 => select(STRINGS).prop_map(str::to_string),
        2 => select(TYPES).prop_map(str::to_string),
        3 => "[ -~]{0,40}",
        2 => any::<String>(),
        1 => secret().prop_map(|s| format!("token {s} here")),
        1 => "[A-Za-z0-9+/]{20,60}",
    ]
    .boxed()
}

fn key() -> BoxedStrategy<String> {
    prop_oneof![
        10 => select(KEYS).prop_map(str::to_string),
        1 => "[a-zA-Z_]{1,12}",
        1 => any::<String>(),
    ]
    .boxed()
}

fn number() -> BoxedStrategy<Value> {
    prop_oneof![
        4 => (0u64..5000).prop_map(Value::from),
        1 => any::<i64>().prop_map(Value::from),
        1 => any::<u64>().prop_map(Value::from),
        1 => any::<f64>().prop_filter_map("finite", |f| serde_json::Number::from_f64(f).map(Value::Number)),
        1 => (-5.0f64..5.0).prop_filter_map("finite", |f| serde_json::Number::from_f64(f).map(Value::Number)),
    ]
    .boxed()
}

fn json_leaf() -> BoxedStrategy<Value> {
    prop_oneof![
        1 => Just(Value::Null),
        1 => any::<bool>().prop_map(Value::Bool),
        2 => number(),
        5 => text().prop_map(Value::String),
    ]
    .boxed()
}

fn json_value() -> BoxedStrategy<Value> {
    json_leaf()
        .prop_recursive(4, 40, 6, |inner| {
            prop_oneof![
                vec(inner.clone(), 0..5).prop_map(Value::Array),
                vec((key(), inner), 0..6).prop_map(|kv| Value::Object(kv.into_iter().collect())),
            ]
        })
        .boxed()
}

/// `Some(typical)` mostly, sometimes absent, sometimes any value (a wrong type).
fn field(typical: BoxedStrategy<Value>) -> BoxedStrategy<Option<Value>> {
    prop_oneof![
        3 => Just(None),
        8 => typical.prop_map(Some),
        1 => json_value().prop_map(Some),
    ]
    .boxed()
}

fn object(fields: Vec<(&'static str, Option<Value>)>, extra: Vec<(String, Value)>) -> Value {
    let mut m = Map::new();
    for (k, v) in fields {
        if let Some(v) = v {
            m.insert(k.to_string(), v);
        }
    }
    for (k, v) in extra {
        m.insert(k, v);
    }
    Value::Object(m)
}

fn s(strategy: BoxedStrategy<String>) -> BoxedStrategy<Value> {
    strategy.prop_map(Value::String).boxed()
}

fn pick(pool: &'static [&'static str]) -> BoxedStrategy<Value> {
    select(pool).prop_map(Value::from).boxed()
}

fn usage() -> BoxedStrategy<Value> {
    vec(
        (
            select(
                &[
                    "input_tokens",
                    "output_tokens",
                    "cache_read_input_tokens",
                    "cache_creation_input_tokens",
                    "cached_input_tokens",
                    "reasoning_output_tokens",
                    "total_tokens",
                    "input",
                    "output",
                    "cached",
                    "thoughts",
                    "tool",
                    "total",
                    "cacheRead",
                    "cacheWrite",
                    "totalTokens",
                    "inputTokens",
                    "outputTokens",
                    "cacheReadTokens",
                    "cacheWriteTokens",
                    "reasoning",
                ][..],
            ),
            number(),
        ),
        0..6,
    )
    .prop_map(|kv| Value::Object(kv.into_iter().map(|(k, v)| (k.to_string(), v)).collect()))
    .boxed()
}

/// A tool input: the file keys every agent reads.
fn tool_input() -> BoxedStrategy<Value> {
    (
        field(s(text())),
        field(s(text())),
        field(s(text())),
        field(s(text())),
        field(s(text())),
        field(s(text())),
    )
        .prop_map(|(a, b, c, d, e, f)| {
            object(
                vec![
                    ("file_path", a),
                    ("filePath", b),
                    ("path", c),
                    ("content", d),
                    ("command", e),
                    ("notebook_path", f),
                ],
                vec![],
            )
        })
        .boxed()
}

/// A content block (`text`, `tool_use`, `tool_result`, `image`, …).
fn block() -> BoxedStrategy<Value> {
    (
        field(pick(TYPES)),
        field(s(text())),
        field(pick(TOOLS)),
        field(tool_input()),
        field(s(text())),
        field(json_value()),
        field(s(text())),
    )
        .prop_map(|(ty, txt, name, input, id, content, tuid)| {
            object(
                vec![
                    ("type", ty),
                    ("text", txt),
                    ("name", name),
                    ("input", input),
                    ("id", id),
                    ("content", content),
                    ("tool_use_id", tuid),
                ],
                vec![],
            )
        })
        .boxed()
}

fn content() -> BoxedStrategy<Value> {
    prop_oneof![
        2 => s(text()),
        3 => vec(block(), 0..4).prop_map(Value::Array),
    ]
    .boxed()
}

fn message() -> BoxedStrategy<Value> {
    (
        field(pick(ROLES)),
        field(content()),
        field(s(prop_oneof![
            select(STRINGS).prop_map(str::to_string),
            "[a-z0-9-]{3,20}"
        ]
        .boxed())),
        field(s(text())),
        field(usage()),
        field(pick(TYPES)),
    )
        .prop_map(|(role, content, model, id, usage, ty)| {
            object(
                vec![
                    ("role", role),
                    ("content", content),
                    ("model", model),
                    ("id", id),
                    ("usage", usage),
                    ("type", ty),
                ],
                vec![],
            )
        })
        .boxed()
}

/// Codex `payload` / Copilot `data`: one shape with both agents' keys.
fn payload() -> BoxedStrategy<Value> {
    (
        field(pick(TYPES)),
        field(pick(ROLES)),
        field(content()),
        field(pick(TOOLS)),
        field(s(prop_oneof![
            text(),
            tool_input().prop_map(|v| v.to_string()).boxed()
        ]
        .boxed())),
        field(s(text())),
        field(json_value()),
        field(
            usage()
                .prop_map(|u| serde_json::json!({ "total_token_usage": u, "last_token_usage": u }))
                .boxed(),
        ),
        field(
            vec(
                tool_input().prop_map(|a| serde_json::json!({"name": "write", "arguments": a})),
                0..3,
            )
            .prop_map(Value::Array)
            .boxed(),
        ),
        field(s(text())),
    )
        .prop_map(
            |(ty, role, content, name, args, call, output, info, reqs, model)| {
                object(
                    vec![
                        ("type", ty),
                        ("role", role),
                        ("content", content),
                        ("name", name),
                        ("arguments", args),
                        ("call_id", call),
                        ("output", output),
                        ("info", info),
                        ("toolRequests", reqs),
                        ("model", model),
                    ],
                    vec![],
                )
            },
        )
        .boxed()
}

/// One transcript line shaped like a line of some agent.
fn agent_line() -> BoxedStrategy<Value> {
    (
        field(pick(TYPES)),
        field(message()),
        field(payload()),
        field(payload()),
        field(json_value()),
        field(s(text())),
        field(pick(ROLES)),
        field(s(text())),
        vec((key(), json_value()), 0..3),
    )
        .prop_map(|(ty, msg, pl, data, tur, ts, role, uuid, extra)| {
            object(
                vec![
                    ("type", ty),
                    ("message", msg),
                    ("payload", pl),
                    ("data", data),
                    ("toolUseResult", tur),
                    ("timestamp", ts),
                    ("role", role),
                    ("uuid", uuid),
                ],
                extra,
            )
        })
        .boxed()
}

/// Replaces the subtree reached by following `path` (child index choices) with `new`.
fn graft(v: &mut Value, path: &[usize], new: Value) {
    let child = match (v, path.first()) {
        (Value::Array(a), Some(i)) if !a.is_empty() => {
            let n = a.len();
            &mut a[i % n]
        }
        (Value::Object(m), Some(i)) if !m.is_empty() => {
            let n = m.len();
            match m.values_mut().nth(i % n) {
                Some(c) => c,
                None => return,
            }
        }
        (v, _) => {
            *v = new;
            return;
        }
    };
    graft(child, &path[1..], new);
}

/// A real fixture line, with one subtree replaced (or left alone) — structure-aware mutation.
fn fixture_line() -> BoxedStrategy<Vec<u8>> {
    let n = seeds().lines.len();
    (
        0..n,
        prop::option::of((vec(any::<usize>(), 0..6), json_value())),
    )
        .prop_map(|(i, graft_with)| {
            let line = &seeds().lines[i];
            match (graft_with, serde_json::from_slice::<Value>(line)) {
                (Some((path, new)), Ok(mut v)) => {
                    graft(&mut v, &path, new);
                    serde_json::to_vec(&v).unwrap_or_default()
                }
                _ => line.clone(),
            }
        })
        .boxed()
}

fn jsonl_line() -> BoxedStrategy<Vec<u8>> {
    prop_oneof![
        4 => fixture_line(),
        4 => agent_line().prop_map(|v| serde_json::to_vec(&v).unwrap_or_default()),
        1 => json_value().prop_map(|v| serde_json::to_vec(&v).unwrap_or_default()),
        1 => vec(any::<u8>(), 0..40),
        1 => Just(Vec::new()),
    ]
    .boxed()
}

fn jsonl() -> BoxedStrategy<Vec<u8>> {
    (vec(jsonl_line(), 0..12), any::<bool>(), any::<bool>())
        .prop_map(|(lines, crlf, trailing)| {
            let sep: &[u8] = if crlf { b"\r\n" } else { b"\n" };
            let mut out = lines.join(sep);
            if trailing {
                out.extend_from_slice(sep);
            }
            out
        })
        .boxed()
}

fn gemini_message() -> BoxedStrategy<Value> {
    let tool_call = (
        field(s(text())),
        field(pick(TOOLS)),
        field(tool_input()),
        field(json_value()),
        field(pick(&["success", "error", "cancelled"])),
    )
        .prop_map(|(id, name, args, result, status)| {
            object(
                vec![
                    ("id", id),
                    ("name", name),
                    ("args", args),
                    ("result", result),
                    ("status", status),
                ],
                vec![],
            )
        });
    (
        field(s(text())),
        field(s(text())),
        field(pick(&["user", "gemini", "info", "error", "warning"])),
        field(
            prop_oneof![
                s(text()),
                vec(s(text()).prop_map(|t| serde_json::json!({"text": t})), 0..3)
                    .prop_map(Value::Array)
                    .boxed()
            ]
            .boxed(),
        ),
        field(vec(tool_call, 0..3).prop_map(Value::Array).boxed()),
        field(usage()),
        field(s(text())),
        field(
            vec(
                s(text()).prop_map(|t| serde_json::json!({"subject": t, "description": t})),
                0..2,
            )
            .prop_map(Value::Array)
            .boxed(),
        ),
    )
        .prop_map(|(id, ts, ty, content, calls, tokens, model, thoughts)| {
            object(
                vec![
                    ("id", id),
                    ("timestamp", ts),
                    ("type", ty),
                    ("content", content),
                    ("toolCalls", calls),
                    ("tokens", tokens),
                    ("model", model),
                    ("thoughts", thoughts),
                ],
                vec![],
            )
        })
        .boxed()
}

fn gemini_doc() -> BoxedStrategy<Value> {
    (
        field(s(text())),
        field(vec(gemini_message(), 0..6).prop_map(Value::Array).boxed()),
        field(s(text())),
    )
        .prop_map(|(sid, messages, start)| {
            object(
                vec![
                    ("sessionId", sid),
                    ("messages", messages),
                    ("startTime", start),
                ],
                vec![],
            )
        })
        .boxed()
}

fn opencode_part() -> BoxedStrategy<Value> {
    let state = (
        field(pick(&["completed", "error", "running", "pending"])),
        field(tool_input()),
        field(s(text())),
        field(json_value()),
    )
        .prop_map(|(status, input, output, metadata)| {
            object(
                vec![
                    ("status", status),
                    ("input", input),
                    ("output", output),
                    ("metadata", metadata),
                ],
                vec![],
            )
        });
    (
        field(pick(&[
            "text",
            "tool",
            "reasoning",
            "step-start",
            "step-finish",
            "file",
            "patch",
            "compaction",
        ])),
        field(s(text())),
        field(pick(TOOLS)),
        field(s(text())),
        field(state.boxed()),
        field(vec(s(text()), 0..3).prop_map(Value::Array).boxed()),
    )
        .prop_map(|(ty, txt, tool, call, state, files)| {
            object(
                vec![
                    ("type", ty),
                    ("text", txt),
                    ("tool", tool),
                    ("callID", call),
                    ("state", state),
                    ("files", files),
                ],
                vec![],
            )
        })
        .boxed()
}

fn opencode_doc() -> BoxedStrategy<Value> {
    let time = (field(number()), field(number()))
        .prop_map(|(c, d)| object(vec![("created", c), ("completed", d)], vec![]))
        .boxed();
    let tokens = (
        field(number()),
        field(number()),
        field(number()),
        field(usage()),
        field(number()),
    )
        .prop_map(|(i, o, r, cache, t)| {
            object(
                vec![
                    ("input", i),
                    ("output", o),
                    ("reasoning", r),
                    ("cache", cache),
                    ("total", t),
                ],
                vec![],
            )
        })
        .boxed();
    let info = (
        field(s(text())),
        field(pick(ROLES)),
        field(time.clone()),
        field(tokens),
        field(number()),
        field(s(text())),
        field(s(text())),
    )
        .prop_map(|(id, role, time, tokens, cost, model, provider)| {
            object(
                vec![
                    ("id", id),
                    ("role", role),
                    ("time", time),
                    ("tokens", tokens),
                    ("cost", cost),
                    ("modelID", model),
                    ("providerID", provider),
                ],
                vec![],
            )
        });
    let msg = (
        field(info.boxed()),
        field(vec(opencode_part(), 0..4).prop_map(Value::Array).boxed()),
    )
        .prop_map(|(info, parts)| object(vec![("info", info), ("parts", parts)], vec![]));
    let session =
        (field(s(text())), field(s(text())), field(time)).prop_map(|(id, title, time)| {
            object(vec![("id", id), ("title", title), ("time", time)], vec![])
        });
    (
        field(session.boxed()),
        field(vec(msg, 0..5).prop_map(Value::Array).boxed()),
    )
        .prop_map(|(info, messages)| object(vec![("info", info), ("messages", messages)], vec![]))
        .boxed()
}

fn document() -> BoxedStrategy<Vec<u8>> {
    (prop_oneof![gemini_doc(), opencode_doc()], any::<bool>())
        .prop_map(|(v, pretty)| {
            if pretty {
                serde_json::to_vec_pretty(&v).unwrap_or_default()
            } else {
                serde_json::to_vec(&v).unwrap_or_default()
            }
        })
        .boxed()
}

/// A real document fixture with one subtree replaced.
fn fixture_document() -> BoxedStrategy<Vec<u8>> {
    let n = seeds().documents.len().max(1);
    (0..n, vec(any::<usize>(), 0..8), json_value())
        .prop_map(|(i, path, new)| {
            let Some(doc) = seeds().documents.get(i) else {
                return Vec::new();
            };
            match serde_json::from_slice::<Value>(doc) {
                Ok(mut v) => {
                    graft(&mut v, &path, new);
                    serde_json::to_vec(&v).unwrap_or_default()
                }
                Err(_) => doc.clone(),
            }
        })
        .boxed()
}

fn corpus_entry() -> BoxedStrategy<Vec<u8>> {
    let n = seeds().corpus.len().max(1);
    (0..n)
        .prop_map(|i| seeds().corpus.get(i).cloned().unwrap_or_default())
        .boxed()
}

/// Byte-level damage applied after generation.
#[derive(Clone, Debug)]
enum Mutation {
    Truncate(usize),
    Flip(usize, u8),
    Insert(usize, Vec<u8>),
    Delete(usize, usize),
    DuplicateLine(usize),
    SwapLines(usize, usize),
}

/// Byte strings that break JSON in interesting ways.
const INSERTS: &[&[u8]] = &[
    b"\n",
    b"\"",
    b"{",
    b"}",
    b"[",
    b"]",
    b",",
    b"\\",
    b"\\u",
    b"\xff",
    b"\xe2\x80",
    b"\r\n",
    b"null",
    b"1e999",
];

fn mutation() -> BoxedStrategy<Mutation> {
    prop_oneof![
        any::<usize>().prop_map(Mutation::Truncate),
        (any::<usize>(), 1u8..=255).prop_map(|(i, x)| Mutation::Flip(i, x)),
        (
            any::<usize>(),
            prop_oneof![
                vec(any::<u8>(), 1..8),
                select(INSERTS).prop_map(<[u8]>::to_vec),
            ]
        )
            .prop_map(|(i, b)| Mutation::Insert(i, b)),
        (any::<usize>(), 1usize..16).prop_map(|(i, n)| Mutation::Delete(i, n)),
        any::<usize>().prop_map(Mutation::DuplicateLine),
        (any::<usize>(), any::<usize>()).prop_map(|(a, b)| Mutation::SwapLines(a, b)),
    ]
    .boxed()
}

fn apply(mut bytes: Vec<u8>, mutations: &[Mutation]) -> Vec<u8> {
    for m in mutations {
        let len = bytes.len();
        match m {
            Mutation::Truncate(i) => bytes.truncate(i % (len + 1)),
            Mutation::Flip(i, x) if len > 0 => bytes[i % len] ^= x,
            Mutation::Flip(..) => {}
            Mutation::Insert(i, b) => {
                let at = i % (len + 1);
                bytes.splice(at..at, b.iter().copied());
            }
            Mutation::Delete(i, n) if len > 0 => {
                let at = i % len;
                let end = (at + n).min(len);
                bytes.drain(at..end);
            }
            Mutation::Delete(..) => {}
            Mutation::DuplicateLine(i) | Mutation::SwapLines(i, _) => {
                let mut lines: Vec<Vec<u8>> =
                    bytes.split(|&b| b == b'\n').map(<[u8]>::to_vec).collect();
                let n = lines.len();
                match m {
                    Mutation::DuplicateLine(_) => {
                        let l = lines[i % n].clone();
                        lines.insert(i % n, l);
                    }
                    Mutation::SwapLines(_, j) => lines.swap(i % n, j % n),
                    _ => {}
                }
                bytes = lines.join(&b'\n');
            }
        }
    }
    bytes
}

/// Any transcript-like input: structured, real, corpus or random bytes, then perhaps damaged.
fn transcript() -> BoxedStrategy<Vec<u8>> {
    let base = prop_oneof![
        6 => jsonl(),
        3 => document(),
        1 => fixture_document(),
        1 => corpus_entry(),
        2 => vec(any::<u8>(), 0..300),
    ];
    (
        base,
        prop_oneof![3 => Just(Vec::new()), 2 => vec(mutation(), 1..4)],
    )
        .prop_map(|(b, ms)| apply(b, &ms))
        .boxed()
}

// ---- targets: the checks -------------------------------------------------------------------

fn ctx() -> Context {
    Context {
        repo_root: "/nonexistent/git-attach-fuzz/repo".into(),
        home: "/nonexistent/git-attach-fuzz/home".into(),
        vars: vec![],
        plugin_timeout: Duration::from_secs(1),
    }
}

/// Every built-in agent's metadata extraction, and content detection.
fn check_agents(raw: &[u8]) {
    let ctx = ctx();
    let path = Path::new("/nonexistent/git-attach-fuzz/sessions/0b7e9a52.jsonl");
    for name in agent::builtin_names() {
        let agent = Agent::builtin(name).expect("a built-in agent");
        let info = agent::session_info(&ctx, &agent, raw, path);
        if let Some(t) = &info.token_usage {
            // Saturating: counters read from a transcript may be anything.
            let _ = t.total();
        }
    }
    let detected = agent::detect_from_content(raw);
    assert!(
        agent::builtin_names().contains(&detected.name.as_str()),
        "detected a non-built-in agent {:?}",
        detected.name
    );
    let expected_family = match detect(raw) {
        Format::OpenCode => &["opencode"][..],
        Format::Gemini => &["gemini"],
        Format::Codex => &["codex"],
        Format::Copilot => &["copilot-cli"],
        Format::Droid => &["factoryai-droid", "pi"],
        Format::Jsonl => &["claude-code", "cursor"],
    };
    assert!(
        expected_family.contains(&detected.name.as_str()),
        "detect_from_content {} disagrees with detect {:?}",
        detected.name,
        detect(raw)
    );
}

fn panic_text(e: &Box<dyn std::any::Any + Send>) -> String {
    e.downcast_ref::<String>()
        .cloned()
        .or_else(|| e.downcast_ref::<&str>().map(|s| s.to_string()))
        .unwrap_or_default()
}

/// The compactor: every line a JSON object with the fixed head; Gemini normalization and the
/// Codex sanitizer never panic and are idempotent.
fn check_compact(raw: &[u8], start_line: usize) {
    let _ = detect(raw);
    for agent in ["Claude Code", "Gemini CLI", "OpenCode"] {
        let Ok(out) = compact(raw, agent, "git-attach/0.0.0", start_line) else {
            continue;
        };
        assert!(
            out.is_empty() || out.ends_with(b"\n"),
            "compact output does not end with a newline"
        );
        for line in out.split(|&b| b == b'\n').filter(|l| !l.is_empty()) {
            let v: Value = serde_json::from_slice(line).unwrap_or_else(|e| {
                panic!(
                    "compact line is not JSON ({e}): {}",
                    String::from_utf8_lossy(line)
                )
            });
            assert_eq!(v.get("v").and_then(Value::as_u64), Some(1), "{v}");
            assert_eq!(v.get("agent").and_then(Value::as_str), Some(agent), "{v}");
            assert_eq!(
                v.get("cli_version").and_then(Value::as_str),
                Some("git-attach/0.0.0"),
                "{v}"
            );
            assert!(v.get("type").is_some_and(Value::is_string), "{v}");
        }
    }
    let normalized = normalize_for_storage("Gemini CLI", raw);
    let again = normalize_for_storage("Gemini CLI", &normalized);
    assert_eq!(
        String::from_utf8_lossy(&again),
        String::from_utf8_lossy(&normalized),
        "Gemini normalization is not idempotent"
    );
    for other in DISPLAY_TYPES.iter().filter(|d| **d != "Gemini CLI") {
        assert_eq!(&*normalize_for_storage(other, raw), raw);
    }
    let sanitized = sanitize_for_v1("Codex", raw);
    let again = sanitize_for_v1("Codex", &sanitized);
    assert_eq!(
        String::from_utf8_lossy(&again),
        String::from_utf8_lossy(&sanitized),
        "Codex sanitization is not idempotent"
    );
    assert_eq!(&*sanitize_for_v1("Claude Code", raw), raw);
}

/// Chunking: lossless for JSONL agents, fixed point after one lossy round for the documents.
fn check_chunk(raw: &[u8], max: usize) {
    match chunk_jsonl(raw, max) {
        Ok(chunks) => {
            assert!(!chunks.is_empty());
            if chunks.len() > 1 {
                for c in &chunks {
                    assert!(c.len() < max, "chunk of {} bytes > max {max}", c.len());
                }
            }
            assert_eq!(chunks.join(&b'\n'), raw, "JSONL chunks do not join back");
            assert_eq!(reassemble_for("Claude Code", &chunks), raw);
            for d in ["Codex", "Copilot CLI", "Cursor", "Factory AI Droid", "Pi"] {
                let c = chunk_for(d, raw, max).expect("the JSONL chunker succeeded");
                assert_eq!(reassemble_for(d, &c), raw, "{d}");
            }
        }
        Err(e) => {
            assert!(raw.len() > max);
            assert!(e.len + 1 > max, "{e:?} with max {max}");
        }
    }
    for d in ["Gemini CLI", "OpenCode"] {
        let Ok(chunks) = chunk_for(d, raw, max) else {
            continue;
        };
        assert!(!chunks.is_empty(), "{d}: no chunk at all");
        let whole = reassemble_for(d, &chunks);
        if chunks.len() > 1 && whole.len() > max {
            // Every chunk is a document of the narrow types; chunking its reassembly again gives
            // the same chunks (one lossy round reaches a fixed point). The reassembly may be
            // smaller than the input (dropped fields) and then fits in one chunk.
            let again = chunk_for(d, &whole, max).expect("a reassembled document chunks again");
            assert_eq!(
                again
                    .iter()
                    .map(|c| String::from_utf8_lossy(c).into_owned())
                    .collect::<Vec<_>>(),
                chunks
                    .iter()
                    .map(|c| String::from_utf8_lossy(c).into_owned())
                    .collect::<Vec<_>>(),
                "{d}: chunking is not a fixed point after one round"
            );
        } else if chunks.len() == 1 {
            assert_eq!(whole, chunks[0].as_ref());
        }
    }
}

fn redactor() -> &'static Redactor {
    static R: OnceLock<Redactor> = OnceLock::new();
    R.get_or_init(|| Redactor::load(&RuleSources::default()).expect("the built-in rules load"))
}

fn count(hay: &[u8], needle: &[u8]) -> usize {
    hay.windows(needle.len()).filter(|w| *w == needle).count()
}

/// The redaction walk: never panics, changes nothing but by writing REDACTED, keeps lines.
fn check_redaction(raw: &[u8]) {
    let r = redactor();
    let out = match r.transcript(raw) {
        Ok(out) => out,
        Err(e) => {
            // Fail closed is allowed; the message must say so.
            assert!(!e.0.is_empty());
            return;
        }
    };
    // A change writes REDACTED; output longer than its input has more of them (a secret
    // glued to an old REDACTED may swallow it, so the count alone may stay the same).
    let changed_ok = |a: &[u8], b: &[u8]| {
        a == b
            || (count(b, REDACTED.as_bytes()) > 0
                && (b.len() <= a.len()
                    || count(b, REDACTED.as_bytes()) > count(a, REDACTED.as_bytes())))
    };
    assert!(
        changed_ok(raw, &out),
        "changed without adding REDACTED:\n{}\n=>\n{}",
        String::from_utf8_lossy(raw),
        String::from_utf8_lossy(&out)
    );
    let in_lines: Vec<&[u8]> = raw.split(|&b| b == b'\n').collect();
    let out_lines: Vec<&[u8]> = out.split(|&b| b == b'\n').collect();
    if in_lines.len() == out_lines.len() {
        for (a, b) in in_lines.iter().zip(&out_lines) {
            assert!(
                changed_ok(a, b),
                "a line changed without a new REDACTED:\n{}\n=>\n{}",
                String::from_utf8_lossy(a),
                String::from_utf8_lossy(b)
            );
        }
    }
    // The plain-text entry points on the same input.
    let text = String::from_utf8_lossy(raw);
    let s = r.string(&text);
    assert!(s == text || s.contains(REDACTED));
    let b = r.bytes(raw);
    assert!(*b == *raw || count(&b, REDACTED.as_bytes()) > 0);
}

/// Redacting a redacted transcript changes nothing more.
fn check_redaction_idempotent(raw: &[u8]) {
    let r = redactor();
    let Ok(once) = r.transcript(raw) else { return };
    let twice = r
        .transcript(&once)
        .expect("redacting a redacted transcript fails");
    assert_eq!(
        String::from_utf8_lossy(&twice),
        String::from_utf8_lossy(&once),
        "redaction is not idempotent for\n{}",
        String::from_utf8_lossy(raw)
    );
}

fn check_trailer(message: &str, id: &CheckpointId) {
    let ids = trailer_ids(message);
    for (i, a) in ids.iter().enumerate() {
        assert!(CheckpointId::parse(a.as_str()).is_some());
        assert!(!ids[i + 1..].contains(a), "duplicate id {a}");
        assert!(message.contains(a.as_str()));
    }
    assert_eq!(last_trailer_id(message), ids.last().cloned());
    let amended = append_trailer(message, id);
    assert!(amended.starts_with(message.trim_end_matches('\n')));
    assert!(amended.ends_with(&format!("Entire-Checkpoint: {id}\n")));
    if !ids.contains(id) {
        assert_eq!(
            last_trailer_id(&amended).as_ref(),
            Some(id),
            "appended trailer not found last in {amended:?}"
        );
    }
    // Every id of the original survives, in order, and the new one comes after them.
    let mut expected = ids.clone();
    if !ids.contains(id) {
        expected.push(id.clone());
    }
    assert_eq!(
        trailer_ids(&amended),
        expected,
        "{message:?} -> {amended:?}"
    );
}

fn encode_config(entries: &[(String, String, Option<String>)]) -> Vec<u8> {
    let mut out = Vec::new();
    for (scope, key, value) in entries {
        out.extend_from_slice(scope.as_bytes());
        out.push(0);
        out.extend_from_slice(key.as_bytes());
        if let Some(v) = value {
            out.push(b'\n');
            out.extend_from_slice(v.as_bytes());
        }
        out.push(0);
    }
    out
}

/// A strategy-file spelling: valid with known keys, wrong types, or garbage.
#[derive(Clone, Debug)]
enum StrategyFile {
    Absent,
    Bytes(Vec<u8>),
    Json {
        enabled: Option<Value>,
        options: Option<Value>,
        extra: Vec<(String, Value)>,
    },
}

fn strategy_file() -> BoxedStrategy<StrategyFile> {
    let value = prop_oneof![
        4 => any::<bool>().prop_map(Value::Bool),
        1 => Just(Value::Null),
        1 => json_value(),
    ];
    let options = prop_oneof![
        1 => Just(Value::Null),
        1 => json_value(),
        4 => (prop::option::of(value.clone()), prop::option::of(prop_oneof![number(), s(text()), Just(Value::from("2"))]), vec((key(), json_value()), 0..2))
            .prop_map(|(v2, ver, extra)| object(vec![("checkpoints_v2", v2), ("checkpoints_version", ver)], extra)),
    ];
    prop_oneof![
        1 => Just(StrategyFile::Absent),
        1 => vec(any::<u8>(), 0..64).prop_map(StrategyFile::Bytes),
        4 => (prop::option::of(value), prop::option::of(options), vec((key(), json_value()), 0..3))
            .prop_map(|(enabled, options, extra)| StrategyFile::Json { enabled, options, extra }),
    ]
    .boxed()
}

impl StrategyFile {
    fn bytes(&self) -> Option<Vec<u8>> {
        match self {
            StrategyFile::Absent => None,
            StrategyFile::Bytes(b) => Some(b.clone()),
            StrategyFile::Json {
                enabled,
                options,
                extra,
            } => {
                let mut m = Map::new();
                for (k, v) in extra {
                    m.insert(k.clone(), v.clone());
                }
                if let Some(e) = enabled {
                    m.insert("enabled".into(), e.clone());
                }
                if let Some(o) = options {
                    m.insert("strategy_options".into(), o.clone());
                }
                serde_json::to_vec_pretty(&Value::Object(m)).ok()
            }
        }
    }

    /// (checkpoints_v2, enabled) this file sets, per `product.md` §3: nothing when it is not
    /// valid JSON or a known key has the wrong type.
    fn expected(&self) -> Option<(Option<bool>, Option<bool>)> {
        let bytes = self.bytes()?;
        let Ok(Value::Object(top)) = serde_json::from_slice::<Value>(&bytes) else {
            return None;
        };
        let enabled = match top.get("enabled") {
            None => None,
            Some(Value::Bool(b)) => Some(*b),
            Some(_) => return None,
        };
        let mut v2 = None;
        match top.get("strategy_options") {
            None | Some(Value::Null) => {}
            Some(Value::Object(o)) => {
                match o.get("checkpoints_v2") {
                    None => {}
                    Some(Value::Bool(b)) => v2 = Some(*b),
                    Some(_) => return None,
                }
                if let Some(ver) = o.get("checkpoints_version") {
                    let n = match ver {
                        Value::Number(n) => n.as_f64(),
                        Value::String(s) => s.trim().parse::<f64>().ok(),
                        _ => None,
                    };
                    match n {
                        Some(n) if n >= 2.0 => v2 = Some(true),
                        Some(_) => {}
                        None => return None,
                    }
                }
            }
            Some(_) => return None,
        }
        Some((v2, enabled))
    }
}

fn git_bool(v: Option<&str>) -> Option<bool> {
    let Some(v) = v else { return Some(true) };
    match v.trim().to_ascii_lowercase().as_str() {
        "true" | "yes" | "on" | "1" => Some(true),
        "false" | "no" | "off" | "0" | "" => Some(false),
        _ => None,
    }
}

fn check_settings(
    root: &Path,
    files: &[StrategyFile; 2],
    config: &[(String, String, Option<String>)],
    v2_flag: Option<bool>,
) {
    let dir = root.join(".entire");
    std::fs::create_dir_all(&dir).expect("mkdir .entire");
    for (name, f) in ["settings.json", "settings.local.json"].iter().zip(files) {
        let p = dir.join(name);
        match f.bytes() {
            Some(b) => std::fs::write(&p, b).expect("write a strategy file"),
            None => {
                let _ = std::fs::remove_file(&p);
            }
        }
    }
    let entries = parse_config_z(&encode_config(config));
    let args = Args {
        v2: v2_flag,
        ..Args::default()
    };
    let s = Settings::from_sources(root, &entries, &args, &EnvIdentity::default());
    let _ = s.describe();
    // The oracle: product.md §3 precedence.
    let mut v2 = false;
    let mut enabled = true;
    for f in files {
        if let Some((a, b)) = f.expected() {
            v2 = a.unwrap_or(v2);
            enabled = b.unwrap_or(enabled);
        }
    }
    for e in &entries {
        match e.key.as_str() {
            "attach.checkpointsv2" => v2 = git_bool(e.value.as_deref()).unwrap_or(v2),
            "attach.enabled" => enabled = git_bool(e.value.as_deref()).unwrap_or(enabled),
            _ => {}
        }
    }
    v2 = v2_flag.unwrap_or(v2);
    assert_eq!(
        s.checkpoints_v2.value, v2,
        "checkpoints_v2 for {files:?} {config:?} {v2_flag:?}"
    );
    assert_eq!(s.enabled.value, enabled, "enabled for {files:?} {config:?}");
    assert!(s.agent_timeout.value > 0);
    assert!(!s.identity.name.is_empty() && !s.identity.email.is_empty());
}

fn same_json(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => x.as_f64() == y.as_f64(),
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(a, b)| same_json(a, b))
        }
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len()
                && x.iter()
                    .zip(y)
                    .all(|((ka, va), (kb, vb))| ka == kb && same_json(va, vb))
        }
        _ => a == b,
    }
}

fn check_gojson(v: &Value, s: &str, bytes: &[u8], f: f64) {
    for html in [false, true] {
        let q = gojson::quote(s, html);
        let back: String = serde_json::from_str(&q).unwrap_or_else(|e| panic!("{q}: {e}"));
        assert_eq!(back, s);
        let mut out = Vec::new();
        gojson::write_bytes_as_str(&mut out, bytes, html);
        let back: String = serde_json::from_slice(&out)
            .unwrap_or_else(|e| panic!("{}: {e}", String::from_utf8_lossy(&out)));
        if let Ok(valid) = std::str::from_utf8(bytes) {
            assert_eq!(back, valid);
        }
    }
    let compact_text = serde_json::to_vec(v).unwrap_or_default();
    let pretty_text = serde_json::to_vec_pretty(v).unwrap_or_default();
    let mut c = Vec::new();
    gojson::compact_raw(&mut c, &pretty_text);
    let back: Value = serde_json::from_slice(&c)
        .unwrap_or_else(|e| panic!("{}: {e}", String::from_utf8_lossy(&c)));
    assert!(same_json(&back, v), "compact_raw changed the value");
    let indented = gojson::indent_json(&compact_text, "", "  ");
    let back: Value = serde_json::from_slice(&indented)
        .unwrap_or_else(|e| panic!("{}: {e}", String::from_utf8_lossy(&indented)));
    assert!(same_json(&back, v), "indent_json changed the value");
    let metadata_layout = gojson::value_to_vec_indented(v);
    let back: Value = serde_json::from_slice(&metadata_layout)
        .unwrap_or_else(|e| panic!("{}: {e}", String::from_utf8_lossy(&metadata_layout)));
    assert!(
        same_json(&back, v),
        "value_to_vec_indented changed the value"
    );
    // Raw bytes through the raw-text functions: no panic.
    let mut sink = Vec::new();
    gojson::compact_raw(&mut sink, bytes);
    let _ = gojson::indent_json(bytes, "", "\t");
    if f.is_finite() {
        let text = gojson::format_float(f);
        assert_eq!(text.parse::<f64>().ok(), Some(f), "{text}");
    }
}

// ---- targets: proptest ---------------------------------------------------------------------

proptest! {
    #![proptest_config(config("agents"))]
    /// `session_info` of all eight built-ins and `detect_from_content` on any transcript.
    #[test]
    fn fuzz_agents(raw in transcript()) {
        check_agents(&raw);
    }
}

proptest! {
    #![proptest_config(config("compact"))]
    /// `compact` (every family) + `detect`, Gemini normalization, Codex sanitizer.
    #[test]
    fn fuzz_compact(raw in transcript(), start in prop_oneof![4 => Just(0usize), 1 => 0usize..6]) {
        check_compact(&raw, start);
    }
}

proptest! {
    #![proptest_config(config("chunk"))]
    /// Chunk/reassemble round trips with a small maximum so that chunking happens.
    #[test]
    fn fuzz_chunk(raw in transcript(), max in 1usize..400) {
        check_chunk(&raw, max);
    }
}

proptest! {
    #![proptest_config(config("trailer"))]
    /// Trailer parsing never panics; an appended trailer is the one found last.
    #[test]
    fn fuzz_trailer(
        lines in vec(prop_oneof![
            3 => "[ -~]{0,30}",
            2 => Just(String::new()),
            2 => "[0-9a-f]{10,14}".prop_map(|h| format!("Entire-Checkpoint: {h}")),
            1 => "[0-9a-fA-F]{12}".prop_map(|h| format!("Entire-Checkpoint:\t {h} ")),
            1 => "[0-9a-f]{12}".prop_map(|h| format!("# Entire-Checkpoint: {h}")),
            1 => "[0-9a-f]{12}".prop_map(|h| format!("xEntire-Checkpoint: {h}x")),
            1 => select(&["Signed-off-by: A U Thor <a@example.com>", "Co-authored-by: B <b@x>", "# comment", "Entire-Checkpoint:", "Entire-Checkpoint: ", "Key: value", "    indented: x", "\r", "feat: add hello"][..]).prop_map(str::to_string),
            1 => any::<String>(),
        ], 0..8),
        trailing in 0usize..3,
        id in "[0-9a-f]{12}",
    ) {
        let mut message = lines.join("\n");
        message.push_str(&"\n".repeat(trailing));
        let id = CheckpointId::parse(&id).expect("a valid id");
        check_trailer(&message, &id);
    }
}

proptest! {
    #![proptest_config(config("settings"))]
    /// `parse_config_z` on any bytes and on encoded records; `Settings::from_sources` with any
    /// strategy files agrees with the precedence of `product.md` §3.
    #[test]
    fn fuzz_settings(
        raw in vec(any::<u8>(), 0..200),
        files in [strategy_file(), strategy_file()],
        config in vec((
            select(&["system", "global", "local", "worktree", "command"][..]).prop_map(str::to_string),
            prop_oneof![
                4 => select(&["attach.checkpointsV2", "attach.enabled", "attach.agent", "attach.remote", "attach.agentTimeout", "attach.redactionRules", "user.name", "user.email", "attach.CheckpointsV2"][..]).prop_map(str::to_string),
                1 => "[a-z]{1,6}\\.[a-zA-Z]{1,10}",
            ],
            prop::option::of(prop_oneof![
                select(&["true", "false", "yes", "no", "on", "off", "1", "0", "", " TRUE ", "maybe", "30", "-1", "~/rules.toml", "rules.toml", "/abs/rules.toml", "99999999999999999999"][..]).prop_map(str::to_string),
                "[^\\x00]{0,12}",
            ]),
        ), 0..6),
        v2_flag in prop::option::of(any::<bool>()),
    ) {
        for e in parse_config_z(&raw) {
            prop_assert!(!e.scope.is_empty());
            prop_assert!(!e.key.contains('\0'));
        }
        let entries = parse_config_z(&encode_config(&config));
        prop_assert_eq!(entries.len(), config.len());
        for (e, (scope, key, value)) in entries.iter().zip(&config) {
            prop_assert_eq!(&e.scope, scope);
            prop_assert_eq!(&e.key, &key.to_ascii_lowercase());
            prop_assert_eq!(&e.value, value);
        }
        let dir = tempfile::tempdir().expect("a temp dir");
        check_settings(dir.path(), &files, &config, v2_flag);
    }
}

proptest! {
    #![proptest_config(config("redaction"))]
    /// The redaction walk on any transcript: no panic, changes only by adding REDACTED, lines kept.
    #[test]
    fn fuzz_redaction(raw in transcript()) {
        check_redaction(&raw);
    }

    /// A planted secret in a walked string of a structured transcript never survives, and
    /// redaction is idempotent there.
    #[test]
    fn fuzz_redaction_planted_secret(
        lines in vec(agent_line(), 1..6),
        at in any::<usize>(),
        secret in secret(),
        key in select(&["text", "content", "command", "message", "output", "prompt"][..]),
        prefix in select(&["", "use ", "export TOKEN=", "\"", "\n", "\\n"][..]),
    ) {
        let mut lines = lines;
        let n = lines.len();
        if let Value::Object(m) = &mut lines[at % n] {
            m.insert(key.to_string(), Value::String(format!("{prefix}{secret} now")));
            // Image and base64 objects are deliberately not scanned (redaction.md §4.3).
            m.insert("type".to_string(), Value::from("user"));
        }
        let bytes = lines
            .iter()
            .map(|l| serde_json::to_vec(l).unwrap_or_default())
            .collect::<Vec<_>>()
            .join(&b'\n');
        let out = redactor().transcript(&bytes).expect("redaction succeeds on valid JSONL");
        prop_assert!(
            count(&out, secret.as_bytes()) == 0,
            "secret {} survived in {}",
            secret,
            String::from_utf8_lossy(&out)
        );
        check_redaction(&bytes);
        check_redaction_idempotent(&bytes);
    }
}

proptest! {
    #![proptest_config(config("gojson"))]
    /// Go's JSON encoding: strings and values round trip through serde_json; raw-text helpers
    /// never panic on any bytes; floats round trip.
    #[test]
    fn fuzz_gojson(v in json_value(), s in any::<String>(), bytes in vec(any::<u8>(), 0..120), f in any::<f64>()) {
        check_gojson(&v, &s, &bytes, f);
    }
}

/// `TokenUsage::total` of counters read from a transcript must not overflow: the attach summary
/// line ("12.3k tokens") calls it on whatever the transcript claims.
#[test]
fn token_total_of_huge_counters_does_not_overflow() {
    let raw = std::fs::read(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fuzz/corpus/claude-usage-overflow"),
    )
    .expect("corpus file");
    let agent = Agent::builtin("claude-code").expect("claude-code");
    let info = agent::session_info(&ctx(), &agent, &raw, Path::new("/nonexistent/x.jsonl"));
    let usage = info.token_usage.expect("token usage");
    assert_eq!(
        usage.total(),
        u64::MAX,
        "a total that does not fit saturates"
    );
}

/// Token counters summed over a transcript must not overflow (saturate, or ignore absurd
/// values): in a debug build `git attach` panics, in a release build the count wraps.
#[test]
fn token_sums_of_huge_counters_do_not_overflow() {
    const MAX: u64 = u64::MAX;
    let cases: [(&str, String); 5] = [
        (
            "opencode",
            format!(
                r#"{{"info":{{"id":"s"}},"messages":[{{"info":{{"id":"a","role":"assistant","time":{{"created":1}},"tokens":{{"input":{MAX},"output":1,"reasoning":0,"cache":{{"read":0,"write":0}}}}}},"parts":[]}},{{"info":{{"id":"b","role":"assistant","time":{{"created":2}},"tokens":{{"input":{MAX},"output":1,"reasoning":0,"cache":{{"read":0,"write":0}}}}}},"parts":[]}}]}}"#
            ),
        ),
        (
            "gemini",
            format!(
                r#"{{"sessionId":"s","messages":[{{"id":"a","type":"gemini","content":"x","tokens":{{"input":{MAX},"output":1}}}},{{"id":"b","type":"gemini","content":"y","tokens":{{"input":{MAX},"output":1}}}}]}}"#
            ),
        ),
        (
            "pi",
            format!(
                "{{\"type\":\"session\",\"version\":3,\"id\":\"p\"}}\n{{\"type\":\"message\",\"message\":{{\"role\":\"assistant\",\"content\":[],\"usage\":{{\"input\":{MAX}}}}}}}\n{{\"type\":\"message\",\"message\":{{\"role\":\"assistant\",\"content\":[],\"usage\":{{\"input\":{MAX}}}}}}}\n"
            ),
        ),
        (
            "copilot-cli",
            format!(
                "{{\"type\":\"assistant.message\",\"data\":{{\"outputTokens\":{MAX}}}}}\n{{\"type\":\"assistant.message\",\"data\":{{\"outputTokens\":{MAX}}}}}\n"
            ),
        ),
        (
            "claude-code",
            format!(
                "{{\"type\":\"assistant\",\"message\":{{\"id\":\"m1\",\"role\":\"assistant\",\"content\":[],\"usage\":{{\"input_tokens\":{MAX},\"output_tokens\":1}}}}}}\n{{\"type\":\"assistant\",\"message\":{{\"id\":\"m2\",\"role\":\"assistant\",\"content\":[],\"usage\":{{\"input_tokens\":{MAX},\"output_tokens\":1}}}}}}\n"
            ),
        ),
    ];
    let mut panicked = Vec::new();
    for (name, raw) in &cases {
        let agent = Agent::builtin(name).expect("built-in");
        let r = std::panic::catch_unwind(|| {
            agent::session_info(
                &ctx(),
                &agent,
                raw.as_bytes(),
                Path::new("/nonexistent/x.jsonl"),
            )
        });
        match r {
            Ok(info) => {
                let usage = info.token_usage.expect("token usage");
                if usage.input_tokens != MAX && usage.output_tokens != MAX {
                    panicked.push(format!("{name}: wrapped to {usage:?}"));
                }
            }
            Err(e) => panicked.push(format!("{name}: {}", panic_text(&e))),
        }
    }
    assert!(panicked.is_empty(), "{panicked:#?}");
}

/// A Gemini/OpenCode document larger than the chunk size always gives at least one chunk:
/// zero chunks means the v1 writer stores no transcript at all for the session.
#[test]
fn document_without_messages_chunks_to_something() {
    let doc = format!(
        r#"{{"sessionId":"s","messages":[],"pad":"{}"}}"#,
        "x".repeat(100)
    );
    for d in ["Gemini CLI", "OpenCode"] {
        let chunks = chunk_for(d, doc.as_bytes(), 50).expect("chunks");
        assert!(!chunks.is_empty(), "{d}: no chunk at all");
    }
}

/// Every corpus file through every target (the corpus is also sampled by the generators).
#[test]
fn corpus_runs_through_every_target() {
    let files = corpus_files();
    assert!(
        files.len() >= 10,
        "the corpus in tests/fuzz/corpus is missing"
    );
    let id = CheckpointId::parse("a3b2c4d5e6f7").expect("valid");
    let dir = tempfile::tempdir().expect("a temp dir");
    for (name, bytes) in &files {
        eprintln!("corpus: {name}");
        check_agents(bytes);
        for start in 0..3 {
            check_compact(bytes, start);
        }
        for max in [1, 2, 7, 64, 1000] {
            check_chunk(bytes, max);
        }
        check_redaction(bytes);
        check_trailer(&String::from_utf8_lossy(bytes), &id);
        let _ = parse_config_z(bytes);
        let files = [StrategyFile::Bytes(bytes.clone()), StrategyFile::Absent];
        check_settings(dir.path(), &files, &[], None);
    }
}
