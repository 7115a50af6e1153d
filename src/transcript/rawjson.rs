//! Go-like loose access to JSON documents kept as raw text, shared by the transcript
//! transformations.
//!
//! Entire decodes transcripts into `map[string]json.RawMessage` and small typed structs, and
//! re-emits the raw parts untouched (compacted, HTML-escaped). To reproduce its bytes we keep
//! values as borrowed [`RawValue`]s and decode only the fields a rule looks at. Two decoding
//! flavours exist because Go has two:
//!
//! * *string value of X* (`compact-format.md` §3): a lenient read that yields `""` for anything
//!   that is not a JSON string;
//! * *typed field* reads, mirroring `json.Unmarshal` into a struct field: absent or `null` gives
//!   the zero value, a value of the wrong JSON type is an error ([`TypeMismatch`]).
//!
//! Objects are decoded into a [`BTreeMap`], which gives Go's map semantics for free: keys sorted
//! by byte order when written back, and only the last of duplicate keys kept.
//!
//! This module does not know about any transcript format; the converters do.

use std::collections::BTreeMap;

use serde_json::value::RawValue;

use crate::gojson;

/// A JSON object decoded one level deep, its values kept as raw text.
pub(crate) type Obj<'a> = BTreeMap<String, &'a RawValue>;

/// A typed read found a value of the wrong JSON type (Go's `UnmarshalTypeError`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct TypeMismatch;

/// The JSON type of a raw value, from its first byte.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    Null,
    Bool,
    Number,
    String,
    Array,
    Object,
}

pub(crate) fn kind(raw: &RawValue) -> Kind {
    match raw.get().as_bytes().first() {
        Some(b'"') => Kind::String,
        Some(b'{') => Kind::Object,
        Some(b'[') => Kind::Array,
        Some(b'n') => Kind::Null,
        Some(b't') | Some(b'f') => Kind::Bool,
        _ => Kind::Number,
    }
}

/// Parses a whole document as one JSON object (trailing garbage is an error, as in Go).
pub(crate) fn parse_obj(bytes: &[u8]) -> Option<Obj<'_>> {
    serde_json::from_slice(bytes).ok()
}

/// The object inside a raw value, if it is one.
pub(crate) fn obj(raw: &RawValue) -> Option<Obj<'_>> {
    if kind(raw) != Kind::Object {
        return None;
    }
    serde_json::from_str(raw.get()).ok()
}

/// The elements of a raw array, if it is one.
pub(crate) fn arr(raw: &RawValue) -> Option<Vec<&RawValue>> {
    if kind(raw) != Kind::Array {
        return None;
    }
    serde_json::from_str(raw.get()).ok()
}

/// The decoded string, if the raw value is a JSON string.
pub(crate) fn str_of(raw: &RawValue) -> Option<String> {
    if kind(raw) != Kind::String {
        return None;
    }
    serde_json::from_str(raw.get()).ok()
}

/// *String value of* `o[key]`: the string, or `""` for anything else.
pub(crate) fn string_value(o: &Obj<'_>, key: &str) -> String {
    o.get(key).and_then(|r| str_of(r)).unwrap_or_default()
}

/// Whether `o[key]` is present and not `null` (Go's "non-nil" for raw fields).
pub(crate) fn non_null(o: &Obj<'_>, key: &str) -> bool {
    o.get(key).is_some_and(|r| kind(r) != Kind::Null)
}

/// A typed string field: absent/`null` → `""`, a non-string → error.
pub(crate) fn typed_str(o: &Obj<'_>, key: &str) -> Result<String, TypeMismatch> {
    match o.get(key) {
        None => Ok(String::new()),
        Some(r) => match kind(r) {
            Kind::Null => Ok(String::new()),
            Kind::String => str_of(r).ok_or(TypeMismatch),
            _ => Err(TypeMismatch),
        },
    }
}

/// A typed integer field (Go `int`): absent/`null` → 0; a fraction, exponent or non-number →
/// error, as Go refuses to put `1.0` or `1e3` into an int.
pub(crate) fn typed_int(o: &Obj<'_>, key: &str) -> Result<i64, TypeMismatch> {
    match o.get(key) {
        None => Ok(0),
        Some(r) => int_of(r),
    }
}

/// [`typed_int`] for a raw value.
pub(crate) fn int_of(r: &RawValue) -> Result<i64, TypeMismatch> {
    match kind(r) {
        Kind::Null => Ok(0),
        Kind::Number => {
            let text = r.get();
            if text.bytes().all(|b| b.is_ascii_digit() || b == b'-') {
                text.parse::<i64>().map_err(|_| TypeMismatch)
            } else {
                Err(TypeMismatch)
            }
        }
        _ => Err(TypeMismatch),
    }
}

