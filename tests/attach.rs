//! End-to-end behaviour of `git attach` for Claude Code sessions and the v1 branch: the built
//! executable in hermetic temp repositories.

mod common;

use std::path::Path;
use std::process::Stdio;

use common::*;

const CP_EXAMPLE: &str = "a3b2c4d5e6f7";

/// Rewrites what legitimately differs from the worked example (the random checkpoint id, the
/// writer's version, the write time) so that the bytes can be compared with it.
fn normalize(text: &str, cp: &str) -> String {
    let mut out = text
        .replace(cp, CP_EXAMPLE)
        .replace(&format!("/{}/{}/", &cp[..2], &cp[2..]), "/a3/b2c4d5e6f7/")
        .replace(
            &format!("\"git-attach/{}\"", env!("CARGO_PKG_VERSION")),
            "\"0.5.5\"",
        );
    if let Some(start) = out.find("\"created_at\": \"") {
        let value_start = start + "\"created_at\": \"".len();
        let end = value_start + out[value_start..].find('"').unwrap();
        out.replace_range(value_start..end, "2026-04-15T16:20:31.123456789Z");
    }
    out
}

fn hash_object(env: &Env, content: &[u8]) -> String {
    let mut child = env
        .command("git")
        .args(["hash-object", "-w", "--stdin"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    use std::io::Write;
    child.stdin.take().unwrap().write_all(content).unwrap();
    let out = child.wait_with_output().unwrap();
    String::from_utf8(out.stdout).unwrap().trim().to_string()
}

fn mktree(env: &Env, entries: &[(&str, &str, &str)]) -> String {
    let mut child = env
        .command("git")
        .args(["mktree"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    use std::io::Write;
    let mut input = String::new();
    for (mode, oid, name) in entries {
        let kind = if *mode == "040000" { "tree" } else { "blob" };
        input.push_str(&format!("{mode} {kind} {oid}\t{name}\n"));
    }
    child
        .stdin
        .take()
        .unwrap()
        .write_all(input.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    String::from_utf8(out.stdout).unwrap().trim().to_string()
}

#[test]
fn first_attach_writes_the_worked_example_byte_for_byte() {
    let env = Env::new();
    env.claude_session(WORKED_SESSION, WORKED_TRANSCRIPT.as_bytes());
    let run = env.attach(&[WORKED_SESSION, "--force"]).ok();
    let cp = env.head_checkpoint();
    assert_eq!(cp.len(), 12);

    // The lines of product.md §4.
    let short = env
        .git(&["rev-parse", "--short", "HEAD"])
        .trim()
        .to_string();
    assert_eq!(
        run.stdout,
        format!(
            "Attached session {WORKED_SESSION}\n  Captured: 1 turn · claude-sonnet-4-20250514 · 330 tokens\n  Created checkpoint {cp}\n\nAmended commit {short} with Entire-Checkpoint: {cp}\n"
        )
    );
    assert_eq!(run.stderr, "");
    assert_eq!(
        env.head_message(),
        format!("feat: add hello\n\nEntire-Checkpoint: {cp}\n\n")
    );
    assert_eq!(
        env.git(&["log", "entire/checkpoints/v1", "-1", "--format=%B"]),
        format!("Checkpoint: {cp}\n\nEntire-Session: {WORKED_SESSION}\nEntire-Strategy: manual-commit\nEntire-Agent: Claude Code\n\n")
    );
    // The raw commit message bytes, and the orphan root commit without a trailing newline.
    let raw = env.git_bytes(&["cat-file", "commit", "entire/checkpoints/v1"]);
    assert!(raw.ends_with(
        format!("\n\nCheckpoint: {cp}\n\nEntire-Session: {WORKED_SESSION}\nEntire-Strategy: manual-commit\nEntire-Agent: Claude Code\n").as_bytes()
    ));
    let root = env.git_bytes(&["cat-file", "commit", "entire/checkpoints/v1~1"]);
    assert!(
        root.ends_with(b"\n\nInitialize sessions branch"),
        "{}",
        String::from_utf8_lossy(&root)
    );
    assert!(!String::from_utf8_lossy(&root).contains("parent "));
    assert_eq!(
        env.git(&["rev-parse", "entire/checkpoints/v1~1^{tree}"])
            .trim(),
        "4b825dc642cb6eb9a060e54bf8d69288fbee4904"
    );

    // The checkpoint tree, normalized, equals the worked example.
    let dir = format!("{}/{}", &cp[..2], &cp[2..]);
    let files = env.ls_tree("entire/checkpoints/v1");
    let names: Vec<&str> = files.iter().map(|(p, _)| p.as_str()).collect();
    assert_eq!(
        names,
        [
            format!("{dir}/0/content_hash.txt"),
            format!("{dir}/0/full.jsonl"),
            format!("{dir}/0/metadata.json"),
            format!("{dir}/0/prompt.txt"),
            format!("{dir}/metadata.json"),
        ]
    );
    let expect = [
        (
            "0/content_hash.txt",
            "a98b5907a2e991791d71ed1978311b7f63533755",
        ),
        ("0/full.jsonl", "67cdc713f8871cbece3112d8bff23aed75b4c0ae"),
        (
            "0/metadata.json",
            "f8ddceff6216a78194303e54e45ba83b34454c64",
        ),
        ("0/prompt.txt", "8657d014d9916bd313bc6fb189a802051f2b88e1"),
        ("metadata.json", "b57c841a175c290045fa27484291ecce2fa5391c"),
    ];
    let mut ids = Vec::new();
    for (rel, want) in expect {
        let bytes = env.v1_file(&format!("{dir}/{rel}"));
        let text = normalize(&String::from_utf8(bytes).unwrap(), &cp);
        let got = hash_object(&env, text.as_bytes());
        assert_eq!(got, want, "{rel} differs:\n{text}");
        ids.push(got);
    }
    let slot = mktree(
        &env,
        &[
            ("100644", &ids[0], "content_hash.txt"),
            ("100644", &ids[1], "full.jsonl"),
            ("100644", &ids[2], "metadata.json"),
            ("100644", &ids[3], "prompt.txt"),
        ],
    );
    assert_eq!(slot, "b025075b135e4f65f67169149a64f235b94d10ae");
    let checkpoint = mktree(
        &env,
        &[("040000", &slot, "0"), ("100644", &ids[4], "metadata.json")],
    );
    assert_eq!(checkpoint, "2de877567afb8821c712cae09075dbdae68b22f1");
    let shard = mktree(&env, &[("040000", &checkpoint, "b2c4d5e6f7")]);
    assert_eq!(shard, "9f3c8c1a92e74eb7c6b1e8131ab164f8c8cf8ec4");
    assert_eq!(
        mktree(&env, &[("040000", &shard, "a3")]),
        "5e2240e85bfa76ad5af3c7af78f60f9df07d32ab"
    );

    // The session state file.
    let state_path = env
        .repo
        .join(".git/entire-sessions")
        .join(format!("{WORKED_SESSION}.json"));
    let state = std::fs::read_to_string(&state_path).unwrap();
    for needle in [
        format!("\"last_checkpoint_id\": \"{cp}\""),
        "\"phase\": \"ended\"".to_string(),
        "\"attached_manually\": true".to_string(),
        "\"agent_type\": \"Claude Code\"".to_string(),
        "\"model_name\": \"claude-sonnet-4-20250514\"".to_string(),
        "\"session_turn_count\": 1".to_string(),
        "\"last_prompt\": \"create a hello world file\"".to_string(),
    ] {
        assert!(state.contains(&needle), "{needle} not in {state}");
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&state_path).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    env.fsck();
}

#[test]
fn runs_as_git_attach_through_path() {
    let env = Env::new();
    env.claude_session(WORKED_SESSION, WORKED_TRANSCRIPT.as_bytes());
    let bin_dir = Path::new(BIN).parent().unwrap();
    let path = format!(
        "{}:{}",
        bin_dir.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let run = Run::from(
        env.command("git")
            .env("PATH", path)
            .args(["attach", WORKED_SESSION, "--force"])
            .output()
            .unwrap(),
    )
    .ok();
    assert!(run
        .stdout
        .starts_with(&format!("Attached session {WORKED_SESSION}\n")));
    assert!(env.head_message().contains("Entire-Checkpoint: "));
    env.fsck();
}

#[test]
fn a_second_session_lands_in_slot_1_without_amending() {
    let env = Env::new();
    env.claude_session(
        "s-one",
        claude_transcript("first task", "m1", 10, 20).as_bytes(),
    );
    env.claude_session(
        "s-two",
        claude_transcript("second task", "m2", 5, 7).as_bytes(),
    );
    env.attach(&["s-one", "--force"]).ok();
    let cp = env.head_checkpoint();
    let head = env.rev("HEAD").unwrap();

    let run = env.attach(&["s-two", "--force"]).ok();
    assert_eq!(
        run.stdout,
        format!("Attached session s-two\n  Captured: 1 turn · claude-opus-4 · 12 tokens\n  Added to existing checkpoint {cp}\n")
    );
    assert_eq!(env.rev("HEAD").unwrap(), head, "HEAD must not be amended");

    let dir = format!("{}/{}", &cp[..2], &cp[2..]);
    let slot1 = String::from_utf8(env.v1_file(&format!("{dir}/1/metadata.json"))).unwrap();
    assert!(slot1.contains("\"session_id\": \"s-two\""));
    let root = String::from_utf8(env.v1_file(&format!("{dir}/metadata.json"))).unwrap();
    let v: serde_json::Value = serde_json::from_str(&root).unwrap();
    assert_eq!(v["sessions"].as_array().unwrap().len(), 2);
    assert_eq!(
        v["sessions"][1]["metadata"],
        format!("/{dir}/1/metadata.json")
    );
    assert_eq!(v["token_usage"]["input_tokens"], 15);
    assert_eq!(v["token_usage"]["output_tokens"], 27);
    assert_eq!(v["token_usage"]["api_call_count"], 2);
    assert_eq!(v["files_touched"], serde_json::Value::Null);
    assert_eq!(
        env.git(&["rev-list", "--count", "entire/checkpoints/v1"])
            .trim(),
        "3"
    );
    env.fsck();
}

#[test]
fn the_same_session_again_is_linked_not_rewritten_until_its_state_is_gone() {
    let env = Env::new();
    env.claude_session("s-one", claude_transcript("first", "m1", 1, 2).as_bytes());
    env.claude_session("s-two", claude_transcript("second", "m2", 3, 4).as_bytes());
    env.attach(&["s-one", "--force"]).ok();
    env.attach(&["s-two", "--force"]).ok();
    let cp = env.head_checkpoint();
    let tip = env.rev("entire/checkpoints/v1").unwrap();

    let run = env.attach(&["s-one", "--force"]).ok();
    assert!(run
        .stdout
        .starts_with(&format!("Session s-one already has checkpoint {cp}\n")));
    assert!(run
        .stdout
        .contains(&format!("already has Entire-Checkpoint: {cp}")));
    assert_eq!(
        env.rev("entire/checkpoints/v1").unwrap(),
        tip,
        "nothing new written"
    );

    std::fs::remove_file(env.repo.join(".git/entire-sessions/s-one.json")).unwrap();
    env.claude_session(
        "s-one",
        claude_transcript("first, longer now", "m1", 100, 200).as_bytes(),
    );
    let run = env.attach(&["s-one", "--force"]).ok();
    assert!(run
        .stdout
        .contains(&format!("Added to existing checkpoint {cp}")));
    let dir = format!("{}/{}", &cp[..2], &cp[2..]);
    let root: serde_json::Value =
        serde_json::from_slice(&env.v1_file(&format!("{dir}/metadata.json"))).unwrap();
    assert_eq!(
        root["sessions"].as_array().unwrap().len(),
        2,
        "own slot reused"
    );
    assert_eq!(
        String::from_utf8(env.v1_file(&format!("{dir}/0/prompt.txt"))).unwrap(),
        "first, longer now"
    );
    assert_eq!(root["token_usage"]["input_tokens"], 103);
    env.fsck();
}

/// Builds `entire/checkpoints/v1` from a directory of checkpoint folders, as Entire left them.
fn import_v1(env: &Env, fixture: &Path) {
    let work = env.root.join("import");
    std::fs::create_dir_all(&work).unwrap();
    let index = env.root.join("import.index");
    let git = |args: &[&str]| {
        let out = env
            .command("git")
            .env("GIT_INDEX_FILE", &index)
            .env("GIT_WORK_TREE", fixture)
            .args(args)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap().trim().to_string()
    };
    git(&["add", "-A", "."]);
    let tree = git(&["write-tree"]);
    let commit = git(&["commit-tree", &tree, "-m", "Import Entire checkpoints"]);
    env.git(&["update-ref", "refs/heads/entire/checkpoints/v1", &commit]);
}

#[test]
fn attaching_into_entires_checkpoints_keeps_every_existing_file() {
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/v1-entire-feb2026");
    for (cp, new_slot) in [
        ("42527c9c20c8", 2),
        ("ac3f02a3c337", 3),
        ("c945f262e88d", 1),
    ] {
        let env = Env::new();
        import_v1(&env, &fixtures);
        env.git(&[
            "commit",
            "-q",
            "--amend",
            "-m",
            &format!("feat: x\n\nEntire-Checkpoint: {cp}\n"),
        ]);
        let before = env.ls_tree("entire/checkpoints/v1");
        env.claude_session(
            "new-session",
            claude_transcript("extend", "mx", 1, 1).as_bytes(),
        );
        let run = env.attach(&["new-session", "--force"]).ok();
        assert!(
            run.stdout
                .contains(&format!("Added to existing checkpoint {cp}")),
            "{run:?}"
        );

        let after = env.ls_tree("entire/checkpoints/v1");
        let dir = format!("{}/{}", &cp[..2], &cp[2..]);
        let root_meta = format!("{dir}/metadata.json");
        for (path, oid) in &before {
            if *path == root_meta {
                continue;
            }
            let now = after.iter().find(|(p, _)| p == path);
            assert_eq!(now.map(|(_, o)| o), Some(oid), "{path} changed or vanished");
        }
        let added: Vec<&String> = after
            .iter()
            .map(|(p, _)| p)
            .filter(|p| !before.iter().any(|(b, _)| b == *p))
            .collect();
        assert!(!added.is_empty());
        for p in &added {
            assert!(
                p.starts_with(&format!("{dir}/{new_slot}/")),
                "{cp}: unexpected new file {p}"
            );
        }
        let root: serde_json::Value = serde_json::from_slice(&env.v1_file(&root_meta)).unwrap();
        let sessions = root["sessions"].as_array().unwrap();
        assert_eq!(
            sessions.last().unwrap()["metadata"],
            format!("/{dir}/{new_slot}/metadata.json")
        );
        env.fsck();
    }
}

#[test]
fn without_a_terminal_the_trailer_is_printed_and_nothing_amended() {
    let env = Env::new();
    env.claude_session(WORKED_SESSION, WORKED_TRANSCRIPT.as_bytes());
    let head = env.rev("HEAD").unwrap();
    let run = env.attach(&[WORKED_SESSION]).ok();
    let tip = env.rev("entire/checkpoints/v1").unwrap();
    let msg = env.git(&["log", "-1", "--format=%B", &tip]);
    let cp = &msg["Checkpoint: ".len().."Checkpoint: ".len() + 12];
    assert!(run.stdout.ends_with(&format!(
        "\nCopy to your commit message to attach:\n\n  Entire-Checkpoint: {cp}\n"
    )));
    assert_eq!(env.rev("HEAD").unwrap(), head);
}

#[test]
fn the_amend_prompt_respects_the_answer() {
    let env = Env::new();
    env.claude_session("s-no", claude_transcript("no", "m1", 1, 1).as_bytes());
    let head = env.rev("HEAD").unwrap();
    let run = env.attach_answering(&["s-no"], "n\n").ok();
    assert!(run.stderr.contains("Last commit: "), "{run:?}");
    assert!(run
        .stderr
        .contains("Amend the last commit in this branch? [Y/n]"));
    assert!(run
        .stdout
        .contains("Copy to your commit message to attach:"));
    assert_eq!(env.rev("HEAD").unwrap(), head);

    let env = Env::new();
    env.claude_session("s-yes", claude_transcript("yes", "m1", 1, 1).as_bytes());
    let run = env.attach_answering(&["s-yes"], "\n").ok();
    let cp = env.head_checkpoint();
    assert!(
        run.stdout
            .contains(&format!("with Entire-Checkpoint: {cp}")),
        "{run:?}"
    );
    env.fsck();
}

#[test]
fn eight_concurrent_sessions_all_land_in_one_checkpoint() {
    let env = Env::new();
    env.claude_session("first", claude_transcript("first", "m0", 1, 1).as_bytes());
    env.attach(&["first", "--force"]).ok();
    let cp = env.head_checkpoint();
    for i in 0..8 {
        env.claude_session(
            &format!("c{i}"),
            claude_transcript("parallel", &format!("m{i}"), 1, 1).as_bytes(),
        );
    }
    let children: Vec<_> = (0..8)
        .map(|i| {
            env.attach_cmd(&[&format!("c{i}"), "--no-amend"])
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    for c in children {
        let run = Run::from(c.wait_with_output().unwrap());
        assert_eq!(run.code, 0, "{run:?}");
    }
    let dir = format!("{}/{}", &cp[..2], &cp[2..]);
    let root: serde_json::Value =
        serde_json::from_slice(&env.v1_file(&format!("{dir}/metadata.json"))).unwrap();
    let sessions = root["sessions"].as_array().unwrap();
    assert_eq!(sessions.len(), 9);
    let mut ids = Vec::new();
    for s in sessions {
        let path = s["metadata"]
            .as_str()
            .unwrap()
            .trim_start_matches('/')
            .to_string();
        let meta: serde_json::Value = serde_json::from_slice(&env.v1_file(&path)).unwrap();
        ids.push(meta["session_id"].as_str().unwrap().to_string());
    }
    ids.sort();
    assert_eq!(
        ids,
        ["c0", "c1", "c2", "c3", "c4", "c5", "c6", "c7", "first"]
    );
    assert_eq!(root["token_usage"]["api_call_count"], 9);
    env.fsck();
}

#[test]
fn a_60_mib_transcript_is_stored_in_two_chunks_with_the_whole_hash() {
    let env = Env::new();
    // ~60 MiB of realistic lines, with a secret that redaction must remove.
    let secret = format!("ghp_{}", "aB3dE5fG7hJ9kL1mN3pQ5rS7tU9vW1xY3z5A");
    let mut t = String::with_capacity(61 << 20);
    t.push_str(&format!(
        "{{\"type\":\"user\",\"message\":{{\"role\":\"user\",\"content\":\"use token {secret} please\"}},\"uuid\":\"u0\"}}\n"
    ));
    let filler = "lorem ipsum dolor sit amet ".repeat(40);
    let mut i = 0;
    while t.len() < 60 << 20 {
        t.push_str(&format!(
            "{{\"type\":\"assistant\",\"message\":{{\"id\":\"msg_{i}\",\"role\":\"assistant\",\"content\":[{{\"type\":\"text\",\"text\":\"{filler}\"}}]}},\"uuid\":\"a{i}\"}}\n"
        ));
        i += 1;
    }
    env.claude_session("big", t.as_bytes());
    env.attach(&["big", "--force"]).ok();
    let cp = env.head_checkpoint();
    let dir = format!("{}/{}/0", &cp[..2], &cp[2..]);
    let files = env.ls_tree(&format!("entire/checkpoints/v1:{dir}"));
    let names: Vec<&str> = files.iter().map(|(p, _)| p.as_str()).collect();
    assert_eq!(
        names,
        [
            "content_hash.txt",
            "full.jsonl",
            "full.jsonl.001",
            "metadata.json",
            "prompt.txt"
        ]
    );
    let c0 = env.v1_file(&format!("{dir}/full.jsonl"));
    let c1 = env.v1_file(&format!("{dir}/full.jsonl.001"));
    assert!(c0.len() <= 50 << 20 && c1.len() <= 50 << 20);
    let mut whole = c0.clone();
    whole.push(b'\n');
    whole.extend_from_slice(&c1);
    let redacted = git_attach::redact::Redactor::load(&Default::default())
        .unwrap()
        .transcript(t.as_bytes())
        .unwrap();
    assert_eq!(whole, redacted, "chunks rejoin to the redacted transcript");
    assert!(!String::from_utf8_lossy(&whole).contains(&secret));
    let hash = String::from_utf8(env.v1_file(&format!("{dir}/content_hash.txt"))).unwrap();
    assert_eq!(hash, git_attach::v1::content_hash(&redacted));
    env.fsck();
}

/// Runs a failing attach and checks the message, the exit code and that nothing changed.
fn assert_fails(env: &Env, args: &[&str], code: i32, error: &str) -> Run {
    let before = env.snapshot();
    let run = env.attach(args);
    assert_eq!(run.code, code, "{run:#?}");
    assert!(
        run.stderr.starts_with(&format!("error: {error}")),
        "expected 'error: {error}', got {:?}",
        run.stderr
    );
    assert_eq!(
        run.stderr
            .lines()
            .filter(|l| l.starts_with("error:"))
            .count(),
        1
    );
    assert_eq!(run.stdout, "");
    assert_eq!(
        env.snapshot(),
        before,
        "a failed run changed the repository"
    );
    run
}

#[test]
fn outside_a_repository_is_an_error() {
    let env = Env::empty();
    let run = assert_fails(&env, &["x"], 1, "not a git repository");
    assert!(run.stderr.contains("hint: "));
}

#[test]
fn a_repository_without_commits_is_an_error() {
    let env = Env::empty();
    env.git(&["init", "-q"]);
    assert_fails(&env, &["x"], 1, "the repository has no commits yet");
}

#[test]
fn a_bare_repository_is_an_error() {
    let env = Env::empty();
    env.git(&["init", "-q", "--bare"]);
    assert_fails(&env, &["x"], 1, "cannot attach in a bare repository");
}

#[test]
fn empty_and_path_like_session_ids_are_usage_errors() {
    let env = Env::new();
    assert_fails(
        &env,
        &[""],
        2,
        "invalid session ID: session ID cannot be empty",
    );
    assert_fails(
        &env,
        &["  "],
        2,
        "invalid session ID: session ID cannot be empty",
    );
    assert_fails(
        &env,
        &["../etc/passwd"],
        2,
        "invalid session ID \"../etc/passwd\": contains path separators",
    );
    assert_fails(
        &env,
        &["a\\b"],
        2,
        "invalid session ID \"a\\b\": contains path separators",
    );
}

#[test]
fn a_missing_session_says_where_it_looked() {
    let env = Env::new();
    let run = assert_fails(
        &env,
        &["no-such-session"],
        1,
        "transcript not found for agent \"claude-code\" with session no-such-session",
    );
    let expected_dir = env
        .home
        .join(".claude/projects")
        .join(claude_dir_name(&env.repo));
    assert!(
        run.stderr.contains(&expected_dir.display().to_string()),
        "{}",
        run.stderr
    );
}

#[test]
fn unreadable_and_empty_transcripts_are_errors() {
    let env = Env::new();
    let missing = env.root.join("nope.jsonl");
    assert_fails(
        &env,
        &[
            "--transcript",
            missing.to_str().unwrap(),
            "--agent",
            "claude-code",
        ],
        1,
        &format!("cannot read transcript {}", missing.display()),
    );
    let empty = env.root.join("empty.jsonl");
    std::fs::write(&empty, "").unwrap();
    assert_fails(
        &env,
        &["--transcript", empty.to_str().unwrap()],
        1,
        &format!("transcript {} is empty", empty.display()),
    );
    env.claude_session("empty-session", b"");
    assert_fails(&env, &["empty-session"], 1, "transcript ");
}

#[test]
fn a_line_longer_than_a_chunk_is_an_error() {
    let env = Env::new();
    let mut line = String::with_capacity((51 << 20) + 100);
    line.push_str("{\"type\":\"assistant\",\"message\":{\"content\":\"");
    line.push_str(&"ab ".repeat((51 << 20) / 3));
    line.push_str("\"}}\n");
    let mut t = String::from("{\"type\":\"user\",\"message\":{\"content\":\"hi\"}}\n");
    t.push_str(&line);
    env.claude_session("huge-line", t.as_bytes());
    let run = assert_fails(&env, &["huge-line"], 1, "cannot store transcript");
    assert!(
        run.stderr
            .contains("JSONL line 2 exceeds maximum chunk size"),
        "{}",
        run.stderr
    );
}

#[test]
fn transcript_flag_attaches_any_file_with_its_stem_as_session_id() {
    let env = Env::new();
    let file = env.root.join("my-session.jsonl");
    std::fs::write(&file, WORKED_TRANSCRIPT).unwrap();
    let run = env
        .attach(&["--transcript", file.to_str().unwrap(), "--no-amend"])
        .ok();
    assert!(
        run.stdout.starts_with("Attached session my-session\n"),
        "{run:?}"
    );
    let tip = env.rev("entire/checkpoints/v1").unwrap();
    let msg = env.git(&["log", "-1", "--format=%B", &tip]);
    assert!(msg.contains(
        "Entire-Session: my-session\nEntire-Strategy: manual-commit\nEntire-Agent: Claude Code\n"
    ));
    env.fsck();
}

#[test]
fn dry_run_reports_and_writes_nothing() {
    let env = Env::new();
    env.claude_session(WORKED_SESSION, WORKED_TRANSCRIPT.as_bytes());
    let before = env.snapshot();
    let objects_before = env.git(&["count-objects"]);
    let run = env.attach(&[WORKED_SESSION, "--dry-run", "--force"]).ok();
    assert!(
        run.stdout
            .starts_with(&format!("Would attach session {WORKED_SESSION}")),
        "{run:?}"
    );
    assert!(run.stdout.contains("New checkpoint "));
    assert!(run.stdout.contains("/0/full.jsonl\n"));
    assert_eq!(env.snapshot(), before);
    assert_eq!(env.git(&["count-objects"]), objects_before);
}

#[test]
fn a_checkpoint_named_by_head_but_missing_is_not_recreated() {
    let env = Env::new();
    env.git(&[
        "commit",
        "-q",
        "--amend",
        "-m",
        "feat\n\nEntire-Checkpoint: 0123456789ab\n",
    ]);
    env.claude_session("s", claude_transcript("p", "m", 1, 1).as_bytes());
    let run = assert_fails(
        &env,
        &["s", "--force"],
        1,
        "HEAD names checkpoint 0123456789ab",
    );
    assert!(
        run.stderr
            .contains("hint: git fetch origin entire/checkpoints/v1"),
        "{}",
        run.stderr
    );
}

#[test]
fn a_missing_local_branch_starts_from_the_remote_tracking_branch() {
    let env = Env::new();
    env.claude_session("s1", claude_transcript("one", "m1", 1, 1).as_bytes());
    env.attach(&["s1", "--no-amend"]).ok();
    let tip = env.rev("entire/checkpoints/v1").unwrap();
    env.git(&[
        "update-ref",
        "refs/remotes/origin/entire/checkpoints/v1",
        &tip,
    ]);
    env.git(&["update-ref", "-d", "refs/heads/entire/checkpoints/v1"]);
    env.claude_session("s2", claude_transcript("two", "m2", 1, 1).as_bytes());
    env.attach(&["s2", "--no-amend"]).ok();
    let parent = env.rev("entire/checkpoints/v1~1").unwrap();
    assert_eq!(parent, tip, "history stays connected to the remote's");
    env.fsck();
}

#[test]
fn disabled_by_git_config_prints_and_exits_0() {
    let env = Env::new();
    env.git(&["config", "attach.enabled", "false"]);
    let before = env.snapshot();
    let run = env.attach(&["anything"]).ok();
    assert_eq!(run.stdout, "git-attach is disabled in this repository\n");
    assert_eq!(env.snapshot(), before);
}
