//! Compiling gitleaks (Go RE2) patterns with the Rust `regex` crate (`redaction.md` §7.4).
//!
//! It owns the literal-brace translation, the builder options (octal escapes, a generous size
//! limit) and the choice of ASCII Perl classes. It does not decide where patterns are used.

use regex::bytes::{Regex, RegexBuilder};

/// Large generated patterns (some rule files hold long alternations) must still load.
const SIZE_LIMIT: usize = 64 << 20;

/// Rewrites RE2 literal braces so that the Rust parser accepts them: a `{` that does not start a
/// well-formed counted repetition (`{n}`, `{n,}`, `{n,m}`) becomes `\{`, and a `}` that does not
/// close one becomes `\}`. Escaped pairs and bracket expressions are copied unchanged.
pub(crate) fn translate_braces(p: &str) -> String {
    let b = p.as_bytes();
    let mut out = String::with_capacity(p.len() + 8);
    let mut i = 0;
    // Work on byte offsets but copy whole chars: every byte we test for is ASCII, so slicing at
    // those offsets is always on a char boundary.
    let mut copied = 0;
    while i < b.len() {
        match b[i] {
            b'\\' => {
                i += 1;
                if i < b.len() {
                    let letter = b[i];
                    i += utf8_len(letter);
                    // `\p{Greek}`, `\P{L}` and `\x{10FFFF}` carry their own braces.
                    if matches!(letter, b'p' | b'P' | b'x') && b.get(i) == Some(&b'{') {
                        if let Some(close) = b[i..].iter().position(|&c| c == b'}') {
                            i += close + 1;
                        }
                    }
                }
            }
            b'[' => {
                i = bracket_end(b, i);
            }
            b'{' => {
                if let Some(len) = repetition_len(&b[i..]) {
                    i += len;
                } else {
                    out.push_str(&p[copied..i]);
                    out.push_str("\\{");
                    i += 1;
                    copied = i;
                }
            }
            b'}' => {
                out.push_str(&p[copied..i]);
                out.push_str("\\}");
                i += 1;
                copied = i;
            }
            _ => i += 1,
        }
    }
    out.push_str(&p[copied.min(p.len())..]);
    out
}

fn utf8_len(first: u8) -> usize {
    match first {
        0xF0..=0xFF => 4,
        0xE0..=0xEF => 3,
        0xC0..=0xDF => 2,
        _ => 1,
    }
}

/// The offset just past the bracket expression starting at `b[start] == '['` (or the end of the
/// pattern when it is unterminated; the compiler then reports the error).
fn bracket_end(b: &[u8], start: usize) -> usize {
    let mut i = start + 1;
    if b.get(i) == Some(&b'^') {
        i += 1;
    }
    // A `]` directly after `[` or `[^` is a literal.
    if b.get(i) == Some(&b']') {
        i += 1;
    }
    while i < b.len() {
        match b[i] {
            b'\\' => {
                i += 1;
                if i < b.len() {
                    i += utf8_len(b[i]);
                }
            }
            b'[' if b.get(i + 1) == Some(&b':') => {
                // POSIX class `[:alpha:]`: its `]` does not close the bracket expression.
                match find_posix_end(b, i + 2) {
                    Some(end) => i = end,
                    None => i += 1,
                }
            }
            b']' => return i + 1,
            _ => i += 1,
        }
    }
    b.len()
}

fn find_posix_end(b: &[u8], from: usize) -> Option<usize> {
    let mut i = from;
    while i + 1 < b.len() {
        if b[i] == b':' && b[i + 1] == b']' {
            return Some(i + 2);
        }
        if !(b[i].is_ascii_alphabetic() || b[i] == b'^') {
            return None;
        }
        i += 1;
    }
    None
}

/// Length of `{digits}`, `{digits,}` or `{digits,digits}` at the start of `b`.
fn repetition_len(b: &[u8]) -> Option<usize> {
    let mut i = 1;
    let digits_start = i;
    while i < b.len() && b[i].is_ascii_digit() {
        i += 1;
    }
    if i == digits_start {
        return None;
    }
    if b.get(i) == Some(&b',') {
        i += 1;
        while i < b.len() && b[i].is_ascii_digit() {
            i += 1;
        }
    }
    if b.get(i) == Some(&b'}') {
        Some(i + 1)
    } else {
        None
    }
}

