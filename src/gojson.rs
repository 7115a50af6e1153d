//! JSON bytes exactly as Go's `encoding/json` writes them.
//!
//! Entire is written in Go, and readers and hashes depend on its bytes, so this module owns every
//! Go encoding quirk git-attach reproduces (`v1-format.md` §4, `compact-format.md` §12):
//!
//! * strings: short escapes (`\n \r \t \b \f`), `\u00XX` (lowercase) for other controls,
//!   U+2028/U+2029 always escaped, invalid UTF-8 as `\ufffd`, `/` never escaped, and `<`, `>`,
//!   `&` escaped only when HTML escaping is on (`json.Marshal`) and raw when it is off (Entire's
//!   `MarshalIndentWithNewline`);
//! * the indented layout of `json.Encoder.SetIndent("", "  ")` with one trailing newline;
//! * float spelling (`50`, `33.333333333333336`, `1e-7`);
//! * compaction of raw values copied from a source document (`json.Compact` plus HTML escaping).
//!
//! It does not decide *what* is written (key order, omitted fields): the callers' structs do.

use serde::Serialize;
use serde_json::Value;

/// Appends `s` as a JSON string literal (with quotes) using Go's escaping rules.
pub fn write_str(out: &mut Vec<u8>, s: &str, html: bool) {
    write_bytes_as_str(out, s.as_bytes(), html);
}

/// Like [`write_str`], for bytes that may not be valid UTF-8: each invalid sequence becomes
/// `\ufffd`, as Go does.
pub fn write_bytes_as_str(out: &mut Vec<u8>, bytes: &[u8], html: bool) {
    out.push(b'"');
    for chunk in bytes.utf8_chunks() {
        write_escaped_body(out, chunk.valid(), html);
        if !chunk.invalid().is_empty() {
            out.extend_from_slice(b"\\ufffd");
        }
    }
    out.push(b'"');
}

/// The body of a string literal (no quotes) for valid UTF-8 text.
fn write_escaped_body(out: &mut Vec<u8>, s: &str, html: bool) {
    let bytes = s.as_bytes();
    let mut start = 0;
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        let escape: Option<&[u8]> = match b {
            b'"' => Some(b"\\\""),
            b'\\' => Some(b"\\\\"),
            b'\n' => Some(b"\\n"),
            b'\r' => Some(b"\\r"),
            b'\t' => Some(b"\\t"),
            0x08 => Some(b"\\b"),
            0x0c => Some(b"\\f"),
            b'<' if html => Some(b"\\u003c"),
            b'>' if html => Some(b"\\u003e"),
            b'&' if html => Some(b"\\u0026"),
            _ => None,
        };
        if let Some(e) = escape {
            out.extend_from_slice(&bytes[start..i]);
            out.extend_from_slice(e);
            i += 1;
            start = i;
            continue;
        }
        if b < 0x20 {
            out.extend_from_slice(&bytes[start..i]);
            out.extend_from_slice(b"\\u00");
            out.push(HEX[(b >> 4) as usize]);
            out.push(HEX[(b & 0xf) as usize]);
            i += 1;
            start = i;
            continue;
        }
        // U+2028 and U+2029 are E2 80 A8 / E2 80 A9 in UTF-8.
        if b == 0xE2 && i + 2 < bytes.len() && bytes[i + 1] == 0x80 && (bytes[i + 2] & 0xFE) == 0xA8
        {
            out.extend_from_slice(&bytes[start..i]);
            out.extend_from_slice(if bytes[i + 2] == 0xA8 {
                b"\\u2028"
            } else {
                b"\\u2029"
            });
            i += 3;
            start = i;
            continue;
        }
        i += 1;
    }
    out.extend_from_slice(&bytes[start..]);
}

const HEX: &[u8; 16] = b"0123456789abcdef";

/// A string literal as an owned `String` (tests and small values).
pub fn quote(s: &str, html: bool) -> String {
    let mut out = Vec::with_capacity(s.len() + 2);
    write_str(&mut out, s, html);
    // Escaping only ever inserts ASCII into valid UTF-8.
    String::from_utf8(out).unwrap_or_default()
}

