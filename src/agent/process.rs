//! Running a helper program (an `entire-agent-*` plugin, `opencode export`) with a deadline and
//! output caps, using only `std::process` and threads. The pipes are drained by reader threads so
//! a chatty child never blocks on a full pipe; a child that outlives its deadline is killed, and
//! the readers are given only a short grace period afterwards, because a grandchild that
//! inherited the pipes may keep them open long after the child is gone.

use std::io::{Read, Write};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

/// How long the readers may take to see end-of-file after the child has exited or was killed.
const READER_GRACE: Duration = Duration::from_millis(500);
const POLL: Duration = Duration::from_millis(10);

pub(crate) struct Output {
    pub status: ExitStatus,
    pub stdout: Vec<u8>,
    pub stderr: Vec<u8>,
}

#[derive(Debug)]
pub(crate) enum RunError {
    Spawn(String),
    Timeout(Duration),
    StdoutTooLarge(usize),
    Wait(String),
}

impl std::fmt::Display for RunError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            RunError::Spawn(e) => write!(f, "cannot run: {e}"),
            RunError::Timeout(d) => {
                write!(f, "timed out after {} s and was killed", d.as_secs_f64())
            }
            RunError::StdoutTooLarge(cap) => {
                write!(f, "standard output exceeds the limit of {cap} bytes")
            }
            RunError::Wait(e) => write!(f, "cannot wait for the process: {e}"),
        }
    }
}

/// One captured stream: the bytes kept (up to the cap), whether more arrived, and whether the
/// reader reached end-of-file.
#[derive(Default)]
struct Captured {
    bytes: Vec<u8>,
    overflow: bool,
}

fn spawn_reader<R: Read + Send + 'static>(
    mut src: R,
    cap: Option<usize>,
    done: mpsc::Sender<()>,
) -> Arc<Mutex<Captured>> {
    let buf = Arc::new(Mutex::new(Captured::default()));
    let shared = Arc::clone(&buf);
    thread::spawn(move || {
        let mut chunk = [0u8; 64 * 1024];
        loop {
            match src.read(&mut chunk) {
                Ok(0) | Err(_) => break,
                Ok(k) => {
                    let Ok(mut c) = shared.lock() else { break };
                    // Past the cap keep draining (so the child is not blocked) but drop the data.
                    let room = cap.map_or(usize::MAX, |cap| cap.saturating_sub(c.bytes.len()));
                    if k > room {
                        c.overflow = true;
                    }
                    let take = k.min(room);
                    c.bytes.extend_from_slice(&chunk[..take]);
                }
            }
        }
        let _ = done.send(());
    });
    buf
}

fn take(buf: &Arc<Mutex<Captured>>) -> Captured {
    match buf.lock() {
        Ok(mut c) => std::mem::take(&mut *c),
        Err(_) => Captured::default(),
    }
}

/// Runs `cmd` (its stdio is set here) feeding `stdin`, kills it after `timeout`, and caps
/// standard output at `stdout_cap` (exceeding it is an error) and standard error at
/// `stderr_cap` (silently truncated).
pub(crate) fn run(
    mut cmd: Command,
    stdin: Option<Vec<u8>>,
    timeout: Duration,
    stdout_cap: Option<usize>,
    stderr_cap: usize,
) -> Result<Output, RunError> {
    cmd.stdin(if stdin.is_some() {
        Stdio::piped()
    } else {
        Stdio::null()
    })
    .stdout(Stdio::piped())
    .stderr(Stdio::piped());
    let mut child = spawn(&mut cmd)?;
    if let (Some(payload), Some(mut pipe)) = (stdin, child.stdin.take()) {
        // A writer thread: a child that never reads must not block us (its deadline still runs).
        thread::spawn(move || {
            let _ = pipe.write_all(&payload);
        });
    }
    let (tx, rx) = mpsc::channel();
    let out = child
        .stdout
        .take()
        .map(|p| spawn_reader(p, stdout_cap, tx.clone()));
    let err = child
        .stderr
        .take()
        .map(|p| spawn_reader(p, Some(stderr_cap), tx.clone()));
    drop(tx);
    let readers = usize::from(out.is_some()) + usize::from(err.is_some());

    let status = wait_deadline(&mut child, timeout)?;
    let grace = Instant::now() + READER_GRACE;
    for _ in 0..readers {
        let left = grace.saturating_duration_since(Instant::now());
        if rx.recv_timeout(left).is_err() {
            break;
        }
    }
    let stdout = out.as_ref().map(take).unwrap_or_default();
    let stderr = err.as_ref().map(take).unwrap_or_default();
    match status {
        Some(status) => {
            if stdout.overflow {
                if let Some(cap) = stdout_cap {
                    return Err(RunError::StdoutTooLarge(cap));
                }
            }
            Ok(Output {
                status,
                stdout: stdout.bytes,
                stderr: stderr.bytes,
            })
        }
        None => Err(RunError::Timeout(timeout)),
    }
}

