//! Gemini CLI normalization of the stored bytes (`agents.md` §5): message contents given as
//! arrays of parts become `\n`-joined strings, so that what is stored (and redacted and
//! compacted) has one shape.
//!
//! Entire decodes the document into `map[string]json.RawMessage`, rewrites only the messages
//! whose content changes, and re-encodes with `json.MarshalIndent` — which sorts the top-level
//! keys, HTML-escapes and re-indents everything, and adds no trailing newline. When nothing
//! changes the input bytes are returned as they are.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::fmt;

use serde_json::value::RawValue;

use super::rawjson::{self, Kind};
use crate::gojson;

/// Why a document could not be normalized (the caller then stores the raw bytes).
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum NormalizeError {
    NotAnObject,
    MessagesNotAnArray,
}

impl fmt::Display for NormalizeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            NormalizeError::NotAnObject => f.write_str("transcript is not a JSON object"),
            NormalizeError::MessagesNotAnArray => f.write_str("\"messages\" is not an array"),
        }
    }
}

pub(crate) fn normalize(raw: &[u8]) -> Result<Cow<'_, [u8]>, NormalizeError> {
    let doc = rawjson::parse_obj(raw).ok_or(NormalizeError::NotAnObject)?;
    let Some(messages) = doc.get("messages") else {
        return Ok(Cow::Borrowed(raw));
    };
    let items = match rawjson::kind(messages) {
        // Go decodes `null` into an empty slice: nothing to change.
        Kind::Null => return Ok(Cow::Borrowed(raw)),
        Kind::Array => rawjson::arr(messages).ok_or(NormalizeError::MessagesNotAnArray)?,
        _ => return Err(NormalizeError::MessagesNotAnArray),
    };
    let mut changed = false;
    let encoded: Vec<Vec<u8>> = items
        .iter()
        .map(|m| match normalized_message(m) {
            Some(bytes) => {
                changed = true;
                bytes
            }
            None => rawjson::enc_raw(m),
        })
        .collect();
    if !changed {
        return Ok(Cow::Borrowed(raw));
    }
    let mut top: BTreeMap<String, Vec<u8>> = doc
        .iter()
        .map(|(k, v)| (k.clone(), rawjson::enc_raw(v)))
        .collect();
    let mut array = Vec::new();
    rawjson::write_array(&mut array, &encoded);
    top.insert("messages".to_string(), array);
    let mut compact = Vec::new();
    rawjson::write_map(&mut compact, &top);
    Ok(Cow::Owned(gojson::indent_json(&compact, "", "  ")))
}

/// The re-encoded message when its content is an array of parts, `None` when it is unchanged.
fn normalized_message(m: &RawValue) -> Option<Vec<u8>> {
    let mut o = rawjson::obj(m)?;
    let content = *o.get("content")?;
    // A string (and `null`, which Go also decodes into a string) stays as it is.
    if matches!(rawjson::kind(content), Kind::String | Kind::Null) {
        return None;
    }
    // Go decodes into `[]struct{Text string}`; any type error leaves the message alone.
    let parts = rawjson::arr(content)?;
    let mut texts = Vec::new();
    for p in parts {
        let part = rawjson::elem_obj(p).ok()?;
        let text = rawjson::typed_str(&part, "text").ok()?;
        if !text.is_empty() {
            texts.push(text);
        }
    }
    let joined = rawjson::enc_str(&texts.join("\n"));
    o.remove("content");
    let mut map: BTreeMap<String, Vec<u8>> = o
        .iter()
        .map(|(k, v)| (k.clone(), rawjson::enc_raw(v)))
        .collect();
    map.insert("content".to_string(), joined);
    let mut out = Vec::new();
    rawjson::write_map(&mut out, &map);
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unchanged_documents_keep_their_bytes() {
        let doc = b"{ \"sessionId\": \"s\",\n \"messages\": [{\"type\":\"user\",\"content\":\"<hi>\"}, {\"content\":null}] }\n";
        assert!(matches!(normalize(doc), Ok(Cow::Borrowed(b)) if b == doc));
    }

    #[test]
    fn documents_without_messages_are_unchanged() {
        let doc = b"{\"sessionId\":\"s\",\"other\":[1]}";
        assert!(matches!(normalize(doc), Ok(Cow::Borrowed(b)) if b == doc));
    }

    #[test]
    fn part_arrays_become_joined_strings_in_a_sorted_indented_document() {
        let doc = br#"{"sessionId":"s<1>","messages":[{"type":"user","id":"u","content":[{"text":"a"},{"inlineData":{"data":"AA=="}},{"text":"b & c"}]},{"type":"gemini","content":"x","z":1.50,"a":"\/"}],"kind":"main"}"#;
        let out = normalize(doc).unwrap();
        let want = concat!(
            "{\n",
            "  \"kind\": \"main\",\n",
            "  \"messages\": [\n",
            "    {\n",
            "      \"content\": \"a\\nb \\u0026 c\",\n",
            "      \"id\": \"u\",\n",
            "      \"type\": \"user\"\n",
            "    },\n",
            "    {\n",
            "      \"type\": \"gemini\",\n",
            "      \"content\": \"x\",\n",
            "      \"z\": 1.50,\n",
            "      \"a\": \"\\/\"\n",
            "    }\n",
            "  ],\n",
            "  \"sessionId\": \"s\\u003c1\\u003e\"\n",
            "}"
        );
        assert_eq!(String::from_utf8_lossy(&out), want);
    }

    #[test]
    fn parts_without_text_give_an_empty_string() {
        let doc = br#"{"messages":[{"content":[{"inlineData":{}}]}]}"#;
        let out = normalize(doc).unwrap();
        assert_eq!(
            String::from_utf8_lossy(&out),
            "{\n  \"messages\": [\n    {\n      \"content\": \"\"\n    }\n  ]\n}"
        );
    }

    #[test]
    fn malformed_documents_fail() {
        assert_eq!(normalize(b"[1]"), Err(NormalizeError::NotAnObject));
        assert_eq!(normalize(b"{\"a\":"), Err(NormalizeError::NotAnObject));
        assert_eq!(
            normalize(b"{\"messages\":{}}"),
            Err(NormalizeError::MessagesNotAnArray)
        );
    }

    #[test]
    fn storage_normalization_keeps_raw_bytes_on_failure_and_for_other_agents() {
        let bad = b"{\"messages\":3}";
        assert_eq!(
            &*super::super::normalize_for_storage("Gemini CLI", bad),
            bad
        );
        let arr = br#"{"messages":[{"content":[{"text":"a"}]}]}"#;
        assert_eq!(
            &*super::super::normalize_for_storage("Claude Code", arr),
            arr
        );
        assert_ne!(
            &*super::super::normalize_for_storage("Gemini CLI", arr),
            arr
        );
    }
}
