//! Settings: the repository's strategy files (`.entire/settings.json` overlaid by
//! `.entire/settings.local.json`), git config `attach.*` through git's own layering (system <
//! global < local < worktree < `git -c`), and the command line, lowest to highest
//! (`product.md` §3). Every effective value remembers where it came from, for
//! `--show-settings` and debug logs.
//!
//! git config is read with one `git config --get-regexp` call, so that every source git itself
//! honours (includes, `GIT_CONFIG_*`, `git -c`) applies exactly as it does for git.

use std::fmt;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use serde_json::Value;

use crate::cli::Args;
use crate::error::{Error, Result};

/// Where an effective value came from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Origin {
    Default,
    /// `.entire/settings.json` or `.entire/settings.local.json`.
    StrategyFile(PathBuf),
    /// git config, with git's scope name (`system`, `global`, `local`, `worktree`, `command`).
    GitConfig(String),
    CommandLine,
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Origin::Default => f.write_str("default"),
            Origin::StrategyFile(p) => write!(f, "{}", p.display()),
            Origin::GitConfig(scope) => write!(f, "git config: {scope}"),
            Origin::CommandLine => f.write_str("command line"),
        }
    }
}

/// A value and its origin.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Setting<T> {
    pub value: T,
    pub origin: Origin,
}

impl<T> Setting<T> {
    fn default(value: T) -> Setting<T> {
        Setting {
            value,
            origin: Origin::Default,
        }
    }

    fn set(&mut self, value: T, origin: Origin) {
        self.value = value;
        self.origin = origin;
    }
}

/// Who commits to the checkpoint refs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Identity {
    pub name: String,
    pub email: String,
}

/// The effective settings of one run.
#[derive(Clone, Debug)]
pub struct Settings {
    pub checkpoints_v2: Setting<bool>,
    pub enabled: Setting<bool>,
    pub agent: Setting<String>,
    pub remote: Setting<String>,
    pub agent_timeout: Setting<u64>,
    pub redaction_rules: Setting<Option<PathBuf>>,
    pub identity: Identity,
    /// Names of the configured remotes (those with a `remote.<name>.url`).
    pub remotes: Vec<String>,
}

impl Settings {
    /// Reads every source for the repository whose worktree root is `root`.
    pub fn load(root: &Path, args: &Args) -> Result<Settings> {
        let entries = read_git_config()?;
        Ok(Settings::from_sources(
            root,
            &entries,
            args,
            &env_identity(),
        ))
    }

