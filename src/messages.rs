//! Every sentence git-attach says to its user: error and hint texts, the result lines of an
//! attach, the amend prompt. Wording follows Entire's where Entire has one, so that people who use
//! both feel at home; tests assert on these strings.

use std::fmt;

use crate::agent::AgentError;
use crate::checkpoint::metadata::TokenUsage;
use crate::error::Error;

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Usage(msg) => f.write_str(msg),
            Error::InvalidSessionId { id, reason } => {
                if id.trim().is_empty() {
                    write!(f, "invalid session ID: {reason}")
                } else {
                    write!(f, "invalid session ID \"{id}\": {reason}")
                }
            }
            Error::NotARepository { cwd } => write!(
                f,
                "not a git repository (or any of the parent directories): {}",
                cwd.display()
            ),
            Error::BareRepository { path } => {
                write!(f, "cannot attach in a bare repository: {}", path.display())
            }
            Error::NoCommits => f.write_str("the repository has no commits yet"),
            Error::Agent(e) => write!(f, "{e}"),
            Error::TranscriptUnreadable { path, cause } => {
                write!(f, "cannot read transcript {}: {cause}", path.display())
            }
            Error::TranscriptEmpty { path } => {
                write!(f, "transcript {} is empty", path.display())
            }
            Error::TranscriptLineTooLong { path, cause } => {
                write!(f, "cannot store transcript {}: {cause}", path.display())
            }
            Error::Rules(e) => write!(f, "{e}"),
            Error::Redaction(e) => write!(f, "{e}"),
            Error::CheckpointMissing { id, .. } => write!(
                f,
                "HEAD names checkpoint {id}, which is not on entire/checkpoints/v1"
            ),
            Error::CorruptCheckpoint { id, cause } => {
                write!(f, "cannot extend checkpoint {id}: {cause}")
            }
            Error::Conflict { refname, what } => write!(
                f,
                "cannot merge the remote's {refname}: checkpoint {what} differs on both sides; nothing was changed"
            ),
            Error::RefContention { refname } => write!(
                f,
                "gave up updating {refname}: other writers kept changing it"
            ),
            Error::Git { context, cause } => write!(f, "{context}: {cause}"),
            Error::Io {
                context,
                path,
                cause,
            } => write!(f, "{context} {}: {cause}", path.display()),
            Error::GitCommand { args, cause } => write!(f, "git {args} failed: {cause}"),
            Error::NoSessionChosen {
                newest: Some((agent, id)),
            } => write!(
                f,
                "no session ID given; the newest session of this repository is {id} ({agent})"
            ),
            Error::NoSessionChosen { newest: None } => {
                f.write_str("no session ID given and no session of this repository was found")
            }
            Error::Declined => f.write_str("nothing attached"),
            Error::StdoutClosed => f.write_str("standard output was closed"),
        }
    }
}

/// The `hint:` line for an error, where one helps.
pub fn hint(e: &Error) -> Option<String> {
    match e {
        Error::Usage(_) => Some("see 'git attach -h' for the options".into()),
        Error::InvalidSessionId { .. } => Some(
            "pass the agent's session ID, e.g. git attach 3f1c2a7e-9b4d-4c1e-8f2a-6d5e4c3b2a10"
                .into(),
        ),
        Error::NotARepository { .. } => Some("run git attach inside a git work tree".into()),
        Error::BareRepository { .. } => {
            Some("run git attach in a work tree of the repository (git worktree add)".into())
        }
        Error::NoCommits => Some("commit your work first, then run git attach".into()),
        Error::Agent(AgentError::NotFound { searched, .. }) if !searched.is_empty() => {
            let places: Vec<String> = searched.iter().map(|p| p.display().to_string()).collect();
            Some(format!(
                "searched {}; use --transcript <path> to attach a file directly",
                places.join(", ")
            ))
        }
        Error::Agent(AgentError::Unknown { .. }) => {
            Some("see 'git attach -h' for the agent names".into())
        }
        Error::TranscriptUnreadable { .. } => {
            Some("check the path, or attach by session ID without --transcript".into())
        }
        Error::Rules(_) => Some(
            "fix the rule file (.gitleaks.toml, or the file git config attach.redactionRules names); nothing is stored until every rule file loads".into(),
        ),
        Error::TranscriptEmpty { .. } => {
            Some("the agent may not have written the session yet; try again when it has".into())
        }
        Error::CheckpointMissing { remote, .. } => Some(format!(
            "git fetch {remote} entire/checkpoints/v1:entire/checkpoints/v1"
        )),
        Error::RefContention { .. } => Some("run the command again".into()),
        Error::Conflict { .. } => Some(
            "compare the two versions with git diff <local> <remote> -- <checkpoint path>; git-attach never overwrites either side"
                .into(),
        ),
        Error::NoSessionChosen {
            newest: Some((_, id)),
        } => Some(format!("git attach {id} --force")),
        Error::NoSessionChosen { newest: None } => {
            Some("pass the session ID, or --transcript <path>".into())
        }
        _ => None,
    }
}

