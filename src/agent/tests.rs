//! Tests of the agent module: every agent's location rules and metadata (numbers computed
//! independently from the fixtures in `tests/fixtures/compact/`), auto-detection, the "not found"
//! report, listing, content detection and the external-agent protocol with small shell plugins.

use std::fs;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use super::fsutil::{cursor_project_name, pi_project_name, sanitize_path, sha256_hex};
use super::testutil::{fixture, fixture_path, put, touch, Env};
use super::*;
use crate::checkpoint::metadata::TokenUsage;

const ID: &str = "8b89dece-0f9b-4965-8436-fcec80f5ea06";

fn agent(name: &str) -> Agent {
    Agent::builtin(name).expect("built-in agent")
}

fn usage(input: u64, creation: u64, read: u64, output: u64, calls: u64) -> TokenUsage {
    TokenUsage {
        input_tokens: input,
        cache_creation_tokens: creation,
        cache_read_tokens: read,
        output_tokens: output,
        api_call_count: calls,
        subagent_tokens: None,
    }
}

fn info_of(name: &str, raw: &[u8], path: &std::path::Path) -> SessionInfo {
    session_info(&Env::new().ctx, &agent(name), raw, path)
}

// ---------------------------------------------------------------- registry

#[test]
fn builtin_names_are_sorted_and_exclude_vogon() {
    let names = builtin_names();
    let mut sorted = names.to_vec();
    sorted.sort();
    assert_eq!(names, sorted.as_slice());
    assert_eq!(names.len(), 8);
    assert!(!names.contains(&"vogon"));
    assert!(names.contains(&"pi"));
}

#[test]
fn display_types_match_entire() {
    let pairs = [
        ("claude-code", "Claude Code"),
        ("codex", "Codex"),
        ("copilot-cli", "Copilot CLI"),
        ("cursor", "Cursor"),
        ("factoryai-droid", "Factory AI Droid"),
        ("gemini", "Gemini CLI"),
        ("opencode", "OpenCode"),
        ("pi", "Pi"),
    ];
    let env = Env::new();
    for (name, display) in pairs {
        let a = Agent::by_name(&env.ctx, name).unwrap();
        assert_eq!(a.display_type, display);
        assert_eq!(Agent::by_display_type(display).unwrap().name, name);
    }
}

#[test]
fn unknown_agent_lists_the_available_names() {
    let env = Env::new();
    let err = Agent::by_name(&env.ctx, "nope").unwrap_err();
    assert_eq!(
        err.to_string(),
        "agent \"nope\" not available: unknown agent: nope (available: [claude-code codex \
         copilot-cli cursor factoryai-droid gemini opencode pi])"
    );
}

#[test]
fn invalid_session_ids_are_rejected_with_entire_messages() {
    let env = Env::new();
    let claude = agent("claude-code");
    let e = locate(&env.ctx, &claude, "  ").unwrap_err();
    assert_eq!(
        e.to_string(),
        "invalid session ID: session ID cannot be empty"
    );
    let e = locate(&env.ctx, &claude, "a/b").unwrap_err();
    assert_eq!(
        e.to_string(),
        "invalid session ID: invalid session ID \"a/b\": contains path separators"
    );
    assert!(locate(&env.ctx, &claude, "..\\x").is_err());
}

// ---------------------------------------------------------------- claude-code

#[test]
fn claude_path_rule_uses_the_sanitized_root() {
    let env = Env::new();
    let dir = env
        .home
        .join(".claude/projects")
        .join(sanitize_path(&env.repo));
    assert!(sanitize_path(&env.repo).ends_with("-work-my-repo-v2"));
    let path = put(&dir.join(format!("{ID}.jsonl")), b"{}\n");
    let found = locate(&env.ctx, &agent("claude-code"), ID).unwrap();
    assert_eq!(found.path, path);
    assert_eq!(found.agent.name, "claude-code");
    assert!(!found.auto_detected);
}

#[test]
fn claude_config_dir_is_searched_first_and_home_still_counts() {
    let mut env = Env::new();
    let config = env.home.join("elsewhere");
    env.set("CLAUDE_CONFIG_DIR", &config);
    let name = sanitize_path(&env.repo);
    let in_home = put(
        &env.home
            .join(".claude/projects")
            .join(&name)
            .join(format!("{ID}.jsonl")),
        b"{}",
    );
    assert_eq!(
        locate(&env.ctx, &agent("claude-code"), ID).unwrap().path,
        in_home
    );
    let in_config = put(
        &config
            .join("projects")
            .join(&name)
            .join(format!("{ID}.jsonl")),
        b"{}",
    );
    assert_eq!(
        locate(&env.ctx, &agent("claude-code"), ID).unwrap().path,
        in_config
    );
}

#[test]
fn claude_fallback_scans_every_base_up_to_four_levels() {
    let mut env = Env::new();
    env.set("CLAUDE_CONFIG_DIR", &env.home.join("cfg"));
    // A session started in another checkout: a different project directory, in ~/.claude only.
    let other = put(
        &env.home
            .join(".claude/projects/-somewhere-else/a/b/c")
            .join(format!("{ID}.jsonl")),
        b"{}",
    );
    let found = locate(&env.ctx, &agent("claude-code"), ID).unwrap();
    assert_eq!(found.path, other);
    assert!(!found.auto_detected);
    // Five levels below the base is out of reach.
    fs::remove_file(&other).unwrap();
    put(
        &env.home
            .join(".claude/projects/p/a/b/c/d")
            .join(format!("{ID}.jsonl")),
        b"{}",
    );
    assert!(locate(&env.ctx, &agent("claude-code"), ID).is_err());
}

