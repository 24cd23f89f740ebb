//! Records the git revision for output provenance (`SPINBAT_GIT_REV`).
fn main() {
    let rev = std::process::Command::new("git")
        .args(["rev-parse", "--short=12", "HEAD"])
        .output()
        .ok()
        .filter(|o| o.status.success())
        .and_then(|o| String::from_utf8(o.stdout).ok());
    if let Some(rev) = rev {
        println!("cargo:rustc-env=SPINBAT_GIT_REV={}", rev.trim());
    }
    println!("cargo:rerun-if-changed=../../.git/HEAD");
    println!("cargo:rerun-if-changed=../../.git/refs");
}
