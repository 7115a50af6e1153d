//! End to end, one agent at a time: a session placed where that agent keeps it (with the agent's
//! own environment overrides where it has them) is attached by the built binary with
//! `--agent <name> --force`, and the session metadata on `entire/checkpoints/v1` must carry the
//! agent's display type, model and token usage. Also: auto-detection, the "not found" report,
//! OpenCode through a fake `opencode export`, and an external `entire-agent-<name>` plugin.

mod common;

use std::fs;
use std::path::{Path, PathBuf};

use common::{claude_dir_name, Env, Run};
use serde_json::Value;

fn fixture(rel: &str) -> Vec<u8> {
    fs::read(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures")
            .join(rel),
    )
    .unwrap()
}

fn put(path: &Path, bytes: &[u8]) -> PathBuf {
    fs::create_dir_all(path.parent().unwrap()).unwrap();
    fs::write(path, bytes).unwrap();
    path.to_path_buf()
}

/// A `bin` folder in the temp dir, first on `PATH`, for fake `opencode` and plugins.
fn bin_dir(env: &Env) -> PathBuf {
    let bin = env.root.join("bin");
    fs::create_dir_all(&bin).unwrap();
    bin
}

fn script(env: &Env, name: &str, body: &str) {
    let path = bin_dir(env).join(name);
    fs::write(&path, format!("#!/bin/sh\n{body}")).unwrap();
    use std::os::unix::fs::PermissionsExt;
    fs::set_permissions(&path, fs::Permissions::from_mode(0o755)).unwrap();
}

fn path_with_bin(env: &Env) -> String {
    format!(
        "{}:{}",
        bin_dir(env).display(),
        std::env::var("PATH").unwrap_or_default()
    )
}

/// Runs the binary with extra environment variables and the temp `bin` folder on `PATH`.
fn attach(env: &Env, args: &[&str], vars: &[(&str, &Path)]) -> Run {
    let mut cmd = env.attach_cmd(args);
    cmd.env("PATH", path_with_bin(env));
    for (k, v) in vars {
        cmd.env(k, v);
    }
    Run::from(cmd.output().unwrap())
}

/// The session metadata (slot 0) and prompt of the checkpoint HEAD now names.
fn session_metadata(env: &Env) -> (Value, String) {
    let cp = env.head_checkpoint();
    let dir = format!("{}/{}/0", &cp[..2], &cp[2..]);
    let meta: Value =
        serde_json::from_slice(&env.v1_file(&format!("{dir}/metadata.json"))).unwrap();
    let prompt = env
        .command("git")
        .args(["show", &format!("entire/checkpoints/v1:{dir}/prompt.txt")])
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).into_owned())
        .unwrap_or_default();
    (meta, prompt)
}

/// `[input, cache_creation, cache_read, output, api_calls]` of the metadata's token usage.
fn tokens(meta: &Value) -> Option<[u64; 5]> {
    let t = meta.get("token_usage")?;
    let f = |k: &str| t.get(k).and_then(Value::as_u64).unwrap_or(0);
    Some([
        f("input_tokens"),
        f("cache_creation_tokens"),
        f("cache_read_tokens"),
        f("output_tokens"),
        f("api_call_count"),
    ])
}

fn check(meta: &Value, display: &str, model: &str, usage: Option<[u64; 5]>) {
    assert_eq!(meta["agent"], display, "{meta:#}");
    assert_eq!(meta["model"].as_str().unwrap_or(""), model, "{meta:#}");
    assert_eq!(tokens(meta), usage, "{meta:#}");
}

#[test]
fn claude_code_session_with_streaming_duplicates() {
    let env = Env::new();
    let id = "8b89dece-0f9b-4965-8436-fcec80f5ea06";
    let config = env.home.join("claude-config");
    let dir = config.join("projects").join(claude_dir_name(&env.repo));
    put(
        &dir.join(format!("{id}.jsonl")),
        &fixture("compact/claude_full.jsonl"),
    );
    let run = attach(
        &env,
        &[id, "--agent", "claude-code", "--force"],
        &[("CLAUDE_CONFIG_DIR", &config)],
    )
    .ok();
    assert!(!run.stdout.contains("Auto-detected"), "{run:#?}");
    let (meta, prompt) = session_metadata(&env);
    check(
        &meta,
        "Claude Code",
        "claude-opus-4-6",
        Some([11, 11651, 92276, 392, 6]),
    );
    assert_eq!(
        prompt,
        "I need to revert a change to my last commit message"
    );
}

