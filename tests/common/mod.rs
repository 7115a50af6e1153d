//! Hermetic test environments: a temp directory holding a `HOME` and a repository, commands run
//! with a cleared environment (no global or system git config, fixed dates, repo-local identity),
//! and helpers to place agent sessions and to snapshot everything a run may change.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

pub const BIN: &str = env!("CARGO_BIN_EXE_git-attach");

pub struct Env {
    _dir: tempfile::TempDir,
    pub root: PathBuf,
    pub home: PathBuf,
    pub repo: PathBuf,
}

/// The Claude Code project directory name of a path: every char outside [A-Za-z0-9] becomes `-`.
pub fn claude_dir_name(p: &Path) -> String {
    p.to_string_lossy()
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .collect()
}

impl Env {
    /// A repository with one commit `feat: add hello`.
    pub fn new() -> Env {
        let env = Env::empty();
        env.git(&["init", "-q", "-b", "main"]);
        env.configure_identity();
        std::fs::write(env.repo.join("hello.txt"), "hello\n").unwrap();
        env.git(&["add", "hello.txt"]);
        env.git(&["commit", "-q", "-m", "feat: add hello"]);
        env
    }

    /// A temp dir with `home/` and an empty `repo/` folder (no repository).
    pub fn empty() -> Env {
        let dir = tempfile::tempdir().unwrap();
        let root = std::fs::canonicalize(dir.path()).unwrap();
        let home = root.join("home");
        let repo = root.join("repo");
        std::fs::create_dir_all(&home).unwrap();
        std::fs::create_dir_all(&repo).unwrap();
        Env {
            _dir: dir,
            root,
            home,
            repo,
        }
    }

    pub fn configure_identity(&self) {
        self.git(&["config", "user.name", "Test User"]);
        self.git(&["config", "user.email", "test@example.com"]);
    }

    /// A command with the hermetic environment, run in the repository.
    pub fn command(&self, program: &str) -> Command {
        let mut c = Command::new(program);
        c.env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("HOME", &self.home)
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .env("LANG", "C")
            .env("TZ", "UTC")
            .env("GIT_AUTHOR_DATE", "2026-04-15T16:20:31Z")
            .env("GIT_COMMITTER_DATE", "2026-04-15T16:20:31Z")
            .current_dir(&self.repo)
            .stdin(Stdio::null());
        c
    }

