//! Agents (`agents.md`): the registry of built-in agents and external `entire-agent-<name>`
//! plugins, where each agent keeps its sessions and how a session id maps to a file (with the
//! agents' own environment overrides), Entire's fallback scan and auto-detection, reading the raw
//! transcript, extracting its metadata with each agent's own rules, enumerating this worktree's
//! sessions for `--list`, and guessing the agent of a transcript file from its content.
//!
//! One file per agent (`claude`, `codex`, …) holds its location and metadata rules; `generic` is
//! Entire's shared extractor, `external` the plugin protocol, `process` the bounded child-process
//! runner. This module does not redact, normalize or store anything (that is `transcript`,
//! `redact` and the writers), and it reads the environment only through [`Context`].

use std::fmt;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use crate::checkpoint::metadata::TokenUsage;

mod claude;
mod codex;
mod copilot;
mod cursor;
mod droid;
mod external;
mod fsutil;
mod gemini;
mod generic;
mod opencode;
mod pi;
mod process;

pub use external::{Capabilities, Plugin, PluginInfo};

/// What the lookups need from the outside world. Built from the process environment by
/// [`Context::from_process`]; tests build it by hand.
#[derive(Clone, Debug)]
pub struct Context {
    /// The worktree root R (`git rev-parse --show-toplevel`).
    pub repo_root: PathBuf,
    /// `$HOME`.
    pub home: PathBuf,
    /// Environment variables the agents honour (`CLAUDE_CONFIG_DIR`, `CODEX_HOME`, `PATH`, …).
    /// Plugins and `opencode` are started with exactly these variables.
    pub vars: Vec<(String, String)>,
    /// Per-call timeout for external agent plugins (`attach.agentTimeout`).
    pub plugin_timeout: Duration,
}

impl Context {
    pub fn from_process(repo_root: &Path, plugin_timeout: Duration) -> Context {
        let vars: Vec<(String, String)> = std::env::vars().collect();
        let home = vars
            .iter()
            .find(|(k, _)| k == "HOME")
            .map(|(_, v)| PathBuf::from(v))
            .unwrap_or_default();
        Context {
            repo_root: repo_root.to_path_buf(),
            home,
            vars,
            plugin_timeout,
        }
    }

    /// A non-empty variable (an empty override counts as unset, as the agents treat it).
    pub fn var(&self, name: &str) -> Option<&str> {
        self.vars
            .iter()
            .rev()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
            .filter(|v| !v.is_empty())
    }

    fn var_path(&self, name: &str) -> Option<PathBuf> {
        self.var(name).map(PathBuf::from)
    }

    /// The directories of `PATH`, in order.
    fn path_dirs(&self) -> Vec<PathBuf> {
        self.var("PATH")
            .map(|p| {
                std::env::split_paths(p)
                    .filter(|d| !d.as_os_str().is_empty())
                    .collect()
            })
            .unwrap_or_default()
    }

    /// The first executable file named `exe` in `PATH`.
    fn which(&self, exe: &str) -> Option<PathBuf> {
        self.path_dirs()
            .into_iter()
            .map(|d| d.join(exe))
            .find(|p| external::is_executable(p))
    }
}

/// The built-in agents of `agents.md` §1 (Entire's test agent `vogon` is deliberately absent).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Builtin {
    ClaudeCode,
    Codex,
    CopilotCli,
    Cursor,
    FactoryaiDroid,
    Gemini,
    OpenCode,
    Pi,
}

/// Registry name, display type, agent — sorted by name (the auto-detection order).
const BUILTINS: [(&str, &str, Builtin); 8] = [
    ("claude-code", "Claude Code", Builtin::ClaudeCode),
    ("codex", "Codex", Builtin::Codex),
    ("copilot-cli", "Copilot CLI", Builtin::CopilotCli),
    ("cursor", "Cursor", Builtin::Cursor),
    (
        "factoryai-droid",
        "Factory AI Droid",
        Builtin::FactoryaiDroid,
    ),
    ("gemini", "Gemini CLI", Builtin::Gemini),
    ("opencode", "OpenCode", Builtin::OpenCode),
    ("pi", "Pi", Builtin::Pi),
];

