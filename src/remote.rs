//! How checkpoints travel (`product.md` §6): fetching the v1 branch (and the v2 refs) from a
//! remote, integrating it by fast-forward or a union merge commit, and `--push` with one
//! fetch-merge-retry round on rejection. Every network operation goes through the `git` command
//! (the user's credentials, ssh config and proxies apply; `GIT_TERMINAL_PROMPT=0`, so it never
//! prompts); everything local goes through `git::Repo`.
//!
//! A union merge takes, per checkpoint, whichever side changed it since the merge base; a
//! checkpoint changed differently on both sides is a conflict, and then nothing is changed.

use std::process::Command;

use crate::error::{Error, Result};
use crate::git::{Cas, Entry, Ident, Oid, RefUpdate, Repo};
use crate::{v1, v2};

/// Private namespace for fetched v2 refs while they are merged (deleted afterwards).
const FETCH_NS: &str = "refs/git-attach/fetch/";

/// Runs `git` without a terminal prompt and with no standard input.
fn run_git(args: &[String]) -> Result<std::process::Output> {
    Command::new("git")
        .args(args)
        .env("GIT_TERMINAL_PROMPT", "0")
        .stdin(std::process::Stdio::null())
        .output()
        .map_err(|e| Error::GitCommand {
            args: args.join(" "),
            cause: e.to_string(),
        })
}

/// The failure of a `git` run: its first stderr line, without git's `fatal:`/`error:` prefix.
fn failure(args: &[String], stderr: &[u8]) -> Error {
    let stderr = String::from_utf8_lossy(stderr);
    let cause = stderr
        .lines()
        .map(str::trim)
        .find(|l| !l.is_empty())
        .unwrap_or("failed")
        .trim_start_matches("fatal: ")
        .trim_start_matches("error: ")
        .to_string();
    Error::GitCommand {
        args: args.iter().take(2).cloned().collect::<Vec<_>>().join(" "),
        cause,
    }
}

/// A `git` invocation; returns stdout, or the first stderr line as the error.
fn git(args: &[&str]) -> Result<String> {
    let args: Vec<String> = args.iter().map(|a| a.to_string()).collect();
    let out = run_git(&args)?;
    if out.status.success() {
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    } else {
        Err(failure(&args, &out.stderr))
    }
}

/// `git fetch <remote> entire/checkpoints/v1` into `refs/remotes/<remote>/entire/checkpoints/v1`.
/// `Ok(false)` when the remote has no such branch.
pub fn fetch_v1(remote: &str) -> Result<bool> {
    let spec = format!(
        "+refs/heads/entire/checkpoints/v1:{}",
        v1::remote_branch(remote)
    );
    fetch(remote, &spec)
}

/// `git fetch` of one refspec; `Ok(false)` when the remote does not have the ref.
fn fetch(remote: &str, spec: &str) -> Result<bool> {
    let args = [
        "fetch",
        "--quiet",
        "--no-tags",
        "--no-write-fetch-head",
        remote,
        spec,
    ];
    match git(&args) {
        Ok(_) => Ok(true),
        Err(Error::GitCommand { cause, .. }) if cause.contains("couldn't find remote ref") => {
            Ok(false)
        }
        Err(e) => Err(e),
    }
}

/// What integrating a fetched tip did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Integrated {
    UpToDate,
    FastForward,
    Merged,
}

/// A checkpoint (or root entry) changed differently on both sides.
fn conflict(refname: &str, what: &str) -> Error {
    Error::Conflict {
        refname: refname.to_string(),
        what: what.to_string(),
    }
}

