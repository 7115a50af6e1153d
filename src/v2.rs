//! The v2 mirror stage (`v2-format.md`): runs only after the v1 ref has moved, reads only what
//! v1 produced plus the repository, and logs and swallows every failure of its own — an error,
//! a corrupt ref, a missing object, even a panic — so that the v1 result, standard output and the
//! exit status are exactly those of a run with v2 off.

use std::panic::{catch_unwind, AssertUnwindSafe};

use crate::checkpoint::metadata::CommittedMetadata;
use crate::checkpoint::CheckpointId;
use crate::error::Result;
use crate::git::{Ident, Oid, Repo};
use crate::messages;

/// What the v1 writer produced, handed to the mirror.
pub struct MirrorInput<'a> {
    pub checkpoint: &'a CheckpointId,
    pub session_id: &'a str,
    /// The slot v1 gave the session (v2 uses the same one).
    pub slot: usize,
    /// Whether the checkpoint existed on v1 before this attach.
    pub existed_before: bool,
    /// The v1 commit this attach wrote.
    pub v1_commit: Oid,
    /// The redacted transcript before the v1-only Codex sanitization.
    pub transcript: &'a [u8],
    pub agent: &'a str,
    pub prompt: Option<&'a str>,
    pub metadata: &'a CommittedMetadata,
    pub cli_version: &'a str,
    pub author: &'a Ident,
}

/// Runs the stage; never fails, never panics out.
pub fn mirror(repo: &Repo, input: &MirrorInput<'_>) {
    let outcome = catch_unwind(AssertUnwindSafe(|| stage(repo, input)));
    let cause = match outcome {
        Ok(Ok(())) => return,
        Ok(Err(e)) => e.to_string(),
        Err(panic) => panic_message(panic.as_ref()),
    };
    log::warn!("{}", messages::v2_failed(input.checkpoint.as_str(), &cause));
}

fn panic_message(p: &(dyn std::any::Any + Send)) -> String {
    if let Some(s) = p.downcast_ref::<&str>() {
        format!("internal error: {s}")
    } else if let Some(s) = p.downcast_ref::<String>() {
        format!("internal error: {s}")
    } else {
        "internal error".to_string()
    }
}

/// The mirror itself. Not written yet: the v2 writer and backfill are the next piece of work
/// (issue "Settings, the v2 mirror stage and backfill"); until then the stage does nothing and
/// logs that at debug level.
fn stage(_repo: &Repo, input: &MirrorInput<'_>) -> Result<()> {
    log::debug!(
        "v2 mirror for checkpoint {} skipped: not implemented in this build",
        input.checkpoint
    );
    Ok(())
}
