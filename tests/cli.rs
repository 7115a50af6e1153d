//! The command-line surface of the built executable, as snapshots: `-h`, `--help`, `--version`,
//! `--show-settings`, and every error of `product.md` §4 with its exit status, its `error:` line
//! and its `hint:` line; plus the logging switches (`-v`, `-q`, `GIT_ATTACH_LOG`).
//!
//! Snapshots live in `tests/snapshots/<name>.txt`. After an intended change of the output, rewrite
//! them with `UPDATE_SNAPSHOTS=1 cargo test --test cli` and review the diff.

mod common;

use std::path::{Path, PathBuf};

use common::*;

fn snapshot_path(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/snapshots")
        .join(format!("{name}.txt"))
}

/// Compares `actual` with the stored snapshot, or stores it under `UPDATE_SNAPSHOTS=1`.
fn assert_snapshot(name: &str, actual: &str) {
    let path = snapshot_path(name);
    if std::env::var_os("UPDATE_SNAPSHOTS").is_some_and(|v| v == "1") {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, actual).unwrap();
        return;
    }
    let expected = std::fs::read_to_string(&path).unwrap_or_else(|_| {
        panic!(
            "no snapshot {}; create it with UPDATE_SNAPSHOTS=1 cargo test --test cli",
            path.display()
        )
    });
    if expected == actual {
        return;
    }
    let (e, a): (Vec<&str>, Vec<&str>) = (expected.lines().collect(), actual.lines().collect());
    let first = e
        .iter()
        .zip(&a)
        .position(|(x, y)| x != y)
        .unwrap_or(e.len().min(a.len()));
    panic!(
        "snapshot {name} differs from line {}:\n  expected: {:?}\n  actual:   {:?}\n--- whole actual output ---\n{actual}\n\
         If the change is intended: UPDATE_SNAPSHOTS=1 cargo test --test cli, and review the diff.",
        first + 1,
        e.get(first),
        a.get(first),
    );
}

/// A run as stored in a snapshot: command, exit status, stdout, stderr; the temp directory and
/// its Claude-style encoding replaced by placeholders.
fn transcript(env: &Env, args: &[&str], run: &Run) -> String {
    let root = env.root.display().to_string();
    let encoded = claude_dir_name(&env.root);
    let shown: Vec<String> = args
        .iter()
        .map(|a| {
            if a.is_empty() || a.contains(' ') || a.contains('\\') {
                format!("{a:?}")
            } else {
                a.to_string()
            }
        })
        .collect();
    let text = format!(
        "$ {}\nexit: {}\n--- stdout\n{}--- stderr\n{}",
        ["git attach".to_string()]
            .into_iter()
            .chain(shown)
            .collect::<Vec<_>>()
            .join(" "),
        run.code,
        run.stdout,
        run.stderr
    );
    text.replace(&root, "<tmp>")
        .replace(&encoded, "<tmp-encoded>")
}

/// The list of places a failed lookup searched depends on the agents' path rules (each agent
/// encodes the repository path its own way); the snapshot keeps the sentence around it.
fn elide_searched(text: &str) -> String {
    let (Some(start), Some(end)) = (
        text.find("hint: searched "),
        text.find("; use --transcript <path>"),
    ) else {
        return text.to_string();
    };
    let start = start + "hint: searched ".len();
    format!("{}<paths>{}", &text[..start], &text[end..])
}

/// Runs the binary and compares the whole outcome with a snapshot; returns the run.
fn check(name: &str, env: &Env, args: &[&str]) -> Run {
    let run = env.attach(args);
    assert_snapshot(name, &transcript(env, args, &run));
    run
}

/// An error run: exit status `code`, nothing on stdout, one `error:` line, and the repository as
/// it was; the wording is the snapshot's.
fn check_error(name: &str, env: &Env, args: &[&str], code: i32) {
    let before = env.snapshot();
    let run = check(name, env, args);
    assert_eq!(run.code, code, "{name}: {run:#?}");
    assert_eq!(run.stdout, "", "{name}");
    let lines: Vec<&str> = run.stderr.lines().collect();
    assert!(
        lines.first().is_some_and(|l| l.starts_with("error: ")),
        "{name}: {lines:?}"
    );
    assert!(
        lines[1..].iter().all(|l| l.starts_with("hint: ")),
        "{name}: one error line, then hints: {lines:?}"
    );
    if env.repo.join(".git").exists() || env.repo.join("HEAD").exists() {
        assert_eq!(env.snapshot(), before, "{name} changed the repository");
    }
}

// ---------------------------------------------------------------------------------------------
// Help and version

#[test]
fn short_help_is_one_line_per_flag() {
    let env = Env::empty();
    let run = check("short-help", &env, &["-h"]).ok();
    assert_eq!(run.stderr, "");
    for f in git_attach::cli::FLAGS {
        let lines = run
            .stdout
            .lines()
            .filter(|l| {
                l.contains(&format!("--{} ", f.long)) || l.ends_with(&format!("--{}", f.long))
            })
            .filter(|l| l.contains(f.help))
            .count();
        assert_eq!(lines, 1, "-h has one line for --{}", f.long);
    }
    assert_eq!(run.stdout, git_attach::cli::short_help());
}

