//! Unit tests of the compact converters: the byte-exact vectors of `compact-format.md` §13.3,
//! the behaviour vectors of §13.4 and the extra ones listed after it, start-line handling, and
//! format detection (§4).

use super::*;
use serde_json::Value;
use sha2::{Digest, Sha256};

const PREFIX: &str = r#""v":1,"agent":"claude-code","cli_version":"0.5.1","#;

fn run(input: &str) -> String {
    let out = compact(input.as_bytes(), "claude-code", "0.5.1", 0).expect("compacts");
    String::from_utf8(out).expect("utf-8 output")
}

/// §13.2: non-empty lines compared as JSON values.
fn assert_lines(actual: &str, expected: &[String]) {
    let got: Vec<Value> = actual
        .split('\n')
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).expect("actual line is JSON"))
        .collect();
    let want: Vec<Value> = expected
        .iter()
        .map(|l| serde_json::from_str(l).expect("expected line is JSON"))
        .collect();
    assert_eq!(got, want, "actual output:\n{actual}");
}

/// An expected line from the spec's `{…` shorthand.
fn line(rest: &str) -> String {
    format!("{{{PREFIX}{rest}")
}

// ---- §13.3 byte-exact vectors --------------------------------------------------------------

#[test]
fn user_string_prompt_is_byte_exact() {
    let input = "{\"type\":\"user\",\"uuid\":\"u1\",\"timestamp\":\"2026-01-01T00:00:00Z\",\"message\":{\"content\":\"hello\"}}\n";
    assert_eq!(
        run(input),
        "{\"v\":1,\"agent\":\"claude-code\",\"cli_version\":\"0.5.1\",\"type\":\"user\",\"ts\":\"2026-01-01T00:00:00Z\",\"content\":[{\"text\":\"hello\"}]}\n"
    );
}

#[test]
fn v2_worked_example_has_the_documented_bytes_and_hash() {
    let input = concat!(
        r#"{"type":"user","message":{"role":"user","content":"create hello.txt"},"uuid":"uuid-1"}"#,
        "\n",
        r#"{"type":"assistant","message":{"role":"assistant","content":[{"type":"tool_use","id":"tu_1","name":"Write","input":{"file_path":"hello.txt","content":"hello"}}]},"uuid":"uuid-2"}"#,
        "\n",
        r#"{"type":"user","message":{"content":[{"type":"tool_result","tool_use_id":"tu_1","content":"wrote file"}]},"uuid":"uuid-3"}"#,
        "\n",
        r#"{"type":"assistant","message":{"role":"assistant","content":[{"type":"text","text":"Done."}]},"uuid":"uuid-4"}"#,
        "\n",
    );
    assert_eq!(input.len(), 500);
    let out = compact(input.as_bytes(), "Claude Code", "dev", 0).expect("compacts");
    let expected = concat!(
        r#"{"v":1,"agent":"Claude Code","cli_version":"dev","type":"user","content":[{"text":"create hello.txt"}]}"#,
        "\n",
        r#"{"v":1,"agent":"Claude Code","cli_version":"dev","type":"assistant","content":[{"id":"tu_1","input":{"file_path":"hello.txt","content":"hello"},"name":"Write","result":{"output":"wrote file","status":"success"},"type":"tool_use"}]}"#,
        "\n",
        r#"{"v":1,"agent":"Claude Code","cli_version":"dev","type":"assistant","content":[{"text":"Done.","type":"text"}]}"#,
        "\n",
    );
    assert_eq!(String::from_utf8_lossy(&out), expected);
    assert_eq!(out.len(), 448);
    let hash: String = Sha256::digest(&out)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    assert_eq!(
        hash,
        "36e49f9c0c7f667242718931b29a638528ff0d4a440c0688a6a88175c15ac443"
    );
}

