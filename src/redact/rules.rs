//! The loaded rule set and how it finds secrets in one string (`redaction.md` §7.3, §7.10).
//!
//! It owns rule evaluation: the keyword prefilter (one Aho-Corasick pass), matches, secret-group
//! selection, the entropy gate, allowlists and turning surviving secrets into byte regions. It
//! does not read rule files (`load`) or merge regions (`scan`).

use aho_corasick::{AhoCorasick, AhoCorasickBuilder, MatchKind};
use regex::bytes::Regex;

use super::entropy;

/// One detection rule, compiled.
pub(crate) struct Rule {
    pub id: String,
    pub regex: Option<super::pattern::LazyRegex>,
    /// False when the rule has a `path` that cannot match the empty path of a transcript, or no
    /// `regex` at all: such a rule never produces findings.
    pub runs: bool,
    pub secret_group: usize,
    pub entropy: f64,
    /// Lower-cased keywords; empty means the rule always runs.
    pub keywords: Vec<String>,
    /// Indices into [`RuleSet::allowlists`] of the rule's own allowlists.
    pub allowlists: Vec<usize>,
    /// Disabled through `extend.disabledRules`.
    pub disabled: bool,
}

/// What an allowlist's `regexes` are matched against.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Target {
    Secret,
    Match,
    Line,
}

pub(crate) struct Allowlist {
    pub regexes: Vec<Regex>,
    pub target: Target,
    /// Lower-cased stop words.
    pub stopwords: Vec<String>,
    /// `paths` or `commits` were listed: never satisfied for transcripts.
    pub has_paths: bool,
    pub has_commits: bool,
    /// Condition AND (otherwise OR).
    pub and: bool,
}

impl Allowlist {
    fn allows(
        &self,
        secret: &[u8],
        matched: &[u8],
        line: &dyn Fn() -> (usize, usize),
        s: &[u8],
    ) -> bool {
        let regex_hit = || {
            if self.regexes.is_empty() {
                return false;
            }
            let target: &[u8] = match self.target {
                Target::Secret => secret,
                Target::Match => matched,
                Target::Line => {
                    let (a, b) = line();
                    &s[a..b]
                }
            };
            self.regexes.iter().any(|r| r.is_match(target))
        };
        let stop_hit = || {
            if self.stopwords.is_empty() {
                return false;
            }
            let lower = lowercase(secret);
            self.stopwords.iter().any(|w| lower.contains(w.as_str()))
        };
        if self.and {
            !self.has_paths
                && !self.has_commits
                && (self.regexes.is_empty() || regex_hit())
                && (self.stopwords.is_empty() || stop_hit())
        } else {
            regex_hit() || stop_hit()
        }
    }
}

/// Unicode lower-casing of possibly invalid UTF-8, as Go's `strings.ToLower` (invalid bytes
/// become U+FFFD).
pub(crate) fn lowercase(s: &[u8]) -> String {
    if s.is_ascii() {
        // Infallible: ASCII is UTF-8.
        return String::from_utf8(s.to_ascii_lowercase()).unwrap_or_default();
    }
    let mut out = String::with_capacity(s.len());
    for chunk in s.utf8_chunks() {
        out.push_str(&chunk.valid().to_lowercase());
        for _ in chunk.invalid() {
            out.push('\u{FFFD}');
        }
    }
    out
}

/// The keyword prefilter: one automaton over every keyword of every running rule.
struct Prefilter {
    ac: Option<AhoCorasick>,
    /// Pattern id -> rules having that keyword.
    pattern_rules: Vec<Vec<usize>>,
    /// Running rules without keywords.
    always: Vec<usize>,
    /// Some keyword is not ASCII, so ASCII case folding of the raw text is not enough.
    non_ascii_keywords: bool,
    /// Shortest keyword: a shorter string cannot activate any keyword rule.
    min_keyword: usize,
}