    /// The layering itself, from already read sources (testable without processes).
    pub fn from_sources(
        root: &Path,
        config: &[ConfigEntry],
        args: &Args,
        env: &EnvIdentity,
    ) -> Settings {
        let mut s = Settings {
            checkpoints_v2: Setting::default(false),
            enabled: Setting::default(true),
            agent: Setting::default("claude-code".to_string()),
            remote: Setting::default("origin".to_string()),
            agent_timeout: Setting::default(30),
            redaction_rules: Setting::default(None),
            identity: Identity {
                name: String::new(),
                email: String::new(),
            },
            remotes: Vec::new(),
        };
        for name in ["settings.json", "settings.local.json"] {
            let path = root.join(".entire").join(name);
            if let Some(file) = read_strategy_file(&path) {
                if let Some(v2) = file.checkpoints_v2 {
                    s.checkpoints_v2.set(v2, Origin::StrategyFile(path.clone()));
                }
                if let Some(enabled) = file.enabled {
                    s.enabled.set(enabled, Origin::StrategyFile(path.clone()));
                }
            }
        }
        let (mut name, mut email) = (None, None);
        for e in config {
            let origin = Origin::GitConfig(e.scope.clone());
            let value = e.value.as_deref();
            match e.key.as_str() {
                "attach.checkpointsv2" => {
                    if let Some(b) = git_bool(&e.key, value) {
                        s.checkpoints_v2.set(b, origin);
                    }
                }
                "attach.enabled" => {
                    if let Some(b) = git_bool(&e.key, value) {
                        s.enabled.set(b, origin);
                    }
                }
                "attach.agent" => match value.map(str::trim).filter(|v| !v.is_empty()) {
                    Some(v) => s.agent.set(v.to_string(), origin),
                    None => log::warn!("ignoring empty git config attach.agent"),
                },
                "attach.remote" => match value.map(str::trim).filter(|v| !v.is_empty()) {
                    Some(v) => s.remote.set(v.to_string(), origin),
                    None => log::warn!("ignoring empty git config attach.remote"),
                },
                "attach.agenttimeout" => match value.and_then(|v| v.trim().parse::<u64>().ok()) {
                    Some(n) if n > 0 => s.agent_timeout.set(n, origin),
                    _ => log::warn!(
                        "ignoring git config attach.agentTimeout = {:?}: not a positive number of seconds",
                        value.unwrap_or_default()
                    ),
                },
                "attach.redactionrules" => {
                    let path = value
                        .map(str::trim)
                        .filter(|v| !v.is_empty())
                        .map(|v| expand_path(v, root, env.home.as_deref()));
                    s.redaction_rules.set(path, origin);
                }
                key if key.starts_with("remote.") && key.ends_with(".url") => {
                    let remote = &e.key["remote.".len()..e.key.len() - ".url".len()];
                    if !s.remotes.iter().any(|r| r == remote) {
                        s.remotes.push(remote.to_string());
                    }
                }
                "user.name" => name = value.map(str::to_string),
                "user.email" => email = value.map(str::to_string),
                _ => {}
            }
        }
        if let Some(v2) = args.v2 {
            s.checkpoints_v2.set(v2, Origin::CommandLine);
        }
        if let Some(agent) = &args.agent {
            s.agent.set(agent.clone(), Origin::CommandLine);
        }
        if let Some(remote) = &args.remote {
            s.remote.set(remote.clone(), Origin::CommandLine);
        }
        s.identity = Identity {
            name: env
                .name
                .clone()
                .or(name)
                .filter(|n| !n.is_empty())
                .unwrap_or_else(|| "Unknown".to_string()),
            email: env
                .email
                .clone()
                .or(email)
                .filter(|n| !n.is_empty())
                .unwrap_or_else(|| "unknown@local".to_string()),
        };
        s
    }

    pub fn agent_timeout(&self) -> Duration {
        Duration::from_secs(self.agent_timeout.value)
    }

    /// The `--show-settings` listing.
    pub fn describe(&self) -> String {
        let rules = self
            .redaction_rules
            .value
            .as_ref()
            .map(|p| p.display().to_string())
            .unwrap_or_else(|| "(unset)".to_string());
        let rows: [(&str, String, &Origin); 6] = [
            (
                "checkpoints_v2",
                self.checkpoints_v2.value.to_string(),
                &self.checkpoints_v2.origin,
            ),
            (
                "enabled",
                self.enabled.value.to_string(),
                &self.enabled.origin,
            ),
            ("agent", self.agent.value.clone(), &self.agent.origin),
            ("remote", self.remote.value.clone(), &self.remote.origin),
            (
                "agent_timeout",
                self.agent_timeout.value.to_string(),
                &self.agent_timeout.origin,
            ),
            ("redaction_rules", rules, &self.redaction_rules.origin),
        ];
        let mut out = String::new();
        for (key, value, origin) in rows {
            out.push_str(&format!("{key:<16}= {value:<8} ({origin})\n"));
        }
        out
    }
}

/// One `scope key value` row of `git config --show-scope --get-regexp`. Keys are lower-cased by
/// git; `value` is `None` for a bare `key` line (which git reads as boolean true).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConfigEntry {
    pub scope: String,
    pub key: String,
    pub value: Option<String>,
}

/// `GIT_AUTHOR_NAME`/`GIT_AUTHOR_EMAIL` (git's own overrides) and `HOME`.
#[derive(Clone, Debug, Default)]
pub struct EnvIdentity {
    pub name: Option<String>,
    pub email: Option<String>,
    pub home: Option<PathBuf>,
}

