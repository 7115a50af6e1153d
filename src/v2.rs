//! The v2 mirror stage (`v2-format.md`): after the v1 ref has moved, mirror the checkpoint into
//! `refs/entire/checkpoints/v2/main` (metadata, prompts, compact transcripts) and
//! `refs/entire/checkpoints/v2/full/current` (raw transcripts), at the slots v1 uses, backfilling
//! every v1 session v2 lacks (§10), moving both refs in one transaction, then rotating
//! `/full/current` at 100 checkpoints (§7). `git attach --backfill` runs the same per-checkpoint
//! mirror over the whole v1 branch.
//!
//! The stage reads only what v1 produced plus the repository, and logs and swallows every failure
//! of its own — an error, a corrupt ref, a missing object, even a panic — so that the v1 result,
//! standard output and the exit status are exactly those of a run with v2 off.

use std::collections::{BTreeMap, BTreeSet};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::Path;

use serde_json::{Map, Value};

use crate::checkpoint::metadata::{aggregate, CheckpointSummary, SessionFilePaths, SlotAggregate};
use crate::checkpoint::tree::{list_checkpoints, slot_dir_of, CheckpointFiles};
use crate::checkpoint::CheckpointId;
use crate::error::{Error, Result};
use crate::git::{Cas, Entry, FlatTree, Ident, Oid, RefUpdate, Repo};
use crate::gojson;
use crate::messages;
use crate::time::Timestamp;
use crate::transcript::{chunk, compact};
use crate::v1;

pub const MAIN: &str = "refs/entire/checkpoints/v2/main";
pub const FULL_CURRENT: &str = "refs/entire/checkpoints/v2/full/current";
pub const FULL_PREFIX: &str = "refs/entire/checkpoints/v2/full/";
pub const INIT_MESSAGE: &str = "Initialize v2 ref";
/// `DefaultMaxCheckpointsPerGeneration`.
pub const GENERATION_SIZE: usize = 100;
const MAX_ATTEMPTS: u32 = 20;

/// A compact transcript made ahead of the stage, on another thread while the v1 writer runs
/// ([`precompact`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Precompacted {
    /// `transcript.jsonl` and `transcript_hash.txt`, already written as blobs.
    Blobs { transcript: Oid, hash: Oid },
    /// Compaction produced no output.
    Empty,
    /// Compaction failed; the stage reports the cause as a warning.
    Failed(String),
}

/// Thread name of [`precompact`] work; `main` keeps its panics off the terminal.
pub const PRECOMPACT_THREAD: &str = "git-attach-v2-compact";

/// Compacts the redacted transcript and writes its two blobs through a handle of its own on the
/// repository at `git_dir`, so that it can run beside the v1 writer. Never panics out.
pub fn precompact(
    git_dir: &Path,
    transcript: &[u8],
    agent: &str,
    cli_version: &str,
) -> Precompacted {
    let work = || -> Result<Precompacted> {
        let t = std::time::Instant::now();
        let bytes = compact::compact(transcript, agent, cli_version, 0)
            .map_err(|e| Error::git("compact transcript generation failed", e))?;
        log::debug!("compaction took {:?} ({} bytes)", t.elapsed(), bytes.len());
        if bytes.is_empty() {
            return Ok(Precompacted::Empty);
        }
        let repo = Repo::open(git_dir)?;
        Ok(Precompacted::Blobs {
            transcript: repo.write_blob(&bytes)?,
            hash: repo.write_blob(v1::content_hash(&bytes).as_bytes())?,
        })
    };
    match catch_unwind(AssertUnwindSafe(work)) {
        Ok(Ok(p)) => p,
        Ok(Err(e)) => Precompacted::Failed(e.to_string()),
        Err(panic) => Precompacted::Failed(panic_message(panic.as_ref())),
    }
}

/// A compactor supplied by the caller: compact bytes of a redacted transcript, or `None`.
pub type Compactor<'a> = &'a dyn Fn(&[u8]) -> Option<Vec<u8>>;

/// What the v1 writer produced, handed to the mirror.
pub struct MirrorInput<'a> {
    pub checkpoint: &'a CheckpointId,
    /// The slot v1 gave the session (v2 uses the same one).
    pub slot: usize,
    /// Whether the checkpoint existed on v1 before this attach.
    pub existed_before: bool,
    /// The v1 commit this attach wrote.
    pub v1_commit: Oid,
    /// The redacted transcript before the v1-only Codex sanitization.
    pub transcript: &'a [u8],
    pub agent: &'a str,
    pub cli_version: &'a str,
    /// Author of the checkpoint commits (the attach author).
    pub author: &'a Ident,
    /// Produces the compact transcript instead of the built-in converters (external agents,
    /// whose plugin compacts its own format); `None` from it means no `transcript.jsonl`.
    pub compactor: Option<Compactor<'a>>,
    /// Whether `transcript` is byte for byte what v1 stored in the slot (every agent but Codex,
    /// whose v1 copy is sanitized): v1's chunk and hash blobs are then the raw transcript's, and
    /// the stage reuses them without chunking and hashing 100 MB again.
    pub same_as_v1: bool,
    /// The compact transcript, when it was made ahead of the stage.
    pub precompacted: Option<&'a Precompacted>,
}

