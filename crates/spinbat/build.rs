//! Records the git revision for output provenance (`SPINBAT_GIT_REV`).
//!
//! Reruns when HEAD moves: it watches the files git itself reports (`git rev-parse
//! --git-path`), which also works in a `git worktree`, where `.git` is a file and HEAD lives
//! under the main repository. Only paths that exist are watched (cargo treats a missing one
//! as always changed, which would rebuild the crate on every build).
use std::process::Command;

fn git(args: &[&str]) -> Option<String> {
    let out = Command::new("git").args(args).output().ok().filter(|o| o.status.success())?;
    String::from_utf8(out.stdout).ok().map(|s| s.trim().to_string()).filter(|s| !s.is_empty())
}

fn main() {
    if let Some(rev) = git(&["rev-parse", "--short=12", "HEAD"]) {
        println!("cargo:rustc-env=SPINBAT_GIT_REV={rev}");
    }
    println!("cargo:rerun-if-changed=build.rs");
    let mut watched = vec!["HEAD".to_string(), "packed-refs".to_string()];
    if let Some(branch) = git(&["symbolic-ref", "-q", "HEAD"]) {
        watched.push(branch); // e.g. refs/heads/main: moves on every commit
    }
    for name in watched {
        if let Some(path) = git(&["rev-parse", "--git-path", &name]) {
            if std::path::Path::new(&path).exists() {
                println!("cargo:rerun-if-changed={path}");
            }
        }
    }
}