#[test]
fn claude_test_override_replaces_the_session_directory() {
    let mut env = Env::new();
    let dir = env.home.join("override");
    env.set("ENTIRE_TEST_CLAUDE_PROJECT_DIR", &dir);
    let p = put(&dir.join(format!("{ID}.jsonl")), b"{}");
    assert_eq!(locate(&env.ctx, &agent("claude-code"), ID).unwrap().path, p);
}

#[test]
fn claude_metadata_from_the_real_transcript() {
    let raw = fixture("claude_full.jsonl");
    let info = info_of("claude-code", &raw, &fixture_path("claude_full.jsonl"));
    assert_eq!(
        info.first_prompt.as_deref(),
        Some("I need to revert a change to my last commit message")
    );
    assert_eq!(info.turns, 4);
    assert_eq!(info.model, "claude-opus-4-6");
    // 8 assistant lines, 6 distinct message ids; per id the line with the highest output.
    assert_eq!(info.token_usage, Some(usage(11, 11651, 92276, 392, 6)));
    assert!(info.files_touched.is_empty());
}

#[test]
fn claude_files_touched_and_empty_transcript() {
    let raw = br#"{"type":"assistant","message":{"id":"m","content":[{"type":"tool_use","name":"Write","input":{"file_path":"a.rs"}},{"type":"tool_use","name":"NotebookEdit","input":{"notebook_path":"n.ipynb"}},{"type":"tool_use","name":"Edit","input":{"file_path":"a.rs"}},{"type":"tool_use","name":"Read","input":{"file_path":"r.rs"}}]}}"#;
    let info = info_of("claude-code", raw, &PathBuf::from("x.jsonl"));
    assert_eq!(info.files_touched, vec!["a.rs", "n.ipynb"]);
    let empty = info_of("claude-code", b"", &PathBuf::from("x.jsonl"));
    assert_eq!(empty.token_usage, Some(TokenUsage::default()));
    assert_eq!(empty.first_prompt, None);
    assert_eq!(empty.turns, 0);
}

// ---------------------------------------------------------------- codex

const CODEX_ID: &str = "019d4f9e-feac-7be2-a885-bf0727a50a92";

#[test]
fn codex_home_override_and_dated_layout() {
    let mut env = Env::new();
    let home = env.home.join("codex-home");
    env.set("CODEX_HOME", &home);
    let dated = put(
        &home
            .join("sessions/2026/04/01")
            .join(format!("rollout-2026-04-01T23-31-26-{CODEX_ID}.jsonl")),
        b"{}",
    );
    let found = locate(&env.ctx, &agent("codex"), CODEX_ID).unwrap();
    assert_eq!(found.path, dated);
    // The flat glob comes first; of several matches the lexicographically last wins.
    put(
        &home
            .join("sessions")
            .join(format!("rollout-a-{CODEX_ID}.jsonl")),
        b"{}",
    );
    let flat = put(
        &home
            .join("sessions")
            .join(format!("rollout-b-{CODEX_ID}.jsonl")),
        b"{}",
    );
    assert_eq!(
        locate(&env.ctx, &agent("codex"), CODEX_ID).unwrap().path,
        flat
    );
}

#[test]
fn codex_archived_sessions_and_odd_ids() {
    let env = Env::new();
    let archived = put(
        &env.home
            .join(".codex/archived_sessions/2026/01/02")
            .join(format!("rollout-x-{CODEX_ID}.jsonl")),
        b"{}",
    );
    assert_eq!(
        locate(&env.ctx, &agent("codex"), CODEX_ID).unwrap().path,
        archived
    );
    // An id outside [A-Za-z0-9_-] maps to <dir>/<id>.jsonl.
    let odd = put(&env.home.join(".codex/sessions/a.b.jsonl"), b"{}");
    assert_eq!(locate(&env.ctx, &agent("codex"), "a.b").unwrap().path, odd);
}

