//! Secret redaction (`redaction.md`): everything git-attach stores passes through here first.
//!
//! This module owns the public interface ([`Redactor`], [`RuleSources`], the errors) and Entire's
//! `String` (§2, §3): the entropy detector and the rule engine feed byte regions, which are
//! merged and replaced by `REDACTED`. Submodules own the pieces:
//!
//! * `entropy` — the entropy detector (§2.1) and Shannon entropy;
//! * `pattern` — compiling gitleaks (RE2) patterns with the `regex` crate (§7.4);
//! * `rules` — rule evaluation with the keyword prefilter and allowlists (§7.3, §7.10);
//! * `load` — rule files in the gitleaks TOML format, built-in set included (§7.2, §7.5, §7.9);
//! * `json` — the JSON-aware transcript walk and replacement with verification (§4, §7.8).
//!
//! It does not decide where rule files are (the caller resolves git config and the worktree).

mod entropy;
mod json;
mod load;
mod pattern;
mod rules;

use std::borrow::Cow;
use std::fmt;
use std::path::PathBuf;

/// The replacement text of every finding (Entire's `RedactedPlaceholder`).
pub const REDACTED: &str = "REDACTED";

/// Where user rule files come from (`redaction.md` §7.5). Both optional.
#[derive(Clone, Debug, Default)]
pub struct RuleSources {
    /// `<worktree root>/.gitleaks.toml` when it exists as a regular file.
    pub repo_file: Option<PathBuf>,
    /// The file named by git config `attach.redactionRules`, already resolved to an absolute path.
    pub configured: Option<PathBuf>,
}

/// A rule source could not be loaded: the run must stop before anything is written.
#[derive(Debug)]
pub struct RulesError {
    pub file: String,
    pub reason: String,
}

impl fmt::Display for RulesError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "redaction rules: {}: {}", self.file, self.reason)
    }
}

impl std::error::Error for RulesError {}

/// Redaction itself failed (fail closed).
#[derive(Debug)]
pub struct RedactError(pub String);

impl fmt::Display for RedactError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "redaction failed: {}", self.0)
    }
}

impl std::error::Error for RedactError {}

/// The loaded rule set plus the entropy detector.
pub struct Redactor {
    rules: rules::RuleSet,
    /// Strings shorter than this cannot change (no entropy candidate, no keyword).
    min_len: usize,
}

impl fmt::Debug for Redactor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Redactor")
            .field("rules", &self.rules.active_len())
            .finish()
    }
}

impl Redactor {
    /// Built-in rules plus the user sources, all validated before returning (fail closed).
    pub fn load(sources: &RuleSources) -> Result<Redactor, RulesError> {
        let mut loader = load::Loader::default();
        loader.load_builtin()?;
        if let Some(repo) = &sources.repo_file {
            loader.load_path(repo)?;
        }
        if let Some(conf) = &sources.configured {
            let same = sources
                .repo_file
                .as_ref()
                .is_some_and(|repo| same_file(repo, conf));
            if same {
                log::debug!(
                    "redaction rules: {}: same file as the repository rules; loaded once",
                    conf.display()
                );
            } else {
                loader.load_path(conf)?;
            }
        }
        Ok(Redactor::from_rules(loader.finish()))
    }

    /// The built-in rules only.
    pub fn builtin() -> Result<Redactor, RulesError> {
        Redactor::load(&RuleSources::default())
    }

    /// The entropy detector alone, no rules (the §6 test vectors).
    pub fn entropy_only() -> Redactor {
        Redactor::from_rules(rules::RuleSet::empty())
    }

    fn from_rules(rules: rules::RuleSet) -> Redactor {
        let min_len = rules.min_len().min(entropy::MIN_CANDIDATE);
        Redactor { rules, min_len }
    }

    /// The rule findings in `s` as (rule id, secret) pairs, in rule order (diagnostics and
    /// tests; the entropy detector is not included).
    pub fn rule_findings(&self, s: &str) -> Vec<(String, String)> {
        let mut out: Vec<(String, String)> = Vec::new();
        self.rules.for_each_finding(s.as_bytes(), |i, secret| {
            let pair = (
                self.rules.id(i).to_string(),
                String::from_utf8_lossy(secret).into_owned(),
            );
            if !out.contains(&pair) {
                out.push(pair);
            }
        });
        out
    }

    /// Number of rules that can produce findings.
    pub fn rule_count(&self) -> usize {
        self.rules.active_len()
    }

