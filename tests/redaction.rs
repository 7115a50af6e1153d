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

// ---------------------------------------------------------------------------------------------
// Built-in rule corpus: format-valid, obviously fake secrets (assembled at run time)
// ---------------------------------------------------------------------------------------------

const AN: &str = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
const LAN: &str = "abcdefghijklmnopqrstuvwxyz0123456789";
const UAN: &str = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
const HEX: &str = "0123456789abcdef";
const B64: &str = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
const B64URL: &str = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
const BECH32: &str = "QPZRY9X8GF2TVDW0S3JN54KHCE6MUA7L";

/// `n` characters of `alphabet`, deterministic in `seed` (xorshift), so the corpus is stable.
fn g(alphabet: &str, n: usize, seed: u64) -> String {
    let a: Vec<char> = alphabet.chars().collect();
    let mut x = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    (0..n)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            a[(x % a.len() as u64) as usize]
        })
        .collect()
}

fn b64_lines(seed: u64, lines: usize) -> String {
    (0..lines)
        .map(|i| g(B64, 64, seed + i as u64))
        .collect::<Vec<_>>()
        .join("\n")
}

/// One positive case: `text` must make `rule` fire, and `secret` must vanish from transcripts.
struct Pos {
    rule: &'static str,
    text: String,
    secret: String,
}

fn pos(rule: &'static str, text: impl Into<String>, secret: impl Into<String>) -> Pos {
    Pos {
        rule,
        text: text.into(),
        secret: secret.into(),
    }
}

/// The secret is the whole text.
fn bare(rule: &'static str, secret: String) -> Pos {
    pos(rule, secret.clone(), secret)
}

