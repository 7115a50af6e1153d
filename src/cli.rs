//! The command line: one table of flags (`FLAGS`) that drives parsing, `-h`, `--help`, the man
//! page's OPTIONS section and the completion scripts (tests hold the checked-in files to it).
//! Parsing does no I/O: it turns `argv` into [`Args`]; reading settings happens later.

use std::ffi::OsString;
use std::path::PathBuf;

use crate::error::Error;

/// What a flag's value completes to (for the completion scripts).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Complete {
    Nothing,
    Agent,
    File,
    Remote,
}

/// One row of the flag table.
#[derive(Debug)]
pub struct Flag {
    pub long: &'static str,
    pub short: Option<char>,
    /// The value's name (`<name>`), for flags that take one.
    pub value: Option<&'static str>,
    /// The value may be left out (`--push [<remote>]`); it is then the next positional word.
    pub optional: bool,
    pub complete: Complete,
    /// One line for `-h`.
    pub help: &'static str,
    /// Paragraph for `--help` and the man page (plain text).
    pub long_help: &'static str,
}

/// Every flag git-attach accepts, in the order help shows them.
pub const FLAGS: &[Flag] = &[
    Flag {
        long: "agent",
        short: Some('a'),
        value: Some("name"),
        optional: false,
        complete: Complete::Agent,
        help: "the agent that made the session (default: claude-code)",
        long_help: "The agent that made the session: claude-code (the default, or git config attach.agent), gemini, codex, cursor, copilot-cli, opencode, factoryai-droid, pi, or an external agent <name> served by an entire-agent-<name> executable on PATH. When the transcript is not found for that agent, every other agent is tried in name order and \"Auto-detected agent: <name>\" is printed.",
    },
    Flag {
        long: "transcript",
        short: Some('t'),
        value: Some("path"),
        optional: false,
        complete: Complete::File,
        help: "attach this transcript file instead of looking the session up",
        long_help: "Attach this transcript file instead of looking the session up. The session ID is the file's stem unless given; the agent is detected from the content unless --agent is given.",
    },
    Flag {
        long: "force",
        short: Some('f'),
        value: None,
        optional: false,
        complete: Complete::Nothing,
        help: "amend HEAD without asking",
        long_help: "Amend HEAD with the Entire-Checkpoint trailer without asking.",
    },
    Flag {
        long: "no-amend",
        short: None,
        value: None,
        optional: false,
        complete: Complete::Nothing,
        help: "never amend; print the trailer line to paste",
        long_help: "Never amend HEAD; print the Entire-Checkpoint trailer line to paste into a commit message instead.",
    },
    Flag {
        long: "dry-run",
        short: Some('n'),
        value: None,
        optional: false,
        complete: Complete::Nothing,
        help: "report what would be written, write nothing",
        long_help: "Do everything but write: report the checkpoint ID, slot, files and refs that would be written. No object, ref, state file or commit is changed.",
    },
    Flag {
        long: "v2",
        short: None,
        value: None,
        optional: false,
        complete: Complete::Nothing,
        help: "mirror into the checkpoints v2 refs for this run",
        long_help: "Run the checkpoints v2 mirror stage for this run, over every setting.",
    },
    Flag {
        long: "no-v2",
        short: None,
        value: None,
        optional: false,
        complete: Complete::Nothing,
        help: "do not mirror into the checkpoints v2 refs for this run",
        long_help: "Do not run the checkpoints v2 mirror stage for this run, over every setting.",
    },
    Flag {
        long: "remote",
        short: None,
        value: Some("name"),
        optional: false,
        complete: Complete::Remote,
        help: "remote for missing checkpoints (default: attach.remote, else origin)",
        long_help: "The remote whose entire/checkpoints/v1 seeds a missing local branch, and is fetched (then fast-forwarded or union-merged) when HEAD names a checkpoint that the local branch lacks (default: git config attach.remote, else origin).",
    },
    Flag {
        long: "list",
        short: Some('l'),
        value: None,
        optional: false,
        complete: Complete::Nothing,
        help: "list this repository's sessions, newest first",
        long_help: "List the sessions of every agent (or of --agent) that belong to this repository, newest first: time, agent, session ID and first prompt, one line each. With --json, one JSON object per line.",
    },
    Flag {
        long: "backfill",
        short: None,
        value: None,
        optional: false,
        complete: Complete::Nothing,
        help: "mirror every v1 checkpoint that v2 lacks into the v2 refs",
        long_help: "Mirror into the checkpoints v2 refs every v1 checkpoint whose sessions v2 lacks or holds only partly (repairs a v1/v2 divergence), in one commit per v2 ref. Idempotent: a second run writes nothing. With --dry-run, list what would be mirrored.",
    },
    Flag {
        long: "push",
        short: None,
        value: Some("remote"),
        optional: true,
        complete: Complete::Remote,
        help: "push the checkpoint refs to a remote (default: attach.remote, else origin)",
        long_help: "Push entire/checkpoints/v1 and, when checkpoints v2 is enabled, the v2 refs to the remote named by the following argument (default: git config attach.remote, else origin). A rejected push is answered by a fetch, a union merge and one more push.",
    },
    Flag {
        long: "json",
        short: None,
        value: None,
        optional: false,
        complete: Complete::Nothing,
        help: "machine-readable output for attach and --list",
        long_help: "Print machine-readable output: for an attach, one JSON object (checkpoint_id, session_id, agent, slot, created, refs, amended_commit); for --list, one JSON object per session and line.",
    },
    Flag {
        long: "show-settings",
        short: None,
        value: None,
        optional: false,
        complete: Complete::Nothing,
        help: "print the effective settings and where each came from",
        long_help: "Print the effective settings, each with the file or git-config scope it came from, and exit.",
    },
    Flag {
        long: "verbose",
        short: Some('v'),
        value: None,
        optional: false,
        complete: Complete::Nothing,
        help: "log more (repeat for more)",
        long_help: "Log more on standard error: -v for info, -vv for debug, -vvv for trace. GIT_ATTACH_LOG overrides.",
    },
    Flag {
        long: "quiet",
        short: Some('q'),
        value: None,
        optional: false,
        complete: Complete::Nothing,
        help: "log only errors",
        long_help: "Log only errors; warnings are not printed.",
    },
    Flag {
        long: "help",
        short: Some('h'),
        value: None,
        optional: false,
        complete: Complete::Nothing,
        help: "print help (--help for more)",
        long_help: "Print a short help with -h, this longer help with --help.",
    },
    Flag {
        long: "version",
        short: Some('V'),
        value: None,
        optional: false,
        complete: Complete::Nothing,
        help: "print the version",
        long_help: "Print the version and exit.",
    },
];