/// The Codex fixture with the token lines in the real cumulative shape, a `turn_context` model
/// and an `apply_patch` call.
fn codex_session() -> Vec<u8> {
    let raw = String::from_utf8(fixture("codex_full.jsonl")).unwrap();
    let mut out = String::new();
    let totals = [(500, 0, 0, 0), (1000, 400, 80, 20), (1600, 900, 230, 40)];
    let mut k = 0;
    for line in raw.lines() {
        if line.contains("\"type\":\"token_count\"") {
            let (i, c, o, r) = totals[k];
            k += 1;
            out.push_str(&format!(
                "{{\"timestamp\":\"t\",\"type\":\"event_msg\",\"payload\":{{\"type\":\"token_count\",\"info\":{{\"total_token_usage\":{{\"input_tokens\":{i},\"cached_input_tokens\":{c},\"output_tokens\":{o},\"reasoning_output_tokens\":{r},\"total_tokens\":0}},\"last_token_usage\":{{\"input_tokens\":1}}}}}}}}\n"
            ));
        } else if line.contains("\"type\":\"turn_context\"") {
            out.push_str(r#"{"timestamp":"t","type":"turn_context","payload":{"turn_id":"turn-1","model":"gpt-5.1-codex"}}"#);
            out.push('\n');
        } else {
            out.push_str(line);
            out.push('\n');
        }
    }
    out.push_str(
        r#"{"timestamp":"t","type":"event_msg","payload":{"type":"token_count","info":null}}"#,
    );
    out.push('\n');
    out.push_str(r#"{"timestamp":"t","type":"response_item","payload":{"type":"custom_tool_call","name":"apply_patch","call_id":"c","input":"*** Begin Patch\n*** Add File: a.txt\n+x\n*** Update File: src/b.rs\n*** Add File: a.txt\n*** End Patch"}}"#);
    out.push('\n');
    out.into_bytes()
}

#[test]
fn codex_metadata_uses_the_last_cumulative_counters() {
    let info = info_of("codex", &codex_session(), &PathBuf::from("r.jsonl"));
    // The AGENTS.md / environment-context message is injected context, not a prompt.
    assert_eq!(
        info.first_prompt.as_deref(),
        Some("create a hello.txt file with a greeting")
    );
    assert_eq!(info.turns, 1);
    assert_eq!(info.model, "gpt-5.1-codex");
    // Last total: input 1600, cached 900, output 230 + reasoning 40; three token events.
    assert_eq!(info.token_usage, Some(usage(1600, 0, 900, 270, 3)));
    assert_eq!(info.files_touched, vec!["a.txt", "src/b.rs"]);
    // The fixture itself has only top-level counters: no cumulative totals, no usage.
    let plain = info_of(
        "codex",
        &fixture("codex_full.jsonl"),
        &PathBuf::from("r.jsonl"),
    );
    assert_eq!(plain.token_usage, None);
    assert_eq!(plain.model, "");
}

// ---------------------------------------------------------------- copilot-cli

const COPILOT_ID: &str = "b4257b63-a7e8-4e3f-9bf0-019c98db1744";

#[test]
fn copilot_location_and_shutdown_aggregate() {
    let env = Env::new();
    let raw = fixture("copilot_full.jsonl");
    let path = put(
        &env.home
            .join(".copilot/session-state")
            .join(COPILOT_ID)
            .join("events.jsonl"),
        &raw,
    );
    let found = locate(&env.ctx, &agent("copilot-cli"), COPILOT_ID).unwrap();
    assert_eq!(found.path, path);
    let info = session_info(&env.ctx, &found.agent, &raw, &path);
    assert_eq!(
        info.first_prompt.as_deref(),
        Some("Create a dir that is called \"test-copilot\" and make an md file stating the dir is for testing copilot")
    );
    assert_eq!(info.turns, 1);
    assert_eq!(info.model, "claude-sonnet-4.6");
    // modelMetrics of the one model: 62754 in, 311 out, 41648 cache read, 0 write, 3 requests.
    assert_eq!(info.token_usage, Some(usage(62754, 0, 41648, 311, 3)));
    assert_eq!(
        info.files_touched,
        vec!["/Users/private/entire/test-repos/test-repo/test-copilot/README.md"]
    );
}

#[test]
fn copilot_without_shutdown_sums_message_output() {
    let raw = fixture("copilot_full.jsonl");
    let text = String::from_utf8(raw).unwrap();
    let cut: String = text
        .lines()
        .filter(|l| !l.contains("\"session.shutdown\""))
        .map(|l| format!("{l}\n"))
        .collect();
    let info = info_of(
        "copilot-cli",
        cut.as_bytes(),
        &PathBuf::from("events.jsonl"),
    );
    // assistant.message outputTokens 166 + 112 + 33, three calls.
    assert_eq!(info.token_usage, Some(usage(0, 0, 0, 311, 3)));
    let model_change = format!(
        "{cut}{}\n",
        r#"{"type":"session.model_change","data":{"newModel":"gpt-5"}}"#
    );
    assert_eq!(
        info_of("copilot-cli", model_change.as_bytes(), &PathBuf::from("e")).model,
        "gpt-5"
    );
}

// ---------------------------------------------------------------- cursor

const CURSOR_TRANSCRIPT: &[u8] = br#"{"role":"user","message":{"content":[{"type":"text","text":"<user_query>\nadd a README\n</user_query>"}]}}
{"role":"assistant","message":{"content":[{"type":"text","text":"Done."}]}}
{"role":"user","message":{"content":[{"type":"text","text":"<user_query>thanks</user_query>"}]}}
"#;

#[test]
fn cursor_nested_flat_and_fallback_locations() {
    let env = Env::new();
    let dir = env
        .home
        .join(".cursor/projects")
        .join(cursor_project_name(&env.repo))
        .join("agent-transcripts");
    let flat = put(&dir.join("c1.jsonl"), CURSOR_TRANSCRIPT);
    assert_eq!(locate(&env.ctx, &agent("cursor"), "c1").unwrap().path, flat);
    let nested = put(&dir.join("c2/c2.jsonl"), CURSOR_TRANSCRIPT);
    assert_eq!(
        locate(&env.ctx, &agent("cursor"), "c2").unwrap().path,
        nested
    );
    let other = put(
        &env.home
            .join(".cursor/projects/other/agent-transcripts/c3.jsonl"),
        b"{}",
    );
    assert_eq!(
        locate(&env.ctx, &agent("cursor"), "c3").unwrap().path,
        other
    );
}

#[test]
fn cursor_metadata_strips_user_query_tags() {
    let info = info_of("cursor", CURSOR_TRANSCRIPT, &PathBuf::from("c.jsonl"));
    assert_eq!(info.first_prompt.as_deref(), Some("add a README"));
    assert_eq!(info.turns, 2);
    assert_eq!(info.model, "");
    assert_eq!(info.token_usage, None);
}

// ---------------------------------------------------------------- factoryai-droid

#[test]
fn droid_location_settings_model_and_envelopes() {
    let env = Env::new();
    let dir = env
        .home
        .join(".factory/sessions")
        .join(sanitize_path(&env.repo));
    let raw = fixture("droid_full.jsonl");
    let path = put(&dir.join("d1.jsonl"), &raw);
    put(
        &dir.join("d1.settings.json"),
        br#"{"model":"custom:claude-sonnet-4-5","reasoningEffort":"none"}"#,
    );
    let found = locate(&env.ctx, &agent("factoryai-droid"), "d1").unwrap();
    assert_eq!(found.path, path);
    let info = session_info(&env.ctx, &found.agent, &raw, &path);
    assert_eq!(
        info.first_prompt.as_deref(),
        Some("create a markdown file called hello.md with a greeting")
    );
    // Three user envelopes with text (one mixes a tool result with "looks good so far").
    assert_eq!(info.turns, 3);
    assert_eq!(info.model, "claude-sonnet-4-5");
    // No inner message ids in this fixture: an all-zero usage, as Entire's calculator.
    assert_eq!(info.token_usage, Some(TokenUsage::default()));
    assert_eq!(info.files_touched, vec!["hello.md"]);
}

#[test]
fn droid_tokens_are_keyed_by_the_inner_message_id() {
    let raw = br#"{"type":"session_start","id":"s"}
{"type":"message","id":"e1","message":{"role":"assistant","id":"m1","usage":{"input_tokens":10,"output_tokens":1}}}
{"type":"message","id":"e2","message":{"role":"assistant","id":"m1","usage":{"input_tokens":10,"output_tokens":7,"cache_read_input_tokens":5}}}
{"type":"message","id":"e3","message":{"role":"assistant","id":"m2","usage":{"input_tokens":3,"output_tokens":2,"cache_creation_input_tokens":4}}}
{"type":"message","id":"e4","message":{"role":"assistant","usage":{"input_tokens":99,"output_tokens":99}}}
"#;
    let info = info_of(
        "factoryai-droid",
        raw,
        &PathBuf::from("/nonexistent/x.jsonl"),
    );
    assert_eq!(info.token_usage, Some(usage(13, 4, 5, 9, 2)));
    assert_eq!(info.model, "");
}

#[test]
fn droid_fallback_scan() {
    let env = Env::new();
    let p = put(&env.home.join(".factory/sessions/-other/d9.jsonl"), b"{}");
    assert_eq!(
        locate(&env.ctx, &agent("factoryai-droid"), "d9")
            .unwrap()
            .path,
        p
    );
}

// ---------------------------------------------------------------- gemini

const GEMINI_ID: &str = "8a7ae754-b89d-49f0-9ea4-84a573764244";

#[test]
fn gemini_hash_directory_and_newest_file() {
    let env = Env::new();
    let chats = env
        .home
        .join(".gemini/tmp")
        .join(sha256_hex(&env.repo))
        .join("chats");
    put(&chats.join("session-2026-03-18T21-05-8a7ae754.json"), b"{}");
    let newest = put(&chats.join("session-2026-03-19T08-00-8a7ae754.json"), b"{}");
    put(&chats.join("session-2026-03-20T08-00-ffffffff.json"), b"{}");
    assert_eq!(
        locate(&env.ctx, &agent("gemini"), GEMINI_ID).unwrap().path,
        newest
    );
}

#[test]
fn gemini_cli_home_and_fallback_scan() {
    let mut env = Env::new();
    let gh = env.home.join("gemini-home");
    env.set("GEMINI_CLI_HOME", &gh);
    // A project identifier other than the hash: only the scan of $GEMINI_CLI_HOME/.gemini/tmp finds it.
    let p = put(
        &gh.join(".gemini/tmp/my-project/chats/session-2026-03-18T21-05-8a7ae754.json"),
        b"{}",
    );
    assert_eq!(
        locate(&env.ctx, &agent("gemini"), GEMINI_ID).unwrap().path,
        p
    );
}

#[test]
fn gemini_metadata_per_message_tokens() {
    let raw = fixture("gemini_full.jsonl");
    let info = info_of("gemini", &raw, &PathBuf::from("s.json"));
    assert_eq!(info.first_prompt.as_deref(), Some("create a test.go"));
    assert_eq!(info.turns, 1);
    assert_eq!(info.model, "gemini-2.5-flash");
    // Four gemini messages with tokens: input, cached and output summed, thoughts/tool ignored.
    assert_eq!(info.token_usage, Some(usage(65895, 0, 31775, 253, 4)));
    assert_eq!(info.files_touched, vec!["test.go"]);
    assert_eq!(
        info_of("gemini", b"not json", &PathBuf::from("s")).token_usage,
        None
    );
}

#[test]
fn generic_extractor_falls_back_to_gemini_prompts() {
    // A Gemini document attached as Claude: April attach still finds the prompt this way.
    let info = info_of(
        "claude-code",
        &fixture("gemini_full.jsonl"),
        &PathBuf::from("s.json"),
    );
    assert_eq!(info.first_prompt.as_deref(), Some("create a test.go"));
    assert_eq!(info.turns, 1);
}

// ---------------------------------------------------------------- opencode

const OPENCODE_ID: &str = "ses_2fd419c71ffeqSOLZEn9Pmpv8P";

#[test]
fn opencode_exports_into_the_worktree_and_reads_the_file() {
    let env = Env::new();
    env.script(
        "opencode",
        &format!(
            "[ \"$1\" = export ] && [ \"$2\" = {OPENCODE_ID} ] && exec cat '{}'\necho \"Session not found: $2\" >&2\nexit 1\n",
            fixture_path("opencode_full.jsonl").display()
        ),
    );
    let found = locate(&env.ctx, &agent("opencode"), OPENCODE_ID).unwrap();
    assert_eq!(
        found.path,
        env.repo
            .join(".entire/tmp")
            .join(format!("{OPENCODE_ID}.json"))
    );
    let raw = read_transcript(&env.ctx, &found).unwrap();
    assert_eq!(raw, fixture("opencode_full.jsonl"));
    // An id OpenCode does not know: not found, and no file left behind.
    let err = locate(&env.ctx, &agent("opencode"), "ses_unknown").unwrap_err();
    assert!(matches!(err, AgentError::NotFound { .. }), "{err}");
    let AgentError::NotFound { searched, .. } = &err else {
        unreachable!()
    };
    let place = PathBuf::from("opencode export ses_unknown (Session not found: ses_unknown)");
    assert!(searched.contains(&place), "{searched:?}");
    assert!(!env.repo.join(".entire/tmp/ses_unknown.json").exists());
}

#[test]
fn opencode_invalid_export_output_is_not_found() {
    let env = Env::new();
    env.script("opencode", "echo 'Exporting...'\n");
    let err = locate(&env.ctx, &agent("opencode"), "ses_x").unwrap_err();
    let AgentError::NotFound { searched, .. } = &err else {
        panic!("{err}")
    };
    let place = PathBuf::from("opencode export ses_x (output is not valid JSON)");
    assert!(searched.contains(&place), "{searched:?}");
    assert!(!env.repo.join(".entire/tmp/ses_x.json").exists());
}

#[test]
fn opencode_without_the_command_says_what_to_do() {
    let mut env = Env::new();
    // Only our empty bin folder on PATH: no `opencode` anywhere.
    env.ctx.vars.retain(|(k, _)| k != "PATH");
    let bin = env.bin.clone();
    env.set("PATH", &bin);
    let err = locate(&env.ctx, &agent("opencode"), "ses_x").unwrap_err();
    assert!(matches!(err, AgentError::OpencodeUnavailable { .. }));
    let text = err.to_string();
    assert!(text.contains("is not on PATH"), "{text}");
    assert!(text.contains("opencode export ses_x"), "{text}");
}

#[test]
fn opencode_metadata_per_message_tokens() {
    let info = info_of(
        "opencode",
        &fixture("opencode_full.jsonl"),
        &PathBuf::from("s.json"),
    );
    assert_eq!(
        info.first_prompt.as_deref(),
        Some("I'd like the entire integration for opencode in this project to use the `go run ${project_dir}/cmd/entire/main.go` executable rather than `entire`. Can you fix that for me?")
    );
    assert_eq!(info.turns, 2);
    assert_eq!(info.model, "claude-opus-4-6");
    // 19 assistant messages: input 22, output 4798, cache read 614162, cache write 38676.
    assert_eq!(info.token_usage, Some(usage(22, 38676, 614162, 4798, 19)));
    assert_eq!(
        info.files_touched,
        vec![
            "/Users/private/entire/cli/.opencode/plugins/entire.ts",
            "/Users/private/entire/cli/cmd/entire/cli/agent/opencode/hooks.go",
            "/Users/private/entire/cli/cmd/entire/cli/agent/opencode/hooks_test.go",
        ]
    );
}

#[test]
fn opencode_reminder_only_messages_are_not_prompts() {
    let raw = br#"{"info":{"id":"s"},"messages":[
{"info":{"role":"user"},"parts":[{"type":"text","text":"<system-reminder>x</system-reminder>"}]},
{"info":{"role":"user"},"parts":[{"type":"text","text":"<system-reminder>x</system-reminder>\n real prompt "}]}]}"#;
    let info = info_of("opencode", raw, &PathBuf::from("s.json"));
    assert_eq!(info.first_prompt.as_deref(), Some("real prompt"));
    assert_eq!(info.turns, 1);
}

