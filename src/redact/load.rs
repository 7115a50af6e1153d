//! Reading rule files in the gitleaks TOML configuration format (`redaction.md` §7.2, §7.5).
//!
//! It owns parsing with the `toml` crate, case-insensitive keys, type checks, `[extend]`,
//! partial rules, allowlists and `targetRules` resolution, and fails closed: every problem with
//! a configured file is a [`RulesError`] naming the file. It does not evaluate rules (`rules`).

use std::path::{Path, PathBuf};

use toml::{Table, Value};

use super::pattern;
use super::rules::{Allowlist, Rule, RuleSet, Target};
use super::RulesError;

/// The project's built-in rules (§7.9), embedded so the binary needs no data files.
pub(crate) const BUILTIN_RULES: &str = include_str!("builtin_rules.toml");

/// The name used for the built-in file in messages.
pub(crate) const BUILTIN_NAME: &str = "<built-in rules>";

/// How deep `extend.path` chains may go (gitleaks' limit).
const MAX_EXTEND_DEPTH: usize = 2;

/// Accumulates rules and allowlists across sources, in load order.
#[derive(Default)]
pub(crate) struct Loader {
    rules: Vec<Rule>,
    allowlists: Vec<Allowlist>,
    globals: Vec<(usize, Option<Vec<usize>>)>,
}

type Res<T> = Result<T, String>;

impl Loader {
    pub(crate) fn finish(self) -> RuleSet {
        RuleSet::new(self.rules, self.allowlists, self.globals)
    }

    /// Loads the embedded built-in rule file.
    pub(crate) fn load_builtin(&mut self) -> Result<(), RulesError> {
        self.load_text(BUILTIN_RULES, BUILTIN_NAME, None, 0)
    }

    /// Loads a rule file from disk; missing or unreadable is an error (fail closed).
    pub(crate) fn load_path(&mut self, path: &Path) -> Result<(), RulesError> {
        self.load_path_at(path, 0)
    }

    fn load_path_at(&mut self, path: &Path, depth: usize) -> Result<(), RulesError> {
        let name = path.display().to_string();
        let text = std::fs::read(path).map_err(|e| RulesError {
            file: name.clone(),
            reason: format!("cannot read file: {e}"),
        })?;
        let text = String::from_utf8(text).map_err(|_| RulesError {
            file: name.clone(),
            reason: "not valid TOML: the file is not UTF-8".to_string(),
        })?;
        self.load_text(&text, &name, path.parent(), depth)
    }

    /// Loads one document. `dir` is where relative `extend.path` values are resolved.
    pub(crate) fn load_text(
        &mut self,
        text: &str,
        name: &str,
        dir: Option<&Path>,
        depth: usize,
    ) -> Result<(), RulesError> {
        let err = |reason: String| RulesError {
            file: name.to_string(),
            reason,
        };
        let table: Table = toml::from_str(text)
            .map_err(|e| err(format!("not valid TOML: {}", one_line(&e.to_string()))))?;
        let table = lower_keys(table, name);
        self.interpret(&table, name, dir, depth).map_err(err)
    }

    fn interpret(&mut self, t: &Table, name: &str, dir: Option<&Path>, depth: usize) -> Res<()> {
        for k in t.keys() {
            if !matches!(
                k.as_str(),
                "title"
                    | "description"
                    | "minversion"
                    | "extend"
                    | "rules"
                    | "allowlist"
                    | "allowlists"
            ) {
                log::warn!("redaction rules: {name}: ignoring unknown key `{k}`");
            }
        }
        for k in ["title", "description", "minversion"] {
            opt_str(t, k, k)?;
        }

        if let Some(ext) = t.get("extend") {
            let ext = ext.as_table().ok_or("`extend` must be a table")?;
            self.extend(ext, name, dir, depth)?;
        }

        if let Some(rules) = t.get("rules") {
            let rules = rules
                .as_array()
                .ok_or("`rules` must be an array of tables")?;
            for (n, r) in rules.iter().enumerate() {
                let r = r
                    .as_table()
                    .ok_or_else(|| format!("rules[{n}] must be a table"))?;
                self.rule(r, n, name)?;
            }
        }

        let legacy = t.get("allowlist");
        let list = t.get("allowlists");
        if legacy.is_some() && list.is_some() {
            return Err("both [allowlist] and [[allowlists]] are present; use one".to_string());
        }
        let mut tables: Vec<(&Table, String)> = Vec::new();
        if let Some(a) = legacy {
            tables.push((
                a.as_table().ok_or("`allowlist` must be a table")?,
                "[allowlist]".to_string(),
            ));
        }
        if let Some(a) = list {
            let arr = a
                .as_array()
                .ok_or("`allowlists` must be an array of tables")?;
            for (n, x) in arr.iter().enumerate() {
                let what = format!("allowlists[{n}]");
                tables.push((
                    x.as_table()
                        .ok_or_else(|| format!("{what} must be a table"))?,
                    what,
                ));
            }
        }
        for (a, what) in tables {
            let (al, target_ids) = parse_allowlist(a, &what, true, name)?;
            let targets = target_ids.map(|ids| {
                let mut idx = Vec::new();
                for id in ids {
                    let found: Vec<usize> = self
                        .rules
                        .iter()
                        .enumerate()
                        .filter(|(_, r)| r.id == id)
                        .map(|(i, _)| i)
                        .collect();
                    if found.is_empty() {
                        log::warn!("redaction rules: {name}: {what}: targetRules names unknown rule `{id}`; ignored");
                    }
                    idx.extend(found);
                }
                idx
            });
            self.allowlists.push(al);
            self.globals.push((self.allowlists.len() - 1, targets));
        }
        Ok(())
    }

