//! Tests of the chunkers and the reassembler.

use super::*;

#[test]
fn small_content_is_one_chunk() {
    assert_eq!(chunk_jsonl(b"a\nb\n", 10).unwrap(), vec![&b"a\nb\n"[..]]);
    for agent in ["Claude Code", "Gemini CLI", "OpenCode", "Codex"] {
        // Even content that is not valid for the agent's format: it fits, so it is not parsed.
        let chunks = chunk_for(agent, b"not json", 100).unwrap();
        assert_eq!(chunks, vec![Cow::Borrowed(&b"not json"[..])]);
    }
}

#[test]
fn chunks_rejoin_to_the_input() {
    for input in [
        &b"aaa\nbbb\nccc\nddd\n"[..],
        b"aaa\nbbb\nccc\nddd",
        b"a\n\n\nbbbbbb\nc\n",
    ] {
        let chunks = chunk_jsonl(input, 8).unwrap();
        assert!(chunks.len() > 1);
        for c in &chunks {
            assert!(c.len() < 8, "{c:?}");
        }
        assert_eq!(chunks.join(&b'\n'), input);
        assert_eq!(reassemble_for("Claude Code", &chunks), input);
    }
    assert_eq!(
        chunk_jsonl(b"aaa\nbbb\nccc\n", 8).unwrap(),
        vec![&b"aaa\nbbb"[..], b"ccc\n"]
    );
}

#[test]
fn a_line_longer_than_a_chunk_fails() {
    assert_eq!(
        chunk_jsonl(b"ok\n0123456789\n", 8),
        Err(LineTooLong { line: 2, len: 10 })
    );
    let err = chunk_for("Codex", b"ok\n0123456789\n", 8).unwrap_err();
    assert!(err
        .to_string()
        .starts_with("JSONL line 2 exceeds maximum chunk size"));
}

#[test]
fn chunk_names() {
    assert_eq!(chunk_name("full.jsonl", 0), "full.jsonl");
    assert_eq!(chunk_name("full.jsonl", 1), "full.jsonl.001");
    assert_eq!(chunk_name("raw_transcript", 12), "raw_transcript.012");
}

fn gemini_doc(n: usize) -> String {
    let messages: Vec<String> = (0..n)
        .map(|i| {
            format!(
                r#"{{"id":"m{i}","timestamp":"2026-01-01T00:00:00Z","type":"{}","content":"message <{i}> with some padding text","toolCalls":[{{"id":"c{i}","name":"ls","args":{{"z":1.50,"a":"x"}},"status":"success","result":[]}}]}}"#,
                if i % 2 == 0 { "user" } else { "gemini" }
            )
        })
        .collect();
    format!(
        "{{\n  \"sessionId\": \"s\",\n  \"messages\": [{}]\n}}",
        messages.join(",\n")
    )
}

fn messages_of(chunk: &[u8]) -> Vec<Value> {
    let v: Value = serde_json::from_slice(chunk).expect("chunk is JSON");
    v.get("messages")
        .and_then(Value::as_array)
        .cloned()
        .expect("chunk has a messages array")
}

#[test]
fn gemini_chunks_are_message_documents_below_the_limit() {
    let doc = gemini_doc(20);
    let max = 700;
    let chunks = chunk_for("Gemini CLI", doc.as_bytes(), max).unwrap();
    assert!(chunks.len() > 1);
    let mut all = Vec::new();
    for c in &chunks {
        assert!(c.len() <= max, "chunk of {} bytes", c.len());
        assert!(c.starts_with(b"{\"messages\":["));
        let v: Value = serde_json::from_slice(c).unwrap();
        assert_eq!(v.as_object().map(|o| o.len()), Some(1));
        all.extend(messages_of(c));
    }
    assert_eq!(all.len(), 20);
    // The narrow shape: known fields only, `args` keys sorted, HTML escaping on.
    assert_eq!(
        serde_json::to_string(&all[1]).unwrap(),
        r#"{"id":"m1","type":"gemini","content":"message <1> with some padding text","toolCalls":[{"id":"c1","name":"ls","args":{"a":"x","z":1.5},"status":"success"}]}"#
    );
    assert!(chunks[0].windows(6).any(|w| w == b"\\u003c"));

    let whole = reassemble_for("Gemini CLI", &chunks);
    let ids: Vec<String> = messages_of(&whole)
        .iter()
        .map(|m| m["id"].as_str().unwrap_or_default().to_string())
        .collect();
    assert_eq!(ids, (0..20).map(|i| format!("m{i}")).collect::<Vec<_>>());
}