/// Runs the stage; never fails, never panics out. Returns whether both v2 refs were written.
pub fn mirror(repo: &Repo, input: &MirrorInput<'_>) -> bool {
    // A panic inside the stage is reported as one warning line, not as Rust's panic message.
    let previous_hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(|info| log::debug!("v2 stage panicked: {info}")));
    let outcome = catch_unwind(AssertUnwindSafe(|| {
        fault_injection();
        stage(repo, input)
    }));
    std::panic::set_hook(previous_hook);
    let cause = match outcome {
        Ok(Ok(written)) => return written,
        Ok(Err(e)) => e.to_string(),
        Err(panic) => panic_message(panic.as_ref()),
    };
    log::warn!("{}", messages::v2_failed(input.checkpoint.as_str(), &cause));
    false
}

/// Test-only fault injection: in debug builds (the ones `cargo test` runs), the environment
/// variable `GIT_ATTACH_TEST_V2_PANIC=1` makes the stage panic. Release builds compile it out.
fn fault_injection() {
    #[cfg(debug_assertions)]
    if std::env::var_os("GIT_ATTACH_TEST_V2_PANIC").is_some_and(|v| v == "1") {
        panic!("injected v2 failure");
    }
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

/// The tip of a v2 ref, which must be a commit.
fn tip(repo: &Repo, name: &str) -> Result<Option<Oid>> {
    match repo.ref_target(name)? {
        Some(oid) => {
            // Fails with a clear error when the ref points at something that is not a commit.
            repo.commit_tree(oid)
                .map_err(|e| Error::git(format!("{name} is not a commit"), e))?;
            Ok(Some(oid))
        }
        None => Ok(None),
    }
}

/// One v2 ref being extended in memory: its current tip and root tree.
struct RefState {
    name: &'static str,
    expected: Option<Oid>,
    root: Option<Oid>,
}

impl RefState {
    fn read(repo: &Repo, name: &'static str) -> Result<RefState> {
        let expected = tip(repo, name)?;
        let root = expected.map(|t| repo.commit_tree(t)).transpose()?;
        Ok(RefState {
            name,
            expected,
            root,
        })
    }

    /// Commits `new_root` on top of the tip (or of a fresh `Initialize v2 ref` root).
    fn commit(
        &self,
        repo: &Repo,
        new_root: Oid,
        message: &str,
        who: &Ident,
        init: &Ident,
    ) -> Result<RefUpdate> {
        let parent = match self.expected {
            Some(t) => t,
            None => {
                let empty = repo.empty_tree()?;
                repo.commit(empty, &[], INIT_MESSAGE, init)?
            }
        };
        let commit = repo.commit(new_root, &[parent], message, who)?;
        Ok(RefUpdate {
            name: self.name.to_string(),
            new: commit,
            expected: self.expected,
            log_message: format!("git-attach: {}", message.trim_end()),
        })
    }
}

/// The attach stage: mirror one checkpoint (with backfill when needed), one commit per ref,
/// both refs in one transaction, then the rotation check.
fn stage(repo: &Repo, input: &MirrorInput<'_>) -> Result<bool> {
    let id = input.checkpoint;
    let v1_root = repo.commit_tree(input.v1_commit)?;
    let v1 = CheckpointFiles::read(repo, Some(v1_root), id)?;
    let v1_summary = v1
        .summary(repo, id)?
        .ok_or_else(|| Error::CorruptCheckpoint {
            id: id.to_string(),
            cause: "the v1 checkpoint has no metadata.json".into(),
        })?;
    let new = NewSlot {
        slot: input.slot,
        transcript: input.transcript,
        agent: input.agent,
        compactor: input.compactor,
        same_as_v1: input.same_as_v1,
        precompacted: input.precompacted,
    };
    let message = format!("Checkpoint: {id}\n");
    for attempt in 0..MAX_ATTEMPTS {
        let main = RefState::read(repo, MAIN)?;
        let full = RefState::read(repo, FULL_CURRENT)?;
        let mut m = CheckpointFiles::read(repo, main.root, id)?;
        let mut f = CheckpointFiles::read(repo, full.root, id)?;
        let ctx = Mirror {
            repo,
            id,
            v1: &v1,
            v1_summary: &v1_summary,
            cli_version: input.cli_version,
        };
        match ctx.apply(&mut m, &mut f, Some(&new), input.existed_before)? {
            Applied::Skipped(why) => {
                log::warn!("{}", messages::v2_failed(id.as_str(), &why));
                return Ok(false);
            }
            Applied::Changed => {}
        }
        let main_root = m.splice_into(repo, main.root, id)?;
        let full_root = f.splice_into(repo, full.root, id)?;
        let updates = [
            main.commit(repo, main_root, &message, input.author, input.author)?,
            full.commit(repo, full_root, &message, input.author, input.author)?,
        ];
        match repo.update_refs(&updates)? {
            Cas::Updated => {
                if let Err(e) = rotate_if_full(repo, input.author) {
                    log::warn!("generation rotation failed: {e}");
                }
                return Ok(true);
            }
            Cas::Lost => {
                log::debug!("lost the race for the v2 refs (attempt {attempt}); redoing");
                v1::backoff(attempt);
            }
        }
    }
    Err(Error::RefContention {
        refname: MAIN.to_string(),
    })
}

/// The attached session's data for slot k.
struct NewSlot<'a> {
    slot: usize,
    /// Redacted transcript (Codex unsanitized).
    transcript: &'a [u8],
    agent: &'a str,
    compactor: Option<Compactor<'a>>,
    same_as_v1: bool,
    precompacted: Option<&'a Precompacted>,
}