/// §12: raw values keep their spelling (escapes, numbers, key order) but are compacted and get
/// HTML escapes; converter-made strings are Go-escaped; assistant blocks are sorted maps.
#[test]
fn raw_values_and_built_strings_follow_go_encoding() {
    let input = concat!(
        r#"{"type":"assistant","timestamp": "t\u0031" ,"message":{"id":"m<1>","content":[{"type":"tool_use","name":"Bash","id":"x","input":{ "z" : 1.50, "a":"\/ <b> &", "n":1e3 }}]}}"#,
        "\n",
        r#"{"type":"user","message":{"content":[{"type":"tool_result","tool_use_id":"x","content":"a<b>\u2028"}]}}"#,
        "\n",
    );
    assert_eq!(
        run(input),
        format!(
            "{{{PREFIX}\"type\":\"assistant\",\"ts\":\"t\\u0031\",\"id\":\"m\\u003c1\\u003e\",\"content\":[{{\"id\":\"x\",\"input\":{{\"z\":1.50,\"a\":\"\\/ \\u003cb\\u003e \\u0026\",\"n\":1e3}},\"name\":\"Bash\",\"result\":{{\"output\":\"a\\u003cb\\u003e\\u2028\",\"status\":\"success\"}},\"type\":\"tool_use\"}}]}}\n"
        )
    );
}

#[test]
fn user_image_blocks_keep_source_key_order() {
    let input = r#"{"type":"user","message":{"content":[{"type":"text","text":"see"},{"type":"image","source":{"type":"base64","data":"AA=="}}]}}"#;
    assert_eq!(
        run(input),
        format!(
            "{{{PREFIX}\"type\":\"user\",\"content\":[{{\"text\":\"see\"}},{{\"type\":\"image\",\"source\":{{\"type\":\"base64\",\"data\":\"AA==\"}}}}]}}\n"
        )
    );
}

// ---- §13.4 behaviour vectors ---------------------------------------------------------------

#[test]
fn thinking_only_assistant_is_dropped() {
    let input = r#"{"type":"assistant","timestamp":"t1","message":{"id":"m1","content":[{"type":"thinking","thinking":"hmm"}]}}"#;
    assert_eq!(run(&format!("{input}\n")), "");
}

#[test]
fn streaming_fragments_merge_with_later_ts_and_non_zero_tokens() {
    let input = concat!(
        r#"{"type":"assistant","timestamp":"t1","message":{"id":"m1","content":[{"type":"thinking","thinking":"a"}],"usage":{"input_tokens":100,"output_tokens":5}}}"#,
        "\n",
        r#"{"type":"assistant","timestamp":"t2","message":{"id":"m1","content":[{"type":"text","text":"done"}],"usage":{"input_tokens":0,"output_tokens":42}}}"#,
        "\n",
    );
    assert_lines(
        &run(input),
        &[line(
            r#""type":"assistant","ts":"t2","id":"m1","input_tokens":100,"output_tokens":42,"content":[{"text":"done","type":"text"}]}"#,
        )],
    );
}

