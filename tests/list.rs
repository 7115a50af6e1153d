//! Finding sessions without an id (`product.md` §5): `--list` across agents, newest first and
//! only this repository's; `git attach --force` without an id takes the newest; `--json` output.

mod common;

use std::path::Path;

use common::*;

fn put(path: &Path, bytes: &[u8]) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, bytes).unwrap();
}

/// Sets a file's modification time (`touch -d`).
fn touch(env: &Env, path: &Path, when: &str) {
    let out = env
        .command("touch")
        .args(["-d", when])
        .arg(path)
        .output()
        .unwrap();
    assert!(out.status.success());
}

/// A Claude, a Codex and a Cursor session of this repository, plus a Claude session of another
/// repository, with distinct modification times.
fn three_agents(env: &Env) {
    let claude = env.claude_session(
        "claude-1",
        claude_transcript("claude prompt", "m1", 1, 1).as_bytes(),
    );
    touch(env, &claude, "2026-04-01 10:00:00");

    let codex_line = format!(
        "{{\"timestamp\":\"2026-04-01T23:31:26.000Z\",\"type\":\"session_meta\",\"payload\":{{\"id\":\"codex-1\",\"cwd\":\"{}\"}}}}\n{{\"timestamp\":\"2026-04-01T23:31:27.000Z\",\"type\":\"response_item\",\"payload\":{{\"type\":\"message\",\"role\":\"user\",\"content\":[{{\"type\":\"input_text\",\"text\":\"codex prompt\"}}]}}}}\n",
        env.repo.display()
    );
    let codex = env
        .home
        .join(".codex/sessions/2026/04/01/rollout-2026-04-01T23-31-26-codex-1.jsonl");
    put(&codex, codex_line.as_bytes());
    touch(env, &codex, "2026-04-03 10:00:00");

    let project = claude_dir_name(&env.repo)
        .trim_start_matches('-')
        .to_string();
    let cursor = env
        .home
        .join(".cursor/projects")
        .join(project)
        .join("agent-transcripts/cursor-1.jsonl");
    put(
        &cursor,
        b"{\"role\":\"user\",\"message\":{\"content\":[{\"type\":\"text\",\"text\":\"<user_query>\\ncursor prompt\\n</user_query>\"}]}}\n",
    );
    touch(env, &cursor, "2026-04-02 10:00:00");

    let other = env
        .home
        .join(".claude/projects/-somewhere-else/other-1.jsonl");
    put(&other, claude_transcript("not ours", "m9", 1, 1).as_bytes());
    touch(env, &other, "2026-04-05 10:00:00");
}

