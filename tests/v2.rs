//! The v2 mirror stage end to end: settings precedence, dual-write, one commit per ref and run,
//! backfill of v1-only sessions and task trees, `--backfill` with rotation, and isolation: every
//! v2 fault leaves stdout, the exit status and v1 exactly as with v2 off.

mod common;

use common::*;

const MAIN: &str = "refs/entire/checkpoints/v2/main";
const FULL: &str = "refs/entire/checkpoints/v2/full/current";

fn enable_v2_in_strategy_file(env: &Env) {
    std::fs::create_dir_all(env.repo.join(".entire")).unwrap();
    std::fs::write(
        env.repo.join(".entire/settings.json"),
        r#"{"strategy_options":{"checkpoints_v2":true}}"#,
    )
    .unwrap();
}

fn sha256_line(bytes: &[u8]) -> String {
    git_attach::v1::content_hash(bytes)
}

fn dir_of(cp: &str) -> String {
    format!("{}/{}", &cp[..2], &cp[2..])
}

fn show(env: &Env, rev_path: &str) -> Vec<u8> {
    env.git_bytes(&["show", rev_path])
}

fn paths(env: &Env, rev: &str) -> Vec<String> {
    env.ls_tree(rev).into_iter().map(|(p, _)| p).collect()
}

#[test]
fn dual_write_mirrors_the_session_into_both_v2_refs() {
    let env = Env::new();
    enable_v2_in_strategy_file(&env);
    env.claude_session(WORKED_SESSION, WORKED_TRANSCRIPT.as_bytes());
    let run = env.attach(&[WORKED_SESSION, "--force"]).ok();
    assert_eq!(run.stderr, "");
    let cp = env.head_checkpoint();
    let d = dir_of(&cp);

    let compact = show(&env, &format!("{MAIN}:{d}/0/transcript.jsonl"));
    let text = String::from_utf8(compact.clone()).unwrap();
    assert!(
        text.contains(r#""type":"user","content":[{"text":"create a hello world file"}]"#),
        "{text}"
    );
    assert!(text.contains(&format!(
        r#""agent":"Claude Code","cli_version":"git-attach/{}""#,
        env!("CARGO_PKG_VERSION")
    )));
    assert_eq!(
        String::from_utf8(show(&env, &format!("{MAIN}:{d}/0/transcript_hash.txt"))).unwrap(),
        sha256_line(&compact)
    );
    assert_eq!(
        show(&env, &format!("{FULL}:{d}/0/raw_transcript")),
        env.v1_file(&format!("{d}/0/full.jsonl"))
    );
    assert_eq!(
        String::from_utf8(show(&env, &format!("{FULL}:{d}/0/raw_transcript_hash.txt"))).unwrap(),
        sha256_line(WORKED_TRANSCRIPT.as_bytes())
    );
    let full_paths = paths(&env, FULL);
    assert!(
        full_paths.iter().all(|p| !p.ends_with("metadata.json")),
        "{full_paths:?}"
    );
    let main_paths = paths(&env, MAIN);
    assert!(
        main_paths.iter().all(|p| !p.contains("raw_transcript")),
        "{main_paths:?}"
    );
    assert_eq!(
        main_paths,
        [
            format!("{d}/0/metadata.json"),
            format!("{d}/0/prompt.txt"),
            format!("{d}/0/transcript.jsonl"),
            format!("{d}/0/transcript_hash.txt"),
            format!("{d}/metadata.json"),
        ]
    );
    // v2 session metadata has the bytes of v1's; the summary names the compact transcript.
    assert_eq!(
        show(&env, &format!("{MAIN}:{d}/0/metadata.json")),
        env.v1_file(&format!("{d}/0/metadata.json"))
    );
    let summary: serde_json::Value =
        serde_json::from_slice(&show(&env, &format!("{MAIN}:{d}/metadata.json"))).unwrap();
    assert_eq!(
        summary["sessions"][0]["transcript"],
        format!("/{d}/0/transcript.jsonl")
    );
    assert_eq!(
        summary["sessions"][0]["content_hash"],
        format!("/{d}/0/transcript_hash.txt")
    );
    assert_eq!(summary["token_usage"]["input_tokens"], 10);
    // Each ref: Initialize v2 ref -> Checkpoint: <id>\n.
    for r in [MAIN, FULL] {
        let raw = env.git_bytes(&["cat-file", "commit", r]);
        assert!(raw.ends_with(format!("\n\nCheckpoint: {cp}\n").as_bytes()));
        let root = env.git_bytes(&["cat-file", "commit", &format!("{r}~1")]);
        assert!(root.ends_with(b"\n\nInitialize v2 ref"));
        assert_eq!(env.git(&["rev-list", "--count", r]).trim(), "2");
    }
    env.fsck();
}

#[test]
fn with_the_setting_off_no_v2_ref_exists() {
    let env = Env::new();
    env.claude_session(WORKED_SESSION, WORKED_TRANSCRIPT.as_bytes());
    env.attach(&[WORKED_SESSION, "--force"]).ok();
    assert_eq!(env.rev(MAIN), None);
    assert_eq!(env.rev(FULL), None);
}

/// The effective value and origin of checkpoints_v2 from `--show-settings`.
fn v2_setting(env: &Env, git_c: Option<&str>, flag: Option<&str>) -> String {
    let mut cmd = env.command("git");
    let bin_dir = std::path::Path::new(BIN).parent().unwrap();
    cmd.env(
        "PATH",
        format!(
            "{}:{}",
            bin_dir.display(),
            std::env::var("PATH").unwrap_or_default()
        ),
    );
    if let Some(c) = git_c {
        cmd.args(["-c", c]);
    }
    cmd.args(["attach", "--show-settings"]);
    if let Some(f) = flag {
        cmd.arg(f);
    }
    let run = Run::from(cmd.output().unwrap()).ok();
    run.stdout
        .lines()
        .find(|l| l.starts_with("checkpoints_v2"))
        .unwrap()
        .to_string()
}

#[test]
fn each_source_of_the_setting_overrides_the_one_below() {
    let env = Env::new();
    std::fs::create_dir_all(env.repo.join(".entire")).unwrap();
    let set_file = |name: &str, v: bool| {
        std::fs::write(
            env.repo.join(".entire").join(name),
            format!(r#"{{"strategy_options":{{"checkpoints_v2":{v}}}}}"#),
        )
        .unwrap();
    };
    let assert_v2 = |got: String, value: bool, origin: &str| {
        assert!(got.contains(&format!("= {value} ")), "{got}");
        assert!(got.contains(origin), "{got} lacks {origin}");
    };
    assert_v2(v2_setting(&env, None, None), false, "(default)");
    // 1. .entire/settings.json turns it on; 2. settings.local.json turns it off.
    set_file("settings.json", true);
    assert_v2(v2_setting(&env, None, None), true, "settings.json");
    set_file("settings.local.json", false);
    assert_v2(v2_setting(&env, None, None), false, "settings.local.json");
    // 2. on; 3. global git config off.
    set_file("settings.local.json", true);
    assert_v2(v2_setting(&env, None, None), true, "settings.local.json");
    env.git(&["config", "--global", "attach.checkpointsV2", "false"]);
    assert_v2(v2_setting(&env, None, None), false, "(git config: global)");
    // 3. global on; 4. local off.
    env.git(&["config", "--global", "attach.checkpointsV2", "yes"]);
    assert_v2(v2_setting(&env, None, None), true, "(git config: global)");
    env.git(&["config", "attach.checkpointsV2", "off"]);
    assert_v2(v2_setting(&env, None, None), false, "(git config: local)");
    // 4. local on; 5. git -c off.
    env.git(&["config", "attach.checkpointsV2", "true"]);
    assert_v2(v2_setting(&env, None, None), true, "(git config: local)");
    assert_v2(
        v2_setting(&env, Some("attach.checkpointsV2=false"), None),
        false,
        "(git config: command)",
    );
    // 5. git -c on; 6. --no-v2 off; and --v2 over an off git -c.
    assert_v2(
        v2_setting(&env, Some("attach.checkpointsV2=true"), None),
        true,
        "(git config: command)",
    );
    assert_v2(
        v2_setting(&env, Some("attach.checkpointsV2=true"), Some("--no-v2")),
        false,
        "(command line)",
    );
    assert_v2(
        v2_setting(&env, Some("attach.checkpointsV2=false"), Some("--v2")),
        true,
        "(command line)",
    );
}

#[test]
fn a_broken_strategy_file_is_warned_about_and_ignored() {
    let env = Env::new();
    std::fs::create_dir_all(env.repo.join(".entire")).unwrap();
    std::fs::write(
        env.repo.join(".entire/settings.json"),
        r#"{"strategy_options":{"checkpoints_v2":"yes"}}"#,
    )
    .unwrap();
    let run = env.attach(&["--show-settings"]).ok();
    assert!(run.stderr.contains("warning: ignoring "), "{}", run.stderr);
    assert!(run.stderr.contains("settings.json"));
    assert!(run.stderr.contains("strategy_options.checkpoints_v2"));
    assert!(run.stdout.contains("checkpoints_v2  = false"));
}

#[test]
fn two_attaches_advance_each_v2_ref_by_one_commit_each() {
    let env = Env::new();
    enable_v2_in_strategy_file(&env);
    env.claude_session("s1", claude_transcript("one", "m1", 1, 1).as_bytes());
    env.claude_session("s2", claude_transcript("two", "m2", 1, 1).as_bytes());
    env.attach(&["s1", "--force"]).ok();
    let (m1, f1) = (env.rev(MAIN).unwrap(), env.rev(FULL).unwrap());
    env.attach(&["s2"]).ok();
    let (m2, f2) = (env.rev(MAIN).unwrap(), env.rev(FULL).unwrap());
    assert_eq!(env.rev(&format!("{m2}^")).unwrap(), m1);
    assert_eq!(env.rev(&format!("{f2}^")).unwrap(), f1);
    assert_eq!(env.rev(&format!("{m2}^2")), None, "single parent");
    let cp = env.head_checkpoint();
    let d = dir_of(&cp);
    let summary: serde_json::Value =
        serde_json::from_slice(&show(&env, &format!("{MAIN}:{d}/metadata.json"))).unwrap();
    assert_eq!(summary["sessions"].as_array().unwrap().len(), 2);
    env.fsck();
}

/// Adds `tasks/toolu_1/checkpoint.json` to checkpoint `cp` on the v1 branch (as old Entire
/// strategies did), in a new v1 commit.
fn add_v1_task_tree(env: &Env, cp: &str) {
    let d = dir_of(cp);
    let index = env.root.join("tasks.index");
    let run = |args: &[&str], input: Option<&str>| -> String {
        use std::io::Write;
        let mut cmd = env.command("git");
        cmd.env("GIT_INDEX_FILE", &index).args(args);
        cmd.stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped());
        let mut child = cmd.spawn().unwrap();
        child
            .stdin
            .take()
            .unwrap()
            .write_all(input.unwrap_or("").as_bytes())
            .unwrap();
        let out = child.wait_with_output().unwrap();
        assert!(out.status.success(), "{args:?}");
        String::from_utf8(out.stdout).unwrap().trim().to_string()
    };
    run(&["read-tree", "entire/checkpoints/v1"], None);
    let blob = run(
        &["hash-object", "-w", "--stdin"],
        Some("{\"session_id\":\"s1\",\"tool_use_id\":\"toolu_1\"}\n"),
    );
    run(
        &[
            "update-index",
            "--add",
            "--cacheinfo",
            &format!("100644,{blob},{d}/tasks/toolu_1/checkpoint.json"),
        ],
        None,
    );
    let tree = run(&["write-tree"], None);
    let commit = run(
        &[
            "commit-tree",
            &tree,
            "-p",
            "entire/checkpoints/v1",
            "-m",
            "legacy task",
        ],
        None,
    );
    env.git(&["update-ref", "refs/heads/entire/checkpoints/v1", &commit]);
}

#[test]
fn attaching_to_a_v1_only_checkpoint_backfills_every_session() {
    let env = Env::new();
    env.claude_session("s1", claude_transcript("first", "m1", 1, 1).as_bytes());
    env.claude_session("s2", claude_transcript("second", "m2", 1, 1).as_bytes());
    env.claude_session("s3", claude_transcript("third", "m3", 1, 1).as_bytes());
    env.attach(&["s1", "--force"]).ok();
    env.attach(&["s2"]).ok();
    let cp = env.head_checkpoint();
    add_v1_task_tree(&env, &cp);
    assert_eq!(env.rev(MAIN), None);

    let run = env.attach(&["s3", "--v2"]).ok();
    assert_eq!(run.stderr, "");
    let d = dir_of(&cp);
    for (slot, sid, prompt) in [(0, "s1", "first"), (1, "s2", "second"), (2, "s3", "third")] {
        let meta: serde_json::Value =
            serde_json::from_slice(&show(&env, &format!("{MAIN}:{d}/{slot}/metadata.json")))
                .unwrap();
        assert_eq!(meta["session_id"], sid);
        let v1_meta: serde_json::Value =
            serde_json::from_slice(&env.v1_file(&format!("{d}/{slot}/metadata.json"))).unwrap();
        assert_eq!(
            meta["created_at"], v1_meta["created_at"],
            "mirrored metadata keeps created_at"
        );
        let compact =
            String::from_utf8(show(&env, &format!("{MAIN}:{d}/{slot}/transcript.jsonl"))).unwrap();
        assert!(
            compact.contains(&format!("{{\"text\":\"{prompt}\"}}")),
            "{compact}"
        );
        assert_eq!(
            show(&env, &format!("{FULL}:{d}/{slot}/raw_transcript")),
            env.v1_file(&format!("{d}/{slot}/full.jsonl"))
        );
    }
    let summary: serde_json::Value =
        serde_json::from_slice(&show(&env, &format!("{MAIN}:{d}/metadata.json"))).unwrap();
    assert_eq!(summary["sessions"].as_array().unwrap().len(), 3);
    assert_eq!(summary["token_usage"]["api_call_count"], 3);
    // The v1 task tree reappears in /full/current, under the last slot.
    assert_eq!(
        show(&env, &format!("{FULL}:{d}/2/tasks/toolu_1/checkpoint.json")),
        env.v1_file(&format!("{d}/tasks/toolu_1/checkpoint.json"))
    );
    assert!(paths(&env, MAIN).iter().all(|p| !p.contains("tasks/")));
    // One commit per ref for the whole backfill.
    assert_eq!(env.git(&["rev-list", "--count", MAIN]).trim(), "2");
    assert_eq!(env.git(&["rev-list", "--count", FULL]).trim(), "2");
    env.fsck();
}

#[test]
fn backfill_mirrors_150_checkpoints_rotates_once_and_is_idempotent() {
    let env = Env::new();
    for i in 0..150 {
        let id = format!("s{i:03}");
        env.claude_session(
            &id,
            claude_transcript(&format!("task {i}"), &format!("m{i}"), 1, 1).as_bytes(),
        );
        env.attach(&[&id, "--no-amend"]).ok();
    }
    let dry = env.attach(&["--backfill", "--dry-run"]).ok();
    assert_eq!(
        dry.stdout
            .lines()
            .filter(|l| l.starts_with("Would mirror checkpoint "))
            .count(),
        150
    );
    assert_eq!(env.rev(MAIN), None, "dry run writes nothing");

    let run = env.attach(&["--backfill"]).ok();
    assert!(
        run.stdout
            .contains("Backfilled 150 checkpoints into checkpoints v2"),
        "{}",
        run.stdout
    );
    let main_cps: std::collections::BTreeSet<String> = paths(&env, MAIN)
        .iter()
        .filter(|p| p.ends_with("/0/transcript.jsonl"))
        .map(|p| p[..13].to_string())
        .collect();
    assert_eq!(main_cps.len(), 150);
    let archive = "refs/entire/checkpoints/v2/full/0000000000001";
    let gen: serde_json::Value =
        serde_json::from_slice(&show(&env, &format!("{archive}:generation.json"))).unwrap();
    assert!(gen["oldest_checkpoint_at"].is_string() && gen["newest_checkpoint_at"].is_string());
    assert_eq!(
        env.rev("refs/entire/checkpoints/v2/full/0000000000002"),
        None
    );
    let archived = paths(&env, archive);
    assert_eq!(
        archived
            .iter()
            .filter(|p| p.ends_with("/0/raw_transcript"))
            .count(),
        150
    );
    // /full/current restarted as an empty generation.
    assert_eq!(
        env.git(&["rev-parse", &format!("{FULL}^{{tree}}")]).trim(),
        "4b825dc642cb6eb9a060e54bf8d69288fbee4904"
    );
    assert!(env
        .git_bytes(&["cat-file", "commit", FULL])
        .ends_with(b"\n\nStart generation"));

    let before = env.snapshot();
    let again = env.attach(&["--backfill"]).ok();
    assert!(
        again.stdout.starts_with("Nothing to backfill"),
        "{}",
        again.stdout
    );
    assert_eq!(env.snapshot(), before, "a second run changes no ref");
    env.fsck();
}

/// Attaches s2 to the existing checkpoint with v2 on and `fault` applied, then the same attach
/// with v2 off from the same starting point; both runs must agree on everything v1 and the user
/// see.
fn assert_isolated(fault: impl Fn(&Env), extra_env: &[(&str, &str)], check_fsck: bool) {
    let env = Env::new();
    env.claude_session("s1", claude_transcript("one", "m1", 1, 1).as_bytes());
    env.claude_session("s2", claude_transcript("two", "m2", 1, 1).as_bytes());
    env.attach(&["s1", "--force", "--v2"]).ok();
    let cp = env.head_checkpoint();
    let v1_before = env.rev("entire/checkpoints/v1").unwrap();
    fault(&env);

    let mut cmd = env.attach_cmd(&["s2", "--v2"]);
    for (k, v) in extra_env {
        cmd.env(k, v);
    }
    let faulty = Run::from(cmd.output().unwrap());
    let v1_faulty = normalized_v1(&env);
    assert!(
        faulty
            .stderr
            .contains(&format!("warning: v2 mirror failed for checkpoint {cp}: ")),
        "{faulty:#?}"
    );
    assert_eq!(faulty.stderr.lines().count(), 1, "{faulty:#?}");

    env.git(&["update-ref", "refs/heads/entire/checkpoints/v1", &v1_before]);
    std::fs::remove_file(env.repo.join(".git/entire-sessions/s2.json")).unwrap();
    let clean = env.attach(&["s2", "--no-v2"]);
    assert_eq!(faulty.code, clean.code);
    assert_eq!(faulty.stdout, clean.stdout);
    assert_eq!(v1_faulty, normalized_v1(&env));
    if check_fsck {
        env.fsck();
    }
}

/// Every v1 file with `created_at` values blanked.
fn normalized_v1(env: &Env) -> Vec<(String, String)> {
    env.ls_tree("entire/checkpoints/v1")
        .into_iter()
        .map(|(p, _)| {
            let text = String::from_utf8(env.v1_file(&p)).unwrap();
            let text: String = text
                .lines()
                .map(|l| {
                    if l.contains("\"created_at\"") {
                        "created_at"
                    } else {
                        l
                    }
                })
                .collect::<Vec<_>>()
                .join("\n");
            (p, text)
        })
        .collect()
}

#[test]
fn a_stale_lock_on_a_v2_ref_only_warns() {
    assert_isolated(
        |env| {
            std::fs::write(
                env.repo.join(".git/refs/entire/checkpoints/v2/main.lock"),
                "",
            )
            .unwrap()
        },
        &[],
        true,
    );
}

#[test]
fn a_v2_ref_pointing_at_a_blob_only_warns() {
    assert_isolated(
        |env| {
            let blob = env.git(&["rev-parse", "HEAD:hello.txt"]);
            env.git(&["update-ref", MAIN, blob.trim()]);
        },
        &[],
        false,
    );
}

#[test]
fn a_v2_tree_missing_an_object_only_warns() {
    assert_isolated(
        |env| {
            let tree = env.git(&["rev-parse", &format!("{MAIN}^{{tree}}")]);
            let tree = tree.trim();
            std::fs::remove_file(
                env.repo
                    .join(".git/objects")
                    .join(&tree[..2])
                    .join(&tree[2..]),
            )
            .unwrap();
        },
        &[],
        false,
    );
}

#[test]
fn a_panic_in_the_v2_stage_only_warns() {
    assert_isolated(|_| {}, &[("GIT_ATTACH_TEST_V2_PANIC", "1")], true);
}

#[test]
fn an_external_agents_compact_transcript_comes_from_its_plugin_redacted() {
    let env = Env::new();
    let bin = env.root.join("bin");
    std::fs::create_dir_all(&bin).unwrap();
    let secret = format!("ghp_{}", "aB3dE5fG7hJ9kL1mN3pQ5rS7tU9vW1xY3z5A");
    let line = format!(
        r#"{{"v":1,"agent":"Acme Agent","cli_version":"acme/1","type":"user","content":[{{"text":"key {secret}"}}]}}"#
    );
    let plugin = format!(
        r#"#!/bin/sh
case "$1" in
info) echo '{{"protocol_version":1,"name":"acme","type":"Acme Agent","capabilities":{{"compact_transcript":true}}}}' ;;
get-session-dir) printf '{{"session_dir":"%s/.acme"}}\n' "$ENTIRE_REPO_ROOT" ;;
resolve-session-file) printf '{{"session_file":"%s/%s.txt"}}\n' "$3" "$5" ;;
read-transcript) cat "$3" ;;
compact-transcript) test -s "$3" || exit 3; printf '{{"transcript":"%s"}}\n' "$(printf '%s\n' '{line}' | base64 | tr -d '\n')" ;;
*) echo "unsupported $1" >&2; exit 2 ;;
esac
"#
    );
    let path = bin.join("entire-agent-acme");
    std::fs::write(&path, plugin).unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
    std::fs::create_dir_all(env.repo.join(".acme")).unwrap();
    std::fs::write(env.repo.join(".acme/acme-1.txt"), "{\"line\":1}\n").unwrap();

    let run = env
        .attach_cmd(&["acme-1", "--agent", "acme", "--force", "--v2"])
        .env(
            "PATH",
            format!(
                "{}:{}",
                bin.display(),
                std::env::var("PATH").unwrap_or_default()
            ),
        )
        .output()
        .unwrap();
    let run = Run::from(run).ok();
    assert_eq!(run.stderr, "");
    let cp = env.head_checkpoint();
    let d = dir_of(&cp);
    let compact = String::from_utf8(show(&env, &format!("{MAIN}:{d}/0/transcript.jsonl"))).unwrap();
    assert!(compact.contains(r#""text":"key REDACTED""#), "{compact}");
    assert!(!compact.contains(&secret));
}
