//! Redaction throughput on a generated ~100 MB Claude-style transcript (`redaction.md` §7.10).
//!
//! Not a test: run with `cargo bench --bench redact`. The transcript is the attach benchmark's
//! deterministic Claude transcript (`support/gen.rs`): user prompts, assistant text, tool_use
//! inputs and tool_result outputs with file contents, and a sprinkling of secrets. The table
//! reports the median of several runs of `Redactor::transcript`.

use std::time::{Duration, Instant};

use git_attach::redact::Redactor;

#[path = "support/gen.rs"]
mod gen;

const TARGET_BYTES: usize = 100 * 1024 * 1024;
const RUNS: usize = 5;

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn measure(name: &str, redactor: &Redactor, data: &[u8]) {
    let mut times = Vec::with_capacity(RUNS);
    let mut changed = 0;
    for _ in 0..RUNS {
        let start = Instant::now();
        let out = match redactor.transcript(data) {
            Ok(out) => out,
            Err(e) => {
                eprintln!("redaction failed: {e}");
                std::process::exit(1);
            }
        };
        times.push(start.elapsed());
        changed = out.windows(8).filter(|w| w == b"REDACTED").count();
        std::hint::black_box(out);
    }
    let med = median(times.clone());
    let mb = data.len() as f64 / 1e6;
    let best = times.iter().min().copied().unwrap_or(med);
    println!(
        "{name:<22} {mb:>8.1} {:>10.3} {:>10.1} {:>10.1} {changed:>10}",
        med.as_secs_f64(),
        mb / med.as_secs_f64(),
        mb / best.as_secs_f64()
    );
}

fn main() {
    let gen_start = Instant::now();
    let data = gen::transcript(1, TARGET_BYTES);
    let lines = data.iter().filter(|&&b| b == b'\n').count();
    println!(
        "generated {} lines, {:.1} MB in {:.1}s",
        lines,
        data.len() as f64 / 1e6,
        gen_start.elapsed().as_secs_f64()
    );
    let builtin = match Redactor::builtin() {
        Ok(r) => r,
        Err(e) => {
            eprintln!("{e}");
            std::process::exit(1);
        }
    };
    println!(
        "{:<22} {:>8} {:>10} {:>10} {:>10} {:>10}",
        "redactor", "MB", "median s", "MB/s", "best MB/s", "REDACTED"
    );
    measure("built-in rules", &builtin, &data);
    measure("entropy only", &Redactor::entropy_only(), &data);
}