const BUILTIN_NAMES: [&str; 8] = [
    "claude-code",
    "codex",
    "copilot-cli",
    "cursor",
    "factoryai-droid",
    "gemini",
    "opencode",
    "pi",
];

/// The registry names of the built-in agents, sorted.
pub fn builtin_names() -> &'static [&'static str] {
    &BUILTIN_NAMES
}

impl Builtin {
    pub fn agent(self) -> Agent {
        let (name, display, _) = BUILTINS
            .iter()
            .find(|(_, _, b)| *b == self)
            .copied()
            .unwrap_or(BUILTINS[0]);
        Agent {
            name: name.to_string(),
            display_type: display.to_string(),
            kind: Kind::Builtin(self),
        }
    }

    /// The path rule, then the fallback scan(s); every place looked at is added to `searched`.
    fn find(self, ctx: &Context, id: &str, searched: &mut Vec<PathBuf>) -> Option<PathBuf> {
        match self {
            Builtin::ClaudeCode => claude::find(ctx, id, searched),
            Builtin::Codex => codex::find(ctx, id, searched),
            Builtin::CopilotCli => copilot::find(ctx, id, searched),
            Builtin::Cursor => cursor::find(ctx, id, searched),
            Builtin::FactoryaiDroid => droid::find(ctx, id, searched),
            Builtin::Gemini => gemini::find(ctx, id, searched),
            Builtin::OpenCode => opencode::find(ctx, id, searched),
            Builtin::Pi => pi::find(ctx, id, searched),
        }
    }

    fn info(self, raw: &[u8], path: &Path) -> SessionInfo {
        match self {
            Builtin::ClaudeCode => claude::info(raw),
            Builtin::Codex => codex::info(raw),
            Builtin::CopilotCli => copilot::info(raw),
            Builtin::Cursor => cursor::info(raw),
            Builtin::FactoryaiDroid => droid::info(raw, path),
            Builtin::Gemini => gemini::info(raw),
            Builtin::OpenCode => opencode::info(raw),
            Builtin::Pi => pi::info(raw),
        }
    }

    /// This worktree's sessions: (transcript, session id).
    fn list(self, ctx: &Context) -> Vec<(PathBuf, String)> {
        match self {
            Builtin::ClaudeCode => claude::list(ctx),
            Builtin::Codex => codex::list(ctx),
            Builtin::CopilotCli => copilot::list(ctx),
            Builtin::Cursor => cursor::list(ctx),
            Builtin::FactoryaiDroid => droid::list(ctx),
            Builtin::Gemini => gemini::list(ctx),
            Builtin::OpenCode => Vec::new(),
            Builtin::Pi => pi::list(ctx),
        }
    }

    /// Whether the transcript is one JSON document (read whole even when listing).
    fn is_document(self) -> bool {
        matches!(self, Builtin::Gemini | Builtin::OpenCode)
    }
}

/// Built-in or plugin.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Kind {
    Builtin(Builtin),
    External(Plugin),
}

/// An agent: a built-in one or an external `entire-agent-<name>` plugin.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Agent {
    /// Registry name (`claude-code`).
    pub name: String,
    /// Display type written to metadata (`Claude Code`).
    pub display_type: String,
    pub kind: Kind,
}

impl Agent {
    /// Resolves `--agent <name>`: a built-in name, else `entire-agent-<name>` on `PATH`.
    pub fn by_name(ctx: &Context, name: &str) -> Result<Agent, AgentError> {
        if let Some(b) = Agent::builtin(name) {
            return Ok(b);
        }
        if let Some(agent) = external::lookup(ctx, name)? {
            return Ok(agent);
        }
        let mut available: Vec<String> = candidates(ctx).into_iter().map(|a| a.name).collect();
        available.sort();
        Err(AgentError::Unknown {
            name: name.into(),
            available,
        })
    }

