//! A progress line on stderr for work that takes more than a second (large transcripts, long
//! backfills), only when stderr is a terminal. A background thread redraws the line; the work
//! itself only updates what it says. The line is erased when the work ends, so nothing of it
//! remains in the user's scrollback or in captured output.

use std::io::{IsTerminal, Write};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// Wait this long before showing anything.
const DELAY: Duration = Duration::from_secs(1);
const TICK: Duration = Duration::from_millis(100);

pub struct Progress {
    text: Arc<Mutex<String>>,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl Progress {
    /// Starts a progress line with `text`; inert when stderr is not a terminal.
    pub fn start(text: impl Into<String>) -> Progress {
        let text = Arc::new(Mutex::new(text.into()));
        let stop = Arc::new(AtomicBool::new(false));
        let thread = std::io::stderr().is_terminal().then(|| {
            let (text, stop) = (Arc::clone(&text), Arc::clone(&stop));
            std::thread::spawn(move || draw(&text, &stop))
        });
        Progress { text, stop, thread }
    }

    /// Changes what the line says.
    pub fn set(&self, text: impl Into<String>) {
        if let Ok(mut t) = self.text.lock() {
            *t = text.into();
        }
    }

    /// Stops and erases the line (also done on drop).
    pub fn finish(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

impl Drop for Progress {
    fn drop(&mut self) {
        self.finish();
    }
}

fn draw(text: &Mutex<String>, stop: &AtomicBool) {
    let start = Instant::now();
    let mut shown = String::new();
    while !stop.load(Ordering::SeqCst) {
        std::thread::sleep(TICK);
        if start.elapsed() < DELAY {
            continue;
        }
        let current = text.lock().map(|t| t.clone()).unwrap_or_default();
        if current != shown {
            let mut err = std::io::stderr().lock();
            let _ = write!(err, "\r\x1b[K{current}");
            let _ = err.flush();
            shown = current;
        }
    }
    if !shown.is_empty() {
        let mut err = std::io::stderr().lock();
        let _ = write!(err, "\r\x1b[K");
        let _ = err.flush();
    }
}