#[test]
fn codex_session_under_codex_home_with_cumulative_counters() {
    let env = Env::new();
    let id = "019d4f9e-feac-7be2-a885-bf0727a50a92";
    let home = env.root.join("codex-home");
    put(
        &home
            .join("sessions/2026/04/01")
            .join(format!("rollout-2026-04-01T23-31-26-{id}.jsonl")),
        &fixture("agents/codex_rollout.jsonl"),
    );
    attach(
        &env,
        &[id, "--agent", "codex", "--force"],
        &[("CODEX_HOME", &home)],
    )
    .ok();
    let (meta, prompt) = session_metadata(&env);
    check(
        &meta,
        "Codex",
        "gpt-5.1-codex",
        Some([1600, 0, 900, 270, 3]),
    );
    assert_eq!(prompt, "create a hello.txt file with a greeting");
}

#[test]
fn copilot_cli_session_with_shutdown_aggregate() {
    let env = Env::new();
    let id = "b4257b63-a7e8-4e3f-9bf0-019c98db1744";
    put(
        &env.home
            .join(".copilot/session-state")
            .join(id)
            .join("events.jsonl"),
        &fixture("compact/copilot_full.jsonl"),
    );
    attach(&env, &[id, "--agent", "copilot-cli", "--force"], &[]).ok();
    let (meta, prompt) = session_metadata(&env);
    check(
        &meta,
        "Copilot CLI",
        "claude-sonnet-4.6",
        Some([62754, 0, 41648, 311, 3]),
    );
    assert!(
        prompt.starts_with("Create a dir that is called"),
        "{prompt}"
    );
}

#[test]
fn cursor_session_without_model_or_usage() {
    let env = Env::new();
    let project: String = claude_dir_name(&env.repo)
        .trim_start_matches('-')
        .to_string();
    put(
        &env.home
            .join(".cursor/projects")
            .join(project)
            .join("agent-transcripts/cur-1/cur-1.jsonl"),
        &fixture("agents/cursor_session.jsonl"),
    );
    attach(&env, &["cur-1", "--agent", "cursor", "--force"], &[]).ok();
    let (meta, prompt) = session_metadata(&env);
    check(&meta, "Cursor", "", None);
    assert_eq!(prompt, "add a CONTRIBUTING.md");
}

#[test]
fn factoryai_droid_session_with_settings_model() {
    let env = Env::new();
    let dir = env
        .home
        .join(".factory/sessions")
        .join(claude_dir_name(&env.repo));
    put(
        &dir.join("droid-1.jsonl"),
        &fixture("compact/droid_full.jsonl"),
    );
    put(
        &dir.join("droid-1.settings.json"),
        &fixture("agents/droid_session.settings.json"),
    );
    attach(
        &env,
        &["droid-1", "--agent", "factoryai-droid", "--force"],
        &[],
    )
    .ok();
    let (meta, prompt) = session_metadata(&env);
    // The fixture's messages carry no inner ids: Entire's calculator yields zeros.
    check(
        &meta,
        "Factory AI Droid",
        "claude-sonnet-4-5-20250929",
        Some([0, 0, 0, 0, 0]),
    );
    assert_eq!(
        prompt,
        "create a markdown file called hello.md with a greeting"
    );
}

