//! The command's modes: `run` reads the repository and settings once and dispatches to an
//! attach (`attach`), `--list`, `--backfill`, `--push` or `--show-settings`, after checking that
//! the modes asked for go together.

use std::io::{IsTerminal, Write};

use crate::agent::{self, Agent, Context};
use crate::attach::{self, cli_version, identity, one_line, write_out, writeln_out};
use crate::cli::Args;
use crate::error::{Error, Result};
use crate::git::{self, Repo};
use crate::messages;
use crate::progress::Progress;
use crate::settings::Settings;
use crate::time::Timestamp;
use crate::{remote, v2};

/// Runs `git attach` with parsed arguments; results go to `out`.
pub fn run(args: &Args, out: &mut dyn Write) -> Result<()> {
    check_modes(args)?;
    let started = std::time::Instant::now();
    let repo = Repo::open_from_env()?;
    let settings = Settings::load(repo.workdir(), args)?;
    log::debug!("settings read after {:?}", started.elapsed());
    if args.show_settings {
        write_out(out, &settings.describe())?;
        return Ok(());
    }
    if !settings.enabled.value {
        writeln_out(out, messages::DISABLED)?;
        return Ok(());
    }
    if args.list {
        return list(&repo, &settings, args, out);
    }
    if args.backfill {
        return backfill(&repo, &settings, args, out);
    }
    if let Some(remote) = &args.push {
        return push(&repo, &settings, remote.as_deref(), out);
    }
    if args.json {
        let mut text = Vec::new();
        let report = attach::attach(&repo, &settings, args, &mut text)?;
        let line = serde_json::to_string(&report)
            .map_err(|e| Error::git("cannot encode the result", e))?;
        return writeln_out(out, &line);
    }
    attach::attach(&repo, &settings, args, out).map(|_| ())
}

/// `--list`, `--backfill` and an attach exclude each other.
fn check_modes(args: &Args) -> Result<()> {
    if args.list && args.backfill {
        return Err(Error::Usage(
            "--list and --backfill cannot be used together".into(),
        ));
    }
    let modes = [
        ("list", args.list),
        ("backfill", args.backfill),
        ("push", args.push.is_some()),
    ];
    let chosen: Vec<&str> = modes
        .iter()
        .filter(|(_, on)| *on)
        .map(|(n, _)| *n)
        .collect();
    if chosen.len() > 1 {
        return Err(Error::Usage(format!(
            "--{} and --{} cannot be used together",
            chosen[0], chosen[1]
        )));
    }
    if let Some(mode) = chosen.first() {
        if args.session_id.is_some() || args.transcript.is_some() {
            return Err(Error::Usage(format!(
                "--{mode} takes no session ID or transcript"
            )));
        }
    }
    Ok(())
}

/// `--list`: the sessions of this repository, newest first.
fn list(repo: &Repo, settings: &Settings, args: &Args, out: &mut dyn Write) -> Result<()> {
    let ctx = Context::from_process(repo.workdir(), settings.agent_timeout());
    let filter = match &args.agent {
        Some(name) => Some(Agent::by_name(&ctx, name)?),
        None => None,
    };
    let sessions = agent::list_sessions(&ctx, filter.as_ref());
    let offset = git::local_offset_minutes();
    let width = terminal_width();
    for s in sessions {
        let secs = s
            .modified
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs() as i64)
            .unwrap_or(0);
        let time = Timestamp {
            secs,
            nanos: 0,
            offset_minutes: offset,
        };
        let prompt = s.first_prompt.clone().unwrap_or_default();
        if args.json {
            let obj = serde_json::json!({
                "time": time.rfc3339_nano(),
                "agent": s.agent.name,
                "session_id": s.session_id,
                "first_prompt": prompt,
                "path": s.path.display().to_string(),
            });
            writeln_out(out, &obj.to_string())?;
        } else {
            let stamp = time.rfc3339_nano();
            let when = stamp.get(..16).unwrap_or(&stamp).replace('T', " ");
            let head = format!("{when}  {:<15}  {}  ", s.agent.name, s.session_id);
            let room = width.map_or(usize::MAX, |w| {
                w.saturating_sub(head.chars().count()).max(10)
            });
            writeln_out(out, format!("{head}{}", one_line(&prompt, room)).trim_end())?;
        }
    }
    Ok(())
}

/// Columns of the terminal on stdout, from `COLUMNS`; `None` when stdout is not a terminal.
fn terminal_width() -> Option<usize> {
    if !std::io::stdout().is_terminal() {
        return None;
    }
    Some(
        std::env::var("COLUMNS")
            .ok()
            .and_then(|c| c.parse().ok())
            .unwrap_or(100),
    )
}

/// `--push [<remote>]`.
fn push(repo: &Repo, settings: &Settings, remote: Option<&str>, out: &mut dyn Write) -> Result<()> {
    let remote = remote.unwrap_or(&settings.remote.value);
    let results = remote::push(
        repo,
        remote,
        settings.checkpoints_v2.value,
        &identity(settings),
    )?;
    if results.is_empty() {
        return writeln_out(out, &messages::nothing_to_push(remote));
    }
    for p in results {
        writeln_out(out, &messages::pushed(remote, &p.refname, &p.status))?;
    }
    Ok(())
}

/// `--backfill`.
fn backfill(repo: &Repo, settings: &Settings, args: &Args, out: &mut dyn Write) -> Result<()> {
    let who = identity(settings);
    let mut progress = Progress::start(messages::progress_backfill(0, 0));
    let report = v2::backfill(
        repo,
        &who,
        &cli_version(),
        args.dry_run,
        &settings.remote.value,
        &mut |done, total| progress.set(messages::progress_backfill(done, total)),
    )?;
    progress.finish();
    for (id, why) in &report.skipped {
        log::warn!("{}", messages::v2_failed(id.as_str(), why));
    }
    if report.checkpoints.is_empty() {
        return writeln_out(out, messages::NOTHING_TO_BACKFILL);
    }
    for (id, slots) in &report.checkpoints {
        writeln_out(out, &messages::mirrored(args.dry_run, id.as_str(), slots))?;
    }
    if !args.dry_run {
        writeln_out(out, &messages::backfilled(report.checkpoints.len()))?;
        if report.rotated {
            writeln_out(out, messages::ROTATED)?;
        }
    }
    Ok(())
}
