//! Redaction throughput on a generated ~100 MB Claude-style transcript (`redaction.md` §7.10).
//!
//! Not a test: run with `cargo bench --bench redact`. The transcript is deterministic: user
//! prompts, assistant text, tool_use inputs and tool_result outputs with file contents (the
//! `toolUseResult` copy Claude writes too), a few image blocks, and roughly one secret per 200
//! lines. The table reports the median of several runs of `Redactor::transcript`.

use std::time::{Duration, Instant};

use git_attach::redact::Redactor;

const TARGET_BYTES: usize = 100 * 1024 * 1024;
const RUNS: usize = 5;

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
    fn chars(&mut self, alphabet: &[u8], n: usize) -> String {
        (0..n)
            .map(|_| alphabet[self.below(alphabet.len())] as char)
            .collect()
    }
}

const WORDS: &[&str] = &[
    "the",
    "function",
    "returns",
    "error",
    "when",
    "file",
    "is",
    "missing",
    "we",
    "should",
    "update",
    "test",
    "cases",
    "for",
    "redaction",
    "module",
    "transcript",
    "session",
    "commit",
    "branch",
    "refactor",
    "parse",
    "config",
    "value",
    "handle",
    "case",
    "please",
    "check",
    "implementation",
    "performance",
    "benchmark",
    "output",
    "input",
    "string",
    "bytes",
    "line",
    "and",
    "a",
    "to",
    "of",
    "in",
    "that",
    "with",
    "this",
    "it",
    "on",
    "fix",
    "add",
    "remove",
];

const CODE: &[&str] = &[
    "fn parse_config(path: &Path) -> Result<Config, Error> {",
    "    let text = std::fs::read_to_string(path).map_err(|e| Error::Io(path.into(), e))?;",
    "    let table: toml::Table = toml::from_str(&text)?;",
    "    for (key, value) in table.iter() {",
    "        if key.starts_with(\"attach.\") { settings.insert(key.clone(), value.clone()); }",
    "    }",
    "import { useState, useEffect } from 'react';",
    "export default function Dashboard({ user }: Props) {",
    "  const [items, setItems] = useState<Item[]>([]);",
    "  useEffect(() => { fetch('/api/items').then(r => r.json()).then(setItems); }, []);",
    "def handle_request(request: HttpRequest) -> JsonResponse:",
    "    payload = json.loads(request.body or b'{}')",
    "    return JsonResponse({'status': 'ok', 'count': len(payload.get('items', []))})",
    "// SPDX-License-Identifier: MIT — résumé, naïve café ✓",
    "SELECT id, name, created_at FROM users WHERE org_id = $1 ORDER BY created_at DESC;",
    "}",
    "",
];

fn sentence(rng: &mut Rng, words: usize) -> String {
    let mut s = String::new();
    for i in 0..words {
        if i > 0 {
            s.push(' ');
        }
        s.push_str(WORDS[rng.below(WORDS.len())]);
    }
    s.push('.');
    s
}

fn file_content(rng: &mut Rng, lines: usize) -> String {
    let mut s = String::new();
    for i in 0..lines {
        s.push_str(&format!("{:>6}\u{2192}", i + 1));
        s.push_str(CODE[rng.below(CODE.len())]);
        s.push('\n');
    }
    s
}

fn uuid(rng: &mut Rng) -> String {
    let h = b"0123456789abcdef";
    format!(
        "{}-{}-4{}-a{}-{}",
        rng.chars(h, 8),
        rng.chars(h, 4),
        rng.chars(h, 3),
        rng.chars(h, 3),
        rng.chars(h, 12)
    )
}