#[test]
fn gemini_session_with_per_message_tokens() {
    use sha2::{Digest, Sha256};
    let env = Env::new();
    let id = "8a7ae754-b89d-49f0-9ea4-84a573764244";
    let hash: String = Sha256::digest(env.repo.to_string_lossy().as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    put(
        &env.home
            .join(".gemini/tmp")
            .join(hash)
            .join("chats/session-2026-03-18T21-05-8a7ae754.json"),
        &fixture("compact/gemini_full.jsonl"),
    );
    attach(&env, &[id, "--agent", "gemini", "--force"], &[]).ok();
    let (meta, prompt) = session_metadata(&env);
    check(
        &meta,
        "Gemini CLI",
        "gemini-2.5-flash",
        Some([65895, 0, 31775, 253, 4]),
    );
    assert_eq!(prompt, "create a test.go");
}

#[test]
fn opencode_session_is_exported_with_opencode() {
    let env = Env::new();
    let id = "ses_2fd419c71ffeqSOLZEn9Pmpv8P";
    let export =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/compact/opencode_full.jsonl");
    script(
        &env,
        "opencode",
        &format!(
            "[ \"$1\" = export ] && [ \"$2\" = {id} ] && exec cat '{}'\nexit 1\n",
            export.display()
        ),
    );
    attach(&env, &[id, "--agent", "opencode", "--force"], &[]).ok();
    let (meta, prompt) = session_metadata(&env);
    check(
        &meta,
        "OpenCode",
        "claude-opus-4-6",
        Some([22, 38676, 614162, 4798, 19]),
    );
    assert!(
        prompt.starts_with("I'd like the entire integration for opencode"),
        "{prompt}"
    );
    assert!(env
        .repo
        .join(".entire/tmp")
        .join(format!("{id}.json"))
        .is_file());
}

#[test]
fn pi_session_counts_only_the_active_branch() {
    let env = Env::new();
    let pi_home = env.root.join("pi-home");
    let e = format!(
        "--{}--",
        env.repo
            .to_string_lossy()
            .replace('/', "-")
            .trim_matches('-')
    );
    put(
        &pi_home
            .join("sessions")
            .join(e)
            .join("2026-05-01T00-00-00-000Z_0b7e9a52-pi.jsonl"),
        &fixture("agents/pi_session.jsonl"),
    );
    attach(
        &env,
        &["0b7e9a52-pi", "--agent", "pi", "--force"],
        &[("PI_CODING_AGENT_DIR", &pi_home)],
    )
    .ok();
    let (meta, prompt) = session_metadata(&env);
    check(
        &meta,
        "Pi",
        "claude-opus-4-1",
        Some([3900, 70, 2800, 80, 3]),
    );
    assert_eq!(prompt, "write a haiku to poem.md");
}

#[test]
fn external_plugin_session() {
    let env = Env::new();
    script(
        &env,
        "entire-agent-acme",
        r#"[ "$ENTIRE_PROTOCOL_VERSION" = 1 ] || { echo "no protocol version" >&2; exit 1; }
case "$1" in
info) echo '{"protocol_version":1,"name":"acme","type":"Acme Agent","capabilities":{"transcript_analyzer":true,"token_calculator":true}}' ;;
get-session-dir) printf '{"session_dir":"%s/.acme"}\n' "$ENTIRE_REPO_ROOT" ;;
resolve-session-file) printf '{"session_file":"%s/%s.txt"}\n' "$3" "$5" ;;
read-transcript) cat "$3" ;;
extract-prompts) echo '{"prompts":["build the acme widget"]}' ;;
calculate-tokens) cat >/dev/null; echo '{"input_tokens":120,"output_tokens":30,"cache_read_tokens":5,"api_call_count":2}' ;;
*) echo "unsupported $1" >&2; exit 2 ;;
esac
"#,
    );
    put(&env.repo.join(".acme/acme-1.txt"), b"{\"line\":1}\n");
    attach(&env, &["acme-1", "--agent", "acme", "--force"], &[]).ok();
    let (meta, prompt) = session_metadata(&env);
    check(&meta, "Acme Agent", "", Some([120, 0, 5, 30, 2]));
    assert_eq!(prompt, "build the acme widget");
}

#[test]
fn another_agents_session_is_auto_detected() {
    let env = Env::new();
    let id = "019d4f9e-feac-7be2-a885-bf0727a50a92";
    put(
        &env.home
            .join(".codex/sessions/2026/04/01")
            .join(format!("rollout-x-{id}.jsonl")),
        &fixture("agents/codex_rollout.jsonl"),
    );
    // No --agent: the default claude-code misses, codex (next in name order) finds it.
    let run = attach(&env, &[id, "--force"], &[]).ok();
    assert!(
        run.stdout.starts_with("Auto-detected agent: codex\n"),
        "{run:#?}"
    );
    let (meta, _) = session_metadata(&env);
    assert_eq!(meta["agent"], "Codex");
}

#[test]
fn a_missing_session_reports_every_place_searched() {
    let env = Env::new();
    let before = env.snapshot();
    let run = attach(&env, &["no-such-session", "--force"], &[]);
    assert_eq!(run.code, 1, "{run:#?}");
    assert!(run.stderr.contains(
        "transcript not found for agent \"claude-code\" with session no-such-session; is the session ID correct? \
         (also tried auto-detecting other agents: transcript not found for any registered agent)"
    ), "{run:#?}");
    for place in [
        env.home
            .join(".claude/projects")
            .join(claude_dir_name(&env.repo))
            .join("no-such-session.jsonl"),
        env.home
            .join(".codex/sessions/*/*/*/rollout-*-no-such-session.jsonl"),
        env.home
            .join(".copilot/session-state/no-such-session/events.jsonl"),
        env.home.join(".factory/sessions/**/no-such-session.jsonl"),
        env.home
            .join(".pi/agent/sessions/**/*_no-such-session.jsonl"),
    ] {
        assert!(
            run.stderr.contains(&place.display().to_string()),
            "{} missing: {run:#?}",
            place.display()
        );
    }
    assert_eq!(env.snapshot(), before);
}
