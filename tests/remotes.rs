//! Checkpoints travelling through remotes (`product.md` §6): a local bare `origin` and clones.
//! A missing checkpoint is fetched and extended, `--push` merges on rejection, diverged histories
//! get a union merge, a real conflict changes nothing, and a fresh clone stays connected.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use common::*;

const V1: &str = "refs/heads/entire/checkpoints/v1";

struct World {
    env: Env,
    origin: PathBuf,
}

impl World {
    /// `env.repo` (clone A's role) with a bare `origin` holding its `main`.
    fn new() -> World {
        let env = Env::new();
        let origin = env.root.join("origin.git");
        env.git(&[
            "init",
            "-q",
            "--bare",
            "-b",
            "main",
            origin.to_str().unwrap(),
        ]);
        env.git(&["remote", "add", "origin", origin.to_str().unwrap()]);
        env.git(&["push", "-q", "origin", "main"]);
        World { env, origin }
    }

    fn clone(&self, name: &str) -> PathBuf {
        let dir = self.env.root.join(name);
        self.env.git(&[
            "clone",
            "-q",
            self.origin.to_str().unwrap(),
            dir.to_str().unwrap(),
        ]);
        self.in_repo(&dir, "git", &["config", "user.name", "Other User"])
            .ok();
        self.in_repo(&dir, "git", &["config", "user.email", "other@example.com"])
            .ok();
        dir
    }

    fn in_repo(&self, dir: &Path, program: &str, args: &[&str]) -> Run {
        let program = if program == "git-attach" {
            BIN
        } else {
            program
        };
        let mut c: Command = self.env.command(program);
        c.current_dir(dir).args(args);
        Run::from(c.output().unwrap())
    }

    fn git(&self, dir: &Path, args: &[&str]) -> String {
        self.in_repo(dir, "git", args).ok().stdout
    }

    fn attach(&self, dir: &Path, args: &[&str]) -> Run {
        self.in_repo(dir, "git-attach", args)
    }

    fn session(&self, dir: &Path, id: &str, prompt: &str) {
        let d = self
            .env
            .home
            .join(".claude/projects")
            .join(claude_dir_name(dir));
        std::fs::create_dir_all(&d).unwrap();
        std::fs::write(
            d.join(format!("{id}.jsonl")),
            claude_transcript(prompt, id, 1, 1),
        )
        .unwrap();
    }

    /// Session ids of checkpoint `cp` on `rev` in `dir`.
    fn sessions(&self, dir: &Path, rev: &str, cp: &str) -> Vec<String> {
        let d = format!("{}/{}", &cp[..2], &cp[2..]);
        let root: serde_json::Value =
            serde_json::from_str(&self.git(dir, &["show", &format!("{rev}:{d}/metadata.json")]))
                .unwrap();
        root["sessions"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| {
                let p = s["metadata"].as_str().unwrap().trim_start_matches('/');
                let m: serde_json::Value =
                    serde_json::from_str(&self.git(dir, &["show", &format!("{rev}:{p}")])).unwrap();
                m["session_id"].as_str().unwrap().to_string()
            })
            .collect()
    }

    fn head_checkpoint(&self, dir: &Path) -> String {
        let msg = self.git(dir, &["log", "-1", "--format=%B"]);
        let line = msg
            .lines()
            .rev()
            .find(|l| l.starts_with("Entire-Checkpoint: "))
            .unwrap();
        line["Entire-Checkpoint: ".len()..].trim().to_string()
    }

    fn origin_rev(&self, r: &str) -> Option<String> {
        let out = self
            .env
            .command("git")
            .current_dir(&self.origin)
            .args(["rev-parse", "--verify", "-q", r])
            .output()
            .unwrap();
        out.status
            .success()
            .then(|| String::from_utf8_lossy(&out.stdout).trim().to_string())
    }

    fn fsck(&self, dir: &Path) {
        self.in_repo(dir, "git", &["fsck", "--strict", "--no-dangling"])
            .ok();
    }
}

