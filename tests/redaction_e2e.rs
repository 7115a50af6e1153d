//! Redaction through the whole pipeline: secrets are gone from every stored file (v1
//! `full.jsonl`, `prompt.txt`, v2 raw and compact transcripts, the session state's
//! `last_prompt`), user rule files add rules on top of the built-in set, and a broken rule file
//! stops the run before anything is written.

mod common;

use common::*;

fn stored_texts(env: &Env, session: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for r in [
        "refs/heads/entire/checkpoints/v1",
        "refs/entire/checkpoints/v2/main",
        "refs/entire/checkpoints/v2/full/current",
    ] {
        for (path, _) in env.ls_tree(r) {
            let bytes = env.git_bytes(&["show", &format!("{r}:{path}")]);
            out.push((
                format!("{r}:{path}"),
                String::from_utf8_lossy(&bytes).into_owned(),
            ));
        }
    }
    let state = env
        .repo
        .join(format!(".git/entire-sessions/{session}.json"));
    out.push(("state".into(), std::fs::read_to_string(state).unwrap()));
    out
}

#[test]
fn secrets_are_gone_from_every_stored_file() {
    let env = Env::new();
    let github = format!("ghp_{}", "Zq8Xw2Ly5Nv3Mt7Kr4Js6Hp9Gd1Fb0Ca2Ee4");
    let aws = "AKIAYRWQG5EJLPZLBYNP";
    let internal = "ACME-0123456789abcdef";
    std::fs::write(
        env.repo.join(".gitleaks.toml"),
        "[extend]\nuseDefault = true\n\n[[rules]]\nid = \"acme-internal\"\nregex = '''ACME-[0-9a-f]{16}'''\nkeywords = [\"acme-\"]\n",
    )
    .unwrap();
    let transcript = format!(
        "{{\"type\":\"user\",\"message\":{{\"role\":\"user\",\"content\":\"deploy with {github} and {internal}\"}},\"uuid\":\"u1\"}}\n\
         {{\"type\":\"assistant\",\"message\":{{\"id\":\"m1\",\"model\":\"claude-opus-4\",\"content\":[{{\"type\":\"tool_use\",\"id\":\"t1\",\"name\":\"Bash\",\"input\":{{\"command\":\"export AWS_KEY={aws}\"}}}}]}},\"uuid\":\"u2\"}}\n\
         {{\"type\":\"user\",\"message\":{{\"content\":[{{\"type\":\"tool_result\",\"tool_use_id\":\"t1\",\"content\":\"ok\\nkey={aws}\\n\"}}]}},\"uuid\":\"u3\"}}\n"
    );
    env.claude_session("leaky", transcript.as_bytes());
    env.attach(&["leaky", "--force", "--v2"]).ok();
    let texts = stored_texts(&env, "leaky");
    assert!(texts
        .iter()
        .any(|(p, _)| p.ends_with("/0/transcript.jsonl")));
    for (path, text) in &texts {
        for secret in [github.as_str(), aws, internal] {
            assert!(!text.contains(secret), "{secret} found in {path}:\n{text}");
        }
    }
    let prompt = texts
        .iter()
        .find(|(p, _)| p.ends_with("/0/prompt.txt"))
        .unwrap();
    assert_eq!(prompt.1, "deploy with REDACTED and REDACTED");
    let state = &texts.last().unwrap().1;
    assert!(
        state.contains("\"last_prompt\": \"deploy with REDACTED and REDACTED\""),
        "{state}"
    );
    env.fsck();
}

#[test]
fn a_repository_rule_file_with_a_broken_regex_stops_before_writing() {
    let env = Env::new();
    std::fs::write(
        env.repo.join(".gitleaks.toml"),
        "[[rules]]\nid = \"broken-rule\"\nregex = '''(unclosed'''\nkeywords = [\"x\"]\n",
    )
    .unwrap();
    env.claude_session("s", claude_transcript("hi", "m", 1, 1).as_bytes());
    let before = env.snapshot();
    let run = env.attach(&["s", "--force"]);
    assert_eq!(run.code, 1, "{run:?}");
    assert!(
        run.stderr.starts_with("error: redaction rules: "),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains(".gitleaks.toml"));
    assert!(run.stderr.contains("broken-rule"));
    assert_eq!(run.stdout, "");
    assert_eq!(env.snapshot(), before);
}

#[test]
fn a_configured_rule_file_that_is_missing_stops_before_writing() {
    let env = Env::new();
    env.git(&["config", "attach.redactionRules", "rules/missing.toml"]);
    env.claude_session("s", claude_transcript("hi", "m", 1, 1).as_bytes());
    let before = env.snapshot();
    let run = env.attach(&["s", "--force"]);
    assert_eq!(run.code, 1);
    assert!(run.stderr.contains("missing.toml"), "{}", run.stderr);
    assert_eq!(env.snapshot(), before);
}