    /// A built-in agent by registry name.
    pub fn builtin(name: &str) -> Option<Agent> {
        BUILTINS
            .iter()
            .find(|(n, _, _)| *n == name)
            .map(|(_, _, b)| b.agent())
    }

    /// The agent whose display type this is (session state files record display types).
    pub fn by_display_type(display_type: &str) -> Option<Agent> {
        BUILTINS
            .iter()
            .find(|(_, d, _)| *d == display_type)
            .map(|(_, _, b)| b.agent())
    }

    pub fn is_external(&self) -> bool {
        matches!(self.kind, Kind::External(_))
    }
}

/// Every agent auto-detection may try: the built-ins and the plugins on `PATH`, sorted by name.
fn candidates(ctx: &Context) -> Vec<Agent> {
    let mut all: Vec<Agent> = BUILTINS.iter().map(|(_, _, b)| b.agent()).collect();
    all.extend(external::discover(ctx));
    all.sort_by(|a, b| a.name.cmp(&b.name));
    all
}

/// A transcript that was found.
#[derive(Clone, Debug)]
pub struct Located {
    pub agent: Agent,
    pub path: PathBuf,
    /// True when the agent was found by auto-detection rather than `--agent`.
    pub auto_detected: bool,
}

/// Metadata extracted from a raw transcript.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct SessionInfo {
    /// The first user prompt, tags stripped; `None` when there is none.
    pub first_prompt: Option<String>,
    /// Number of user turns.
    pub turns: u64,
    /// Model name or `""`.
    pub model: String,
    /// `None` when the agent has no calculator or it failed.
    pub token_usage: Option<TokenUsage>,
    /// Files the agent wrote, in first-seen order.
    pub files_touched: Vec<String>,
}

/// Why a session id is rejected before any lookup.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum InvalidId {
    Empty,
    PathSeparator,
}

#[derive(Debug)]
pub enum AgentError {
    Unknown {
        name: String,
        available: Vec<String>,
    },
    InvalidSessionId {
        id: String,
        reason: InvalidId,
    },
    /// Not found anywhere; `searched` lists every path or pattern that was looked at (not part of
    /// the Display text, which is Entire's sentence: callers print it as a hint).
    NotFound {
        agent: String,
        session_id: String,
        searched: Vec<PathBuf>,
        also_tried: bool,
    },
    /// `--agent opencode` without an `opencode` command to export the session with.
    OpencodeUnavailable {
        session_id: String,
        searched: Vec<PathBuf>,
    },
    Read {
        path: PathBuf,
        cause: String,
    },
    Plugin {
        name: String,
        subcommand: String,
        cause: String,
    },
}

fn write_searched(f: &mut fmt::Formatter<'_>, searched: &[PathBuf]) -> fmt::Result {
    if searched.is_empty() {
        return Ok(());
    }
    write!(f, "\nsearched:")?;
    for p in searched {
        write!(f, "\n  {}", p.display())?;
    }
    Ok(())
}

impl fmt::Display for AgentError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AgentError::Unknown { name, available } => write!(
                f,
                "agent \"{name}\" not available: unknown agent: {name} (available: [{}])",
                available.join(" ")
            ),
            AgentError::InvalidSessionId { id, reason } => match reason {
                InvalidId::Empty => write!(f, "invalid session ID: session ID cannot be empty"),
                InvalidId::PathSeparator => write!(
                    f,
                    "invalid session ID: invalid session ID \"{id}\": contains path separators"
                ),
            },
            AgentError::NotFound {
                agent,
                session_id,
                also_tried,
                ..
            } => {
                write!(
                    f,
                    "transcript not found for agent \"{agent}\" with session {session_id}; is the session ID correct?"
                )?;
                if *also_tried {
                    write!(
                        f,
                        " (also tried auto-detecting other agents: transcript not found for any registered agent)"
                    )?;
                }
                // Entire's one line; the places are in `searched` for the caller's hint line.
                Ok(())
            }
            AgentError::OpencodeUnavailable {
                session_id,
                searched,
            } => {
                write!(
                    f,
                    "transcript not found for agent \"opencode\" with session {session_id}: OpenCode keeps sessions in its own store and the `opencode` command, needed to export them, is not on PATH; install OpenCode, or run `opencode export {session_id} > {session_id}.json` where it is installed and attach that file with --transcript"
                )?;
                write_searched(f, searched)
            }
            AgentError::Read { path, cause } => {
                write!(f, "cannot read transcript {}: {cause}", path.display())
            }
            AgentError::Plugin {
                name,
                subcommand,
                cause,
            } => write!(
                f,
                "agent plugin entire-agent-{name} failed on {subcommand}: {cause}"
            ),
        }
    }
}