enum Applied {
    Changed,
    /// Pre-flight refused (mirroring would destroy v2-only data).
    Skipped(String),
}

/// The per-checkpoint mirror, shared by attach and `--backfill`.
struct Mirror<'a> {
    repo: &'a Repo,
    id: &'a CheckpointId,
    /// The v1 checkpoint (after this attach's v1 write).
    v1: &'a CheckpointFiles,
    v1_summary: &'a CheckpointSummary,
    cli_version: &'a str,
}

/// A v1 session slot: its directory and its session id.
struct V1Slot {
    dir: usize,
    session_id: String,
}

impl Mirror<'_> {
    fn v1_slots(&self) -> Result<Vec<V1Slot>> {
        let mut out = Vec::new();
        for (i, s) in self.v1_summary.sessions.iter().enumerate() {
            let dir = slot_dir_of(self.id, &s.metadata, i);
            let session_id = self
                .v1
                .slot_metadata(self.repo, dir)?
                .map(|m| m.session_id)
                .unwrap_or_default();
            out.push(V1Slot { dir, session_id });
        }
        Ok(out)
    }

    /// Slot directory → session id of what `/main` holds for this checkpoint.
    fn main_slots(&self, m: &CheckpointFiles) -> Result<BTreeMap<usize, String>> {
        let mut out = BTreeMap::new();
        if !m.existed {
            return Ok(out);
        }
        let summary = m.summary(self.repo, self.id)?;
        if let Some(summary) = summary {
            for (i, s) in summary.sessions.iter().enumerate() {
                let dir = slot_dir_of(self.id, &s.metadata, i);
                if let Some(meta) = m.slot_metadata(self.repo, dir)? {
                    out.insert(dir, meta.session_id);
                }
            }
        }
        Ok(out)
    }

    /// Whether any v1 slot other than `except` is not held by v2.
    fn needs_backfill(&self, m: &CheckpointFiles, except: Option<usize>) -> Result<bool> {
        let held = self.main_slots(m)?;
        Ok(self
            .v1_slots()?
            .iter()
            .filter(|s| Some(s.dir) != except)
            .any(|s| held.get(&s.dir) != Some(&s.session_id)))
    }

    /// Applies this checkpoint's v2 changes to the in-memory `/main` (`m`) and `/full` (`f`)
    /// checkpoints: the new slot (attach), every slot v2 does not hold when backfilling, task
    /// trees, and the rebuilt root summary.
    fn apply(
        &self,
        m: &mut CheckpointFiles,
        f: &mut CheckpointFiles,
        new: Option<&NewSlot<'_>>,
        existed_in_v1_before: bool,
    ) -> Result<Applied> {
        let v1_slots = self.v1_slots()?;
        let held = self.main_slots(m)?;
        // Pre-flight (§10.4).
        if m.existed && !existed_in_v1_before && new.is_some() {
            return Ok(Applied::Skipped(
                "the checkpoint exists on v2 but did not exist on v1".into(),
            ));
        }
        let v1_ids: BTreeSet<&str> = v1_slots.iter().map(|s| s.session_id.as_str()).collect();
        for sid in held.values() {
            if !v1_ids.contains(sid.as_str()) {
                return Ok(Applied::Skipped(format!(
                    "v2 holds session {sid}, which v1 does not; not overwriting it"
                )));
            }
        }
        let k = new.map(|n| n.slot);
        let backfill = (existed_in_v1_before || new.is_none())
            && v1_slots
                .iter()
                .filter(|s| Some(s.dir) != k)
                .any(|s| held.get(&s.dir) != Some(&s.session_id));

        let old_main_summary = m.summary(self.repo, self.id)?;
        let mut new_paths: BTreeMap<usize, SessionFilePaths> = BTreeMap::new();
        if backfill {
            for s in &v1_slots {
                if Some(s.dir) == k || held.get(&s.dir) == Some(&s.session_id) {
                    continue;
                }
                let paths = self.mirror_slot(m, f, s.dir)?;
                new_paths.insert(s.dir, paths);
            }
        }
        if let Some(n) = new {
            let paths = self.write_new_slot(m, f, n)?;
            new_paths.insert(n.slot, paths);
        }
        if backfill {
            self.copy_tasks(f, &v1_slots)?;
        }

        // Slots that v1 does not have (only possible with corrupt data) are removed.
        let v1_dirs: BTreeSet<usize> = v1_slots.iter().map(|s| s.dir).collect();
        for files in [&mut *m, &mut *f] {
            for dir in files.slot_dirs() {
                if !v1_dirs.contains(&dir) {
                    files.clear_dir(&dir.to_string());
                }
            }
        }

        // Root summary (§10.8): v1's slot order; new paths for written slots, the old `/main`
        // element for held ones.
        let old_elements: BTreeMap<usize, SessionFilePaths> = old_main_summary
            .as_ref()
            .map(|s| {
                s.sessions
                    .iter()
                    .enumerate()
                    .map(|(i, e)| (slot_dir_of(self.id, &e.metadata, i), e.clone()))
                    .collect()
            })
            .unwrap_or_default();
        let mut sessions = Vec::with_capacity(v1_slots.len());
        for s in &v1_slots {
            let element = new_paths
                .get(&s.dir)
                .or_else(|| old_elements.get(&s.dir))
                .cloned()
                .unwrap_or_else(|| main_paths(self.id, s.dir, m));
            sessions.push(element);
        }
        let mut summary = CheckpointSummary {
            cli_version: self.cli_version.to_string(),
            checkpoint_id: self.id.to_string(),
            strategy: v1::STRATEGY.to_string(),
            sessions,
            combined_attribution: old_main_summary
                .and_then(|s| s.combined_attribution)
                .or_else(|| self.v1_summary.combined_attribution.clone()),
            ..CheckpointSummary::default()
        };
        let mut slots: Vec<SlotAggregate> = Vec::new();
        for s in &v1_slots {
            match m.slot_metadata(self.repo, s.dir)? {
                Some(meta) => slots.push(meta),
                None => log::warn!(
                    "checkpoint {}: v2 slot {} has no metadata.json; not counted",
                    self.id,
                    s.dir
                ),
            }
        }
        aggregate(&mut summary, &slots);
        let bytes = gojson::to_vec_indented(&summary)
            .map_err(|e| Error::git("cannot encode the v2 summary", e))?;
        m.files.insert(
            "metadata.json".into(),
            Entry::blob(self.repo.write_blob(&bytes)?),
        );
        Ok(Applied::Changed)
    }

    /// The v1 transcript of a slot, reassembled (`full.jsonl[.NNN]`, else legacy `full.log`).
    fn v1_transcript(&self, dir: usize, agent: &str) -> Result<Option<Vec<u8>>> {
        let prefix = format!("{dir}/");
        let mut chunks: Vec<(usize, Oid)> = Vec::new();
        for (path, e) in &self.v1.files {
            let Some(name) = path.strip_prefix(&prefix) else {
                continue;
            };
            if name == "full.jsonl" {
                chunks.push((0, e.oid));
            } else if let Some(n) = name.strip_prefix("full.jsonl.") {
                if let Some(n) = n.parse::<usize>().ok().filter(|n| *n > 0) {
                    chunks.push((n, e.oid));
                }
            }
        }
        if chunks.is_empty() {
            return match self.v1.get(&format!("{dir}/full.log")) {
                Some(e) => Ok(Some(self.repo.read_blob(e.oid)?)),
                None => Ok(None),
            };
        }
        chunks.sort();
        let parts: Vec<Vec<u8>> = chunks
            .iter()
            .map(|(_, oid)| self.repo.read_blob(*oid))
            .collect::<Result<_>>()?;
        Ok(Some(chunk::reassemble_for(agent, &parts)))
    }

    /// Mirrors v1 slot `dir` into both v2 checkpoints (§10.5).
    fn mirror_slot(
        &self,
        m: &mut CheckpointFiles,
        f: &mut CheckpointFiles,
        dir: usize,
    ) -> Result<SessionFilePaths> {
        let d = dir.to_string();
        m.clear_dir(&d);
        f.clear_dir(&d);
        let meta_entry = self.v1.get(&format!("{d}/metadata.json"));
        let meta_bytes = match meta_entry {
            Some(e) => self.repo.read_blob(e.oid)?,
            None => Vec::new(),
        };
        let meta: Map<String, Value> = match serde_json::from_slice(&meta_bytes) {
            Ok(Value::Object(map)) => map,
            _ => {
                return Err(Error::CorruptCheckpoint {
                    id: self.id.to_string(),
                    cause: format!("v1 slot {dir} metadata does not parse"),
                })
            }
        };
        let agent = meta
            .get("agent")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string();
        let transcript = self.v1_transcript(dir, &agent)?;

        let mut compact_bytes = None;
        let mut offset = 0u64;
        if let (Some(t), false) = (&transcript, agent.is_empty()) {
            compact_bytes = self.compact(t, &agent, 0);
            let start = ["checkpoint_transcript_start", "transcript_lines_at_start"]
                .iter()
                .filter_map(|k| meta.get(*k).and_then(Value::as_u64))
                .find(|n| *n > 0)
                .unwrap_or(0);
            if start > 0 {
                if let Some(all) = &compact_bytes {
                    let from = usize::try_from(start).unwrap_or(usize::MAX);
                    let tail = self.compact(t, &agent, from).unwrap_or_default();
                    let count = |b: &[u8]| b.iter().filter(|&&c| c == b'\n').count() as u64;
                    offset = count(all).saturating_sub(count(&tail));
                }
            }
        }

        let mut main_files = FlatTree::new();
        main_files.insert(
            "metadata.json".into(),
            Entry::blob(self.repo.write_blob(&mirrored_metadata(
                meta,
                self.cli_version,
                offset,
            ))?),
        );
        if let Some(p) = self.v1.get(&format!("{d}/prompt.txt")) {
            main_files.insert("prompt.txt".into(), p);
        }
        let has_compact = compact_bytes.is_some();
        if let Some(c) = compact_bytes {
            put_compact(self.repo, &mut main_files, &c)?;
        }
        m.put_dir(&d, &main_files);

        if let Some(t) = transcript {
            let files = self.raw_files(&d, &agent, &t)?;
            f.put_dir(&d, &files);
        }
        Ok(main_paths_with(
            self.id,
            dir,
            m.get(&format!("{d}/prompt.txt")).is_some(),
            has_compact,
        ))
    }

    /// Writes slot k of an attach (§10.7).
    fn write_new_slot(
        &self,
        m: &mut CheckpointFiles,
        f: &mut CheckpointFiles,
        n: &NewSlot<'_>,
    ) -> Result<SessionFilePaths> {
        let d = n.slot.to_string();
        m.clear_dir(&d);
        f.clear_dir(&d);
        let mut main_files = FlatTree::new();
        // v1's session metadata has the same bytes v2 wants (no transcript offsets for attach).
        for name in ["metadata.json", "prompt.txt"] {
            if let Some(e) = self.v1.get(&format!("{d}/{name}")) {
                main_files.insert(name.into(), e);
            }
        }
        let has_compact = match n.precompacted {
            Some(Precompacted::Blobs { transcript, hash }) => {
                main_files.insert(
                    "transcript.jsonl".into(),
                    Entry::blob(transcript.to_owned()),
                );
                main_files.insert("transcript_hash.txt".into(), Entry::blob(hash.to_owned()));
                true
            }
            Some(Precompacted::Empty) => {
                log::warn!(
                    "checkpoint {}: transcript.jsonl generation produced no output",
                    self.id
                );
                false
            }
            Some(Precompacted::Failed(e)) => {
                log::warn!("checkpoint {}: {e}", self.id);
                false
            }
            None => {
                let compact_bytes = match n.compactor {
                    Some(external) => external(n.transcript).filter(|b| !b.is_empty()),
                    None => self.compact(n.transcript, n.agent, 0),
                };
                match compact_bytes {
                    Some(c) => {
                        put_compact(self.repo, &mut main_files, &c)?;
                        true
                    }
                    None => false,
                }
            }
        };
        let has_prompt = main_files.contains_key("prompt.txt");
        m.put_dir(&d, &main_files);

        let full_files = match n.same_as_v1.then(|| self.v1_raw_files(&d)).flatten() {
            Some(files) => files,
            None => self.raw_files(&d, n.agent, n.transcript)?,
        };
        f.put_dir(&d, &full_files);
        Ok(main_paths_with(self.id, n.slot, has_prompt, has_compact))
    }

    /// `raw_transcript[.NNN]` and `raw_transcript_hash.txt` of slot `d`. When the bytes equal
    /// v1's `full.jsonl[.NNN]`/`content_hash.txt` (every agent but Codex), the v1 blobs are reused
    /// instead of compressing and writing the transcript a second time.
    fn raw_files(&self, d: &str, agent: &str, transcript: &[u8]) -> Result<FlatTree> {
        let chunks = chunk::chunk_for(agent, transcript, chunk::MAX_CHUNK_SIZE).map_err(|e| {
            Error::CorruptCheckpoint {
                id: self.id.to_string(),
                cause: format!("slot {d}: {e}"),
            }
        })?;
        let mut files = FlatTree::new();
        for (i, c) in chunks.iter().enumerate() {
            let v1_name = format!("{d}/{}", chunk::chunk_name("full.jsonl", i));
            files.insert(
                chunk::chunk_name("raw_transcript", i),
                self.reuse_or_write(self.v1.get(&v1_name), c)?,
            );
        }
        let hash = v1::content_hash(transcript);
        let v1_hash = self.v1.get(&format!("{d}/content_hash.txt"));
        files.insert(
            "raw_transcript_hash.txt".into(),
            self.reuse_or_write(v1_hash, hash.as_bytes())?,
        );
        Ok(files)
    }

    /// v1's `full.jsonl[.NNN]` and `content_hash.txt` entries of slot `d` under their v2 names:
    /// what [`Mirror::raw_files`] produces when the raw transcript is the very bytes v1 stored
    /// (the same chunker cuts them into the same chunks), found without chunking or hashing.
    /// `None` when v1 has no such slot files.
    fn v1_raw_files(&self, d: &str) -> Option<FlatTree> {
        let mut files = FlatTree::new();
        while let Some(e) = self.v1.get(&format!(
            "{d}/{}",
            chunk::chunk_name("full.jsonl", files.len())
        )) {
            files.insert(chunk::chunk_name("raw_transcript", files.len()), e);
        }
        if files.is_empty() {
            return None;
        }
        let hash = self.v1.get(&format!("{d}/content_hash.txt"))?;
        files.insert("raw_transcript_hash.txt".into(), hash);
        Some(files)
    }

    fn reuse_or_write(&self, existing: Option<Entry>, bytes: &[u8]) -> Result<Entry> {
        if let Some(e) = existing {
            if Repo::hash_blob(bytes)? == e.oid {
                return Ok(e);
            }
        }
        Ok(Entry::blob(self.repo.write_blob(bytes)?))
    }

    /// Compact transcript of already redacted bytes; `None` (with a warning) when compaction
    /// fails or produces nothing.
    fn compact(&self, transcript: &[u8], agent: &str, start: usize) -> Option<Vec<u8>> {
        match compact::compact(transcript, agent, self.cli_version, start) {
            Ok(b) if !b.is_empty() => Some(b),
            Ok(_) => {
                if start == 0 {
                    log::warn!(
                        "checkpoint {}: transcript.jsonl generation produced no output",
                        self.id
                    );
                }
                None
            }
            Err(e) => {
                log::warn!(
                    "checkpoint {}: compact transcript generation failed: {e}",
                    self.id
                );
                None
            }
        }
    }

    /// Copies v1 task trees into `/full` (§10.6): the checkpoint-level `tasks/` into the last
    /// slot, then each slot's own `tasks/`, merge-keep-existing at the top of the destination.
    fn copy_tasks(&self, f: &mut CheckpointFiles, v1_slots: &[V1Slot]) -> Result<()> {
        let merge = |src_prefix: &str, dst_dir: usize, f: &mut CheckpointFiles| {
            let incoming: Vec<(String, Entry)> = self
                .v1
                .files
                .iter()
                .filter_map(|(p, e)| p.strip_prefix(src_prefix).map(|r| (r.to_string(), *e)))
                .collect();
            // Replace same-named top-level entries, add new ones, keep the rest.
            let tops: BTreeSet<&str> = incoming
                .iter()
                .map(|(r, _)| r.split('/').next().unwrap_or(r))
                .collect();
            let dst = format!("{dst_dir}/tasks/");
            f.files.retain(|p, _| {
                p.strip_prefix(&dst)
                    .map(|r| !tops.contains(r.split('/').next().unwrap_or(r)))
                    .unwrap_or(true)
            });
            for (r, e) in incoming {
                f.files.insert(format!("{dst}{r}"), e);
            }
        };
        if let Some(last) = v1_slots.last() {
            merge("tasks/", last.dir, f);
        }
        for s in v1_slots {
            merge(&format!("{}/tasks/", s.dir), s.dir, f);
        }
        Ok(())
    }
}