/// Merges two trees of checkpoint storage two levels deep (shard / checkpoint), three-way
/// against `base`: per entry, an unchanged side takes the other side's version; both changed
/// differently is a conflict naming the entry.
pub fn union_trees(
    repo: &Repo,
    refname: &str,
    base: Option<Oid>,
    ours: Oid,
    theirs: Oid,
    depth: usize,
    prefix: &str,
) -> Result<Oid> {
    use std::collections::BTreeMap;
    let entries = |t: Option<Oid>| -> Result<BTreeMap<String, Entry>> {
        Ok(match t {
            Some(t) => repo.tree_entries(t)?.into_iter().collect(),
            None => BTreeMap::new(),
        })
    };
    let (b, o, t) = (entries(base)?, entries(Some(ours))?, entries(Some(theirs))?);
    let mut names: Vec<&String> = o.keys().chain(t.keys()).collect();
    names.sort();
    names.dedup();
    let mut out: Vec<(String, Entry)> = Vec::new();
    for name in names {
        let (be, oe, te) = (b.get(name), o.get(name), t.get(name));
        let chosen = if oe == te {
            oe.copied()
        } else if oe == be {
            te.copied()
        } else if te == be {
            oe.copied()
        } else {
            match (oe, te) {
                (Some(x), Some(y)) if depth > 1 && x.is_tree() && y.is_tree() => {
                    let sub_base = be.filter(|e| e.is_tree()).map(|e| e.oid);
                    let path = format!("{prefix}{name}");
                    let merged =
                        union_trees(repo, refname, sub_base, x.oid, y.oid, depth - 1, &path)?;
                    Some(Entry::tree(merged))
                }
                _ => return Err(conflict(refname, &format!("{prefix}{name}"))),
            }
        };
        if let Some(e) = chosen {
            out.push((name.clone(), e));
        }
    }
    repo.write_tree(&out)
}

/// Brings `local_ref` up to `fetched` (a commit): nothing when it already contains it,
/// fast-forward when it is behind, otherwise a union merge commit `message` with both parents.
/// The ref moves by compare-and-swap; returns the update to apply instead when `defer` is set.
pub fn integrate(
    repo: &Repo,
    local_ref: &str,
    fetched: Oid,
    message: &str,
    who: &Ident,
) -> Result<(Integrated, Option<RefUpdate>)> {
    let local = repo.ref_target(local_ref)?;
    let Some(local) = local else {
        return Ok((
            Integrated::FastForward,
            Some(RefUpdate {
                name: local_ref.to_string(),
                new: fetched,
                expected: None,
                log_message: "git-attach: fetched".into(),
            }),
        ));
    };
    if repo.is_ancestor(fetched, local)? {
        return Ok((Integrated::UpToDate, None));
    }
    if repo.is_ancestor(local, fetched)? {
        return Ok((
            Integrated::FastForward,
            Some(RefUpdate {
                name: local_ref.to_string(),
                new: fetched,
                expected: Some(local),
                log_message: "git-attach: fast-forward".into(),
            }),
        ));
    }
    let base = repo.merge_base(local, fetched)?;
    let base_tree = base.map(|b| repo.commit_tree(b)).transpose()?;
    let tree = union_trees(
        repo,
        local_ref,
        base_tree,
        repo.commit_tree(local)?,
        repo.commit_tree(fetched)?,
        2,
        "",
    )?;
    let merge = repo.commit(tree, &[local, fetched], message, who)?;
    Ok((
        Integrated::Merged,
        Some(RefUpdate {
            name: local_ref.to_string(),
            new: merge,
            expected: Some(local),
            log_message: "git-attach: union merge".into(),
        }),
    ))
}

/// Fetches the v1 branch and integrates it into the local one (§6). Returns what happened, or
/// `None` when the remote has no v1 branch.
pub fn sync_v1(repo: &Repo, remote: &str, who: &Ident) -> Result<Option<Integrated>> {
    if !fetch_v1(remote)? {
        return Ok(None);
    }
    let Some(fetched) = repo.ref_target(&v1::remote_branch(remote))? else {
        return Ok(None);
    };
    let (how, update) = integrate(
        repo,
        v1::BRANCH,
        fetched,
        "Merge remote session logs\n",
        who,
    )?;
    if let Some(u) = update {
        if repo.update_refs(&[u])? == Cas::Lost {
            return Err(Error::RefContention {
                refname: v1::BRANCH.to_string(),
            });
        }
    }
    Ok(Some(how))
}

