//! The documentation and shell surface, held to the flag table (`git_attach::cli::FLAGS`): the
//! man page's OPTIONS section and each completion script name exactly the flags of the table;
//! the man page renders without warnings and is what `git attach --help` shows; the completion
//! scripts parse, and really complete in bash (through git's own completion), zsh and fish; the
//! README keeps its first screen and names every setting.
//!
//! Tests that need a tool (groff, man, zsh, fish, git's bash completion) fail when it is missing
//! and `CI` is set (`.ci/run` installs them); elsewhere they print a note and pass.

mod common;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;

use common::*;
use git_attach::cli::{Complete, Flag, FLAGS};

const AGENTS: [&str; 8] = [
    "claude-code",
    "codex",
    "copilot-cli",
    "cursor",
    "factoryai-droid",
    "gemini",
    "opencode",
    "pi",
];

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn read(rel: &str) -> String {
    std::fs::read_to_string(root().join(rel)).unwrap_or_else(|e| panic!("cannot read {rel}: {e}"))
}

/// Whether `tool` can be run; when it cannot, fails under CI and otherwise prints a note.
fn have(tool: &str, args: &[&str]) -> bool {
    let ok = Command::new(tool)
        .args(args)
        .output()
        .is_ok_and(|o| o.status.success());
    if !ok {
        assert!(
            std::env::var_os("CI").is_none(),
            "{tool} is needed by this test and CI is set: install it (.ci/run does)"
        );
        eprintln!("note: {tool} not found; skipping this check (it runs in CI)");
    }
    ok
}

fn table_longs() -> BTreeSet<String> {
    FLAGS.iter().map(|f| f.long.to_string()).collect()
}

fn table_shorts() -> BTreeSet<char> {
    FLAGS.iter().filter_map(|f| f.short).collect()
}

/// Fails with the flags that are missing from / extra in a document.
fn assert_same_flags(what: &str, found: &BTreeSet<String>) {
    let want = table_longs();
    let missing: Vec<_> = want.difference(found).collect();
    let extra: Vec<_> = found.difference(&want).collect();
    assert!(
        missing.is_empty() && extra.is_empty(),
        "{what} does not name exactly the flags of src/cli.rs FLAGS:\n  missing: {missing:?}\n  not in the table: {extra:?}"
    );
}

/// Every `--long` token of a text (`--` alone and `---` rules are not flags).
fn long_tokens(text: &str) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    let b = text.as_bytes();
    let mut i = 0;
    while i + 2 < b.len() {
        let boundary = i == 0 || !(b[i - 1].is_ascii_alphanumeric() || b[i - 1] == b'-');
        if boundary && b[i] == b'-' && b[i + 1] == b'-' && b[i + 2].is_ascii_lowercase() {
            let start = i + 2;
            let mut end = start;
            while end < b.len() && (b[end].is_ascii_alphanumeric() || b[end] == b'-') {
                end += 1;
            }
            out.insert(text[start..end].trim_end_matches('-').to_string());
            i = end;
        } else {
            i += 1;
        }
    }
    out
}

/// Script lines that are code, not comments.
fn code_lines(script: &str) -> String {
    script
        .lines()
        .filter(|l| !l.trim_start().starts_with('#'))
        .collect::<Vec<_>>()
        .join("\n")
}

// ---------------------------------------------------------------------------------------------
// Man page

/// The arguments of a macro line, honouring double quotes.
fn macro_args(rest: &str) -> Vec<String> {
    let mut args = Vec::new();
    let mut cur = String::new();
    let (mut quoted, mut any) = (false, false);
    for c in rest.chars() {
        match c {
            // A quote opens an argument only at its start; inside one it closes it.
            '"' if quoted || !any => {
                quoted = !quoted;
                any = true;
            }
            ' ' | '\t' if !quoted => {
                if any {
                    args.push(std::mem::take(&mut cur));
                    any = false;
                }
            }
            _ => {
                cur.push(c);
                any = true;
            }
        }
    }
    if any {
        args.push(cur);
    }
    args
}

