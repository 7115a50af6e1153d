//! Deterministic Claude Code transcripts for the benchmarks (`attach` and `redact`): user
//! prompts (some with secrets), assistant text streamed as two lines sharing a `message.id` and
//! `usage`, `tool_use` Read/Edit, and `tool_result` lines with file contents and Claude's
//! `toolUseResult` copy. The same seed gives the same bytes.

pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }
    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    pub fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
    pub fn chars(&mut self, alphabet: &[u8], n: usize) -> String {
        (0..n)
            .map(|_| alphabet[self.below(alphabet.len())] as char)
            .collect()
    }
    pub fn hex(&mut self, n: usize) -> String {
        self.chars(b"0123456789abcdef", n)
    }
    pub fn uuid(&mut self) -> String {
        format!(
            "{}-{}-4{}-a{}-{}",
            self.hex(8),
            self.hex(4),
            self.hex(3),
            self.hex(3),
            self.hex(12)
        )
    }
    pub fn base58(&mut self, n: usize) -> String {
        self.chars(
            b"ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz123456789",
            n,
        )
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
    "please",
    "check",
    "implementation",
    "performance",
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
    "I'll",
    "now",
    "let",
    "me",
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
    "\t}",
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

fn secret(rng: &mut Rng) -> String {
    let an = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    match rng.below(5) {
        0 => format!("export GITHUB_TOKEN=ghp_{}", rng.chars(an, 36)),
        1 => format!(
            "AWS_ACCESS_KEY_ID=AKIA{}",
            rng.chars(b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567", 16)
        ),
        2 => format!("postgres://app:{}@db.internal:5432/main", rng.chars(an, 14)),
        3 => format!("STRIPE_KEY=sk_live_{}", rng.chars(an, 24)),
        _ => format!("DATABRICKS_TOKEN=dapi{}", rng.hex(32)),
    }
}

fn json(s: &str) -> String {
    serde_json::to_string(s).unwrap_or_default()
}

/// A Claude Code transcript of at least `target` bytes (whole lines, each ending in `\n`).
pub fn transcript(seed: u64, target: usize) -> Vec<u8> {
    let mut rng = Rng::new(seed);
    let session = rng.uuid();
    let mut out = String::with_capacity(target + (1 << 20));
    let mut parent = rng.uuid();
    let mut n = 0usize;
    let line = |out: &mut String, parent: &mut String, body: String, n: &mut usize| {
        let id = format!("{:08x}-0000-4000-a000-{:012x}", seed as u32, *n);
        let ts = format!(
            "2026-04-01T{:02}:{:02}:{:02}.{:03}Z",
            (*n / 3600) % 24,
            (*n / 60) % 60,
            *n % 60,
            *n % 1000
        );
        out.push_str(&format!(
            r#"{{"parentUuid":"{parent}","isSidechain":false,"userType":"external","cwd":"/home/dev/projects/app","sessionId":"{session}","version":"2.1.3","gitBranch":"main",{body},"uuid":"{id}","timestamp":"{ts}"}}"#
        ));
        out.push('\n');
        *parent = id;
        *n += 1;
    };
    while out.len() < target {
        // A user prompt, sometimes with a secret.
        let mut text = {
            let w = 8 + rng.below(40);
            sentence(&mut rng, w)
        };
        if rng.below(50) == 0 {
            text = format!("{text} use {}", secret(&mut rng));
        }
        line(
            &mut out,
            &mut parent,
            format!(
                r#""type":"user","message":{{"role":"user","content":{}}}"#,
                json(&text)
            ),
            &mut n,
        );
        for _ in 0..1 + rng.below(4) {
            // One assistant message streamed as two lines with the same id and usage: text,
            // then a tool_use.
            let msg = rng.base58(24);
            let usage = format!(
                r#"{{"input_tokens":{},"cache_creation_input_tokens":{},"cache_read_input_tokens":{},"output_tokens":{}}}"#,
                rng.below(100),
                rng.below(5_000),
                rng.below(200_000),
                rng.below(2_000)
            );
            let head = format!(
                r#""type":"assistant","requestId":"req_011{}","message":{{"id":"msg_01{msg}","type":"message","role":"assistant","model":"claude-sonnet-4-5-20250929","#,
                rng.base58(22)
            );
            let text = {
                let w = 10 + rng.below(60);
                sentence(&mut rng, w)
            };
            line(
                &mut out,
                &mut parent,
                format!(
                    r#"{head}"content":[{{"type":"text","text":{}}}],"stop_reason":null,"usage":{usage}}}"#,
                    json(&text)
                ),
                &mut n,
            );
            let tool = rng.base58(24);
            let path = format!("/home/dev/projects/app/src/module_{}.rs", rng.below(60));
            let (input, result) = if rng.below(3) == 0 {
                let old = CODE[rng.below(CODE.len())];
                let new = CODE[rng.below(CODE.len())];
                (
                    format!(
                        r#""name":"Edit","input":{{"file_path":"{path}","old_string":{},"new_string":{}}}"#,
                        json(old),
                        json(new)
                    ),
                    format!("The file {path} has been updated."),
                )
            } else {
                let mut content = {
                    let l = 20 + rng.below(300);
                    file_content(&mut rng, l)
                };
                if rng.below(40) == 0 {
                    content.push_str(&secret(&mut rng));
                    content.push('\n');
                }
                (
                    format!(r#""name":"Read","input":{{"file_path":"{path}"}}"#),
                    content,
                )
            };
            line(
                &mut out,
                &mut parent,
                format!(
                    r#"{head}"content":[{{"type":"tool_use","id":"toolu_01{tool}",{input}}}],"stop_reason":"tool_use","usage":{usage}}}"#
                ),
                &mut n,
            );
            let c = json(&result);
            line(
                &mut out,
                &mut parent,
                format!(
                    r#""type":"user","message":{{"role":"user","content":[{{"tool_use_id":"toolu_01{tool}","type":"tool_result","content":{c}}}]}},"toolUseResult":{{"type":"text","file":{{"filePath":"{path}","content":{c}}}}}"#
                ),
                &mut n,
            );
        }
    }
    out.into_bytes()
}
