//! What the CLI's integration tests share: running the built binary and reading its JSON.
#![allow(dead_code)] // each test file uses some of these

use serde_json::Value;
use std::process::{Command, Output};

/// `spinbat ARGS`, its status and output.
pub fn spinbat(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_spinbat")).args(args).output().expect("run spinbat")
}

/// The one JSON value `spinbat ARGS` writes to stdout (the run must succeed).
pub fn json(args: &[&str]) -> Value {
    let out = spinbat(args);
    assert!(out.status.success(), "{args:?}: {}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).expect("stdout is one JSON value")
}