impl std::error::Error for AgentError {}

fn validate_id(session_id: &str) -> Result<(), AgentError> {
    let reason = if session_id.trim().is_empty() {
        InvalidId::Empty
    } else if session_id.contains('/') || session_id.contains('\\') {
        InvalidId::PathSeparator
    } else {
        return Ok(());
    };
    Err(AgentError::InvalidSessionId {
        id: session_id.to_string(),
        reason,
    })
}

/// One agent's path rule and fallback scans. `strict`: the agent was asked for by name, so a
/// broken plugin is an error rather than "not here".
fn find_with(
    ctx: &Context,
    agent: &Agent,
    id: &str,
    searched: &mut Vec<PathBuf>,
    strict: bool,
) -> Result<Option<PathBuf>, AgentError> {
    match &agent.kind {
        Kind::Builtin(b) => Ok(b.find(ctx, id, searched)),
        Kind::External(plugin) => match external::find(ctx, agent, plugin, id, searched) {
            Ok(found) => Ok(found),
            Err(e) if strict => Err(e),
            Err(e) => {
                log::warn!("{e}");
                Ok(None)
            }
        },
    }
}

/// Finds the transcript of `session_id`: `preferred`'s path rule, its fallback scan, then every
/// other agent in name order (auto-detection).
pub fn locate(ctx: &Context, preferred: &Agent, session_id: &str) -> Result<Located, AgentError> {
    validate_id(session_id)?;
    let mut searched = Vec::new();
    if let Some(path) = find_with(ctx, preferred, session_id, &mut searched, true)? {
        return Ok(Located {
            agent: preferred.clone(),
            path,
            auto_detected: false,
        });
    }
    for agent in candidates(ctx) {
        if agent.name == preferred.name {
            continue;
        }
        if let Some(path) = find_with(ctx, &agent, session_id, &mut searched, false)? {
            return Ok(Located {
                agent,
                path,
                auto_detected: true,
            });
        }
    }
    if preferred.kind == Kind::Builtin(Builtin::OpenCode) && ctx.which("opencode").is_none() {
        return Err(AgentError::OpencodeUnavailable {
            session_id: session_id.to_string(),
            searched,
        });
    }
    Err(AgentError::NotFound {
        agent: preferred.name.clone(),
        session_id: session_id.to_string(),
        searched,
        also_tried: true,
    })
}

/// Reads the raw transcript bytes (external agents: `read-transcript`).
pub fn read_transcript(ctx: &Context, located: &Located) -> Result<Vec<u8>, AgentError> {
    if let Kind::External(plugin) = &located.agent.kind {
        return external::read(ctx, &located.agent, plugin, &located.path);
    }
    std::fs::read(&located.path).map_err(|e| AgentError::Read {
        path: located.path.clone(),
        cause: e.to_string(),
    })
}

/// First prompt, turns, model, token usage and files, with the agent's own rules. `raw` is the
/// un-normalized transcript; `path` is where it was found (Droid reads the model next to it).
pub fn session_info(ctx: &Context, agent: &Agent, raw: &[u8], path: &Path) -> SessionInfo {
    match &agent.kind {
        Kind::Builtin(b) => b.info(raw, path),
        Kind::External(plugin) => external::info(ctx, agent, plugin, raw, path),
    }
}