fn positives() -> Vec<Pos> {
    let uuid = |s: u64| {
        format!(
            "{}-{}-{}-{}-{}",
            g(HEX, 8, s),
            g(HEX, 4, s + 1),
            g(HEX, 4, s + 2),
            g(HEX, 4, s + 3),
            g(HEX, 12, s + 4)
        )
    };
    let rsa = format!(
        "-----BEGIN RSA PRIVATE KEY-----\n{}\n-----END RSA PRIVATE KEY-----",
        b64_lines(10, 4)
    );
    let openssh = format!(
        "-----BEGIN OPENSSH PRIVATE KEY-----\n{}\n-----END OPENSSH PRIVATE KEY-----",
        b64_lines(20, 3)
    );
    let pgp = format!(
        "-----BEGIN PGP PRIVATE KEY BLOCK-----\n\n{}\n=FAKE\n-----END PGP PRIVATE KEY BLOCK-----",
        b64_lines(30, 3)
    );
    let truncated = format!("-----BEGIN PRIVATE KEY-----\n{}", b64_lines(40, 2));
    let escaped_body = format!(
        "-----BEGIN EC PRIVATE KEY-----\\n{}\\n{}",
        g(B64, 64, 50),
        g(B64, 64, 51)
    );
    let aws_secret = g(B64, 40, 60);
    let aws_secret2 = g(B64, 40, 61);
    let sa_key = format!(
        "-----BEGIN PRIVATE KEY-----\\n{}\\n{}\\n-----END PRIVATE KEY-----\\n",
        g(B64, 64, 70),
        g(B64, 64, 71)
    );
    let sa_id = g(HEX, 40, 72);
    let jwt = format!(
        "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiJmYWtlLXVzZXItMDAwMCIsIm5hbWUiOiJOb3QgQSBSZWFsIFVzZXIiLCJpYXQiOjE3MDAwMDAwMDB9.{}",
        g(B64URL, 43, 80)
    );
    let jwt2 = format!(
        "eyJhbGciOiJSUzI1NiJ9.eyJpc3MiOiJmYWtlIn0.{}",
        g(B64URL, 86, 81)
    );
    let basic = "ZmFrZXVzZXI6ZmFrZXBhc3N3b3JkMTIz"; // fakeuser:fakepassword123
    let azure_key = format!("{}==", g(B64, 86, 90));
    let sas = format!("{}%3D", g(B64, 43, 91));
    let discord_bot = format!(
        "MTA4NzY1NDMyMTA5ODc2NTQzMg.{}.{}",
        g(B64URL, 6, 92),
        g(B64URL, 38, 93)
    );
    let discord_bot2 = format!(
        "NzY1NDMyMTA5ODc2NTQzMjE.{}.{}",
        g(B64URL, 6, 94),
        g(B64URL, 27, 95)
    );
    let tele1 = format!("123456789:AA{}", g(B64URL, 33, 96));
    let tele2 = format!("7000000001:AA{}", g(B64URL, 33, 97));
    let atlassian = format!(
        "ATATT3xFfGF0{}={}",
        g(B64URL, 170, 98),
        g("0123456789ABCDEF", 8, 99)
    );
    let gen_pw = "Summer2024!x";
    let client_secret = format!("Fake-{}", g(AN, 20, 100));
    let twilio_token = g(HEX, 32, 101);
    let mailgun_signing = format!("{}-{}-{}", g(HEX, 32, 102), g(HEX, 8, 103), g(HEX, 8, 104));
    let heroku_uuid = uuid(105);
    let jira = g(AN, 24, 110);
    let conf = g(AN, 24, 111);
    let sbkey = format!("{}=", g(B64, 43, 112));
    let ado = format!("{}AZDO{}", g(AN, 52, 113), g(AN, 4, 114));
    let tok_value = format!("Fake.Token-Value_{}", g(AN, 12, 115));
    let refresh = g(AN, 40, 116);
    let bearer = g(AN, 40, 117);
    let ghtok = g(HEX, 40, 118);
    vec![
        pos("private-key-block", rsa.clone(), rsa),
        pos("private-key-block", openssh.clone(), openssh),
        pos("private-key-block", pgp.clone(), pgp),
        pos("private-key-body", truncated.clone(), truncated),
        pos("private-key-body", escaped_body.clone(), escaped_body),
        bare("aws-access-key-id", format!("AKIA{}", g(UAN, 16, 1))),
        pos("aws-access-key-id", format!("export AWS_ACCESS_KEY_ID=ASIA{}", g(UAN, 16, 2)), format!("ASIA{}", g(UAN, 16, 2))),
        pos("aws-secret-access-key", format!("aws_secret_access_key = {aws_secret}"), aws_secret),
        pos("aws-secret-access-key", format!("AWS_SECRET_ACCESS_KEY: \"{aws_secret2}\""), aws_secret2),
        bare("github-token", format!("ghp_{}", g(AN, 36, 3))),
        bare("github-token", format!("gho_{}", g(AN, 36, 4))),
        bare("github-token", format!("ghs_{}", g(AN, 36, 5))),
        bare("github-token", format!("ghu_{}", g(AN, 36, 6))),
        bare("github-token", format!("ghr_{}", g(AN, 76, 7))),
        bare("github-fine-grained-pat", format!("github_pat_11{}_{}", g(UAN, 20, 8), g(AN, 59, 9))),
        bare("github-fine-grained-pat", format!("github_pat_{}", g(AN, 82, 11))),
        bare("gitlab-token", format!("glpat-{}", g(B64URL, 20, 12))),
        bare("gitlab-token", format!("glrt-{}", g(AN, 27, 13))),
        bare("slack-token", format!("xoxb-1234567890123-1234567890123-{}", g(AN, 24, 14))),
        bare("slack-token", format!("xoxp-1234567890-1234567890-1234567890123-{}", g(HEX, 32, 15))),
        bare("slack-token", format!("xapp-1-A0FAKE00000-1234567890123-{}", g(HEX, 64, 16))),
        bare("slack-webhook", format!("https://hooks.slack.com/services/T0FAKE000/B0FAKE000/{}", g(AN, 24, 17))),
        bare("slack-webhook", format!("https://hooks.slack.com/workflows/T0FAKE000/A0FAKE000/123456789/{}", g(AN, 24, 18))),
        bare("discord-webhook", format!("https://discord.com/api/webhooks/123456789012345678/{}", g(B64URL, 68, 19))),
        bare("discord-webhook", format!("https://canary.discordapp.com/api/webhooks/876543210987654321/{}", g(B64URL, 68, 21))),
        bare("anthropic-api-key", format!("sk-ant-api03-{}AA", g(B64URL, 93, 22))),
        bare("anthropic-api-key", format!("sk-ant-admin01-{}AA", g(B64URL, 93, 23))),
        bare("openai-api-key", format!("sk-proj-{}", g(B64URL, 120, 24))),
        bare("openai-api-key", format!("sk-{}T3BlbkFJ{}", g(AN, 20, 25), g(AN, 20, 26))),
        bare("google-api-key", format!("AIza{}", g(B64URL, 35, 27))),
        bare("google-api-key", format!("AIzaSy{}", g(B64URL, 33, 28))),
        bare("google-oauth-client-secret", format!("GOCSPX-{}", g(B64URL, 28, 29))),
        bare("google-oauth-client-secret", format!("GOCSPX-{}", g(AN, 28, 31))),
        bare("stripe-key", format!("sk_live_{}", g(AN, 24, 32))),
        bare("stripe-key", format!("rk_test_{}", g(AN, 99, 33))),
        bare("stripe-key", format!("whsec_{}", g(AN, 32, 34))),
        bare("npm-token", format!("npm_{}", g(AN, 36, 35))),
        bare("npm-token", format!("npm_{}", g(AN, 36, 36))),
        bare("pypi-token", format!("pypi-AgEIcHlwaS5vcmc{}", g(B64URL, 60, 37))),
        bare("pypi-token", format!("pypi-AgEIcHlwaS5vcmcCJD{}", g(B64URL, 150, 38))),
        bare("huggingface-token", format!("hf_{}", g(AN, 34, 39))),
        bare("huggingface-token", format!("hf_{}", g(AN, 37, 41))),
        bare("sendgrid-api-key", format!("SG.{}.{}", g(B64URL, 22, 42), g(B64URL, 43, 43))),
        bare("sendgrid-api-key", format!("SG.{}.{}", g(AN, 22, 44), g(AN, 43, 45))),
        bare("digitalocean-token", format!("dop_v1_{}", g(HEX, 64, 46))),
        bare("digitalocean-token", format!("dor_v1_{}", g(HEX, 64, 47))),
        bare("shopify-token", format!("shpat_{}", g(HEX, 32, 48))),
        bare("shopify-token", format!("shpss_{}", g(HEX, 32, 49))),
        bare("databricks-token", format!("dapi{}", g(HEX, 32, 52))),
        bare("databricks-token", format!("dapi{}-2", g(HEX, 32, 53))),
        bare("vault-token", format!("hvs.{}", g(B64URL, 90, 54))),
        bare("vault-token", format!("hvb.{}", g(B64URL, 120, 55))),
        bare("age-secret-key", format!("AGE-SECRET-KEY-1{}", g(BECH32, 58, 56))),
        bare("age-secret-key", format!("AGE-SECRET-KEY-1{}", g(BECH32, 58, 57))),
        bare("linear-api-key", format!("lin_api_{}", g(AN, 40, 58))),
        bare("linear-api-key", format!("lin_api_{}", g(AN, 40, 59))),
        bare("postman-api-key", format!("PMAK-{}-{}", g(HEX, 24, 62), g(HEX, 34, 63))),
        bare("postman-api-key", format!("PMAK-{}-{}", g(HEX, 24, 64), g(HEX, 34, 65))),
        bare("jwt", jwt),
        bare("jwt", jwt2),
        pos("azure-storage-account-key", format!("DefaultEndpointsProtocol=https;AccountName=fakeacct;AccountKey={azure_key};EndpointSuffix=core.windows.net"), azure_key.clone()),
        pos("azure-storage-account-key", format!("accountkey={}", g(B64, 88, 66)), g(B64, 88, 66)),
        pos("authorization-header", format!("Authorization: Bearer {bearer}"), bearer),
        pos("authorization-header", format!("\"authorization\": \"Basic {basic}\""), basic),
        pos("authorization-header", format!("authorization: token {ghtok}"), ghtok),
        pos("url-credentials", "postgres://admin:s3cretP4ss@db.example.com:5432/app", "s3cretP4ss"),
        pos("url-credentials", "mongodb+srv://app:Fake9Mongo@cluster0.example.net/db", "Fake9Mongo"),
        pos("generic-credential-assignment", format!("export DB_PASSWORD={gen_pw}"), gen_pw),
        pos("generic-credential-assignment", format!("client_secret: \"{client_secret}\""), client_secret),
        pos("generic-credential-assignment", "{\"password\": \"hunter2-Fake-99\"}", "hunter2-Fake-99"),
        bare("gitlab-token-other", format!("gloas-{}", g(B64URL, 64, 67))),
        bare("gitlab-token-other", format!("GR1348941{}", g(B64URL, 20, 68))),
        bare("twilio-api-key", format!("SK{}", g(HEX, 32, 69))),
        bare("twilio-api-key", format!("SK{}", g(HEX, 32, 73))),
        pos("twilio-auth-token", format!("TWILIO_AUTH_TOKEN={twilio_token}"), twilio_token.clone()),
        pos("twilio-auth-token", format!("twilio auth token: {}", g(HEX, 32, 74)), g(HEX, 32, 74)),
        bare("mailgun-api-key", format!("key-{}", g(AN, 32, 75))),
        bare("mailgun-api-key", format!("key-{}", g(HEX, 32, 76))),
        pos("mailgun-signing-key", format!("MAILGUN_API_KEY={mailgun_signing}"), mailgun_signing.clone()),
        pos("mailgun-signing-key", format!("mailgun webhook signing key: {}-{}-{}", g(HEX, 32, 77), g(HEX, 8, 78), g(HEX, 8, 79)), format!("{}-{}-{}", g(HEX, 32, 77), g(HEX, 8, 78), g(HEX, 8, 79))),
        bare("heroku-api-key", format!("HRKU-AA{}", g(B64URL, 58, 82))),
        bare("heroku-api-key", format!("HRKU-{}", g(AN, 60, 83))),
        pos("heroku-legacy-api-key", format!("HEROKU_API_KEY={heroku_uuid}"), heroku_uuid.clone()),
        pos("heroku-legacy-api-key", format!("heroku token: {}", uuid(84)), uuid(84)),
        bare("atlassian-api-token", atlassian),
        bare("atlassian-api-token", format!("ATBB{}", g(AN, 32, 85))),
        pos("atlassian-legacy-token", format!("JIRA_API_TOKEN={jira}"), jira),
        pos("atlassian-legacy-token", format!("confluence_password: \"{conf}\""), conf),
        pos("azure-shared-access-key", format!("Endpoint=sb://fake.servicebus.windows.net/;SharedAccessKeyName=RootManageSharedAccessKey;SharedAccessKey={sbkey}"), sbkey.clone()),
        pos("azure-shared-access-key", format!("HostName=fake.azure-devices.net;DeviceId=dev1;SharedAccessKey={}=", g(B64, 43, 86)), format!("{}=", g(B64, 43, 86))),
        pos("azure-sas-signature", format!("https://fake.blob.core.windows.net/c/b.txt?sv=2022-11-02&ss=b&srt=o&sp=r&se=2030-01-01&sig={sas}"), sas.clone()),
        pos("azure-sas-signature", format!("?sv=2022-11-02&sig={}=", g(B64, 43, 87)), format!("{}=", g(B64, 43, 87))),
        bare("azure-ad-client-secret", format!("abc8Q~{}", g(B64URL.trim_end_matches('_'), 34, 88))),
        bare("azure-ad-client-secret", format!("Xy_1Q~{}", g(AN, 31, 89))),
        bare("azure-devops-pat", ado),
        bare("azure-devops-pat", format!("{}AZDO{}", g(AN, 52, 94), g(AN, 4, 95))),
        bare("doppler-token", format!("dp.pt.{}", g(AN, 43, 96))),
        bare("doppler-token", format!("dp.st.dev.{}", g(AN, 40, 97))),
        bare("linear-oauth-token", format!("lin_oauth_{}", g(HEX, 64, 98))),
        bare("linear-oauth-token", format!("lin_oauth_{}", g(AN, 40, 99))),
        bare("pulumi-access-token", format!("pul-{}", g(HEX, 40, 120))),
        bare("pulumi-access-token", format!("pul-{}", g(HEX, 40, 121))),
        bare("terraform-cloud-token", format!("{}.atlasv1.{}", g(AN, 14, 122), g(B64URL, 67, 123))),
        bare("terraform-cloud-token", format!("{}.atlasv1.{}", g(AN, 14, 124), g(AN, 70, 125))),
        bare("discord-bot-token", discord_bot),
        bare("discord-bot-token", discord_bot2),
        pos("telegram-bot-token", format!("TELEGRAM_BOT_TOKEN={tele1}"), tele1),
        bare("telegram-bot-token", tele2),
        bare("huggingface-org-token", format!("api_org_{}", g(AN, 34, 126))),
        bare("huggingface-org-token", format!("api_org_{}", g(AN, 34, 127))),
        pos("gcp-service-account-key", format!("\"private_key\": \"{sa_key}\""), sa_key),
        pos("gcp-service-account-key", format!("\"private_key_id\": \"{sa_id}\""), sa_id),
        bare("sentry-token", format!("sntrys_eyJpYXQiOjE3MDAwMDAwMDB9_{}", g(B64, 80, 128))),
        bare("sentry-token", format!("sntryu_{}", g(HEX, 64, 129))),
        bare("grafana-token", format!("glc_{}", g(B64, 64, 130))),
        bare("grafana-token", format!("glsa_{}_{}", g(AN, 32, 131), g(HEX, 8, 132))),
        bare("newrelic-key", format!("NRAK-{}", g(UAN, 27, 133))),
        bare("newrelic-key", format!("NRJS-{}", g(HEX, 19, 134))),
        bare("square-token", format!("sq0atp-{}", g(B64URL, 22, 135))),
        bare("square-token", format!("EAAA{}", g(B64URL, 60, 136))),
        bare("supabase-token", format!("sbp_{}", g(HEX, 40, 137))),
        bare("supabase-token", format!("sb_secret_{}", g(B64URL, 31, 138))),
        bare("flyio-token", format!("fo1_{}", g(B64URL, 43, 139))),
        bare("flyio-token", format!("fm2_{}", g(B64, 160, 140))),
        bare("replicate-token", format!("r8_{}", g(AN, 37, 141))),
        bare("replicate-token", format!("r8_{}", g(AN, 37, 142))),
        bare("groq-api-key", format!("gsk_{}", g(AN, 52, 143))),
        bare("groq-api-key", format!("gsk_{}", g(AN, 52, 144))),
        bare("perplexity-api-key", format!("pplx-{}", g(AN, 48, 145))),
        bare("perplexity-api-key", format!("pplx-{}", g(HEX, 48, 146))),
        bare("xai-api-key", format!("xai-{}", g(AN, 80, 147))),
        bare("xai-api-key", format!("xai-{}", g(AN, 80, 148))),
        bare("notion-token", format!("ntn_{}{}", g("0123456789", 11, 149), g(AN, 35, 150))),
        bare("notion-token", format!("secret_{}", g(AN, 43, 151))),
        bare("airtable-pat", format!("pat{}.{}", g(AN, 14, 152), g(HEX, 64, 153))),
        bare("airtable-pat", format!("pat{}.{}", g(AN, 14, 154), g(HEX, 64, 155))),
        bare("figma-token", format!("figd_{}", g(B64URL, 40, 156))),
        bare("figma-token", format!("figd_{}", g(B64URL, 43, 157))),
        bare("tailscale-key", format!("tskey-auth-k{}CNTRL-{}", g(AN, 10, 158), g(AN, 33, 159))),
        bare("tailscale-key", format!("tskey-api-k{}CNTRL-{}", g(AN, 10, 160), g(AN, 33, 161))),
        bare("mapbox-secret-token", format!("sk.eyJ1IjoiZmFrZXVzZXIiLCJhIjoiZmFrZWZha2VmYWtlIn0.{}", g(B64URL, 22, 162))),
        bare("mapbox-secret-token", format!("sk.eyJ1Ijoibm90cmVhbCJ9{}.{}", g(AN, 10, 163), g(B64URL, 22, 164))),
        bare("onepassword-service-account-token", format!("ops_eyJzaWduSW5BZGRyZXNzIjoi{}", g(B64, 200, 165))),
        bare("onepassword-service-account-token", format!("ops_eyJ{}", g(B64URL, 150, 166))),
        bare("rubygems-api-key", format!("rubygems_{}", g(HEX, 48, 167))),
        bare("rubygems-api-key", format!("rubygems_{}", g(HEX, 48, 168))),
        bare("nuget-api-key", format!("oy2{}", g(LAN, 43, 169))),
        bare("nuget-api-key", format!("oy2{}", g(LAN, 43, 170))),
        bare("docker-hub-token", format!("dckr_pat_{}", g(B64URL, 27, 171))),
        bare("docker-hub-token", format!("dckr_oat_{}", g(B64URL, 32, 172))),
        bare("alibaba-access-key-id", format!("LTAI{}", g(AN, 20, 173))),
        bare("alibaba-access-key-id", format!("LTAI{}", g(AN, 16, 174))),
        bare("buildkite-token", format!("bkua_{}", g(HEX, 40, 175))),
        bare("buildkite-token", format!("bkua_{}", g(HEX, 40, 176))),
        bare("dynatrace-token", format!("dt0c01.{}.{}", g(UAN, 24, 177), g(UAN, 64, 178))),
        bare("dynatrace-token", format!("dt0c01.{}.{}", g(UAN, 24, 179), g(UAN, 64, 180))),
        bare("sourcegraph-token", format!("sgp_{}_{}", g(HEX, 16, 181), g(HEX, 40, 182))),
        bare("sourcegraph-token", format!("sgp_{}", g(HEX, 40, 183))),
        bare("planetscale-token", format!("pscale_tkn_{}", g(B64URL, 43, 184))),
        bare("planetscale-token", format!("pscale_pw_{}", g(B64URL, 43, 185))),
        bare("dropbox-token", format!("sl.{}", g(B64URL, 140, 186))),
        bare("dropbox-token", format!("sl.u.{}", g(B64URL, 200, 187))),
        pos("generic-token-assignment", format!("BOT_TOKEN={tok_value}"), tok_value.clone()),
        pos("generic-token-assignment", format!("\"refresh_token\": \"{refresh}\""), refresh),
    ]
}

