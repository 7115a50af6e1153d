//! JSON-aware redaction of transcripts (`redaction.md` §4 and §7.8).
//!
//! It owns a small borrowing JSON parser with Go's decoding rules (invalid UTF-8 and lone
//! surrogates become U+FFFD), the walk with its skipped keys and skipped image/base64 objects,
//! mode selection (single document or lines), textual substitution of Go-encoded strings, and
//! the verification/rebuild that closes Entire's gap for unusual spellings. Detection itself is
//! `String` (`scan`), reached through the [`Scanner`] trait.

use std::borrow::Cow;
use std::collections::HashMap;

use super::rules::find_all;
use super::RedactError;
use crate::gojson;

/// Deeper documents are treated as non-JSON (plain-text redaction of the raw line), which keeps
/// the recursive parser and walk far from the stack limit. Transcripts nest a few levels.
const MAX_DEPTH: usize = 400;

/// Only literals at least this long go through the memo table: hashing a short string costs
/// about as much as scanning it, while long ones (tool outputs, file contents) often repeat.
const MEMO_MIN: usize = 48;

/// Plain-text redaction: `Some(redacted)` when anything changed.
pub(crate) trait Scanner {
    fn scan(&self, s: &[u8]) -> Option<Vec<u8>>;
    /// Strings shorter than this can never change.
    fn min_len(&self) -> usize;
}

/// A decoded JSON value borrowing from the input.
pub(crate) enum Node<'a> {
    Null,
    Bool(bool),
    /// The number exactly as written.
    Num(&'a [u8]),
    Str(JStr<'a>),
    Arr(Vec<Node<'a>>),
    /// Members in document order, duplicates kept.
    Obj(Vec<(JStr<'a>, Node<'a>)>),
}

pub(crate) struct JStr<'a> {
    /// The literal's body between the quotes, as written.
    pub raw: &'a [u8],
    pub val: Cow<'a, str>,
}

struct Parser<'a> {
    b: &'a [u8],
    i: usize,
}

/// Parses `b` as exactly one JSON value surrounded by optional JSON whitespace.
pub(crate) fn parse_document(b: &[u8]) -> Option<Node<'_>> {
    let mut p = Parser { b, i: 0 };
    let v = p.value(0)?;
    p.ws();
    (p.i == b.len()).then_some(v)
}

/// Whether a transcript is redacted line by line (§4.1): anything but a single JSON document.
pub(crate) fn is_line_mode(content: &[u8]) -> bool {
    let (a, b) = trim_space(content);
    !(a < b && parse_first(&content[a..b]) == Some(true))
}

/// Parses the first value of `b`; returns it and whether only whitespace follows.
fn parse_first(b: &[u8]) -> Option<bool> {
    let mut p = Parser { b, i: 0 };
    p.value(0)?;
    p.ws();
    Some(p.i == b.len())
}

/// Bytes that end the fast path of a string scan.
static STR_STOP: [bool; 256] = {
    let mut t = [false; 256];
    let mut i = 0;
    while i < 0x20 {
        t[i] = true;
        i += 1;
    }
    t[b'"' as usize] = true;
    t[b'\\' as usize] = true;
    t
};

impl<'a> Parser<'a> {
    fn ws(&mut self) {
        while let Some(&c) = self.b.get(self.i) {
            if matches!(c, b' ' | b'\t' | b'\n' | b'\r') {
                self.i += 1;
            } else {
                break;
            }
        }
    }