/// All rules and allowlists from every source.
pub(crate) struct RuleSet {
    pub rules: Vec<Rule>,
    pub allowlists: Vec<Allowlist>,
    /// Global allowlists: index into `allowlists`, and the rules they are limited to (`None` =
    /// all rules).
    pub globals: Vec<(usize, Option<Vec<usize>>)>,
    /// Per rule: every applicable allowlist (own, targeted globals, untargeted globals).
    applicable: Vec<Vec<usize>>,
    prefilter: Prefilter,
}

impl RuleSet {
    pub(crate) fn empty() -> RuleSet {
        RuleSet::new(Vec::new(), Vec::new(), Vec::new())
    }

    pub(crate) fn new(
        rules: Vec<Rule>,
        allowlists: Vec<Allowlist>,
        globals: Vec<(usize, Option<Vec<usize>>)>,
    ) -> RuleSet {
        let mut set = RuleSet {
            rules,
            allowlists,
            globals,
            applicable: Vec::new(),
            prefilter: Prefilter {
                ac: None,
                pattern_rules: Vec::new(),
                always: Vec::new(),
                non_ascii_keywords: false,
                min_keyword: usize::MAX,
            },
        };
        set.finish();
        set
    }

    /// Recomputes the derived tables after rules or allowlists changed.
    pub(crate) fn finish(&mut self) {
        self.applicable = self
            .rules
            .iter()
            .enumerate()
            .map(|(i, r)| {
                let mut v = r.allowlists.clone();
                for (al, targets) in &self.globals {
                    match targets {
                        None => v.push(*al),
                        Some(t) if t.contains(&i) => v.push(*al),
                        Some(_) => {}
                    }
                }
                v
            })
            .collect();

        let mut keywords: Vec<String> = Vec::new();
        let mut pattern_rules: Vec<Vec<usize>> = Vec::new();
        let mut always = Vec::new();
        for (i, r) in self.rules.iter().enumerate() {
            if r.disabled || !r.runs || r.regex.is_none() {
                continue;
            }
            if r.keywords.is_empty() {
                always.push(i);
                continue;
            }
            for k in &r.keywords {
                match keywords.iter().position(|x| x == k) {
                    Some(p) => {
                        if !pattern_rules[p].contains(&i) {
                            pattern_rules[p].push(i);
                        }
                    }
                    None => {
                        keywords.push(k.clone());
                        pattern_rules.push(vec![i]);
                    }
                }
            }
        }
        let non_ascii_keywords = keywords.iter().any(|k| !k.is_ascii());
        let min_keyword = keywords.iter().map(String::len).min().unwrap_or(usize::MAX);
        // Empty keywords would match everywhere; treat such a rule as keyword-less instead.
        let ac = if keywords.is_empty() {
            None
        } else {
            AhoCorasickBuilder::new()
                .match_kind(MatchKind::Standard)
                .ascii_case_insensitive(true)
                .build(&keywords)
                .ok()
        };
        if ac.is_none() && !keywords.is_empty() {
            // Building cannot fail for a few hundred short keywords; should it ever, running
            // every rule is the safe fallback (more work, never less redaction).
            for (i, r) in self.rules.iter().enumerate() {
                if !r.disabled && r.runs && r.regex.is_some() && !r.keywords.is_empty() {
                    always.push(i);
                }
            }
        }
        self.prefilter = Prefilter {
            ac,
            pattern_rules,
            always,
            non_ascii_keywords,
            min_keyword,
        };
    }

    /// Strings shorter than this cannot activate any rule.
    pub(crate) fn min_len(&self) -> usize {
        if !self.prefilter.always.is_empty() {
            return 0;
        }
        if self.prefilter.ac.is_none() {
            return usize::MAX;
        }
        // A non-ASCII string can grow when lower-cased, so byte length is only a bound for the
        // ASCII keywords; non-ASCII keywords disable the shortcut.
        if self.prefilter.non_ascii_keywords {
            return 0;
        }
        self.prefilter.min_keyword
    }