    /// Runs git and returns its stdout; panics on failure.
    pub fn git(&self, args: &[&str]) -> String {
        let out = self.command("git").args(args).output().unwrap();
        assert!(
            out.status.success(),
            "git {args:?} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    }

    /// Raw bytes of `git <args>`.
    pub fn git_bytes(&self, args: &[&str]) -> Vec<u8> {
        let out = self.command("git").args(args).output().unwrap();
        assert!(out.status.success(), "git {args:?} failed");
        out.stdout
    }

    /// The binary with the hermetic environment.
    pub fn attach_cmd(&self, args: &[&str]) -> Command {
        let mut c = self.command(BIN);
        c.args(args);
        c
    }

    pub fn attach(&self, args: &[&str]) -> Run {
        Run::from(self.attach_cmd(args).output().unwrap())
    }

    /// Runs the binary as on a terminal (`GIT_ATTACH_INTERACTIVE=1`) and types `answer`.
    pub fn attach_answering(&self, args: &[&str], answer: &str) -> Run {
        use std::io::Write;
        let mut child = self
            .attach_cmd(args)
            .env("GIT_ATTACH_INTERACTIVE", "1")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        child
            .stdin
            .take()
            .unwrap()
            .write_all(answer.as_bytes())
            .unwrap();
        Run::from(child.wait_with_output().unwrap())
    }

    /// Writes a Claude Code session where Claude keeps it for this repository.
    pub fn claude_session(&self, id: &str, content: &[u8]) -> PathBuf {
        let dir = self
            .home
            .join(".claude/projects")
            .join(claude_dir_name(&self.repo));
        std::fs::create_dir_all(&dir).unwrap();
        let p = dir.join(format!("{id}.jsonl"));
        std::fs::write(&p, content).unwrap();
        p
    }

    pub fn head_message(&self) -> String {
        self.git(&["log", "-1", "--format=%B", "HEAD"])
    }

    pub fn rev(&self, r: &str) -> Option<String> {
        let out = self
            .command("git")
            .args(["rev-parse", "--verify", "-q", r])
            .output()
            .unwrap();
        out.status
            .success()
            .then(|| String::from_utf8_lossy(&out.stdout).trim().to_string())
    }

    /// Every ref with its value and every file of the session-state folder: what a failed run
    /// must leave unchanged.
    pub fn snapshot(&self) -> String {
        let refs = self
            .command("git")
            .args(["for-each-ref", "--format=%(refname) %(objectname)"])
            .output()
            .map(|o| String::from_utf8_lossy(&o.stdout).into_owned())
            .unwrap_or_default();
        let head = self.rev("HEAD").unwrap_or_default();
        let mut state = Vec::new();
        if let Ok(rd) = std::fs::read_dir(self.repo.join(".git/entire-sessions")) {
            for e in rd.flatten() {
                let content = std::fs::read(e.path()).unwrap_or_default();
                state.push(format!(
                    "{} {}",
                    e.file_name().to_string_lossy(),
                    content.len()
                ));
            }
        }
        state.sort();
        format!("HEAD {head}\n{refs}state: {state:?}")
    }

    /// `git fsck --strict` must be clean.
    pub fn fsck(&self) {
        let out = self
            .command("git")
            .args(["fsck", "--strict", "--no-dangling"])
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "fsck failed: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }

    /// `git show entire/checkpoints/v1:<path>` as bytes.
    pub fn v1_file(&self, path: &str) -> Vec<u8> {
        self.git_bytes(&["show", &format!("entire/checkpoints/v1:{path}")])
    }

    /// `path -> blob id` of every file below a tree-ish, recursively.
    pub fn ls_tree(&self, treeish: &str) -> Vec<(String, String)> {
        self.git(&["ls-tree", "-r", treeish])
            .lines()
            .map(|l| {
                let (meta, path) = l.split_once('\t').unwrap();
                (
                    path.to_string(),
                    meta.split(' ').nth(2).unwrap().to_string(),
                )
            })
            .collect()
    }

    /// The checkpoint id HEAD's trailer names.
    pub fn head_checkpoint(&self) -> String {
        let msg = self.head_message();
        let line = msg
            .lines()
            .rev()
            .find(|l| l.starts_with("Entire-Checkpoint: "))
            .expect("HEAD has a trailer");
        line["Entire-Checkpoint: ".len()..].trim().to_string()
    }
}

/// Exit code, stdout and stderr of a run.
#[derive(Debug)]
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl From<Output> for Run {
    fn from(o: Output) -> Run {
        Run {
            code: o.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&o.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&o.stderr).into_owned(),
        }
    }
}

impl Run {
    pub fn ok(self) -> Run {
        assert_eq!(self.code, 0, "expected success: {self:#?}");
        self
    }
}

/// The two-line transcript of the worked example of v1-format.md §12.
pub const WORKED_SESSION: &str = "3f1c2a7e-9b4d-4c1e-8f2a-6d5e4c3b2a10";
pub const WORKED_TRANSCRIPT: &str = concat!(
    r#"{"type":"user","message":{"role":"user","content":"create a hello world file"},"uuid":"uuid-1","sessionId":"3f1c2a7e-9b4d-4c1e-8f2a-6d5e4c3b2a10"}"#,
    "\n",
    r#"{"type":"assistant","message":{"id":"msg_01","model":"claude-sonnet-4-20250514","role":"assistant","content":[{"type":"text","text":"Done! I created hello.txt."}],"usage":{"input_tokens":10,"cache_creation_input_tokens":100,"cache_read_input_tokens":200,"output_tokens":20}},"uuid":"uuid-2","sessionId":"3f1c2a7e-9b4d-4c1e-8f2a-6d5e4c3b2a10"}"#,
    "\n"
);

/// A small Claude transcript with its own prompt, model and usage.
pub fn claude_transcript(prompt: &str, msg_id: &str, input: u64, output: u64) -> String {
    format!(
        "{{\"type\":\"user\",\"message\":{{\"role\":\"user\",\"content\":\"{prompt}\"}},\"uuid\":\"u1\"}}\n\
         {{\"type\":\"assistant\",\"message\":{{\"id\":\"{msg_id}\",\"model\":\"claude-opus-4\",\"role\":\"assistant\",\"content\":[{{\"type\":\"text\",\"text\":\"ok\"}}],\"usage\":{{\"input_tokens\":{input},\"cache_creation_input_tokens\":0,\"cache_read_input_tokens\":0,\"output_tokens\":{output}}}}},\"uuid\":\"u2\"}}\n"
    )
}