    fn value(&mut self, depth: usize) -> Option<Node<'a>> {
        if depth > MAX_DEPTH {
            return None;
        }
        self.ws();
        match *self.b.get(self.i)? {
            b'{' => {
                self.i += 1;
                let mut members = Vec::new();
                self.ws();
                if self.b.get(self.i) == Some(&b'}') {
                    self.i += 1;
                    return Some(Node::Obj(members));
                }
                loop {
                    self.ws();
                    if self.b.get(self.i) != Some(&b'"') {
                        return None;
                    }
                    let k = self.string()?;
                    self.ws();
                    if self.b.get(self.i) != Some(&b':') {
                        return None;
                    }
                    self.i += 1;
                    let v = self.value(depth + 1)?;
                    members.push((k, v));
                    self.ws();
                    match self.b.get(self.i)? {
                        b',' => self.i += 1,
                        b'}' => {
                            self.i += 1;
                            return Some(Node::Obj(members));
                        }
                        _ => return None,
                    }
                }
            }
            b'[' => {
                self.i += 1;
                let mut items = Vec::new();
                self.ws();
                if self.b.get(self.i) == Some(&b']') {
                    self.i += 1;
                    return Some(Node::Arr(items));
                }
                loop {
                    items.push(self.value(depth + 1)?);
                    self.ws();
                    match self.b.get(self.i)? {
                        b',' => self.i += 1,
                        b']' => {
                            self.i += 1;
                            return Some(Node::Arr(items));
                        }
                        _ => return None,
                    }
                }
            }
            b'"' => self.string().map(Node::Str),
            b't' => self.literal(b"true", Node::Bool(true)),
            b'f' => self.literal(b"false", Node::Bool(false)),
            b'n' => self.literal(b"null", Node::Null),
            b'-' | b'0'..=b'9' => self.number(),
            _ => None,
        }
    }

    fn literal(&mut self, word: &[u8], node: Node<'a>) -> Option<Node<'a>> {
        if self.b[self.i..].starts_with(word) {
            self.i += word.len();
            Some(node)
        } else {
            None
        }
    }

    fn digits(&mut self) -> usize {
        let start = self.i;
        while self.b.get(self.i).is_some_and(u8::is_ascii_digit) {
            self.i += 1;
        }
        self.i - start
    }

    fn number(&mut self) -> Option<Node<'a>> {
        let start = self.i;
        if self.b.get(self.i) == Some(&b'-') {
            self.i += 1;
        }
        match self.b.get(self.i)? {
            b'0' => self.i += 1,
            b'1'..=b'9' => {
                self.digits();
            }
            _ => return None,
        }
        if self.b.get(self.i) == Some(&b'.') {
            self.i += 1;
            if self.digits() == 0 {
                return None;
            }
        }
        if matches!(self.b.get(self.i), Some(b'e' | b'E')) {
            self.i += 1;
            if matches!(self.b.get(self.i), Some(b'+' | b'-')) {
                self.i += 1;
            }
            if self.digits() == 0 {
                return None;
            }
        }
        Some(Node::Num(&self.b[start..self.i]))
    }

    /// At an opening quote.
    fn string(&mut self) -> Option<JStr<'a>> {
        self.i += 1;
        let start = self.i;
        let b = self.b;
        let mut i = self.i;
        while i < b.len() && !STR_STOP[b[i] as usize] {
            i += 1;
        }
        let c = *b.get(i)?;
        if c == b'"' {
            self.i = i + 1;
            let raw = &b[start..i];
            let val = match std::str::from_utf8(raw) {
                Ok(s) => Cow::Borrowed(s),
                Err(_) => Cow::Owned(lossy_per_byte(raw)),
            };
            return Some(JStr { raw, val });
        }
        if c < 0x20 {
            return None;
        }
        // Escapes: decode into a buffer.
        let mut out: Vec<u8> = Vec::with_capacity(i - start + 16);
        out.extend_from_slice(&b[start..i]);
        loop {
            let c = *b.get(i)?;
            match c {
                b'"' => break,
                b'\\' => {
                    let e = *b.get(i + 1)?;
                    i += 2;
                    let simple = match e {
                        b'"' => Some(b'"'),
                        b'\\' => Some(b'\\'),
                        b'/' => Some(b'/'),
                        b'b' => Some(0x08),
                        b'f' => Some(0x0c),
                        b'n' => Some(b'\n'),
                        b'r' => Some(b'\r'),
                        b't' => Some(b'\t'),
                        b'u' => None,
                        _ => return None,
                    };
                    if let Some(x) = simple {
                        out.push(x);
                        continue;
                    }
                    let u = hex4(b.get(i..i + 4)?)?;
                    i += 4;
                    let ch = if (0xD800..0xDC00).contains(&u) {
                        // A high surrogate needs a following low one; otherwise Go writes
                        // U+FFFD and leaves the next escape alone.
                        let low = (b.get(i) == Some(&b'\\') && b.get(i + 1) == Some(&b'u'))
                            .then(|| b.get(i + 2..i + 6).and_then(hex4))
                            .flatten();
                        match low {
                            Some(l) if (0xDC00..0xE000).contains(&l) => {
                                i += 6;
                                char::from_u32(0x10000 + ((u - 0xD800) << 10) + (l - 0xDC00))
                                    .unwrap_or('\u{FFFD}')
                            }
                            _ => '\u{FFFD}',
                        }
                    } else {
                        char::from_u32(u).unwrap_or('\u{FFFD}')
                    };
                    let mut buf = [0u8; 4];
                    out.extend_from_slice(ch.encode_utf8(&mut buf).as_bytes());
                }
                c if c < 0x20 => return None,
                _ => {
                    let run_start = i;
                    while i < b.len() && !STR_STOP[b[i] as usize] {
                        i += 1;
                    }
                    out.extend_from_slice(&b[run_start..i]);
                }
            }
        }
        self.i = i + 1;
        let raw = &b[start..i];
        let val = match String::from_utf8(out) {
            Ok(s) => s,
            Err(e) => lossy_per_byte(e.as_bytes()),
        };
        Some(JStr {
            raw,
            val: Cow::Owned(val),
        })
    }
}

