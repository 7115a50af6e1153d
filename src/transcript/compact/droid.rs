//! Factory AI Droid (`compact-format.md` §6): the generic JSONL converter over lines whose
//! `{"type":"message","message":{…}}` envelopes are unwrapped first.

use super::jsonl::{self, View};
use super::Writer;
use crate::transcript::rawjson::{self, Obj};

pub(super) fn convert(input: &[u8], w: &mut Writer) {
    jsonl::convert(input, w, jsonl::Unwrap::Droid);
}

/// The view of one Droid line: a qualifying envelope becomes a line of its role, with the
/// envelope's `timestamp` and the inner message (its `id` taken from the envelope when the
/// message has none). The envelope's other keys are lost, so Droid lines never carry a
/// `promptId` or `toolUseResult`. Other lines are read as they are.
pub(super) fn unwrap<'a>(o: &Obj<'a>) -> View<'a> {
    if rawjson::string_value(o, "type") == "message" {
        if let Some(mut message) = o.get("message").and_then(|m| rawjson::obj(m)) {
            let role = rawjson::string_value(&message, "role");
            if matches!(role.as_str(), "user" | "human" | "assistant") {
                if !message.contains_key("id") {
                    if let Some(id) = o.get("id") {
                        message.insert("id".to_string(), id);
                    }
                }
                return View {
                    kind: role,
                    ts: o.get("timestamp").copied(),
                    message: Some(message),
                    prompt_id: String::new(),
                    tool_use_result: None,
                };
            }
        }
    }
    View::of(o)
}