/// Plain text of a roff line: font macros applied (`.BR a ", " b` is `a, b`), escapes such as
/// `\-`, `\(aq` and font changes replaced by what they print.
fn roff_plain(line: &str) -> String {
    let text = match line.split_once(' ') {
        Some((".B" | ".I", rest)) => macro_args(rest).join(" "),
        Some((".BR" | ".BI" | ".IR" | ".RB" | ".RI" | ".IB", rest)) => macro_args(rest).concat(),
        _ => line.to_string(),
    };
    let mut s = text;
    for (esc, plain) in [
        ("\\-", "-"),
        ("\\(aq", "'"),
        ("\\(dq", "\""),
        ("\\(ti", "~"),
        ("\\(bu", "*"),
        ("\\fB", ""),
        ("\\fI", ""),
        ("\\fR", ""),
        ("\\fP", ""),
        ("\\&", ""),
        ("\\e", "\\"),
    ] {
        s = s.replace(esc, plain);
    }
    s
}

/// The lines of a `.SH` section (without the heading).
fn man_section<'a>(page: &'a str, name: &str) -> Vec<&'a str> {
    let heading = format!(".SH {name}");
    let mut lines = page.lines().skip_while(|l| l.trim() != heading);
    assert!(lines.next().is_some(), "the man page has no {name} section");
    lines.take_while(|l| !l.starts_with(".SH ")).collect()
}

fn plain_section(page: &str, name: &str) -> String {
    let lines: Vec<String> = man_section(page, name)
        .iter()
        .map(|l| roff_plain(l))
        .collect();
    lines.join("\n")
}

/// The tag lines (the line after each `.TP`) of a section, as plain text.
fn man_tags(section: &[&str]) -> Vec<String> {
    section
        .windows(2)
        .filter(|w| w[0].starts_with(".TP"))
        .map(|w| roff_plain(w[1]))
        .collect()
}

fn man_spelling(f: &Flag) -> String {
    let mut s = match f.short {
        Some(c) => format!("-{c}, --{}", f.long),
        None => format!("--{}", f.long),
    };
    match (f.value, f.optional) {
        (Some(v), true) => s.push_str(&format!(" [{v}]")),
        (Some(v), false) => s.push_str(&format!(" {v}")),
        (None, _) => {}
    }
    s
}

#[test]
fn man_page_options_name_exactly_the_flags_of_the_table() {
    let page = read("man/git-attach.1");
    let tags = man_tags(&man_section(&page, "OPTIONS"));
    let mut found = BTreeSet::new();
    for tag in &tags {
        found.extend(long_tokens(tag));
    }
    assert_same_flags("man/git-attach.1 OPTIONS", &found);
    // Each flag has its own entry, spelled with its short form and value name.
    for f in FLAGS {
        let want = man_spelling(f);
        assert!(
            tags.iter()
                .any(|t| t.split_whitespace().collect::<Vec<_>>().join(" ") == want),
            "man/git-attach.1 OPTIONS has no entry \"{want}\"; entries: {tags:#?}"
        );
    }
    assert!(
        tags.iter().any(|t| t == "session-id"),
        "OPTIONS documents <session-id>"
    );
}

#[test]
fn man_page_names_every_setting_with_both_spellings() {
    let page = read("man/git-attach.1");
    let settings: Vec<String> = man_section(&page, "SETTINGS")
        .iter()
        .map(|l| roff_plain(l))
        .collect();
    let settings = settings.join("\n");
    let keys: BTreeSet<String> = man_tags(&man_section(&page, "SETTINGS"))
        .into_iter()
        .collect();
    assert_eq!(keys, settings_keys(), "man page SETTINGS entries");
    for needle in [
        "strategy_options",
        "checkpoints_v2",
        "\"enabled\"",
        ".entire/settings.json",
        ".entire/settings.local.json",
        "--v2",
        "--no-v2",
        "default",
    ] {
        assert!(
            settings.contains(needle),
            "SETTINGS does not mention {needle}"
        );
    }
}