// ---------------------------------------------------------------- pi

const PI_TRANSCRIPT: &[u8] = br#"{"type":"session","version":3,"id":"p1","timestamp":"2026-05-01T00:00:00Z","cwd":"/r"}
{"type":"message","id":"a","parentId":null,"message":{"role":"user","content":[{"type":"text","text":"first question"}]}}
{"type":"message","id":"b","parentId":"a","message":{"role":"assistant","model":"m-old","content":[{"type":"toolCall","name":"write","arguments":{"path":"x.md"}}],"usage":{"input":10,"output":2,"cacheRead":1,"cacheWrite":3}}}
{"type":"message","id":"c","parentId":"b","message":{"role":"user","content":[{"type":"text","text":"abandoned branch"}]}}
{"type":"message","id":"d","parentId":"c","message":{"role":"assistant","model":"m-dead","usage":{"input":1000,"output":1000}}}
{"type":"message","id":"e","parentId":"b","message":{"role":"user","content":"second question"}}
{"type":"message","id":"f","parentId":"e","message":{"role":"assistant","model":"m-new","content":[{"type":"text","text":"ok"}],"usage":{"input":20,"output":4,"cacheRead":5,"cacheWrite":0}}}
"#;

#[test]
fn pi_location_with_agent_dir_override() {
    let mut env = Env::new();
    let home = env.home.join("pi-home");
    env.set("PI_CODING_AGENT_DIR", &home);
    assert_eq!(
        pi_project_name(&env.repo).len(),
        env.repo.to_string_lossy().len() + 3
    );
    let dir = home.join("sessions").join(pi_project_name(&env.repo));
    let p = put(
        &dir.join("2026-05-01T00-00-00-000Z_p1.jsonl"),
        PI_TRANSCRIPT,
    );
    assert_eq!(locate(&env.ctx, &agent("pi"), "p1").unwrap().path, p);
    let other = put(
        &home.join("sessions/--elsewhere--/2026_p2.jsonl"),
        PI_TRANSCRIPT,
    );
    assert_eq!(locate(&env.ctx, &agent("pi"), "p2").unwrap().path, other);
}