fn env_identity() -> EnvIdentity {
    let var = |k: &str| std::env::var(k).ok().filter(|v| !v.is_empty());
    EnvIdentity {
        name: var("GIT_AUTHOR_NAME"),
        email: var("GIT_AUTHOR_EMAIL"),
        home: var("HOME").map(PathBuf::from),
    }
}

/// Runs `git config -z --show-scope --get-regexp` for `attach.*`, `user.*` and remote URLs in
/// the current directory
/// (so `GIT_DIR`, `git -C` and `git -c` apply as they do for the calling git).
pub fn read_git_config() -> Result<Vec<ConfigEntry>> {
    let out = Command::new("git")
        .args([
            "config",
            "-z",
            "--show-scope",
            "--get-regexp",
            r"^(attach\.|user\.|remote\..*\.url$)",
        ])
        .output()
        .map_err(|e| Error::GitCommand {
            args: "config".into(),
            cause: e.to_string(),
        })?;
    // Exit status 1 means "no matching key".
    if !out.status.success() && out.status.code() != Some(1) {
        return Err(Error::GitCommand {
            args: "config --get-regexp".into(),
            cause: String::from_utf8_lossy(&out.stderr).trim().to_string(),
        });
    }
    Ok(parse_config_z(&out.stdout))
}

/// Parses `scope\0key\nvalue\0` / `scope\0key\0` records.
pub fn parse_config_z(bytes: &[u8]) -> Vec<ConfigEntry> {
    let text = String::from_utf8_lossy(bytes);
    let mut fields = text.split('\0');
    let mut out = Vec::new();
    while let (Some(scope), Some(kv)) = (fields.next(), fields.next()) {
        if scope.is_empty() {
            break;
        }
        let (key, value) = match kv.split_once('\n') {
            Some((k, v)) => (k, Some(v.to_string())),
            None => (kv, None),
        };
        out.push(ConfigEntry {
            scope: scope.to_string(),
            key: key.to_ascii_lowercase(),
            value,
        });
    }
    out
}

/// git's boolean spelling; a bare key is true. Invalid values are warned about and ignored.
fn git_bool(key: &str, value: Option<&str>) -> Option<bool> {
    let Some(v) = value else { return Some(true) };
    match v.trim().to_ascii_lowercase().as_str() {
        "true" | "yes" | "on" | "1" => Some(true),
        "false" | "no" | "off" | "0" | "" => Some(false),
        other => {
            log::warn!("ignoring git config {key} = {other:?}: not a boolean");
            None
        }
    }
}

/// `~/x` → `$HOME/x`; relative paths are relative to the repository root.
fn expand_path(v: &str, root: &Path, home: Option<&Path>) -> PathBuf {
    if let (Some(rest), Some(home)) = (v.strip_prefix("~/"), home) {
        return home.join(rest);
    }
    let p = PathBuf::from(v);
    if p.is_absolute() {
        p
    } else {
        root.join(p)
    }
}

/// What one strategy file says, after validation.
#[derive(Debug, Default, PartialEq, Eq)]
struct StrategyFile {
    checkpoints_v2: Option<bool>,
    enabled: Option<bool>,
}

/// Reads a strategy file tolerantly: a missing file is silence; a broken one (not JSON, or a
/// known key of the wrong type) is a warning naming the file and key, and the file is ignored.
fn read_strategy_file(path: &Path) -> Option<StrategyFile> {
    let bytes = match std::fs::read(path) {
        Ok(b) => b,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return None,
        Err(e) => {
            log::warn!("ignoring {}: {e}", path.display());
            return None;
        }
    };
    match parse_strategy(&bytes) {
        Ok(f) => Some(f),
        Err(why) => {
            log::warn!("ignoring {}: {why}", path.display());
            None
        }
    }
}