    /// Number of rules that can produce findings.
    pub(crate) fn active_len(&self) -> usize {
        self.rules
            .iter()
            .filter(|r| !r.disabled && r.runs && r.regex.is_some())
            .count()
    }

    /// Marks the rules whose keywords occur in (the lower-cased) `s`.
    fn candidates(&self, s: &[u8]) -> Vec<usize> {
        let pf = &self.prefilter;
        let mut out = pf.always.clone();
        let Some(ac) = &pf.ac else {
            return out;
        };
        if s.len() < pf.min_keyword && !s.iter().any(|&b| b >= 0x80) {
            return out;
        }
        let mut seen = vec![false; self.rules.len()];
        let mut mark = |pid: usize| {
            for &r in &self.prefilter.pattern_rules[pid] {
                if !seen[r] {
                    seen[r] = true;
                }
            }
        };
        // ASCII case folding of the raw bytes equals Unicode lower-casing for ASCII keywords,
        // except for the two characters whose lower case is (partly) ASCII: U+0130 and U+212A.
        let needs_lowercase = !s.is_ascii()
            && (pf.non_ascii_keywords
                || contains(s, "\u{130}".as_bytes())
                || contains(s, "\u{212A}".as_bytes()));
        if needs_lowercase {
            let lower = lowercase(s);
            for m in ac.find_overlapping_iter(lower.as_bytes()) {
                mark(m.pattern().as_usize());
            }
        } else {
            for m in ac.find_overlapping_iter(s) {
                mark(m.pattern().as_usize());
            }
        }
        for (i, hit) in seen.into_iter().enumerate() {
            if hit {
                out.push(i);
            }
        }
        out.sort_unstable();
        out
    }

    /// Appends the regions of every secret the rules find in `s` (§7.3 steps 1-7).
    pub(crate) fn find(&self, s: &[u8], regions: &mut Vec<(usize, usize)>) {
        let mut secrets: Vec<&[u8]> = Vec::new();
        self.for_each_finding(s, |_, secret| {
            if !secrets.contains(&secret) {
                secrets.push(secret);
            }
        });
        for secret in secrets {
            find_all(s, secret, |a, b| regions.push((a, b)));
        }
    }

    /// The id of rule `i`.
    pub(crate) fn id(&self, i: usize) -> &str {
        &self.rules[i].id
    }

    /// Calls `f(rule index, secret)` for every surviving finding (§7.3 steps 1-6).
    pub(crate) fn for_each_finding<'s>(&self, s: &'s [u8], mut f: impl FnMut(usize, &'s [u8])) {
        if self.prefilter.ac.is_none() && self.prefilter.always.is_empty() {
            return;
        }
        let candidates = self.candidates(s);
        for ri in candidates {
            let rule = &self.rules[ri];
            let Some(re) = rule.regex.as_ref().and_then(|r| r.get()) else {
                continue;
            };
            let Some(first) = re.find(s) else { continue };
            let keep = |mstart: usize, mend: usize, secret: &[u8]| -> bool {
                if secret.is_empty() {
                    return false;
                }
                if rule.entropy > 0.0 && entropy::shannon(secret) <= rule.entropy {
                    return false;
                }
                let line = || line_bounds(s, mstart, mend);
                let matched = &s[mstart..mend];
                !self.applicable[ri]
                    .iter()
                    .any(|&a| self.allowlists[a].allows(secret, matched, &line, s))
            };
            let mut record = |mstart: usize, mend: usize, secret: &'s [u8]| {
                if keep(mstart, mend, secret) {
                    f(ri, secret);
                }
            };
            if re.captures_len() == 1 {
                for m in re.find_iter(&s[first.start()..]) {
                    let (a, b) =
                        strip_newlines(s, first.start() + m.start(), first.start() + m.end());
                    record(a, b, &s[a..b]);
                }
            } else {
                // Start at the first match so that strings where the rule does not match never
                // pay for capture resolution. Restarting there is exact: no earlier match exists.
                for caps in re.captures_iter(&s[first.start()..]) {
                    let Some(m) = caps.get(0) else { continue };
                    let off = first.start();
                    let (a, b) = strip_newlines(s, off + m.start(), off + m.end());
                    let secret: &[u8] = if rule.secret_group > 0 {
                        match caps.get(rule.secret_group) {
                            Some(g) => &s[off + g.start()..off + g.end()],
                            None => &[],
                        }
                    } else {
                        match caps.iter().skip(1).flatten().find(|g| !g.is_empty()) {
                            Some(g) => &s[off + g.start()..off + g.end()],
                            None => &s[a..b],
                        }
                    };
                    record(a, b, secret);
                }
            }
        }
    }
}

