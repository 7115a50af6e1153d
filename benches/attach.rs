//! End-to-end performance benchmark of `git attach` (the "Performance and scale" tracker issue).
//!
//! Not a test: run with `cargo bench --bench attach` (about 10 minutes; `BENCH_RUNS=n` changes
//! the number of runs per case, default 5; `BENCH_DIR=path` keeps the generated inputs there
//! instead of a temp directory). It runs the release-optimized binary that cargo builds for
//! benchmarks as whole processes in hermetic temp repositories (`HOME` in the temp dir,
//! `GIT_CONFIG_NOSYSTEM=1`, repo-local identity, `GIT_ATTACH_INTERACTIVE=0`, `--no-amend`), and
//! prints one table of medians and of ratios measured in the same run.
//!
//! Inputs are generated deterministically: Claude Code transcripts (user prompts, assistant text
//! with streaming duplicates of one message id, tool_use and tool_result lines carrying file
//! contents, a secret every ~200 lines) of 1, 10, 100 and 120 MB, and `entire/checkpoints/v1`
//! branches holding 0, 1 000, 10 000 and 100 000 checkpoints, written with `git fast-import`.
//!
//! Every attach is checked: the checkpoint named by `--json` exists, its `full.jsonl[.NNN]` chunks
//! are as many as the JSONL chunker must produce, their reassembly hashes to `content_hash.txt`,
//! and that hash is the SHA-256 of the input redacted in-process with the built-in rules. With
//! `--v2`, `/full/current` must hold the same raw blobs and `/main` a compact transcript. A fast
//! wrong answer stops the benchmark with an error.

use std::collections::HashSet;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant, SystemTime};

use git_attach::redact::Redactor;
use sha2::{Digest, Sha256};

const BIN: &str = env!("CARGO_BIN_EXE_git-attach");
const MB: usize = 1_000_000;
/// Entire's `MaxChunkSize`.
const MAX_CHUNK: usize = 50 * 1024 * 1024;
const HISTORY: [usize; 4] = [0, 1_000, 10_000, 100_000];
const BACKFILL_SESSIONS: usize = 1_000;
const SMALL: usize = 100_000;

type Res<T> = Result<T, String>;

#[path = "support/gen.rs"]
mod gen;
use gen::{transcript, Rng};

/// The number of chunks Entire's JSONL chunker makes of `content` (`v1-format.md` §8.3).
fn expected_chunks(content: &[u8]) -> usize {
    if content.len() <= MAX_CHUNK {
        return 1;
    }
    let (mut chunks, mut buf) = (0, 0usize);
    for l in content.split(|b| *b == b'\n') {
        let cost = l.len() + 1;
        if buf + cost > MAX_CHUNK && buf > 0 {
            chunks += 1;
            buf = 0;
        }
        buf += cost;
    }
    chunks + usize::from(buf > 0)
}

fn sha256_hex(b: &[u8]) -> String {
    format!("{:x}", Sha256::digest(b))
}

// ---------------------------------------------------------------------------------------------
// Hermetic repositories and processes.

struct Sandbox {
    root: PathBuf,
    home: PathBuf,
    repo: PathBuf,
}

fn hermetic(program: &str, s: &Sandbox) -> Command {
    let mut c = Command::new(program);
    c.env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("HOME", &s.home)
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_ATTACH_INTERACTIVE", "0")
        .env("LANG", "C")
        .env("TZ", "UTC")
        .current_dir(&s.repo)
        .stdin(Stdio::null());
    c
}