/// The `attach.*` keys that `src/settings.rs` reads, in their documented camelCase spelling.
fn settings_keys() -> BTreeSet<String> {
    let documented = [
        "attach.checkpointsV2",
        "attach.enabled",
        "attach.agent",
        "attach.remote",
        "attach.agentTimeout",
        "attach.redactionRules",
    ];
    let whole = read("src/settings.rs");
    let source = whole.split("#[cfg(test)]").next().unwrap_or_default();
    let mut read_by_source = BTreeSet::new();
    for token in source.split('"') {
        if let Some(rest) = token.strip_prefix("attach.") {
            if !rest.is_empty() && rest.chars().all(|c| c.is_ascii_alphanumeric()) {
                read_by_source.insert(token.to_ascii_lowercase());
            }
        }
    }
    let lower: BTreeSet<String> = documented.iter().map(|k| k.to_ascii_lowercase()).collect();
    assert_eq!(
        lower, read_by_source,
        "src/settings.rs reads other attach.* keys than the documented ones: update man page, README and this list"
    );
    documented.iter().map(|k| k.to_string()).collect()
}

#[test]
fn man_page_has_every_section_and_the_crate_version() {
    let page = read("man/git-attach.1");
    for name in [
        "NAME",
        "SYNOPSIS",
        "DESCRIPTION",
        "OPTIONS",
        "SETTINGS",
        "FILES AND REFS",
        "ENVIRONMENT",
        "EXIT STATUS",
        "EXAMPLES",
        "SEE ALSO",
    ] {
        man_section(&page, name);
    }
    let th = page.lines().find(|l| l.starts_with(".TH ")).expect(".TH");
    assert!(
        th.contains(&format!("\"git\\-attach {}\"", env!("CARGO_PKG_VERSION"))),
        "the .TH line names the crate version {}: {th}",
        env!("CARGO_PKG_VERSION")
    );
    let files = plain_section(&page, "FILES AND REFS");
    for needle in [
        "refs/heads/entire/checkpoints/v1",
        "refs/entire/checkpoints/v2/main",
        "refs/entire/checkpoints/v2/full/current",
        "entire-sessions/",
    ] {
        assert!(
            files.contains(needle),
            "FILES AND REFS does not name {needle}"
        );
    }
    let examples = plain_section(&page, "EXAMPLES");
    assert!(examples.contains("alias.ca '!git commit -a && git attach --force'"));
    assert!(examples.contains("post-commit"));
    let exit = man_tags(&man_section(&page, "EXIT STATUS"));
    assert_eq!(exit, ["0", "1", "2"]);
}

#[test]
fn man_page_uses_only_the_portable_macros() {
    let page = read("man/git-attach.1");
    let allowed = [
        "TH", "SH", "SS", "TP", "IP", "RS", "RE", "PP", "B", "I", "BR", "BI", "IR", "RB", "RI",
        "IB", "br", "nf", "fi", "nh",
    ];
    for (n, line) in page.lines().enumerate() {
        if line.starts_with(".\\\"") || !line.starts_with('.') {
            continue;
        }
        let name = line[1..].split_whitespace().next().unwrap_or("");
        assert!(
            allowed.contains(&name),
            "man/git-attach.1:{}: .{name} is not in the portable subset",
            n + 1
        );
    }
}