fn put_compact(repo: &Repo, files: &mut FlatTree, compact: &[u8]) -> Result<()> {
    files.insert(
        "transcript.jsonl".into(),
        Entry::blob(repo.write_blob(compact)?),
    );
    files.insert(
        "transcript_hash.txt".into(),
        Entry::blob(repo.write_blob(v1::content_hash(compact).as_bytes())?),
    );
    Ok(())
}

/// A `/main` `SessionFilePaths` element: `transcript`/`content_hash` only with a compact
/// transcript, `prompt` only with a prompt.
fn main_paths_with(id: &CheckpointId, dir: usize, prompt: bool, compact: bool) -> SessionFilePaths {
    let base = format!("/{}/{dir}", id.path());
    SessionFilePaths {
        metadata: format!("{base}/metadata.json"),
        transcript: if compact {
            format!("{base}/transcript.jsonl")
        } else {
            String::new()
        },
        content_hash: if compact {
            format!("{base}/transcript_hash.txt")
        } else {
            String::new()
        },
        prompt: if prompt {
            format!("{base}/prompt.txt")
        } else {
            String::new()
        },
    }
}

fn main_paths(id: &CheckpointId, dir: usize, m: &CheckpointFiles) -> SessionFilePaths {
    main_paths_with(
        id,
        dir,
        m.get(&format!("{dir}/prompt.txt")).is_some(),
        m.get(&format!("{dir}/transcript.jsonl")).is_some(),
    )
}