#[test]
fn pi_metadata_follows_the_active_branch() {
    let info = info_of("pi", PI_TRANSCRIPT, &PathBuf::from("p.jsonl"));
    assert_eq!(info.first_prompt.as_deref(), Some("first question"));
    assert_eq!(info.turns, 2);
    assert_eq!(info.model, "m-new");
    assert_eq!(info.token_usage, Some(usage(30, 3, 6, 6, 2)));
    assert_eq!(info.files_touched, vec!["x.md"]);
}

// ---------------------------------------------------------------- auto-detection

#[test]
fn auto_detection_tries_the_other_agents_in_name_order() {
    let env = Env::new();
    // The same id exists for cursor and factoryai-droid; cursor sorts first.
    let cursor = put(
        &env.home
            .join(".cursor/projects")
            .join(cursor_project_name(&env.repo))
            .join("agent-transcripts/shared.jsonl"),
        CURSOR_TRANSCRIPT,
    );
    let droid = put(
        &env.home
            .join(".factory/sessions")
            .join(sanitize_path(&env.repo))
            .join("shared.jsonl"),
        b"{}",
    );
    let found = locate(&env.ctx, &agent("claude-code"), "shared").unwrap();
    assert_eq!(
        (
            found.agent.name.as_str(),
            found.path.clone(),
            found.auto_detected
        ),
        ("cursor", cursor, true)
    );
    // The named agent wins when it has the session.
    let found = locate(&env.ctx, &agent("factoryai-droid"), "shared").unwrap();
    assert_eq!(
        (found.agent.name.as_str(), found.path, found.auto_detected),
        ("factoryai-droid", droid, false)
    );
}

