//! The v1 writer: adds one session to a checkpoint on `entire/checkpoints/v1` exactly as Entire's
//! `WriteCommitted` does (`v1-format.md` §7–§9), with git-attach's rules for gaps in real data,
//! a branch seeded from the remote, and a compare-and-swap ref update that re-reads and redoes
//! the write when another writer got there first, so no concurrent session is lost.
//!
//! The blobs of the new session do not depend on the branch tip, so they are written once; only
//! the trees, the root summary and the commit are redone on a lost race.

use std::borrow::Cow;

use sha2::{Digest, Sha256};

use crate::checkpoint::metadata::{
    aggregate, CheckpointSummary, CommittedMetadata, SessionFilePaths, SlotAggregate,
};
use crate::checkpoint::tree::{slot_dir_of, CheckpointFiles};
use crate::checkpoint::CheckpointId;
use crate::error::{Error, Result};
use crate::git::{Cas, Entry, FlatTree, Ident, Oid, Repo};
use crate::gojson;
use crate::transcript::chunk::chunk_name;

/// The branch, as a full ref name.
pub const BRANCH: &str = "refs/heads/entire/checkpoints/v1";

/// The strategy every attach writes.
pub const STRATEGY: &str = "manual-commit";

/// Message of the orphan root commit (no trailing newline, stored verbatim).
pub const INIT_MESSAGE: &str = "Initialize sessions branch";

/// How often a lost compare-and-swap is retried before giving up.
const MAX_ATTEMPTS: u32 = 100;

/// The remote-tracking branch that seeds a missing local branch.
pub fn remote_branch(remote: &str) -> String {
    format!("refs/remotes/{remote}/entire/checkpoints/v1")
}

/// The session to write, fully prepared (redacted, sanitized, chunked).
pub struct NewSession<'a> {
    pub checkpoint: &'a CheckpointId,
    pub session_id: &'a str,
    /// Display type (`Claude Code`); also the `Entire-Agent` trailer.
    pub agent: &'a str,
    /// The stored transcript, chunk by chunk (`full.jsonl`, `full.jsonl.001`, …).
    pub chunks: &'a [Cow<'a, [u8]>],
    /// The whole stored transcript (`content_hash.txt` is its SHA-256).
    pub content: &'a [u8],
    /// `prompt.txt` content (already redacted), if there is a prompt.
    pub prompt: Option<&'a str>,
    /// The session's `metadata.json` content.
    pub metadata: &'a CommittedMetadata,
    pub cli_version: &'a str,
    pub author: &'a Ident,
    /// Remote whose tracking branch seeds a missing local branch.
    pub remote: &'a str,
    /// Write the transcript's chunks on several threads (off when another thread already keeps
    /// the second core busy).
    pub parallel_writes: bool,
}

/// `sha256:<64 hex>`.
pub fn content_hash(bytes: &[u8]) -> String {
    format!("sha256:{:x}", Sha256::digest(bytes))
}

/// The file names of a session slot, in tree order.
pub fn slot_file_names(chunks: usize, prompt: bool) -> Vec<String> {
    let mut names = vec!["content_hash.txt".to_string()];
    names.extend((0..chunks).map(|i| chunk_name("full.jsonl", i)));
    names.push("metadata.json".into());
    if prompt {
        names.push("prompt.txt".into());
    }
    names
}

/// Where the write will land, computed from the current tip without writing anything.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Plan {
    /// The slot directory number of the session.
    pub slot: usize,
    /// Whether the checkpoint already existed.
    pub existed: bool,
    /// Whether the session already had a slot there (re-attach).
    pub reused: bool,
}

/// The outcome of a write.
#[derive(Clone, Debug)]
pub struct Written {
    pub commit: Oid,
    pub plan: Plan,
}

/// The branch tip to build on: the local branch, else the remote-tracking branch (seed).
/// Returns (parent to build on, the local ref's current value for the compare-and-swap).
fn base(repo: &Repo, remote: &str) -> Result<(Option<Oid>, Option<Oid>)> {
    match repo.ref_target(BRANCH)? {
        Some(tip) => Ok((Some(tip), Some(tip))),
        None => Ok((repo.ref_target(&remote_branch(remote))?, None)),
    }
}

/// Whether checkpoint `id` exists on the branch (or on the remote-tracking branch that would
/// seed it).
pub fn checkpoint_exists(repo: &Repo, id: &CheckpointId, remote: &str) -> Result<bool> {
    let (tip, _) = base(repo, remote)?;
    let Some(tip) = tip else { return Ok(false) };
    let root = repo.commit_tree(tip)?;
    Ok(repo
        .entry_at(root, &id.path())?
        .is_some_and(|e| e.is_tree()))
}