/// Serializes `value` like Entire's `jsonutil.MarshalIndentWithNewline(v, "", "  ")`: two-space
/// indentation, `": "`, HTML escaping off, and exactly one trailing newline. Field order is the
/// order in which `value` serializes its fields.
pub fn to_vec_indented<T: Serialize + ?Sized>(value: &T) -> Result<Vec<u8>, serde_json::Error> {
    let v = serde_json::to_value(value)?;
    Ok(value_to_vec_indented(&v))
}

/// [`to_vec_indented`] for an already built value.
pub fn value_to_vec_indented(v: &Value) -> Vec<u8> {
    let mut out = Vec::with_capacity(512);
    write_indented(&mut out, v, 0);
    out.push(b'\n');
    out
}

fn indent(out: &mut Vec<u8>, level: usize) {
    out.push(b'\n');
    for _ in 0..level {
        out.extend_from_slice(b"  ");
    }
}

/// The indented layout with HTML escaping off, as Entire's metadata writer.
fn write_indented(out: &mut Vec<u8>, v: &Value, level: usize) {
    match v {
        Value::Array(items) if !items.is_empty() => {
            out.push(b'[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                indent(out, level + 1);
                write_indented(out, item, level + 1);
            }
            indent(out, level);
            out.push(b']');
        }
        Value::Object(map) if !map.is_empty() => {
            out.push(b'{');
            for (i, (k, item)) in map.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                indent(out, level + 1);
                write_str(out, k, false);
                out.extend_from_slice(b": ");
                write_indented(out, item, level + 1);
            }
            indent(out, level);
            out.push(b'}');
        }
        other => write_compact(out, other, false),
    }
}

/// Writes `v` on one line, Go `json.Marshal` style (no spaces).
pub fn write_compact(out: &mut Vec<u8>, v: &Value, html: bool) {
    match v {
        Value::Null => out.extend_from_slice(b"null"),
        Value::Bool(true) => out.extend_from_slice(b"true"),
        Value::Bool(false) => out.extend_from_slice(b"false"),
        Value::Number(n) => write_number(out, &n.to_string()),
        Value::String(s) => write_str(out, s, html),
        Value::Array(items) => {
            out.push(b'[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                write_compact(out, item, html);
            }
            out.push(b']');
        }
        Value::Object(map) => {
            out.push(b'{');
            for (i, (k, item)) in map.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                write_str(out, k, html);
                out.push(b':');
                write_compact(out, item, html);
            }
            out.push(b'}');
        }
    }
}

/// Integers are written as they are; anything with a fraction or exponent is re-spelled the way
/// Go formats a float64.
fn write_number(out: &mut Vec<u8>, text: &str) {
    if text.bytes().all(|b| b.is_ascii_digit() || b == b'-') {
        out.extend_from_slice(text.as_bytes());
        return;
    }
    match text.parse::<f64>() {
        Ok(f) if f.is_finite() => out.extend_from_slice(format_float(f).as_bytes()),
        _ => out.extend_from_slice(text.as_bytes()),
    }
}

/// Go's encoding of a float64 in JSON: shortest round-trip digits, plain decimal for
/// 1e-6 ≤ |x| < 1e21, otherwise exponent form with at least one exponent digit (`1e-7`, `1e+21`).
pub fn format_float(f: f64) -> String {
    let abs = f.abs();
    if abs == 0.0 || (1e-6..1e21).contains(&abs) {
        let s = format!("{f}");
        if s == "-0" {
            return "-0".to_string();
        }
        return s;
    }
    // Rust's LowerExp is shortest round-trip: "1e-7", "1.5e21".
    let s = format!("{f:e}");
    match s.split_once('e') {
        Some((mantissa, exp)) if !exp.starts_with('-') => format!("{mantissa}e+{exp}"),
        _ => s,
    }
}