#[test]
fn not_found_lists_every_place_searched() {
    let mut env = Env::new();
    env.set("CLAUDE_CONFIG_DIR", &env.home.join("cfg"));
    let err = locate(&env.ctx, &agent("claude-code"), "missing").unwrap_err();
    let AgentError::NotFound {
        agent,
        searched,
        also_tried,
        ..
    } = &err
    else {
        panic!("{err}");
    };
    assert_eq!(agent, "claude-code");
    assert!(also_tried);
    let h = &env.home;
    let s = sanitize_path(&env.repo);
    let expect = [
        h.join("cfg/projects").join(&s).join("missing.jsonl"),
        h.join(".claude/projects").join(&s).join("missing.jsonl"),
        h.join("cfg/projects/**/missing.jsonl"),
        h.join(".claude/projects/**/missing.jsonl"),
        h.join(".codex/sessions/rollout-*-missing.jsonl"),
        h.join(".codex/sessions/*/*/*/rollout-*-missing.jsonl"),
        h.join(".codex/archived_sessions/*/*/*/rollout-*-missing.jsonl"),
        h.join(".copilot/session-state/missing/events.jsonl"),
        h.join(".cursor/projects/**/missing.jsonl"),
        h.join(".factory/sessions/**/missing.jsonl"),
        h.join(".gemini/tmp")
            .join(sha256_hex(&env.repo))
            .join("chats/session-*-missing.json"),
        h.join(".gemini/tmp/**/session-*-missing.json"),
        h.join(".pi/agent/sessions/**/*_missing.jsonl"),
    ];
    for p in &expect {
        assert!(searched.contains(p), "{} not in {searched:#?}", p.display());
    }
    // Claude's own places come first, in the order they were tried.
    assert_eq!(&searched[..4], &expect[..4]);
    let text = err.to_string();
    assert_eq!(
        text,
        "transcript not found for agent \"claude-code\" with session missing; is the session ID correct? \
         (also tried auto-detecting other agents: transcript not found for any registered agent)"
    );
}

// ---------------------------------------------------------------- listing

fn claude_line(cwd: &str, prompt: &str) -> String {
    format!(
        "{{\"type\":\"user\",\"cwd\":\"{cwd}\",\"message\":{{\"role\":\"user\",\"content\":\"{prompt}\"}}}}\n"
    )
}