/// Compiles a gitleaks pattern for matching bytes.
///
/// Perl classes (`\d`, `\w`, `\s`, `\b`) are ASCII in RE2, so the pattern is first compiled with
/// Unicode mode off, which also keeps `\b` inside the fast DFA engines on non-ASCII text. A
/// pattern that needs Unicode mode (a `\p{..}` class, a non-ASCII range) is compiled with it on.
/// A rule's regex, compiled at load (user files: a bad pattern must stop the run before anything
/// is written) or on first use (the built-in rules, which tests compile one by one, so that a run
/// pays only for the rules whose keywords occur).
pub(crate) struct LazyRegex {
    source: String,
    cell: std::sync::OnceLock<Option<Regex>>,
}

impl LazyRegex {
    pub(crate) fn compiled(re: Regex) -> LazyRegex {
        LazyRegex {
            source: String::new(),
            cell: std::sync::OnceLock::from(Some(re)),
        }
    }

    pub(crate) fn deferred(source: &str) -> LazyRegex {
        LazyRegex {
            source: source.to_string(),
            cell: std::sync::OnceLock::new(),
        }
    }

    /// The compiled regex; `None` only if a deferred pattern does not compile, which the
    /// built-in rules' tests rule out.
    pub(crate) fn get(&self) -> Option<&Regex> {
        self.cell
            .get_or_init(|| match compile(&self.source) {
                Ok(re) => Some(re),
                Err(e) => {
                    log::error!("built-in redaction rule does not compile: {e}");
                    None
                }
            })
            .as_ref()
    }
}

pub(crate) fn compile(pattern: &str) -> Result<Regex, String> {
    let translated = translate_braces(pattern);
    let build = |unicode: bool| {
        RegexBuilder::new(&translated)
            .unicode(unicode)
            .octal(true)
            .size_limit(SIZE_LIMIT)
            .dfa_size_limit(SIZE_LIMIT)
            .build()
    };
    match build(false) {
        Ok(re) => Ok(re),
        Err(ascii_err) => match build(true) {
            Ok(re) => Ok(re),
            // Report the Unicode-mode error: it describes the pattern as the author wrote it.
            Err(regex::Error::Syntax(msg)) => Err(first_line(&msg)),
            Err(e) => Err(first_line(&format!("{e} (ASCII mode: {ascii_err})"))),
        },
    }
}

/// Regex syntax errors span several lines with a caret diagram; keep them on one line for the
/// `redaction rules: <file>: <reason>` message while still showing the position.
fn first_line(msg: &str) -> String {
    msg.lines()
        .map(str::trim_end)
        .filter(|l| !l.is_empty())
        .collect::<Vec<_>>()
        .join(" | ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn literal_braces_are_escaped() {
        assert_eq!(
            translate_braces(r"^\$(?:\d+|{\d+})$"),
            r"^\$(?:\d+|\{\d+\})$"
        );
        assert_eq!(translate_braces(r"a{2,3}b{4}c{5,}"), r"a{2,3}b{4}c{5,}");
        assert_eq!(translate_braces(r"[{}]\{x{,2}"), r"[{}]\{x\{,2\}");
        assert_eq!(
            translate_braces(r"[]{][[:alpha:]{]{"),
            r"[]{][[:alpha:]{]\{"
        );
        assert_eq!(translate_braces("é{ü}"), r"é\{ü\}");
        assert_eq!(translate_braces(r"\p{Greek}\x{41}{"), r"\p{Greek}\x{41}\{");
    }

    #[test]
    fn translated_patterns_compile() {
        assert!(compile(r"^\$(?:\d+|{\d+})$").is_ok());
        assert!(compile(r"\101BC").is_ok());
        if let Err(e) = compile(r"\p{Greek}+") {
            panic!("{e}");
        }
        assert!(compile(r"(unclosed").is_err());
        assert!(compile(r"(?=x)").is_err());
    }

    #[test]
    fn perl_classes_are_ascii_like_re2() {
        let re = compile(r"\bkey\b").unwrap_or_else(|e| panic!("{e}"));
        assert!(re.is_match("é key é".as_bytes()));
        let d = compile(r"^\d+$").unwrap_or_else(|e| panic!("{e}"));
        assert!(!d.is_match("١٢٣".as_bytes()));
    }
}
