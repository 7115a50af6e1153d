//! The attach pipeline, in the order of `product.md` §1: settings → resolve the session → read →
//! metadata → redact → v1 writer → v2 mirror stage → session state → link HEAD. Data flows one
//! way: nothing downstream calls back upstream, and the v2 stage only sees what v1 produced.
//!
//! Every check that can fail on user input (repository, session id, rule files, transcript,
//! chunking) runs before the first object is written, so a failed run leaves the repository as
//! it was.

use std::io::{BufRead, IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::agent::{self, Agent, Context, Located, SessionInfo};
use crate::checkpoint::metadata::CommittedMetadata;
use crate::checkpoint::{append_trailer, last_trailer_id, trailer_ids, CheckpointId};
use crate::cli::Args;
use crate::error::{Error, Result};
use crate::git::{self, Head, Ident, Repo};
use crate::messages;
use crate::progress::Progress;
use crate::redact::{Redactor, RuleSources};
use crate::settings::Settings;
use crate::state::{self, AttachRecord, State};
use crate::time::Timestamp;
use crate::transcript::{self, chunk};
use crate::{remote, v1, v2};

/// `cli_version` of every document git-attach writes.
pub fn cli_version() -> String {
    format!("git-attach/{}", env!("CARGO_PKG_VERSION"))
}

/// The `--json` result of an attach.
#[derive(Debug, Default, serde::Serialize)]
pub struct Report {
    pub session_id: String,
    pub agent: String,
    pub checkpoint_id: String,
    pub slot: Option<usize>,
    /// True when this run created the checkpoint.
    pub created: bool,
    pub refs: Vec<String>,
    /// The new HEAD when HEAD was amended.
    pub amended_commit: Option<String>,
    /// Whether HEAD carries the checkpoint's trailer after the run.
    pub linked: bool,
}

/// Attaches one session (the pipeline of `product.md` §1).
pub fn attach(
    repo: &Repo,
    settings: &Settings,
    args: &Args,
    out: &mut dyn Write,
) -> Result<Report> {
    let head = repo.head()?;

    // Rule files are loaded and validated before any transcript is read (fail closed).
    let t = std::time::Instant::now();
    let redactor = Redactor::load(&rule_sources(repo, settings))?;
    log::debug!("redaction rules loaded in {:?}", t.elapsed());

    let ctx = Context::from_process(repo.workdir(), settings.agent_timeout());
    let (session_id, proposed_agent) = match session_id(args) {
        Some(id) => (id, None),
        None => {
            let (id, agent) = propose_newest(&ctx, args)?;
            (id, Some(agent))
        }
    };
    validate_session_id(&session_id)?;
    let offset = git::local_offset_minutes();
    let now = Timestamp::now_utc();

    // Loaded once: it decides whether this is only a link, and it is what the attach updates.
    let prior = State::load(repo.common_dir(), &session_id, now.secs);
    if !args.dry_run {
        if let Some(state) = &prior {
            if let Some(cp) = state.last_checkpoint_id().and_then(CheckpointId::parse) {
                writeln_out(out, &messages::already_linked(&session_id, cp.as_str()))?;
                let amended = link(repo, &head, &cp, args, out)?;
                return Ok(Report {
                    session_id,
                    checkpoint_id: cp.to_string(),
                    linked: true,
                    amended_commit: amended.map(|o| o.to_string()),
                    ..Report::default()
                });
            }
        }
    }

    let mut progress = Progress::start(messages::progress_reading(&session_id));
    let t = std::time::Instant::now();
    let (located, raw) = match proposed_agent {
        // The listing already knows whose session it is.
        Some(agent) => {
            let located = agent::locate(&ctx, &agent, &session_id)?;
            let raw = agent::read_transcript(&ctx, &located)?;
            (located, raw)
        }
        None => resolve(&ctx, args, settings, &session_id)?,
    };
    if raw.is_empty() {
        return Err(Error::TranscriptEmpty {
            path: located.path.clone(),
        });
    }
    log::debug!("read {} bytes in {:?}", raw.len(), t.elapsed());
    if located.auto_detected {
        writeln_out(out, &messages::auto_detected(&located.agent.name))?;
    }
    progress.set(messages::progress_redacting(&session_id));
    let display = located.agent.display_type.as_str();
    // Metadata extraction reads the raw transcript and redaction the normalized one: neither
    // depends on the other, so they run side by side (each is a full pass over the transcript).
    let (info, redacted) = std::thread::scope(|scope| {
        let info = scope.spawn(|| {
            let t = std::time::Instant::now();
            let info = agent::session_info(&ctx, &located.agent, &raw, &located.path);
            log::debug!("metadata extraction took {:?}", t.elapsed());
            info
        });
        let stored = transcript::normalize_for_storage(display, &raw);
        let redacted = redactor.transcript(&stored);
        drop(stored);
        let info = info
            .join()
            .unwrap_or_else(|panic| std::panic::resume_unwind(panic));
        (info, redacted)
    });
    let redacted = redacted?;
    log::debug!("metadata and redaction took {:?}", t.elapsed());
    let v1_bytes = transcript::sanitize_for_v1(display, &redacted);
    let chunks = chunk::chunk_for(display, &v1_bytes, chunk::MAX_CHUNK_SIZE).map_err(|e| {
        Error::TranscriptLineTooLong {
            path: located.path.clone(),
            cause: e.to_string(),
        }
    })?;
    let prompt = info
        .first_prompt
        .as_deref()
        .filter(|p| !p.is_empty())
        .map(|p| redactor.string(p));

    let (checkpoint, from_head) = match last_trailer_id(&head.message) {
        Some(id) => (id, true),
        None => (
            CheckpointId::generate()
                .map_err(|e| Error::git("cannot generate a checkpoint ID", e))?,
            false,
        ),
    };
    if from_head && !v1::checkpoint_exists(repo, &checkpoint, &settings.remote.value)? {
        fetch_missing(repo, settings, &checkpoint, args.dry_run, out)?;
    }

    let version = cli_version();
    let metadata = CommittedMetadata {
        cli_version: version.clone(),
        checkpoint_id: checkpoint.to_string(),
        session_id: session_id.clone(),
        strategy: v1::STRATEGY.to_string(),
        created_at: now.rfc3339_nano(),
        agent: display.to_string(),
        model: info.model.clone(),
        token_usage: info.token_usage.clone(),
        ..CommittedMetadata::default()
    };
    let author = Ident {
        name: settings.identity.name.clone(),
        email: settings.identity.email.clone(),
        time: now.secs,
        offset_minutes: offset,
    };
    // With v2 on, the v2 compact transcript is made on a second thread while v1 writes.
    let precompact = settings.checkpoints_v2.value && !located.agent.is_external();
    let session = v1::NewSession {
        checkpoint: &checkpoint,
        session_id: &session_id,
        agent: display,
        chunks: &chunks,
        content: &v1_bytes,
        prompt: prompt.as_deref(),
        metadata: &metadata,
        cli_version: &version,
        author: &author,
        remote: &settings.remote.value,
        parallel_writes: !precompact,
    };

    if args.dry_run {
        let plan = v1::plan(repo, &session)?;
        report_dry_run(out, &session, &plan, settings, &located, &info, from_head)?;
        return Ok(Report {
            session_id: session_id.clone(),
            agent: located.agent.name.clone(),
            checkpoint_id: checkpoint.to_string(),
            slot: Some(plan.slot),
            created: !plan.existed,
            ..Report::default()
        });
    }

    progress.set(messages::progress_writing(v1::BRANCH));
    let t = std::time::Instant::now();
    // The compact transcript of the v2 mirror depends only on the redacted transcript: make it
    // (and write its blobs) on a second thread while the v1 writer runs. Whatever happens there
    // only reaches the v2 stage, which reports it as a warning.
    let git_dir = repo.git_dir().to_path_buf();
    let (written, precompacted) = std::thread::scope(|scope| {
        let job = precompact
            .then(|| {
                std::thread::Builder::new()
                    .name(v2::PRECOMPACT_THREAD.into())
                    .spawn_scoped(scope, || {
                        v2::precompact(&git_dir, &redacted, display, &version)
                    })
                    .ok()
            })
            .flatten();
        let written = v1::write(repo, &session);
        let precompacted = job.map(|j| {
            j.join()
                .unwrap_or_else(|_| v2::Precompacted::Failed("internal error in compaction".into()))
        });
        (written, precompacted)
    });
    let written = written?;
    log::debug!("v1 write took {:?}", t.elapsed());
    let mut refs = vec![v1::BRANCH.to_string()];
    drop(chunks);

    if settings.checkpoints_v2.value {
        progress.set(messages::PROGRESS_MIRRORING);
    }
    let external_compactor = |transcript: &[u8]| -> Option<Vec<u8>> {
        external_compact(&ctx, &located.agent, &redactor, transcript)
    };
    let compactor: Option<v2::Compactor<'_>> = if located.agent.is_external() {
        Some(&external_compactor)
    } else {
        None
    };
    if settings.checkpoints_v2.value
        && v2::mirror(
            repo,
            &v2::MirrorInput {
                checkpoint: &checkpoint,
                slot: written.plan.slot,
                existed_before: written.plan.existed,
                v1_commit: written.commit,
                transcript: &redacted,
                agent: display,
                cli_version: &version,
                author: &author,
                compactor,
                same_as_v1: matches!(v1_bytes, std::borrow::Cow::Borrowed(_)),
                precompacted: precompacted.as_ref(),
            },
        )
    {
        refs.push(v2::MAIN.to_string());
        refs.push(v2::FULL_CURRENT.to_string());
    }

    progress.finish();
    let mut state = prior.unwrap_or_else(|| State::new(&session_id, &state::now_local(offset)));
    state.record_attach(
        &AttachRecord {
            cli_version: &version,
            agent_type: display,
            transcript_path: &absolute(&located.path),
            checkpoint_id: checkpoint.as_str(),
            turns: info.turns,
            model: &info.model,
            last_prompt: prompt.as_deref(),
            token_usage: info.token_usage.as_ref(),
        },
        &state::now_local(offset),
    );
    if let Err(e) = state.save(repo.common_dir(), &session_id) {
        log::warn!("{}", messages::state_not_saved(&e.to_string()));
    }

    writeln_out(out, &messages::attached(&session_id))?;
    writeln_out(
        out,
        &messages::captured(info.turns, &info.model, info.token_usage.as_ref()),
    )?;
    if written.plan.existed {
        writeln_out(out, &messages::added_to_checkpoint(checkpoint.as_str()))?;
    } else {
        writeln_out(out, &messages::created_checkpoint(checkpoint.as_str()))?;
    }
    let mut report = Report {
        session_id: session_id.clone(),
        agent: located.agent.name.clone(),
        checkpoint_id: checkpoint.to_string(),
        slot: Some(written.plan.slot),
        created: !written.plan.existed,
        refs,
        amended_commit: None,
        linked: from_head,
    };
    if from_head {
        // HEAD already names this checkpoint: nothing to link.
        return Ok(report);
    }
    writeln_out(out, "")?;
    let amended = link(repo, &head, &checkpoint, args, out)?;
    report.linked = amended.is_some();
    report.amended_commit = amended.map(|o| o.to_string());
    Ok(report)
}