/// Near misses: each string must not make the named rule fire.
fn negatives() -> Vec<(&'static str, String)> {
    vec![
        ("private-key-block", "-----BEGIN PUBLIC KEY-----\nMIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEA\n-----END PUBLIC KEY-----".into()),
        ("private-key-body", "the private key header is -----BEGIN PRIVATE KEY----- followed by data".into()),
        ("aws-access-key-id", "AKIA12345 and XAKIAYRWQG5EJLPZLBYNP".into()),
        ("aws-secret-access-key", "aws_secret_access_key = short".into()),
        ("github-token", "ghp_short and ghp_abc".into()),
        ("github-fine-grained-pat", "github_pat_tooshort".into()),
        ("gitlab-token", "glpat-short".into()),
        ("slack-token", "xoxb-short".into()),
        ("slack-webhook", "https://hooks.slack.com/services/".into()),
        ("discord-webhook", "https://discord.com/api/webhooks/123/short".into()),
        ("anthropic-api-key", "sk-ant-api03-short".into()),
        ("openai-api-key", "use scikit-learn and sk-learn here".into()),
        ("google-api-key", "AIzaShort".into()),
        ("google-oauth-client-secret", "GOCSPX-short".into()),
        ("stripe-key", "sk_live_short pk_live_abcdefghijklmnopqrstuvwx".into()),
        ("npm-token", "npm_install_packages_for_the_project_now".into()),
        ("pypi-token", "pypi-token-here".into()),
        ("huggingface-token", "hf_hub_download".into()),
        ("sendgrid-api-key", "SG.short.short".into()),
        ("digitalocean-token", "dop_v1_nothex".into()),
        ("shopify-token", "shpat_nothexnothexnothexnothexnothex".into()),
        ("databricks-token", "dapiversion".into()),
        ("vault-token", "hvs.short".into()),
        ("age-secret-key", "AGE-SECRET-KEY-1short".into()),
        ("linear-api-key", "lin_api_short".into()),
        ("postman-api-key", "PMAK-short-short".into()),
        ("jwt", "eyJhbGciOiJIUzI1NiJ9 alone".into()),
        ("azure-storage-account-key", "AccountKey=short".into()),
        ("authorization-header", "the authorization header is missing".into()),
        ("url-credentials", "see https://example.com/path:8080/x@y".into()),
        ("generic-credential-assignment", "the password is long".into()),
        ("gitlab-token-other", "gloas-short".into()),
        ("twilio-api-key", "SKIP this task: SK123".into()),
        ("twilio-auth-token", "twilio docs".into()),
        ("mailgun-api-key", "pubkey-0123456789abcdef0123456789abcdef monkey-business".into()),
        ("mailgun-signing-key", "mailgun is a mail service".into()),
        ("heroku-api-key", "HRKU-short".into()),
        ("heroku-legacy-api-key", "deploy to heroku now".into()),
        ("atlassian-api-token", "ATATT3short".into()),
        ("atlassian-legacy-token", "jira ticket PROJ-123".into()),
        ("azure-shared-access-key", "SharedAccessKeyName=RootManageSharedAccessKey".into()),
        ("azure-sas-signature", "?sig=short".into()),
        ("azure-ad-client-secret", "Q~ alone".into()),
        ("azure-devops-pat", "AZDO pipelines".into()),
        ("doppler-token", "dp.pt.short".into()),
        ("linear-oauth-token", "lin_oauth_short".into()),
        ("pulumi-access-token", "pul-request".into()),
        ("terraform-cloud-token", "abc.atlasv1.short".into()),
        ("discord-bot-token", "Mon.Tue.Wed and NTFS.volume.label".into()),
        ("telegram-bot-token", "12:30:AA meeting".into()),
        ("huggingface-org-token", "api_org_short".into()),
        ("gcp-service-account-key", "\"private_key\": \"\"".into()),
        ("sentry-token", "sntryu_short".into()),
        ("grafana-token", "glc_short".into()),
        ("newrelic-key", "NRAK-short".into()),
        ("square-token", "sq0atp-short".into()),
        ("supabase-token", "sbp_short".into()),
        ("flyio-token", "fo1_short".into()),
        ("replicate-token", "r8_short".into()),
        ("groq-api-key", "gsk_short".into()),
        ("perplexity-api-key", "pplx-short".into()),
        ("xai-api-key", "xai-short".into()),
        ("notion-token", "secret_sauce".into()),
        ("airtable-pat", "pattern.matching path.join".into()),
        ("figma-token", "figd_short".into()),
        ("tailscale-key", "tskey-auth-short".into()),
        ("mapbox-secret-token", "sk.eyJshort".into()),
        ("onepassword-service-account-token", "ops_eyJshort".into()),
        ("rubygems-api-key", "rubygems_org".into()),
        ("nuget-api-key", "oy2short".into()),
        ("docker-hub-token", "dckr_pat_short".into()),
        ("alibaba-access-key-id", "LTAIshort".into()),
        ("buildkite-token", "bkua_short".into()),
        ("dynatrace-token", "dt0c01.short".into()),
        ("sourcegraph-token", "sgp_short".into()),
        ("planetscale-token", "pscale_tkn_short".into()),
        ("dropbox-token", "ssl.connect and sl.short".into()),
        ("generic-token-assignment", "max_tokens: 4096 and token: ${{ secrets.GITHUB_TOKEN }}".into()),
    ]
}

