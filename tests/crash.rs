//! Crash safety (`product.md` §1: objects first, refs last, by compare-and-swap): `git attach` of a
//! large transcript is killed with SIGKILL at random moments; after each kill the repository is
//! valid (`git fsck --strict`), `entire/checkpoints/v1` is at its old value or at a new commit whose
//! parent is the old value, the two v2 refs moved together or not at all, no lock file is left
//! behind, and a following attach succeeds.
//!
//! `GIT_ATTACH_CRASH_RUNS` (default 5), `GIT_ATTACH_CRASH_MB` (default 6) and
//! `GIT_ATTACH_CRASH_SEED` tune the CI test; the ignored test is the long version (50 runs of a
//! 40 MB transcript): `cargo test --test crash -- --ignored`.

mod common;

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use common::*;

const V1: &str = "refs/heads/entire/checkpoints/v1";
const V2_MAIN: &str = "refs/entire/checkpoints/v2/main";
const V2_FULL: &str = "refs/entire/checkpoints/v2/full/current";
const BIG: &str = "7d1c0b1e-big-0000-0000-crashcrash00";

fn env_u64(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(default)
}

/// A small deterministic generator (SplitMix64): the test needs no crate for it.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }

    fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }
}

const WORDS: &[&str] = &[
    "the", "file", "function", "returns", "value", "error", "handle", "test", "main", "struct",
    "impl", "let", "mut", "self", "fn", "pub", "use", "crate", "mod", "match", "Some", "None",
    "Ok", "Err", "String", "vec", "iter", "map", "collect", "into", "refactor", "commit", "branch",
];

fn sentence(rng: &mut Rng, words: usize) -> String {
    let mut s = String::new();
    for i in 0..words {
        if i > 0 {
            s.push(if rng.below(12) == 0 { '\n' } else { ' ' });
        }
        s.push_str(WORDS[rng.below(WORDS.len() as u64) as usize]);
    }
    s
}

/// A realistic Claude Code transcript of about `mb` megabytes: prompts, assistant text, `Write`
/// tool calls with file contents, tool results with command output, usage on every reply.
fn big_transcript(mb: u64, seed: u64) -> Vec<u8> {
    let mut rng = Rng(seed);
    let target = (mb * 1024 * 1024) as usize;
    let mut out = Vec::with_capacity(target + 64 * 1024);
    let mut i = 0u64;
    while out.len() < target {
        i += 1;
        let line = match i % 4 {
            1 => serde_json::json!({
                "type": "user",
                "message": {"role": "user", "content": sentence(&mut rng, 25)},
                "uuid": format!("u-{i}"),
                "sessionId": BIG,
                "timestamp": "2026-04-15T16:20:31.000Z",
            }),
            2 => serde_json::json!({
                "type": "assistant",
                "message": {
                    "id": format!("msg_{i}"),
                    "model": "claude-opus-4",
                    "role": "assistant",
                    "content": [
                        {"type": "text", "text": sentence(&mut rng, 40)},
                        {"type": "tool_use", "id": format!("toolu_{i}"), "name": "Write",
                         "input": {"file_path": format!("/repo/src/m{}.rs", i % 97),
                                   "content": sentence(&mut rng, 700)}},
                    ],
                    "usage": {"input_tokens": 1200, "cache_creation_input_tokens": 10,
                              "cache_read_input_tokens": 3000, "output_tokens": 800},
                },
                "uuid": format!("u-{i}"),
                "sessionId": BIG,
            }),
            3 => serde_json::json!({
                "type": "user",
                "message": {"role": "user", "content": [
                    {"type": "tool_result", "tool_use_id": format!("toolu_{}", i - 1),
                     "content": "File written successfully"}]},
                "toolUseResult": {"stdout": sentence(&mut rng, 300), "stderr": ""},
                "uuid": format!("u-{i}"),
                "sessionId": BIG,
            }),
            _ => serde_json::json!({
                "type": "assistant",
                "message": {
                    "id": format!("msg_{i}"),
                    "model": "claude-opus-4",
                    "role": "assistant",
                    "content": [{"type": "text", "text": sentence(&mut rng, 120)}],
                    "usage": {"input_tokens": 900, "cache_creation_input_tokens": 0,
                              "cache_read_input_tokens": 5000, "output_tokens": 300},
                },
                "uuid": format!("u-{i}"),
                "sessionId": BIG,
            }),
        };
        out.extend_from_slice(line.to_string().as_bytes());
        out.push(b'\n');
    }
    out
}

/// Every `*.lock` file below `dir`.
fn lock_files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(rd) = std::fs::read_dir(&d) else {
            continue;
        };
        for e in rd.flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else if p.extension().is_some_and(|x| x == "lock") {
                out.push(p);
            }
        }
    }
    out.sort();
    out
}

fn first_parent(env: &Env, commit: &str) -> Option<String> {
    env.rev(&format!("{commit}^1"))
}

fn state_file(env: &Env, session: &str) -> PathBuf {
    env.repo
        .join(".git/entire-sessions")
        .join(format!("{session}.json"))
}

/// `git fsck --strict --no-dangling`, returning its report instead of panicking.
fn fsck(env: &Env) -> Result<(), String> {
    let out = env
        .command("git")
        .args(["fsck", "--strict", "--no-dangling"])
        .output()
        .expect("run git fsck");
    if out.status.success() {
        Ok(())
    } else {
        Err(format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ))
    }
}

