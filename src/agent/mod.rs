//! Agents: where each agent keeps its sessions, how a session id maps to a file, reading the
//! transcript and extracting its metadata (`agents.md`). OWNED BY THE AGENTS WORK; this is the
//! interface stub the pipeline is written against.

use std::fmt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::checkpoint::metadata::TokenUsage;

/// What the lookups need from the outside world. Built from the process environment by
/// [`Context::from_process`]; tests build it by hand.
#[derive(Clone, Debug)]
pub struct Context {
    /// The worktree root R (`git rev-parse --show-toplevel`).
    pub repo_root: PathBuf,
    /// `$HOME`.
    pub home: PathBuf,
    /// Environment variables the agents honour (`CLAUDE_CONFIG_DIR`, `CODEX_HOME`, `PATH`, …).
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

    pub fn var(&self, name: &str) -> Option<&str> {
        self.vars
            .iter()
            .rev()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
            .filter(|v| !v.is_empty())
    }
}

/// An agent: a built-in one or an external `entire-agent-<name>` plugin.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Agent {
    /// Registry name (`claude-code`).
    pub name: String,
    /// Display type written to metadata (`Claude Code`).
    pub display_type: String,
}

impl Agent {
    /// Resolves `--agent <name>`: a built-in name, else `entire-agent-<name>` on `PATH`.
    pub fn by_name(_ctx: &Context, name: &str) -> Result<Agent, AgentError> {
        if name == "claude-code" {
            return Ok(Agent {
                name: name.into(),
                display_type: "Claude Code".into(),
            });
        }
        Err(AgentError::Unknown {
            name: name.into(),
            available: vec!["claude-code".into()],
        })
    }
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

#[derive(Debug)]
pub enum AgentError {
    Unknown { name: String, available: Vec<String> },
    NotFound { agent: String, session_id: String, searched: Vec<PathBuf>, also_tried: bool },
    Read { path: PathBuf, cause: String },
    Plugin { name: String, subcommand: String, cause: String },
}

impl fmt::Display for AgentError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AgentError::Unknown { name, available } => write!(
                f,
                "agent \"{name}\" not available: unknown agent: {name} (available: [{}])",
                available.join(" ")
            ),
            AgentError::NotFound { agent, session_id, also_tried, .. } => {
                write!(f, "transcript not found for agent \"{agent}\" with session {session_id}; is the session ID correct?")?;
                if *also_tried {
                    write!(f, " (also tried auto-detecting other agents: transcript not found for any registered agent)")?;
                }
                Ok(())
            }
            AgentError::Read { path, cause } => write!(f, "cannot read transcript {}: {cause}", path.display()),
            AgentError::Plugin { name, subcommand, cause } => {
                write!(f, "agent plugin entire-agent-{name} failed on {subcommand}: {cause}")
            }
        }
    }
}

/// Finds the transcript of `session_id`: `preferred`'s path rule, its fallback scan, then every
/// other agent in name order (auto-detection).
pub fn locate(_ctx: &Context, _preferred: &Agent, _session_id: &str) -> Result<Located, AgentError> {
    unimplemented!("agent::locate")
}

/// Reads the raw transcript bytes (external agents: `read-transcript`).
pub fn read_transcript(_ctx: &Context, located: &Located) -> Result<Vec<u8>, AgentError> {
    std::fs::read(&located.path).map_err(|e| AgentError::Read {
        path: located.path.clone(),
        cause: e.to_string(),
    })
}

/// First prompt, turns, model, token usage and files, with the agent's own rules.
pub fn session_info(_ctx: &Context, _agent: &Agent, _raw: &[u8], _path: &Path) -> SessionInfo {
    SessionInfo::default()
}