fn rule_sources(repo: &Repo, settings: &Settings) -> RuleSources {
    let repo_file = repo.workdir().join(".gitleaks.toml");
    RuleSources {
        repo_file: repo_file.is_file().then_some(repo_file),
        configured: settings.redaction_rules.value.clone(),
    }
}

/// The session id: given, else the stem of `--transcript`.
fn session_id(args: &Args) -> Option<String> {
    if let Some(id) = &args.session_id {
        return Some(id.clone());
    }
    args.transcript
        .as_ref()
        .and_then(|t| t.file_stem())
        .and_then(|s| s.to_str())
        .map(str::to_string)
}

/// No id given: the newest session of this repository, taken with `--force`, else proposed and
/// confirmed on a terminal; without one it is an error that names it (`product.md` §5).
fn propose_newest(ctx: &Context, args: &Args) -> Result<(String, Agent)> {
    let filter = match &args.agent {
        Some(name) => Some(Agent::by_name(ctx, name)?),
        None => None,
    };
    let sessions = agent::list_sessions(ctx, filter.as_ref());
    let Some(newest) = sessions.first() else {
        return Err(Error::NoSessionChosen { newest: None });
    };
    let chosen = (newest.session_id.clone(), newest.agent.clone());
    if args.force {
        return Ok(chosen);
    }
    if !args.json && interactive() {
        let mut err = std::io::stderr().lock();
        let prompt = newest.first_prompt.as_deref().unwrap_or("");
        let _ = writeln!(
            err,
            "{}",
            messages::newest_session(
                &newest.agent.name,
                &newest.session_id,
                &one_line(prompt, 72)
            )
        );
        let _ = write!(err, "{}", messages::ATTACH_QUESTION);
        let _ = err.flush();
        if read_yes() {
            return Ok(chosen);
        }
        return Err(Error::Declined);
    }
    Err(Error::NoSessionChosen {
        newest: Some((newest.agent.name.clone(), newest.session_id.clone())),
    })
}

