//! `git-attach`: parse, set up logging, run, and report. The only place that prints an error and
//! picks the exit status.

use std::io::Write;
use std::process::ExitCode;

use git_attach::cli::{self, Parsed};
use git_attach::{commands, messages};

fn main() -> ExitCode {
    quiet_worker_panics();
    let parsed = match cli::parse(std::env::args_os().skip(1)) {
        Ok(p) => p,
        Err(e) => return report(&e),
    };
    let mut stdout = std::io::stdout().lock();
    let result = match parsed {
        Parsed::ShortHelp => stdout.write_all(cli::short_help().as_bytes()),
        Parsed::LongHelp => stdout.write_all(cli::long_help().as_bytes()),
        Parsed::Version => stdout.write_all(cli::version_text().as_bytes()),
        Parsed::Run(args) => {
            init_logging(args.verbosity);
            return match commands::run(&args, &mut stdout) {
                Ok(()) => ExitCode::SUCCESS,
                Err(git_attach::error::Error::StdoutClosed) => ExitCode::SUCCESS,
                Err(e) => report(&e),
            };
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        // A closed stdout (`git attach -h | head -1`) is not an error.
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: cannot write to standard output: {e}");
            ExitCode::FAILURE
        }
    }
}

/// A panic on the v2 compaction thread is a v2 failure, reported by the v2 stage as a warning
/// line; keep Rust's panic message for it off the terminal. Every other panic is reported as
/// usual (it is a bug).
fn quiet_worker_panics() {
    let default = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        if std::thread::current().name() == Some(git_attach::v2::PRECOMPACT_THREAD) {
            log::debug!("v2 compaction panicked: {info}");
        } else {
            default(info);
        }
    }));
}

fn report(e: &git_attach::error::Error) -> ExitCode {
    let mut err = std::io::stderr().lock();
    let _ = writeln!(err, "error: {e}");
    if let Some(hint) = messages::hint(e) {
        let _ = writeln!(err, "hint: {hint}");
    }
    ExitCode::from(e.exit_code())
}

/// `GIT_ATTACH_LOG` (an env_logger filter) wins; otherwise warn, raised by `-v` and lowered by
/// `-q`. Messages look like git's: `warning: ...`, no timestamps.
fn init_logging(verbosity: i32) {
    let default = match verbosity {
        i32::MIN..=-1 => "error",
        0 => "warn",
        1 => "info",
        2 => "debug",
        _ => "trace",
    };
    let mut builder = env_logger::Builder::new();
    builder.parse_filters(default);
    if let Ok(filter) = std::env::var("GIT_ATTACH_LOG") {
        builder.parse_filters(&filter);
    }
    builder.format(|buf, record| {
        let level = match record.level() {
            log::Level::Error => "error",
            log::Level::Warn => "warning",
            log::Level::Info => "info",
            log::Level::Debug => "debug",
            log::Level::Trace => "trace",
        };
        writeln!(buf, "{level}: {}", record.args())
    });
    builder.target(env_logger::Target::Stderr);
    let _ = builder.try_init();
}
