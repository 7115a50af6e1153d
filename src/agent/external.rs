//! External agents (`agents.md` §8): executables `entire-agent-<name>` on `PATH`, spoken to with
//! Entire's JSON-over-stdio protocol version 1. Discovery runs `info`; attach uses
//! `get-session-dir`, `resolve-session-file`, `prepare-transcript`, `read-transcript`,
//! `extract-prompts`, `calculate-total-tokens`/`calculate-tokens`, `chunk-transcript` and
//! `compact-transcript`. Every call gets `ENTIRE_PROTOCOL_VERSION=1` and `ENTIRE_REPO_ROOT`, runs
//! in the worktree root, and is killed after `attach.agentTimeout`.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::thread;

use serde_json::Value;

use super::generic::{extract, n, s};
use super::process::{first_line, run, Output};
use super::{builtin_names, Agent, AgentError, Context, Kind, SessionInfo};
use crate::checkpoint::metadata::TokenUsage;

const PREFIX: &str = "entire-agent-";
/// Entire's cap on a plugin's standard output and standard error.
const CAP: usize = 10 * 1024 * 1024;
/// The size Entire asks `chunk-transcript` for (the v1 chunking threshold, 50 MiB).
const CHUNK_SIZE: &str = "52428800";

/// The capabilities a plugin declares in `info` (a missing one is false). Only those attach uses.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Capabilities {
    pub transcript_analyzer: bool,
    pub transcript_preparer: bool,
    pub token_calculator: bool,
    pub subagent_aware_extractor: bool,
    pub compact_transcript: bool,
}

/// What `info` said.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PluginInfo {
    /// The display type (`type`), written to metadata.
    pub agent_type: String,
    pub description: String,
    pub capabilities: Capabilities,
}

/// A discovered plugin: its executable and its `info`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Plugin {
    pub path: PathBuf,
    pub info: PluginInfo,
}

/// A regular file with an execute bit (Unix), or any regular file elsewhere.
pub(crate) fn is_executable(path: &Path) -> bool {
    let Ok(meta) = std::fs::metadata(path) else {
        return false;
    };
    if !meta.is_file() {
        return false;
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        meta.permissions().mode() & 0o111 != 0
    }
    #[cfg(not(unix))]
    {
        true
    }
}

fn plugin_error(name: &str, subcommand: &str, cause: impl Into<String>) -> AgentError {
    AgentError::Plugin {
        name: name.to_string(),
        subcommand: subcommand.to_string(),
        cause: cause.into(),
    }
}

/// Runs one subcommand; a non-zero exit is an error carrying the first line of stderr.
fn call(
    ctx: &Context,
    exe: &Path,
    name: &str,
    subcommand: &str,
    args: &[&str],
    stdin: Option<&[u8]>,
    stdout_cap: Option<usize>,
) -> Result<Output, AgentError> {
    let mut cmd = Command::new(exe);
    cmd.arg(subcommand)
        .args(args)
        .env_clear()
        .envs(ctx.vars.iter().map(|(k, v)| (k, v)))
        .env("ENTIRE_PROTOCOL_VERSION", "1")
        .env("ENTIRE_REPO_ROOT", &ctx.repo_root)
        .current_dir(&ctx.repo_root);
    let out = run(
        cmd,
        stdin.map(<[u8]>::to_vec),
        ctx.plugin_timeout,
        stdout_cap,
        CAP,
    )
    .map_err(|e| {
        let hint = if matches!(e, super::process::RunError::Timeout(_)) {
            " (raise attach.agentTimeout if the plugin needs longer)"
        } else {
            ""
        };
        plugin_error(name, subcommand, format!("{e}{hint}"))
    })?;
    if !out.status.success() {
        let line = first_line(&out.stderr);
        let cause = if line.is_empty() {
            out.status.to_string()
        } else {
            line
        };
        return Err(plugin_error(name, subcommand, cause));
    }
    Ok(out)
}