/// A prompt on one line, cut to `width` characters.
pub(crate) fn one_line(text: &str, width: usize) -> String {
    let flat: String = text
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    let flat = flat.split_whitespace().collect::<Vec<_>>().join(" ");
    if flat.chars().count() <= width {
        return flat;
    }
    let mut cut: String = flat.chars().take(width.saturating_sub(1)).collect();
    cut.push('…');
    cut
}

/// The repository identity, now.
pub(crate) fn identity(settings: &Settings) -> Ident {
    Ident {
        name: settings.identity.name.clone(),
        email: settings.identity.email.clone(),
        time: Timestamp::now_utc().secs,
        offset_minutes: git::local_offset_minutes(),
    }
}

/// HEAD names a checkpoint the local branch lacks: fetch the branch from the remote and
/// fast-forward or union-merge it; never create a fresh slot 0 there (`product.md` §6).
fn fetch_missing(
    repo: &Repo,
    settings: &Settings,
    cp: &CheckpointId,
    dry_run: bool,
    out: &mut dyn Write,
) -> Result<()> {
    let remote = &settings.remote.value;
    let missing = || Error::CheckpointMissing {
        id: cp.to_string(),
        remote: remote.clone(),
    };
    if dry_run {
        return Err(missing());
    }
    if !settings.remotes.iter().any(|r| r == remote) {
        log::debug!("no remote {remote} to fetch entire/checkpoints/v1 from");
        return Err(missing());
    }
    match remote::sync_v1(repo, remote, &identity(settings)) {
        Ok(Some(how)) => {
            let how = match how {
                remote::Integrated::UpToDate => "already up to date",
                remote::Integrated::FastForward => "fast-forward",
                remote::Integrated::Merged => "merged",
            };
            writeln_out(out, &messages::fetched(remote, how))?;
        }
        Ok(None) => log::debug!("{remote} has no entire/checkpoints/v1"),
        Err(e @ Error::Conflict { .. }) => return Err(e),
        Err(e) => log::warn!("could not fetch entire/checkpoints/v1 from {remote}: {e}"),
    }
    if v1::checkpoint_exists(repo, cp, remote)? {
        Ok(())
    } else {
        Err(missing())
    }
}

