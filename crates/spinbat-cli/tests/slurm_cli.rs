//! `spinbat slurm`: the array script it writes, run task by task as Slurm would run it (with
//! `SLURM_ARRAY_TASK_ID` set), gives the shards that `spinbat merge` joins into the
//! unsharded run's records; `--submit` hands the merge job `--dependency=afterok:` the
//! array's job id; bad input is refused with exit status 2. The real Slurm run is
//! `scripts/slurm-test.sh`.

use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn spinbat_in(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_spinbat")).current_dir(dir).args(args).output().expect("run spinbat")
}

fn folder(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("spinbat-slurm-test-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn ok(out: &Output) -> String {
    assert!(
        out.status.success(),
        "status {:?}\nstdout: {}\nstderr: {}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).to_string()
}

fn records(path: &Path) -> Vec<Value> {
    std::fs::read_to_string(path).unwrap().lines().map(|l| serde_json::from_str(l).unwrap()).collect()
}

const STUDY: &str = r#"
[model]
n = 4
coupling = "power-law"
p = 1.0
[sweep]
n = "2..6"
alpha = [0.0, 1.0]
[run]
solvers = ["quantum", "mean-field"]
max_work = false
"#;

#[test]
fn the_array_script_run_task_by_task_merges_to_the_unsharded_run() {
    let dir = folder("array");
    let (sharded, whole) = (dir.join("sharded"), dir.join("whole"));
    for d in [&sharded, &whole] {
        std::fs::create_dir_all(d).unwrap();
        std::fs::write(d.join("study.toml"), STUDY).unwrap();
    }
    let jobs = dir.join("jobs");
    let out = ok(&spinbat_in(
        &sharded,
        &["slurm", "study.toml", "--tasks", "3", "--time", "00:05:00", "--partition", "short", "--cpus-per-task", "2"],
    ));
    assert!(out.contains("sbatch --dependency=afterok:"), "{out}");
    assert!(!jobs.exists(), "without --output-dir the scripts go beside the study");
    let array_path = sharded.join("study.array.sbatch");
    let array = std::fs::read_to_string(&array_path).unwrap();
    let merge = std::fs::read_to_string(sharded.join("study.merge.sbatch")).unwrap();
    for line in
        ["#SBATCH --array=1-3", "#SBATCH --cpus-per-task=2", "#SBATCH --time=00:05:00", "#SBATCH --partition=short"]
    {
        assert!(array.lines().any(|l| l == line), "no line {line} in\n{array}");
    }
    assert!(merge.lines().any(|l| l == "#SBATCH --partition=short"), "{merge}");
    assert!(merge.contains(" merge "), "{merge}");
    // Slurm reads #SBATCH lines only before the first command
    let first_command = array.lines().position(|l| !l.starts_with('#') && !l.trim().is_empty()).unwrap();
    let last_directive = array.lines().collect::<Vec<_>>().iter().rposition(|l| l.starts_with("#SBATCH")).unwrap();
    assert!(last_directive < first_command, "{array}");

    // each task as Slurm starts it: the script, its task id and CPUs in the environment
    for k in 1..=3 {
        let status = Command::new("bash")
            .arg(&array_path)
            .current_dir(&dir)
            .env("SLURM_ARRAY_TASK_ID", k.to_string())
            .env("SLURM_CPUS_PER_TASK", "1")
            .output()
            .unwrap();
        let text = ok(&status);
        assert!(text.contains(&format!("shard {k} of 3")), "{text}");
    }
    ok(&Command::new("bash").arg(sharded.join("study.merge.sbatch")).current_dir(&dir).output().unwrap());
    ok(&spinbat_in(&whole, &["run", "study.toml"]));
    let (a, b) = (records(&sharded.join("study.jsonl")), records(&whole.join("study.jsonl")));
    assert_eq!(a.len(), 5 * 2 * 2);
    let keys = |r: &[Value]| r.iter().map(|x| x["key"].as_str().unwrap().to_string()).collect::<Vec<_>>();
    assert_eq!(keys(&a), keys(&b));
    for (x, y) in a.iter().zip(&b) {
        let (p, q) = (x["max_power"]["power"].as_f64().unwrap(), y["max_power"]["power"].as_f64().unwrap());
        assert!((p - q).abs() <= 1e-12 * q.abs(), "{}: P_max {p} vs {q}", x["key"]);
        assert_eq!(x["max_power"]["time"], y["max_power"]["time"], "{}", x["key"]);
        assert_eq!(x["study"], y["study"]);
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn submit_makes_the_merge_job_wait_for_the_array() {
    let dir = folder("submit");
    std::fs::write(dir.join("study.toml"), STUDY).unwrap();
    // a stand-in sbatch: logs its arguments, answers job ids 41 then 42 as `--parsable` does
    let bin = dir.join("bin");
    std::fs::create_dir_all(&bin).unwrap();
    let log = dir.join("sbatch.log");
    let fake = format!(
        "#!/bin/sh\necho \"$*\" >> '{log}'\nn=$(wc -l < '{log}')\necho \"$((40 + n));cluster\"\n",
        log = log.display()
    );
    std::fs::write(bin.join("sbatch"), fake).unwrap();
    ok(&Command::new("chmod").arg("+x").arg(bin.join("sbatch")).output().unwrap());
    let path = format!("{}:{}", bin.display(), std::env::var("PATH").unwrap_or_default());
    let out = Command::new(env!("CARGO_BIN_EXE_spinbat"))
        .current_dir(&dir)
        .env("PATH", path)
        .args(["slurm", "study.toml", "--tasks", "2", "--output-dir", "jobs", "--submit"])
        .output()
        .unwrap();
    let text = ok(&out);
    assert!(text.contains("array job 41"), "{text}");
    assert!(text.contains("merge job 42"), "{text}");
    let calls: Vec<String> = std::fs::read_to_string(&log).unwrap().lines().map(String::from).collect();
    let jobs = std::path::absolute(dir.join("jobs")).unwrap();
    assert_eq!(calls[0], format!("--parsable {}", jobs.join("study.array.sbatch").display()));
    assert_eq!(calls[1], format!("--parsable --dependency=afterok:41 {}", jobs.join("study.merge.sbatch").display()));
    assert!(std::fs::read_to_string(jobs.join("study.array.sbatch"))
        .unwrap()
        .contains(&format!("#SBATCH --output={}/study-%A_%a.out", jobs.display())));
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn bad_input_is_refused_with_one_line_and_status_2() {
    let dir = folder("refused");
    std::fs::write(dir.join("study.toml"), STUDY).unwrap();
    for (args, says) in [
        (vec!["slurm", "study.toml", "--tasks", "0"], "--tasks 0"),
        (vec!["slurm", "missing.toml", "--tasks", "2"], "missing.toml"),
        (vec!["slurm", "study.toml", "--tasks", "11"], "10 grid points"),
        (vec!["slurm", "study.toml", "--tasks", "2", "--time", "4h"], "--time 4h"),
        (vec!["slurm", "study.toml", "--tasks", "2", "--cpus-per-task", "0"], "--cpus-per-task 0"),
        (vec!["slurm", "study.toml", "--tasks", "2", "--partition", "a b"], "--partition"),
    ] {
        let out = spinbat_in(&dir, &args);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
        assert_eq!(err.trim().lines().count(), 1, "{args:?}: {err}");
        assert!(err.contains(says), "{args:?}: {err}");
    }
    assert!(!dir.join("study.array.sbatch").exists(), "nothing is written when refused");
    let _ = std::fs::remove_dir_all(&dir);
}