/// Gitleaks trims newlines around a match (patterns often start or end with `\s`).
fn strip_newlines(s: &[u8], mut a: usize, mut b: usize) -> (usize, usize) {
    while a < b && s[a] == b'\n' {
        a += 1;
    }
    while b > a && s[b - 1] == b'\n' {
        b -= 1;
    }
    (a, b)
}

/// From the start of the line holding `a` to the end of the line holding the end of the match.
fn line_bounds(s: &[u8], a: usize, b: usize) -> (usize, usize) {
    let start = s[..a]
        .iter()
        .rposition(|&c| c == b'\n')
        .map_or(0, |p| p + 1);
    let last = if b > a { b - 1 } else { a };
    let end = s[last.min(s.len())..]
        .iter()
        .position(|&c| c == b'\n')
        .map_or(s.len(), |p| last + p);
    (start, end.max(start))
}

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    hay.windows(needle.len()).any(|w| w == needle)
}

/// Calls `f(start, end)` for every occurrence of `needle` in `hay`, left to right and
/// non-overlapping (Go's `strings.Index` loop).
pub(crate) fn find_all(hay: &[u8], needle: &[u8], mut f: impl FnMut(usize, usize)) {
    if needle.is_empty() || needle.len() > hay.len() {
        return;
    }
    // Search for a short prefix with a fast single-pattern searcher and verify the rest: building
    // an automaton for a multi-kilobyte needle (a private key, a whole tool output) is wasteful.
    let prefix = &needle[..needle.len().min(32)];
    let Ok(ac) = AhoCorasick::new([prefix]) else {
        // Fallback that cannot fail: a plain scan.
        let mut i = 0;
        while i + needle.len() <= hay.len() {
            if &hay[i..i + needle.len()] == needle {
                f(i, i + needle.len());
                i += needle.len();
            } else {
                i += 1;
            }
        }
        return;
    };
    let mut pos = 0;
    while pos + needle.len() <= hay.len() {
        let input = aho_corasick::Input::new(hay).span(pos..hay.len());
        let Some(m) = ac.find(input) else { break };
        let start = m.start();
        if hay.len() - start >= needle.len() && &hay[start..start + needle.len()] == needle {
            f(start, start + needle.len());
            pos = start + needle.len();
        } else {
            pos = start + 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn find_all_is_non_overlapping() {
        let mut v = Vec::new();
        find_all(b"aaaa", b"aaa", |a, b| v.push((a, b)));
        assert_eq!(v, vec![(0, 3)]);
        let mut w = Vec::new();
        find_all(b"xabxab", b"ab", |a, b| w.push((a, b)));
        assert_eq!(w, vec![(1, 3), (4, 6)]);
    }

    #[test]
    fn line_bounds_cover_the_match_lines() {
        let s = b"one\ntwo key\nthree";
        assert_eq!(line_bounds(s, 8, 11), (4, 11));
        assert_eq!(line_bounds(s, 0, 2), (0, 3));
        assert_eq!(line_bounds(s, 14, 16), (12, 17));
    }

    #[test]
    fn lowercase_follows_go_for_invalid_bytes() {
        assert_eq!(lowercase(b"AbC"), "abc");
        assert_eq!(lowercase(b"K\xff\xe2\x84\xaa"), "k\u{FFFD}k");
    }
}