fn secret(rng: &mut Rng) -> String {
    let an = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    let hex = b"0123456789abcdef";
    match rng.below(5) {
        0 => format!("export GITHUB_TOKEN=ghp_{}", rng.chars(an, 36)),
        1 => format!(
            "AWS_ACCESS_KEY_ID=AKIA{}",
            rng.chars(b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567", 16)
        ),
        2 => format!("postgres://app:{}@db.internal:5432/main", rng.chars(an, 14)),
        3 => format!("STRIPE_KEY=sk_live_{}", rng.chars(an, 24)),
        _ => format!("DATABRICKS_TOKEN=dapi{}", rng.chars(hex, 32)),
    }
}

fn json(s: &str) -> String {
    serde_json::to_string(s).unwrap_or_default()
}

/// A deterministic Claude Code transcript of at least `target` bytes.
fn generate(target: usize) -> (Vec<u8>, usize) {
    let mut rng = Rng(0x2545_F491_4F6C_DD1D);
    let session = uuid(&mut rng);
    let mut out = String::with_capacity(target + (1 << 20));
    let mut lines = 0usize;
    let mut parent = uuid(&mut rng);
    let image = rng.chars(
        b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/",
        60_000,
    );
    while out.len() < target {
        let id = uuid(&mut rng);
        let ts = format!(
            "2026-04-01T10:{:02}:{:02}.{:03}Z",
            lines / 60 % 60,
            lines % 60,
            lines % 1000
        );
        let head = format!(
            r#""parentUuid":"{parent}","isSidechain":false,"userType":"external","cwd":"/home/dev/projects/app","sessionId":"{session}","version":"2.1.3","gitBranch":"main""#
        );
        let with_secret = rng.below(200) == 0;
        let line = match lines % 4 {
            0 => {
                let n = 12 + rng.below(40);
                let mut text = sentence(&mut rng, n);
                if with_secret {
                    text = format!("{text} use {}", secret(&mut rng));
                }
                if rng.below(300) == 0 {
                    format!(
                        r#"{{{head},"type":"user","message":{{"role":"user","content":[{{"type":"image","source":{{"type":"base64","media_type":"image/png","data":"{image}"}}}},{{"type":"text","text":{}}}]}},"uuid":"{id}","timestamp":"{ts}"}}"#,
                        json(&text)
                    )
                } else {
                    format!(
                        r#"{{{head},"type":"user","message":{{"role":"user","content":{}}},"uuid":"{id}","timestamp":"{ts}"}}"#,
                        json(&text)
                    )
                }
            }
            1 => {
                let n = 20 + rng.below(80);
                let text = sentence(&mut rng, n);
                format!(
                    r#"{{{head},"message":{{"id":"msg_01{}","type":"message","role":"assistant","model":"claude-sonnet-4-5-20250929","content":[{{"type":"text","text":{}}},{{"type":"tool_use","id":"toolu_01{}","name":"Read","input":{{"file_path":"/home/dev/projects/app/src/module_{}.rs"}}}}],"stop_reason":"tool_use","usage":{{"input_tokens":{},"cache_read_input_tokens":{},"output_tokens":{}}}}},"requestId":"req_011{}","type":"assistant","uuid":"{id}","timestamp":"{ts}"}}"#,
                    rng.chars(
                        b"ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz123456789",
                        22
                    ),
                    json(&text),
                    rng.chars(
                        b"ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz123456789",
                        22
                    ),
                    rng.below(100),
                    rng.below(50_000),
                    rng.below(200_000),
                    rng.below(2_000),
                    rng.chars(
                        b"ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz123456789",
                        22
                    ),
                )
            }
            2 => {
                let n = 40 + rng.below(400);
                let mut content = file_content(&mut rng, n);
                if with_secret {
                    content.push_str(&secret(&mut rng));
                    content.push('\n');
                }
                let c = json(&content);
                format!(
                    r#"{{{head},"type":"user","message":{{"role":"user","content":[{{"tool_use_id":"toolu_01{}","type":"tool_result","content":{c}}}]}},"uuid":"{id}","timestamp":"{ts}","toolUseResult":{{"type":"text","file":{{"filePath":"/home/dev/projects/app/src/module.rs","content":{c},"numLines":400,"startLine":1,"totalLines":400}}}}}}"#,
                    rng.chars(
                        b"ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz123456789",
                        22
                    ),
                )
            }
            _ => {
                let cmd = format!(
                    "cargo test --lib {} -- --nocapture",
                    WORDS[rng.below(WORDS.len())]
                );
                format!(
                    r#"{{{head},"message":{{"role":"assistant","content":[{{"type":"tool_use","id":"toolu_01{}","name":"Bash","input":{{"command":{},"description":"Run the tests"}}}}]}},"type":"assistant","uuid":"{id}","timestamp":"{ts}"}}"#,
                    rng.chars(
                        b"ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz123456789",
                        22
                    ),
                    json(&cmd)
                )
            }
        };
        out.push_str(&line);
        out.push('\n');
        parent = id;
        lines += 1;
    }
    (out.into_bytes(), lines)
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn measure(name: &str, redactor: &Redactor, data: &[u8]) {
    let mut times = Vec::with_capacity(RUNS);
    let mut changed = 0;
    for _ in 0..RUNS {
        let start = Instant::now();
        let out = match redactor.transcript(data) {
            Ok(out) => out,
            Err(e) => {
                eprintln!("redaction failed: {e}");
                std::process::exit(1);
            }
        };
        times.push(start.elapsed());
        changed = out.windows(8).filter(|w| w == b"REDACTED").count();
        std::hint::black_box(out);
    }
    let med = median(times.clone());
    let mb = data.len() as f64 / 1e6;
    let best = times.iter().min().copied().unwrap_or(med);
    println!(
        "{name:<22} {mb:>8.1} {:>10.3} {:>10.1} {:>10.1} {changed:>10}",
        med.as_secs_f64(),
        mb / med.as_secs_f64(),
        mb / best.as_secs_f64()
    );
}

fn main() {
    let gen_start = Instant::now();
    let (data, lines) = generate(TARGET_BYTES);
    println!(
        "generated {} lines, {:.1} MB in {:.1}s",
        lines,
        data.len() as f64 / 1e6,
        gen_start.elapsed().as_secs_f64()
    );
    let builtin = match Redactor::builtin() {
        Ok(r) => r,
        Err(e) => {
            eprintln!("{e}");
            std::process::exit(1);
        }
    };
    println!(
        "{:<22} {:>8} {:>10} {:>10} {:>10} {:>10}",
        "redactor", "MB", "median s", "MB/s", "best MB/s", "REDACTED"
    );
    measure("built-in rules", &builtin, &data);
    measure("entropy only", &Redactor::entropy_only(), &data);
}