    fn extend(&mut self, ext: &Table, name: &str, dir: Option<&Path>, depth: usize) -> Res<()> {
        for k in ext.keys() {
            if !matches!(k.as_str(), "usedefault" | "path" | "url" | "disabledrules") {
                log::warn!("redaction rules: {name}: ignoring unknown key `extend.{k}`");
            }
        }
        let use_default = match ext.get("usedefault") {
            None => false,
            Some(v) => v.as_bool().ok_or("`extend.useDefault` must be a boolean")?,
        };
        let path = opt_str(ext, "path", "extend.path")?;
        if ext.contains_key("url") {
            return Err("`extend.url` is not supported".to_string());
        }
        let disabled =
            opt_str_array(ext, "disabledrules", "extend.disabledRules")?.unwrap_or_default();
        if use_default && path.is_some() {
            return Err(
                "`extend.path` and `extend.useDefault = true` cannot be combined".to_string(),
            );
        }
        if use_default {
            log::debug!(
                "redaction rules: {name}: extend.useDefault: git-attach's built-in rules are always active"
            );
        }
        if let Some(p) = path {
            if depth >= MAX_EXTEND_DEPTH {
                return Err(format!(
                    "`extend.path` {p}: more than {MAX_EXTEND_DEPTH} levels of extend"
                ));
            }
            let full: PathBuf = match dir {
                Some(d) => d.join(&p),
                None => PathBuf::from(&p),
            };
            let first = self.rules.len();
            self.load_path_at(&full, depth + 1)
                .map_err(|e| format!("`extend.path` {p}: {}: {}", e.file, e.reason))?;
            // disabledRules reaches only into the extended file (and what it extends).
            for id in &disabled {
                let mut hit = false;
                for r in &mut self.rules[first..] {
                    if &r.id == id {
                        r.disabled = true;
                        hit = true;
                    }
                }
                if !hit {
                    log::warn!(
                        "redaction rules: {name}: extend.disabledRules names unknown rule `{id}`"
                    );
                }
            }
        } else if !disabled.is_empty() {
            log::warn!(
                "redaction rules: {name}: extend.disabledRules only applies to an extend.path file; built-in rules cannot be disabled"
            );
        }
        Ok(())
    }