/// `ETXTBSY`: the executable is still open for writing somewhere — typically a just-written
/// script whose descriptor a concurrently forked child inherited for the instant before its own
/// `exec`. The condition clears by itself, so it is retried briefly.
const TEXT_FILE_BUSY: i32 = 26;

fn spawn(cmd: &mut Command) -> Result<Child, RunError> {
    let mut attempt = 0;
    loop {
        match cmd.spawn() {
            Ok(child) => return Ok(child),
            Err(e) if e.raw_os_error() == Some(TEXT_FILE_BUSY) && attempt < 10 => {
                attempt += 1;
                thread::sleep(Duration::from_millis(20 * attempt));
            }
            Err(e) => return Err(RunError::Spawn(e.to_string())),
        }
    }
}

/// The exit status, or `None` after killing a child that did not finish in time.
fn wait_deadline(child: &mut Child, timeout: Duration) -> Result<Option<ExitStatus>, RunError> {
    let deadline = Instant::now() + timeout;
    loop {
        match child.try_wait() {
            Ok(Some(status)) => return Ok(Some(status)),
            Ok(None) => {}
            Err(e) => return Err(RunError::Wait(e.to_string())),
        }
        if Instant::now() >= deadline {
            let _ = child.kill();
            let _ = child.wait();
            return Ok(None);
        }
        thread::sleep(POLL);
    }
}

/// The first non-empty line of a program's standard error, trimmed.
pub(crate) fn first_line(stderr: &[u8]) -> String {
    String::from_utf8_lossy(stderr)
        .lines()
        .map(str::trim)
        .find(|l| !l.is_empty())
        .unwrap_or("")
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sh(script: &str) -> Command {
        let mut c = Command::new("/bin/sh");
        c.arg("-c").arg(script);
        c
    }

    #[test]
    fn captures_output_and_status() {
        let o = run(
            sh("cat; echo err >&2; exit 3"),
            Some(b"in".to_vec()),
            Duration::from_secs(5),
            None,
            100,
        )
        .unwrap();
        assert_eq!(o.stdout, b"in");
        assert_eq!(first_line(&o.stderr), "err");
        assert_eq!(o.status.code(), Some(3));
    }

    #[test]
    fn a_hanging_child_with_a_sleeping_grandchild_is_bounded() {
        let start = Instant::now();
        let r = run(
            sh("sleep 30 & sleep 30"),
            None,
            Duration::from_millis(300),
            None,
            100,
        );
        assert!(matches!(r, Err(RunError::Timeout(_))));
        assert!(start.elapsed() < Duration::from_secs(5));
    }

    #[test]
    fn stdout_over_the_cap_is_an_error() {
        let r = run(
            sh("head -c 5000 /dev/zero"),
            None,
            Duration::from_secs(5),
            Some(1000),
            100,
        );
        assert!(matches!(r, Err(RunError::StdoutTooLarge(1000))));
    }
}