#[test]
fn long_help_shows_every_flags_long_text() {
    let env = Env::empty();
    let run = check("long-help", &env, &["--help"]).ok();
    let flat = run.stdout.split_whitespace().collect::<Vec<_>>().join(" ");
    for f in git_attach::cli::FLAGS {
        let text = f.long_help.split_whitespace().collect::<Vec<_>>().join(" ");
        assert!(
            flat.contains(&text),
            "--help lacks the long text of --{}",
            f.long
        );
    }
    assert_eq!(run.stdout, git_attach::cli::long_help());
}

#[test]
fn version_prints_the_crate_version() {
    let env = Env::empty();
    let run = env.attach(&["--version"]).ok();
    assert_eq!(
        run.stdout,
        format!("git-attach {}\n", env!("CARGO_PKG_VERSION"))
    );
    assert_eq!(run.stderr, "");
    let short = env.attach(&["-V"]).ok();
    assert_eq!(short.stdout, run.stdout);
    // The snapshot holds the shape, not the number.
    let shape = run.stdout.replace(env!("CARGO_PKG_VERSION"), "<version>");
    assert_snapshot("version", &shape);
}

#[test]
fn help_works_outside_a_repository_and_wins_over_other_flags() {
    let env = Env::empty();
    let run = env.attach(&["--nope-not-parsed-after", "-h"]);
    assert_eq!(run.code, 2, "an unknown flag before -h is still an error");
    let run = env.attach(&["some-session", "--force", "-h"]).ok();
    assert_eq!(run.stdout, git_attach::cli::short_help());
}