/// What the user typed, before any I/O.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Args {
    pub session_id: Option<String>,
    pub agent: Option<String>,
    pub transcript: Option<PathBuf>,
    pub force: bool,
    pub no_amend: bool,
    pub dry_run: bool,
    /// `--v2` (Some(true)) or `--no-v2` (Some(false)); the last one wins.
    pub v2: Option<bool>,
    pub remote: Option<String>,
    pub show_settings: bool,
    pub list: bool,
    pub backfill: bool,
    /// `--push`: the remote, if one followed it.
    pub push: Option<Option<String>>,
    pub json: bool,
    /// Net verbosity: +1 per `-v`, -1 per `-q`.
    pub verbosity: i32,
}

/// The outcome of parsing: help and version are values, not exits.
#[derive(Debug, PartialEq, Eq)]
pub enum Parsed {
    ShortHelp,
    LongHelp,
    Version,
    Run(Args),
}

fn find_long(name: &str) -> Option<&'static Flag> {
    FLAGS.iter().find(|f| f.long == name)
}

fn find_short(c: char) -> Option<&'static Flag> {
    FLAGS.iter().find(|f| f.short == Some(c))
}

/// Parses the arguments after the program name.
pub fn parse<I>(args: I) -> Result<Parsed, Error>
where
    I: IntoIterator,
    I::Item: Into<OsString>,
{
    use lexopt::Arg;
    let mut parser = lexopt::Parser::from_args(args);
    let mut out = Args::default();
    let mut help = None;
    let mut version = false;
    loop {
        let arg = parser.next().map_err(usage)?;
        let (flag, short) = match arg {
            None => break,
            Some(Arg::Short(c)) => (find_short(c).ok_or_else(|| unknown(format!("-{c}")))?, true),
            Some(Arg::Long(name)) => (
                find_long(name).ok_or_else(|| unknown(format!("--{name}")))?,
                false,
            ),
            Some(Arg::Value(v)) => {
                let v = v
                    .into_string()
                    .map_err(|v| Error::Usage(format!("session ID is not valid UTF-8: {v:?}")))?;
                // `--push [<remote>]`: a positional after --push names the remote.
                if let Some(None) = out.push {
                    out.push = Some(Some(v));
                    continue;
                }
                if out.session_id.is_some() {
                    return Err(Error::Usage(format!("unexpected argument '{v}'")));
                }
                out.session_id = Some(v);
                continue;
            }
        };
        let value = match flag.value {
            // `--push=origin`; a separate word is taken as the positional below.
            Some(_) if flag.optional => parser.optional_value(),
            Some(_) => Some(parser.value().map_err(|_| {
                Error::Usage(format!(
                    "--{} needs a value <{}>",
                    flag.long,
                    flag.value.unwrap_or("value")
                ))
            })?),
            None => None,
        };
        let text = |v: Option<OsString>| -> Result<String, Error> {
            v.unwrap_or_default().into_string().map_err(|v| {
                Error::Usage(format!("--{} value is not valid UTF-8: {v:?}", flag.long))
            })
        };
        match flag.long {
            "agent" => out.agent = Some(text(value)?),
            "transcript" => out.transcript = value.map(PathBuf::from),
            "force" => out.force = true,
            "no-amend" => out.no_amend = true,
            "dry-run" => out.dry_run = true,
            "v2" => out.v2 = Some(true),
            "no-v2" => out.v2 = Some(false),
            "remote" => out.remote = Some(text(value)?),
            "show-settings" => out.show_settings = true,
            "list" => out.list = true,
            "backfill" => out.backfill = true,
            "push" => out.push = Some(value.map(|v| text(Some(v))).transpose()?),
            "json" => out.json = true,
            "verbose" => out.verbosity += 1,
            "quiet" => out.verbosity -= 1,
            "help" => {
                // `-h` is the short help, `--help` the long one; the first one asked wins.
                if help.is_none() {
                    help = Some(if short {
                        Parsed::ShortHelp
                    } else {
                        Parsed::LongHelp
                    });
                }
            }
            "version" => version = true,
            other => return Err(Error::Usage(format!("unhandled flag --{other}"))),
        }
    }
    if let Some(h) = help {
        return Ok(h);
    }
    if version {
        return Ok(Parsed::Version);
    }
    Ok(Parsed::Run(out))
}