/// Fetches the remote's v2 pair into a private namespace and merges it into the local pair in
/// one transaction. Missing remote refs are skipped.
fn sync_v2(repo: &Repo, remote: &str, who: &Ident) -> Result<()> {
    let mut updates = Vec::new();
    let mut temp = Vec::new();
    for (name, label) in [(v2::MAIN, "v2/main"), (v2::FULL_CURRENT, "v2/full/current")] {
        let tmp = format!("{FETCH_NS}{}", &name["refs/".len()..]);
        if !fetch(remote, &format!("+{name}:{tmp}"))? {
            continue;
        }
        temp.push(tmp.clone());
        if let Some(fetched) = repo.ref_target(&tmp)? {
            let (_, u) = integrate(repo, name, fetched, &format!("Merge remote {label}\n"), who)?;
            updates.extend(u);
        }
    }
    let result = if updates.is_empty() {
        Ok(())
    } else if repo.update_refs(&updates)? == Cas::Lost {
        Err(Error::RefContention {
            refname: v2::MAIN.to_string(),
        })
    } else {
        Ok(())
    };
    for t in temp {
        if let Some(oid) = repo.ref_target(&t)? {
            let _ = repo.delete_ref(&t, oid);
        }
    }
    result
}

/// The refs `--push` sends: the v1 branch, and with v2 the pair and archived generations.
fn push_refs(repo: &Repo, with_v2: bool) -> Result<Vec<String>> {
    let mut refs = Vec::new();
    if repo.ref_target(v1::BRANCH)?.is_some() {
        refs.push(v1::BRANCH.to_string());
    }
    if with_v2 {
        for r in [v2::MAIN, v2::FULL_CURRENT] {
            if repo.ref_target(r)?.is_some() {
                refs.push(r.to_string());
            }
        }
        for r in repo.ref_names(&format!("{}*", v2::FULL_PREFIX))? {
            let tail = &r[v2::FULL_PREFIX.len()..];
            if tail.len() == 13 && tail.bytes().all(|b| b.is_ascii_digit()) {
                refs.push(r);
            }
        }
    }
    Ok(refs)
}

/// One line of `git push --porcelain`: flag, ref, summary.
#[derive(Debug)]
pub struct Pushed {
    pub refname: String,
    pub status: String,
    pub rejected: bool,
}

fn push_once(remote: &str, refs: &[String]) -> Result<Vec<Pushed>> {
    let mut args: Vec<String> = vec!["push".into(), "--porcelain".into(), remote.into()];
    args.extend(refs.iter().map(|r| format!("{r}:{r}")));
    let out = run_git(&args)?;
    let stdout = String::from_utf8_lossy(&out.stdout);
    let mut pushed = Vec::new();
    for line in stdout.lines() {
        let mut parts = line.splitn(3, '\t');
        let (Some(flag), Some(spec), Some(summary)) = (parts.next(), parts.next(), parts.next())
        else {
            continue;
        };
        let refname = spec.split(':').next().unwrap_or(spec).to_string();
        let status = match flag.trim() {
            "=" => "up to date".to_string(),
            "*" => "new".to_string(),
            "" | "+" => "updated".to_string(),
            _ => summary.trim().trim_matches(['[', ']']).to_string(),
        };
        pushed.push(Pushed {
            refname,
            status,
            rejected: flag == "!",
        });
    }
    if !out.status.success() && pushed.iter().all(|p| !p.rejected) {
        return Err(failure(&args, &out.stderr));
    }
    Ok(pushed)
}

/// `git attach --push [<remote>]`: pushes; on rejection fetches, union-merges and pushes once
/// more. Returns the final per-ref results.
pub fn push(repo: &Repo, remote: &str, with_v2: bool, who: &Ident) -> Result<Vec<Pushed>> {
    let refs = push_refs(repo, with_v2)?;
    if refs.is_empty() {
        return Ok(Vec::new());
    }
    let first = push_once(remote, &refs)?;
    if first.iter().all(|p| !p.rejected) {
        return Ok(first);
    }
    log::info!("push to {remote} was rejected; fetching and merging");
    sync_v1(repo, remote, who)?;
    if with_v2 {
        sync_v2(repo, remote, who)?;
    }
    let refs = push_refs(repo, with_v2)?;
    let second = push_once(remote, &refs)?;
    if let Some(p) = second.iter().find(|p| p.rejected) {
        return Err(Error::GitCommand {
            args: format!("push {remote}"),
            cause: format!("{} was rejected again ({})", p.refname, p.status),
        });
    }
    Ok(second)
}