/// The compact transcript of an external agent (its `compact-transcript`), redacted like any
/// transcript since the plugin's output is not trusted to be. `None` (with a warning) when the
/// plugin does not declare the capability or fails.
fn external_compact(
    ctx: &Context,
    agent: &Agent,
    redactor: &Redactor,
    transcript: &[u8],
) -> Option<Vec<u8>> {
    let dir = std::env::temp_dir().join(format!(
        "git-attach-{}-{}",
        std::process::id(),
        CheckpointId::generate()
            .map(|c| c.to_string())
            .unwrap_or_default()
    ));
    let result = (|| -> std::result::Result<Option<Vec<u8>>, String> {
        std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
        let path = dir.join("transcript.jsonl");
        std::fs::write(&path, transcript).map_err(|e| e.to_string())?;
        let compact = agent::external_compact(ctx, agent, &path).map_err(|e| e.to_string())?;
        match compact {
            Some(bytes) => redactor
                .transcript(&bytes)
                .map(Some)
                .map_err(|e| e.to_string()),
            None => Ok(None),
        }
    })();
    let _ = std::fs::remove_dir_all(&dir);
    match result {
        Ok(Some(bytes)) => Some(bytes),
        Ok(None) => {
            log::warn!(
                "agent {} does not produce compact transcripts; no transcript.jsonl in v2",
                agent.name
            );
            None
        }
        Err(e) => {
            log::warn!("compact transcript from agent {} failed: {e}", agent.name);
            None
        }
    }
}