#[test]
fn gemini_documents_of_the_wrong_shape_fail_to_chunk() {
    let doc = format!(
        r#"{{"messages":[{{"type":"user","content":[{{"text":"x"}}]}}],"pad":"{}"}}"#,
        "x".repeat(100)
    );
    assert_eq!(
        chunk_for("Gemini CLI", doc.as_bytes(), 50),
        Err(ChunkError::Document {
            format: "Gemini CLI"
        })
    );
}

fn opencode_doc(n: usize) -> String {
    let messages: Vec<String> = (0..n)
        .map(|i| {
            format!(
                r#"{{"info":{{"id":"msg{i}","sessionID":"ses","role":"assistant","time":{{"created":1773867525015,"completed":1773867526000}},"tokens":{{"input":1,"output":2,"reasoning":0,"cache":{{"read":3,"write":4}}}},"cost":0.25,"modelID":"m","unknown":true}},"parts":[{{"id":"p{i}","type":"text","text":"hello & bye"}},{{"type":"tool","tool":"bash","callID":"c{i}","state":{{"status":"completed","input":{{"command":"ls"}},"output":"ok","title":"dropped"}}}}]}}"#
            )
        })
        .collect();
    format!(
        "{{\"info\":{{\"id\":\"ses\",\"title\":\"t\",\"directory\":\"/x\"}},\"messages\":[{}]}}",
        messages.join(",")
    )
}

#[test]
fn opencode_chunks_carry_the_session_info_and_stay_below_the_limit() {
    let doc = opencode_doc(12);
    let max = 1200;
    let chunks = chunk_for("OpenCode", doc.as_bytes(), max).unwrap();
    assert!(chunks.len() > 1);
    let mut count = 0;
    for c in &chunks {
        assert!(c.len() <= max, "chunk of {} bytes", c.len());
        assert!(c.starts_with(br#"{"info":{"id":"ses","title":"t"},"messages":["#));
        count += messages_of(c).len();
    }
    assert_eq!(count, 12);
    let first = &messages_of(&chunks[0])[0];
    assert_eq!(
        serde_json::to_string(first).unwrap(),
        r#"{"info":{"id":"msg0","sessionID":"ses","role":"assistant","time":{"created":1773867525015,"completed":1773867526000},"tokens":{"input":1,"output":2,"reasoning":0,"cache":{"read":3,"write":4},"total":0},"cost":0.25,"modelID":"m"},"parts":[{"id":"p0","type":"text","text":"hello & bye"},{"type":"tool","tool":"bash","callID":"c0","state":{"status":"completed","input":{"command":"ls"},"output":"ok"}}]}"#
    );

    let whole = reassemble_for("OpenCode", &chunks);
    let v: Value = serde_json::from_slice(&whole).unwrap();
    assert_eq!(v["info"]["id"], "ses");
    assert_eq!(messages_of(&whole).len(), 12);
    assert_eq!(messages_of(&whole)[11]["info"]["id"], "msg11");
}

#[test]
fn reassembly_of_one_chunk_is_the_chunk() {
    assert_eq!(
        reassemble_for("Gemini CLI", &[b"{ \"x\": 1 }"]),
        b"{ \"x\": 1 }"
    );
    // Unparseable document chunks fall back to the JSONL join.
    assert_eq!(reassemble_for("OpenCode", &[&b"a"[..], b"b"]), b"a\nb");
}