/// The secret in the five transcript shapes the issue names. Multi-line secrets are written with
/// literal `\n` on the non-JSON line (a line cannot hold a raw newline).
fn contexts(text: &str) -> Vec<String> {
    let q = |s: &str| serde_json::to_string(s).unwrap_or_else(|e| panic!("{e}"));
    vec![
        format!(
            r#"{{"parentUuid":null,"isSidechain":false,"type":"user","message":{{"role":"user","content":{}}},"uuid":"0b9f7e0e-8f55-4a8e-9d4c-2f1b6e3c9a10","timestamp":"2026-04-01T10:00:00.000Z","sessionId":"3f2a1c9e-1111-4e2b-8c3d-000000000001"}}"#,
            q(&format!("please deploy with {text} and tell me when done"))
        ),
        format!(
            r#"{{"type":"user","message":{{"role":"user","content":[{{"tool_use_id":"toolu_01FakeFakeFakeFakeFake01","type":"tool_result","content":{}}}]}},"uuid":"1c9f7e0e-8f55-4a8e-9d4c-2f1b6e3c9a11"}}"#,
            q(&format!(
                "$ cat .env\nNODE_ENV=production\n{text}\nPORT=8080\n"
            ))
        ),
        format!(
            r#"{{"type":"assistant","message":{{"id":"msg_01FakeFakeFakeFakeFake01","role":"assistant","content":[{{"type":"tool_use","id":"toolu_01FakeFakeFakeFakeFake02","name":"Bash","input":{{"command":{},"description":"Call the API"}}}}]}}}}"#,
            q(&format!(
                "curl -s -H 'X-Key: {text}' https://api.example.com/v1/things"
            ))
        ),
        format!(
            "2026-04-01 10:00:00 DEBUG loaded credentials {} from env",
            text.replace('\n', "\\n")
        ),
        format!(
            r#"{{"type":"text","text":{}}}"#,
            q(&format!("line one\n{text}\nline two"))
        ),
    ]
}