/// v1 session metadata as v2 stores it (§10.5): every key and its order kept, except
/// `cli_version` (git-attach's), `checkpoint_transcript_start` (the compact offset, omitted when
/// 0) and `transcript_lines_at_start` (removed).
fn mirrored_metadata(meta: Map<String, Value>, cli_version: &str, offset: u64) -> Vec<u8> {
    let mut out = Map::new();
    if !meta.contains_key("cli_version") {
        out.insert("cli_version".into(), Value::String(cli_version.into()));
    }
    let mut offset_written = false;
    for (k, v) in meta {
        match k.as_str() {
            "cli_version" => {
                out.insert(k, Value::String(cli_version.into()));
            }
            "transcript_lines_at_start" => {}
            "checkpoint_transcript_start" => {
                if offset > 0 {
                    out.insert(k, Value::from(offset));
                }
                offset_written = true;
            }
            "token_usage"
            | "session_metrics"
            | "summary"
            | "initial_attribution"
            | "prompt_attributions"
                if !offset_written && offset > 0 =>
            {
                // Schema order: checkpoint_transcript_start comes before these.
                out.insert("checkpoint_transcript_start".into(), Value::from(offset));
                offset_written = true;
                out.insert(k, v);
            }
            _ => {
                out.insert(k, v);
            }
        }
    }
    if !offset_written && offset > 0 {
        out.insert("checkpoint_transcript_start".into(), Value::from(offset));
    }
    gojson::value_to_vec_indented(&Value::Object(out))
}

