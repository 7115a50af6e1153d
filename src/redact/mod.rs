//! Secret redaction (`redaction.md`). OWNED BY THE REDACTION WORK; this is the interface stub.
//!
//! Interface the rest of the crate relies on (keep these signatures):

use std::fmt;
use std::path::PathBuf;

/// Where user rule files come from (`redaction.md` §7.5). Both optional.
#[derive(Clone, Debug, Default)]
pub struct RuleSources {
    /// `<worktree root>/.gitleaks.toml` when it exists as a regular file.
    pub repo_file: Option<PathBuf>,
    /// The file named by git config `attach.redactionRules`, already resolved to an absolute path.
    pub configured: Option<PathBuf>,
}

/// A rule source could not be loaded: the run must stop before anything is written.
#[derive(Debug)]
pub struct RulesError {
    pub file: String,
    pub reason: String,
}

impl fmt::Display for RulesError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "redaction rules: {}: {}", self.file, self.reason)
    }
}

/// Redaction itself failed (fail closed).
#[derive(Debug)]
pub struct RedactError(pub String);

impl fmt::Display for RedactError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "redaction failed: {}", self.0)
    }
}

/// The loaded rule set plus the entropy detector.
pub struct Redactor {}

impl Redactor {
    /// Built-in rules plus the user sources.
    pub fn load(_sources: &RuleSources) -> Result<Redactor, RulesError> {
        Ok(Redactor {})
    }

    /// Plain-text redaction (`String`, §2, §5): prompts, non-JSON lines.
    pub fn string(&self, s: &str) -> String {
        s.to_string()
    }

    /// JSON-aware redaction of a whole transcript (`JSONLBytes`, §4 and §7.8).
    pub fn transcript(&self, content: &[u8]) -> Result<Vec<u8>, RedactError> {
        Ok(content.to_vec())
    }
}
