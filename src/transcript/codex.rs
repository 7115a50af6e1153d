//! Codex portability sanitization for v1 storage (`v1-format.md` §8.2, Entire's
//! `codex.SanitizePortableTranscript`): encrypted reasoning and compaction items cannot be
//! replayed outside the original session, so they are removed before the v1 write.
//!
//! Lines that change are re-encoded the way Go does it: the line as the struct
//! `{timestamp, type, payload}` and the payload as a `map[string]any` (keys sorted at every
//! level, numbers as float64, HTML escaping). Other lines are kept byte for byte (trimmed).

use serde_json::value::RawValue;
use serde_json::Value;

use super::rawjson;
use crate::gojson;

pub(crate) fn sanitize(data: &[u8]) -> Option<Vec<u8>> {
    let lines: Vec<&[u8]> = data
        .split(|&b| b == b'\n')
        .map(trim_space)
        .filter(|l| !l.is_empty())
        .collect();
    if lines.is_empty() {
        return None;
    }
    let kept: Vec<Vec<u8>> = lines.into_iter().filter_map(sanitize_line).collect();
    if kept.is_empty() {
        return None;
    }
    Some(kept.join(&b'\n'))
}

/// Go's `bytes.TrimSpace`: ASCII whitespace and Unicode spaces at both ends.
fn trim_space(line: &[u8]) -> &[u8] {
    match std::str::from_utf8(line) {
        Ok(s) => s.trim().as_bytes(),
        Err(_) => line.trim_ascii(),
    }
}

/// The rollout line struct: `timestamp` and `type` strings, `payload` raw.
struct RolloutLine<'a> {
    timestamp: String,
    kind: String,
    payload: Option<&'a RawValue>,
}

impl RolloutLine<'_> {
    fn encode(&self, payload: Option<&[u8]>) -> Vec<u8> {
        let mut out = b"{\"timestamp\":".to_vec();
        gojson::write_str(&mut out, &self.timestamp, true);
        out.extend_from_slice(b",\"type\":");
        gojson::write_str(&mut out, &self.kind, true);
        out.extend_from_slice(b",\"payload\":");
        match (payload, self.payload) {
            (Some(p), _) => out.extend_from_slice(p),
            (None, Some(raw)) => out.extend_from_slice(&rawjson::enc_raw(raw)),
            (None, None) => out.extend_from_slice(b"null"),
        }
        out.push(b'}');
        out
    }
}

/// The line to keep (possibly re-encoded), or `None` to drop it.
fn sanitize_line(line: &[u8]) -> Option<Vec<u8>> {
    let keep = Some(line.to_vec());
    let Some(o) = rawjson::parse_obj(line) else {
        return keep;
    };
    let (Ok(timestamp), Ok(kind)) = (
        rawjson::typed_str(&o, "timestamp"),
        rawjson::typed_str(&o, "type"),
    ) else {
        return keep;
    };
    let rl = RolloutLine {
        timestamp,
        kind,
        payload: o.get("payload").copied(),
    };
    match rl.kind.as_str() {
        "compacted" => {
            let payload = rl.payload.and_then(any_object);
            let Some(mut payload) = payload else {
                return Some(rl.encode(None));
            };
            let Some(Value::Array(history)) = payload.get_mut("replacement_history") else {
                return Some(rl.encode(None));
            };
            history.retain(|item| {
                !matches!(item_type(item), Some("compaction" | "compaction_summary"))
            });
            for item in history.iter_mut() {
                if item_type(item) == Some("reasoning") {
                    if let Value::Object(m) = item {
                        m.remove("encrypted_content");
                    }
                }
            }
            Some(rl.encode(Some(&encode_any(&payload))))
        }
        "response_item" => {
            let Some(mut payload) = rl.payload.and_then(any_object) else {
                return keep;
            };
            match payload.get("type").and_then(Value::as_str) {
                Some("reasoning") => {
                    if let Value::Object(m) = &mut payload {
                        m.remove("encrypted_content");
                    }
                    Some(rl.encode(Some(&encode_any(&payload))))
                }
                Some("compaction" | "compaction_summary") => None,
                _ => keep,
            }
        }
        _ => keep,
    }
}