    /// Plain-text redaction (`String`, §2, §5): prompts, non-JSON lines.
    pub fn string(&self, s: &str) -> String {
        match self.scan_bytes(s.as_bytes()) {
            None => s.to_string(),
            // Regions are widened to char boundaries, so this is UTF-8.
            Some(out) => match String::from_utf8(out) {
                Ok(r) => r,
                Err(e) => String::from_utf8_lossy(e.as_bytes()).into_owned(),
            },
        }
    }

    /// [`Redactor::string`] for bytes that may not be UTF-8; borrowed when nothing changed.
    pub fn bytes<'b>(&self, s: &'b [u8]) -> Cow<'b, [u8]> {
        match self.scan_bytes(s) {
            None => Cow::Borrowed(s),
            Some(out) => Cow::Owned(out),
        }
    }

    /// JSON-aware redaction of a whole transcript (`JSONLBytes`, §4 and §7.8).
    pub fn transcript(&self, content: &[u8]) -> Result<Vec<u8>, RedactError> {
        self.transcript_cow(content).map(Cow::into_owned)
    }

    /// [`Redactor::transcript`], borrowing the input when nothing was redacted.
    ///
    /// A large transcript in line mode is cut at a line boundary near its middle and its two
    /// halves are redacted on two threads: lines are redacted independently of each other, so
    /// the result is the same bytes as a single pass, whatever the scheduling.
    pub fn transcript_cow<'b>(&self, content: &'b [u8]) -> Result<Cow<'b, [u8]>, RedactError> {
        self.transcript_split_at(content, PARALLEL_MIN)
    }

    fn transcript_split_at<'b>(
        &self,
        content: &'b [u8],
        parallel_min: usize,
    ) -> Result<Cow<'b, [u8]>, RedactError> {
        if content.len() >= parallel_min && json::is_line_mode(content) {
            if let Some(cut) = content[content.len() / 2..]
                .iter()
                .position(|&b| b == b'\n')
                .map(|p| content.len() / 2 + p + 1)
                .filter(|&c| c < content.len())
            {
                let (first, second) = content.split_at(cut);
                let (a, b) = std::thread::scope(|scope| {
                    let other = scope.spawn(|| json::Walker::new(self).lines(second));
                    let a = json::Walker::new(self).lines(first);
                    (a, other.join())
                });
                let b = b.map_err(|_| RedactError("a redaction thread failed".into()))?;
                return Ok(match (a?, b?) {
                    (None, None) => Cow::Borrowed(content),
                    (a, b) => {
                        let mut out = a.unwrap_or_else(|| first.to_vec());
                        out.extend_from_slice(b.as_deref().unwrap_or(second));
                        Cow::Owned(out)
                    }
                });
            }
        }
        let mut walker = json::Walker::new(self);
        Ok(match walker.transcript(content)? {
            None => Cow::Borrowed(content),
            Some(out) => Cow::Owned(out),
        })
    }

    /// `String` on bytes: `None` when nothing was found or the replacement changed nothing.
    fn scan_bytes(&self, s: &[u8]) -> Option<Vec<u8>> {
        if s.len() < self.min_len {
            return None;
        }
        let mut regions: Vec<(usize, usize)> = Vec::new();
        entropy::find(s, &mut regions);
        self.rules.find(s, &mut regions);
        if regions.is_empty() {
            return None;
        }
        let out = replace_regions(s, regions);
        (out != s).then_some(out)
    }
}

/// Transcripts at least this large are redacted on two threads.
const PARALLEL_MIN: usize = 8 << 20;

impl json::Scanner for Redactor {
    fn scan(&self, s: &[u8]) -> Option<Vec<u8>> {
        self.scan_bytes(s)
    }

    fn min_len(&self) -> usize {
        self.min_len
    }
}