#[test]
fn a_pushed_checkpoint_is_fetched_and_extended_by_another_clone() {
    let w = World::new();
    let a = w.env.repo.clone();
    let b = w.clone("b");
    w.git(&a, &["config", "attach.checkpointsV2", "true"]);
    w.session(&a, "s-a", "from a");
    w.attach(&a, &["s-a", "--force"]).ok();
    let cp = w.head_checkpoint(&a);
    w.git(&a, &["push", "-q", "-f", "origin", "main"]);
    let pushed = w.attach(&a, &["--push"]).ok();
    assert!(
        pushed
            .stdout
            .contains(&format!("Pushed {V1} to origin (new)")),
        "{pushed:?}"
    );
    assert!(
        pushed.stdout.contains("refs/entire/checkpoints/v2/main"),
        "{pushed:?}"
    );
    assert!(w
        .origin_rev("refs/entire/checkpoints/v2/full/current")
        .is_some());

    // B gets the amended commit but not the checkpoint branch.
    w.git(&b, &["fetch", "-q", "origin", "main"]);
    w.git(&b, &["reset", "-q", "--hard", "origin/main"]);
    assert!(
        w.in_repo(
            &b,
            "git",
            &[
                "rev-parse",
                "--verify",
                "-q",
                "origin/entire/checkpoints/v1"
            ]
        )
        .code
            != 0
    );
    w.session(&b, "s-b", "from b");
    let run = w.attach(&b, &["s-b", "--force"]).ok();
    assert!(
        run.stdout
            .starts_with("Fetched entire/checkpoints/v1 from origin (fast-forward)\n"),
        "{run:?}"
    );
    assert!(run
        .stdout
        .contains(&format!("Added to existing checkpoint {cp}")));
    w.attach(&b, &["--push"]).ok();
    let origin_tip = w.origin_rev(V1).unwrap();
    assert_eq!(w.git(&b, &["rev-parse", V1]).trim(), origin_tip);
    assert_eq!(w.sessions(&b, V1, &cp), ["s-a", "s-b"]);
    w.fsck(&b);
}

#[test]
fn diverged_histories_are_union_merged_on_push() {
    let w = World::new();
    let a = w.env.repo.clone();
    let b = w.clone("b");
    w.session(&a, "s-a", "a");
    w.session(&b, "s-b", "b");
    w.attach(&a, &["s-a", "--no-amend"]).ok();
    w.attach(&b, &["s-b", "--no-amend"]).ok();
    w.attach(&a, &["--push"]).ok();
    let a_tip = w.git(&a, &["rev-parse", V1]).trim().to_string();
    let b_tip = w.git(&b, &["rev-parse", V1]).trim().to_string();
    let run = w.attach(&b, &["--push"]).ok();
    assert!(
        run.stdout.contains(&format!("Pushed {V1} to origin")),
        "{run:?}"
    );
    let merged = w.origin_rev(V1).unwrap();
    let parents = w.git(&b, &["log", "-1", "--format=%P", &merged]);
    let parents: Vec<&str> = parents.split_whitespace().collect();
    assert_eq!(parents, [b_tip.as_str(), a_tip.as_str()]);
    assert_eq!(
        w.git(&b, &["log", "-1", "--format=%B", &merged]),
        "Merge remote session logs\n\n"
    );
    // Both checkpoints are in the merge.
    let listing = w.git(&b, &["ls-tree", "-r", "--name-only", &merged]);
    let ids: std::collections::BTreeSet<&str> = listing
        .lines()
        .filter(|l| l.ends_with("/0/metadata.json"))
        .map(|l| &l[..13])
        .collect();
    assert_eq!(ids.len(), 2, "{listing}");
    w.fsck(&b);
}

#[test]
fn concurrent_pushes_from_two_clones_keep_both_sessions() {
    let w = World::new();
    let a = w.env.repo.clone();
    let b = w.clone("b");
    w.session(&a, "s-a", "a");
    w.session(&b, "s-b", "b");
    w.attach(&a, &["s-a", "--no-amend"]).ok();
    w.attach(&b, &["s-b", "--no-amend"]).ok();
    let spawn = |dir: &Path| {
        w.env
            .command(BIN)
            .current_dir(dir)
            .arg("--push")
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap()
    };
    let (ca, cb) = (spawn(&a), spawn(&b));
    for c in [ca, cb] {
        let run = Run::from(c.wait_with_output().unwrap());
        assert_eq!(run.code, 0, "{run:#?}");
    }
    let tip = w.origin_rev(V1).unwrap();
    let listing = w.git(&w.origin, &["ls-tree", "-r", "--name-only", &tip]);
    let sessions = listing
        .lines()
        .filter(|l| l.ends_with("/0/metadata.json"))
        .count();
    assert_eq!(sessions, 2, "{listing}");
}