fn hex4(h: &[u8]) -> Option<u32> {
    if h.len() != 4 {
        return None;
    }
    let mut v = 0u32;
    for &c in h {
        v = v * 16 + (c as char).to_digit(16)?;
    }
    Some(v)
}

/// Go decodes each invalid UTF-8 byte as one U+FFFD.
fn lossy_per_byte(b: &[u8]) -> String {
    let mut s = String::with_capacity(b.len() + 8);
    for chunk in b.utf8_chunks() {
        s.push_str(chunk.valid());
        for _ in chunk.invalid() {
            s.push('\u{FFFD}');
        }
    }
    s
}

/// Keys whose values are never scanned (§4.3).
pub(crate) fn key_skipped(k: &str) -> bool {
    // ASCII case folding is exact here: the only non-ASCII characters whose lower case contains
    // ASCII (U+0130, U+212A) cannot produce any of these suffixes or names.
    let b = k.as_bytes();
    let ends =
        |suf: &[u8]| b.len() >= suf.len() && b[b.len() - suf.len()..].eq_ignore_ascii_case(suf);
    k == "signature"
        || ends(b"id")
        || ends(b"ids")
        || [
            "filepath",
            "file_path",
            "cwd",
            "root",
            "directory",
            "dir",
            "path",
        ]
        .iter()
        .any(|n| b.eq_ignore_ascii_case(n.as_bytes()))
}

/// An object whose (last) `type` is a string starting with `image` or equal to `base64`.
fn object_skipped(members: &[(JStr<'_>, Node<'_>)]) -> bool {
    match members.iter().rev().find(|(k, _)| k.val == "type") {
        Some((_, Node::Str(t))) => t.val.starts_with("image") || t.val == "base64",
        _ => false,
    }
}

/// Indices of members that a Go map would keep (the last of each key).
fn walked_members(members: &[(JStr<'_>, Node<'_>)]) -> Vec<bool> {
    let n = members.len();
    let mut keep = vec![true; n];
    if n <= 24 {
        for i in 0..n {
            for j in i + 1..n {
                if members[i].0.val == members[j].0.val {
                    keep[i] = false;
                    break;
                }
            }
        }
    } else {
        let mut last: HashMap<&str, usize> = HashMap::with_capacity(n);
        for (i, (k, _)) in members.iter().enumerate() {
            last.insert(&k.val, i);
        }
        for (i, (k, _)) in members.iter().enumerate() {
            keep[i] = last.get(k.val.as_ref()) == Some(&i);
        }
    }
    keep
}

/// Calls `f` on every string the walk of §4.3 visits.
pub(crate) fn walk<'n, 'a>(node: &'n Node<'a>, f: &mut impl FnMut(&'n JStr<'a>)) {
    match node {
        Node::Str(s) => f(s),
        Node::Arr(items) => {
            for it in items {
                walk(it, f);
            }
        }
        Node::Obj(members) => {
            if object_skipped(members) {
                return;
            }
            let keep = walked_members(members);
            for ((k, v), keep) in members.iter().zip(keep) {
                if keep && !key_skipped(&k.val) {
                    walk(v, f);
                }
            }
        }
        _ => {}
    }
}