#[test]
fn list_sessions_is_newest_first_and_only_this_worktree() {
    let env = Env::new();
    let repo = env.repo.to_string_lossy().into_owned();
    let projects = env.home.join(".claude/projects");
    let own = projects.join(sanitize_path(&env.repo));
    let a = put(
        &own.join("aaa.jsonl"),
        claude_line(&repo, "<ide_selection>x</ide_selection>oldest").as_bytes(),
    );
    put(
        &own.join("agent-sub.jsonl"),
        claude_line(&repo, "subagent").as_bytes(),
    );
    // Started in a subdirectory of R: another project directory, cwd inside R.
    let sub = format!("{repo}/sub");
    let b = put(
        &projects
            .join(sanitize_path(std::path::Path::new(&sub)))
            .join("bbb.jsonl"),
        claude_line(&sub, "from subdir").as_bytes(),
    );
    // A sibling repository whose directory name shares the prefix: not ours.
    let sibling = format!("{repo}-2");
    let c = put(
        &projects
            .join(sanitize_path(std::path::Path::new(&sibling)))
            .join("ccc.jsonl"),
        claude_line(&sibling, "other repo").as_bytes(),
    );
    let codex_in = put(
        &env.home.join(".codex/sessions/2026/01/01/rollout-1-cx1.jsonl"),
        format!("{{\"type\":\"session_meta\",\"payload\":{{\"id\":\"cx1\",\"cwd\":\"{repo}\"}}}}\n{}\n",
            r#"{"timestamp":"t","type":"response_item","payload":{"type":"message","role":"user","content":[{"type":"input_text","text":"codex prompt"}]}}"#).as_bytes(),
    );
    let codex_out = put(
        &env.home
            .join(".codex/sessions/2026/01/01/rollout-2-cx2.jsonl"),
        br#"{"type":"session_meta","payload":{"id":"cx2","cwd":"/elsewhere"}}"#,
    );
    let gem = put(
        &env.home
            .join(".gemini/tmp")
            .join(sha256_hex(&env.repo))
            .join("chats/session-2026-x-8a7ae754.json"),
        &fixture("gemini_full.jsonl"),
    );
    touch(&a, 1_000);
    touch(&b, 3_000);
    touch(&c, 4_000);
    touch(&codex_in, 2_000);
    touch(&codex_out, 5_000);
    touch(&gem, 2_500);
    let list = list_sessions(&env.ctx, None);
    let got: Vec<(&str, &str, Option<&str>)> = list
        .iter()
        .map(|l| {
            (
                l.agent.name.as_str(),
                l.session_id.as_str(),
                l.first_prompt.as_deref(),
            )
        })
        .collect();
    assert_eq!(
        got,
        vec![
            ("claude-code", "bbb", Some("from subdir")),
            ("gemini", GEMINI_ID, Some("create a test.go")),
            ("codex", "cx1", Some("codex prompt")),
            ("claude-code", "aaa", Some("oldest")),
        ]
    );
    let only_codex = list_sessions(&env.ctx, Some(&agent("codex")));
    assert_eq!(only_codex.len(), 1);
    assert_eq!(only_codex[0].path, codex_in);
}

#[test]
fn list_sessions_without_agent_folders_is_empty() {
    let env = Env::new();
    assert!(list_sessions(&env.ctx, None).is_empty());
}

#[test]
fn list_sessions_of_copilot_cursor_droid_and_pi() {
    let env = Env::new();
    let repo = env.repo.to_string_lossy().into_owned();
    let cop = put(
        &env.home.join(".copilot/session-state/cp1/events.jsonl"),
        format!("{{\"type\":\"session.start\",\"data\":{{\"context\":{{\"cwd\":\"{repo}\"}}}}}}\n{{\"type\":\"user.message\",\"data\":{{\"content\":\"copilot prompt\"}}}}\n").as_bytes(),
    );
    put(
        &env.home.join(".copilot/session-state/cp2/events.jsonl"),
        br#"{"type":"session.start","data":{"context":{"cwd":"/elsewhere"}}}"#,
    );
    let cur = put(
        &env.home
            .join(".cursor/projects")
            .join(cursor_project_name(&env.repo))
            .join("agent-transcripts/cu1/cu1.jsonl"),
        CURSOR_TRANSCRIPT,
    );
    let dr = put(
        &env.home
            .join(".factory/sessions")
            .join(sanitize_path(&env.repo))
            .join("dr1.jsonl"),
        &fixture("droid_full.jsonl"),
    );
    let pi = put(
        &env.home
            .join(".pi/agent/sessions")
            .join(pi_project_name(&env.repo))
            .join("2026-05-01_pi1.jsonl"),
        PI_TRANSCRIPT,
    );
    for (i, p) in [&cop, &cur, &dr, &pi].iter().enumerate() {
        touch(p, 1_000 * (i as u64 + 1));
    }
    let list = list_sessions(&env.ctx, None);
    let got: Vec<(&str, &str)> = list
        .iter()
        .map(|l| (l.agent.name.as_str(), l.session_id.as_str()))
        .collect();
    assert_eq!(
        got,
        vec![
            ("pi", "pi1"),
            ("factoryai-droid", "dr1"),
            ("cursor", "cu1"),
            ("copilot-cli", "cp1")
        ]
    );
    assert_eq!(list[3].first_prompt.as_deref(), Some("copilot prompt"));
    assert_eq!(list[2].first_prompt.as_deref(), Some("add a README"));
}

// ---------------------------------------------------------------- content detection

#[test]
fn content_detection_maps_every_format_to_an_agent() {
    let cases = [
        ("opencode_full.jsonl", "opencode"),
        ("gemini_full.jsonl", "gemini"),
        ("codex_full.jsonl", "codex"),
        ("copilot_full.jsonl", "copilot-cli"),
        ("droid_full.jsonl", "factoryai-droid"),
        ("claude_full.jsonl", "claude-code"),
    ];
    for (file, name) in cases {
        assert_eq!(detect_from_content(&fixture(file)).name, name, "{file}");
    }
    // A Pi tree looks like Droid envelopes to the detector; its header tells them apart.
    assert_eq!(detect_from_content(PI_TRANSCRIPT).name, "pi");
}

#[test]
fn content_detection_of_generic_jsonl() {
    assert_eq!(detect_from_content(CURSOR_TRANSCRIPT).name, "cursor");
    assert_eq!(
        detect_from_content(&fixture("claude_full.jsonl")).name,
        "claude-code"
    );
    assert!(pi::has_session_header(PI_TRANSCRIPT));
    assert!(!pi::has_session_header(&fixture("droid_full.jsonl")));
}

// ---------------------------------------------------------------- external agents

/// A well-behaved plugin: checks its environment and working directory, keeps sessions in
/// `<R>/.plug/<id>.log`, declares prompts and tokens.
fn good_plugin(env: &Env, name: &str) -> PathBuf {
    env.script(
        &format!("entire-agent-{name}"),
        r#"
if [ "$ENTIRE_PROTOCOL_VERSION" != 1 ] || [ "$(pwd -P)" != "$ENTIRE_REPO_ROOT" ]; then
  echo "bad environment: $ENTIRE_PROTOCOL_VERSION $(pwd -P)" >&2; exit 9
fi
case "$1" in
info) echo '{"protocol_version":1,"name":"plug","type":"Plug Agent","description":"d","capabilities":{"transcript_analyzer":true,"token_calculator":true,"compact_transcript":true}}' ;;
get-session-dir) [ "$2" = --repo-path ] && printf '{"session_dir":"%s/.plug"}\n' "$3" ;;
resolve-session-file) printf '{"session_file":"%s/%s.log"}\n' "$3" "$5" ;;
read-transcript) cat "$3" ;;
extract-prompts) echo '{"prompts":["plugin first","plugin second"]}' ;;
calculate-tokens) n=$(wc -c | tr -d ' '); printf '{"input_tokens":%s,"output_tokens":7,"api_call_count":1}\n' "$n" ;;
chunk-transcript) cat >/dev/null; echo '{"chunks":["YWJj","ZGVm"]}' ;;
compact-transcript) echo '{"transcript":"eyJ2IjoxfQo=","assets":[]}' ;;
*) echo "unknown subcommand $1" >&2; exit 2 ;;
esac
"#,
    )
}

