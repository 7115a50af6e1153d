//! Redaction behaviour (`redaction.md`): the §6 vectors with the entropy detector alone, the
//! JSON-aware walk, the built-in rule corpus (positives and negatives for every rule), the
//! false-positive corpus, idempotence, and loading user rule files.

use git_attach::redact::{Redactor, RuleSources};

fn entropy() -> Redactor {
    Redactor::entropy_only()
}

fn builtin() -> Redactor {
    Redactor::builtin().unwrap_or_else(|e| panic!("built-in rules must load: {e}"))
}

fn transcript(r: &Redactor, s: &str) -> String {
    let out = r
        .transcript(s.as_bytes())
        .unwrap_or_else(|e| panic!("redaction failed: {e}"));
    String::from_utf8(out).unwrap_or_else(|e| panic!("output not UTF-8: {e}"))
}

// ---------------------------------------------------------------------------------------------
// §6 vectors, entropy detector only
// ---------------------------------------------------------------------------------------------

#[test]
fn section6_vectors_with_entropy_only() {
    let r = entropy();
    let cases: &[(&str, &str)] = &[
        (
            "my key is sk-ant-api03-xK9mZ2vL8nQ5rT1wY4bC7dF0gH3jE6pA ok",
            "my key is REDACTED ok",
        ),
        (
            "key=sk-ant-api03-xK9mZ2vL8nQ5rT1wY4bC7dF0gH3jE6pA",
            "REDACTED",
        ),
        (
            "token=ghp_1234567890abcdefghijklmnopqrstuvwxyzAB",
            "REDACTED",
        ),
        ("key=AKIAYRWQG5EJLPZLBYNP", "key=AKIAYRWQG5EJLPZLBYNP"),
        ("abcdefghijklmnopqrstuv", "abcdefghijklmnopqrstuv"),
        ("abcdefghijklmnopqrstuvw", "REDACTED"),
        (r"\nABCDEFGHIJKLMNOPQRSTUVWXYZ", r"\nREDACTED"),
        (r"controller.go\nmodel.go", r"controller.go\nmodel.go"),
        (
            "/repo/TestE2E_Something3407889464/001/controller.go",
            "/repo/TestE2E_Something3407889464/001/controller.go",
        ),
    ];
    for (input, want) in cases {
        assert_eq!(r.string(input), *want, "input {input:?}");
    }
}

#[test]
fn section6_json_vectors_with_entropy_only() {
    let r = entropy();
    assert_eq!(
        transcript(
            &r,
            r#"{"type":"text","content":"key=sk-ant-api03-xK9mZ2vL8nQ5rT1wY4bC7dF0gH3jE6pA"}"#
        ),
        r#"{"type":"text","content":"REDACTED"}"#
    );
    let unchanged = r#"{"sessionId":"sk-ant-api03-xK9mZ2vL8nQ5rT1wY4bC7dF0gH3jE6pA"}"#;
    assert_eq!(transcript(&r, unchanged), unchanged);
}

#[test]
fn aws_key_id_needs_the_rule_engine() {
    assert_eq!(builtin().string("key=AKIAYRWQG5EJLPZLBYNP"), "key=REDACTED");
}

// ---------------------------------------------------------------------------------------------
// JSON mode (§4, §7.8)
// ---------------------------------------------------------------------------------------------

const SECRET: &str = "sk-ant-api03-xK9mZ2vL8nQ5rT1wY4bC7dF0gH3jE6pA";

