//! The only door to libgit2: opening the repository, reading HEAD, blobs and trees, building and
//! splicing trees, writing commits, and moving refs by compare-and-swap. Owned plain values leave
//! this module (object ids, byte vectors, maps), never borrowed git2 objects, and "not found"
//! becomes `Option`. Network and porcelain (fetch, push, amend, config layering) go through the
//! `git` command elsewhere; this module never runs it.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use git2::{ErrorCode, FileMode, ObjectType, Repository};

use crate::error::{Error, Result};

pub use git2::Oid;

/// The empty tree's id (`4b825dc6…`), the same in every SHA-1 repository.
const EMPTY_TREE_ID: [u8; 20] = [
    0x4b, 0x82, 0x5d, 0xc6, 0x42, 0xcb, 0x6e, 0xb9, 0xa0, 0x60, 0xe5, 0x4b, 0xf8, 0xd6, 0x92, 0x88,
    0xfb, 0xee, 0x49, 0x04,
];

/// A tree entry: its git mode (`0o100644`, `0o040000`, …) and object id.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Entry {
    pub mode: i32,
    pub oid: Oid,
}

impl Entry {
    pub fn blob(oid: Oid) -> Entry {
        Entry {
            mode: i32::from(FileMode::Blob),
            oid,
        }
    }

    pub fn tree(oid: Oid) -> Entry {
        Entry {
            mode: i32::from(FileMode::Tree),
            oid,
        }
    }

    pub fn is_tree(&self) -> bool {
        self.mode == i32::from(FileMode::Tree)
    }
}

/// Files below a directory, by path relative to it (`0/full.jsonl`), with their blob entries.
/// Sub-directories are implied by the paths.
pub type FlatTree = BTreeMap<String, Entry>;

/// Author/committer of a commit written by git-attach.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Ident {
    pub name: String,
    pub email: String,
    /// Seconds since the epoch.
    pub time: i64,
    /// Offset east of UTC in minutes.
    pub offset_minutes: i32,
}

/// What HEAD points at.
#[derive(Clone, Debug)]
pub struct Head {
    pub oid: Oid,
    pub message: String,
    /// First line of the message.
    pub subject: String,
}

/// The result of a compare-and-swap ref update.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Cas {
    Updated,
    /// The ref was not at the expected value, or another process held its lock.
    Lost,
}

/// One update of a reference transaction.
#[derive(Clone, Debug)]
pub struct RefUpdate {
    pub name: String,
    pub new: Oid,
    /// `None`: the ref must not exist yet.
    pub expected: Option<Oid>,
    pub log_message: String,
}

/// An open, non-bare repository.
pub struct Repo {
    repo: Repository,
    workdir: PathBuf,
    common_dir: PathBuf,
}

fn git_err(context: &str) -> impl Fn(git2::Error) -> Error + '_ {
    move |e| Error::git(context, e.message())
}

impl Repo {
    /// Opens the repository the way git does: `GIT_DIR` and friends, else discovery upwards from
    /// the current directory.
    pub fn open_from_env() -> Result<Repo> {
        let repo = Repository::open_from_env().map_err(|e| {
            if e.code() == ErrorCode::NotFound {
                Error::NotARepository {
                    cwd: std::env::current_dir().unwrap_or_default(),
                }
            } else {
                Error::git("cannot open the repository", e.message())
            }
        })?;
        Repo::from_git2(repo)
    }

    /// Opens the repository at `path` (tests, benchmarks).
    pub fn open(path: &Path) -> Result<Repo> {
        let repo = Repository::open(path).map_err(git_err("cannot open the repository"))?;
        Repo::from_git2(repo)
    }

    fn from_git2(repo: Repository) -> Result<Repo> {
        let Some(workdir) = repo.workdir() else {
            return Err(Error::BareRepository {
                path: repo.path().to_path_buf(),
            });
        };
        // `git rev-parse --show-toplevel` prints the real path; the agents' directory names are
        // derived from it, so resolve symlinks the same way.
        let workdir = std::fs::canonicalize(workdir).unwrap_or_else(|_| workdir.to_path_buf());
        let common_dir = repo.commondir().to_path_buf();
        Ok(Repo {
            repo,
            workdir,
            common_dir,
        })
    }