/// One session of this worktree, for `--list` and for `git attach` without an id.
#[derive(Clone, Debug)]
pub struct ListedSession {
    pub modified: SystemTime,
    pub agent: Agent,
    pub session_id: String,
    pub first_prompt: Option<String>,
    pub path: PathBuf,
}

/// Listing reads at most this much of a JSONL transcript to find its first prompt.
const LIST_PREFIX: u64 = 8 * 1024 * 1024;

/// This worktree's sessions of every built-in agent (or only `agent_filter`), newest first
/// (`agents.md` §2.4). Missing agent folders simply contribute nothing; external agents have no
/// listing subcommand.
pub fn list_sessions(ctx: &Context, agent_filter: Option<&Agent>) -> Vec<ListedSession> {
    let agents: Vec<Builtin> = match agent_filter {
        Some(Agent {
            kind: Kind::Builtin(b),
            ..
        }) => vec![*b],
        Some(_) => Vec::new(),
        None => BUILTINS.iter().map(|(_, _, b)| *b).collect(),
    };
    let mut out = Vec::new();
    for b in agents {
        let agent = b.agent();
        for (path, session_id) in b.list(ctx) {
            let Some(modified) = fsutil::modified(&path) else {
                continue;
            };
            let cap = if b.is_document() {
                u64::MAX
            } else {
                LIST_PREFIX
            };
            let first_prompt =
                fsutil::read_prefix(&path, cap).and_then(|raw| b.info(&raw, &path).first_prompt);
            out.push(ListedSession {
                modified,
                agent: agent.clone(),
                session_id,
                first_prompt,
                path,
            });
        }
    }
    out.sort_by(|a, b| {
        b.modified
            .cmp(&a.modified)
            .then_with(|| a.agent.name.cmp(&b.agent.name))
            .then_with(|| a.session_id.cmp(&b.session_id))
    });
    out
}

/// The agent of a transcript given with `--transcript` and no `--agent` (`agents.md` §2.3).
pub fn detect_from_content(bytes: &[u8]) -> Agent {
    use crate::transcript::compact::{detect, Format};
    let b = match detect(bytes) {
        Format::OpenCode => Builtin::OpenCode,
        Format::Gemini => Builtin::Gemini,
        Format::Codex => Builtin::Codex,
        Format::Copilot => Builtin::CopilotCli,
        Format::Droid => {
            if pi::has_session_header(bytes) {
                Builtin::Pi
            } else {
                Builtin::FactoryaiDroid
            }
        }
        Format::Jsonl => {
            if cursor::looks_like_cursor(bytes) {
                Builtin::Cursor
            } else {
                Builtin::ClaudeCode
            }
        }
    };
    b.agent()
}

/// `chunk-transcript`: an external agent's own chunking of a transcript above 50 MiB.
pub fn external_chunk(
    ctx: &Context,
    agent: &Agent,
    content: &[u8],
) -> Result<Vec<Vec<u8>>, AgentError> {
    match &agent.kind {
        Kind::External(plugin) => external::chunk(ctx, agent, plugin, content),
        Kind::Builtin(_) => Err(AgentError::Plugin {
            name: agent.name.clone(),
            subcommand: "chunk-transcript".into(),
            cause: "not an external agent".into(),
        }),
    }
}

/// `compact-transcript`: an external agent's compact transcript, `None` when it does not declare
/// the capability.
pub fn external_compact(
    ctx: &Context,
    agent: &Agent,
    transcript_path: &Path,
) -> Result<Option<Vec<u8>>, AgentError> {
    match &agent.kind {
        Kind::External(plugin) => external::compact(ctx, agent, plugin, transcript_path),
        Kind::Builtin(_) => Ok(None),
    }
}

#[cfg(test)]
pub(crate) mod testutil;

#[cfg(test)]
mod tests;
