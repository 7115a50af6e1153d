//! Repository shapes: `git attach` in a linked worktree, through `git -C`, with `GIT_DIR` and
//! `GIT_WORK_TREE`, on a detached HEAD, in a shallow clone, under a path with spaces and
//! non-ASCII characters, with read-only objects (clean error) and in a bare repository (clean
//! error). Each test runs the built executable in a hermetic temp directory.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::*;

const SESSION: &str = "5a1e7c3d-2b4f-4d6e-8a9b-0c1d2e3f4a5b";
const V1: &str = "refs/heads/entire/checkpoints/v1";

fn transcript() -> String {
    claude_transcript("shape test", "msg_shape", 11, 22)
}

/// A hermetic command of `env`, run in `dir`.
fn in_dir(env: &Env, dir: &Path, program: &str) -> Command {
    let mut c = env.command(program);
    c.current_dir(dir);
    c
}

fn git_in(env: &Env, dir: &Path, args: &[&str]) -> String {
    let out = in_dir(env, dir, "git")
        .args(args)
        .output()
        .expect("run git");
    assert!(
        out.status.success(),
        "git {args:?} in {}: {}",
        dir.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn attach_in(env: &Env, dir: &Path, args: &[&str]) -> Run {
    Run::from(
        in_dir(env, dir, BIN)
            .args(args)
            .output()
            .expect("run git-attach"),
    )
}

/// Writes a Claude session where Claude keeps it for the worktree root `root`.
fn claude_session_for(env: &Env, root: &Path, id: &str) -> PathBuf {
    let dir = env
        .home
        .join(".claude/projects")
        .join(claude_dir_name(root));
    std::fs::create_dir_all(&dir).expect("mkdir");
    let p = dir.join(format!("{id}.jsonl"));
    std::fs::write(&p, transcript()).expect("write session");
    p
}

fn trailer_of(message: &str) -> Option<String> {
    message
        .lines()
        .rev()
        .find_map(|l| l.strip_prefix("Entire-Checkpoint: "))
        .map(|s| s.trim().to_string())
}

/// A failure reported as git does: exit 1, `error: …` first, at most a `hint:` after, no panic.
fn assert_clean_error(run: &Run) {
    assert_eq!(run.code, 1, "{run:#?}");
    assert_eq!(run.stdout, "", "{run:#?}");
    let lines: Vec<&str> = run.stderr.lines().collect();
    assert!(
        lines.first().is_some_and(|l| l.starts_with("error: ")),
        "{run:#?}"
    );
    assert!(
        lines[1..].iter().all(|l| l.starts_with("hint: ")),
        "{run:#?}"
    );
    assert!(!run.stderr.contains("panicked"), "{run:#?}");
}

#[test]
fn linked_worktree_keeps_state_in_the_common_dir_and_amends_the_worktree_head() {
    let env = Env::new();
    let wt = env.root.join("wt");
    env.git(&[
        "worktree",
        "add",
        "-q",
        "-b",
        "feature",
        wt.to_str().expect("utf-8 path"),
    ]);
    let main_head = env.rev("HEAD").expect("main HEAD");
    // Claude names its project folder after the worktree root, not the main repository.
    claude_session_for(&env, &wt, SESSION);

    let run = attach_in(&env, &wt, &[SESSION, "--force"]).ok();
    assert!(run.stdout.contains("Amended commit"), "{run:#?}");

    let wt_message = git_in(&env, &wt, &["log", "-1", "--format=%B", "HEAD"]);
    let cp = trailer_of(&wt_message).expect("the worktree's HEAD has the trailer");
    assert_eq!(
        env.rev("HEAD").as_deref(),
        Some(main_head.as_str()),
        "main HEAD moved"
    );
    assert_eq!(trailer_of(&env.head_message()), None);
    assert_eq!(
        git_in(&env, &wt, &["symbolic-ref", "HEAD"]).trim(),
        "refs/heads/feature"
    );
    // The state file is in the common dir, shared by every worktree.
    assert!(env
        .repo
        .join(".git/entire-sessions")
        .join(format!("{SESSION}.json"))
        .is_file());
    assert!(!env.repo.join(".git/worktrees/wt/entire-sessions").exists());
    // The checkpoint branch is shared too.
    let dir = format!("{}/{}", &cp[..2], &cp[2..]);
    env.git(&["cat-file", "-e", &format!("{V1}:{dir}/metadata.json")]);
    // Running again from the main worktree finds the recorded session.
    let again = env.attach(&[SESSION, "--no-amend"]).ok();
    assert!(again.stdout.contains(&cp), "{again:#?}");
    env.fsck();
}

#[test]
fn git_dash_c_runs_attach_in_that_directory() {
    let env = Env::new();
    env.claude_session(SESSION, transcript().as_bytes());
    let bin_dir = Path::new(BIN).parent().expect("binary folder");
    let path = std::env::join_paths(std::iter::once(bin_dir.to_path_buf()).chain(
        std::env::split_paths(&std::env::var_os("PATH").unwrap_or_default()),
    ))
    .expect("PATH");
    let elsewhere = env.root.join("elsewhere");
    std::fs::create_dir_all(&elsewhere).expect("mkdir");
    let out = in_dir(&env, &elsewhere, "git")
        .env("PATH", path)
        .args([
            "-C",
            env.repo.to_str().expect("utf-8"),
            "attach",
            SESSION,
            "--force",
        ])
        .output()
        .expect("run git attach");
    let run = Run::from(out).ok();
    assert!(run.stdout.contains("Attached session"), "{run:#?}");
    assert!(trailer_of(&env.head_message()).is_some());
    assert!(!elsewhere.join(".git").exists());
    env.fsck();
}

#[test]
fn git_dir_and_git_work_tree_are_honoured_from_another_directory() {
    let env = Env::new();
    env.claude_session(SESSION, transcript().as_bytes());
    let elsewhere = env.root.join("elsewhere");
    std::fs::create_dir_all(&elsewhere).expect("mkdir");
    let out = in_dir(&env, &elsewhere, BIN)
        .env("GIT_DIR", env.repo.join(".git"))
        .env("GIT_WORK_TREE", &env.repo)
        .args([SESSION, "--force"])
        .output()
        .expect("run git-attach");
    let run = Run::from(out).ok();
    assert!(run.stdout.contains("Amended commit"), "{run:#?}");
    let cp = trailer_of(&env.head_message()).expect("HEAD has the trailer");
    assert!(env
        .repo
        .join(".git/entire-sessions")
        .join(format!("{SESSION}.json"))
        .is_file());
    assert!(!elsewhere.join(".git").exists());
    assert!(std::fs::read_dir(&elsewhere)
        .expect("read")
        .next()
        .is_none());
    let dir = format!("{}/{}", &cp[..2], &cp[2..]);
    env.git(&["cat-file", "-e", &format!("{V1}:{dir}/0/full.jsonl")]);
    env.fsck();
}

#[test]
fn detached_head_is_amended_and_stays_detached() {
    let env = Env::new();
    std::fs::write(env.repo.join("two.txt"), "two\n").expect("write");
    env.git(&["add", "two.txt"]);
    env.git(&["commit", "-q", "-m", "feat: two"]);
    env.git(&["checkout", "-q", "--detach", "HEAD~1"]);
    let main_before = env.rev("refs/heads/main").expect("main");
    let detached = env.rev("HEAD").expect("HEAD");
    env.claude_session(SESSION, transcript().as_bytes());

    let run = env.attach(&[SESSION, "--force"]).ok();
    assert!(run.stdout.contains("Amended commit"), "{run:#?}");
    let head = env.rev("HEAD").expect("HEAD");
    assert_ne!(head, detached, "HEAD was not amended");
    assert_eq!(
        env.rev("HEAD^{tree}"),
        env.rev(&format!("{detached}^{{tree}}"))
    );
    assert_eq!(
        env.rev("HEAD^"),
        None,
        "the amended root commit has no parent"
    );
    assert!(trailer_of(&env.head_message()).is_some());
    let sym = env
        .command("git")
        .args(["symbolic-ref", "-q", "HEAD"])
        .output()
        .expect("git");
    assert!(!sym.status.success(), "HEAD is no longer detached");
    assert_eq!(env.rev("refs/heads/main"), Some(main_before));
    env.fsck();
}

#[test]
fn shallow_clone_attaches_and_amends() {
    let env = Env::new();
    for i in 0..3 {
        std::fs::write(env.repo.join(format!("f{i}.txt")), format!("{i}\n")).expect("write");
        env.git(&["add", "."]);
        env.git(&["commit", "-q", "-m", &format!("feat: {i}")]);
    }
    let clone = env.root.join("clone");
    env.git(&[
        "clone",
        "-q",
        "--depth",
        "1",
        &format!("file://{}", env.repo.display()),
        clone.to_str().expect("utf-8"),
    ]);
    git_in(&env, &clone, &["config", "user.name", "Test User"]);
    git_in(&env, &clone, &["config", "user.email", "test@example.com"]);
    assert!(clone.join(".git/shallow").is_file());
    claude_session_for(&env, &clone, SESSION);

    let run = attach_in(&env, &clone, &[SESSION, "--force"]).ok();
    assert!(run.stdout.contains("Amended commit"), "{run:#?}");
    let msg = git_in(&env, &clone, &["log", "-1", "--format=%B", "HEAD"]);
    assert!(trailer_of(&msg).is_some(), "{msg}");
    assert_eq!(
        git_in(&env, &clone, &["rev-list", "--count", "HEAD"]).trim(),
        "1"
    );
    assert!(clone.join(".git/shallow").is_file());
    git_in(&env, &clone, &["rev-parse", "--verify", V1]);
    git_in(&env, &clone, &["fsck", "--strict", "--no-dangling"]);
}

#[test]
fn paths_with_spaces_and_non_ascii_characters() {
    let mut env = Env::empty();
    env.repo = env.root.join("my repo ü/src tree ✓");
    env.home = env.root.join("home dir é");
    std::fs::create_dir_all(&env.repo).expect("mkdir repo");
    std::fs::create_dir_all(&env.home).expect("mkdir home");
    env.git(&["init", "-q", "-b", "main"]);
    env.configure_identity();
    std::fs::write(env.repo.join("hello ü.txt"), "hello\n").expect("write");
    env.git(&["add", "."]);
    env.git(&["commit", "-q", "-m", "feat: add hello"]);
    env.claude_session(SESSION, transcript().as_bytes());

    let run = env.attach(&[SESSION, "--force"]).ok();
    assert!(run.stdout.contains("Amended commit"), "{run:#?}");
    let cp = env.head_checkpoint();
    let dir = format!("{}/{}", &cp[..2], &cp[2..]);
    let stored = env.v1_file(&format!("{dir}/0/full.jsonl"));
    assert_eq!(stored, transcript().as_bytes());
    assert!(env
        .repo
        .join(".git/entire-sessions")
        .join(format!("{SESSION}.json"))
        .is_file());

    // --transcript with such a path, too.
    let t = env.root.join("transcripts ü/other session ✓.jsonl");
    std::fs::create_dir_all(t.parent().expect("parent")).expect("mkdir");
    std::fs::write(&t, transcript()).expect("write");
    let run = env
        .attach(&["--transcript", t.to_str().expect("utf-8"), "--no-amend"])
        .ok();
    assert!(
        run.stdout.contains("Attached session other session ✓"),
        "{run:#?}"
    );
    env.fsck();
}

fn is_root() -> bool {
    // A read-only directory stops everyone but root (CAP_DAC_OVERRIDE).
    let dir = tempfile::tempdir().expect("temp dir");
    let ro = dir.path().join("ro");
    std::fs::create_dir(&ro).expect("mkdir");
    chmod(&ro, "a-w");
    let writable = std::fs::write(ro.join("probe"), b"x").is_ok();
    chmod(&ro, "u+w");
    writable
}

fn chmod(p: &Path, mode: &str) {
    let ok = Command::new("chmod")
        .args(["-R", mode])
        .arg(p)
        .status()
        .expect("chmod")
        .success();
    assert!(ok, "chmod {mode} {}", p.display());
}

#[test]
fn read_only_objects_fail_cleanly_and_move_nothing() {
    let env = Env::new();
    // Several commits so that attach has a v1 branch to move already.
    env.claude_session("first", claude_transcript("first", "m1", 1, 2).as_bytes());
    env.attach(&["first", "--no-amend"]).ok();
    env.claude_session(SESSION, transcript().as_bytes());
    let objects = env.repo.join(".git/objects");
    let before = env.snapshot();

    let mut cmd = env.attach_cmd(&[SESSION, "--force"]);
    let root = is_root();
    if root {
        // Root ignores permissions: run the binary as `nobody`, owner of everything but the
        // objects (which stay read-only for it). git and libgit2 check ownership, so both are
        // told the directory is safe through the temp HOME's global config.
        if Command::new("setpriv").arg("--help").output().is_err() {
            eprintln!("skipped: running as root and setpriv is not available");
            return;
        }
        std::fs::write(env.home.join(".gitconfig"), "[safe]\n\tdirectory = *\n")
            .expect("write .gitconfig");
        let ok = Command::new("chown")
            .args(["-R", "nobody:nogroup"])
            .arg(&env.root)
            .status()
            .expect("chown")
            .success();
        assert!(ok, "chown to nobody");
        let mut c = env.command("setpriv");
        c.args([
            "--reuid=nobody",
            "--regid=nogroup",
            "--clear-groups",
            "--",
            BIN,
            SESSION,
            "--force",
        ]);
        cmd = c;
    }
    chmod(&objects, "a-w");
    let run = Run::from(cmd.output().expect("run git-attach"));
    chmod(&objects, "u+w");
    if root {
        Command::new("chown")
            .args(["-R", "root:root"])
            .arg(&env.root)
            .status()
            .expect("chown back");
    }
    eprintln!("as root: {root}; {run:?}");
    assert_clean_error(&run);
    assert!(
        run.stderr.contains("objects") || run.stderr.contains("ermission"),
        "the error should say what could not be written: {run:#?}"
    );
    assert_eq!(env.snapshot(), before, "a ref or the state moved");
    assert_eq!(trailer_of(&env.head_message()), None);
    env.fsck();
    // With the permissions back, the same attach works.
    env.attach(&[SESSION, "--force"]).ok();
}

#[test]
fn bare_repository_fails_cleanly() {
    let env = Env::empty();
    let bare = env.root.join("bare.git");
    env.git(&[
        "init",
        "-q",
        "--bare",
        "-b",
        "main",
        bare.to_str().expect("utf-8"),
    ]);
    env.claude_session(SESSION, transcript().as_bytes());
    let run = attach_in(&env, &bare, &[SESSION, "--force"]);
    assert_clean_error(&run);
    assert!(run.stderr.contains("bare"), "{run:#?}");
    let refs = git_in(&env, &bare, &["for-each-ref"]);
    assert_eq!(refs, "", "a bare repository got refs");
    assert!(!bare.join("entire-sessions").exists());
    // Through GIT_DIR as well.
    let out = in_dir(&env, &env.root, BIN)
        .env("GIT_DIR", &bare)
        .args([SESSION, "--force"])
        .output()
        .expect("run");
    assert_clean_error(&Run::from(out));
}