/// `call` whose standard output must be one JSON object.
fn call_json(
    ctx: &Context,
    exe: &Path,
    name: &str,
    subcommand: &str,
    args: &[&str],
    stdin: Option<&[u8]>,
) -> Result<Value, AgentError> {
    let out = call(ctx, exe, name, subcommand, args, stdin, Some(CAP))?;
    match serde_json::from_slice::<Value>(&out.stdout) {
        Ok(v) if v.is_object() => Ok(v),
        other => {
            let why = match other {
                Err(e) => format!("invalid JSON output ({e})"),
                Ok(_) => "output is not a JSON object".to_string(),
            };
            let line = first_line(&out.stderr);
            let cause = if line.is_empty() {
                why
            } else {
                format!("{why}; stderr: {line}")
            };
            Err(plugin_error(name, subcommand, cause))
        }
    }
}

/// Runs `info` and builds the agent, which must speak protocol version 1.
fn probe(ctx: &Context, exe: &Path, name: &str) -> Result<Agent, AgentError> {
    let v = call_json(ctx, exe, name, "info", &[], None)?;
    let version = v.get("protocol_version").and_then(Value::as_i64);
    if version != Some(1) {
        let got = v
            .get("protocol_version")
            .map_or("none".to_string(), Value::to_string);
        return Err(plugin_error(
            name,
            "info",
            format!("unsupported protocol_version {got} (git-attach speaks version 1)"),
        ));
    }
    let caps = v.get("capabilities");
    let cap = |k: &str| {
        caps.and_then(|c| c.get(k))
            .and_then(Value::as_bool)
            .unwrap_or(false)
    };
    let info = PluginInfo {
        agent_type: s(v.get("type")).to_string(),
        description: s(v.get("description")).to_string(),
        capabilities: Capabilities {
            transcript_analyzer: cap("transcript_analyzer"),
            transcript_preparer: cap("transcript_preparer"),
            token_calculator: cap("token_calculator"),
            subagent_aware_extractor: cap("subagent_aware_extractor"),
            compact_transcript: cap("compact_transcript"),
        },
    };
    let display_type = if info.agent_type.is_empty() {
        name.to_string()
    } else {
        info.agent_type.clone()
    };
    Ok(Agent {
        name: name.to_string(),
        display_type,
        kind: Kind::External(Plugin {
            path: exe.to_path_buf(),
            info,
        }),
    })
}

/// `--agent <name>` naming no built-in: `entire-agent-<name>` on `PATH`, if there is one.
pub(crate) fn lookup(ctx: &Context, name: &str) -> Result<Option<Agent>, AgentError> {
    if name.is_empty() || name.contains('/') || name.contains('\\') {
        return Ok(None);
    }
    match ctx.which(&format!("{PREFIX}{name}")) {
        Some(exe) => probe(ctx, &exe, name).map(Some),
        None => Ok(None),
    }
}

/// Every plugin on `PATH` that answers `info` with protocol version 1 (§8.1). Probes run in
/// parallel, each bounded by the plugin timeout; failures are logged and skipped.
pub(crate) fn discover(ctx: &Context) -> Vec<Agent> {
    let mut seen: Vec<String> = Vec::new();
    let mut found: Vec<(String, PathBuf)> = Vec::new();
    for dir in ctx.path_dirs() {
        for (file, _) in super::fsutil::sorted_entries(&dir) {
            let Some(name) = file.strip_prefix(PREFIX) else {
                continue;
            };
            if name.is_empty() || seen.contains(&file) {
                continue;
            }
            let path = dir.join(&file);
            if builtin_names().contains(&name) || !is_executable(&path) {
                continue;
            }
            seen.push(file.clone());
            found.push((name.to_string(), path));
        }
    }
    let handles: Vec<_> = found
        .into_iter()
        .map(|(name, path)| {
            let ctx = ctx.clone();
            thread::spawn(move || probe(&ctx, &path, &name))
        })
        .collect();
    let mut agents = Vec::new();
    for h in handles {
        match h.join() {
            Ok(Ok(agent)) => agents.push(agent),
            Ok(Err(e)) => log::warn!("ignoring agent plugin: {e}"),
            Err(_) => log::warn!("ignoring agent plugin: probe panicked"),
        }
    }
    agents.sort_by(|a, b| a.name.cmp(&b.name));
    agents
}