/// `Attached session <id>`.
pub fn attached(session_id: &str) -> String {
    format!("Attached session {session_id}")
}

/// `  Captured: 3 turns · claude-sonnet-4-20250514 · 12.3k tokens` (parts that are unknown are
/// left out).
pub fn captured(turns: u64, model: &str, tokens: Option<&TokenUsage>) -> String {
    let mut parts = vec![if turns == 1 {
        "1 turn".to_string()
    } else {
        format!("{turns} turns")
    }];
    if !model.is_empty() {
        parts.push(model.to_string());
    }
    // A transcript without usage data gives an all-zero count: say nothing rather than "0".
    if let Some(t) = tokens.filter(|t| t.total() > 0) {
        parts.push(format!("{} tokens", human_count(t.total())));
    }
    format!("  Captured: {}", parts.join(" · "))
}

/// `12.3k`, `4.5M`, `999`.
pub fn human_count(n: u64) -> String {
    if n < 1000 {
        n.to_string()
    } else if n < 1_000_000 {
        format!("{:.1}k", n as f64 / 1000.0)
    } else {
        format!("{:.1}M", n as f64 / 1_000_000.0)
    }
}

pub fn created_checkpoint(id: &str) -> String {
    format!("  Created checkpoint {id}")
}

pub fn added_to_checkpoint(id: &str) -> String {
    format!("  Added to existing checkpoint {id}")
}

pub fn auto_detected(agent: &str) -> String {
    format!("Auto-detected agent: {agent}")
}

pub fn already_linked(session_id: &str, checkpoint: &str) -> String {
    format!("Session {session_id} already has checkpoint {checkpoint}")
}

pub fn commit_has_trailer(short: &str, checkpoint: &str) -> String {
    format!("Commit {short} already has Entire-Checkpoint: {checkpoint}")
}

pub fn last_commit(short: &str, subject: &str) -> String {
    format!("Last commit: {short} {subject}")
}

pub const AMEND_QUESTION: &str = "Amend the last commit in this branch? [Y/n] ";

pub fn amended(short: &str, checkpoint: &str) -> String {
    format!("Amended commit {short} with Entire-Checkpoint: {checkpoint}")
}

/// The two lines printed instead of amending.
pub fn copy_trailer(checkpoint: &str) -> String {
    format!("Copy to your commit message to attach:\n\n  Entire-Checkpoint: {checkpoint}")
}

pub fn amend_failed(cause: &str) -> String {
    format!("could not amend HEAD: {cause}")
}

pub fn newest_session(agent: &str, id: &str, prompt: &str) -> String {
    if prompt.is_empty() {
        format!("Newest session: {id} ({agent})")
    } else {
        format!("Newest session: {id} ({agent}): {prompt}")
    }
}

pub const ATTACH_QUESTION: &str = "Attach this session? [Y/n] ";

pub const NOTHING_TO_BACKFILL: &str = "Nothing to backfill: checkpoints v2 holds every v1 session";

pub fn backfilled(count: usize) -> String {
    format!(
        "Backfilled {count} checkpoint{} into checkpoints v2",
        if count == 1 { "" } else { "s" }
    )
}

