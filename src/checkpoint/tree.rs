//! Checkpoint trees shared by the v1 writer and the v2 mirror: reading one checkpoint's subtree
//! as a flat map, splicing a rebuilt checkpoint back into a branch's root tree along its two-level
//! path only (`v2-format.md` §6), and the slot bookkeeping of the root summary (the directory a
//! `sessions` element names, including the gaps real data has, `v1-format.md` §7).

use crate::checkpoint::metadata::{CheckpointSummary, SlotAggregate};
use crate::checkpoint::CheckpointId;
use crate::error::{Error, Result};
use crate::git::{Entry, FlatTree, Oid, Repo};

/// One checkpoint as stored under a root tree: its files relative to `<aa>/<rest>/`.
#[derive(Clone, Debug, Default)]
pub struct CheckpointFiles {
    pub files: FlatTree,
    /// Whether the checkpoint directory existed.
    pub existed: bool,
}

impl CheckpointFiles {
    /// Reads checkpoint `id` below `root` (`None`: an empty branch). Nothing outside its path is
    /// read.
    pub fn read(repo: &Repo, root: Option<Oid>, id: &CheckpointId) -> Result<CheckpointFiles> {
        let Some(root) = root else {
            return Ok(CheckpointFiles::default());
        };
        match repo.entry_at(root, &id.path())? {
            Some(e) if e.is_tree() => Ok(CheckpointFiles {
                files: repo.flatten(e.oid)?,
                existed: true,
            }),
            _ => Ok(CheckpointFiles::default()),
        }
    }

    /// Deletes every file below `<dir>/`.
    pub fn clear_dir(&mut self, dir: &str) {
        let prefix = format!("{dir}/");
        self.files.retain(|p, _| !p.starts_with(&prefix));
    }

    /// Adds `files` (relative to `<dir>/`).
    pub fn put_dir(&mut self, dir: &str, files: &FlatTree) {
        for (name, e) in files {
            self.files.insert(format!("{dir}/{name}"), *e);
        }
    }

    /// The blob at a relative path.
    pub fn get(&self, path: &str) -> Option<Entry> {
        self.files.get(path).copied()
    }

    /// Numeric top-level directories present (slot directories).
    pub fn slot_dirs(&self) -> Vec<usize> {
        let mut dirs: Vec<usize> = self
            .files
            .keys()
            .filter_map(|p| p.split_once('/'))
            .filter_map(|(d, _)| parse_slot(d))
            .collect();
        dirs.sort_unstable();
        dirs.dedup();
        dirs
    }

    /// Reads and parses the root summary. `Ok(None)` when absent; an error when present but not
    /// a valid summary (git-attach refuses to write over it, unlike Entire).
    pub fn summary(&self, repo: &Repo, id: &CheckpointId) -> Result<Option<CheckpointSummary>> {
        let Some(e) = self.get("metadata.json") else {
            return Ok(None);
        };
        let bytes = repo.read_blob(e.oid)?;
        serde_json::from_slice::<CheckpointSummary>(&bytes)
            .map(Some)
            .map_err(|err| Error::CorruptCheckpoint {
                id: id.to_string(),
                cause: format!("its metadata.json does not parse: {err}"),
            })
    }

    /// Parses the session metadata of slot directory `dir`; `Ok(None)` when absent.
    pub fn slot_metadata(&self, repo: &Repo, dir: usize) -> Result<Option<SlotAggregate>> {
        let Some(e) = self.get(&format!("{dir}/metadata.json")) else {
            return Ok(None);
        };
        let bytes = repo.read_blob(e.oid)?;
        Ok(SlotAggregate::parse(&bytes).ok())
    }

    /// Builds the checkpoint tree and splices it into `root` at `<aa>/<rest>`.
    pub fn splice_into(&self, repo: &Repo, root: Option<Oid>, id: &CheckpointId) -> Result<Oid> {
        let tree = repo.build_tree(&self.files)?;
        repo.splice(root, &[id.shard(), id.rest()], Some(Entry::tree(tree)))
    }
}

/// `"7"` → 7; anything that is not a plain decimal number is not a slot.
pub fn parse_slot(name: &str) -> Option<usize> {
    if name.is_empty() || name.len() > 9 || !name.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    if name.len() > 1 && name.starts_with('0') {
        return None;
    }
    name.parse().ok()
}

/// The slot directory a `sessions[i]` element names through its `metadata` path
/// (`/<aa>/<rest>/<n>/metadata.json`), falling back to `i`.
pub fn slot_dir_of(id: &CheckpointId, metadata_path: &str, index: usize) -> usize {
    let prefix = format!("/{}/", id.path());
    metadata_path
        .strip_prefix(&prefix)
        .and_then(|rest| rest.strip_suffix("/metadata.json"))
        .and_then(parse_slot)
        .unwrap_or(index)
}

/// Lists every checkpoint id below a root tree (Entire `WalkCheckpointShards`): 2-character
/// directories, and inside them directories whose name completes a valid id.
pub fn list_checkpoints(repo: &Repo, root: Oid) -> Result<Vec<(CheckpointId, Oid)>> {
    let mut out = Vec::new();
    for (shard, e) in repo.tree_entries(root)? {
        if shard.len() != 2 || !e.is_tree() {
            continue;
        }
        for (rest, ce) in repo.tree_entries(e.oid)? {
            if !ce.is_tree() {
                continue;
            }
            if let Some(id) = CheckpointId::parse(&format!("{shard}{rest}")) {
                out.push((id, ce.oid));
            }
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slot_dirs_come_from_metadata_paths() {
        let id = CheckpointId::parse("ac3f02a3c337").unwrap();
        assert_eq!(slot_dir_of(&id, "/ac/3f02a3c337/2/metadata.json", 1), 2);
        assert_eq!(slot_dir_of(&id, "/xx/3f02a3c337/2/metadata.json", 1), 1);
        assert_eq!(slot_dir_of(&id, "", 4), 4);
        assert_eq!(parse_slot("10"), Some(10));
        assert_eq!(parse_slot("01"), None);
        assert_eq!(parse_slot("tasks"), None);
    }
}