/// §8.4 step 1: `get-session-dir`, `resolve-session-file`, the file must exist (no fallback
/// scan), then `prepare-transcript` when declared (best effort).
pub(crate) fn find(
    ctx: &Context,
    agent: &Agent,
    plugin: &Plugin,
    id: &str,
    searched: &mut Vec<PathBuf>,
) -> Result<Option<PathBuf>, AgentError> {
    let name = &agent.name;
    let root = ctx.repo_root.to_string_lossy().into_owned();
    let v = call_json(
        ctx,
        &plugin.path,
        name,
        "get-session-dir",
        &["--repo-path", &root],
        None,
    )?;
    let dir = s(v.get("session_dir")).to_string();
    let resolved = call_json(
        ctx,
        &plugin.path,
        name,
        "resolve-session-file",
        &["--session-dir", &dir, "--session-id", id],
        None,
    );
    let file = match resolved {
        Ok(v) => s(v.get("session_file")).to_string(),
        Err(e) => {
            // The protocol treats a failed resolution as "not found".
            super::fsutil::push_unique(searched, PathBuf::from(format!("{dir} ({e})")));
            return Ok(None);
        }
    };
    if file.is_empty() {
        super::fsutil::push_unique(searched, PathBuf::from(format!("{dir} ({PREFIX}{name})")));
        return Ok(None);
    }
    let path = PathBuf::from(&file);
    super::fsutil::push_unique(searched, path.clone());
    if !path.exists() {
        return Ok(None);
    }
    if plugin.info.capabilities.transcript_preparer {
        if let Err(e) = call(
            ctx,
            &plugin.path,
            name,
            "prepare-transcript",
            &["--session-ref", &file],
            None,
            Some(CAP),
        ) {
            log::warn!("{e}");
        }
    }
    Ok(Some(path))
}

/// `read-transcript`: the raw bytes, not capped (transcripts are often larger than 10 MiB).
pub(crate) fn read(
    ctx: &Context,
    agent: &Agent,
    plugin: &Plugin,
    path: &Path,
) -> Result<Vec<u8>, AgentError> {
    let r = path.to_string_lossy().into_owned();
    let out = call(
        ctx,
        &plugin.path,
        &agent.name,
        "read-transcript",
        &["--session-ref", &r],
        None,
        None,
    )?;
    Ok(out.stdout)
}

fn token_object(v: &Value) -> TokenUsage {
    TokenUsage {
        input_tokens: n(v.get("input_tokens")),
        cache_creation_tokens: n(v.get("cache_creation_tokens")),
        cache_read_tokens: n(v.get("cache_read_tokens")),
        output_tokens: n(v.get("output_tokens")),
        api_call_count: n(v.get("api_call_count")),
        subagent_tokens: v
            .get("subagent_tokens")
            .filter(|t| t.is_object())
            .map(|t| Box::new(token_object(t))),
    }
}

/// §8.4 steps 4–5. Failures of the optional subcommands are logged and fall back (prompts to the
/// generic extractor, tokens to none) — metadata never stops an attach.
pub(crate) fn info(
    ctx: &Context,
    agent: &Agent,
    plugin: &Plugin,
    raw: &[u8],
    path: &Path,
) -> SessionInfo {
    let caps = &plugin.info.capabilities;
    let name = &agent.name;
    let r = path.to_string_lossy().into_owned();
    let mut prompts: Option<Vec<String>> = None;
    if caps.transcript_analyzer {
        let args = ["--session-ref", r.as_str(), "--offset", "0"];
        match call_json(ctx, &plugin.path, name, "extract-prompts", &args, None) {
            Ok(v) => {
                prompts = Some(
                    v.get("prompts")
                        .and_then(Value::as_array)
                        .into_iter()
                        .flatten()
                        .filter_map(Value::as_str)
                        .map(str::to_string)
                        .collect(),
                );
            }
            Err(e) => log::warn!("{e}"),
        }
    }
    let prompts = prompts.unwrap_or_else(|| extract(raw).prompts);
    let tokens = if caps.subagent_aware_extractor {
        let args = ["--offset", "0", "--subagents-dir", ""];
        Some(call_json(
            ctx,
            &plugin.path,
            name,
            "calculate-total-tokens",
            &args,
            Some(raw),
        ))
    } else if caps.token_calculator {
        Some(call_json(
            ctx,
            &plugin.path,
            name,
            "calculate-tokens",
            &["--offset", "0"],
            Some(raw),
        ))
    } else {
        None
    };
    let token_usage = match tokens {
        Some(Ok(v)) => Some(token_object(&v)),
        Some(Err(e)) => {
            log::warn!("{e}");
            None
        }
        None => None,
    };
    SessionInfo {
        first_prompt: prompts.first().cloned(),
        turns: prompts.len() as u64,
        model: String::new(),
        token_usage,
        files_touched: Vec::new(),
    }
}