#[test]
fn skipped_keys_stay_untouched() {
    let r = builtin();
    for key in [
        "id",
        "uuid",
        "parentUuid",
        "sessionId",
        "tool_use_id",
        "promptId",
        "requestId",
        "callID",
        "toolCallId",
        "signature",
        "cwd",
        "root",
        "directory",
        "dir",
        "path",
        "filePath",
        "file_path",
    ] {
        let line = format!(r#"{{"{key}":"{SECRET}","n":1}}"#);
        assert_eq!(transcript(&r, &line), line, "key {key}");
    }
}

#[test]
fn image_and_base64_objects_stay_untouched() {
    let r = builtin();
    let lines = [
        format!(
            r#"{{"type":"image","source":{{"type":"base64","media_type":"image/png","data":"{SECRET}"}}}}"#
        ),
        format!(r#"{{"type":"image_url","url":"{SECRET}"}}"#),
        format!(r#"{{"data":"{SECRET}","type":"base64"}}"#),
    ];
    for line in &lines {
        assert_eq!(&transcript(&r, line), line);
    }
    // A sibling text block on the same line is still redacted.
    let mixed = format!(
        r#"{{"content":[{{"type":"image","source":{{"type":"base64","data":"iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg=="}}}},{{"type":"text","text":"use {SECRET}"}}]}}"#
    );
    let out = transcript(&r, &mixed);
    assert!(out.contains("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg=="));
    assert!(out.contains(r#""text":"use REDACTED""#), "{out}");
}

#[test]
fn unicode_escaped_value_is_still_redacted() {
    let r = builtin();
    // `\u0073` is `s`: Entire's textual substitution cannot find this spelling.
    let escaped: String = SECRET.replacen('s', "\\u0073", 1);
    let line = format!(r#"{{"type":"text","text":"key {escaped} end","n":1.50}}"#);
    let out = transcript(&r, &line);
    assert_eq!(out, r#"{"type":"text","text":"key REDACTED end","n":1.50}"#);
    let slash = r#"{"text":"see https:\/\/hooks.slack.com\/services\/T00000000\/B00000000\/FAKEfakeFAKEfakeFAKEfake"}"#;
    let out = transcript(&r, slash);
    assert!(!out.contains("FAKEfake"), "{out}");
}

#[test]
fn raw_u2028_value_is_still_redacted() {
    let r = builtin();
    let line = format!("{{\"text\":\"a\u{2028}b {SECRET}\"}}\n");
    let out = transcript(&r, &line);
    assert!(!out.contains("xK9mZ2vL8nQ5"), "{out}");
    assert!(out.contains("REDACTED"));
    assert!(out.ends_with("}\n"));
}

#[test]
fn crlf_lines_and_missing_final_newline_survive() {
    let r = builtin();
    let input = format!(
        "{{\"type\":\"user\",\"text\":\"hello\"}}\r\n{{\"text\":\"{SECRET}\"}}\r\n\r\nplain {SECRET}\r\n{{\"text\":\"last\"}}"
    );
    let out = transcript(&r, &input);
    assert_eq!(
        out,
        "{\"type\":\"user\",\"text\":\"hello\"}\r\n{\"text\":\"REDACTED\"}\r\n\r\nplain REDACTED\r\n{\"text\":\"last\"}"
    );
    let clean = "{\"a\":\"b\"}\r\n{\"c\":1}";
    assert_eq!(transcript(&r, clean), clean);
}

#[test]
fn textual_substitution_reaches_every_identical_literal() {
    // Entire's behaviour: the same literal under a skipped key is replaced too.
    let r = builtin();
    let line = format!(r#"{{"text":"{SECRET}","id":"{SECRET}"}}"#);
    assert_eq!(
        transcript(&r, &line),
        r#"{"text":"REDACTED","id":"REDACTED"}"#
    );
}

#[test]
fn single_document_mode_keeps_layout() {
    let r = builtin();
    let doc = format!("{{\n  \"messages\": [\n    {{\n      \"content\": \"token {SECRET}\"\n    }}\n  ],\n  \"sessionId\": \"abc\"\n}}\n");
    let out = transcript(&r, &doc);
    assert_eq!(
        out,
        doc.replace(&format!("token {SECRET}"), "token REDACTED")
    );
}

#[test]
fn non_json_line_uses_plain_text_with_escape_guard() {
    let r = builtin();
    let line = r"not json: controller.go\nABCDEFGHIJKLMNOPQRSTUVWXYZ";
    assert_eq!(transcript(&r, line), r"not json: controller.go\nREDACTED");
}

#[test]
fn invalid_utf8_line_is_handled() {
    let r = builtin();
    let mut input = b"{\"text\":\"bad \xff byte\"}\nplain \xfe ".to_vec();
    input.extend_from_slice(SECRET.as_bytes());
    input.extend_from_slice(b"\n");
    let out = r.transcript(&input).unwrap_or_else(|e| panic!("{e}"));
    assert!(out.starts_with(b"{\"text\":\"bad \xff byte\"}\nplain \xfe REDACTED\n"));
    // Unchanged input is returned byte for byte.
    let clean = b"{\"text\":\"bad \xff byte\"}\n".to_vec();
    assert_eq!(
        r.transcript(&clean).unwrap_or_else(|e| panic!("{e}")),
        clean
    );
}

#[test]
fn invalid_utf8_json_line_with_secret_is_rebuilt() {
    let r = builtin();
    let mut input = b"{\"text\":\"bad \xff ".to_vec();
    input.extend_from_slice(SECRET.as_bytes());
    input.extend_from_slice(b"\",\"n\":1e3}\n");
    let out = r.transcript(&input).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        out,
        "{\"text\":\"bad \u{FFFD} REDACTED\",\"n\":1e3}\n".as_bytes()
    );
}