    /// The repository's git directory (for a linked worktree, its own one).
    pub fn git_dir(&self) -> &Path {
        self.repo.path()
    }

    /// The worktree root.
    pub fn workdir(&self) -> &Path {
        &self.workdir
    }

    /// The directory shared by all worktrees (`git rev-parse --git-common-dir`).
    pub fn common_dir(&self) -> &Path {
        &self.common_dir
    }

    /// HEAD's commit; `NoCommits` when HEAD is unborn.
    pub fn head(&self) -> Result<Head> {
        let head = match self.repo.head() {
            Ok(h) => h,
            Err(e) if e.code() == ErrorCode::UnbornBranch || e.code() == ErrorCode::NotFound => {
                return Err(Error::NoCommits)
            }
            Err(e) => return Err(Error::git("cannot read HEAD", e.message())),
        };
        let commit = head
            .peel_to_commit()
            .map_err(git_err("cannot read the HEAD commit"))?;
        let message = String::from_utf8_lossy(commit.message_bytes()).into_owned();
        let subject = message.lines().next().unwrap_or_default().to_string();
        Ok(Head {
            oid: commit.id(),
            message,
            subject,
        })
    }

    /// The abbreviated id git would print for `oid` (7 characters at least).
    pub fn short_id(&self, oid: Oid) -> String {
        self.repo
            .find_object(oid, None)
            .ok()
            .and_then(|o| o.short_id().ok())
            .and_then(|b| b.as_str().ok().map(str::to_string))
            .unwrap_or_else(|| oid.to_string()[..7].to_string())
    }

    /// The commit a ref points at, if the ref exists.
    pub fn ref_target(&self, name: &str) -> Result<Option<Oid>> {
        match self.repo.find_reference(name) {
            Ok(r) => {
                let resolved = r
                    .resolve()
                    .map_err(git_err(&format!("cannot resolve {name}")))?;
                Ok(resolved.target())
            }
            Err(e) if e.code() == ErrorCode::NotFound => Ok(None),
            Err(e) => Err(Error::git(format!("cannot read {name}"), e.message())),
        }
    }

    /// Names of the refs matching a glob (`refs/entire/checkpoints/v2/full/*`).
    pub fn ref_names(&self, glob: &str) -> Result<Vec<String>> {
        let refs = self
            .repo
            .references_glob(glob)
            .map_err(git_err("cannot list refs"))?;
        let mut names = Vec::new();
        for r in refs {
            let r = r.map_err(git_err("cannot list refs"))?;
            if let Ok(n) = r.name() {
                names.push(n.to_string());
            }
        }
        names.sort();
        Ok(names)
    }

    /// The root tree of a commit.
    pub fn commit_tree(&self, commit: Oid) -> Result<Oid> {
        let c = self
            .repo
            .find_commit(commit)
            .map_err(git_err(&format!("cannot read commit {commit}")))?;
        Ok(c.tree_id())
    }

    /// A commit's message, parents and committer time.
    pub fn commit_info(&self, commit: Oid) -> Result<(String, Vec<Oid>, i64)> {
        let c = self
            .repo
            .find_commit(commit)
            .map_err(git_err(&format!("cannot read commit {commit}")))?;
        let time = c.committer().when().seconds();
        let message = String::from_utf8_lossy(c.message_bytes()).into_owned();
        let parents = c.parent_ids().collect();
        Ok((message, parents, time))
    }

    /// The entry at a `/`-separated path below a tree.
    pub fn entry_at(&self, tree: Oid, path: &str) -> Result<Option<Entry>> {
        let t = self
            .repo
            .find_tree(tree)
            .map_err(git_err(&format!("cannot read tree {tree}")))?;
        match t.get_path(Path::new(path)) {
            Ok(e) => Ok(Some(Entry {
                mode: e.filemode(),
                oid: e.id(),
            })),
            Err(e) if e.code() == ErrorCode::NotFound => Ok(None),
            Err(e) => Err(Error::git(format!("cannot read {path}"), e.message())),
        }
    }