/// `chunk-transcript`. Its output is not capped: for a transcript above 50 MiB it cannot fit in
/// Entire's 10 MiB limit (a deliberate deviation, `agents.md` §8.2 caps it).
pub(crate) fn chunk(
    ctx: &Context,
    agent: &Agent,
    plugin: &Plugin,
    content: &[u8],
) -> Result<Vec<Vec<u8>>, AgentError> {
    const SUB: &str = "chunk-transcript";
    let out = call(
        ctx,
        &plugin.path,
        &agent.name,
        SUB,
        &["--max-size", CHUNK_SIZE],
        Some(content),
        None,
    )?;
    let v: Value = serde_json::from_slice(&out.stdout)
        .map_err(|e| plugin_error(&agent.name, SUB, format!("invalid JSON output ({e})")))?;
    let Some(chunks) = v.get("chunks").and_then(Value::as_array) else {
        return Err(plugin_error(
            &agent.name,
            SUB,
            "no \"chunks\" array in the output",
        ));
    };
    chunks
        .iter()
        .map(|c| {
            c.as_str()
                .and_then(decode_base64)
                .ok_or_else(|| plugin_error(&agent.name, SUB, "a chunk is not valid base64"))
        })
        .collect()
}

/// `compact-transcript`, only when declared.
pub(crate) fn compact(
    ctx: &Context,
    agent: &Agent,
    plugin: &Plugin,
    transcript_path: &Path,
) -> Result<Option<Vec<u8>>, AgentError> {
    const SUB: &str = "compact-transcript";
    if !plugin.info.capabilities.compact_transcript {
        return Ok(None);
    }
    let r = transcript_path.to_string_lossy().into_owned();
    let v = call_json(
        ctx,
        &plugin.path,
        &agent.name,
        SUB,
        &["--session-ref", &r],
        None,
    )?;
    let bytes = v
        .get("transcript")
        .and_then(Value::as_str)
        .and_then(decode_base64)
        .ok_or_else(|| plugin_error(&agent.name, SUB, "\"transcript\" is missing or not base64"))?;
    if bytes.is_empty() {
        return Err(plugin_error(&agent.name, SUB, "\"transcript\" is empty"));
    }
    Ok(Some(bytes))
}

/// Standard base64 with padding (Go's `base64.StdEncoding`); `None` on any invalid input.
pub(crate) fn decode_base64(text: &str) -> Option<Vec<u8>> {
    fn val(c: u8) -> Option<u32> {
        match c {
            b'A'..=b'Z' => Some(u32::from(c - b'A')),
            b'a'..=b'z' => Some(u32::from(c - b'a') + 26),
            b'0'..=b'9' => Some(u32::from(c - b'0') + 52),
            b'+' => Some(62),
            b'/' => Some(63),
            _ => None,
        }
    }
    let bytes = text.as_bytes();
    if bytes.len() % 4 != 0 {
        return None;
    }
    let mut out = Vec::with_capacity(bytes.len() / 4 * 3);
    let quads = bytes.len() / 4;
    for (i, q) in bytes.chunks(4).enumerate() {
        let pad = q.iter().rev().take_while(|c| **c == b'=').count();
        if pad > 2 || (pad > 0 && i + 1 != quads) {
            return None;
        }
        let mut acc = 0u32;
        for &c in &q[..4 - pad] {
            acc = (acc << 6) | val(c)?;
        }
        acc <<= 6 * pad as u32;
        let b = acc.to_be_bytes();
        out.extend_from_slice(&b[1..4 - pad]);
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::decode_base64;

    #[test]
    fn base64_decodes_padded_input_and_rejects_garbage() {
        assert_eq!(decode_base64("aGVsbG8=").as_deref(), Some(&b"hello"[..]));
        assert_eq!(decode_base64("aGk=").as_deref(), Some(&b"hi"[..]));
        assert_eq!(decode_base64("YWJj").as_deref(), Some(&b"abc"[..]));
        assert_eq!(decode_base64("").as_deref(), Some(&b""[..]));
        assert_eq!(decode_base64("a=bc"), None);
        assert_eq!(decode_base64("abc"), None);
        assert_eq!(decode_base64("ab!="), None);
    }
}