/// Computes the slot for `session_id` in `cp` (`v1-format.md` §7 step 5 with the gap rule).
fn choose_slot(
    repo: &Repo,
    id: &CheckpointId,
    cp: &CheckpointFiles,
    summary: Option<&CheckpointSummary>,
    session_id: &str,
) -> Result<Plan> {
    let highest_next = cp.slot_dirs().last().map_or(0, |d| d + 1);
    let Some(summary) = summary else {
        // No summary: Entire would take slot 0; never write over a directory that is there.
        return Ok(Plan {
            slot: highest_next,
            existed: cp.existed,
            reused: false,
        });
    };
    for (i, s) in summary.sessions.iter().enumerate() {
        let dir = slot_dir_of(id, &s.metadata, i);
        if let Some(meta) = cp.slot_metadata(repo, dir)? {
            if meta.session_id == session_id {
                return Ok(Plan {
                    slot: dir,
                    existed: true,
                    reused: true,
                });
            }
        }
    }
    Ok(Plan {
        slot: summary.sessions.len().max(highest_next),
        existed: true,
        reused: false,
    })
}

/// The slot the session would get, from the current tip (for `--dry-run`).
pub fn plan(repo: &Repo, s: &NewSession<'_>) -> Result<Plan> {
    let (tip, _) = base(repo, s.remote)?;
    let root = tip.map(|t| repo.commit_tree(t)).transpose()?;
    let cp = CheckpointFiles::read(repo, root, s.checkpoint)?;
    let summary = cp.summary(repo, s.checkpoint)?;
    choose_slot(repo, s.checkpoint, &cp, summary.as_ref(), s.session_id)
}

/// The `SessionFilePaths` of a v1 slot.
fn v1_paths(id: &CheckpointId, slot: usize, prompt: bool) -> SessionFilePaths {
    let dir = format!("/{}/{slot}", id.path());
    SessionFilePaths {
        metadata: format!("{dir}/metadata.json"),
        transcript: format!("{dir}/full.jsonl"),
        content_hash: format!("{dir}/content_hash.txt"),
        prompt: if prompt {
            format!("{dir}/prompt.txt")
        } else {
            String::new()
        },
    }
}

/// Re-aggregates `summary` over the slots its `sessions` name. An entry whose metadata file is
/// absent is legacy data and skipped with a warning; one that exists but does not parse stops
/// the write.
pub fn reaggregate(
    repo: &Repo,
    id: &CheckpointId,
    cp: &CheckpointFiles,
    summary: &mut CheckpointSummary,
) -> Result<()> {
    let mut slots: Vec<SlotAggregate> = Vec::with_capacity(summary.sessions.len());
    for (i, s) in summary.sessions.iter().enumerate() {
        let dir = slot_dir_of(id, &s.metadata, i);
        let path = format!("{dir}/metadata.json");
        match cp.get(&path) {
            None => log::warn!("checkpoint {id}: session {i} has no {path}; not counted"),
            Some(e) => {
                let bytes = repo.read_blob(e.oid)?;
                let meta =
                    SlotAggregate::parse(&bytes).map_err(|err| Error::CorruptCheckpoint {
                        id: id.to_string(),
                        cause: format!("session {i} metadata does not parse: {err}"),
                    })?;
                slots.push(meta);
            }
        }
    }
    aggregate(summary, &slots);
    Ok(())
}

/// Writes the session's blobs (transcript chunks, hash, prompt, metadata) and returns the slot's
/// files by name.
fn write_slot_blobs(repo: &Repo, s: &NewSession<'_>) -> Result<FlatTree> {
    let mut files = FlatTree::new();
    let chunks: Vec<&[u8]> = s.chunks.iter().map(|c| c.as_ref()).collect();
    // The content hash is a second full pass over the transcript: take it beside the writes.
    let (ids, hash) = std::thread::scope(|scope| {
        let hash = scope.spawn(|| content_hash(s.content));
        let ids = if s.parallel_writes {
            repo.write_blobs(&chunks)
        } else {
            chunks.iter().map(|c| repo.write_blob(c)).collect()
        };
        let hash = hash.join();
        (ids, hash)
    });
    let ids: Vec<Oid> = ids?;
    let hash = hash.map_err(|_| Error::git("cannot hash the transcript", "internal error"))?;
    for (i, oid) in ids.into_iter().enumerate() {
        files.insert(chunk_name("full.jsonl", i), Entry::blob(oid));
    }
    files.insert(
        "content_hash.txt".into(),
        Entry::blob(repo.write_blob(hash.as_bytes())?),
    );
    if let Some(p) = s.prompt {
        files.insert(
            "prompt.txt".into(),
            Entry::blob(repo.write_blob(p.as_bytes())?),
        );
    }
    let meta = gojson::to_vec_indented(s.metadata)
        .map_err(|e| Error::git("cannot encode session metadata", e))?;
    files.insert("metadata.json".into(), Entry::blob(repo.write_blob(&meta)?));
    Ok(files)
}