/// Per-transcript redaction state: the memo of `String` results keyed by the raw literal body.
pub(crate) struct Walker<'s, 'a, S: Scanner> {
    scanner: &'s S,
    memo: HashMap<&'a [u8], Option<Box<str>>>,
}

impl<'s, 'a, S: Scanner> Walker<'s, 'a, S> {
    pub(crate) fn new(scanner: &'s S) -> Self {
        Walker {
            scanner,
            memo: HashMap::new(),
        }
    }

    /// `String(v)` for a decoded string; `None` when unchanged.
    fn redact_str(&self, v: &str) -> Option<String> {
        if v.len() < self.scanner.min_len() {
            return None;
        }
        let out = self.scanner.scan(v.as_bytes())?;
        // Regions are widened to char boundaries, so the result is UTF-8; be defensive anyway.
        Some(match String::from_utf8(out) {
            Ok(s) => s,
            Err(e) => String::from_utf8_lossy(e.as_bytes()).into_owned(),
        })
    }

    /// Memoized `String` for a string literal of the original content.
    fn redact_lit(&mut self, s: &JStr<'a>) -> Option<Box<str>> {
        if s.val.len() < self.scanner.min_len() {
            return None;
        }
        if s.raw.len() < MEMO_MIN {
            return self.redact_str(&s.val).map(String::into_boxed_str);
        }
        if let Some(hit) = self.memo.get(s.raw) {
            return hit.clone();
        }
        let r = self.redact_str(&s.val).map(String::into_boxed_str);
        self.memo.insert(s.raw, r.clone());
        r
    }

    /// Like [`redact_lit`] for text that is not part of the original content (verification).
    fn changes(&self, s: &JStr<'_>) -> bool {
        if s.val.len() < self.scanner.min_len() {
            return false;
        }
        if let Some(hit) = self.memo.get(s.raw) {
            return hit.is_some();
        }
        self.redact_str(&s.val).is_some()
    }

    /// Redacts one JSON text (a line or a whole document) whose trimmed part `doc` parsed as
    /// `node`; `full` is the text replacements apply to, `lead`/`trail` its untrimmed margins.
    fn redact_json(
        &mut self,
        full: &'a [u8],
        node: &Node<'a>,
        lead: usize,
        trail: usize,
    ) -> Result<Option<Vec<u8>>, RedactError> {
        let mut found: Vec<&JStr<'a>> = Vec::new();
        walk(node, &mut |s| found.push(s));
        // §4.3: record (v, String(v)) for every changed string, once per distinct v.
        let mut pairs: Vec<(&str, Box<str>)> = Vec::new();
        for s in found {
            if let Some(r) = self.redact_lit(s) {
                if !pairs.iter().any(|(v, _)| *v == s.val.as_ref()) {
                    pairs.push((s.val.as_ref(), r));
                }
            }
        }
        if pairs.is_empty() {
            return Ok(None);
        }
        // §4.4: textual substitution of Go-encoded literals, HTML escaping off.
        let mut text: Vec<u8> = full.to_vec();
        let mut from = Vec::new();
        let mut to = Vec::new();
        for (v, r) in &pairs {
            from.clear();
            to.clear();
            gojson::write_str(&mut from, v, false);
            gojson::write_str(&mut to, r, false);
            text = replace_all(&text, &from, &to);
        }
        if self.verifies(&text) {
            return Ok(Some(text));
        }
        // §7.8: an original spelled differently from Go's encoding survived; rebuild.
        log::debug!("redaction: textual replacement incomplete; rebuilding the JSON text");
        let mut rebuilt = Vec::with_capacity(full.len());
        rebuilt.extend_from_slice(&full[..lead]);
        self.write_rebuilt(&mut rebuilt, node, true);
        rebuilt.extend_from_slice(&full[full.len() - trail..]);
        if self.verifies(&rebuilt) {
            Ok(Some(rebuilt))
        } else {
            Err(RedactError(
                "a redacted JSON text could not be verified after rebuilding".to_string(),
            ))
        }
    }