fn run_ok(mut c: Command, what: &str) -> Res<Output> {
    let out = c.output().map_err(|e| format!("{what}: {e}"))?;
    if !out.status.success() {
        return Err(format!(
            "{what} failed: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    Ok(out)
}

impl Sandbox {
    /// `<root>/home` and a repository `<root>/repo` with one commit on `main`.
    fn new(root: PathBuf) -> Res<Sandbox> {
        let _ = std::fs::remove_dir_all(&root);
        let home = root.join("home");
        let repo = root.join("repo");
        std::fs::create_dir_all(&home).map_err(|e| e.to_string())?;
        std::fs::create_dir_all(&repo).map_err(|e| e.to_string())?;
        let s = Sandbox { root, home, repo };
        s.git(&["init", "-q", "-b", "main"])?;
        s.git(&["config", "user.name", "Bench User"])?;
        s.git(&["config", "user.email", "bench@example.com"])?;
        std::fs::write(s.repo.join("README"), "bench\n").map_err(|e| e.to_string())?;
        s.git(&["add", "README"])?;
        s.git(&["commit", "-q", "-m", "init"])?;
        Ok(s)
    }

    fn git(&self, args: &[&str]) -> Res<String> {
        let mut c = hermetic("git", self);
        c.args(args);
        let out = run_ok(c, &format!("git {}", args.join(" ")))?;
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    }

    fn git_bytes(&self, args: &[&str]) -> Res<Vec<u8>> {
        let mut c = hermetic("git", self);
        c.args(args);
        Ok(run_ok(c, &format!("git {}", args.join(" ")))?.stdout)
    }

    /// Places `src` as Claude session `id` of this repository (a hard link when possible) with a
    /// modification time an hour ago, as for a session that has ended.
    fn session(&self, id: &str, src: &Path) -> Res<PathBuf> {
        let name: String = self
            .repo
            .to_string_lossy()
            .chars()
            .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
            .collect();
        let dir = self.home.join(".claude/projects").join(name);
        std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
        let dst = dir.join(format!("{id}.jsonl"));
        let _ = std::fs::remove_file(&dst);
        if std::fs::hard_link(src, &dst).is_err() {
            std::fs::copy(src, &dst).map_err(|e| e.to_string())?;
        }
        let old = SystemTime::now() - Duration::from_secs(3600);
        std::fs::File::options()
            .write(true)
            .open(&dst)
            .and_then(|f| f.set_modified(old))
            .map_err(|e| e.to_string())?;
        Ok(dst)
    }

    /// Runs `git attach <id> --no-amend --json [extra]`; returns the wall time, the peak RSS in
    /// bytes when measured, and the parsed `--json` report.
    fn attach(&self, id: &str, extra: &[&str], rss: bool) -> Res<(Duration, Option<u64>, Report)> {
        let rss_file = self.root.join("rss.txt");
        let mut c = if rss {
            let mut c = hermetic("/usr/bin/time", self);
            c.arg("-f").arg("%M").arg("-o").arg(&rss_file).arg(BIN);
            c
        } else {
            hermetic(BIN, self)
        };
        c.arg(id).args(["--no-amend", "--json"]).args(extra);
        let start = Instant::now();
        let out = run_ok(c, &format!("git attach {id}"))?;
        let took = start.elapsed();
        let peak = if rss {
            let text = std::fs::read_to_string(&rss_file).map_err(|e| e.to_string())?;
            let kb: u64 = text
                .lines()
                .last()
                .and_then(|l| l.trim().parse().ok())
                .ok_or_else(|| format!("cannot read GNU time output {text:?}"))?;
            Some(kb * 1024)
        } else {
            None
        };
        let report: serde_json::Value = serde_json::from_slice(&out.stdout)
            .map_err(|e| format!("attach printed no JSON report ({e})"))?;
        let field = |k: &str| report.get(k).and_then(|v| v.as_str()).map(str::to_string);
        let report = Report {
            checkpoint: field("checkpoint_id").ok_or("no checkpoint_id in the report")?,
            slot: report
                .get("slot")
                .and_then(|v| v.as_u64())
                .ok_or("no slot in the report")? as usize,
            created: report.get("created").and_then(|v| v.as_bool()) == Some(true),
        };
        Ok((took, peak, report))
    }

    /// Checks the attached slot: chunk count, reassembled bytes against `content_hash.txt` and
    /// against the expected hash; with v2, the raw blobs and the compact transcript.
    fn verify(&self, r: &Report, want_hash: &str, want_chunks: usize, v2: bool) -> Res<()> {
        let dir = format!("{}/{}/{}", &r.checkpoint[..2], &r.checkpoint[2..], r.slot);
        let v1 = "refs/heads/entire/checkpoints/v1";
        let names = self.git(&["ls-tree", "--name-only", &format!("{v1}:{dir}")])?;
        let mut chunks: Vec<&str> = names
            .lines()
            .filter(|n| *n == "full.jsonl" || n.starts_with("full.jsonl."))
            .collect();
        chunks.sort();
        if chunks.len() != want_chunks {
            return Err(format!(
                "checkpoint {dir}: {} chunks, expected {want_chunks}",
                chunks.len()
            ));
        }
        let mut hasher = Sha256::new();
        for (i, c) in chunks.iter().enumerate() {
            if i > 0 {
                hasher.update(b"\n");
            }
            hasher.update(self.git_bytes(&["cat-file", "blob", &format!("{v1}:{dir}/{c}")])?);
        }
        let got = format!("sha256:{:x}", hasher.finalize());
        let stored = self.git(&["cat-file", "blob", &format!("{v1}:{dir}/content_hash.txt")])?;
        if got != stored || got != format!("sha256:{want_hash}") {
            return Err(format!(
                "checkpoint {dir}: chunks hash to {got}, content_hash.txt says {stored}, \
                 expected sha256:{want_hash}"
            ));
        }
        if v2 {
            let full = "refs/entire/checkpoints/v2/full/current";
            for (i, c) in chunks.iter().enumerate() {
                let raw = if i == 0 {
                    "raw_transcript".to_string()
                } else {
                    format!("raw_transcript.{:03}", i)
                };
                let a = self.git(&["rev-parse", &format!("{v1}:{dir}/{c}")])?;
                let b = self.git(&["rev-parse", &format!("{full}:{dir}/{raw}")])?;
                if a != b {
                    return Err(format!("v2 {dir}/{raw} is not v1's {c}"));
                }
            }
            let main = "refs/entire/checkpoints/v2/main";
            let size = self.git(&["cat-file", "-s", &format!("{main}:{dir}/transcript.jsonl")])?;
            if size.trim().parse::<u64>().unwrap_or(0) == 0 {
                return Err(format!("v2 {dir}/transcript.jsonl is empty"));
            }
        }
        Ok(())
    }
}

impl Sandbox {
    /// `git count-objects`: the number of loose objects (fast-import's history is packed).
    fn loose_objects(&self) -> Res<u64> {
        let out = self.git(&["count-objects"])?;
        out.split_whitespace()
            .next()
            .and_then(|n| n.parse().ok())
            .ok_or_else(|| format!("cannot read git count-objects: {out:?}"))
    }
}

struct Report {
    checkpoint: String,
    slot: usize,
    created: bool,
}

// ---------------------------------------------------------------------------------------------
// Statistics and the table.

fn median(v: &[Duration]) -> Duration {
    let mut v = v.to_vec();
    v.sort();
    v[v.len() / 2]
}

fn secs(d: Duration) -> String {
    let s = d.as_secs_f64();
    if s < 1.0 {
        format!("{:.1} ms", s * 1e3)
    } else {
        format!("{s:.3} s")
    }
}

struct Table {
    rows: Vec<[String; 3]>,
}

impl Table {
    fn row(&mut self, what: &str, value: String, goal: &str, ok: Option<bool>) {
        let verdict = match ok {
            Some(true) => "met",
            Some(false) => "NOT met",
            None => "",
        };
        let goal = if goal.is_empty() {
            String::new()
        } else {
            format!("{goal} {verdict}")
        };
        self.rows.push([what.to_string(), value, goal]);
        println!(
            "  {what}: {}",
            self.rows.last().map_or("", |r| r[1].as_str())
        );
    }

    fn print(&self) {
        let w0 = self
            .rows
            .iter()
            .map(|r| r[0].chars().count())
            .max()
            .unwrap_or(0);
        let w1 = self
            .rows
            .iter()
            .map(|r| r[1].chars().count())
            .max()
            .unwrap_or(0);
        println!();
        println!("| {:<w0$} | {:>w1$} | goal |", "case", "median / ratio");
        println!("|{}|{}:|------|", "-".repeat(w0 + 2), "-".repeat(w1 + 1));
        for r in &self.rows {
            println!("| {:<w0$} | {:>w1$} | {} |", r[0], r[1], r[2]);
        }
    }
}

// ---------------------------------------------------------------------------------------------
// History repositories with `git fast-import`.

/// Adds a commit holding `n` valid checkpoints (root summary, slot 0 with metadata, transcript
/// and hash) on top of an `Initialize sessions branch` root. Returns the checkpoint ids.
fn build_history(s: &Sandbox, n: usize) -> Res<Vec<String>> {
    let mut rng = Rng::new(0xC0FFEE + n as u64);
    let mut ids = Vec::with_capacity(n);
    let mut seen = HashSet::new();
    while ids.len() < n {
        let id = rng.hex(12);
        if seen.insert(id.clone()) {
            ids.push(id);
        }
    }
    let body = b"{\"type\":\"user\",\"message\":{\"role\":\"user\",\"content\":\"hello\"},\"uuid\":\"u\"}\n";
    let hash = format!("sha256:{}", sha256_hex(body));
    let mut st: Vec<u8> = Vec::with_capacity(n * 1400 + 4096);
    let data = |st: &mut Vec<u8>, b: &[u8]| {
        let _ = writeln!(st, "data {}", b.len());
        st.extend_from_slice(b);
        st.push(b'\n');
    };
    st.extend_from_slice(b"blob\nmark :1\n");
    data(&mut st, body);
    st.extend_from_slice(b"blob\nmark :2\n");
    data(&mut st, hash.as_bytes());
    let who = "Bench <bench@example.com> 1767225600 +0000";
    let _ = writeln!(
        st,
        "commit refs/heads/entire/checkpoints/v1\nmark :3\ncommitter {who}"
    );
    data(&mut st, b"Initialize sessions branch");
    if n > 0 {
        let _ = writeln!(
            st,
            "commit refs/heads/entire/checkpoints/v1\ncommitter {who}"
        );
        data(&mut st, format!("History of {n} checkpoints\n").as_bytes());
        st.extend_from_slice(b"from :3\n");
        for id in &ids {
            let p = format!("{}/{}", &id[..2], &id[2..]);
            let root = format!(
                "{{\n  \"cli_version\": \"0.5.1\",\n  \"checkpoint_id\": \"{id}\",\n  \"strategy\": \"manual-commit\",\n  \"checkpoints_count\": 1,\n  \"files_touched\": [\n    \"src/main.rs\"\n  ],\n  \"sessions\": [\n    {{\n      \"metadata\": \"/{p}/0/metadata.json\",\n      \"transcript\": \"/{p}/0/full.jsonl\",\n      \"content_hash\": \"/{p}/0/content_hash.txt\",\n      \"prompt\": \"\"\n    }}\n  ],\n  \"token_usage\": {{\n    \"input_tokens\": 10,\n    \"cache_creation_tokens\": 0,\n    \"cache_read_tokens\": 0,\n    \"output_tokens\": 20,\n    \"api_call_count\": 1\n  }}\n}}\n"
            );
            let slot = format!(
                "{{\n  \"cli_version\": \"0.5.1\",\n  \"checkpoint_id\": \"{id}\",\n  \"session_id\": \"hist-{id}\",\n  \"strategy\": \"manual-commit\",\n  \"created_at\": \"2026-01-01T00:00:00Z\",\n  \"checkpoints_count\": 1,\n  \"files_touched\": [\n    \"src/main.rs\"\n  ],\n  \"agent\": \"Claude Code\",\n  \"token_usage\": {{\n    \"input_tokens\": 10,\n    \"cache_creation_tokens\": 0,\n    \"cache_read_tokens\": 0,\n    \"output_tokens\": 20,\n    \"api_call_count\": 1\n  }}\n}}\n"
            );
            let _ = writeln!(st, "M 100644 inline {p}/metadata.json");
            data(&mut st, root.as_bytes());
            let _ = writeln!(st, "M 100644 inline {p}/0/metadata.json");
            data(&mut st, slot.as_bytes());
            let _ = writeln!(st, "M 100644 :1 {p}/0/full.jsonl");
            let _ = writeln!(st, "M 100644 :2 {p}/0/content_hash.txt");
        }
    }
    st.extend_from_slice(b"done\n");
    let mut c = hermetic("git", s);
    c.args(["fast-import", "--quiet", "--done"])
        .stdin(Stdio::piped())
        .stdout(Stdio::null());
    let mut child = c.spawn().map_err(|e| format!("git fast-import: {e}"))?;
    child
        .stdin
        .take()
        .ok_or("no stdin")?
        .write_all(&st)
        .map_err(|e| format!("git fast-import: {e}"))?;
    let status = child.wait().map_err(|e| e.to_string())?;
    if !status.success() {
        return Err("git fast-import failed".into());
    }
    Ok(ids)
}

// ---------------------------------------------------------------------------------------------

struct Inputs {
    dir: PathBuf,
    redactor: Redactor,
}

impl Inputs {
    /// Writes a transcript file; returns its path, the expected stored hash and chunk count.
    fn put(&self, name: &str, bytes: &[u8]) -> Res<(PathBuf, String, usize)> {
        let path = self.dir.join(name);
        std::fs::write(&path, bytes).map_err(|e| e.to_string())?;
        let redacted = self
            .redactor
            .transcript(bytes)
            .map_err(|e| format!("redaction failed: {e}"))?;
        Ok((path, sha256_hex(&redacted), expected_chunks(&redacted)))
    }
}

fn main() {
    if let Err(e) = run() {
        eprintln!("error: {e}");
        std::process::exit(1);
    }
}

fn run() -> Res<()> {
    let runs: usize = std::env::var("BENCH_RUNS")
        .ok()
        .and_then(|v| v.parse().ok())
        .filter(|n| *n > 0)
        .unwrap_or(5);
    let _tmp;
    let work = match std::env::var_os("BENCH_DIR") {
        Some(d) => PathBuf::from(d),
        None => {
            _tmp = tempfile::tempdir().map_err(|e| e.to_string())?;
            _tmp.path().to_path_buf()
        }
    };
    let work = {
        std::fs::create_dir_all(&work).map_err(|e| e.to_string())?;
        std::fs::canonicalize(&work).map_err(|e| e.to_string())?
    };
    let have_time = Path::new("/usr/bin/time").exists();
    if !have_time {
        println!("note: /usr/bin/time (GNU time) is missing; peak RSS is not measured (apt-get install -y time)");
    }
    let inputs = Inputs {
        dir: work.join("inputs"),
        redactor: Redactor::builtin().map_err(|e| e.to_string())?,
    };
    std::fs::create_dir_all(&inputs.dir).map_err(|e| e.to_string())?;
    let mut table = Table { rows: Vec::new() };
    println!(
        "binary: {BIN}\nwork dir: {}\nruns per case: {runs}",
        work.display()
    );

    let only = std::env::var("BENCH_ONLY").unwrap_or_default();
    let want = |section: &str| only.is_empty() || only.split(',').any(|s| s == section);

    // Transcripts.
    let t = Instant::now();
    let mut sizes = Vec::new();
    for mb in [1usize, 10, 100, 120]
        .into_iter()
        .filter(|_| want("sizes") || want("redact"))
    {
        let bytes = transcript(mb as u64, mb * MB);
        let (path, hash, chunks) = inputs.put(&format!("t{mb}.jsonl"), &bytes)?;
        sizes.push((mb, path, hash, chunks, bytes.len()));
    }
    println!("generated transcripts in {:.1}s", t.elapsed().as_secs_f64());

    // Redaction throughput, in-process, on the 100 MB transcript.
    if want("redact") {
        let bytes = std::fs::read(&sizes[2].1).map_err(|e| e.to_string())?;
        let mut times = Vec::new();
        for _ in 0..runs.min(3) {
            let start = Instant::now();
            let out = inputs
                .redactor
                .transcript(&bytes)
                .map_err(|e| e.to_string())?;
            times.push(start.elapsed());
            if sha256_hex(&out) != sizes[2].2 {
                return Err("redaction is not deterministic".into());
            }
        }
        let mbps = bytes.len() as f64 / 1e6 / median(&times).as_secs_f64();
        table.row(
            "redaction throughput (Redactor::transcript, 100 MB, in-process)",
            format!("{mbps:.0} MB/s"),
            "≥ 100 MB/s",
            Some(mbps >= 100.0),
        );
    }

    // Floor, v1 and v2 attach per size; peak RSS on 100 MB.
    let mut at100 = (Duration::ZERO, Duration::ZERO, Duration::ZERO, 0u64);
    for (mb, path, hash, chunks, len) in sizes.iter().filter(|_| want("sizes")) {
        let (mut floor, mut v1, mut v2, mut rss) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
        for r in 0..runs {
            let s = Sandbox::new(work.join("floor"))?;
            let mut c = hermetic("git", &s);
            c.arg("hash-object").arg("-w").arg(path);
            let start = Instant::now();
            run_ok(c, "git hash-object -w")?;
            floor.push(start.elapsed());

            for (v2on, times) in [(false, &mut v1), (true, &mut v2)] {
                let s = Sandbox::new(work.join(if v2on { "v2" } else { "v1" }))?;
                let id = format!("bench-{mb}mb-{r}");
                s.session(&id, path)?;
                let extra: &[&str] = if v2on { &["--v2"] } else { &[] };
                let (took, peak, report) = s.attach(&id, extra, have_time && *mb == 100)?;
                s.verify(&report, hash, *chunks, v2on)?;
                times.push(took);
                if let (Some(p), false) = (peak, v2on) {
                    rss.push(p);
                }
            }
        }
        let (f, a1, a2) = (median(&floor), median(&v1), median(&v2));
        println!(
            "{mb} MB ({len} bytes, {chunks} chunk(s)): hash-object {}, attach {}, attach --v2 {}",
            secs(f),
            secs(a1),
            secs(a2)
        );
        table.row(&format!("git hash-object -w, {mb} MB"), secs(f), "", None);
        table.row(
            &format!("attach (v1), {mb} MB, {chunks} chunk(s)"),
            secs(a1),
            "",
            None,
        );
        table.row(&format!("attach --v2, {mb} MB"), secs(a2), "", None);
        if *mb == 100 {
            rss.sort();
            let peak = rss.get(rss.len() / 2).copied().unwrap_or(0);
            at100 = (f, a1, a2, peak);
        }
    }
    let (f, a1, a2, peak) = at100;
    let r1 = a1.as_secs_f64() / f.as_secs_f64();
    let r2 = a2.as_secs_f64() / f.as_secs_f64();
    if want("sizes") {
        table.row(
            "attach (v1) 100 MB ÷ hash-object floor",
            format!("{r1:.2}"),
            "≤ 1.5",
            Some(r1 <= 1.5),
        );
        table.row(
            "attach --v2 100 MB ÷ hash-object floor",
            format!("{r2:.2}"),
            "≤ 2.0",
            Some(r2 <= 2.0),
        );
    }
    if have_time && want("sizes") {
        let ratio = peak as f64 / sizes[2].4 as f64;
        table.row(
            "peak RSS of the 100 MB attach ÷ transcript size",
            format!("{ratio:.2} ({} MiB)", peak / (1024 * 1024)),
            "≤ 3",
            Some(ratio <= 3.0),
        );
    }

    // Whole-process wall time of a 100 KB session.
    if want("small") {
        let bytes = transcript(7, SMALL);
        let (path, hash, chunks) = inputs.put("t100k.jsonl", &bytes)?;
        let mut times = Vec::new();
        for r in 0..runs.max(10) {
            let s = Sandbox::new(work.join("small"))?;
            let id = format!("bench-small-{r}");
            s.session(&id, &path)?;
            let (took, _, report) = s.attach(&id, &[], false)?;
            s.verify(&report, &hash, chunks, false)?;
            times.push(took);
        }
        let m = median(&times);
        table.row(
            &format!(
                "attach (v1) of a {} KB session, whole process",
                bytes.len() / 1000
            ),
            secs(m),
            "≤ 50 ms",
            Some(m <= Duration::from_millis(50)),
        );
    }

    // History independence: 1 MB transcript into branches of 0 … 100 000 checkpoints.
    let base = transcript(1, MB);
    let mut new_cp = Vec::new();
    let mut objects_per_attach: Option<Vec<u64>> = None;
    let mut old_cp = Vec::new();
    for n in HISTORY.into_iter().filter(|_| want("history")) {
        let s = Sandbox::new(work.join(format!("hist{n}")))?;
        let t = Instant::now();
        let ids = build_history(&s, n)?;
        println!(
            "built {n} checkpoints with fast-import in {:.1}s",
            t.elapsed().as_secs_f64()
        );
        let (mut a, mut b) = (Vec::new(), Vec::new());
        let mut written = Vec::new();
        for r in 0..runs {
            // A distinct transcript per run, so each run writes its own blobs.
            let mut bytes = base.clone();
            bytes.extend_from_slice(
                format!(
                    "{{\"type\":\"summary\",\"summary\":\"run {n}-{r}\",\"leafUuid\":\"x\"}}\n"
                )
                .as_bytes(),
            );
            let (path, hash, chunks) = inputs.put("hist.jsonl", &bytes)?;
            let id = format!("hist-new-{r}");
            s.session(&id, &path)?;
            let before = s.loose_objects()?;
            let (took, _, report) = s.attach(&id, &[], false)?;
            written.push(s.loose_objects()? - before);
            if !report.created {
                return Err("attach into history did not create a checkpoint".into());
            }
            s.verify(&report, &hash, chunks, false)?;
            a.push(took);
        }
        if let Some(target) = ids.get(ids.len() / 2) {
            s.git(&[
                "commit",
                "-q",
                "--allow-empty",
                "-m",
                &format!("work\n\nEntire-Checkpoint: {target}"),
            ])?;
            for r in 0..runs {
                let mut bytes = base.clone();
                bytes.extend_from_slice(
                    format!(
                        "{{\"type\":\"summary\",\"summary\":\"add {n}-{r}\",\"leafUuid\":\"y\"}}\n"
                    )
                    .as_bytes(),
                );
                let (path, hash, chunks) = inputs.put("hist.jsonl", &bytes)?;
                let id = format!("hist-add-{r}");
                s.session(&id, &path)?;
                let (took, _, report) = s.attach(&id, &[], false)?;
                if report.created || report.checkpoint != *target || report.slot != r + 1 {
                    return Err(format!(
                        "attach did not add slot {} to checkpoint {target}",
                        r + 1
                    ));
                }
                s.verify(&report, &hash, chunks, false)?;
                b.push(took);
            }
        }
        let ma = median(&a);
        table.row(
            &format!("attach 1 MB, new checkpoint, {n} checkpoints on v1"),
            secs(ma),
            "",
            None,
        );
        new_cp.push(ma);
        // The deterministic side of "independent of history size": an O(depth) splice writes
        // the same objects (slot blobs, root summary, 4 trees, 1 commit) whatever N is.
        written.sort_unstable();
        written.dedup();
        match objects_per_attach {
            None => objects_per_attach = Some(written.clone()),
            Some(ref w) if *w != written => {
                return Err(format!(
                    "an attach into {n} checkpoints wrote {written:?} objects, not {w:?}"
                ))
            }
            Some(_) => {}
        }
        table.row(
            &format!("  objects written by that attach, {n} checkpoints on v1"),
            format!("{written:?}"),
            "",
            None,
        );
        if !b.is_empty() {
            let mb = median(&b);
            table.row(
                &format!("attach 1 MB into an existing checkpoint, {n} on v1"),
                secs(mb),
                "",
                None,
            );
            old_cp.push(mb);
        }
        let _ = std::fs::remove_dir_all(&s.root);
    }
    if let (Some(first), Some(last)) = (new_cp.first(), new_cp.last()) {
        let ratio = last.as_secs_f64() / first.as_secs_f64();
        table.row(
            "attach 1 MB new checkpoint: 100 000 ÷ 0 checkpoints",
            format!("{ratio:.2}"),
            "≤ 1.2",
            Some(ratio <= 1.2),
        );
    }
    if let (Some(first), Some(last)) = (old_cp.first(), old_cp.last()) {
        let ratio = last.as_secs_f64() / first.as_secs_f64();
        table.row(
            "attach 1 MB existing checkpoint: 100 000 ÷ 1 000 checkpoints",
            format!("{ratio:.2}"),
            "≤ 1.2",
            Some(ratio <= 1.2),
        );
    }

    // --backfill of 1 000 checkpoints written by v1 attaches.
    if want("backfill") {
        let s = Sandbox::new(work.join("backfill"))?;
        let mut v1_total = Duration::ZERO;
        for i in 0..BACKFILL_SESSIONS {
            let bytes = transcript(10_000 + i as u64, SMALL);
            let path = inputs.dir.join("bf.jsonl");
            std::fs::write(&path, &bytes).map_err(|e| e.to_string())?;
            let id = format!("bf-{i:04}");
            s.session(&id, &path)?;
            let (took, _, report) = s.attach(&id, &[], false)?;
            if i % 100 == 0 {
                let redacted = inputs
                    .redactor
                    .transcript(&bytes)
                    .map_err(|e| e.to_string())?;
                s.verify(&report, &sha256_hex(&redacted), 1, false)?;
            }
            v1_total += took;
        }
        println!("{BACKFILL_SESSIONS} v1 attaches took {}", secs(v1_total));
        let pristine = s.root.clone();
        let mut times = Vec::new();
        for _ in 0..runs.min(3) {
            let copy = work.join("backfill-run");
            let _ = std::fs::remove_dir_all(&copy);
            let status = Command::new("cp")
                .arg("-a")
                .arg(&pristine)
                .arg(&copy)
                .status()
                .map_err(|e| e.to_string())?;
            if !status.success() {
                return Err("cp -a failed".into());
            }
            let c_s = Sandbox {
                root: copy.clone(),
                home: copy.join("home"),
                repo: copy.join("repo"),
            };
            let mut c = hermetic(BIN, &c_s);
            c.arg("--backfill");
            let start = Instant::now();
            let out = run_ok(c, "git attach --backfill")?;
            times.push(start.elapsed());
            let text = String::from_utf8_lossy(&out.stdout);
            let mirrored = text
                .lines()
                .filter(|l| l.starts_with("Mirrored checkpoint"))
                .count();
            if mirrored != BACKFILL_SESSIONS {
                return Err(format!(
                    "--backfill mirrored {mirrored} checkpoints:\n{text}"
                ));
            }
            // Every raw transcript on /full/current is v1's full.jsonl blob.
            let v1 = c_s.git(&["ls-tree", "-r", "refs/heads/entire/checkpoints/v1"])?;
            let full = c_s.git(&["ls-tree", "-r", "refs/entire/checkpoints/v2/full/current"])?;
            let blobs = |t: &str, name: &str| -> HashSet<String> {
                t.lines()
                    .filter(|l| l.ends_with(name))
                    .filter_map(|l| l.split_whitespace().nth(2).map(str::to_string))
                    .collect()
            };
            // /full/current rotates at 100 checkpoints; the archived generations hold the rest.
            let mut raw = blobs(&full, "/raw_transcript");
            for g in c_s
                .git(&[
                    "for-each-ref",
                    "--format=%(refname)",
                    "refs/entire/checkpoints/v2/full/",
                ])?
                .lines()
            {
                raw.extend(blobs(&c_s.git(&["ls-tree", "-r", g])?, "/raw_transcript"));
            }
            if blobs(&v1, "/full.jsonl") != raw {
                return Err("--backfill: v2 raw transcripts differ from v1's".into());
            }
            let _ = std::fs::remove_dir_all(&copy);
        }
        let m = median(&times);
        let ratio = m.as_secs_f64() / v1_total.as_secs_f64();
        table.row(
            &format!("--backfill of {BACKFILL_SESSIONS} checkpoints (100 KB each)"),
            secs(m),
            "",
            None,
        );
        table.row(
            &format!(
                "  ÷ their {BACKFILL_SESSIONS} v1 attaches ({})",
                secs(v1_total)
            ),
            format!("{ratio:.2}"),
            "≤ 2",
            Some(ratio <= 2.0),
        );
        let _ = std::fs::remove_dir_all(&s.root);
    }

    table.print();
    Ok(())
}