#[test]
fn list_shows_every_agents_sessions_of_this_repository_newest_first() {
    let env = Env::new();
    three_agents(&env);
    let run = env.attach(&["--list"]).ok();
    let lines: Vec<&str> = run.stdout.lines().collect();
    assert_eq!(lines.len(), 3, "{}", run.stdout);
    assert!(
        lines[0].contains("codex")
            && lines[0].contains("codex-1")
            && lines[0].ends_with("codex prompt"),
        "{lines:?}"
    );
    assert!(
        lines[1].contains("cursor")
            && lines[1].contains("cursor-1")
            && lines[1].ends_with("cursor prompt"),
        "{lines:?}"
    );
    assert!(
        lines[2].contains("claude-code")
            && lines[2].contains("claude-1")
            && lines[2].ends_with("claude prompt"),
        "{lines:?}"
    );
    assert!(!run.stdout.contains("other-1"));

    let json = env.attach(&["--list", "--json"]).ok();
    let objs: Vec<serde_json::Value> = json
        .stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let ids: Vec<&str> = objs
        .iter()
        .map(|o| o["session_id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["codex-1", "cursor-1", "claude-1"]);
    assert_eq!(objs[0]["agent"], "codex");
    assert_eq!(objs[2]["first_prompt"], "claude prompt");

    let only = env.attach(&["--list", "--agent", "cursor"]).ok();
    assert_eq!(only.stdout.lines().count(), 1);
}

#[test]
fn list_with_no_agent_folders_prints_nothing() {
    let env = Env::new();
    let run = env.attach(&["--list"]).ok();
    assert_eq!(run.stdout, "");
    assert_eq!(run.stderr, "");
}

#[test]
fn force_without_an_id_attaches_the_newest_session() {
    let env = Env::new();
    three_agents(&env);
    let run = env.attach(&["--force"]).ok();
    assert!(
        run.stdout.starts_with("Attached session codex-1\n"),
        "{run:?}"
    );
    let cp = env.head_checkpoint();
    let meta: serde_json::Value =
        serde_json::from_slice(&env.v1_file(&format!("{}/{}/0/metadata.json", &cp[..2], &cp[2..])))
            .unwrap();
    assert_eq!(meta["agent"], "Codex");
}

#[test]
fn without_an_id_and_a_terminal_the_newest_is_named_in_the_error() {
    let env = Env::new();
    three_agents(&env);
    let before = env.snapshot();
    let run = env.attach(&[]);
    assert_eq!(run.code, 1);
    assert!(
        run.stderr.starts_with("error: no session ID given; the newest session of this repository is codex-1 (codex)\nhint: git attach codex-1 --force\n"),
        "{}",
        run.stderr
    );
    assert_eq!(env.snapshot(), before);
    let empty = Env::new();
    let run = empty.attach(&[]);
    assert_eq!(run.code, 1);
    assert!(run
        .stderr
        .starts_with("error: no session ID given and no session of this repository was found"));
}

#[test]
fn json_reports_the_attach() {
    let env = Env::new();
    env.claude_session(WORKED_SESSION, WORKED_TRANSCRIPT.as_bytes());
    let run = env.attach(&[WORKED_SESSION, "--json", "--force"]).ok();
    let v: serde_json::Value = serde_json::from_str(run.stdout.trim()).unwrap();
    assert_eq!(run.stdout.lines().count(), 1);
    let cp = env.head_checkpoint();
    assert_eq!(v["checkpoint_id"], cp);
    assert_eq!(v["session_id"], WORKED_SESSION);
    assert_eq!(v["agent"], "claude-code");
    assert_eq!(v["slot"], 0);
    assert_eq!(v["created"], true);
    assert_eq!(
        v["refs"],
        serde_json::json!(["refs/heads/entire/checkpoints/v1"])
    );
    assert_eq!(v["amended_commit"], env.rev("HEAD").unwrap());
    assert_eq!(v["linked"], true);

    // Without --force, --json never prompts and never amends (an empty answer would be yes).
    let env2 = Env::new();
    env2.claude_session("s2", claude_transcript("two", "m2", 1, 1).as_bytes());
    let head = env2.rev("HEAD").unwrap();
    let run = env2
        .attach_cmd(&["s2", "--json", "--v2"])
        .env("GIT_ATTACH_INTERACTIVE", "1")
        .output()
        .unwrap();
    let run = Run::from(run).ok();
    let v: serde_json::Value = serde_json::from_str(run.stdout.trim()).unwrap();
    assert_eq!(v["amended_commit"], serde_json::Value::Null);
    assert_eq!(v["linked"], false);
    assert_eq!(v["refs"].as_array().unwrap().len(), 3);
    assert_eq!(env2.rev("HEAD").unwrap(), head);
}

#[test]
fn on_a_terminal_the_newest_session_is_proposed_and_confirmed() {
    let env = Env::new();
    three_agents(&env);
    // Yes to the session, no to the amend.
    let run = env.attach_answering(&[], "\nn\n").ok();
    assert!(
        run.stderr.starts_with(
            "Newest session: codex-1 (codex): codex prompt\nAttach this session? [Y/n] "
        ),
        "{}",
        run.stderr
    );
    assert!(
        run.stdout.starts_with("Attached session codex-1\n"),
        "{run:?}"
    );
    assert!(run
        .stdout
        .contains("Copy to your commit message to attach:"));

    // Declining attaches nothing.
    let env = Env::new();
    three_agents(&env);
    let before = env.snapshot();
    let run = env.attach_answering(&[], "n\n");
    assert_eq!(run.code, 1);
    assert!(
        run.stderr.contains("error: nothing attached"),
        "{}",
        run.stderr
    );
    assert_eq!(env.snapshot(), before);
}