fn usage(e: lexopt::Error) -> Error {
    Error::Usage(e.to_string())
}

fn unknown(spelling: String) -> Error {
    Error::Usage(format!("unknown option '{spelling}'"))
}

/// Version line.
pub fn version_text() -> String {
    format!("git-attach {}\n", env!("CARGO_PKG_VERSION"))
}

fn flag_spelling(f: &Flag) -> String {
    let mut s = match f.short {
        Some(c) => format!("-{c}, --{}", f.long),
        None => format!("    --{}", f.long),
    };
    match (f.value, f.optional) {
        (Some(v), true) => s.push_str(&format!(" [<{v}>]")),
        (Some(v), false) => s.push_str(&format!(" <{v}>")),
        (None, _) => {}
    }
    s
}

const USAGE: &str = "usage: git attach [<session-id>] [<options>]\n   or: git attach --list [--agent <name>] [--json]\n   or: git attach --backfill [--dry-run]\n   or: git attach --push [<remote>]";

/// `-h`: one line per flag.
pub fn short_help() -> String {
    let mut out =
        format!("{USAGE}\n\nAttach an AI agent session to HEAD as an Entire checkpoint.\n\n");
    let width = FLAGS
        .iter()
        .map(|f| flag_spelling(f).len())
        .max()
        .unwrap_or(0);
    for f in FLAGS {
        out.push_str(&format!("    {:width$}  {}\n", flag_spelling(f), f.help));
    }
    out
}

