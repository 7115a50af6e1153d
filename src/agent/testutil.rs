//! Helpers for the agent tests: a hermetic [`Context`] (home, worktree and a `bin` folder for
//! fake plugins in one temp dir), the compact-format fixtures, small file writers.

use std::fs;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use super::Context;

pub(crate) struct Env {
    pub _tmp: tempfile::TempDir,
    pub home: PathBuf,
    pub repo: PathBuf,
    pub bin: PathBuf,
    pub ctx: Context,
}

impl Env {
    pub fn new() -> Env {
        let tmp = tempfile::tempdir().expect("temp dir");
        // Canonical, so paths compare equal to what the code derives (macOS /private/var).
        let root = fs::canonicalize(tmp.path()).expect("canonical temp dir");
        let home = root.join("home");
        let repo = root.join("work").join("my_repo.v2");
        let bin = root.join("bin");
        for d in [&home, &repo, &bin] {
            fs::create_dir_all(d).expect("mkdir");
        }
        let ctx = Context {
            repo_root: repo.clone(),
            home: home.clone(),
            vars: vec![
                ("HOME".into(), home.to_string_lossy().into_owned()),
                ("PATH".into(), format!("{}:/usr/bin:/bin", bin.display())),
            ],
            plugin_timeout: Duration::from_secs(10),
        };
        Env {
            _tmp: tmp,
            home,
            repo,
            bin,
            ctx,
        }
    }

    pub fn set(&mut self, name: &str, value: &Path) {
        self.ctx
            .vars
            .push((name.into(), value.to_string_lossy().into_owned()));
    }

    /// Writes an executable shell script into the `bin` folder on the context's `PATH`.
    pub fn script(&self, name: &str, body: &str) -> PathBuf {
        let path = self.bin.join(name);
        fs::write(&path, format!("#!/bin/sh\n{body}")).expect("write script");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            fs::set_permissions(&path, fs::Permissions::from_mode(0o755)).expect("chmod");
        }
        path
    }
}

pub(crate) fn fixture_path(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/compact")
        .join(name)
}

pub(crate) fn fixture(name: &str) -> Vec<u8> {
    fs::read(fixture_path(name)).expect("fixture")
}

/// Writes `bytes` to `path`, creating the parents, and returns the path.
pub(crate) fn put(path: &Path, bytes: &[u8]) -> PathBuf {
    if let Some(dir) = path.parent() {
        fs::create_dir_all(dir).expect("mkdir");
    }
    fs::write(path, bytes).expect("write");
    path.to_path_buf()
}

/// Sets a file's modification time to `secs` after the epoch.
pub(crate) fn touch(path: &Path, secs: u64) {
    let f = fs::File::options().write(true).open(path).expect("open");
    f.set_modified(SystemTime::UNIX_EPOCH + Duration::from_secs(secs))
        .expect("set mtime");
}