    /// The direct entries of a tree, by name.
    pub fn tree_entries(&self, tree: Oid) -> Result<Vec<(String, Entry)>> {
        let t = self
            .repo
            .find_tree(tree)
            .map_err(git_err(&format!("cannot read tree {tree}")))?;
        let mut out = Vec::with_capacity(t.len());
        for e in t.iter() {
            let name = String::from_utf8_lossy(e.name_bytes()).into_owned();
            out.push((
                name,
                Entry {
                    mode: e.filemode(),
                    oid: e.id(),
                },
            ));
        }
        Ok(out)
    }

    /// Every non-tree entry below `tree`, by relative path.
    pub fn flatten(&self, tree: Oid) -> Result<FlatTree> {
        let mut out = FlatTree::new();
        self.flatten_into(tree, "", &mut out)?;
        Ok(out)
    }

    fn flatten_into(&self, tree: Oid, prefix: &str, out: &mut FlatTree) -> Result<()> {
        for (name, entry) in self.tree_entries(tree)? {
            let path = format!("{prefix}{name}");
            if entry.is_tree() {
                self.flatten_into(entry.oid, &format!("{path}/"), out)?;
            } else {
                out.insert(path, entry);
            }
        }
        Ok(())
    }

    /// Builds the tree described by `files` (relative paths) and returns its id. An empty map
    /// gives the empty tree.
    pub fn build_tree(&self, files: &FlatTree) -> Result<Oid> {
        // Group by first path segment; recurse for directories.
        let mut builder = self
            .repo
            .treebuilder(None)
            .map_err(git_err("cannot build a tree"))?;
        let mut dirs: BTreeMap<&str, FlatTree> = BTreeMap::new();
        for (path, entry) in files {
            match path.split_once('/') {
                Some((dir, rest)) => {
                    dirs.entry(dir)
                        .or_default()
                        .insert(rest.to_string(), *entry);
                }
                None => {
                    builder
                        .insert(path, entry.oid, entry.mode)
                        .map_err(git_err(&format!("cannot add {path} to a tree")))?;
                }
            }
        }
        for (dir, sub) in dirs {
            let oid = self.build_tree(&sub)?;
            builder
                .insert(dir, oid, i32::from(FileMode::Tree))
                .map_err(git_err(&format!("cannot add {dir}/ to a tree")))?;
        }
        builder.write().map_err(git_err("cannot write a tree"))
    }

    /// Replaces (or inserts, or with `None` removes) the entry at `path` below `root` and rebuilds
    /// only the trees on that path: O(depth) whatever the size of the siblings' subtrees.
    /// `root` `None` means an empty tree. Directories left empty by a removal are dropped.
    pub fn splice(&self, root: Option<Oid>, path: &[&str], new: Option<Entry>) -> Result<Oid> {
        let Some((first, rest)) = path.split_first() else {
            return Err(Error::git("cannot splice a tree", "empty path"));
        };
        let base = match root {
            Some(oid) => Some(
                self.repo
                    .find_tree(oid)
                    .map_err(git_err(&format!("cannot read tree {oid}")))?,
            ),
            None => None,
        };
        let mut builder = self
            .repo
            .treebuilder(base.as_ref())
            .map_err(git_err("cannot build a tree"))?;
        let replacement = if rest.is_empty() {
            new
        } else {
            let child = base
                .as_ref()
                .and_then(|t| t.get_name(first))
                .filter(|e| e.kind() == Some(ObjectType::Tree))
                .map(|e| e.id());
            let sub = self.splice(child, rest, new)?;
            if sub.as_bytes() == EMPTY_TREE_ID {
                None
            } else {
                Some(Entry::tree(sub))
            }
        };
        match replacement {
            Some(e) => {
                builder
                    .insert(first, e.oid, e.mode)
                    .map_err(git_err(&format!("cannot add {first} to a tree")))?;
            }
            None => {
                if builder
                    .get(first)
                    .map_err(git_err("cannot read a tree"))?
                    .is_some()
                {
                    builder
                        .remove(first)
                        .map_err(git_err(&format!("cannot remove {first} from a tree")))?;
                }
            }
        }
        builder.write().map_err(git_err("cannot write a tree"))
    }

