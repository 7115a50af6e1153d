//! git-attach: attach an AI agent's session transcript to HEAD in the Entire CLI checkpoint format.
//!
//! `commands` reads the settings (`settings`) and dispatches the modes. The attach pipeline
//! (`attach`) resolves and reads the session (`agent`), extracts its metadata, redacts it
//! (`redact`), writes the v1 checkpoint (`v1`), then runs the v2 mirror stage (`v2`), which logs
//! and swallows its own errors, records the session state (`state`) and links HEAD. `remote`
//! fetches and pushes through the `git` command; `git` is the only module that talks to libgit2.

pub mod agent;
pub mod attach;
pub mod checkpoint;
pub mod cli;
pub mod commands;
pub mod error;
pub mod git;
pub mod gojson;
pub mod messages;
pub mod progress;
pub mod redact;
pub mod remote;
pub mod settings;
pub mod state;
pub mod time;
pub mod transcript;
pub mod v1;
pub mod v2;