/// `--help`: the long text.
pub fn long_help() -> String {
    let mut out = format!(
        "{USAGE}\n\n\
         Stores the transcript of an AI coding agent's session in this repository, on the branch\n\
         entire/checkpoints/v1 (and the checkpoints v2 refs when enabled), linked to HEAD by an\n\
         Entire-Checkpoint: trailer, in the format of the Entire CLI.\n\n\
         ARGUMENTS:\n    <session-id>\n        The agent's session ID.\n\nOPTIONS:\n"
    );
    for f in FLAGS {
        out.push_str(&format!("    {}\n", flag_spelling(f).trim_start()));
        for line in wrap(f.long_help, 88) {
            out.push_str(&format!("        {line}\n"));
        }
        out.push('\n');
    }
    out.push_str("See 'man git-attach' for settings, files, examples and exit status.\n");
    out
}

fn wrap(text: &str, width: usize) -> Vec<String> {
    let mut lines = Vec::new();
    let mut line = String::new();
    for word in text.split_whitespace() {
        if !line.is_empty() && line.len() + 1 + word.len() > width {
            lines.push(std::mem::take(&mut line));
        }
        if !line.is_empty() {
            line.push(' ');
        }
        line.push_str(word);
    }
    if !line.is_empty() {
        lines.push(line);
    }
    lines
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(args: &[&str]) -> Args {
        match parse(args.iter().copied()) {
            Ok(Parsed::Run(a)) => a,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn parses_the_attach_flags() {
        let a = run(&[
            "abc",
            "-a",
            "codex",
            "--force",
            "--no-amend",
            "-n",
            "-vv",
            "--remote=up",
        ]);
        assert_eq!(a.session_id.as_deref(), Some("abc"));
        assert_eq!(a.agent.as_deref(), Some("codex"));
        assert!(a.force && a.no_amend && a.dry_run);
        assert_eq!(a.verbosity, 2);
        assert_eq!(a.remote.as_deref(), Some("up"));
        let a = run(&["--push", "upstream"]);
        assert_eq!(a.push, Some(Some("upstream".to_string())));
        assert_eq!(a.session_id, None);
        let a = run(&["--push"]);
        assert_eq!(a.push, Some(None));
        let a = run(&["--push=up"]);
        assert_eq!(a.push, Some(Some("up".to_string())));
        let a = run(&["-t", "x.jsonl", "--v2", "--no-v2", "-q"]);
        assert_eq!(a.transcript, Some(PathBuf::from("x.jsonl")));
        assert_eq!(a.v2, Some(false));
        assert_eq!(a.verbosity, -1);
    }

    #[test]
    fn help_and_version_are_values() {
        assert_eq!(parse(["--version"]).unwrap(), Parsed::Version);
        assert_eq!(parse(["x", "--help"]).unwrap(), Parsed::LongHelp);
        assert_eq!(parse(["-h", "--help"]).unwrap(), Parsed::ShortHelp);
    }

    #[test]
    fn bad_usage_is_exit_2() {
        for args in [&["--nope"][..], &["-a"], &["a", "b"], &["-Z"]] {
            let e = parse(args.iter().copied()).unwrap_err();
            assert_eq!(e.exit_code(), 2, "{args:?}");
        }
    }

    #[test]
    fn every_flag_appears_in_both_helps() {
        let (short, long) = (short_help(), long_help());
        for f in FLAGS {
            assert!(short.contains(&format!("--{}", f.long)));
            assert!(long.contains(&format!("--{}", f.long)));
        }
    }
}