    /// Parses `text` again and checks that the walk finds nothing left to redact.
    fn verifies(&self, text: &[u8]) -> bool {
        let (a, b) = trim_space(text);
        let Some(node) = parse_document(&text[a..b]) else {
            return false;
        };
        let mut ok = true;
        walk(&node, &mut |s| {
            if ok && self.changes(s) {
                ok = false;
            }
        });
        ok
    }

    /// Compact serialization of `node` with walked strings redacted (to a fixed point, so the
    /// result verifies even where `String` is not idempotent).
    fn write_rebuilt(&self, out: &mut Vec<u8>, node: &Node<'_>, walked: bool) {
        match node {
            Node::Null => out.extend_from_slice(b"null"),
            Node::Bool(true) => out.extend_from_slice(b"true"),
            Node::Bool(false) => out.extend_from_slice(b"false"),
            Node::Num(raw) => out.extend_from_slice(raw),
            Node::Str(s) => {
                if walked {
                    let mut cur: Cow<'_, str> = Cow::Borrowed(&s.val);
                    for _ in 0..8 {
                        match self.redact_str(&cur) {
                            Some(r) => cur = Cow::Owned(r),
                            None => break,
                        }
                    }
                    gojson::write_str(out, &cur, false);
                } else {
                    gojson::write_str(out, &s.val, false);
                }
            }
            Node::Arr(items) => {
                out.push(b'[');
                for (i, it) in items.iter().enumerate() {
                    if i > 0 {
                        out.push(b',');
                    }
                    self.write_rebuilt(out, it, walked);
                }
                out.push(b']');
            }
            Node::Obj(members) => {
                let walked = walked && !object_skipped(members);
                out.push(b'{');
                for (i, (k, v)) in members.iter().enumerate() {
                    if i > 0 {
                        out.push(b',');
                    }
                    gojson::write_str(out, &k.val, false);
                    out.push(b':');
                    // Earlier duplicates are redacted too: more redaction, never less.
                    self.write_rebuilt(out, v, walked && !key_skipped(&k.val));
                }
                out.push(b'}');
            }
        }
    }

    /// `JSONLBytes` (§4): `None` when nothing changed.
    pub(crate) fn transcript(&mut self, content: &'a [u8]) -> Result<Option<Vec<u8>>, RedactError> {
        let (a, b) = trim_space(content);
        if a < b && parse_first(&content[a..b]) == Some(true) {
            if let Some(node) = parse_document(&content[a..b]) {
                return self.redact_json(content, &node, a, content.len() - b);
            }
        }
        self.lines(content)
    }

    /// Line mode (§4.2) regardless of the content's shape: for a part of a transcript that is
    /// already known to be in line mode.
    pub(crate) fn lines(&mut self, content: &'a [u8]) -> Result<Option<Vec<u8>>, RedactError> {
        let mut out: Option<Vec<u8>> = None;
        let mut pos = 0;
        loop {
            let end = content[pos..]
                .iter()
                .position(|&c| c == b'\n')
                .map_or(content.len(), |p| pos + p);
            let line = &content[pos..end];
            let changed = self.line(line)?;
            match (changed, &mut out) {
                (Some(new), None) => {
                    let mut o = Vec::with_capacity(content.len() + 64);
                    o.extend_from_slice(&content[..pos]);
                    o.extend_from_slice(&new);
                    out = Some(o);
                }
                (Some(new), Some(o)) => o.extend_from_slice(&new),
                (None, Some(o)) => o.extend_from_slice(line),
                (None, None) => {}
            }
            if end == content.len() {
                break;
            }
            if let Some(o) = &mut out {
                o.push(b'\n');
            }
            pos = end + 1;
        }
        Ok(out)
    }

    fn line(&mut self, line: &'a [u8]) -> Result<Option<Vec<u8>>, RedactError> {
        let (a, b) = trim_space(line);
        if a == b {
            return Ok(None);
        }
        match parse_document(&line[a..b]) {
            Some(node) => self.redact_json(line, &node, a, line.len() - b),
            None => Ok(if line.len() < self.scanner.min_len() {
                None
            } else {
                self.scanner.scan(line)
            }),
        }
    }
}