/// Counts the checkpoints of a `/full` tree.
fn count_checkpoints(repo: &Repo, root: Oid) -> Result<usize> {
    Ok(list_checkpoints(repo, root)?.len())
}

/// Archives `/full/current` when it holds 100 checkpoints or more (§7).
pub fn rotate_if_full(repo: &Repo, who: &Ident) -> Result<bool> {
    let Some(current) = tip(repo, FULL_CURRENT)? else {
        return Ok(false);
    };
    let root = repo.commit_tree(current)?;
    if count_checkpoints(repo, root)? < GENERATION_SIZE {
        return Ok(false);
    }
    let mut highest = 0u64;
    for name in repo.ref_names(&format!("{FULL_PREFIX}*"))? {
        let tail = &name[FULL_PREFIX.len()..];
        if tail.len() == 13 && tail.bytes().all(|b| b.is_ascii_digit()) {
            highest = highest.max(tail.parse().unwrap_or(0));
        }
    }
    let archive = format!("{FULL_PREFIX}{:013}", highest + 1);
    if repo.update_ref(&archive, current, None, "git-attach: archive generation")? == Cas::Lost {
        return Ok(false);
    }
    if tip(repo, FULL_CURRENT)? != Some(current) {
        return Ok(false);
    }
    // generation.json: newest = the tip's committer time, oldest = the generation's root commit.
    let (_, _, newest) = repo.commit_info(current)?;
    let mut walk = current;
    let oldest = loop {
        let (_, parents, time) = repo.commit_info(walk)?;
        match parents.first() {
            Some(p) => walk = *p,
            None => break time,
        }
    };
    let stamp = |secs: i64| {
        Timestamp {
            secs,
            nanos: 0,
            offset_minutes: 0,
        }
        .rfc3339_nano()
    };
    let mut doc = Map::new();
    doc.insert(
        "oldest_checkpoint_at".into(),
        Value::String(stamp(oldest.min(newest))),
    );
    doc.insert("newest_checkpoint_at".into(), Value::String(stamp(newest)));
    let blob = repo.write_blob(&gojson::value_to_vec_indented(&Value::Object(doc)))?;
    let archived_root = repo.splice(Some(root), &["generation.json"], Some(Entry::blob(blob)))?;
    let archived = repo.commit(archived_root, &[current], "Archive generation", who)?;
    if repo.update_ref(
        &archive,
        archived,
        Some(current),
        "git-attach: archive generation",
    )? == Cas::Lost
    {
        return Ok(false);
    }
    let empty = repo.empty_tree()?;
    let start = repo.commit(empty, &[], "Start generation", who)?;
    if repo.update_ref(
        FULL_CURRENT,
        start,
        Some(current),
        "git-attach: start generation",
    )? == Cas::Lost
    {
        log::warn!("{FULL_CURRENT} moved during rotation; {archive} keeps the archived generation");
        return Ok(false);
    }
    log::info!("archived {FULL_CURRENT} as {archive}");
    Ok(true)
}