#[test]
fn external_agent_full_round_trip() {
    let env = Env::new();
    good_plugin(&env, "plug");
    let session = put(&env.repo.join(".plug/s1.log"), b"hello transcript\n");
    let a = Agent::by_name(&env.ctx, "plug").unwrap();
    assert_eq!(
        (a.name.as_str(), a.display_type.as_str()),
        ("plug", "Plug Agent")
    );
    assert!(a.is_external());
    let found = locate(&env.ctx, &a, "s1").unwrap();
    assert_eq!(
        (found.path.clone(), found.auto_detected),
        (session.clone(), false)
    );
    let raw = read_transcript(&env.ctx, &found).unwrap();
    assert_eq!(raw, b"hello transcript\n");
    let info = session_info(&env.ctx, &a, &raw, &found.path);
    assert_eq!(info.first_prompt.as_deref(), Some("plugin first"));
    assert_eq!(info.turns, 2);
    assert_eq!(info.model, "");
    // The transcript went to calculate-tokens on stdin: 17 bytes.
    assert_eq!(info.token_usage, Some(usage(17, 0, 0, 7, 1)));
    assert_eq!(
        external_chunk(&env.ctx, &a, &raw).unwrap(),
        vec![b"abc".to_vec(), b"def".to_vec()]
    );
    assert_eq!(
        external_compact(&env.ctx, &a, &session).unwrap(),
        Some(b"{\"v\":1}\n".to_vec())
    );
    // A missing session of the plugin is "not found", with the resolved file listed.
    let err = locate(&env.ctx, &a, "nope").unwrap_err();
    let AgentError::NotFound { searched, .. } = &err else {
        panic!("{err}")
    };
    assert!(
        searched.contains(&env.repo.join(".plug/nope.log")),
        "{searched:?}"
    );
}

#[test]
fn external_agents_take_part_in_auto_detection() {
    let env = Env::new();
    good_plugin(&env, "plug");
    put(&env.repo.join(".plug/s2.log"), b"x");
    let found = locate(&env.ctx, &agent("claude-code"), "s2").unwrap();
    assert_eq!(found.agent.name, "plug");
    assert!(found.auto_detected);
    let mut available = match Agent::by_name(&env.ctx, "zzz").unwrap_err() {
        AgentError::Unknown { available, .. } => available,
        e => panic!("{e}"),
    };
    assert!(available.contains(&"plug".to_string()));
    available.retain(|n| n != "plug");
    assert_eq!(available, builtin_names());
}

#[test]
fn builtin_names_win_over_plugins() {
    let env = Env::new();
    good_plugin(&env, "codex");
    let a = Agent::by_name(&env.ctx, "codex").unwrap();
    assert_eq!(a.kind, Kind::Builtin(Builtin::Codex));
    assert!(external::discover(&env.ctx).is_empty());
}

#[test]
fn a_hanging_plugin_is_killed_after_the_timeout() {
    let mut env = Env::new();
    env.ctx.plugin_timeout = Duration::from_secs(1);
    env.script("entire-agent-hang", "sleep 30\n");
    let start = Instant::now();
    let err = Agent::by_name(&env.ctx, "hang").unwrap_err();
    assert!(
        start.elapsed() < Duration::from_secs(8),
        "{:?}",
        start.elapsed()
    );
    let text = err.to_string();
    assert!(
        text.starts_with("agent plugin entire-agent-hang failed on info: timed out after 1 s"),
        "{text}"
    );
}

#[test]
fn a_plugin_printing_garbage_is_named_in_the_error() {
    let env = Env::new();
    env.script(
        "entire-agent-junk",
        "echo 'this is not json'\necho 'junk: bad output' >&2\n",
    );
    let err = Agent::by_name(&env.ctx, "junk").unwrap_err();
    let AgentError::Plugin {
        name,
        subcommand,
        cause,
    } = &err
    else {
        panic!("{err}");
    };
    assert_eq!((name.as_str(), subcommand.as_str()), ("junk", "info"));
    assert!(cause.starts_with("invalid JSON output"), "{cause}");
    assert!(cause.ends_with("stderr: junk: bad output"), "{cause}");
}

#[test]
fn a_failing_plugin_reports_its_first_stderr_line() {
    let env = Env::new();
    env.script(
        "entire-agent-fail",
        "case \"$1\" in info) echo '{\"protocol_version\":1,\"type\":\"Fail\"}' ;;\n*) echo '' >&2; echo 'fail: no session dir' >&2; echo 'second line' >&2; exit 1 ;; esac\n",
    );
    let a = Agent::by_name(&env.ctx, "fail").unwrap();
    let err = locate(&env.ctx, &a, "s").unwrap_err();
    assert_eq!(
        err.to_string(),
        "agent plugin entire-agent-fail failed on get-session-dir: fail: no session dir"
    );
    // A silent failure reports the exit status instead.
    env.script("entire-agent-quiet", "exit 3\n");
    let err = Agent::by_name(&env.ctx, "quiet").unwrap_err();
    assert!(
        err.to_string().contains("failed on info: exit status: 3"),
        "{err}"
    );
}

#[test]
fn a_plugin_with_another_protocol_version_is_refused() {
    let env = Env::new();
    env.script("entire-agent-v2", "echo '{\"protocol_version\":2}'\n");
    let err = Agent::by_name(&env.ctx, "v2").unwrap_err();
    assert!(
        err.to_string().contains("unsupported protocol_version 2"),
        "{err}"
    );
    assert!(external::discover(&env.ctx).is_empty());
}

#[test]
fn broken_plugins_do_not_stop_auto_detection() {
    let mut env = Env::new();
    env.ctx.plugin_timeout = Duration::from_secs(2);
    env.script(
        "entire-agent-aaa",
        "case \"$1\" in info) echo '{\"protocol_version\":1}' ;; *) echo nope >&2; exit 1 ;; esac\n",
    );
    let p = put(&env.home.join(".factory/sessions/x/d5.jsonl"), b"{}");
    let found = locate(&env.ctx, &agent("claude-code"), "d5").unwrap();
    assert_eq!(
        (found.agent.name.as_str(), found.path),
        ("factoryai-droid", p)
    );
}