    fn rule(&mut self, r: &Table, n: usize, name: &str) -> Res<()> {
        let id = match r.get("id") {
            None => return Err(format!("rules[{n}] has no `id`")),
            Some(v) => v
                .as_str()
                .ok_or_else(|| format!("rules[{n}]: `id` must be a string"))?
                .to_string(),
        };
        if id.is_empty() {
            return Err(format!("rules[{n}] has an empty `id`"));
        }
        let ctx = format!("rule `{id}`");
        for k in r.keys() {
            match k.as_str() {
                "id" | "description" | "regex" | "secretgroup" | "entropy" | "keywords"
                | "path" | "tags" | "skipreport" | "required" | "allowlists" | "allowlist" => {}
                // File-only keys some configurations carry on rules.
                "paths" | "commits" => {
                    log::debug!(
                        "redaction rules: {name}: {ctx}: `{k}` only applies to files; ignored"
                    )
                }
                _ => log::warn!("redaction rules: {name}: {ctx}: ignoring unknown key `{k}`"),
            }
        }
        opt_str(r, "description", &format!("{ctx}: description"))?;
        let regex_src = opt_str(r, "regex", &format!("{ctx}: regex"))?;
        let path_src = opt_str(r, "path", &format!("{ctx}: path"))?;
        let secret_group = match r.get("secretgroup") {
            None => 0,
            Some(Value::Integer(i)) if *i >= 0 => {
                usize::try_from(*i).map_err(|_| format!("{ctx}: `secretGroup` is too large"))?
            }
            Some(_) => return Err(format!("{ctx}: `secretGroup` must be an integer >= 0")),
        };
        let entropy = match r.get("entropy") {
            None => 0.0,
            Some(Value::Float(f)) => *f,
            Some(Value::Integer(i)) => *i as f64,
            Some(_) => return Err(format!("{ctx}: `entropy` must be a number")),
        };
        let keywords =
            opt_str_array(r, "keywords", &format!("{ctx}: keywords"))?.unwrap_or_default();
        opt_str_array(r, "tags", &format!("{ctx}: tags"))?;
        if let Some(v) = r.get("skipreport") {
            v.as_bool()
                .ok_or_else(|| format!("{ctx}: `skipReport` must be a boolean"))?;
        }
        if let Some(req) = r.get("required") {
            if !req
                .as_array()
                .is_some_and(|a| a.iter().all(Value::is_table))
            {
                return Err(format!("{ctx}: `required` must be an array of tables"));
            }
            log::debug!(
                "redaction rules: {name}: {ctx}: `required` ignored; the rule applies on its own"
            );
        }

        let legacy = r.get("allowlist");
        let list = r.get("allowlists");
        if legacy.is_some() && list.is_some() {
            return Err(format!(
                "{ctx}: both [rules.allowlist] and [[rules.allowlists]] are present"
            ));
        }
        let mut allowlists = Vec::new();
        if let Some(a) = legacy {
            let a = a
                .as_table()
                .ok_or_else(|| format!("{ctx}: `allowlist` must be a table"))?;
            allowlists.push(parse_allowlist(a, &format!("{ctx}: allowlist"), false, name)?.0);
        }
        if let Some(a) = list {
            let arr = a
                .as_array()
                .ok_or_else(|| format!("{ctx}: `allowlists` must be an array of tables"))?;
            for (i, x) in arr.iter().enumerate() {
                let what = format!("{ctx}: allowlists[{i}]");
                let t = x
                    .as_table()
                    .ok_or_else(|| format!("{what} must be a table"))?;
                allowlists.push(parse_allowlist(t, &what, false, name)?.0);
            }
        }

        if regex_src.is_none() && path_src.is_none() {
            // A partial rule tunes an already loaded rule (typically one of gitleaks' defaults).
            let targets: Vec<usize> = self
                .rules
                .iter()
                .enumerate()
                .filter(|(_, x)| x.id == id)
                .map(|(i, _)| i)
                .collect();
            if targets.is_empty() {
                log::warn!(
                    "redaction rules: {name}: {ctx} has neither regex nor path and no loaded rule has this id; ignored"
                );
                return Ok(());
            }
            log::warn!(
                "redaction rules: {name}: {ctx} has neither regex nor path: only its allowlists are added to the loaded rule; other fields ignored"
            );
            let mut idx = Vec::new();
            for al in allowlists {
                self.allowlists.push(al);
                idx.push(self.allowlists.len() - 1);
            }
            for t in targets {
                self.rules[t].allowlists.extend(idx.iter().copied());
            }
            return Ok(());
        }

        // The built-in rules are compiled on first use (their tests compile every one); user
        // files are compiled now, so that a bad pattern stops the run before anything is written.
        let builtin = name == BUILTIN_NAME;
        let regex = match &regex_src {
            Some(src) if builtin => Some(pattern::LazyRegex::deferred(src)),
            Some(src) => Some(pattern::LazyRegex::compiled(
                pattern::compile(src).map_err(|e| format!("{ctx}: regex does not compile: {e}"))?,
            )),
            None => None,
        };
        let mut runs = regex.is_some();
        if let Some(p) = &path_src {
            let pre =
                pattern::compile(p).map_err(|e| format!("{ctx}: path does not compile: {e}"))?;
            // Transcripts have no file path: the rule runs only if its path accepts "".
            if !pre.is_match(b"") {
                runs = false;
                log::debug!("redaction rules: {name}: {ctx}: path regex cannot match a transcript; rule inactive");
            }
        }
        if let Some(re) = regex.as_ref().filter(|_| !builtin).and_then(|r| r.get()) {
            let groups = re.captures_len() - 1;
            if secret_group > groups {
                return Err(format!(
                    "{ctx}: secretGroup {secret_group} but the regex has only {groups} capture group(s)"
                ));
            }
        }
        if runs && keywords.is_empty() {
            log::warn!(
                "redaction rules: {name}: {ctx} has no keywords; it runs on every string (slower)"
            );
        }
        if self.rules.iter().any(|x| x.id == id) {
            log::warn!(
                "redaction rules: {name}: {ctx}: id already loaded; both rules apply independently"
            );
        }
        let mut idx = Vec::new();
        for al in allowlists {
            self.allowlists.push(al);
            idx.push(self.allowlists.len() - 1);
        }
        self.rules.push(Rule {
            id,
            regex,
            runs,
            secret_group,
            entropy,
            keywords: keywords
                .iter()
                .filter(|k| !k.is_empty())
                .map(|k| super::rules::lowercase(k.as_bytes()))
                .collect(),
            allowlists: idx,
            disabled: false,
        });
        Ok(())
    }
}