#[test]
fn a_checkpoint_changed_on_both_sides_is_a_conflict_that_changes_nothing() {
    let w = World::new();
    let a = w.env.repo.clone();
    w.session(&a, "s-0", "zero");
    w.attach(&a, &["s-0", "--force"]).ok();
    w.git(&a, &["push", "-q", "-f", "origin", "main"]);
    w.attach(&a, &["--push"]).ok();
    let b = w.clone("b");
    let cp = w.head_checkpoint(&a);
    assert_eq!(w.head_checkpoint(&b), cp);
    w.session(&a, "s-a", "a");
    w.session(&b, "s-b", "b");
    w.attach(&a, &["s-a"]).ok();
    w.attach(&b, &["s-b"]).ok();
    w.attach(&a, &["--push"]).ok();
    let before = w.git(&b, &["rev-parse", V1]);
    let run = w.attach(&b, &["--push"]);
    assert_eq!(run.code, 1, "{run:?}");
    assert!(
        run.stderr.contains(&format!(
            "checkpoint {cp} differs on both sides; nothing was changed"
        )),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("hint: "));
    assert_eq!(
        w.git(&b, &["rev-parse", V1]),
        before,
        "local branch unchanged"
    );
    assert_ne!(
        w.origin_rev(V1).unwrap(),
        before.trim(),
        "remote keeps A's version"
    );
    w.fsck(&b);
}

#[test]
fn a_fresh_clone_extends_the_remote_history() {
    let w = World::new();
    let a = w.env.repo.clone();
    w.session(&a, "s-a", "a");
    w.attach(&a, &["s-a", "--no-amend"]).ok();
    w.attach(&a, &["--push"]).ok();
    let remote_tip = w.origin_rev(V1).unwrap();
    let c = w.clone("c");
    assert!(
        w.in_repo(&c, "git", &["rev-parse", "--verify", "-q", V1])
            .code
            != 0
    );
    w.session(&c, "s-c", "c");
    w.attach(&c, &["s-c", "--no-amend"]).ok();
    assert_eq!(
        w.git(&c, &["rev-parse", &format!("{V1}~1")]).trim(),
        remote_tip
    );
    w.attach(&c, &["--push"]).ok();
    assert_eq!(
        w.origin_rev(&format!("{V1}~1")).unwrap(),
        remote_tip,
        "fast-forward push"
    );
    w.fsck(&c);
}

#[test]
fn a_checkpoint_missing_everywhere_stops_with_a_fetch_hint() {
    let w = World::new();
    let a = w.env.repo.clone();
    w.git(
        &a,
        &[
            "commit",
            "-q",
            "--amend",
            "-m",
            "feat\n\nEntire-Checkpoint: 0123456789ab\n",
        ],
    );
    w.session(&a, "s", "x");
    let before = w.env.snapshot();
    let run = w.attach(&a, &["s", "--force"]);
    assert_eq!(run.code, 1);
    assert!(
        run.stderr
            .contains("error: HEAD names checkpoint 0123456789ab"),
        "{}",
        run.stderr
    );
    assert!(run
        .stderr
        .contains("hint: git fetch origin entire/checkpoints/v1:entire/checkpoints/v1"));
    assert_eq!(w.env.snapshot(), before);
}

#[test]
fn push_without_a_branch_says_so() {
    let w = World::new();
    let run = w.attach(&w.env.repo, &["--push"]).ok();
    assert_eq!(
        run.stdout,
        "Nothing to push to origin: there is no entire/checkpoints/v1 branch yet\n"
    );
}

#[test]
fn a_rejected_push_merges_the_v2_refs_too() {
    let w = World::new();
    let a = w.env.repo.clone();
    let b = w.clone("b");
    for dir in [&a, &b] {
        w.git(dir, &["config", "attach.checkpointsV2", "true"]);
    }
    w.session(&a, "s-a", "a");
    w.session(&b, "s-b", "b");
    w.attach(&a, &["s-a", "--no-amend"]).ok();
    w.attach(&b, &["s-b", "--no-amend"]).ok();
    w.attach(&a, &["--push"]).ok();
    let run = w.attach(&b, &["--push"]).ok();
    assert!(
        run.stdout.contains("refs/entire/checkpoints/v2/main"),
        "{run:?}"
    );
    for r in [
        "refs/entire/checkpoints/v2/main",
        "refs/entire/checkpoints/v2/full/current",
    ] {
        let tip = w.origin_rev(r).unwrap();
        let parents = w.git(&w.origin, &["log", "-1", "--format=%P", &tip]);
        assert_eq!(parents.split_whitespace().count(), 2, "{r} is a merge");
        let listing = w.git(&w.origin, &["ls-tree", "-r", "--name-only", &tip]);
        let checkpoints: std::collections::BTreeSet<&str> =
            listing.lines().map(|l| &l[..13]).collect();
        assert_eq!(checkpoints.len(), 2, "{r}: {listing}");
    }
    // The local refs are the merged ones, and no temporary fetch ref is left behind.
    let local = w.git(&b, &["for-each-ref", "--format=%(refname)"]);
    assert!(!local.contains("refs/git-attach/"), "{local}");
    w.fsck(&b);
}