#[test]
fn result_is_inlined_with_file_metadata_and_text_kept_as_its_own_line() {
    let input = concat!(
        r#"{"type":"assistant","timestamp":"t0","message":{"id":"m1","content":[{"type":"tool_use","id":"tu1","name":"Read","input":{"file_path":"/r/a.go"},"caller":"x"}]}}"#,
        "\n",
        r#"{"type":"user","promptId":"p9","timestamp":"t1","message":{"content":[{"type":"tool_result","tool_use_id":"tu1","content":"pkg"},{"type":"text","text":"<system-reminder>x</system-reminder> next"}]},"toolUseResult":{"file":{"filePath":"/r/a.go","numLines":3}}}"#,
        "\n",
    );
    assert_lines(
        &run(input),
        &[
            line(
                r#""type":"assistant","ts":"t0","id":"m1","content":[{"id":"tu1","input":{"file_path":"/r/a.go"},"name":"Read","result":{"output":"pkg","status":"success","file":{"filePath":"/r/a.go","numLines":3}},"type":"tool_use"}]}"#,
            ),
            line(r#""type":"user","ts":"t1","content":[{"id":"p9","text":"next"}]}"#),
        ],
    );
}

#[test]
fn stdout_replaces_output_and_error_and_match_count_are_set() {
    let input = concat!(
        r#"{"type":"assistant","message":{"id":"m1","content":[{"type":"tool_use","id":"a","name":"Bash","input":{"command":"ls"}}]}}"#,
        "\n",
        r#"{"type":"user","message":{"content":[{"type":"tool_result","tool_use_id":"a","content":[{"type":"text","text":"x"}],"is_error":true}]},"toolUseResult":{"stdout":"out","numFiles":2}}"#,
        "\n",
    );
    let out = run(input);
    assert_lines(
        &out,
        &[line(
            r#""type":"assistant","id":"m1","content":[{"id":"a","input":{"command":"ls"},"name":"Bash","result":{"output":"out","status":"error","matchCount":2},"type":"tool_use"}]}"#,
        )],
    );
    // The result object has a fixed shape: output, status, file, matchCount.
    assert!(out.contains(r#""result":{"output":"out","status":"error","matchCount":2}"#));
}

#[test]
fn cursor_role_lines_lose_user_query_tags() {
    let input = concat!(
        r#"{"role":"user","message":{"content":[{"type":"text","text":"<user_query>\nfix it\n</user_query>"}]}}"#,
        "\n",
        r#"{"role":"assistant","message":{"content":[{"type":"text","text":"ok"}]}}"#,
        "\n",
    );
    assert_lines(
        &run(input),
        &[
            line(r#""type":"user","content":[{"text":"fix it"}]}"#),
            line(r#""type":"assistant","content":[{"text":"ok","type":"text"}]}"#),
        ],
    );
}

#[test]
fn user_line_without_message_has_an_empty_text_block() {
    assert_lines(
        &run("{\"type\":\"user\",\"timestamp\":\"t\"}\n"),
        &[line(r#""type":"user","ts":"t","content":[{"text":""}]}"#)],
    );
}

#[test]
fn orphan_result_only_user_is_dropped_and_string_content_kept() {
    let input = concat!(
        r#"{"type":"user","message":{"content":[{"type":"tool_result","tool_use_id":"z","content":"q"}]}}"#,
        "\n",
        r#"{"type":"assistant","message":{"id":"m","content":"plain"}}"#,
        "\n",
    );
    assert_lines(
        &run(input),
        &[line(r#""type":"assistant","id":"m","content":"plain"}"#)],
    );
}

// ---- extra vectors ported from Entire's tests ----------------------------------------------

#[test]
fn image_only_user_line_has_no_text_block() {
    let input = r#"{"type":"user","message":{"content":[{"type":"image","source":{"type":"base64","media_type":"image/png","data":"AA=="}}]}}"#;
    assert_lines(
        &run(input),
        &[line(
            r#""type":"user","content":[{"type":"image","source":{"type":"base64","media_type":"image/png","data":"AA=="}}]}"#,
        )],
    );
}

#[test]
fn human_lines_are_user_lines() {
    assert_lines(
        &run(r#"{"type":"human","message":{"content":"hi"}}"#),
        &[line(r#""type":"user","content":[{"text":"hi"}]}"#)],
    );
}

#[test]
fn malformed_and_dropped_lines_produce_nothing() {
    let input = concat!(
        "not json\n",
        "{\"type\":\"user\"\n",
        "   \n",
        r#"{"type":"progress","message":{"content":"x"}}"#,
        "\n",
        r#"{"type":"system","message":{"content":"x"}}"#,
        "\n",
        r#"{"type":"file-history-snapshot"}"#,
        "\n",
        r#"{"type":"queue-operation"}"#,
        "\n",
        r#"{"type":"summary","summary":"x"}"#,
        "\n",
        "[1,2]\n",
    );
    assert_eq!(run(input), "");
}

#[test]
fn empty_input_gives_zero_bytes() {
    assert_eq!(run(""), "");
    assert_eq!(run("\n\n"), "");
}

#[test]
fn start_line_beyond_the_end_gives_zero_bytes() {
    let input = "{\"type\":\"user\",\"message\":{\"content\":\"a\"}}\n";
    for n in [1, 2, 100] {
        assert!(compact(input.as_bytes(), "a", "v", n).unwrap().is_empty());
    }
}

#[test]
fn start_line_skips_leading_lines() {
    let input = "{\"type\":\"user\",\"message\":{\"content\":\"a\"}}\n{\"type\":\"user\",\"message\":{\"content\":\"b\"}}\n";
    assert_lines(
        &String::from_utf8(compact(input.as_bytes(), "claude-code", "0.5.1", 1).unwrap()).unwrap(),
        &[line(r#""type":"user","content":[{"text":"b"}]}"#)],
    );
}

#[test]
fn start_line_skips_messages_of_documents() {
    let gemini = r#"{"sessionId":"s","messages":[{"type":"user","content":"a","timestamp":"t1"},{"type":"user","content":"b","timestamp":"t2"}]}"#;
    let out = compact(gemini.as_bytes(), "claude-code", "0.5.1", 1).unwrap();
    assert_lines(
        &String::from_utf8(out).unwrap(),
        &[line(r#""type":"user","ts":"t2","content":[{"text":"b"}]}"#)],
    );
    assert!(compact(gemini.as_bytes(), "a", "v", 2).unwrap().is_empty());
}

#[test]
fn assistant_without_content_key_is_emitted_with_null_content() {
    assert_eq!(
        run(r#"{"type":"assistant","message":{"id":"m"}}"#),
        format!("{{{PREFIX}\"type\":\"assistant\",\"id\":\"m\",\"content\":null}}\n")
    );
    assert_eq!(
        run(r#"{"type":"assistant","message":{"content":null}}"#),
        ""
    );
}

// ---- other converters ----------------------------------------------------------------------

#[test]
fn droid_envelopes_are_unwrapped_with_the_envelope_id() {
    let input = concat!(
        r#"{"type":"session_start","id":"s"}"#,
        "\n",
        r#"{"type":"message","id":"e1","timestamp":"t1","message":{"role":"assistant","content":[{"type":"text","text":"hi"}]}}"#,
        "\n",
    );
    assert_eq!(detect(input.as_bytes()), Format::Droid);
    assert_lines(
        &run(input),
        &[line(
            r#""type":"assistant","ts":"t1","id":"e1","content":[{"text":"hi","type":"text"}]}"#,
        )],
    );
}

#[test]
fn gemini_type_errors_fail_the_whole_conversion() {
    let doc =
        r#"{"sessionId":"s","messages":[{"type":"user","content":"a","tokens":{"input":"x"}}]}"#;
    assert!(compact(doc.as_bytes(), "gemini-cli", "v", 0).is_err());
}

#[test]
fn gemini_tool_calls_become_sorted_tool_use_blocks() {
    let doc = r#"{"sessionId":"s","messages":[{"id":"g1","type":"gemini","timestamp":"t","content":[{"text":"a"},{"text":"b"}],"toolCalls":[{"name":"ls","args":null,"status":"error","result":[{"functionResponse":{"response":{"output":"<o>"}}}]}],"tokens":{"input":3,"output":4}}]}"#;
    let out = compact(doc.as_bytes(), "gemini-cli", "0.5.1", 0).unwrap();
    assert_eq!(
        String::from_utf8(out).unwrap(),
        "{\"v\":1,\"agent\":\"gemini-cli\",\"cli_version\":\"0.5.1\",\"type\":\"assistant\",\"ts\":\"t\",\"id\":\"g1\",\"input_tokens\":3,\"output_tokens\":4,\"content\":[{\"text\":\"ab\",\"type\":\"text\"},{\"id\":\"\",\"input\":null,\"name\":\"ls\",\"result\":{\"output\":\"\\u003co\\u003e\",\"status\":\"error\"},\"type\":\"tool_use\"}]}\n"
    );
}

#[test]
fn opencode_user_without_text_has_null_content() {
    let doc = r#"{"info":{"id":"s"},"messages":[{"info":{"id":"u","role":"user","time":{"created":1773867525015}},"parts":[{"type":"file"}]},{"info":{"id":"a","role":"assistant"},"parts":[]}]}"#;
    let out = compact(doc.as_bytes(), "opencode", "0.5.1", 0).unwrap();
    assert_eq!(
        String::from_utf8(out).unwrap(),
        concat!(
            r#"{"v":1,"agent":"opencode","cli_version":"0.5.1","type":"user","ts":"2026-03-18T20:58:45.015Z","content":null}"#,
            "\n",
            r#"{"v":1,"agent":"opencode","cli_version":"0.5.1","type":"assistant","id":"a","content":[]}"#,
            "\n"
        )
    );
}

#[test]
fn codex_custom_tool_call_gets_its_output_and_following_tokens() {
    let input = concat!(
        r#"{"timestamp":"t0","type":"session_meta","payload":{}}"#,
        "\n",
        r#"{"timestamp":"t1","type":"response_item","payload":{"type":"custom_tool_call","call_id":"c","name":"apply_patch","input":"*** x"}}"#,
        "\n",
        r#"{"timestamp":"t2","type":"event_msg","payload":{"type":"token_count","input_tokens":5,"output_tokens":6}}"#,
        "\n",
        r#"{"timestamp":"t3","type":"response_item","payload":{"type":"custom_tool_call_output","call_id":"c","output":{"text":"ok"}}}"#,
        "\n",
    );
    assert_eq!(detect(input.as_bytes()), Format::Codex);
    let out = compact(input.as_bytes(), "codex", "0.5.1", 0).unwrap();
    assert_eq!(
        String::from_utf8(out).unwrap(),
        "{\"v\":1,\"agent\":\"codex\",\"cli_version\":\"0.5.1\",\"type\":\"assistant\",\"ts\":\"t1\",\"input_tokens\":5,\"output_tokens\":6,\"content\":[{\"id\":\"c\",\"input\":{\"input\":\"*** x\"},\"name\":\"apply_patch\",\"result\":{\"output\":\"ok\",\"status\":\"success\"},\"type\":\"tool_use\"}]}\n"
    );
}

#[test]
fn copilot_results_attach_to_the_pending_assistant_line() {
    let input = concat!(
        r#"{"type":"session.start","timestamp":"t0","data":{}}"#,
        "\n",
        r#"{"type":"user.message","timestamp":"t1","data":{"content":"go"}}"#,
        "\n",
        r#"{"type":"assistant.message","timestamp":"t2","data":{"messageId":"m","content":"","toolRequests":[{"toolCallId":"k","name":"bash","arguments":{"c":1}}],"outputTokens":7}}"#,
        "\n",
        r#"{"type":"tool.execution_complete","timestamp":"t3","data":{"toolCallId":"k","success":false,"result":{"content":"","detailedContent":"boom"}}}"#,
        "\n",
    );
    assert_eq!(detect(input.as_bytes()), Format::Copilot);
    let out = compact(input.as_bytes(), "copilot-cli", "0.5.1", 0).unwrap();
    assert_eq!(
        String::from_utf8(out).unwrap(),
        concat!(
            r#"{"v":1,"agent":"copilot-cli","cli_version":"0.5.1","type":"user","ts":"t1","content":[{"text":"go"}]}"#,
            "\n",
            r#"{"v":1,"agent":"copilot-cli","cli_version":"0.5.1","type":"assistant","ts":"t2","id":"m","output_tokens":7,"content":[{"id":"k","input":{"c":1},"name":"bash","result":{"output":"boom","status":"error"},"type":"tool_use"}]}"#,
            "\n"
        )
    );
}

// ---- detection (§4) ------------------------------------------------------------------------

#[test]
fn detection_recognises_each_family() {
    let cases: [(&str, Format); 8] = [
        (r#"{"info":{"id":"s"},"messages":[]}"#, Format::OpenCode),
        (
            "\n  {\"sessionId\":\"s\",\"messages\":[]}\n",
            Format::Gemini,
        ),
        (
            "{\"timestamp\":\"t\",\"type\":\"turn_context\",\"payload\":{}}\n",
            Format::Codex,
        ),
        (
            "{\"type\":\"session.start\",\"data\":{}}\n",
            Format::Copilot,
        ),
        (
            "{\"type\":\"message\",\"message\":{\"role\":\"user\"}}\n",
            Format::Droid,
        ),
        ("{\"type\":\"user\",\"message\":{}}\n", Format::Jsonl),
        ("{\"role\":\"user\",\"message\":{}}\n", Format::Jsonl),
        ("", Format::Jsonl),
    ];
    for (input, want) in cases {
        assert_eq!(detect(input.as_bytes()), want, "{input:?}");
    }
}

#[test]
fn detection_order_resolves_overlaps() {
    // A document with `info` is OpenCode even when it has a sessionId; a null `info` is not.
    assert_eq!(
        detect(br#"{"sessionId":"s","info":{},"messages":[]}"#),
        Format::OpenCode
    );
    assert_eq!(
        detect(br#"{"sessionId":"s","info":null,"messages":[]}"#),
        Format::Gemini
    );
    // Null `messages` is neither document format.
    assert_eq!(
        detect(br#"{"sessionId":"s","messages":null}"#),
        Format::Jsonl
    );
    // Only the first parseable Codex line decides.
    assert_eq!(
        detect(b"garbage\n{\"type\":\"user\"}\n{\"type\":\"response_item\"}\n"),
        Format::Jsonl
    );
    assert_eq!(
        detect(b"garbage\n{\"type\":\"event_msg\"}\n{\"type\":\"user\"}\n"),
        Format::Codex
    );
    // Copilot: the first deciding line wins; unknown types are skipped.
    assert_eq!(
        detect(b"{\"type\":\"x\"}\n{\"type\":\"user\"}\n{\"type\":\"user.message\"}\n"),
        Format::Jsonl
    );
    assert_eq!(
        detect(b"{\"type\":\"x\"}\n{\"type\":\"assistant.message\"}\n{\"type\":\"user\"}\n"),
        Format::Copilot
    );
    // Droid: a `message` envelope needs a non-null message; Claude types rule it out.
    assert_eq!(
        detect(b"{\"type\":\"message\",\"message\":null}\n{\"type\":\"user\"}\n"),
        Format::Jsonl
    );
    assert_eq!(
        detect(b"{\"type\":\"progress\"}\n{\"type\":\"message\",\"message\":{}}\n"),
        Format::Jsonl
    );
    // A Pi header followed by message envelopes is classified as Droid.
    assert_eq!(
        detect(b"{\"type\":\"session\",\"version\":3}\n{\"type\":\"message\",\"message\":{\"role\":\"user\"}}\n"),
        Format::Droid
    );
}

#[test]
fn copilot_and_droid_detection_see_the_cut_input() {
    // The Copilot marker is before the start line, so the rest is read as generic JSONL.
    let input = "{\"type\":\"session.start\",\"data\":{}}\n{\"type\":\"user\",\"message\":{\"content\":\"x\"}}\n";
    let out = compact(input.as_bytes(), "a", "v", 1).unwrap();
    assert_eq!(
        String::from_utf8(out).unwrap(),
        "{\"v\":1,\"agent\":\"a\",\"cli_version\":\"v\",\"type\":\"user\",\"content\":[{\"text\":\"x\"}]}\n"
    );
}

#[test]
fn clean_strips_context_tags_in_order() {
    assert_eq!(
        clean(" <ide_opened_file>a\nb</ide_opened_file>x<command-name>/c</command-name><user_query>q</user_query>\n"),
        "xq"
    );
    assert_eq!(
        clean("<system-reminder>a</system-reminder> b <system-reminder>c</system-reminder>"),
        "b"
    );
}

#[test]
fn null_blocks_are_kept_and_neighbours_still_stripped() {
    let input = concat!(
        r#"{"type":"assistant","message":{"id":"m","content":[null,{"type":"text","text":"a","x":1},{"type":"tool_use","id":"t","name":"n","input":{},"caller":"c"}]}}"#,
        "\n",
        r#"{"type":"user","message":{"content":[{"type":"tool_result","tool_use_id":"t","content":"r"}]}}"#,
        "\n",
    );
    let want = concat!(
        r#""type":"assistant","id":"m","content":[null,{"text":"a","type":"text","x":1},"#,
        r#"{"id":"t","input":{},"name":"n","result":{"output":"r","status":"success"},"type":"tool_use"}]}"#,
    );
    assert_eq!(run(input), format!("{{{PREFIX}{want}\n"));
}