/// Parses one allowlist table. `global` allows `targetRules`. Returns the target ids, if any.
fn parse_allowlist(
    a: &Table,
    what: &str,
    global: bool,
    name: &str,
) -> Res<(Allowlist, Option<Vec<String>>)> {
    for k in a.keys() {
        match k.as_str() {
            "description" | "condition" | "regextarget" | "regexes" | "stopwords" | "paths"
            | "commits" => {}
            "targetrules" if global => {}
            _ => log::warn!("redaction rules: {name}: {what}: ignoring unknown key `{k}`"),
        }
    }
    opt_str(a, "description", &format!("{what}: description"))?;
    let condition = opt_str(a, "condition", &format!("{what}: condition"))?.unwrap_or_default();
    let and = match condition.to_ascii_uppercase().as_str() {
        "" | "OR" | "||" => false,
        "AND" | "&&" => true,
        _ => {
            return Err(format!(
                "{what}: unknown condition `{condition}` (use OR or AND)"
            ))
        }
    };
    let target = match opt_str(a, "regextarget", &format!("{what}: regexTarget"))?
        .unwrap_or_default()
        .as_str()
    {
        "" | "secret" => Target::Secret,
        "match" => Target::Match,
        "line" => Target::Line,
        other => {
            return Err(format!(
                "{what}: unknown regexTarget `{other}` (use secret, match or line)"
            ))
        }
    };
    let regexes = opt_str_array(a, "regexes", &format!("{what}: regexes"))?.unwrap_or_default();
    let stopwords =
        opt_str_array(a, "stopwords", &format!("{what}: stopwords"))?.unwrap_or_default();
    let paths = opt_str_array(a, "paths", &format!("{what}: paths"))?.unwrap_or_default();
    let commits = opt_str_array(a, "commits", &format!("{what}: commits"))?.unwrap_or_default();
    let targets = if global {
        opt_str_array(a, "targetrules", &format!("{what}: targetRules"))?
    } else {
        None
    };
    if regexes.is_empty() && stopwords.is_empty() && paths.is_empty() && commits.is_empty() {
        return Err(format!(
            "{what}: needs at least one of regexes, stopwords, paths, commits"
        ));
    }
    let mut compiled = Vec::with_capacity(regexes.len());
    for (i, r) in regexes.iter().enumerate() {
        compiled.push(
            pattern::compile(r)
                .map_err(|e| format!("{what}: regexes[{i}] does not compile: {e}"))?,
        );
    }
    for (i, p) in paths.iter().enumerate() {
        pattern::compile(p).map_err(|e| format!("{what}: paths[{i}] does not compile: {e}"))?;
    }
    if !paths.is_empty() || !commits.is_empty() {
        log::debug!("redaction rules: {name}: {what}: paths/commits never match a transcript");
    }
    Ok((
        Allowlist {
            regexes: compiled,
            target,
            stopwords: stopwords
                .iter()
                .map(|w| super::rules::lowercase(w.as_bytes()))
                .filter(|w| !w.is_empty())
                .collect(),
            has_paths: !paths.is_empty(),
            has_commits: !commits.is_empty(),
            and,
        },
        targets,
    ))
}

fn opt_str(t: &Table, key: &str, what: &str) -> Res<Option<String>> {
    match t.get(key) {
        None => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(_) => Err(format!("`{what}` must be a string")),
    }
}

fn opt_str_array(t: &Table, key: &str, what: &str) -> Res<Option<Vec<String>>> {
    match t.get(key) {
        None => Ok(None),
        Some(Value::Array(a)) => a
            .iter()
            .map(|v| v.as_str().map(str::to_string))
            .collect::<Option<Vec<_>>>()
            .map(Some)
            .ok_or_else(|| format!("`{what}` must be an array of strings")),
        Some(_) => Err(format!("`{what}` must be an array of strings")),
    }
}

/// Lower-cases every table key, recursively (gitleaks reads keys case-insensitively).
fn lower_keys(t: Table, name: &str) -> Table {
    let mut out = Table::new();
    for (k, v) in t {
        let lk = k.to_lowercase();
        let v = lower_value(v, name);
        if out.contains_key(&lk) {
            log::warn!("redaction rules: {name}: key `{k}` repeats `{lk}` (keys are case-insensitive); keeping the first");
            continue;
        }
        out.insert(lk, v);
    }
    out
}

fn lower_value(v: Value, name: &str) -> Value {
    match v {
        Value::Table(t) => Value::Table(lower_keys(t, name)),
        Value::Array(a) => Value::Array(a.into_iter().map(|x| lower_value(x, name)).collect()),
        other => other,
    }
}

fn one_line(s: &str) -> String {
    s.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}