/// What `--backfill` did or would do.
#[derive(Debug, Default)]
pub struct BackfillReport {
    /// Checkpoints mirrored (or to be mirrored), with the slots written.
    pub checkpoints: Vec<(CheckpointId, Vec<usize>)>,
    /// Checkpoints skipped by the pre-flight, with the reason.
    pub skipped: Vec<(CheckpointId, String)>,
    pub rotated: bool,
}

/// `git attach --backfill`: mirrors every v1 checkpoint v2 lacks or holds partially, in one
/// commit per v2 ref. `progress` is called with (done, total) as checkpoints are examined.
pub fn backfill(
    repo: &Repo,
    who: &Ident,
    cli_version: &str,
    dry_run: bool,
    remote: &str,
    progress: &mut dyn FnMut(usize, usize),
) -> Result<BackfillReport> {
    let (v1_tip, _) = match repo.ref_target(v1::BRANCH)? {
        Some(t) => (Some(t), ()),
        None => (repo.ref_target(&v1::remote_branch(remote))?, ()),
    };
    let Some(v1_tip) = v1_tip else {
        return Ok(BackfillReport::default());
    };
    let v1_root = repo.commit_tree(v1_tip)?;
    let checkpoints = list_checkpoints(repo, v1_root)?;
    for attempt in 0..MAX_ATTEMPTS {
        let main = RefState::read(repo, MAIN)?;
        let full = RefState::read(repo, FULL_CURRENT)?;
        let mut report = BackfillReport::default();
        let (mut main_root, mut full_root) = (main.root, full.root);
        let total = checkpoints.len();
        for (n, (id, _)) in checkpoints.iter().enumerate() {
            progress(n + 1, total);
            let v1 = CheckpointFiles::read(repo, Some(v1_root), id)?;
            let Some(v1_summary) = v1.summary(repo, id).ok().flatten() else {
                report.skipped.push((
                    id.clone(),
                    "its v1 metadata.json is missing or broken".into(),
                ));
                continue;
            };
            let mut m = CheckpointFiles::read(repo, main.root, id)?;
            let ctx = Mirror {
                repo,
                id,
                v1: &v1,
                v1_summary: &v1_summary,
                cli_version,
            };
            if !ctx.needs_backfill(&m, None)? {
                continue;
            }
            let held = ctx.main_slots(&m)?;
            let slots: Vec<usize> = ctx
                .v1_slots()?
                .into_iter()
                .filter(|s| held.get(&s.dir) != Some(&s.session_id))
                .map(|s| s.dir)
                .collect();
            if dry_run {
                report.checkpoints.push((id.clone(), slots));
                continue;
            }
            let mut f = CheckpointFiles::read(repo, full.root, id)?;
            match ctx.apply(&mut m, &mut f, None, true)? {
                Applied::Skipped(why) => {
                    log::warn!("{}", messages::v2_failed(id.as_str(), &why));
                    report.skipped.push((id.clone(), why));
                    continue;
                }
                Applied::Changed => {}
            }
            main_root = Some(m.splice_into(repo, main_root, id)?);
            full_root = Some(f.splice_into(repo, full_root, id)?);
            report.checkpoints.push((id.clone(), slots));
        }
        if dry_run || report.checkpoints.is_empty() {
            return Ok(report);
        }
        let message = format!("Backfill {} checkpoints\n", report.checkpoints.len());
        let (Some(main_root), Some(full_root)) = (main_root, full_root) else {
            return Ok(report);
        };
        let updates = [
            main.commit(repo, main_root, &message, who, who)?,
            full.commit(repo, full_root, &message, who, who)?,
        ];
        match repo.update_refs(&updates)? {
            Cas::Updated => {
                report.rotated = rotate_if_full(repo, who)?;
                return Ok(report);
            }
            Cas::Lost => v1::backoff(attempt),
        }
    }
    Err(Error::RefContention {
        refname: MAIN.to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mirrored_metadata_keeps_keys_and_replaces_versions_and_offsets() {
        let meta: Map<String, Value> = serde_json::from_str(
            r#"{"cli_version":"0.4.0","checkpoint_id":"a3b2c4d5e6f7","session_id":"s","created_at":"2026-01-01T00:00:00Z","transcript_lines_at_start":7,"token_usage":{"input_tokens":1},"unknown_key":[1]}"#,
        )
        .unwrap();
        let out = String::from_utf8(mirrored_metadata(meta.clone(), "git-attach/9", 0)).unwrap();
        assert!(out.starts_with("{\n  \"cli_version\": \"git-attach/9\",\n  \"checkpoint_id\""));
        assert!(!out.contains("transcript_lines_at_start"));
        assert!(!out.contains("checkpoint_transcript_start"));
        assert!(out.contains("\"unknown_key\": [\n    1\n  ]"));
        let out = String::from_utf8(mirrored_metadata(meta, "git-attach/9", 3)).unwrap();
        let pos = |k: &str| out.find(k).unwrap();
        assert!(pos("checkpoint_transcript_start") < pos("token_usage"));
        assert!(out.contains("\"checkpoint_transcript_start\": 3"));
    }
}