#[test]
fn man_page_renders_without_warnings() {
    let page = root().join("man/git-attach.1");
    if have("groff", &["--version"]) {
        let out = Command::new("groff")
            .args(["-ww", "-z", "-man"])
            .arg(&page)
            .output()
            .unwrap();
        assert!(out.status.success());
        assert_eq!(
            String::from_utf8_lossy(&out.stderr),
            "",
            "groff -ww warnings"
        );
        assert_eq!(String::from_utf8_lossy(&out.stdout), "");
    }
    // mandoc is optional even in CI (.ci/run installs groff): lint when it is there.
    let mandoc = Command::new("mandoc")
        .args(["-T", "lint", "-W", "warning"])
        .arg(&page)
        .output();
    match mandoc {
        Ok(out) => assert!(
            out.status.success() && out.stdout.is_empty(),
            "mandoc -T lint: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ),
        Err(_) => eprintln!("note: mandoc not installed; lint with groff only"),
    }
    if have("man", &["--version"]) {
        let out = Command::new("man")
            .args(["--warnings", "-l"])
            .arg(&page)
            .env("MANWIDTH", "80")
            .env("MANPAGER", "cat")
            .env("PAGER", "cat")
            .env("LANG", "C")
            .output()
            .unwrap();
        assert!(out.status.success());
        assert_eq!(String::from_utf8_lossy(&out.stderr), "", "man -l warnings");
        assert!(String::from_utf8_lossy(&out.stdout).contains("NAME"));
    }
}

/// `git attach --help` and `git help -m attach` run `man git-attach`: with the page on MANPATH,
/// the page is what they show. (git only maps `attach` to `git-attach` when that executable is
/// on PATH.)
#[test]
fn git_attach_help_shows_the_man_page() {
    if !have("man", &["--version"]) {
        return;
    }
    let env = Env::new();
    let man1 = env.root.join("man/man1");
    std::fs::create_dir_all(&man1).unwrap();
    std::fs::copy(root().join("man/git-attach.1"), man1.join("git-attach.1")).unwrap();
    let bin_dir = Path::new(BIN).parent().unwrap();
    let path = format!(
        "{}:{}",
        bin_dir.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    for args in [&["help", "-m", "attach"][..], &["attach", "--help"]] {
        let out = env
            .command("git")
            .args(args)
            .env("PATH", &path)
            .env("MANPATH", env.root.join("man"))
            .env("MANPAGER", "cat")
            .env("PAGER", "cat")
            .env("MANWIDTH", "80")
            .output()
            .unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout);
        let text = stdout.split_whitespace().collect::<Vec<_>>().join(" ");
        assert!(
            out.status.success(),
            "git {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(
            text.contains(
                "NAME git-attach - attach an AI coding agent's session transcript to HEAD as an Entire checkpoint"
            ),
            "git {args:?} did not show the page:\n{stdout}"
        );
        assert!(text.contains("EXIT STATUS"));
    }
}

// ---------------------------------------------------------------------------------------------
// Completion scripts: the flags they name

#[test]
fn bash_completion_names_exactly_the_flags_of_the_table() {
    let script = read("completions/git-attach.bash");
    let code = code_lines(&script);
    assert_same_flags("completions/git-attach.bash", &long_tokens(&code));
    // What each value-taking flag completes to, by long and short spelling.
    for f in FLAGS.iter().filter(|f| f.value.is_some()) {
        let kind = match f.complete {
            Complete::Agent => "agent",
            Complete::File => "file",
            Complete::Remote => "remote",
            Complete::Nothing => continue,
        };
        let pattern = match f.short {
            Some(c) => format!("-{c}|--{}) echo {kind} ;;", f.long),
            None => format!("--{}) echo {kind} ;;", f.long),
        };
        assert!(
            script.contains(&pattern),
            "completions/git-attach.bash: no \"{pattern}\" in __git_attach_value_kind"
        );
    }
    for (list, want_value) in [
        ("__git_attach_flags_plain=", false),
        ("__git_attach_flags_value=", true),
    ] {
        let line = script
            .lines()
            .find(|l| l.starts_with(list))
            .unwrap_or_else(|| panic!("no {list} line"));
        for token in long_tokens(line) {
            let f = FLAGS.iter().find(|f| f.long == token).unwrap();
            assert_eq!(
                f.value.is_some(),
                want_value,
                "--{token} is in the wrong list of completions/git-attach.bash"
            );
        }
    }
}

#[test]
fn zsh_completion_names_exactly_the_flags_of_the_table() {
    let script = read("completions/_git-attach");
    let code = code_lines(&script);
    assert_same_flags("completions/_git-attach", &long_tokens(&code));
    let arguments: String = code
        .lines()
        .filter(|l| l.trim_start().starts_with('\''))
        .collect::<Vec<_>>()
        .join("\n");
    let shorts: BTreeSet<char> = arguments
        .split(['{', ',', '(', ' '])
        .filter_map(|w| {
            let b = w.as_bytes();
            (b.len() >= 2 && b[0] == b'-' && b[1].is_ascii_alphabetic()).then(|| b[1] as char)
        })
        .collect();
    assert_eq!(
        shorts,
        table_shorts(),
        "short options of completions/_git-attach"
    );
    for f in FLAGS {
        // `--agent=` takes its value after `=` or in the next word; an optional value
        // (`--push [<remote>]`) is only the next word: `--push[...]::remote:...`.
        let required = code.contains(&format!("--{}=", f.long));
        let optional = code
            .lines()
            .any(|l| l.contains(&format!("--{}[", f.long)) && l.contains("]::"));
        assert_eq!(
            (required, optional),
            (f.value.is_some() && !f.optional, f.optional),
            "completions/_git-attach: value spec of --{}",
            f.long
        );
    }
}

#[test]
fn fish_completion_names_exactly_the_flags_of_the_table() {
    let script = read("completions/git-attach.fish");
    let mut longs = BTreeSet::new();
    let mut shorts = BTreeSet::new();
    for line in code_lines(&script).lines() {
        if !line.starts_with("complete -c git-attach") {
            continue;
        }
        let words: Vec<&str> = line.split_whitespace().collect();
        let (mut long, mut short) = (None, None);
        for w in words.windows(2) {
            match w[0] {
                "-l" => long = Some(w[1].to_string()),
                "-s" => short = w[1].chars().next(),
                _ => {}
            }
        }
        if let Some(l) = long {
            let f = FLAGS.iter().find(|f| f.long == l).unwrap_or_else(|| {
                panic!("completions/git-attach.fish: --{l} is not in the table")
            });
            assert_eq!(
                short, f.short,
                "completions/git-attach.fish: short of --{l}"
            );
            // An optional value (`--push [<remote>]`) is completed by a separate rule.
            let requires = words.contains(&"-x") || words.contains(&"-r");
            assert_eq!(
                requires,
                f.value.is_some() && !f.optional,
                "fish: --{l} requires a value?"
            );
            if f.optional {
                assert!(
                    script.contains(&format!("-n '__fish_prev_arg_in --{l}'")),
                    "fish: the optional value of --{l} is completed"
                );
            }
            longs.insert(l);
        }
        shorts.extend(short);
    }
    assert_same_flags("completions/git-attach.fish", &longs);
    assert_eq!(shorts, table_shorts());
}

#[test]
fn completion_scripts_offer_the_agent_names() {
    for file in [
        "completions/git-attach.bash",
        "completions/_git-attach",
        "completions/git-attach.fish",
    ] {
        let script = read(file);
        let line = AGENTS.join(" ");
        assert!(
            script.contains(&line),
            "{file} does not list the agents \"{line}\""
        );
        assert!(
            script.contains("--list --json 2>/dev/null"),
            "{file} lists session ids quietly"
        );
    }
}

// ---------------------------------------------------------------------------------------------
// Completion scripts: they work

/// git's own bash completion script, from the git installation.
fn git_bash_completion() -> Option<PathBuf> {
    let mut candidates = vec![
        PathBuf::from("/usr/share/bash-completion/completions/git"),
        PathBuf::from("/usr/share/git-core/contrib/completion/git-completion.bash"),
        PathBuf::from("/usr/share/git/completion/git-completion.bash"),
        PathBuf::from("/opt/homebrew/etc/bash_completion.d/git-completion.bash"),
        PathBuf::from("/usr/local/etc/bash_completion.d/git-completion.bash"),
        PathBuf::from("/etc/bash_completion.d/git"),
    ];
    if let Ok(out) = Command::new("git").arg("--exec-path").output() {
        let exec = PathBuf::from(String::from_utf8_lossy(&out.stdout).trim());
        for up in [exec.join("../.."), exec.join("../../..")] {
            candidates.push(up.join("share/git-core/contrib/completion/git-completion.bash"));
            candidates.push(up.join("etc/bash_completion.d/git-completion.bash"));
        }
    }
    let found = candidates.into_iter().find(|p| p.is_file());
    if found.is_none() {
        assert!(
            std::env::var_os("CI").is_none(),
            "git's bash completion (git-completion.bash) is needed by this test and CI is set"
        );
        eprintln!("note: git's bash completion not found; skipping");
    }
    found
}

/// Completes `words` (the last one is the word under the cursor) in bash, the way readline
/// would call the completion function, and returns COMPREPLY.
fn bash_complete(
    env: &Env,
    git_completion: &Path,
    bash_completion: bool,
    words: &[&str],
) -> Vec<String> {
    let quoted: Vec<String> = words
        .iter()
        .map(|w| format!("'{}'", w.replace('\'', "'\\''")))
        .collect();
    let line = words.join(" ").replace(" = ", "=").replace(" =", "=");
    let framework = root_bash_completion()
        .filter(|_| bash_completion)
        .map(|p| format!("source '{}'", p.display()))
        .unwrap_or_default();
    let dispatch = if words[0] == "git" {
        "__git_wrap__git_main"
    } else {
        "_git_attach_command"
    };
    let script = format!(
        r#"{framework}
source '{git}'
source '{ours}'
COMP_WORDS=({words})
COMP_CWORD=$(( ${{#COMP_WORDS[@]}} - 1 ))
COMP_LINE='{line}'
COMP_POINT=${{#COMP_LINE}}
COMPREPLY=()
{dispatch}
for w in "${{COMPREPLY[@]}}"; do printf '[%s]\n' "$w"; done
"#,
        git = git_completion.display(),
        ours = root().join("completions/git-attach.bash").display(),
        words = quoted.join(" "),
        line = line.replace('\'', "'\\''"),
    );
    let bin_dir = Path::new(BIN).parent().unwrap();
    let path = format!(
        "{}:{}",
        bin_dir.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let out = env
        .command("bash")
        .args(["--norc", "--noprofile", "-c", &script])
        .env("PATH", path)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "bash failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        "",
        "completion printed on stderr for {words:?}"
    );
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| l.trim_start_matches('[').trim_end_matches(']').to_string())
        .collect()
}

/// bash-completion's framework, when installed.
fn root_bash_completion() -> Option<PathBuf> {
    [
        "/usr/share/bash-completion/bash_completion",
        "/etc/bash_completion",
    ]
    .into_iter()
    .map(PathBuf::from)
    .find(|p| p.is_file())
}

#[test]
fn bash_completes_git_attach_through_gits_completion_and_git_attach_directly() {
    if !have("bash", &["--version"]) {
        return;
    }
    let Some(git_completion) = git_bash_completion() else {
        return;
    };
    let env = Env::new();
    env.git(&["remote", "add", "upstream", "https://example.invalid/r.git"]);
    let agents_git: Vec<String> = AGENTS.iter().map(|a| format!("{a} ")).collect();
    let agents_plain: Vec<String> = AGENTS.iter().map(|a| a.to_string()).collect();
    let mut frameworks = vec![false];
    if root_bash_completion().is_some() {
        frameworks.push(true);
    }
    for fw in frameworks {
        let c = |words: &[&str]| bash_complete(&env, &git_completion, fw, words);
        // Through git: git's completion registers with -o nospace, so words carry their space.
        assert_eq!(
            c(&["git", "attach", "--ag"]),
            ["--agent "],
            "framework: {fw}"
        );
        assert_eq!(c(&["git", "attach", "--agent", ""]), agents_git);
        assert_eq!(
            c(&["git", "attach", "-a", "co"]),
            ["codex ", "copilot-cli "]
        );
        assert_eq!(c(&["git", "attach", "--agent", "=", "cu"]), ["cursor "]);
        assert_eq!(c(&["git", "attach", "--remote", "up"]), ["upstream "]);
        assert_eq!(c(&["git", "attach", "--transcript", "hel"]), ["hello.txt"]);
        // Directly.
        assert_eq!(c(&["git-attach", "--ag"]), ["--agent"]);
        assert_eq!(c(&["git-attach", "--agent", ""]), agents_plain);
        assert_eq!(c(&["git-attach", "--agent", "=", "ge"]), ["gemini"]);
        assert_eq!(c(&["git-attach", "--remote", ""]), ["upstream"]);
        assert_eq!(c(&["git-attach", "-t", "hel"]), ["hello.txt"]);
        if FLAGS.iter().any(|f| f.long == "push") {
            assert_eq!(c(&["git", "attach", "--push", ""]), ["upstream "]);
            assert_eq!(c(&["git-attach", "--push", "u"]), ["upstream"]);
        }
        // Every flag of the table is offered after `--`.
        let mut offered: BTreeSet<String> = c(&["git", "attach", "--"])
            .into_iter()
            .map(|w| w.trim_end().trim_start_matches("--").to_string())
            .collect();
        offered.retain(|w| !w.is_empty());
        assert_same_flags("bash completion of `git attach --`", &offered);
    }
}

#[test]
fn bash_completes_session_ids_from_the_list() {
    let Some(git_completion) = git_bash_completion() else {
        return;
    };
    let env = Env::new();
    env.claude_session(WORKED_SESSION, WORKED_TRANSCRIPT.as_bytes());
    let listing = FLAGS.iter().any(|f| f.long == "list") && FLAGS.iter().any(|f| f.long == "json");
    let git = bash_complete(&env, &git_completion, false, &["git", "attach", ""]);
    let direct = bash_complete(&env, &git_completion, false, &["git-attach", "3f"]);
    if listing {
        assert_eq!(git, [format!("{WORKED_SESSION} ")]);
        assert_eq!(direct, [WORKED_SESSION]);
    } else {
        // Without --list the call fails quietly (bash_complete checks stderr) and offers nothing.
        assert!(git.is_empty() && direct.is_empty(), "{git:?} {direct:?}");
    }
}

#[test]
fn zsh_completion_parses_and_registers_for_git_attach() {
    if !have("zsh", &["--version"]) {
        return;
    }
    let file = root().join("completions/_git-attach");
    let out = Command::new("zsh").arg("-n").arg(&file).output().unwrap();
    assert!(
        out.status.success() && out.stderr.is_empty(),
        "zsh -n: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let env = Env::empty();
    let script = format!(
        "autoload -Uz compinit && compinit -u -D && source '{}' && print -r -- ${{_comps[git-attach]}}",
        file.display()
    );
    let out = env
        .command("zsh")
        .args(["-f", "-c", &script])
        .output()
        .unwrap();
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        "_git-attach",
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Drives an interactive zsh in a pseudo-terminal (`zsh/zpty`): waits until its line editor is
/// ready (typeahead sent earlier may be flushed), types `$3`, presses TAB, and prints every
/// candidate that the completion system passed to `compadd`. `$1` is the completions folder,
/// `$2` a scratch folder.
const ZSH_CAPTURE: &str = r#"
zmodload zsh/zpty || exit 3
cat > $2/.zshenv <<'EOF'
unsetopt global_rcs
EOF
cat > $2/.zshrc <<EOF
fpath=($1 \$fpath)
autoload -Uz compinit && compinit -u -D
compadd () { local -a __h; builtin compadd -O __h "\$@"; print -rl -- \$__h >> $2/hits; builtin compadd "\$@" }
__done () { print -r -- done >> $2/done }
zle -N __done && bindkey '^Y' __done
zle-line-init () { print -r -- ready >> $2/ready }
zle -N zle-line-init
EOF
zpty z "ZDOTDIR=$2 zsh -i"
for i in {1..400}; do [[ -e $2/ready ]] && break; sleep 0.05; done
[[ -e $2/ready ]] || exit 4
zpty -w z "$3"$'\t\x19'
for i in {1..400}; do [[ -e $2/done ]] && break; sleep 0.05; done
zpty -d z
[[ -e $2/done ]] || exit 5
[[ -e $2/hits ]] && sort -u $2/hits
"#;

#[test]
fn zsh_completes_git_attach_and_git_dash_attach() {
    if !have("zsh", &["--version"]) {
        return;
    }
    let env = Env::new();
    env.git(&["remote", "add", "upstream", "https://example.invalid/r.git"]);
    let bin_dir = Path::new(BIN).parent().unwrap();
    let path = format!(
        "{}:{}",
        bin_dir.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let complete = |n: usize, line: &str| -> BTreeSet<String> {
        let scratch = env.root.join(format!("zsh-{n}"));
        std::fs::create_dir_all(&scratch).unwrap();
        let out = env
            .command("zsh")
            .args(["-f", "-c", ZSH_CAPTURE, "zsh"])
            .arg(root().join("completions"))
            .arg(&scratch)
            .arg(line)
            .env("PATH", &path)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "zsh completion of {line:?} did not finish (exit {:?}): {}",
            out.status.code(),
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .filter(|l| !l.is_empty())
            .map(str::to_string)
            .collect()
    };
    let set =
        |words: &[&str]| -> BTreeSet<String> { words.iter().map(|w| w.to_string()).collect() };
    assert_eq!(complete(1, "git-attach --ag"), set(&["--agent"]));
    assert_eq!(complete(2, "git attach --ag"), set(&["--agent"]));
    assert_eq!(complete(3, "git attach --agent "), set(&AGENTS));
    assert_eq!(complete(4, "git-attach --remote "), set(&["upstream"]));
    assert!(complete(5, "git-attach --transcript hel").contains("hello.txt"));
    let offered: BTreeSet<String> = complete(6, "git attach --")
        .into_iter()
        .filter_map(|w| w.strip_prefix("--").map(str::to_string))
        .collect();
    assert_same_flags("zsh completion of `git attach --`", &offered);
}

#[test]
fn fish_completion_parses_and_completes_git_attach() {
    if !have("fish", &["--version"]) {
        return;
    }
    let dir = root().join("completions");
    let out = Command::new("fish")
        .arg("--no-execute")
        .arg(dir.join("git-attach.fish"))
        .output()
        .unwrap();
    assert!(
        out.status.success() && out.stderr.is_empty(),
        "fish --no-execute: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let env = Env::new();
    env.git(&["remote", "add", "upstream", "https://example.invalid/r.git"]);
    let complete = |line: &str| -> Vec<String> {
        let script = format!(
            "set -p fish_complete_path '{}'; complete -C '{line}'",
            dir.display()
        );
        let bin_dir = Path::new(BIN).parent().unwrap();
        let path = format!(
            "{}:{}",
            bin_dir.display(),
            std::env::var("PATH").unwrap_or_default()
        );
        let out = env
            .command("fish")
            .args(["--no-config", "-c", &script])
            .env("PATH", path)
            .output()
            .unwrap();
        assert_eq!(String::from_utf8_lossy(&out.stderr), "", "fish: {line}");
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .map(|l| l.split('\t').next().unwrap_or("").to_string())
            .collect()
    };
    assert_eq!(complete("git-attach --ag"), ["--agent"]);
    assert_eq!(complete("git-attach --agent "), AGENTS);
    assert_eq!(complete("git-attach -t hel"), ["hello.txt"]);
    assert_eq!(complete("git-attach --remote "), ["upstream"]);
    if FLAGS.iter().any(|f| f.long == "push") {
        assert_eq!(complete("git-attach --push "), ["upstream"]);
    }
    let mut offered: BTreeSet<String> = complete("git-attach --")
        .into_iter()
        .map(|w| w.trim_start_matches("--").to_string())
        .collect();
    offered.retain(|w| !w.is_empty());
    assert_same_flags("fish completion of `git-attach --`", &offered);
}

// ---------------------------------------------------------------------------------------------
// README

#[test]
fn readme_first_screen_says_what_it_is_and_how_to_install_and_test() {
    let readme = read("README.md");
    let first_section = readme
        .match_indices("\n## ")
        .next()
        .map(|(i, _)| &readme[..i])
        .unwrap_or(&readme);
    let blocks: Vec<&str> = first_section.split("```").skip(1).step_by(2).collect();
    assert_eq!(blocks.len(), 2, "the first screen has exactly two commands");
    assert!(
        blocks[0].contains("cargo install --locked --path ."),
        "{}",
        blocks[0]
    );
    assert!(blocks[1].contains("cargo test --locked"), "{}", blocks[1]);
    assert!(
        first_section.lines().count() <= 30,
        "the first screen fits a screen"
    );
    let ci = read(".ci/run");
    assert!(
        ci.contains("cargo test --locked"),
        "CI runs the README's test command"
    );
}

#[test]
fn readme_names_every_setting_flag_ref_and_exit_status() {
    let readme = read("README.md");
    for key in settings_keys() {
        assert!(
            readme.contains(&format!("| `{key}` |")),
            "README's settings table has no row for {key}"
        );
    }
    for f in FLAGS {
        assert!(
            readme.contains(&format!("--{}", f.long)),
            "README does not mention --{}",
            f.long
        );
    }
    for needle in [
        "refs/heads/entire/checkpoints/v1",
        "refs/entire/checkpoints/v2/",
        "entire-sessions/",
        "GIT_ATTACH_LOG",
        "completions/git-attach.bash",
        "completions/_git-attach",
        "completions/git-attach.fish",
        "man/git-attach.1",
    ] {
        assert!(readme.contains(needle), "README does not mention {needle}");
    }
    for heading in ["## Exit status", "## Troubleshooting", "## Uninstall"] {
        assert!(
            readme.contains(heading),
            "README has no \"{heading}\" section"
        );
    }
}
