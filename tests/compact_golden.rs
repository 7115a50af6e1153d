//! The six golden pairs of `compact-format.md` §13.1, compared as in §13.2: line by line, as JSON
//! values (objects unordered, numbers by value), with the options Entire's own tests use.

use std::path::PathBuf;

use git_attach::transcript::compact::{compact, detect, Format};
use serde_json::Value;

fn fixture(name: &str) -> Vec<u8> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/compact")
        .join(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("reading {}: {e}", path.display()))
}

/// Numbers compare by value as 64-bit floats, like Entire's generic decode.
fn normalize(v: Value) -> Value {
    match v {
        Value::Number(n) => n
            .as_f64()
            .and_then(serde_json::Number::from_f64)
            .map(Value::Number)
            .unwrap_or(Value::Null),
        Value::Array(items) => Value::Array(items.into_iter().map(normalize).collect()),
        Value::Object(map) => {
            let mut sorted: Vec<(String, Value)> =
                map.into_iter().map(|(k, v)| (k, normalize(v))).collect();
            sorted.sort_by(|a, b| a.0.cmp(&b.0));
            Value::Object(sorted.into_iter().collect())
        }
        other => other,
    }
}

fn json_lines(bytes: &[u8]) -> Vec<Value> {
    String::from_utf8_lossy(bytes)
        .split('\n')
        .filter(|l| !l.trim().is_empty())
        .map(|l| normalize(serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}"))))
        .collect()
}

fn check(prefix: &str, agent: &str, format: Format, expected_lines: usize) {
    let input = fixture(&format!("{prefix}_full.jsonl"));
    assert_eq!(
        detect(&input),
        format,
        "detected format of {prefix}_full.jsonl"
    );
    let out = compact(&input, agent, "0.5.1", 0).expect("compaction succeeds");
    let got = json_lines(&out);
    let want = json_lines(&fixture(&format!("{prefix}_expected.jsonl")));
    assert_eq!(want.len(), expected_lines, "expected file of {prefix}");
    assert_eq!(got.len(), want.len(), "line count for {prefix}");
    for (i, (g, w)) in got.iter().zip(&want).enumerate() {
        assert_eq!(g, w, "{prefix} line {}", i + 1);
    }
    // Every produced line is a compact object followed by `\n`.
    assert!(out.ends_with(b"\n"));
    assert!(!out.windows(2).any(|w| w == b"\n\n"));
}

#[test]
fn claude_golden_pair_matches() {
    check("claude", "claude-code", Format::Jsonl, 10);
}

#[test]
fn codex_golden_pair_matches() {
    check("codex", "codex", Format::Codex, 4);
}

#[test]
fn copilot_golden_pair_matches() {
    check("copilot", "copilot-cli", Format::Copilot, 4);
}

#[test]
fn droid_golden_pair_matches() {
    check("droid", "factoryai-droid", Format::Droid, 8);
}

#[test]
fn gemini_golden_pair_matches() {
    check("gemini", "gemini-cli", Format::Gemini, 5);
}

#[test]
fn opencode_golden_pair_matches() {
    check("opencode", "opencode", Format::OpenCode, 21);
}