/// A distinctive part of the secret that must not survive (its longest line).
fn core(secret: &str) -> &str {
    secret
        .split(['\n'])
        .flat_map(|l| l.split("\\n"))
        .max_by_key(|l| l.len())
        .unwrap_or(secret)
}

#[test]
fn every_builtin_rule_has_two_positive_cases_and_a_negative() {
    let r = builtin();
    let ids = builtin_rule_ids();
    let pos = positives();
    let neg = negatives();
    for id in &ids {
        let n = pos.iter().filter(|p| p.rule == id).count();
        assert!(n >= 2, "rule {id} has {n} positive case(s)");
        assert!(
            neg.iter().any(|(rule, _)| rule == id),
            "rule {id} has no negative case"
        );
    }
    for p in &pos {
        assert!(ids.contains(&p.rule.to_string()), "unknown rule {}", p.rule);
        let found = r.rule_findings(&p.text);
        assert!(
            found.iter().any(|(rule, secret)| rule == p.rule
                && (p.secret.contains(secret.as_str()) || secret.contains(&p.secret))),
            "rule {} did not find {:?} in {:?}; findings: {found:?}",
            p.rule,
            p.secret,
            p.text
        );
    }
    for (rule, text) in &neg {
        let found = r.rule_findings(text);
        assert!(
            !found.iter().any(|(id, _)| id == rule),
            "rule {rule} fired on negative {text:?}: {found:?}"
        );
    }
}

#[test]
fn corpus_secrets_vanish_from_every_transcript_shape() {
    let r = builtin();
    for p in positives() {
        for line in contexts(&p.text) {
            let input = format!("{line}\n");
            let out = transcript(&r, &input);
            let c = core(&p.secret);
            assert!(
                !out.contains(c),
                "rule {}: {c:?} survived in\n{out}",
                p.rule
            );
            assert!(
                out.contains("REDACTED"),
                "rule {}: no REDACTED in\n{out}",
                p.rule
            );
            assert!(out.ends_with('\n'));
            assert_eq!(transcript(&r, &out), out, "rule {}: not idempotent", p.rule);
        }
    }
}

#[test]
fn prompt_text_secrets_vanish() {
    let r = builtin();
    for p in positives() {
        let prompt = format!("first prompt\n\n---\n\nuse {} please", p.text);
        let out = r.string(&prompt);
        assert!(!out.contains(core(&p.secret)), "rule {}: {out}", p.rule);
        assert_eq!(r.string(&out), out, "rule {}: not idempotent", p.rule);
    }
}

fn builtin_rule_ids() -> Vec<String> {
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/src/redact/builtin_rules.toml"
    ))
    .unwrap_or_else(|e| panic!("{e}"));
    let v: toml::Table = toml::from_str(&text).unwrap_or_else(|e| panic!("{e}"));
    let rules = v["rules"].as_array().cloned().unwrap_or_default();
    rules
        .iter()
        .map(|r| r["id"].as_str().unwrap_or_default().to_string())
        .collect()
}

#[test]
fn builtin_rules_have_unique_ids_and_keywords() {
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/src/redact/builtin_rules.toml"
    ))
    .unwrap_or_else(|e| panic!("{e}"));
    let v: toml::Table = toml::from_str(&text).unwrap_or_else(|e| panic!("{e}"));
    let rules = v["rules"].as_array().cloned().unwrap_or_default();
    let mut ids = std::collections::HashSet::new();
    for r in &rules {
        let id = r["id"].as_str().unwrap_or_default();
        assert!(ids.insert(id.to_string()), "duplicate id {id}");
        let kw = r
            .get("keywords")
            .and_then(|k| k.as_array())
            .cloned()
            .unwrap_or_default();
        assert!(!kw.is_empty(), "rule {id} has no keywords");
    }
    assert_eq!(builtin().rule_count(), rules.len());
}

// ---------------------------------------------------------------------------------------------
// False-positive corpus: stays byte-identical
// ---------------------------------------------------------------------------------------------