    /// Writes a tree from its direct entries.
    pub fn write_tree(&self, entries: &[(String, Entry)]) -> Result<Oid> {
        let mut builder = self
            .repo
            .treebuilder(None)
            .map_err(git_err("cannot build a tree"))?;
        for (name, e) in entries {
            builder
                .insert(name, e.oid, e.mode)
                .map_err(git_err(&format!("cannot add {name} to a tree")))?;
        }
        builder.write().map_err(git_err("cannot write a tree"))
    }

    /// The best common ancestor of two commits, if any.
    pub fn merge_base(&self, a: Oid, b: Oid) -> Result<Option<Oid>> {
        match self.repo.merge_base(a, b) {
            Ok(oid) => Ok(Some(oid)),
            Err(e) if e.code() == ErrorCode::NotFound => Ok(None),
            Err(e) => Err(Error::git("cannot compute a merge base", e.message())),
        }
    }

    /// Whether `ancestor` is reachable from `descendant` (or equal to it).
    pub fn is_ancestor(&self, ancestor: Oid, descendant: Oid) -> Result<bool> {
        if ancestor == descendant {
            return Ok(true);
        }
        self.repo
            .graph_descendant_of(descendant, ancestor)
            .map_err(git_err("cannot walk history"))
    }

    pub fn write_blob(&self, bytes: &[u8]) -> Result<Oid> {
        self.repo
            .blob(bytes)
            .map_err(git_err("cannot write a blob"))
    }

    /// Writes several blobs, spread over the machine's cores: a transcript above 50 MiB is
    /// several chunks, and hashing and compressing each is independent work. The extra threads
    /// use handles of their own on the repository (a handle is not shared between threads).
    pub fn write_blobs(&self, blobs: &[&[u8]]) -> Result<Vec<Oid>> {
        let threads = std::thread::available_parallelism()
            .map_or(1, usize::from)
            .min(blobs.len());
        if threads <= 1 {
            return blobs.iter().map(|b| self.write_blob(b)).collect();
        }
        let git_dir = self.git_dir().to_path_buf();
        let mut ids: Vec<Option<Oid>> = vec![None; blobs.len()];
        let results: Vec<Result<Vec<(usize, Oid)>>> = std::thread::scope(|scope| {
            let workers: Vec<_> = (1..threads)
                .map(|t| {
                    let git_dir = &git_dir;
                    scope.spawn(move || -> Result<Vec<(usize, Oid)>> {
                        let repo = Repo::open(git_dir)?;
                        (t..blobs.len())
                            .step_by(threads)
                            .map(|i| Ok((i, repo.write_blob(blobs[i])?)))
                            .collect()
                    })
                })
                .collect();
            let mut results = vec![(0..blobs.len())
                .step_by(threads)
                .map(|i| Ok((i, self.write_blob(blobs[i])?)))
                .collect::<Result<Vec<_>>>()];
            for w in workers {
                results.push(w.join().unwrap_or_else(|_| {
                    Err(Error::git("cannot write a blob", "a writer thread failed"))
                }));
            }
            results
        });
        for r in results {
            for (i, oid) in r? {
                ids[i] = Some(oid);
            }
        }
        ids.into_iter()
            .map(|o| o.ok_or_else(|| Error::git("cannot write a blob", "a chunk was not written")))
            .collect()
    }

    /// The id `bytes` would have as a blob, without writing it.
    pub fn hash_blob(bytes: &[u8]) -> Result<Oid> {
        Oid::hash_object(ObjectType::Blob, bytes).map_err(git_err("cannot hash a blob"))
    }

    pub fn read_blob(&self, oid: Oid) -> Result<Vec<u8>> {
        let b = self
            .repo
            .find_blob(oid)
            .map_err(git_err(&format!("cannot read blob {oid}")))?;
        Ok(b.content().to_vec())
    }

    /// Writes a commit object with `message` stored verbatim (no newline added).
    pub fn commit(&self, tree: Oid, parents: &[Oid], message: &str, who: &Ident) -> Result<Oid> {
        let time = git2::Time::new(who.time, who.offset_minutes);
        let sig = git2::Signature::new(&who.name, &who.email, &time)
            .map_err(git_err("invalid identity"))?;
        let tree = self
            .repo
            .find_tree(tree)
            .map_err(git_err(&format!("cannot read tree {tree}")))?;
        let parents: Vec<git2::Commit<'_>> = parents
            .iter()
            .map(|p| self.repo.find_commit(*p))
            .collect::<std::result::Result<_, _>>()
            .map_err(git_err("cannot read a parent commit"))?;
        let parent_refs: Vec<&git2::Commit<'_>> = parents.iter().collect();
        self.repo
            .commit(None, &sig, &sig, message, &tree, &parent_refs)
            .map_err(git_err("cannot write a commit"))
    }