/// Compacts the raw JSON text of a value the way Entire's compact converter re-emits raw values
/// (`compact-format.md` §12): whitespace outside strings is dropped; inside strings `<`, `>`, `&`,
/// U+2028 and U+2029 become `\u` escapes; every other byte (existing escapes, number spellings,
/// key order, duplicate keys) is copied as written.
pub fn compact_raw(out: &mut Vec<u8>, raw: &[u8]) {
    let mut in_string = false;
    let mut i = 0;
    while i < raw.len() {
        let b = raw[i];
        if in_string {
            match b {
                b'\\' => {
                    out.push(b);
                    if let Some(&next) = raw.get(i + 1) {
                        out.push(next);
                    }
                    i += 2;
                    continue;
                }
                b'"' => in_string = false,
                b'<' => {
                    out.extend_from_slice(b"\\u003c");
                    i += 1;
                    continue;
                }
                b'>' => {
                    out.extend_from_slice(b"\\u003e");
                    i += 1;
                    continue;
                }
                b'&' => {
                    out.extend_from_slice(b"\\u0026");
                    i += 1;
                    continue;
                }
                0xE2 if i + 2 < raw.len() && raw[i + 1] == 0x80 && (raw[i + 2] & 0xFE) == 0xA8 => {
                    out.extend_from_slice(if raw[i + 2] == 0xA8 {
                        b"\\u2028"
                    } else {
                        b"\\u2029"
                    });
                    i += 3;
                    continue;
                }
                _ => {}
            }
            out.push(b);
        } else {
            match b {
                b' ' | b'\t' | b'\n' | b'\r' => {}
                b'"' => {
                    in_string = true;
                    out.push(b);
                }
                _ => out.push(b),
            }
        }
        i += 1;
    }
}

/// Writes `v` the way Go's `json.Marshal` writes a value decoded into `interface{}`
/// (`map[string]any`): object keys sorted by byte order at every level (with `preserve_order`
/// the `Value` keeps source order, so sorting happens here), and every number re-spelled as the
/// float64 Go decoded it into (`1.50` → `1.5`, `1e3` → `1000`).
pub fn write_any(out: &mut Vec<u8>, v: &Value, html: bool) {
    match v {
        Value::Number(n) => {
            let text = n.to_string();
            match text.parse::<f64>() {
                Ok(f) if f.is_finite() => out.extend_from_slice(format_float(f).as_bytes()),
                _ => out.extend_from_slice(text.as_bytes()),
            }
        }
        Value::Array(items) => {
            out.push(b'[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                write_any(out, item, html);
            }
            out.push(b']');
        }
        Value::Object(map) => {
            let mut entries: Vec<(&String, &Value)> = map.iter().collect();
            entries.sort_by(|a, b| a.0.as_bytes().cmp(b.0.as_bytes()));
            out.push(b'{');
            for (i, (k, item)) in entries.into_iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                write_str(out, k, html);
                out.push(b':');
                write_any(out, item, html);
            }
            out.push(b'}');
        }
        other => write_compact(out, other, html),
    }
}