#[test]
fn false_positive_corpus_is_unchanged() {
    let r = builtin();
    let png = format!("iVBORw0KGgoAAAANSUhEUgAAA{}", g(B64, 4000, 500));
    let corpus = [
        r#"{"parentUuid":"7d8e9f00-1234-4abc-9def-0123456789ab","isSidechain":false,"userType":"external","cwd":"/home/dev/projects/git-attach","sessionId":"3f2a1c9e-5b7d-4e2b-8c3d-9a0b1c2d3e4f","version":"2.1.3","gitBranch":"main","type":"user","message":{"role":"user","content":"Rename the function in src/redact/mod.rs and run cargo test"},"uuid":"0b9f7e0e-8f55-4a8e-9d4c-2f1b6e3c9a10","timestamp":"2026-04-01T10:00:00.000Z"}"#.to_string(),
        r#"{"type":"assistant","message":{"id":"msg_01XFDUDYJgAACzvnptvVoYEL","type":"message","role":"assistant","model":"claude-sonnet-4-5-20250929","content":[{"type":"tool_use","id":"toolu_01A09q90qw90lq917835lq9","name":"Read","input":{"file_path":"/home/dev/projects/git-attach/src/redact/json.rs"}}],"stop_reason":"tool_use","usage":{"input_tokens":4213,"cache_creation_input_tokens":1024,"output_tokens":87}},"requestId":"req_011CSHe7aT3iXLqsN3yP7xqK"}"#.to_string(),
        r#"{"type":"user","message":{"role":"user","content":[{"tool_use_id":"toolu_01A09q90qw90lq917835lq9","type":"tool_result","content":"commit 3f786850e387550fdab836ed7e6dc881de23001b\nAuthor: Dev <dev@example.com>\n\n    Bump version to 1.12.0-rc.3+build.20260401\n\nd670460b4b4aece5915caf5c68d12f560a9fe3e4 src/lib.rs\n/usr/local/lib/node_modules/typescript/lib/lib.dom.d.ts\n550e8400-e29b-41d4-a716-446655440000\n"}]}}"#.to_string(),
        r#"{"type":"assistant","message":{"content":[{"type":"text","text":"The internationalization and counterrevolutionaries modules use antidisestablishmentarianism-style naming; versions 0.4.19, 1.0.154 and v2.13.2-beta.1 are pinned. See https://docs.rs/regex/latest/regex/bytes/struct.RegexBuilder.html#method.size_limit for details."}]}}"#.to_string(),
        format!(r#"{{"type":"user","message":{{"role":"user","content":[{{"type":"image","source":{{"type":"base64","media_type":"image/png","data":"{png}"}}}},{{"type":"text","text":"what is in this screenshot?"}}]}}}}"#),
        "plain line: git rev-parse HEAD -> 9fceb02d0ae598e95dc970b74767f19372d61af8, uuid 123e4567-e89b-12d3-a456-426614174000".to_string(),
        r#"{"type":"summary","summary":"Implemented secret redaction","leafUuid":"9b2c7e4a-0d1f-4c3b-8e5a-6f7d8c9b0a1e"}"#.to_string(),
        r#"{"type":"text","text":"Running tests: test redact::tests::builtin_rules_load ... ok\nFinished `test` profile [unoptimized + debuginfo] target(s) in 12.34s"}"#.to_string(),
    ];
    let mut all = String::new();
    for line in &corpus {
        assert_eq!(&transcript(&r, line), line, "changed: {line}");
        all.push_str(line);
        all.push('\n');
    }
    assert_eq!(transcript(&r, &all), all);
}

// ---------------------------------------------------------------------------------------------
// User rule files (§7.2-§7.5)
// ---------------------------------------------------------------------------------------------

mod capture {
    //! A logger that records messages per test thread, so warnings can be asserted.
    use std::cell::RefCell;

    thread_local! {
        static LINES: RefCell<Vec<String>> = const { RefCell::new(Vec::new()) };
    }

    struct Capture;

    impl log::Log for Capture {
        fn enabled(&self, _: &log::Metadata<'_>) -> bool {
            true
        }
        fn log(&self, record: &log::Record<'_>) {
            let line = format!("{}: {}", record.level(), record.args());
            LINES.with(|l| l.borrow_mut().push(line));
        }
        fn flush(&self) {}
    }

    static LOGGER: Capture = Capture;

    /// Runs `f` and returns the warnings it logged.
    pub fn warnings<T>(f: impl FnOnce() -> T) -> (T, Vec<String>) {
        let _ = log::set_logger(&LOGGER);
        log::set_max_level(log::LevelFilter::Debug);
        LINES.with(|l| l.borrow_mut().clear());
        let out = f();
        let lines = LINES.with(|l| std::mem::take(&mut *l.borrow_mut()));
        (
            out,
            lines
                .into_iter()
                .filter(|l| l.starts_with("WARN"))
                .collect(),
        )
    }
}

fn write(dir: &std::path::Path, name: &str, text: &str) -> std::path::PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap_or_else(|e| panic!("{e}"));
    p
}

fn load_repo(text: &str) -> Result<Redactor, git_attach::redact::RulesError> {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let repo = write(dir.path(), ".gitleaks.toml", text);
    Redactor::load(&RuleSources {
        repo_file: Some(repo),
        configured: None,
    })
}

fn load_err(text: &str) -> String {
    match load_repo(text) {
        Ok(_) => panic!("expected a load error for:\n{text}"),
        Err(e) => {
            assert!(
                e.file.ends_with(".gitleaks.toml"),
                "error must name the file: {e}"
            );
            e.to_string()
        }
    }
}

const ACME: &str = r#"
[[rules]]
id = "acme-internal-token"
description = "ACME internal service token"
regex = '''\b(acme_[0-9a-f]{32})\b'''
secretGroup = 1
keywords = ["acme_"]
"#;

fn acme_token() -> String {
    format!("acme_{}", g(HEX, 32, 900))
}

#[test]
fn custom_rule_redacts_company_token_format() {
    let tok = acme_token();
    // Hex never passes the entropy detector: only the custom rule can catch it.
    assert_eq!(entropy().string(&tok), tok);
    let r = load_repo(ACME).unwrap_or_else(|e| panic!("{e}"));
    let line = format!(r#"{{"type":"text","text":"ACME_TOKEN={tok}"}}"#);
    assert_eq!(
        transcript(&r, &line),
        r#"{"type":"text","text":"ACME_TOKEN=REDACTED"}"#
    );
}

#[test]
fn extend_use_default_keeps_builtin_rules() {
    let text = format!("[extend]\nuseDefault = true\n{ACME}");
    let r = load_repo(&text).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(r.string("key=AKIAYRWQG5EJLPZLBYNP"), "key=REDACTED");
    assert_eq!(r.string(&format!("t {}", acme_token())), "t REDACTED");
}

#[test]
fn broken_regex_names_file_and_rule() {
    let e = load_err(
        r#"
[[rules]]
id = "broken-one"
regex = '''(acme_[0-9a-f'''
keywords = ["acme_"]
"#,
    );
    assert!(e.starts_with("redaction rules: "), "{e}");
    assert!(e.contains("broken-one"), "{e}");
    assert!(e.contains("regex"), "{e}");
}

#[test]
fn configured_file_errors_fail_closed() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let missing = dir.path().join("nope.toml");
    let e = Redactor::load(&RuleSources {
        repo_file: None,
        configured: Some(missing.clone()),
    })
    .err()
    .unwrap_or_else(|| panic!("missing file must fail"));
    assert_eq!(e.file, missing.display().to_string());
    let bad = write(dir.path(), "bad.toml", "[[rules]\nid=");
    let e = Redactor::load(&RuleSources {
        repo_file: None,
        configured: Some(bad.clone()),
    })
    .err()
    .unwrap_or_else(|| panic!("bad TOML must fail"));
    assert_eq!(e.file, bad.display().to_string());
    assert!(e.reason.contains("not valid TOML"), "{e}");
}