    /// The empty tree, written (it always exists conceptually, but not always in the odb).
    pub fn empty_tree(&self) -> Result<Oid> {
        self.build_tree(&FlatTree::new())
    }

    /// Moves `name` to `new` only if it is at `expected` (`None`: only if it does not exist).
    pub fn update_ref(
        &self,
        name: &str,
        new: Oid,
        expected: Option<Oid>,
        log_message: &str,
    ) -> Result<Cas> {
        let result = match expected {
            Some(old) => self
                .repo
                .reference_matching(name, new, true, old, log_message)
                .map(|_| ()),
            None => self
                .repo
                .reference(name, new, false, log_message)
                .map(|_| ()),
        };
        match result {
            Ok(()) => Ok(Cas::Updated),
            Err(e) if is_race(&e) => Ok(Cas::Lost),
            Err(e) => Err(Error::git(format!("cannot update {name}"), e.message())),
        }
    }

    /// Moves several refs atomically: all of them, each only if at its expected value, or none.
    pub fn update_refs(&self, updates: &[RefUpdate]) -> Result<Cas> {
        let mut tx = self
            .repo
            .transaction()
            .map_err(git_err("cannot start a ref transaction"))?;
        for u in updates {
            if let Err(e) = tx.lock_ref(&u.name) {
                return if is_race(&e) {
                    Ok(Cas::Lost)
                } else {
                    Err(Error::git(format!("cannot lock {}", u.name), e.message()))
                };
            }
        }
        // The locks are held: the values read now cannot change until commit.
        for u in updates {
            if self.ref_target(&u.name)? != u.expected {
                return Ok(Cas::Lost);
            }
        }
        let sig = git2::Signature::now("git-attach", "git-attach@local")
            .map_err(git_err("invalid identity"))?;
        for u in updates {
            tx.set_target(&u.name, u.new, Some(&sig), &u.log_message)
                .map_err(git_err(&format!("cannot update {}", u.name)))?;
        }
        match tx.commit() {
            Ok(()) => Ok(Cas::Updated),
            Err(e) if is_race(&e) => Ok(Cas::Lost),
            Err(e) => Err(Error::git("cannot commit the ref transaction", e.message())),
        }
    }

    /// Deletes a ref if it is at `expected`.
    pub fn delete_ref(&self, name: &str, expected: Oid) -> Result<Cas> {
        match self.repo.find_reference(name) {
            Ok(mut r) => {
                if r.target() != Some(expected) {
                    return Ok(Cas::Lost);
                }
                match r.delete() {
                    Ok(()) => Ok(Cas::Updated),
                    Err(e) if is_race(&e) => Ok(Cas::Lost),
                    Err(e) => Err(Error::git(format!("cannot delete {name}"), e.message())),
                }
            }
            Err(e) if e.code() == ErrorCode::NotFound => Ok(Cas::Lost),
            Err(e) => Err(Error::git(format!("cannot read {name}"), e.message())),
        }
    }
}

fn is_race(e: &git2::Error) -> bool {
    matches!(
        e.code(),
        ErrorCode::Locked | ErrorCode::Modified | ErrorCode::Exists
    )
}

/// The local time zone's offset from UTC in minutes at the current instant (libgit2 asks the C
/// library, which honours `TZ`).
pub fn local_offset_minutes() -> i32 {
    git2::Signature::now("x", "x@x")
        .map(|s| s.when().offset_minutes())
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_empty_tree_id_is_gits() {
        let id = Oid::hash_object(ObjectType::Tree, b"").unwrap();
        assert_eq!(id.as_bytes(), EMPTY_TREE_ID);
        assert_eq!(id.to_string(), "4b825dc642cb6eb9a060e54bf8d69288fbee4904");
    }
}