/// §3: sort, merge overlapping or touching regions, replace each merged region by `REDACTED`.
///
/// Regions are first widened to UTF-8 character boundaries: byte-oriented rules may end inside
/// a multi-byte character, and cutting it would corrupt the text (widening only redacts more).
fn replace_regions(s: &[u8], mut regions: Vec<(usize, usize)>) -> Vec<u8> {
    for r in regions.iter_mut() {
        while r.0 > 0 && r.0 < s.len() && is_continuation(s[r.0]) {
            r.0 -= 1;
        }
        while r.1 < s.len() && is_continuation(s[r.1]) {
            r.1 += 1;
        }
    }
    regions.sort_unstable_by(|a, b| a.0.cmp(&b.0).then(b.1.cmp(&a.1)));
    let mut out = Vec::with_capacity(s.len());
    let mut last = 0;
    let mut cur: Option<(usize, usize)> = None;
    for (a, b) in regions {
        match &mut cur {
            Some(c) if a <= c.1 => c.1 = c.1.max(b),
            _ => {
                if let Some((ca, cb)) = cur {
                    out.extend_from_slice(&s[last..ca]);
                    out.extend_from_slice(REDACTED.as_bytes());
                    last = cb;
                }
                cur = Some((a, b));
            }
        }
    }
    if let Some((ca, cb)) = cur {
        out.extend_from_slice(&s[last..ca]);
        out.extend_from_slice(REDACTED.as_bytes());
        last = cb;
    }
    out.extend_from_slice(&s[last..]);
    out
}

fn is_continuation(b: u8) -> bool {
    b & 0xC0 == 0x80
}

/// Whether two paths name the same file (so it is loaded once).
fn same_file(a: &std::path::Path, b: &std::path::Path) -> bool {
    match (a.canonicalize(), b.canonicalize()) {
        (Ok(x), Ok(y)) => x == y,
        _ => a == b,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_large_transcript_redacted_on_two_threads_equals_one_pass() {
        let r = Redactor::builtin().unwrap();
        let secret = |i: usize| format!("ghp_{:0>36}", format!("Zq8Xw2Ly5Nv3Mt7Kr4Js6Hp9Gd{i}"));
        let mut t = String::new();
        let mut i = 0;
        while t.len() < 60_000 {
            t.push_str(&format!(
                "{{\"type\":\"user\",\"message\":{{\"content\":\"line {i} token {} and filler text to make the line longer\"}}}}\n",
                secret(i % 7)
            ));
            if i % 1000 == 0 {
                t.push_str("not json but a key=sk-ant-api03-xK9mZ2vL8nQ5rT1wY4bC7dF0gH3jE6pA\r\n");
            }
            i += 1;
        }
        let parallel = r
            .transcript_split_at(t.as_bytes(), 1000)
            .unwrap()
            .into_owned();
        let single = json::Walker::new(&r)
            .transcript(t.as_bytes())
            .unwrap()
            .unwrap();
        assert_eq!(parallel, single);
        assert!(!String::from_utf8_lossy(&parallel).contains("ghp_"));
        // Without a final newline, and with nothing to redact, the input comes back as is.
        let clean = "{\"a\":\"b\"}\n".repeat(1000);
        let clean = clean.trim_end();
        let out = r.transcript_split_at(clean.as_bytes(), 1000).unwrap();
        assert!(matches!(out, Cow::Borrowed(_)));
    }

    #[test]
    fn merging_collapses_overlapping_and_touching_regions() {
        assert_eq!(
            replace_regions(b"abcdefgh", vec![(1, 3), (3, 5)]),
            b"aREDACTEDfgh"
        );
        assert_eq!(
            replace_regions(b"abcdefgh", vec![(1, 6), (2, 3)]),
            b"aREDACTEDgh"
        );
        assert_eq!(
            replace_regions(b"abcdefgh", vec![(5, 6), (1, 2)]),
            b"aREDACTEDcdeREDACTEDgh"
        );
    }

    #[test]
    fn regions_widen_to_char_boundaries() {
        let s = "xé".as_bytes();
        assert_eq!(replace_regions(s, vec![(2, 3)]), b"xREDACTED");
    }

    #[test]
    fn builtin_rules_load() {
        let r = Redactor::builtin().unwrap_or_else(|e| panic!("{e}"));
        assert!(r.rule_count() >= 70);
    }

    /// The built-in rules are compiled on first use, so loading does not check them: this does.
    #[test]
    fn every_builtin_rule_compiles_with_a_valid_secret_group() {
        let r = Redactor::builtin().unwrap_or_else(|e| panic!("{e}"));
        for rule in &r.rules.rules {
            let Some(lazy) = &rule.regex else { continue };
            let re = lazy
                .get()
                .unwrap_or_else(|| panic!("rule {} does not compile", rule.id));
            assert!(
                rule.secret_group < re.captures_len(),
                "rule {}: secretGroup {} but {} groups",
                rule.id,
                rule.secret_group,
                re.captures_len() - 1
            );
        }
    }
}