#[test]
fn every_load_error_names_the_file() {
    let cases: &[(&str, &str)] = &[
        ("not toml = = =", "not valid TOML"),
        ("[[rules]]\nid = \"x\"\nregex = 'a'\nsecretGroup = \"1\"", "secretGroup"),
        ("[[rules]]\nid = \"x\"\nregex = 'a'\nkeywords = \"x\"", "keywords"),
        ("[[rules]]\nid = \"x\"\nregex = 'a'\nentropy = \"high\"", "entropy"),
        ("[[rules]]\nid = 7\nregex = 'a'", "id"),
        ("[[rules]]\nregex = 'a'\nkeywords = [\"a\"]", "no `id`"),
        ("[[rules]]\nid = \"\"\nregex = 'a'", "empty `id`"),
        ("[[rules]]\nid = \"p\"\npath = '(x'", "path does not compile"),
        ("[[rules]]\nid = \"g\"\nregex = '(a)'\nsecretGroup = 2", "secretGroup 2"),
        ("[[rules]]\nid = \"l\"\nregex = 'a'\n[[rules.allowlists]]\nregexes = ['(x']", "regexes[0] does not compile"),
        ("[[rules]]\nid = \"l\"\nregex = 'a'\n[[rules.allowlists]]\npaths = ['(x']", "paths[0] does not compile"),
        ("[[rules]]\nid = \"l\"\nregex = 'a'\n[[rules.allowlists]]\ndescription = \"empty\"", "needs at least one"),
        ("[allowlist]\ndescription = \"empty\"", "needs at least one"),
        ("[allowlist]\nregexes = ['x']\ncondition = \"XOR\"", "condition"),
        ("[allowlist]\nregexes = ['x']\nregexTarget = \"file\"", "regexTarget"),
        ("[allowlist]\nregexes = ['x']\n[[allowlists]]\nregexes = ['y']", "both [allowlist] and [[allowlists]]"),
        ("[[rules]]\nid = \"l\"\nregex = 'a'\n[rules.allowlist]\nregexes = ['x']\n[[rules.allowlists]]\nregexes = ['y']", "both [rules.allowlist] and [[rules.allowlists]]"),
        ("[extend]\nuseDefault = true\npath = \"other.toml\"", "cannot be combined"),
        ("[extend]\nurl = \"https://example.com/gitleaks.toml\"", "extend.url"),
        ("[extend]\npath = \"does-not-exist.toml\"", "extend.path"),
        ("[extend]\nuseDefault = \"yes\"", "useDefault"),
        ("[allowlist]\nregexes = 'x'", "regexes"),
    ];
    for (text, want) in cases {
        let e = load_err(text);
        assert!(e.contains(want), "for {text:?}: {e} (wanted {want:?})");
    }
}

#[test]
fn extend_chains_are_limited_to_two_levels() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    write(dir.path(), "c.toml", "[extend]\npath = \"d.toml\"\n");
    write(dir.path(), "d.toml", "");
    write(dir.path(), "b.toml", "[extend]\npath = \"c.toml\"\n");
    let ok = write(dir.path(), "ok.toml", "[extend]\npath = \"c.toml\"\n");
    let deep = write(dir.path(), "deep.toml", "[extend]\npath = \"b.toml\"\n");
    let load = |p: std::path::PathBuf| {
        Redactor::load(&RuleSources {
            repo_file: None,
            configured: Some(p),
        })
    };
    assert!(load(ok).is_ok());
    let e = load(deep)
        .err()
        .unwrap_or_else(|| panic!("3 levels must fail"));
    assert!(e.file.ends_with("deep.toml"), "{e}");
    assert!(e.reason.contains("levels of extend"), "{e}");
}

#[test]
fn extend_path_and_disabled_rules_reach_only_the_extended_file() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    write(dir.path(), "base.toml", ACME);
    let main = write(
        dir.path(),
        "main.toml",
        "[extend]\npath = \"base.toml\"\ndisabledRules = [\"acme-internal-token\", \"aws-access-key-id\"]\n",
    );
    let r = Redactor::load(&RuleSources {
        repo_file: None,
        configured: Some(main),
    })
    .unwrap_or_else(|e| panic!("{e}"));
    let tok = acme_token();
    assert_eq!(r.string(&tok), tok, "disabled in the extended file");
    assert_eq!(
        r.string("key=AKIAYRWQG5EJLPZLBYNP"),
        "key=REDACTED",
        "built-in rules cannot be disabled"
    );
}

#[test]
fn typical_repo_file_loads_with_warnings() {
    let text = r#"
title = "repo config"
[extend]
useDefault = true

[allowlist]
description = "project allowlist"
regexes = ['''^AKIAFAKE''']
stopwords = ["notasecret"]
paths = ['''(?:^|/)testdata/''']

[[rules]]
id = "some-gitleaks-default-rule"
[[rules.allowlists]]
regexes = ['''EXAMPLE$''']

[[rules]]
id = "aws-access-key-id"
description = "tune the built-in rule"
[[rules.allowlists]]
stopwords = ["exampleexample"]

[[rules]]
id = "custom"
regex = '''custom_[a-z]{12}'''
keywords = ["custom_"]
unknownKey = 1
"#;
    let (r, warnings) = capture::warnings(|| load_repo(text));
    let r = r.unwrap_or_else(|e| panic!("{e}"));
    let joined = warnings.join("\n");
    assert!(joined.contains("some-gitleaks-default-rule"), "{joined}");
    assert!(joined.contains("aws-access-key-id"), "{joined}");
    assert!(joined.contains("unknownkey"), "{joined}");
    // Global allowlist regex and stop word apply to built-in rules.
    assert_eq!(
        r.string("key=AKIAFAKEFAKEFAKEFAKE"),
        "key=AKIAFAKEFAKEFAKEFAKE"
    );
    assert_eq!(
        r.string("key=AKIANOTASECRETXXXXX"),
        "key=AKIANOTASECRETXXXXX"
    );
    assert_eq!(r.string("key=AKIAYRWQG5EJLPZLBYNP"), "key=REDACTED");
}