/// Go's `json.Indent(dst, src, prefix, indent)` for valid JSON text: whitespace outside strings
/// is dropped, every element goes on its own line, `": "` after keys, and empty objects and
/// arrays stay `{}` / `[]`. String contents are copied unchanged. `json.MarshalIndent` is
/// `Marshal` followed by this, so raw values keep their escapes and number spellings.
pub fn indent_json(src: &[u8], prefix: &str, indent: &str) -> Vec<u8> {
    fn newline(out: &mut Vec<u8>, prefix: &str, indent: &str, depth: usize) {
        out.push(b'\n');
        out.extend_from_slice(prefix.as_bytes());
        for _ in 0..depth {
            out.extend_from_slice(indent.as_bytes());
        }
    }
    let mut out = Vec::with_capacity(src.len() * 2);
    let mut need_indent = false;
    let mut depth = 0usize;
    let mut in_string = false;
    let mut escaped = false;
    for &c in src {
        if in_string {
            out.push(c);
            if escaped {
                escaped = false;
            } else if c == b'\\' {
                escaped = true;
            } else if c == b'"' {
                in_string = false;
            }
            continue;
        }
        if matches!(c, b' ' | b'\t' | b'\n' | b'\r') {
            continue;
        }
        if need_indent && c != b'}' && c != b']' {
            need_indent = false;
            depth += 1;
            newline(&mut out, prefix, indent, depth);
        }
        match c {
            b'"' => {
                in_string = true;
                out.push(c);
            }
            b'{' | b'[' => {
                // The newline is delayed so that empty containers stay `{}` and `[]`.
                need_indent = true;
                out.push(c);
            }
            b',' => {
                out.push(c);
                newline(&mut out, prefix, indent, depth);
            }
            b':' => out.extend_from_slice(b": "),
            b'}' | b']' => {
                if need_indent {
                    need_indent = false;
                } else {
                    depth = depth.saturating_sub(1);
                    newline(&mut out, prefix, indent, depth);
                }
                out.push(c);
            }
            _ => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strings_follow_go_escaping() {
        assert_eq!(
            quote("a\"b\\c\n\r\t\u{8}\u{c}", false),
            r#""a\"b\\c\n\r\t\b\f""#
        );
        assert_eq!(quote("\u{1}\u{1f}", false), r#""\u0001\u001f""#);
        assert_eq!(quote("<a&b>", false), r#""<a&b>""#);
        assert_eq!(quote("<a&b>", true), r#""\u003ca\u0026b\u003e""#);
        assert_eq!(quote("x\u{2028}y\u{2029}z", false), r#""x\u2028y\u2029z""#);
        assert_eq!(quote("é/ü\u{7f}", false), "\"é/ü\u{7f}\"");
    }

    #[test]
    fn invalid_utf8_becomes_replacement_escape() {
        let mut out = Vec::new();
        write_bytes_as_str(&mut out, b"a\xffb", false);
        assert_eq!(out, br#""a\ufffdb""#);
    }

    #[test]
    fn floats_use_go_spelling() {
        assert_eq!(format_float(50.0), "50");
        assert_eq!(format_float(33.333333333333336), "33.333333333333336");
        assert_eq!(format_float(1e-7), "1e-7");
        assert_eq!(format_float(1.5e21), "1.5e+21");
        assert_eq!(format_float(0.000001), "0.000001");
        assert_eq!(format_float(0.0), "0");
    }

    #[test]
    fn indented_layout_matches_go_encoder() {
        let v: Value =
            serde_json::from_str(r#"{"a":1,"b":[],"c":{},"d":[1,{"e":null}],"f":"<x>","g":50.0}"#)
                .unwrap();
        let got = String::from_utf8(value_to_vec_indented(&v)).unwrap();
        let want = "{\n  \"a\": 1,\n  \"b\": [],\n  \"c\": {},\n  \"d\": [\n    1,\n    {\n      \"e\": null\n    }\n  ],\n  \"f\": \"<x>\",\n  \"g\": 50\n}\n";
        assert_eq!(got, want);
    }

    #[test]
    fn raw_values_are_compacted_with_html_escapes() {
        let mut out = Vec::new();
        compact_raw(
            &mut out,
            b"{ \"a\" : [1.50, \"<b> \\/ \\u00e9\"],\n \"c\":1e3 }",
        );
        assert_eq!(
            String::from_utf8(out).unwrap(),
            r#"{"a":[1.50,"\u003cb\u003e \/ \u00e9"],"c":1e3}"#
        );
    }
    #[test]
    fn any_values_are_sorted_and_use_float_spelling() {
        let v: Value = serde_json::from_str(
            r#"{"b":[1.50,1e3,{"z":1,"a":"<"}],"a":-0.0,"c":12345678901234567890}"#,
        )
        .unwrap();
        let mut out = Vec::new();
        write_any(&mut out, &v, true);
        assert_eq!(
            String::from_utf8(out).unwrap(),
            r#"{"a":-0,"b":[1.5,1000,{"a":"\u003c","z":1}],"c":12345678901234567000}"#
        );
    }

    #[test]
    fn indent_matches_go_json_indent() {
        let got = indent_json(
            br#"{"a":[],"b":{},"c":[1,{"d":"x, \"y\": [z]"}]}"#,
            "",
            "  ",
        );
        let want = "{\n  \"a\": [],\n  \"b\": {},\n  \"c\": [\n    1,\n    {\n      \"d\": \"x, \\\"y\\\": [z]\"\n    }\n  ]\n}";
        assert_eq!(String::from_utf8(got).unwrap(), want);
    }
}