/// The commit message of an attach (`v1-format.md` §9.1).
pub fn commit_message(id: &CheckpointId, session_id: &str, agent: &str) -> String {
    let mut m =
        format!("Checkpoint: {id}\n\nEntire-Session: {session_id}\nEntire-Strategy: {STRATEGY}\n");
    if !agent.is_empty() {
        m.push_str(&format!("Entire-Agent: {agent}\n"));
    }
    m
}

/// Adds the session to its checkpoint and moves the branch. Retries on lost races.
pub fn write(repo: &Repo, s: &NewSession<'_>) -> Result<Written> {
    let slot_files = write_slot_blobs(repo, s)?;
    let message = commit_message(s.checkpoint, s.session_id, s.agent);
    for attempt in 0..MAX_ATTEMPTS {
        let (parent, expected) = base(repo, s.remote)?;
        let parent = match parent {
            Some(p) => p,
            None => {
                let empty = repo.empty_tree()?;
                repo.commit(empty, &[], INIT_MESSAGE, s.author)?
            }
        };
        let root = repo.commit_tree(parent)?;
        let mut cp = CheckpointFiles::read(repo, Some(root), s.checkpoint)?;
        let existing = cp.summary(repo, s.checkpoint)?;
        let plan = choose_slot(repo, s.checkpoint, &cp, existing.as_ref(), s.session_id)?;

        let slot_dir = plan.slot.to_string();
        cp.clear_dir(&slot_dir);
        cp.put_dir(&slot_dir, &slot_files);

        let paths = v1_paths(s.checkpoint, plan.slot, s.prompt.is_some());
        let mut summary = CheckpointSummary {
            cli_version: s.cli_version.to_string(),
            checkpoint_id: s.checkpoint.to_string(),
            strategy: STRATEGY.to_string(),
            combined_attribution: existing
                .as_ref()
                .and_then(|e| e.combined_attribution.clone()),
            ..CheckpointSummary::default()
        };
        let mut sessions = existing.map(|e| e.sessions).unwrap_or_default();
        match sessions
            .iter()
            .enumerate()
            .position(|(i, el)| slot_dir_of(s.checkpoint, &el.metadata, i) == plan.slot)
            .filter(|_| plan.reused)
        {
            Some(i) => sessions[i] = paths,
            None => sessions.push(paths),
        }
        summary.sessions = sessions;
        reaggregate(repo, s.checkpoint, &cp, &mut summary)?;
        let root_meta = gojson::to_vec_indented(&summary)
            .map_err(|e| Error::git("cannot encode the checkpoint summary", e))?;
        cp.files.insert(
            "metadata.json".into(),
            Entry::blob(repo.write_blob(&root_meta)?),
        );

        let new_root = cp.splice_into(repo, Some(root), s.checkpoint)?;
        let commit = repo.commit(new_root, &[parent], &message, s.author)?;
        let log_message = format!("git-attach: checkpoint {}", s.checkpoint);
        match repo.update_ref(BRANCH, commit, expected, &log_message)? {
            Cas::Updated => return Ok(Written { commit, plan }),
            Cas::Lost => {
                log::debug!("lost the race for {BRANCH} (attempt {attempt}); redoing the write");
                backoff(attempt);
            }
        }
    }
    Err(Error::RefContention {
        refname: BRANCH.to_string(),
    })
}

/// A short randomized pause so racing writers spread out.
pub fn backoff(attempt: u32) {
    let mut b = [0u8; 1];
    let jitter = if getrandom::fill(&mut b).is_ok() {
        u64::from(b[0] % 20)
    } else {
        7
    };
    let base = u64::from(attempt.min(10)) * 5;
    std::thread::sleep(std::time::Duration::from_millis(base + jitter));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commit_message_is_entires() {
        let id = CheckpointId::parse("a3b2c4d5e6f7").unwrap();
        assert_eq!(
            commit_message(&id, "s-1", "Claude Code"),
            "Checkpoint: a3b2c4d5e6f7\n\nEntire-Session: s-1\nEntire-Strategy: manual-commit\nEntire-Agent: Claude Code\n"
        );
    }

    #[test]
    fn content_hash_is_71_bytes() {
        let h = content_hash(b"");
        assert_eq!(h.len(), 71);
        assert_eq!(
            h,
            "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
    }
}