/// Rejects ids that are empty or contain a path separator, before any lookup.
pub fn validate_session_id(id: &str) -> Result<()> {
    if id.trim().is_empty() {
        return Err(Error::InvalidSessionId {
            id: id.to_string(),
            reason: "session ID cannot be empty",
        });
    }
    if id.contains('/') || id.contains('\\') {
        return Err(Error::InvalidSessionId {
            id: id.to_string(),
            reason: "contains path separators",
        });
    }
    Ok(())
}

/// Finds and reads the transcript: `--transcript` (read once, also for detecting its agent),
/// else the agent's lookup with auto-detection.
fn resolve(
    ctx: &Context,
    args: &Args,
    settings: &Settings,
    id: &str,
) -> Result<(Located, Vec<u8>)> {
    if let Some(path) = &args.transcript {
        let raw = std::fs::read(path).map_err(|e| Error::TranscriptUnreadable {
            path: path.to_path_buf(),
            cause: e.to_string(),
        })?;
        let agent = match &args.agent {
            Some(name) => Agent::by_name(ctx, name)?,
            None => agent::detect_from_content(&raw),
        };
        let located = Located {
            agent,
            path: path.clone(),
            auto_detected: false,
        };
        return Ok((located, raw));
    }
    let preferred = Agent::by_name(ctx, &settings.agent.value)?;
    let located = agent::locate(ctx, &preferred, id)?;
    let raw = agent::read_transcript(ctx, &located)?;
    Ok((located, raw))
}

fn absolute(p: &Path) -> PathBuf {
    std::path::absolute(p).unwrap_or_else(|_| p.to_path_buf())
}

fn report_dry_run(
    out: &mut dyn Write,
    s: &v1::NewSession<'_>,
    plan: &v1::Plan,
    settings: &Settings,
    located: &Located,
    info: &SessionInfo,
    from_head: bool,
) -> Result<()> {
    let dir = format!("{}/{}", s.checkpoint.path(), plan.slot);
    let mut files: Vec<String> = v1::slot_file_names(s.chunks.len(), s.prompt.is_some())
        .into_iter()
        .map(|name| format!("{dir}/{name}"))
        .collect();
    files.push(format!("{}/metadata.json", s.checkpoint.path()));
    let report = messages::DryRun {
        session_id: s.session_id,
        agent: &located.agent.name,
        path: &located.path,
        captured: messages::captured(info.turns, &info.model, info.token_usage.as_ref()),
        checkpoint: s.checkpoint.as_str(),
        existed: plan.existed,
        slot: plan.slot,
        reused: plan.reused,
        branch: v1::BRANCH,
        files,
        v2: settings.checkpoints_v2.value,
        link: !from_head,
    };
    write_out(out, &messages::dry_run(&report))
}