#[test]
fn git_attach_h_through_git_is_the_same_help() {
    let env = Env::new();
    let bin_dir = Path::new(BIN).parent().unwrap();
    let path = format!(
        "{}:{}",
        bin_dir.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let run = Run::from(
        env.command("git")
            .env("PATH", path)
            .args(["attach", "-h"])
            .output()
            .unwrap(),
    )
    .ok();
    assert_eq!(run.stdout, git_attach::cli::short_help());
}

// ---------------------------------------------------------------------------------------------
// Usage errors (exit 2)

#[test]
fn an_unknown_flag_is_a_usage_error_with_a_hint_to_h() {
    let env = Env::new();
    check_error("error-unknown-long-flag", &env, &["--nope"], 2);
    check_error("error-unknown-short-flag", &env, &["-Z"], 2);
}

#[test]
fn a_flag_without_its_value_is_a_usage_error() {
    let env = Env::new();
    check_error("error-missing-value-agent", &env, &["--agent"], 2);
    check_error("error-missing-value-transcript", &env, &["-t"], 2);
}

#[test]
fn a_second_session_id_is_a_usage_error() {
    let env = Env::new();
    check_error("error-extra-argument", &env, &["one", "two"], 2);
}

#[test]
fn empty_and_path_like_session_ids_are_usage_errors() {
    let env = Env::new();
    check_error("error-empty-session-id", &env, &[""], 2);
    check_error("error-path-like-session-id", &env, &["../etc/passwd"], 2);
    check_error("error-backslash-session-id", &env, &["a\\b"], 2);
}

// ---------------------------------------------------------------------------------------------
// Runtime errors (exit 1)

#[test]
fn outside_a_repository_is_an_error() {
    let env = Env::empty();
    check_error("error-not-a-repository", &env, &["some-session"], 1);
}

#[test]
fn a_repository_without_commits_is_an_error() {
    let env = Env::empty();
    env.git(&["init", "-q"]);
    check_error("error-no-commits", &env, &["some-session"], 1);
}

#[test]
fn a_bare_repository_is_an_error() {
    let env = Env::empty();
    env.git(&["init", "-q", "--bare"]);
    check_error("error-bare-repository", &env, &["some-session"], 1);
}

#[test]
fn a_session_that_is_not_found_is_an_error_naming_where_it_looked() {
    let env = Env::new();
    let args = ["no-such-session"];
    let run = env.attach(&args);
    assert_eq!(run.code, 1);
    assert_eq!(run.stdout, "");
    let text = transcript(&env, &args, &run);
    assert!(
        text.contains(
            "hint: searched <tmp>/home/.claude/projects/<tmp-encoded>-repo/no-such-session.jsonl, "
        ),
        "the hint names the Claude Code folder first: {text}"
    );
    assert_snapshot("error-session-not-found", &elide_searched(&text));
    assert_eq!(run.stderr.lines().count(), 2, "{}", run.stderr);
}

#[test]
fn an_unknown_agent_is_an_error() {
    let env = Env::new();
    check_error(
        "error-unknown-agent",
        &env,
        &["some-session", "--agent", "no-such-agent"],
        1,
    );
}

#[test]
fn an_unreadable_transcript_is_an_error() {
    let env = Env::new();
    let missing = env.root.join("missing.jsonl");
    check_error(
        "error-unreadable-transcript",
        &env,
        &[
            "--transcript",
            missing.to_str().unwrap(),
            "--agent",
            "claude-code",
        ],
        1,
    );
}

#[test]
fn an_empty_transcript_is_an_error() {
    let env = Env::new();
    let empty = env.root.join("empty.jsonl");
    std::fs::write(&empty, "").unwrap();
    check_error(
        "error-empty-transcript",
        &env,
        &["--transcript", empty.to_str().unwrap()],
        1,
    );
}

#[test]
fn an_unreadable_redaction_rule_file_is_an_error() {
    let env = Env::new();
    env.git(&["config", "attach.redactionRules", "no-such-rules.toml"]);
    env.claude_session(WORKED_SESSION, WORKED_TRANSCRIPT.as_bytes());
    check_error(
        "error-unreadable-redaction-rules",
        &env,
        &[WORKED_SESSION, "--force"],
        1,
    );
}

#[test]
fn a_checkpoint_named_by_head_but_missing_is_an_error_with_a_fetch_hint() {
    let env = Env::new();
    env.git(&[
        "commit",
        "-q",
        "--amend",
        "-m",
        "feat\n\nEntire-Checkpoint: 0123456789ab\n",
    ]);
    env.claude_session(WORKED_SESSION, WORKED_TRANSCRIPT.as_bytes());
    check_error(
        "error-checkpoint-missing",
        &env,
        &[WORKED_SESSION, "--force"],
        1,
    );
}

#[test]
fn no_session_id_without_a_terminal_is_an_error() {
    let env = Env::new();
    check_error("error-no-session-id", &env, &[], 1);
}

// ---------------------------------------------------------------------------------------------
// Other outcomes of the contract

#[test]
fn disabled_prints_one_line_and_exits_0() {
    let env = Env::new();
    env.git(&["config", "attach.enabled", "false"]);
    let run = check("disabled", &env, &["some-session"]).ok();
    assert_eq!(run.stdout, "git-attach is disabled in this repository\n");
}

#[test]
fn show_settings_names_each_value_and_where_it_came_from() {
    let env = Env::new();
    std::fs::create_dir_all(env.repo.join(".entire")).unwrap();
    std::fs::write(
        env.repo.join(".entire/settings.json"),
        r#"{"strategy_options": {"checkpoints_v2": true}}"#,
    )
    .unwrap();
    env.git(&["config", "attach.agent", "codex"]);
    let run = check(
        "show-settings",
        &env,
        &["--show-settings", "--remote", "upstream"],
    )
    .ok();
    assert_eq!(run.stderr, "");
}

// ---------------------------------------------------------------------------------------------
// Logging: warnings look like git's; -q, -v and GIT_ATTACH_LOG choose what is shown

fn broken_strategy_file(env: &Env) {
    std::fs::create_dir_all(env.repo.join(".entire")).unwrap();
    std::fs::write(env.repo.join(".entire/settings.json"), "{").unwrap();
}

#[test]
fn warnings_are_printed_like_gits_without_timestamps() {
    let env = Env::new();
    broken_strategy_file(&env);
    let run = env.attach(&["--show-settings"]).ok();
    let path = env.repo.join(".entire/settings.json");
    let lines: Vec<&str> = run.stderr.lines().collect();
    assert_eq!(lines.len(), 1, "{lines:?}");
    assert!(
        lines[0].starts_with(&format!(
            "warning: ignoring {}: not valid JSON",
            path.display()
        )),
        "{lines:?}"
    );
}

#[test]
fn quiet_and_git_attach_log_silence_warnings() {
    let env = Env::new();
    broken_strategy_file(&env);
    assert_eq!(env.attach(&["--show-settings", "-q"]).ok().stderr, "");
    let run = Run::from(
        env.attach_cmd(&["--show-settings"])
            .env("GIT_ATTACH_LOG", "error")
            .output()
            .unwrap(),
    )
    .ok();
    assert_eq!(run.stderr, "");
}

#[test]
fn git_attach_log_overrides_quiet_and_verbose_raises_the_level() {
    let env = Env::new();
    broken_strategy_file(&env);
    let run = Run::from(
        env.attach_cmd(&["--show-settings", "-q"])
            .env("GIT_ATTACH_LOG", "warn")
            .output()
            .unwrap(),
    )
    .ok();
    assert!(run.stderr.starts_with("warning: ignoring "), "{run:?}");
    // -vv is debug: everything at warn still shows, with the same prefix.
    let run = env.attach(&["--show-settings", "-vv"]).ok();
    assert!(run.stderr.contains("warning: ignoring "), "{run:?}");
    for line in run.stderr.lines() {
        let level = line.split(':').next().unwrap_or("");
        assert!(
            ["error", "warning", "info", "debug", "trace"].contains(&level),
            "log line without a level prefix: {line:?}"
        );
    }
}