fn parse_strategy(bytes: &[u8]) -> std::result::Result<StrategyFile, String> {
    let v: Value = serde_json::from_slice(bytes).map_err(|e| format!("not valid JSON: {e}"))?;
    let Value::Object(top) = v else {
        return Err("not a JSON object".into());
    };
    let mut out = StrategyFile::default();
    if let Some(enabled) = top.get("enabled") {
        match enabled {
            Value::Bool(b) => out.enabled = Some(*b),
            _ => return Err("key \"enabled\" is not a boolean".into()),
        }
    }
    match top.get("strategy_options") {
        None | Some(Value::Null) => {}
        Some(Value::Object(opts)) => {
            if let Some(v2) = opts.get("checkpoints_v2") {
                match v2 {
                    Value::Bool(b) => out.checkpoints_v2 = Some(*b),
                    _ => {
                        return Err(
                            "key \"strategy_options.checkpoints_v2\" is not a boolean".into()
                        )
                    }
                }
            }
            // Later Entire versions: `checkpoints_version: 2` (number or numeric string).
            if let Some(ver) = opts.get("checkpoints_version") {
                let n = match ver {
                    Value::Number(n) => n.as_f64(),
                    Value::String(s) => s.trim().parse::<f64>().ok(),
                    _ => None,
                };
                match n {
                    Some(n) if n >= 2.0 => out.checkpoints_v2 = Some(true),
                    Some(_) => {}
                    None => {
                        return Err(
                            "key \"strategy_options.checkpoints_version\" is not a number".into(),
                        )
                    }
                }
            }
        }
        Some(_) => return Err("key \"strategy_options\" is not an object".into()),
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_git_config_z_output() {
        let raw = b"global\0user.name\nA B\0local\0attach.checkpointsv2\ntrue\0local\0attach.flag\0command\0attach.agent\ncodex\0";
        let e = parse_config_z(raw);
        assert_eq!(e.len(), 4);
        assert_eq!(e[0].value.as_deref(), Some("A B"));
        assert_eq!(e[2].key, "attach.flag");
        assert_eq!(e[2].value, None);
        assert_eq!(e[3].scope, "command");
    }

    #[test]
    fn strategy_files_are_read_tolerantly() {
        assert_eq!(
            parse_strategy(br#"{"strategy_options":{"checkpoints_v2":true},"other":1}"#),
            Ok(StrategyFile {
                checkpoints_v2: Some(true),
                enabled: None
            })
        );
        assert!(
            parse_strategy(br#"{"strategy_options":{"checkpoints_v2":"true"}}"#)
                .unwrap_err()
                .contains("strategy_options.checkpoints_v2")
        );
        assert!(parse_strategy(b"{").is_err());
        assert_eq!(
            parse_strategy(br#"{"strategy_options":{"checkpoints_version":"2"}}"#)
                .unwrap()
                .checkpoints_v2,
            Some(true)
        );
    }

    #[test]
    fn identity_prefers_environment_then_config_then_defaults() {
        let root = Path::new("/r");
        let args = Args::default();
        let none = EnvIdentity::default();
        let s = Settings::from_sources(root, &[], &args, &none);
        assert_eq!(s.identity.name, "Unknown");
        assert_eq!(s.identity.email, "unknown@local");
        let cfg = parse_config_z(b"local\0user.name\nCfg\0local\0user.email\nc@x\0");
        let s = Settings::from_sources(root, &cfg, &args, &none);
        assert_eq!(
            (s.identity.name.as_str(), s.identity.email.as_str()),
            ("Cfg", "c@x")
        );
        let env = EnvIdentity {
            name: Some("Env".into()),
            ..EnvIdentity::default()
        };
        let s = Settings::from_sources(root, &cfg, &args, &env);
        assert_eq!(s.identity.name, "Env");
    }

    #[test]
    fn redaction_rules_paths_are_resolved() {
        let home = Path::new("/home/u");
        assert_eq!(
            expand_path("~/r.toml", Path::new("/repo"), Some(home)),
            home.join("r.toml")
        );
        assert_eq!(
            expand_path("r.toml", Path::new("/repo"), Some(home)),
            PathBuf::from("/repo/r.toml")
        );
        assert_eq!(
            expand_path("/abs.toml", Path::new("/repo"), None),
            PathBuf::from("/abs.toml")
        );
    }
}
