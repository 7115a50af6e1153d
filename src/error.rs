//! The one error type of git-attach: what went wrong, with the path, ref or object involved.
//! Its user-facing wording (Display, hints) lives in `messages`; this module owns the shapes and
//! the exit codes (1 for runtime failures, 2 for usage errors).

use std::path::PathBuf;

use crate::agent::AgentError;
use crate::redact::{RedactError, RulesError};

/// Everything that can stop a run.
#[derive(Debug)]
pub enum Error {
    /// The command line is wrong (exit 2).
    Usage(String),
    /// A session id that is empty or contains a path separator (exit 2).
    InvalidSessionId { id: String, reason: &'static str },
    /// No repository around the current directory.
    NotARepository { cwd: PathBuf },
    /// A bare repository has no HEAD work to attach to.
    BareRepository { path: PathBuf },
    /// HEAD is unborn.
    NoCommits,
    /// Finding or reading the session failed.
    Agent(AgentError),
    /// `--transcript` names a file that cannot be read.
    TranscriptUnreadable { path: PathBuf, cause: String },
    /// The transcript has no bytes.
    TranscriptEmpty { path: PathBuf },
    /// A JSONL line larger than a chunk.
    TranscriptLineTooLong { path: PathBuf, cause: String },
    /// A redaction rule source could not be loaded (fail closed).
    Rules(RulesError),
    /// Redaction itself failed (fail closed).
    Redaction(RedactError),
    /// HEAD names a checkpoint the v1 branch does not have.
    CheckpointMissing { id: String, remote: String },
    /// An existing checkpoint cannot be extended without losing data.
    CorruptCheckpoint { id: String, cause: String },
    /// A union merge found a checkpoint changed differently on both sides.
    Conflict { refname: String, what: String },
    /// Another writer kept winning the race for the ref.
    RefContention { refname: String },
    /// A libgit2 operation failed.
    Git { context: String, cause: String },
    /// A file-system operation failed.
    Io {
        context: String,
        path: PathBuf,
        cause: String,
    },
    /// The `git` command failed or could not be run.
    GitCommand { args: String, cause: String },
    /// No session id was given and none could be proposed.
    NoSessionChosen { newest: Option<(String, String)> },
    /// The user declined at a prompt.
    Declined,
    /// Standard output was closed by its reader (`git attach --list | head`): not a failure.
    StdoutClosed,
}

impl Error {
    /// The process exit status for this error.
    pub fn exit_code(&self) -> u8 {
        match self {
            Error::Usage(_) | Error::InvalidSessionId { .. } => 2,
            _ => 1,
        }
    }

    pub fn git(context: impl Into<String>, cause: impl std::fmt::Display) -> Error {
        Error::Git {
            context: context.into(),
            cause: cause.to_string(),
        }
    }

    pub fn io(
        context: impl Into<String>,
        path: impl Into<PathBuf>,
        cause: std::io::Error,
    ) -> Error {
        Error::Io {
            context: context.into(),
            path: path.into(),
            cause: cause.to_string(),
        }
    }
}

impl From<AgentError> for Error {
    fn from(e: AgentError) -> Error {
        Error::Agent(e)
    }
}

impl From<RulesError> for Error {
    fn from(e: RulesError) -> Error {
        Error::Rules(e)
    }
}

impl From<RedactError> for Error {
    fn from(e: RedactError) -> Error {
        Error::Redaction(e)
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;