fn kill_test(runs: u64, mb: u64, seed: u64) {
    let env = Env::new();
    let transcript = big_transcript(mb, seed);
    env.claude_session(BIG, &transcript);
    let mut rng = Rng(seed ^ 0x6b69_6c6c);

    // One uninterrupted run (v2 on) gives the duration the kills are spread over, and old values
    // for every ref.
    let start = Instant::now();
    env.attach(&[BIG, "--no-amend", "--v2"]).ok();
    let mut full = start.elapsed();
    eprintln!(
        "transcript {} bytes; an uninterrupted attach took {full:?}",
        transcript.len()
    );
    let mut landed = 0;
    let mut killed = 0;
    let mut findings: Vec<String> = Vec::new();

    for run in 0..runs {
        std::fs::remove_file(state_file(&env, BIG)).ok();
        let v2 = rng.below(2) == 0;
        let old = (env.rev(V1), env.rev(V2_MAIN), env.rev(V2_FULL));
        // Mostly uniform over the whole run; sometimes near its end, where the refs move.
        let fraction = if rng.below(10) < 3 {
            0.85 + 0.25 * rng.unit()
        } else {
            rng.unit()
        };
        let delay = full.mul_f64(fraction);
        let mut child = env
            .attach_cmd(&[BIG, "--no-amend", if v2 { "--v2" } else { "--no-v2" }])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn git-attach");
        // Sleep until the kill, watching for an early exit: a run that finished first tells how
        // long an attach takes now (the machine's load changes), and later delays follow it.
        let spawned = Instant::now();
        let mut finished = false;
        while spawned.elapsed() < delay {
            if child.try_wait().expect("try_wait").is_some() {
                finished = true;
                full = spawned.elapsed();
                break;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        child.kill().ok(); // SIGKILL
        child.wait().expect("wait");
        let new = (env.rev(V1), env.rev(V2_MAIN), env.rev(V2_FULL));
        killed += usize::from(!finished);
        eprintln!(
            "run {run}: v2={v2} delay={delay:?} ({:.0}%) {} v1 {}",
            fraction * 100.0,
            if finished { "finished" } else { "killed" },
            if new.0 != old.0 { "moved" } else { "kept" }
        );

        if let Err(report) = fsck(&env) {
            panic!("run {run}: fsck after SIGKILL at {delay:?}: {report}");
        }
        // v1: old, or a new commit on top of the old one.
        if new.0 != old.0 {
            landed += 1;
            let tip = new.0.clone().expect("v1 was not deleted");
            assert_eq!(
                first_parent(&env, &tip),
                old.0,
                "run {run}: the new v1 tip does not sit on the old one"
            );
        }
        // v2: both refs old, or both new.
        let main_moved = new.1 != old.1;
        let full_moved = new.2 != old.2;
        assert_eq!(
            main_moved, full_moved,
            "run {run}: one v2 ref moved without the other: {old:?} -> {new:?}"
        );
        if !v2 {
            assert!(!main_moved, "run {run}: v2 refs moved with --no-v2");
        }
        if main_moved {
            assert_eq!(first_parent(&env, new.1.as_deref().unwrap_or("")), old.1);
        }
        // A state file that exists is whole (it is written to a temp file and renamed).
        if let Ok(bytes) = std::fs::read(state_file(&env, BIG)) {
            assert!(
                serde_json::from_slice::<serde_json::Value>(&bytes).is_ok(),
                "run {run}: torn session state file"
            );
        }
        let locks = lock_files(&env.repo.join(".git"));
        if !locks.is_empty() {
            findings.push(format!(
                "run {run} (delay {delay:?}): stale locks {locks:?}"
            ));
        }

        // The repository is usable: a following attach succeeds.
        let small = format!("small-{run}");
        env.claude_session(
            &small,
            claude_transcript("after the crash", &format!("msg_{run}"), 5, 7).as_bytes(),
        );
        let after = env.attach(&[&small, "--no-amend", if v2 { "--v2" } else { "--no-v2" }]);
        assert_eq!(
            after.code, 0,
            "run {run}: the attach after SIGKILL failed (locks: {locks:?}): {after:#?}"
        );
        assert!(
            !after.stderr.contains("warning"),
            "run {run}: the attach after SIGKILL warned: {after:#?}"
        );
    }
    env.fsck();
    eprintln!("{runs} runs: {killed} killed mid-way, {landed} moved v1");
    assert!(
        findings.is_empty(),
        "stale lock files after SIGKILL:\n{}",
        findings.join("\n")
    );
    // The v1 branch is still readable end to end.
    env.git(&["log", "--format=%H", V1]);
}

/// The CI version: a few kills of a medium transcript.
#[test]
fn sigkill_during_attach_leaves_refs_old_or_new() {
    kill_test(
        env_u64("GIT_ATTACH_CRASH_RUNS", 5),
        env_u64("GIT_ATTACH_CRASH_MB", 6),
        env_u64("GIT_ATTACH_CRASH_SEED", 0x0c0ffee),
    );
}

/// The tracker's kill test: 50 runs of a 40 MB transcript.
#[test]
#[ignore = "long: 50 SIGKILLs of a 40 MB attach; run with --ignored"]
fn sigkill_during_attach_50_runs_large_transcript() {
    kill_test(50, 40, env_u64("GIT_ATTACH_CRASH_SEED", 0x005e_ed50));
}