/// Replaces every non-overlapping occurrence of `from` in `text`, left to right.
fn replace_all(text: &[u8], from: &[u8], to: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(text.len());
    let mut last = 0;
    find_all(text, from, |a, b| {
        out.extend_from_slice(&text[last..a]);
        out.extend_from_slice(to);
        last = b;
    });
    out.extend_from_slice(&text[last..]);
    out
}

/// Go's `bytes.TrimSpace`: the bounds of `b` without leading and trailing Unicode white space.
pub(crate) fn trim_space(b: &[u8]) -> (usize, usize) {
    let mut a = 0;
    let mut z = b.len();
    while a < z {
        let c = b[a];
        if c < 0x80 {
            if is_ascii_space(c) {
                a += 1;
                continue;
            }
            break;
        }
        match first_char(&b[a..z]) {
            Some((ch, n)) if ch.is_whitespace() => a += n,
            _ => break,
        }
    }
    while z > a {
        let c = b[z - 1];
        if c < 0x80 {
            if is_ascii_space(c) {
                z -= 1;
                continue;
            }
            break;
        }
        match last_char(&b[a..z]) {
            Some((ch, n)) if ch.is_whitespace() => z -= n,
            _ => break,
        }
    }
    (a, z)
}

fn is_ascii_space(c: u8) -> bool {
    matches!(c, b' ' | b'\t' | b'\n' | b'\r' | 0x0b | 0x0c)
}

fn first_char(b: &[u8]) -> Option<(char, usize)> {
    (1..=4.min(b.len())).find_map(|n| {
        std::str::from_utf8(&b[..n])
            .ok()
            .and_then(|s| s.chars().next().map(|c| (c, n)))
    })
}

fn last_char(b: &[u8]) -> Option<(char, usize)> {
    (1..=4.min(b.len())).find_map(|n| {
        std::str::from_utf8(&b[b.len() - n..])
            .ok()
            .and_then(|s| s.chars().next().map(|c| (c, n)))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parser_decodes_like_go() {
        let doc = br#"{"a":"x\u0041\ud83d\ude00\ud800z","b":[1,-2.5e3,true,null],"c":"\/"}"#;
        let Some(Node::Obj(m)) = parse_document(doc) else {
            panic!("not an object")
        };
        let Node::Str(s) = &m[0].1 else { panic!() };
        assert_eq!(s.val, "xA\u{1F600}\u{FFFD}z");
        let Node::Str(c) = &m[2].1 else { panic!() };
        assert_eq!(c.val, "/");
        assert!(parse_document(b"{\"a\":1}x").is_none());
        assert!(parse_document(b"\"a\tb\"").is_none());
        assert!(parse_document(b"01").is_none());
        assert!(parse_document(b"[1,]").is_none());
        assert!(parse_document(b" [1] ").is_some());
    }

    #[test]
    fn invalid_utf8_decodes_to_one_replacement_per_byte() {
        let Some(Node::Str(s)) = parse_document(b"\"a\xe2\x80b\"") else {
            panic!()
        };
        assert_eq!(s.val, "a\u{FFFD}\u{FFFD}b");
    }

    #[test]
    fn skipped_keys() {
        for k in [
            "id",
            "uuid",
            "parentUuid",
            "sessionId",
            "tool_use_id",
            "callID",
            "valid",
            "ids",
            "signature",
            "cwd",
            "PATH",
            "file_path",
            "Dir",
        ] {
            assert!(key_skipped(k), "{k}");
        }
        for k in ["text", "content", "Signature", "paths", "command", "idx"] {
            assert!(!key_skipped(k), "{k}");
        }
    }

    #[test]
    fn trim_space_handles_unicode_space() {
        let s = "\u{a0} x \u{2028}\r".as_bytes();
        let (a, b) = trim_space(s);
        assert_eq!(&s[a..b], b"x");
        assert_eq!(trim_space(b"  "), (2, 2));
        assert_eq!(trim_space(b"\xffx\xff"), (0, 3));
    }
}