/// Links HEAD to the checkpoint: amends after asking (or with `--force`), or prints the trailer.
/// Returns the new HEAD when it amended.
fn link(
    repo: &Repo,
    head: &Head,
    cp: &CheckpointId,
    args: &Args,
    out: &mut dyn Write,
) -> Result<Option<git::Oid>> {
    if trailer_ids(&head.message).contains(cp) {
        let short = repo.short_id(head.oid);
        writeln_out(out, &messages::commit_has_trailer(&short, cp.as_str()))?;
        return Ok(None);
    }
    let ask = !args.force && !args.json;
    if args.no_amend || (!args.force && (!ask || !confirm_amend(repo, head))) {
        writeln_out(out, &messages::copy_trailer(cp.as_str()))?;
        return Ok(None);
    }
    match amend(repo, head, cp) {
        Ok(new_head) => {
            let short = repo.short_id(new_head);
            writeln_out(out, &messages::amended(&short, cp.as_str()))?;
            Ok(Some(new_head))
        }
        Err(cause) => {
            log::warn!("{}", messages::amend_failed(&cause));
            writeln_out(out, &messages::copy_trailer(cp.as_str()))?;
            Ok(None)
        }
    }
}

/// Whether to ask at all (`GIT_ATTACH_INTERACTIVE` overrides the terminal check).
fn interactive() -> bool {
    match std::env::var("GIT_ATTACH_INTERACTIVE").ok().as_deref() {
        Some("1") => true,
        Some("0") => false,
        _ => std::io::stdin().is_terminal() && std::io::stderr().is_terminal(),
    }
}

/// Asks on stderr, reads the answer from stdin; an empty answer is yes.
fn confirm_amend(repo: &Repo, head: &Head) -> bool {
    if !interactive() {
        return false;
    }
    let mut err = std::io::stderr().lock();
    let short = repo.short_id(head.oid);
    let _ = writeln!(err, "{}", messages::last_commit(&short, &head.subject));
    let _ = write!(err, "{}", messages::AMEND_QUESTION);
    let _ = err.flush();
    read_yes()
}

/// Reads an answer from stdin; empty, `y` and `yes` are yes.
fn read_yes() -> bool {
    let mut answer = String::new();
    if std::io::stdin().lock().read_line(&mut answer).is_err() {
        return false;
    }
    matches!(
        answer.trim().to_ascii_lowercase().as_str(),
        "" | "y" | "yes"
    )
}

/// `git commit --amend --only -m <message + trailer>`: the message changes, nothing else (the
/// index and working tree are not read into the commit). Returns the new HEAD.
fn amend(repo: &Repo, head: &Head, cp: &CheckpointId) -> std::result::Result<git::Oid, String> {
    // HEAD may have moved since it was read; never amend a commit the user did not see.
    let current = repo.head().map_err(|e| e.to_string())?;
    if current.oid != head.oid {
        return Err("HEAD changed while attaching".into());
    }
    let message = append_trailer(&head.message, cp);
    let output = Command::new("git")
        .args(["commit", "--amend", "--only", "--allow-empty", "-m"])
        .arg(&message)
        .stdin(std::process::Stdio::null())
        .output()
        .map_err(|e| format!("cannot run git: {e}"))?;
    if !output.status.success() {
        let stderr = String::from_utf8_lossy(&output.stderr);
        let first = stderr
            .lines()
            .find(|l| !l.trim().is_empty())
            .unwrap_or("git commit failed");
        return Err(first.trim().to_string());
    }
    repo.head().map(|h| h.oid).map_err(|e| e.to_string())
}

pub(crate) fn write_out(out: &mut dyn Write, text: &str) -> Result<()> {
    out.write_all(text.as_bytes()).map_err(|e| {
        if e.kind() == std::io::ErrorKind::BrokenPipe {
            Error::StdoutClosed
        } else {
            Error::io("cannot write to", "standard output", e)
        }
    })
}

pub(crate) fn writeln_out(out: &mut dyn Write, line: &str) -> Result<()> {
    write_out(out, &format!("{line}\n"))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A reader that went away (`git attach --list | head -1`) is not an error to report.
    #[test]
    fn a_closed_stdout_is_its_own_error() {
        struct Closed;
        impl Write for Closed {
            fn write(&mut self, _: &[u8]) -> std::io::Result<usize> {
                Err(std::io::ErrorKind::BrokenPipe.into())
            }
            fn flush(&mut self) -> std::io::Result<()> {
                Ok(())
            }
        }
        assert!(matches!(
            writeln_out(&mut Closed, "x"),
            Err(Error::StdoutClosed)
        ));
    }
}