/// A typed boolean field: absent/`null` → false, a non-boolean → error.
pub(crate) fn typed_bool(o: &Obj<'_>, key: &str) -> Result<bool, TypeMismatch> {
    match o.get(key).map(|r| r.get()) {
        None | Some("null") => Ok(false),
        Some("true") => Ok(true),
        Some("false") => Ok(false),
        Some(_) => Err(TypeMismatch),
    }
}

/// A typed object field: absent/`null` → `None`, a non-object → error.
pub(crate) fn typed_obj<'a>(o: &Obj<'a>, key: &str) -> Result<Option<Obj<'a>>, TypeMismatch> {
    match o.get(key) {
        None => Ok(None),
        Some(r) => match kind(r) {
            Kind::Null => Ok(None),
            Kind::Object => obj(r).map(Some).ok_or(TypeMismatch),
            _ => Err(TypeMismatch),
        },
    }
}

/// A typed array field: absent/`null` → empty, a non-array → error.
pub(crate) fn typed_arr<'a>(o: &Obj<'a>, key: &str) -> Result<Vec<&'a RawValue>, TypeMismatch> {
    match o.get(key) {
        None => Ok(Vec::new()),
        Some(r) => match kind(r) {
            Kind::Null => Ok(Vec::new()),
            Kind::Array => arr(r).ok_or(TypeMismatch),
            _ => Err(TypeMismatch),
        },
    }
}

/// A typed object for an element of an array of structs: `null` → empty object (Go leaves the
/// zero struct), a non-object → error.
pub(crate) fn elem_obj(r: &RawValue) -> Result<Obj<'_>, TypeMismatch> {
    match kind(r) {
        Kind::Null => Ok(Obj::new()),
        Kind::Object => obj(r).ok_or(TypeMismatch),
        _ => Err(TypeMismatch),
    }
}

// ---- encoding ------------------------------------------------------------------------------

/// A string encoded the way `json.Marshal` does (HTML escaping on).
pub(crate) fn enc_str(s: &str) -> Vec<u8> {
    let mut out = Vec::with_capacity(s.len() + 2);
    gojson::write_str(&mut out, s, true);
    out
}

/// A raw value re-emitted the way `json.Marshal` re-emits a `json.RawMessage`.
pub(crate) fn enc_raw(r: &RawValue) -> Vec<u8> {
    let mut out = Vec::with_capacity(r.get().len());
    gojson::compact_raw(&mut out, r.get().as_bytes());
    out
}

/// A Go map of already encoded values: `{"k":v,…}` with keys in byte order.
pub(crate) fn write_map(out: &mut Vec<u8>, map: &BTreeMap<String, Vec<u8>>) {
    out.push(b'{');
    for (i, (k, v)) in map.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        gojson::write_str(out, k, true);
        out.push(b':');
        out.extend_from_slice(v);
    }
    out.push(b'}');
}

/// A JSON array of already encoded elements.
pub(crate) fn write_array(out: &mut Vec<u8>, items: &[Vec<u8>]) {
    out.push(b'[');
    for (i, item) in items.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        out.extend_from_slice(item);
    }
    out.push(b']');
}

/// An [`Obj`] re-encoded as a Go map: sorted keys, raw values compacted.
pub(crate) fn enc_obj(o: &Obj<'_>) -> Vec<u8> {
    let map: BTreeMap<String, Vec<u8>> = o.iter().map(|(k, v)| (k.clone(), enc_raw(v))).collect();
    let mut out = Vec::new();
    write_map(&mut out, &map);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn typed_reads_follow_go_unmarshal() {
        let o =
            parse_obj(br#"{"s":"x","n":null,"i":3,"f":1.0,"e":1e3,"b":true,"o":{"a":1}}"#).unwrap();
        assert_eq!(typed_str(&o, "s"), Ok("x".into()));
        assert_eq!(typed_str(&o, "n"), Ok(String::new()));
        assert_eq!(typed_str(&o, "missing"), Ok(String::new()));
        assert_eq!(typed_str(&o, "i"), Err(TypeMismatch));
        assert_eq!(typed_int(&o, "i"), Ok(3));
        assert_eq!(typed_int(&o, "n"), Ok(0));
        assert_eq!(typed_int(&o, "f"), Err(TypeMismatch));
        assert_eq!(typed_int(&o, "e"), Err(TypeMismatch));
        assert_eq!(typed_bool(&o, "b"), Ok(true));
        assert_eq!(typed_bool(&o, "s"), Err(TypeMismatch));
        assert!(typed_obj(&o, "o").unwrap().is_some());
        assert_eq!(string_value(&o, "i"), "");
    }

    #[test]
    fn objects_keep_the_last_duplicate_and_sort_keys() {
        let o = parse_obj(br#"{"b":1,"a":"<x>","b":2}"#).unwrap();
        assert_eq!(enc_obj(&o), br#"{"a":"\u003cx\u003e","b":2}"#);
    }
}