pub const ROTATED: &str = "Archived a full generation of refs/entire/checkpoints/v2/full/current";

pub fn fetched(remote: &str, how: &str) -> String {
    format!("Fetched entire/checkpoints/v1 from {remote} ({how})")
}

pub fn pushed(remote: &str, refname: &str, status: &str) -> String {
    format!("Pushed {refname} to {remote} ({status})")
}

pub fn nothing_to_push(remote: &str) -> String {
    format!("Nothing to push to {remote}: there is no entire/checkpoints/v1 branch yet")
}

/// What `--dry-run` reports.
pub struct DryRun<'a> {
    pub session_id: &'a str,
    pub agent: &'a str,
    pub path: &'a std::path::Path,
    /// The `Captured:` line.
    pub captured: String,
    pub checkpoint: &'a str,
    pub existed: bool,
    pub slot: usize,
    pub reused: bool,
    pub branch: &'a str,
    /// Paths inside the branch that would be written.
    pub files: Vec<String>,
    pub v2: bool,
    /// Whether HEAD would be linked (it does not name the checkpoint yet).
    pub link: bool,
}

pub fn dry_run(d: &DryRun<'_>) -> String {
    let mut text = format!(
        "Would attach session {} ({}, {})\n{}\n",
        d.session_id,
        d.agent,
        d.path.display(),
        d.captured
    );
    text.push_str(&format!(
        "  {} checkpoint {}, slot {}{}\n",
        if d.existed { "Existing" } else { "New" },
        d.checkpoint,
        d.slot,
        if d.reused {
            " (replacing this session's earlier copy)"
        } else {
            ""
        }
    ));
    text.push_str(&format!("  Would write {}:\n", d.branch));
    for f in &d.files {
        text.push_str(&format!("    {f}\n"));
    }
    if d.v2 {
        text.push_str("  Would mirror into refs/entire/checkpoints/v2/main and refs/entire/checkpoints/v2/full/current\n");
    }
    text.push_str(&format!(
        "  Would write the session state {}.json\n",
        d.session_id
    ));
    if d.link {
        text.push_str(&format!(
            "  Would link HEAD with Entire-Checkpoint: {}\n",
            d.checkpoint
        ));
    }
    text
}

/// One checkpoint of `--backfill`.
pub fn mirrored(dry_run: bool, checkpoint: &str, slots: &[usize]) -> String {
    let slots: Vec<String> = slots.iter().map(usize::to_string).collect();
    let verb = if dry_run { "Would mirror" } else { "Mirrored" };
    format!(
        "{verb} checkpoint {checkpoint} (slots {})",
        slots.join(", ")
    )
}

/// Progress lines.
pub fn progress_reading(session_id: &str) -> String {
    format!("Reading session {session_id}")
}

pub fn progress_redacting(session_id: &str) -> String {
    format!("Redacting session {session_id}")
}

pub fn progress_writing(refname: &str) -> String {
    format!("Writing {refname}")
}

pub const PROGRESS_MIRRORING: &str = "Mirroring into checkpoints v2";

pub fn progress_backfill(done: usize, total: usize) -> String {
    format!("Backfilling checkpoints: {done}/{total}")
}

pub const DISABLED: &str = "git-attach is disabled in this repository";

pub fn state_not_saved(cause: &str) -> String {
    format!("could not save the session state: {cause}")
}

pub fn v2_failed(checkpoint: &str, cause: &str) -> String {
    format!("v2 mirror failed for checkpoint {checkpoint}: {cause}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn captured_line_leaves_out_unknown_parts() {
        let t = TokenUsage {
            input_tokens: 10,
            cache_creation_tokens: 100,
            cache_read_tokens: 12_000,
            output_tokens: 190,
            ..TokenUsage::default()
        };
        assert_eq!(
            captured(3, "claude-sonnet-4-20250514", Some(&t)),
            "  Captured: 3 turns · claude-sonnet-4-20250514 · 12.3k tokens"
        );
        assert_eq!(captured(1, "", None), "  Captured: 1 turn");
        assert_eq!(human_count(999), "999");
        assert_eq!(human_count(4_500_000), "4.5M");
    }
}