/// The payload decoded as Go's `map[string]any`; `null` decodes to an empty map.
fn any_object(raw: &RawValue) -> Option<Value> {
    match serde_json::from_str::<Value>(raw.get()).ok()? {
        Value::Null => Some(Value::Object(serde_json::Map::new())),
        v @ Value::Object(_) => Some(v),
        _ => None,
    }
}

fn item_type(item: &Value) -> Option<&str> {
    item.as_object()?.get("type")?.as_str()
}

fn encode_any(v: &Value) -> Vec<u8> {
    let mut out = Vec::new();
    gojson::write_any(&mut out, v, true);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(input: &str) -> String {
        String::from_utf8(sanitize(input.as_bytes()).unwrap_or_else(|| input.as_bytes().to_vec()))
            .unwrap()
    }

    #[test]
    fn encrypted_reasoning_is_removed_and_the_line_reencoded() {
        let input = "{\"type\":\"response_item\",\"timestamp\":\"t\",\"extra\":1,\"payload\":{\"type\":\"reasoning\",\"summary\":[{\"z\":1.50,\"a\":\"<b>\"}],\"encrypted_content\":\"gAAA\",\"id\":\"r\"}}\n";
        assert_eq!(
            run(input),
            r#"{"timestamp":"t","type":"response_item","payload":{"id":"r","summary":[{"a":"\u003cb\u003e","z":1.5}],"type":"reasoning"}}"#
        );
    }

    #[test]
    fn compaction_lines_are_dropped_and_history_filtered() {
        let input = concat!(
            "{\"timestamp\":\"t1\",\"type\":\"session_meta\",\"payload\":{\"id\":\"s\"}}\n",
            "\n",
            "  {\"timestamp\":\"t2\",\"type\":\"response_item\",\"payload\":{\"type\":\"compaction\",\"encrypted_content\":\"x\"}}  \n",
            "{\"timestamp\":\"t3\",\"type\":\"response_item\",\"payload\":{\"type\":\"compaction_summary\"}}\n",
            "{\"timestamp\":\"t4\",\"type\":\"compacted\",\"payload\":{\"message\":\"m\",\"replacement_history\":[{\"type\":\"compaction\"},{\"type\":\"reasoning\",\"encrypted_content\":\"e\",\"b\":2},{\"type\":\"message\",\"role\":\"user\"},\"s\"]}}\n",
            "not json\n",
            "{\"timestamp\":\"t5\",\"type\":\"response_item\",\"payload\":{\"type\":\"message\",\"content\":\"<kept as is>\"}}\n",
        );
        let out = run(input);
        assert_eq!(
            out,
            concat!(
                "{\"timestamp\":\"t1\",\"type\":\"session_meta\",\"payload\":{\"id\":\"s\"}}\n",
                r#"{"timestamp":"t4","type":"compacted","payload":{"message":"m","replacement_history":[{"b":2,"type":"reasoning"},{"role":"user","type":"message"},"s"]}}"#,
                "\n",
                "not json\n",
                "{\"timestamp\":\"t5\",\"type\":\"response_item\",\"payload\":{\"type\":\"message\",\"content\":\"<kept as is>\"}}",
            )
        );
        assert!(!out.ends_with('\n'));
        assert!(!out.contains("\n\n"));
    }

    #[test]
    fn when_nothing_survives_the_input_is_returned() {
        let input = "{\"timestamp\":\"t\",\"type\":\"response_item\",\"payload\":{\"type\":\"compaction\"}}\n";
        assert_eq!(sanitize(input.as_bytes()), None);
        assert_eq!(
            &*super::super::sanitize_for_v1("Codex", input.as_bytes()),
            input.as_bytes()
        );
        assert_eq!(sanitize(b"\n \n"), None);
    }

    #[test]
    fn only_codex_is_sanitized() {
        let input = b"{\"type\":\"user\"}\n";
        assert_eq!(&*super::super::sanitize_for_v1("Claude Code", input), input);
        assert_eq!(
            &*super::super::sanitize_for_v1("Codex", input),
            b"{\"type\":\"user\"}"
        );
    }
}