#[test]
fn stop_word_suppresses_builtin_finding() {
    let line = "export AWS_ACCESS_KEY_ID=AKIAIOSFODNN7SAMPLEZ";
    assert_eq!(builtin().string(line), "export AWS_ACCESS_KEY_ID=REDACTED");
    let r = load_repo(
        "[[allowlists]]\ntargetRules = [\"aws-access-key-id\"]\nstopwords = [\"sample\"]\n",
    )
    .unwrap_or_else(|e| panic!("{e}"));
    assert!(r.rule_findings(line).is_empty());
    assert_eq!(r.string(line), line);
}

#[test]
fn target_rules_limit_global_allowlists() {
    let r = load_repo("[[allowlists]]\ntargetRules = [\"github-token\", \"no-such-rule\"]\nstopwords = [\"sample\"]\n")
        .unwrap_or_else(|e| panic!("{e}"));
    // The allowlist targets another rule: the AWS finding stays.
    assert_eq!(r.string("AKIAIOSFODNN7SAMPLEZ"), "REDACTED");
}

#[test]
fn allowlist_conditions_and_targets() {
    let base = |al: &str| format!("{ACME}\n[[rules.allowlists]]\n{al}\n");
    let tok = acme_token();
    let line = format!("staging ACME={tok}");
    let check = |al: &str, allowed: bool| {
        let r = load_repo(&base(al)).unwrap_or_else(|e| panic!("{e}"));
        let out = r.string(&line);
        assert_eq!(out == line, allowed, "allowlist {al:?}: {out}");
    };
    check("regexes = ['''^acme_''']", true);
    check("regexes = ['''^ACME=''']\nregexTarget = \"match\"", false);
    check("regexes = ['''^staging''']\nregexTarget = \"line\"", true);
    check("regexes = ['''^staging''']\nregexTarget = \"match\"", false);
    check(
        "regexes = ['''^acme_''']\nstopwords = [\"zzz\"]\ncondition = \"AND\"",
        false,
    );
    check(
        "regexes = ['''^acme_''']\nstopwords = [\"acme\"]\ncondition = \"&&\"",
        true,
    );
    check(
        "regexes = ['''^acme_''']\npaths = ['''x''']\ncondition = \"AND\"",
        false,
    );
    check("paths = ['''.*''']", false);
    check("commits = [\"abc\"]", false);
}

#[test]
fn keys_are_case_insensitive_and_secret_group_defaults_to_first_nonempty_group() {
    let r = load_repo(
        r#"
[[Rules]]
ID = "case"
Regex = '''(?:(foo)|(bar))=([a-z]{6})'''
SecretGroup = 0
Keywords = ["FOO", "BAR"]
"#,
    )
    .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        r.rule_findings("bar=abcdef"),
        vec![("case".to_string(), "bar".to_string())]
    );
}

#[test]
fn rule_entropy_gate_and_path_only_rules() {
    let r = load_repo(
        r#"
[[rules]]
id = "gated"
regex = '''gate_([a-z]{12})'''
entropy = 3.0
keywords = ["gate_"]

[[rules]]
id = "path-only"
path = '''\.env$'''

[[rules]]
id = "env-file-only"
regex = '''envval_[a-z]{6}'''
path = '''\.env$'''
keywords = ["envval_"]

[[rules]]
id = "any-path"
regex = '''anyval_[a-z]{6}'''
path = '''.*'''
keywords = ["anyval_"]
"#,
    )
    .unwrap_or_else(|e| panic!("{e}"));
    assert!(r.rule_findings("gate_aaaaaaaaaaaa").is_empty());
    assert_eq!(r.rule_findings("gate_abcdefghijkl").len(), 1);
    assert!(r.rule_findings("envval_abcdef").is_empty());
    assert_eq!(r.rule_findings("anyval_abcdef").len(), 1);
}

#[test]
fn repo_file_and_configured_file_are_loaded_once_when_identical() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let p = write(dir.path(), ".gitleaks.toml", ACME);
    let (r, warnings) = capture::warnings(|| {
        Redactor::load(&RuleSources {
            repo_file: Some(p.clone()),
            configured: Some(dir.path().join(".").join(".gitleaks.toml")),
        })
    });
    let r = r.unwrap_or_else(|e| panic!("{e}"));
    assert!(
        !warnings.iter().any(|w| w.contains("already loaded")),
        "{warnings:?}"
    );
    assert_eq!(r.string(&acme_token()), "REDACTED");
}

#[test]
fn gitleaks_gitleaks_allow_marker_is_not_honoured() {
    let r = builtin();
    assert_eq!(
        r.string("AKIAYRWQG5EJLPZLBYNP # gitleaks:allow"),
        "REDACTED # gitleaks:allow"
    );
}

#[test]
fn spec_sample_expectations() {
    let r = builtin();
    let f = |s: &str| {
        r.rule_findings(s)
            .into_iter()
            .map(|(_, s)| s)
            .collect::<Vec<_>>()
    };
    assert!(f("key=AKIAYRWQG5EJLPZLBYNP").contains(&"AKIAYRWQG5EJLPZLBYNP".to_string()));
    assert!(f("postgres://admin:s3cretP4ss@db.example.com:5432/app")
        .contains(&"s3cretP4ss".to_string()));
    assert!(f("export DB_PASSWORD=Summer2024!x").contains(&"Summer2024!x".to_string()));
    for s in [
        "use scikit-learn and sk-learn here",
        "ghp_short",
        "the password is long",
        "see https://example.com/path:8080/x@y",
    ] {
        assert!(f(s).is_empty(), "{s}: {:?}", f(s));
    }
}

#[test]
fn gitleaks_default_config_excerpt_loads_as_user_rules() {
    let path = std::path::PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/redaction/gitleaks-default-excerpt.toml"
    ));
    let r = Redactor::load(&RuleSources {
        repo_file: None,
        configured: Some(path),
    })
    .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(r.rule_count(), builtin().rule_count() + 13);
    // A gitleaks rule fires alongside the built-in one.
    let found = r.rule_findings("key=AKIAYRWQG5EJLPZLBYNP");
    assert!(
        found.iter().any(|(id, _)| id == "aws-access-token"),
        "{found:?}"
    );
    // Its own allowlist, and the global allowlist (brace-translated patterns), apply.
    assert!(!r
        .rule_findings("AKIAIOSFODNN7EXAMPLE")
        .iter()
        .any(|(id, _)| id == "aws-access-token"));
    let meraki = format!("MERAKI_API_KEY = \"{}\"", g(HEX, 40, 901));
    assert!(r
        .rule_findings(&meraki)
        .iter()
        .any(|(id, _)| id == "cisco-meraki-api-key"));
    // The global allowlist reaches built-in rules: `$VAR` placeholders are not secrets.
    let placeholder = "password = $DB_PASSWORD_VALUE";
    assert!(!builtin().rule_findings(placeholder).is_empty());
    assert!(r.rule_findings(placeholder).is_empty());
}
